"""Who may do what: every endpoint × every role × their own object and someone else's, with exact statuses.

Someone else's object that the role cannot see is a 404, exactly as if it did not exist; an object the role
can see but an action it may not take is a 403; an endpoint a role has no use for at all (units for
responders) is a 403 whatever the id. Lists show only what the role can see.

Roles: a responder (member of unit A, alerted for callout A), a supervisor who is a member of unit A, an
operator, an administrator (the groups, not a superuser) and anonymous. "own" is callout A, unit A, the
caller's own leave and device, reports (submitted with a photo, and a draft) and a circulation to the caller;
"other" is callout B (unit B, alerting member B), unit B, member B's leave and device, member B's reports in
area B (supervised by unit B) and a circulation to member B; "area" is member B's report in area A, which
a unit of supervisors (with the supervisor on it) supervises. A wipe key and a push's answer token are
credentials of their own: the key or token decides, not the caller, so every role, anonymous too, gets the same
answer.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from callouts.models import Recipient
from callouts.push_answers import push_answer_token
from reports.models import Area, Circulation, CirculationRecipient, ReportType
from reports.services.filing import Place, attachment_add, report_draft_save, report_submit
from tests.api.test_callouts_api import launch_for, role_user
from tests.factories import add_member, jpeg, make_unit
from units.models import Unavailability
from units.services import device_enrol, device_revoke

ROLES = ["anonymous", "responder", "supervisor", "operator", "administrator"]


def expect(responder, supervisor, operator, administrator, anonymous=401) -> dict[str, int]:
    return {"anonymous": anonymous, "responder": responder, "supervisor": supervisor, "operator": operator,
            "administrator": administrator}


EVERYONE = 200
LAUNCH = {"message": "Hostage situation, RV Scotland Yard", "incident_ref": "CAD-9"}
PUSH = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": {"p256dh": "BNcRd", "auth": "tBHI"}}
LEAVE = {"kind": "training", "starts_at": "2031-01-06T09:00:00Z", "ends_at": "2031-01-07T17:00:00Z"}
MISSING_CHILD = {
    "name": "Amy Clarke", "age": 9, "description": "Slim, long brown hair", "last_seen_place": "Brixton station",
    "last_seen_at": "2026-06-03T08:40:00+01:00", "grading": "high", "rationale": "Nine years old and alone",
}
FILE = {"id": "0b6d7c1e-5f3a-4c2b-9e8d-7a6f5e4d3c2b", "report_type": "missing-person", "data": {"name": "Amy"}}
AMEND = {"base_version": 1, "reason": "Age checked", "data": {**MISSING_CHILD, "age": 10}}
UPLOAD = {"file": b"\xff\xd8\xff another photo"}  # sent as multipart


# Bodies that carry a credential of their own (a wipe key, a push's answer token), made per test: the key or token
# decides, not the caller, so every role, anonymous too, gets the same answer.
def wipe_own(world, client) -> dict:
    """A device of the caller's (anonymous: the responder's) with its own wipe key."""
    enrolment = device_enrol(user=getattr(client, "user", world["users"]["responder"]), name="Spare", platform="web")
    return {"device": enrolment.device.pk, "wipe_key": enrolment.wipe_key}


def wipe_other(world, client) -> dict:
    """Member B's device, with a wipe key that is not its own."""
    return {**wipe_own(world, client), "device": world["device"]["other"].pk}


def answer_by_push(world, client) -> dict:
    recipient = world["callout"]["own"].recipients.get()
    return {"token": push_answer_token(recipient.pk), "response": "accept", "eta_minutes": 10}


FORGED_ANSWER = {"token": "eyJyIjoxfQ:forged", "response": "accept"}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with {callout}, {unit}, {leave} or {device}, filled with the own or the other object
    whose: str  # "own", "other" or "" when no object is named
    expected: dict[str, int]
    body: dict | Callable[[dict, APIClient], dict] | None = None

    def __str__(self):
        forged = " forged" if self.body is FORGED_ANSWER else ""
        return f"{self.method} {self.path} {self.whose}{forged}".strip()


MATRIX = [
    Row("GET", "/api/v1/app-config/", "", expect(200, 200, 200, 200, anonymous=200)),
    Row("GET", "/api/v1/me/", "", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/auth/devices/", "", expect(200, 200, 200, 200)),
    Row("DELETE", "/api/v1/auth/devices/{device}/", "own", expect(204, 204, 204, 204)),
    Row("DELETE", "/api/v1/auth/devices/{device}/", "other", expect(404, 404, 404, 404)),
    Row("POST", "/api/v1/auth/devices/wipe/", "own", expect(204, 204, 204, 204, anonymous=204), wipe_own),
    Row("POST", "/api/v1/auth/devices/wipe/", "other", expect(404, 404, 404, 404, anonymous=404), wipe_other),
    Row("POST", "/api/v1/push-subscriptions/", "", expect(201, 201, 201, 201), PUSH),
    Row("GET", "/api/v1/callouts/", "", expect(200, 200, 200, 200)),
    Row("POST", "/api/v1/callouts/", "", expect(403, 403, 201, 201), LAUNCH),
    Row("GET", "/api/v1/callouts/{callout}/", "own", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/callouts/{callout}/", "other", expect(404, 404, 200, 200)),
    Row("POST", "/api/v1/callouts/{callout}/respond/", "own", expect(200, 403, 403, 403), {"response": "accept"}),
    Row("POST", "/api/v1/callouts/{callout}/respond/", "other", expect(404, 404, 403, 403), {"response": "accept"}),
    Row("POST", "/api/v1/answer-links/", "", expect(200, 200, 200, 200, anonymous=200), answer_by_push),
    Row("POST", "/api/v1/answer-links/", "", expect(403, 403, 403, 403, anonymous=403), FORGED_ANSWER),
    Row("POST", "/api/v1/callouts/{callout}/escalate/", "own", expect(403, 403, 200, 200)),
    Row("POST", "/api/v1/callouts/{callout}/escalate/", "other", expect(404, 404, 200, 200)),
    Row("POST", "/api/v1/callouts/{callout}/cancel/", "own", expect(403, 403, 200, 200), {"reason": "Found"}),
    Row("POST", "/api/v1/callouts/{callout}/cancel/", "other", expect(404, 404, 200, 200), {"reason": "Found"}),
    Row("POST", "/api/v1/callouts/{callout}/close/", "own", expect(403, 403, 200, 200), {"outcome": "Arrest"}),
    Row("POST", "/api/v1/callouts/{callout}/close/", "other", expect(404, 404, 200, 200), {"outcome": "Arrest"}),
    Row("GET", "/api/v1/shifts/", "", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/unavailability/", "", expect(200, 200, 200, 200)),
    Row("POST", "/api/v1/unavailability/", "", expect(201, 201, 201, 201), LEAVE),
    Row("DELETE", "/api/v1/unavailability/{leave}/", "own", expect(204, 204, 204, 204)),
    Row("DELETE", "/api/v1/unavailability/{leave}/", "other", expect(404, 404, 404, 404)),
    Row("GET", "/api/v1/units/", "", expect(403, 200, 200, 200)),
    Row("GET", "/api/v1/units/{unit}/oncall/", "own", expect(403, 200, 200, 200)),
    Row("GET", "/api/v1/units/{unit}/oncall/", "other", expect(403, 404, 200, 200)),
    Row("GET", "/api/v1/areas/", "", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/report-types/", "", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/reports/", "", expect(200, 200, 200, 200)),
    Row("POST", "/api/v1/reports/", "", expect(201, 201, 201, 201), FILE),
    Row("GET", "/api/v1/reports/{report}/", "own", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/reports/{report}/", "other", expect(404, 404, 404, 200)),
    Row("GET", "/api/v1/reports/{report}/", "area", expect(404, 200, 404, 200)),
    Row("GET", "/api/v1/reports/{draft}/", "other", expect(404, 404, 404, 200)),
    Row("PATCH", "/api/v1/reports/{draft}/", "own", expect(200, 200, 200, 200), {"data": {"age": 9}}),
    Row("PATCH", "/api/v1/reports/{draft}/", "other", expect(404, 404, 404, 403), {"data": {"age": 9}}),
    Row("POST", "/api/v1/reports/{draft}/submit/", "own", expect(200, 200, 200, 200)),
    Row("POST", "/api/v1/reports/{draft}/submit/", "other", expect(404, 404, 404, 403)),
    Row("POST", "/api/v1/reports/{report}/amend/", "own", expect(201, 201, 201, 201), AMEND),
    Row("POST", "/api/v1/reports/{report}/amend/", "other", expect(404, 404, 404, 201), AMEND),
    Row("POST", "/api/v1/reports/{report}/amend/", "area", expect(404, 201, 404, 201), AMEND),
    Row("GET", "/api/v1/reports/{report}/versions/1/", "own", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/reports/{report}/versions/1/", "other", expect(404, 404, 404, 200)),
    Row("POST", "/api/v1/reports/{report}/attachments/", "own", expect(201, 201, 201, 201), UPLOAD),
    Row("POST", "/api/v1/reports/{report}/attachments/", "other", expect(404, 404, 404, 403), UPLOAD),
    Row("POST", "/api/v1/reports/{report}/attachments/", "area", expect(404, 403, 404, 403), UPLOAD),
    Row("GET", "/api/v1/reports/{report}/attachments/{attachment}/", "own", expect(200, 200, 200, 200)),
    Row("GET", "/api/v1/reports/{report}/attachments/{attachment}/", "other", expect(404, 404, 404, 200)),
    Row("GET", "/api/v1/circulations/", "", expect(200, 200, 200, 200)),
    Row("POST", "/api/v1/circulations/{circulation}/ack/", "own", expect(200, 200, 200, 200)),
    Row("POST", "/api/v1/circulations/{circulation}/ack/", "other", expect(404, 404, 404, 404)),
]


def file_for(person, *, area=None, submit: bool = True):
    """A missing-person report by ``person`` (with a photo when submitted), or a complete draft."""
    kwargs = {"report_id": uuid.uuid4(), "report_type": ReportType.objects.get(slug="missing-person"),
              "actor": person.user, "data": MISSING_CHILD, "place": Place(area=area), "captured_at": None}
    if not submit:
        return {"draft": report_draft_save(**kwargs)[0]}
    report = report_submit(**kwargs)[0]
    photo = SimpleUploadedFile("amy.jpg", jpeg(f"photo of {report.pk}".encode()), content_type="image/jpeg")
    return {"report": report, "attachment": attachment_add(report=report, actor=person.user, upload=photo)[0]}


def circulate_to(person, report):
    circulation = Circulation.objects.create(report=report, version=1, reach="area", summary=report.summary,
                                             created_at=timezone.now())
    CirculationRecipient.objects.create(circulation=circulation, person=person, reason="patrol")
    return circulation


@pytest.fixture
def world(db, unit_a, unit_b, member_a, member_b, settings, tmp_path):
    """The four role logins and the own and other objects of the matrix."""
    settings.MEDIA_ROOT = str(tmp_path)
    operator = role_user("Operators")
    member_a.user.groups.add(Group.objects.get(name="Responders"))
    users = {
        "responder": member_a.user,
        "supervisor": role_user("Supervisors", unit=unit_a),
        "operator": operator,
        "administrator": role_user("Administrators"),
    }
    start = timezone.now() + timedelta(days=30)
    world = {
        "users": users,
        "callout": {"own": launch_for(unit_a, member_a, actor=operator),
                    "other": launch_for(unit_b, member_b, actor=operator)},
        "unit": {"own": unit_a, "other": unit_b},
        "leave": {"other": Unavailability.objects.create(person=member_b, starts_at=start,
                                                         ends_at=start + timedelta(days=1))},
        "device": {"other": device_enrol(user=member_b.user, name="Bob's phone", platform="android")[0]},
        "unit_a": unit_a,
        "member_b": member_b,
    }
    world["unit"]["supervisors"] = make_unit("sup-a", name="Area A supervisors")
    add_member(world["unit"]["supervisors"], users["supervisor"].person)
    world["reports"] = reports_of_others(world["unit"]["supervisors"], unit_b, member_b)
    return world


def reports_of_others(supervisors, unit_b, member_b) -> dict:
    """Area A is supervised by a unit of supervisors the supervisor is on (the responder of unit A is not)."""
    area_a = Area.objects.create(code="area-a", name="Area A", supervisor_unit=supervisors)
    area_b = Area.objects.create(code="area-b", name="Area B", supervisor_unit=unit_b)
    other = file_for(member_b, area=area_b) | file_for(member_b, area=area_b, submit=False)
    other["circulation"] = circulate_to(member_b, file_for(member_b, area=area_b)["report"])
    return {"other": other, "area": file_for(member_b, area=area_a)}


def client_for(role: str, world) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        device, token, _ = device_enrol(user=world["users"][role], name=f"{role} phone", platform="ios")
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.device, client.user = device, world["users"][role]
    return client


def own_objects(world, client, path: str = "") -> dict:
    """The caller's own leave and device, made for the caller (anonymous borrows the responder's), and the
    reports or circulation the path names."""
    user = getattr(client, "user", world["users"]["responder"])
    start = timezone.now() + timedelta(days=40)
    leave = Unavailability.objects.create(person=user.person, starts_at=start, ends_at=start + timedelta(days=1))
    device = getattr(client, "device", None) or device_enrol(user=user, name="Phone", platform="ios")[0]
    objects = {"leave": leave, "device": device}
    if "{report}" in path:
        objects |= file_for(user.person)
    if "{draft}" in path:
        objects |= file_for(user.person, submit=False)
    if "{circulation}" in path:
        objects["circulation"] = circulate_to(user.person, file_for(world["member_b"])["report"])
    return objects


def send(client, method: str, path: str, body: dict | None = None):
    if body is None:
        return client.generic(method, path)
    if body is UPLOAD:
        photo = SimpleUploadedFile("photo.jpg", body["file"], content_type="image/jpeg")
        return client.post(path, {"file": photo}, format="multipart")
    return client.generic(method, path, json.dumps(body), "application/json")


def fill(row: Row, world, client) -> str:
    if not row.whose:
        return row.path
    objects = {name: world[name][row.whose] for name in ("callout", "unit") if row.whose in world[name]}
    objects |= world["reports"].get(row.whose, {})
    objects |= own_objects(world, client, row.path) if row.whose == "own" else {
        "leave": world["leave"]["other"], "device": world["device"]["other"]}
    return row.path.format(**{name: obj.pk for name, obj in objects.items()})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_access_matrix(row, role, world):
    client = client_for(role, world)
    body = {**row.body, "unit": world["unit_a"].pk} if row.body is LAUNCH else row.body
    body = body(world, client) if callable(body) else body

    response = send(client, row.method, fill(row, world, client), body)

    assert response.status_code == row.expected[role], response.content
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "fields"}


# ---- hidden is the same as missing -----------------------------------------------------------------------

HIDDEN = [
    ("responder", "GET", "/api/v1/callouts/{}/", None),
    ("responder", "POST", "/api/v1/callouts/{}/respond/", {"response": "accept"}),
    ("responder", "POST", "/api/v1/callouts/{}/escalate/", None),
    ("supervisor", "GET", "/api/v1/callouts/{}/", None),
    ("supervisor", "POST", "/api/v1/callouts/{}/close/", {"outcome": "x"}),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), HIDDEN)
def test_a_hidden_callout_answers_exactly_like_one_that_does_not_exist(world, role, method, path, body):
    client = client_for(role, world)
    hidden_id, missing_id = world["callout"]["other"].pk, 999999

    hidden = send(client, method, path.format(hidden_id), body)
    missing = send(client, method, path.format(missing_id), body)

    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json() == missing.json()
    assert str(hidden_id) not in hidden.content.decode()


def test_a_hidden_unit_answers_exactly_like_one_that_does_not_exist(world):
    client = client_for("supervisor", world)

    hidden = client.get(f"/api/v1/units/{world['unit']['other'].pk}/oncall/")
    missing = client.get("/api/v1/units/999999/oncall/")

    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


# ---- lists show only what the role can see ---------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), [
    ("responder", ["own"]), ("supervisor", ["own"]), ("operator", ["other", "own"]),
    ("administrator", ["other", "own"]),
])
def test_the_callout_list_holds_only_what_the_role_can_see(world, role, expected):
    ids = {c["id"] for c in client_for(role, world).get("/api/v1/callouts/").json()["results"]}

    assert ids == {world["callout"][whose].pk for whose in expected}


@pytest.mark.parametrize(("role", "expected"), [
    ("supervisor", ["own", "supervisors"]), ("operator", ["other", "own", "supervisors"]),
    ("administrator", ["other", "own", "supervisors"]),
])
def test_the_unit_list_holds_only_what_the_role_can_see(world, role, expected):
    ids = {u["id"] for u in client_for(role, world).get("/api/v1/units/").json()["results"]}

    assert ids == {world["unit"][whose].pk for whose in expected}


@pytest.mark.parametrize(("role", "expected"), [
    ("responder", ["own"]), ("supervisor", ["own", "area"]), ("operator", ["own"]),
    ("administrator", ["own", "area", "other"]),
])
def test_the_report_list_holds_only_what_the_role_can_see(world, role, expected):
    client = client_for(role, world)
    own = file_for(client.user.person)["report"]
    submitted = {"own": {own.pk}, "area": {world["reports"]["area"]["report"].pk},
                 "other": {world["reports"]["other"]["report"].pk, world["reports"]["other"]["draft"].pk,
                           world["reports"]["other"]["circulation"].report_id}}

    listed = {r["id"] for r in client.get("/api/v1/reports/", {"page_size": 200}).json()["results"]}

    assert listed == {str(pk) for whose in expected for pk in submitted[whose]}


@pytest.mark.parametrize("role", ["responder", "supervisor", "operator", "administrator"])
def test_the_leave_list_holds_only_the_callers_own(world, role):
    client = client_for(role, world)
    mine = own_objects(world, client)["leave"]

    assert [u["id"] for u in client.get("/api/v1/unavailability/").json()["results"]] == [mine.pk]


def test_a_supervisor_who_was_alerted_for_another_units_callout_sees_and_answers_it(world, unit_b):
    supervisor = world["users"]["supervisor"]
    callout = launch_for(unit_b, supervisor.person, actor=world["users"]["operator"])
    client = client_for("supervisor", world)

    assert client.get(f"/api/v1/callouts/{callout.pk}/").status_code == 200
    assert client.post(f"/api/v1/callouts/{callout.pk}/respond/", {"response": "decline"},
                       format="json").status_code == 200


# ---- revocation ------------------------------------------------------------------------------------------


def test_a_device_revoked_mid_session_is_refused_on_its_very_next_request(world):
    client = client_for("responder", world)
    callout = world["callout"]["own"]
    assert client.get(f"/api/v1/callouts/{callout.pk}/").status_code == 200

    device_revoke(device=client.device, actor=world["users"]["administrator"])
    response = client.post(f"/api/v1/callouts/{callout.pk}/respond/", {"response": "accept"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This device was revoked: enrol again."
    assert Recipient.objects.get(callout=callout).response == "none"
    assert client.get("/api/v1/callouts/").status_code == 401
