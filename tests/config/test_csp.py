"""Every response carries a Content-Security-Policy that refuses inline scripts and styles, and our pages have none."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from config.csp import POLICY
from tests.csp import inline_code
from tests.factories import login_verified


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


@pytest.fixture
def chief(db):
    return get_user_model().objects.create_superuser("chief", password="correct horse battery")


@pytest.mark.parametrize("url", ["/admin/login/", "/api/v1/me/", "/api/docs/", "/respond/nonsense/",
                                 "/no/such/page/", "/webhooks/twilio/sms/"])
def test_every_response_has_a_policy_refusing_inline_scripts_and_styles(client, db, url):
    response = client.get(url)

    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["Content-Security-Policy"] == POLICY


def test_the_login_page_runs_no_inline_code(client, db):
    assert inline_code(client.get("/admin/login/")) == []


def test_back_office_lists_run_no_inline_code(chief):
    client = login_verified(Client(), chief)
    # The audit log and the people have actions; the callouts list has none (Django adds a <style> then).
    for url in ("/admin/", "/admin/auditlog/logentry/", "/admin/units/person/", "/admin/callouts/callout/",
                "/admin/units/person/add/"):
        response = client.get(url)
        assert response.status_code == 200
        assert inline_code(response) == [], url


def test_the_api_docs_load_their_script_from_a_url(client, db):
    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})

    assert inline_code(page) == []
    assert '<script src="/api/docs/?script="></script>' in page.content.decode()
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
