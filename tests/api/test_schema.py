import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from tests.api.schema_checks import field_root

ROOT = Path(__file__).resolve().parents[2]


def schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_valid_openapi_3_and_lists_the_endpoints(anon_client, db):
    document = schema(anon_client)

    validate_schema(document)  # the OpenAPI 3.0 JSON Schema; raises on any violation
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/auth/devices/", "/api/v1/auth/devices/{id}/", "/api/v1/me/",
            "/api/v1/push-subscriptions/", "/api/v1/app-config/", "/api/v1/auth/devices/wipe/",
            "/api/v1/answer-links/"} <= document["paths"].keys()
    assert {"/api/v1/report-types/", "/api/v1/reports/", "/api/v1/reports/{id}/", "/api/v1/reports/{id}/submit/",
            "/api/v1/reports/{id}/amend/", "/api/v1/reports/{id}/versions/{number}/",
            "/api/v1/reports/{id}/attachments/", "/api/v1/reports/{id}/attachments/{attachment_id}/",
            "/api/v1/circulations/", "/api/v1/circulations/{id}/ack/"} <= document["paths"].keys()
    assert set(document["paths"]["/api/v1/reports/{id}/"]) == {"get", "patch"}
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    assert document["components"]["securitySchemes"]["deviceToken"]["name"] == "Authorization"


def test_every_error_answer_in_the_schema_has_the_error_body(anon_client, db):
    document = schema(anon_client)
    error_ref = {"$ref": "#/components/schemas/Error"}

    answers = [(path, method, code, response)
               for path, operations in document["paths"].items()
               for method, operation in operations.items()
               for code, response in operation["responses"].items()]

    errors = [(path, method, code) for path, method, code, response in answers if code.startswith("4")]
    assert all(response["content"]["application/json"]["schema"] == error_ref
               for *_, code, response in answers if code.startswith("4"))
    assert ("/api/v1/me/", "get", "401") in errors
    assert ("/api/v1/auth/devices/{id}/", "delete", "404") in errors
    assert ("/api/v1/push-subscriptions/", "post", "400") in errors
    assert ("/api/v1/auth/devices/", "post", "401") not in errors  # enrolment needs no token
    # Nor do the field app's settings, its wipe and an answer from a push; each says how it refuses.
    assert not {("/api/v1/app-config/", "get", "401"), ("/api/v1/auth/devices/wipe/", "post", "401"),
                ("/api/v1/answer-links/", "post", "401")} & set(errors)
    assert {("/api/v1/auth/devices/wipe/", "post", "404"), ("/api/v1/answer-links/", "post", "403"),
            ("/api/v1/answer-links/", "post", "409"), ("/api/v1/app-config/", "get", "429")} <= set(errors)
    assert {("/api/v1/reports/", "post", "409"), ("/api/v1/reports/{id}/amend/", "post", "409"),
            ("/api/v1/reports/{id}/attachments/", "post", "413"),
            ("/api/v1/reports/{id}/attachments/", "post", "415")} <= set(errors)
    assert document["components"]["schemas"]["Error"]["properties"]["error"]["required"] == [
        "code", "message", "fields"
    ]


def test_the_launch_declares_the_refusal_of_a_reused_idempotency_key(anon_client, db):
    operation = schema(anon_client)["paths"]["/api/v1/callouts/"]["post"]

    refused = operation["responses"]["422"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "idempotency_key_reused" in refused["description"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert "422" in header["description"]


def test_an_eta_with_a_decline_is_described_as_ignored(anon_client, db):
    answer = schema(anon_client)["components"]["schemas"]["RespondRequest"]

    assert "ignored" in answer["properties"]["eta_minutes"]["description"]


REPORT = {"report_type": "missing-person", "data": {"name": "Amy Clarke"}, "submit": False}
SOON = "2030-05-01T09:00:00+01:00"


def refused(document: dict, path: str, method: str, response) -> tuple[set[str], str]:
    """The fields a 400 names, and what the schema's 400 of that operation says."""
    assert response.status_code == 400, response.content
    operation = document["paths"][f"/api/v1{path.split('?')[0]}"][method]
    assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    return set(response.json()["error"]["fields"]), operation["responses"]["400"]["description"]


def test_submitting_an_incomplete_draft_is_a_400_the_schema_declares(anon_client, api_client, member_a):
    phone = api_client(member_a.user)
    draft = phone.post("/api/v1/reports/", {**REPORT, "id": "0b9f1c2e-7d4a-4f8e-9b1a-2c3d4e5f6a7b"},
                       format="json").json()["id"]

    fields, declared = refused(schema(anon_client), "/reports/{id}/submit/", "post",
                               phone.post(f"/api/v1/reports/{draft}/submit/"))

    assert fields and all(name.startswith("data.") for name in fields)
    assert "`data`" in declared


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/reports/", {**REPORT, "area": "atlantis"}, "area"),
    ("post", "/reports/", {**REPORT, "report_type": "alien-sighting"}, "report_type"),
    ("post", "/unavailability/", {"starts_at": SOON, "ends_at": "2030-04-30T09:00:00+01:00"}, "ends_at"),
    ("get", "/shifts/?from=2030-05-01T09:00:00%2B01:00&to=2030-04-01T09:00:00%2B01:00", None, "to"),
], ids=["unknown-area", "unknown-report-type", "unavailability-ending-before-it-starts", "shifts-window-backwards"])
def test_a_rule_the_schema_cannot_express_is_declared_under_the_field_it_refuses(anon_client, api_client, member_a,
                                                                                method, path, body, field):
    phone = api_client(member_a.user)
    if "id" not in (body or {"id": None}) and path == "/reports/":
        body = {**body, "id": "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"}
    response = phone.post(f"/api/v1{path}", body, format="json") if method == "post" else phone.get(f"/api/v1{path}")

    fields, declared = refused(schema(anon_client), path, method, response)

    assert {field_root(name) for name in fields} == {field}
    assert f"`{field}`" in declared


def test_an_attachment_download_is_described_as_the_file_in_each_allowed_type(anon_client, db, settings):
    operation = schema(anon_client)["paths"]["/api/v1/reports/{id}/attachments/{attachment_id}/"]["get"]

    assert set(operation["responses"]["200"]["content"]) == set(settings.REPORT_ATTACHMENT_TYPES)
    assert operation["responses"]["200"]["content"]["image/jpeg"]["schema"] == {"type": "string", "format": "binary"}


def test_swagger_ui_renders_from_our_own_static_files(anon_client, db):
    response = anon_client.get("/api/docs/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not re.search(r"https?://[^\"']*cdn", page, re.IGNORECASE)  # no asset from a CDN
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_schema_generation_passes_with_validation_and_no_warnings(tmp_path):
    """What CI checks: `manage.py spectacular --validate --fail-on-warn`."""
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file",
         str(tmp_path / "schema.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


# Schemathesis: generated requests, valid and not, against every operation in the schema, authenticated with a
# device token. No 5xx; every answer's status, content type, headers and body match the schema; requests that
# break the schema are refused. Not checked: that every schema-valid request is accepted — passwords, URL
# hosts and someone else's ids cannot be told apart in JSON Schema, and refusing them with a 400 or 404 is right.
api = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
api.app = application
# Unknown query parameters are ignored, as most APIs do (cache busters); not a schema violation to refuse.
api.config.generation.update(allow_extra_parameters=False)


@api.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case, api_client, member_a):
    client = api_client(member_a.user)

    case.call_and_validate(headers={"Authorization": f"Token {client.token}"},
                           excluded_checks=[positive_data_acceptance])
