import json
import re
import subprocess
import sys
from pathlib import Path

import schemathesis
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application

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
            "/api/v1/push-subscriptions/"} <= document["paths"].keys()
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
