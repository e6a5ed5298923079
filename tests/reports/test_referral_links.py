"""The partner's acknowledgement link: opening it only shows the referral; its button records the
acknowledgement once; expired and altered links get a clear 400 page."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from auditlog.models import LogEntry
from django.conf import settings

from reports.links import referral_ack_link
from reports.models import Referral
from reports.services.referrals import refer
from tests.reports.conftest import NOW
from tests.reports.test_referrals import AMY, make_agency, make_rule


@pytest.fixture
def referral(simple_type, officer, file_report, clock):
    make_rule(simple_type, make_agency())
    _, version = file_report(officer, simple_type, AMY)
    refer(version=version, now=NOW)
    return Referral.objects.get()


@pytest.fixture
def link(referral):
    return urlsplit(referral.payload["acknowledge_url"]).path


def acknowledgements():
    return LogEntry.objects.filter(additional_data__event="referral_acknowledged")


def test_opening_the_link_shows_the_referral_and_records_nothing(client, referral, link):
    page = client.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("Simple report referral to Children&#x27;s Services", str(referral.report_id), "Urgent",
                  "Olive", "Acknowledge receipt", 'name="name"'):
        assert shown in text
    assert "Amy Pond" not in text  # the page names the referral, not the person: a forwarded link shows no details
    referral.refresh_from_db()
    assert referral.acknowledged_at is None
    assert not acknowledgements().exists()


def test_a_head_request_records_nothing_either(client, referral, link):
    assert client.head(link).status_code == 200
    referral.refresh_from_db()
    assert referral.acknowledged_at is None


def test_pressing_the_button_records_the_acknowledgement_with_the_name_given_and_audits_it(
        client, referral, link, clock):
    clock.shift(timedelta(minutes=12))
    page = client.post(link, {"name": "  Dana Scully  "})
    assert page.status_code == 200
    assert "Acknowledged" in page.content.decode() and "by Dana Scully" in page.content.decode()
    referral.refresh_from_db()
    assert (referral.acknowledged_at, referral.acknowledged_by) == (NOW + timedelta(minutes=12), "Dana Scully")
    entry = acknowledgements().get()
    assert entry.object_pk == str(referral.pk)
    assert (entry.additional_data["by"], entry.additional_data["version"]) == ("Dana Scully", 1)


def test_the_name_is_optional(client, referral, link):
    assert client.post(link).status_code == 200
    referral.refresh_from_db()
    assert (referral.acknowledged_at, referral.acknowledged_by) == (NOW, "")


def test_a_second_acknowledgement_changes_nothing_and_says_when_the_first_was(client, referral, link, clock):
    client.post(link, {"name": "Dana Scully"})
    clock.shift(timedelta(hours=1))
    page = client.post(link, {"name": "Fox Mulder"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "already acknowledged at" in text and "by Dana Scully" in text
    assert 'name="name"' not in text
    referral.refresh_from_db()
    assert (referral.acknowledged_at, referral.acknowledged_by) == (NOW, "Dana Scully")
    assert acknowledgements().count() == 1
    assert "already acknowledged" in client.get(link).content.decode()


def test_a_name_too_long_is_refused_with_the_form_again(client, referral, link):
    page = client.post(link, {"name": "x" * 121})
    assert page.status_code == 400
    assert "at most 120 characters" in page.content.decode()
    referral.refresh_from_db()
    assert referral.acknowledged_at is None


def test_the_button_posts_a_csrf_protected_form(referral, link):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    assert browser.post(link).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(link).content.decode()).group(1)
    assert browser.post(link, {"csrfmiddlewaretoken": token}).status_code == 200
    referral.refresh_from_db()
    assert referral.acknowledged_at is not None


def test_an_expired_link_gets_a_clear_400_page_and_records_nothing(client, referral, link, clock):
    clock.shift(timedelta(seconds=settings.REFERRAL_ACK_LINK_MAX_AGE + 1))
    for page in (client.get(link), client.post(link, {"name": "Dana"})):
        assert page.status_code == 400
        assert "This acknowledgement link has expired" in page.content.decode()
    referral.refresh_from_db()
    assert referral.acknowledged_at is None


@pytest.mark.parametrize("alter", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
    lambda token: "e" + token[1:] if token[0] != "e" else "f" + token[1:],  # content changed
    lambda token: "not-a-token",
])
def test_an_altered_link_gets_a_clear_400_page(client, referral, link, alter):
    token = link.split("/")[-2]
    page = client.post(f"/referrals/ack/{alter(token)}/")
    assert page.status_code == 400
    assert "This acknowledgement link is not valid" in page.content.decode()
    referral.refresh_from_db()
    assert referral.acknowledged_at is None


def test_a_link_signed_for_another_purpose_or_naming_no_referral_is_not_valid(client, referral):
    from django.core import signing

    from callouts.messages import LINK_SALT

    elsewhere = signing.dumps({"r": referral.pk, "a": "accept"}, salt=LINK_SALT, compress=True)
    assert client.get(f"/referrals/ack/{elsewhere}/").status_code == 400
    missing = urlsplit(referral_ack_link(referral.pk + 1000)).path
    assert client.get(missing).status_code == 400
    odd = signing.dumps(["r", referral.pk], salt="reports.referral-ack")
    assert client.get(f"/referrals/ack/{odd}/").status_code == 400


def test_the_acknowledgement_page_runs_no_inline_code(client, referral, link):
    from tests.csp import inline_code

    assert inline_code(client.get(link)) == []
