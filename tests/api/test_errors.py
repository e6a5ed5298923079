"""Every 4xx from the API has one shape: {"error": {"code", "message", "fields"}}."""

import io
import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from callouts.services.callouts import CalloutError
from config.api import exception_handler

PUSH = "/api/v1/push-subscriptions/"


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    assert {"code", "message", "fields"} <= body["error"].keys()
    assert body["error"]["message"]
    return body["error"]


def test_malformed_json_is_named_as_such(api_client, member_a):
    client = api_client(member_a.user)

    response = client.post(PUSH, '{"endpoint": "https://push.example.net/x", ', content_type="application/json")

    err = error(response, 400)
    assert err["code"] == "malformed_json"
    assert "JSON parse error" in err["message"]


def test_wrong_types_and_missing_fields_are_named_field_by_field(api_client, member_a):
    client = api_client(member_a.user)

    response = client.post(PUSH, {"endpoint": 42, "keys": {"p256dh": ["not", "text"]}}, format="json")

    err = error(response, 400)
    assert err["code"] == "invalid"
    assert set(err["fields"]) == {"endpoint", "keys.p256dh", "keys.auth"}
    assert err["fields"]["keys.auth"] == ["This field is required."]
    assert err["message"] == "Invalid value for endpoint, keys.p256dh, keys.auth: see fields."


def test_a_body_that_is_not_an_object_is_invalid(api_client, member_a):
    response = api_client(member_a.user).post(PUSH, [1, 2], format="json")

    err = error(response, 400)
    assert (err["code"], err["fields"]) == ("invalid", {})
    assert "Expected a dictionary" in err["message"]


def test_enrolment_with_a_wrong_platform_names_the_field(anon_client):
    response = anon_client.post("/api/v1/auth/devices/", {
        "username": "x", "password": "y", "otp_token": "z", "name": "n", "platform": "nokia",
    }, format="json")

    assert error(response, 400)["fields"] == {"platform": ['"nokia" is not a valid choice.']}


def test_a_body_that_is_not_json_is_refused(api_client):
    response = api_client().post(PUSH, {"endpoint": "x"})  # form-encoded

    assert error(response, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("device_id", ["999999", "abc"])
def test_unknown_ids_are_not_found(api_client, device_id):
    response = api_client().delete(f"/api/v1/auth/devices/{device_id}/")

    assert error(response, 404)["code"] == "not_found"


def test_a_page_past_the_end_is_not_found(api_client):
    response = api_client().get("/api/v1/auth/devices/", {"page": 5})

    assert error(response, 404)["message"] == "Invalid page."


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/auth/devices/0.5/", "/api/v1/a%0Ab/"])
def test_an_address_with_no_endpoint_is_not_found_in_the_error_format(api_client, path):
    client = api_client()

    assert error(client.get(path), 404)["code"] == "not_found"
    assert error(client.delete(path), 404)["code"] == "not_found"


def test_no_token_is_not_authenticated_and_says_how_to_authenticate(anon_client, db):
    response = anon_client.get("/api/v1/me/")

    assert error(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token not-a-real-token", "Token", "Token two parts"])
def test_a_bad_token_fails_authentication(anon_client, db, header):
    response = anon_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)

    assert error(response, 401)["code"] == "authentication_failed"


def test_a_method_the_endpoint_does_not_have_is_not_allowed(api_client):
    response = api_client().put("/api/v1/me/", {}, format="json")

    assert error(response, 405)["code"] == "method_not_allowed"


def test_too_many_requests_from_one_device_are_throttled_with_the_wait(api_client, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "device", "2/min")
    client = api_client()
    other = api_client()
    client.get("/api/v1/me/")
    client.get("/api/v1/me/")

    response = client.get("/api/v1/me/")

    err = error(response, 429)
    assert err["code"] == "throttled"
    assert 0 < err["wait"] <= 60
    assert other.get("/api/v1/me/").status_code == 200


def test_too_many_anonymous_requests_from_one_address_are_throttled(anon_client, db, monkeypatch):
    # DRF checks permissions before throttles: the open endpoints are the ones this limit protects.
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/min")
    anon_client.get("/api/schema/", {"format": "json"})
    anon_client.get("/api/schema/", {"format": "json"})

    response = anon_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 429
    assert json.loads(response.content)["error"]["code"] == "throttled"


def test_a_callout_state_conflict_is_a_409_with_the_services_message():
    response = exception_handler(CalloutError("This callout is closed."), {"view": APIView()})

    assert response.status_code == 409
    assert response.data == {"error": {"code": "conflict", "message": "This callout is closed.", "fields": {}}}


def test_a_services_model_validation_is_a_400_naming_the_fields():
    refusal = DjangoValidationError({"ends_at": ["The end must be after the start."], "__all__": ["Overlaps."]})

    response = exception_handler(refusal, {"view": APIView()})

    assert response.status_code == 400
    assert response.data == {"error": {"code": "invalid", "message": "Overlaps.",
                                       "fields": {"ends_at": ["The end must be after the start."]}}}


def test_exceptions_outside_the_api_vocabulary_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {"view": APIView()}) is None


@pytest.mark.parametrize("page", ["", "0", "two"])
def test_an_unreadable_page_number_is_refused_naming_the_parameter(api_client, page):
    response = api_client().get("/api/v1/auth/devices/", {"page": page})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"page": ["A page number from 1."]}


def json_on_the_wire(client, body: bytes) -> tuple:
    """Post ``body`` as JSON from a stream the test can see the server read; the answer and that stream."""
    wire = io.BytesIO(body)
    return client.generic("POST", PUSH, body, "application/json", **{"wsgi.input": wire}), wire


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_a_json_body_longer_than_the_limit_is_refused_before_any_of_it_is_read(api_client, member_a):
    body = json.dumps({"endpoint": "https://fcm.googleapis.com/x", "pad": "x" * 200_000}).encode()

    response, wire = json_on_the_wire(api_client(member_a.user), body)

    err = error(response, 413)
    assert err["code"] == "too_large" and "at most 65536 bytes" in err["message"]
    assert wire.tell() == 0
