"""Schedules through the API: units and who is on call, my shifts, my unavailability and what it changes."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from auditlog.models import LogEntry

from tests.api.test_callouts_api import error, role_user
from tests.factories import add_member, make_person, make_rotation
from units.models import FixedRule, Membership, Override, Unavailability
from units.schedule import resolve_callout_lists

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # a Monday; the rotation below hands over on Mondays at 09:00
SHIFTS = "/api/v1/shifts/"
LEAVE = "/api/v1/unavailability/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def rota(unit_a, member_a):
    """Weekly primary rotation of member_a and a colleague, member_a on call from 1 June 09:00 London."""
    colleague = make_person("Colin Colleague")
    add_member(unit_a, colleague)
    primary = unit_a.tiers.get(position=1)
    return make_rotation(primary, [member_a, colleague], name="Weekly", start=date(2026, 6, 1), handoff=time(9))


def names(tier) -> list[str]:
    return [person.full_name for person in tier.people]


# ---- my shifts -------------------------------------------------------------------------------------------


def test_my_shifts_for_the_next_fortnight_by_default(api_client, member_a, rota, unit_a):
    response = api_client(member_a.user).get(SHIFTS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2  # this week and the week after next begins inside the fortnight
    first = body["results"][0]
    assert first["unit"] == {"id": unit_a.pk, "code": "a", "name": "Unit A"}
    assert first["tier"] == {"position": 1, "name": "Primary"}
    assert (first["start"], first["end"]) == ("2026-06-01T10:00:00Z", "2026-06-08T08:00:00Z")
    assert first["reasons"] == [{"kind": "rotation", "text": "Weekly rotation"}]
    assert body["results"][1]["start"] == "2026-06-15T08:00:00Z"


def test_my_shifts_in_a_window_i_choose(api_client, member_a, rota):
    response = api_client(member_a.user).get(SHIFTS, {"from": "2026-07-01T00:00:00+01:00",
                                                      "to": "2026-07-31T23:59:59+01:00"})

    assert response.status_code == 200
    assert [shift["start"] for shift in response.json()["results"]] == [
        "2026-06-30T23:00:00Z", "2026-07-13T08:00:00Z", "2026-07-27T08:00:00Z"]


def test_someone_elses_shifts_are_not_mine(api_client, member_b, rota):
    response = api_client(member_b.user).get(SHIFTS)

    assert response.json()["count"] == 0


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"from": "2026-07-01T09:00:00"}, "from", "Give the UTC offset too"),
    ({"from": "next tuesday"}, "from", "Give an ISO 8601 date and time with its UTC offset"),
    ({"from": "2026-07-01T09:00:00 01:00"}, "from", "write + as %2B"),
    ({"from": "0001-01-01T00:00:00+14:00"}, "from", "Give a time between 2000 and 2099."),
    ({"from": "2026-07-01T09:00:00Z", "to": "2026-07-01T09:00:00Z"}, "to", "The end must be after the start."),
    ({"from": "2026-07-01T09:00:00Z", "to": "2026-09-02T09:00:01Z"}, "to", "At most 62 days after the start."),
    ({"to": "2026-05-01T00:00:00Z"}, "to", "The end must be after the start."),
])
def test_a_bad_window_is_refused_naming_the_parameter(api_client, member_a, query, field, message):
    response = api_client(member_a.user).get(SHIFTS, query)

    err = error(response, 400)
    assert list(err["fields"]) == [field]
    assert message in err["fields"][field][0]


def test_a_window_of_exactly_62_days_is_fine(api_client, member_a, rota):
    response = api_client(member_a.user).get(SHIFTS, {"from": "2026-07-01T09:00:00Z", "to": "2026-09-01T09:00:00Z"})

    assert response.status_code == 200


def test_a_login_with_no_person_has_no_shifts_or_leave(api_client):
    operator = role_user("Operators")
    operator.person.delete()
    operator.refresh_from_db()
    client = api_client(operator)

    for response in (client.get(SHIFTS), client.get(LEAVE), client.post(LEAVE, {}, format="json")):
        assert error(response, 403)["message"] == (
            "Only people on a unit's lists have shifts and unavailability; this login has no person.")


# ---- my unavailability -----------------------------------------------------------------------------------


def leave_body(**fields) -> dict:
    return {"kind": "court", "starts_at": "2026-06-02T09:00:00+01:00", "ends_at": "2026-06-02T17:00:00+01:00",
            "note": "Southwark Crown Court", **fields}


def test_unavailability_i_add_takes_me_off_every_list_for_its_window(api_client, member_a, rota, unit_a):
    during = datetime(2026, 6, 2, 12, tzinfo=UTC)
    assert names(resolve_callout_lists(unit_a, during)[0]) == ["Alice Member"]

    response = api_client(member_a.user).post(LEAVE, leave_body(), format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {"id": response.json()["id"], "kind": "court", "starts_at": "2026-06-02T08:00:00Z",
                               "ends_at": "2026-06-02T16:00:00Z", "note": "Southwark Crown Court"}
    assert names(resolve_callout_lists(unit_a, during)[0]) == []
    assert names(resolve_callout_lists(unit_a, datetime(2026, 6, 2, 16, tzinfo=UTC))[0]) == ["Alice Member"]


def test_unavailability_splits_my_shift_around_it(api_client, member_a, rota):
    client = api_client(member_a.user)
    client.post(LEAVE, leave_body(), format="json")

    starts = [(s["start"], s["end"]) for s in client.get(SHIFTS, {"to": "2026-06-08T00:00:00Z"}).json()["results"]]

    assert starts == [("2026-06-01T10:00:00Z", "2026-06-02T08:00:00Z"), ("2026-06-02T16:00:00Z",
                                                                         "2026-06-08T00:00:00Z")]


def test_adding_and_removing_unavailability_is_audited_with_who_did_it(api_client, member_a):
    client = api_client(member_a.user)
    created = client.post(LEAVE, leave_body(), format="json").json()

    client.delete(f"{LEAVE}{created['id']}/")

    entries = LogEntry.objects.filter(content_type__model="unavailability", object_pk=str(created["id"]))
    assert [(e.action, e.actor) for e in entries.order_by("timestamp", "id")] == [
        (LogEntry.Action.CREATE, member_a.user), (LogEntry.Action.DELETE, member_a.user)]


def test_removing_unavailability_puts_me_back_on_my_lists(api_client, member_a, rota, unit_a):
    client = api_client(member_a.user)
    created = client.post(LEAVE, leave_body(), format="json").json()

    response = client.delete(f"{LEAVE}{created['id']}/")

    assert response.status_code == 204
    assert not Unavailability.objects.exists()
    assert names(resolve_callout_lists(unit_a, datetime(2026, 6, 2, 12, tzinfo=UTC))[0]) == ["Alice Member"]


def test_i_list_my_own_unavailability_only_and_can_keep_to_what_has_not_ended(api_client, member_a, member_b):
    past = Unavailability.objects.create(person=member_a, starts_at=datetime(2026, 5, 1, tzinfo=UTC),
                                         ends_at=datetime(2026, 5, 2, tzinfo=UTC))
    coming = Unavailability.objects.create(person=member_a, kind="sick", starts_at=datetime(2026, 6, 3, tzinfo=UTC),
                                           ends_at=datetime(2026, 6, 5, tzinfo=UTC))
    Unavailability.objects.create(person=member_b, starts_at=datetime(2026, 6, 3, tzinfo=UTC),
                                  ends_at=datetime(2026, 6, 5, tzinfo=UTC))
    client = api_client(member_a.user)

    assert [u["id"] for u in client.get(LEAVE).json()["results"]] == [past.pk, coming.pk]
    assert [u["id"] for u in client.get(LEAVE, {"upcoming": "true"}).json()["results"]] == [coming.pk]
    assert [u["id"] for u in client.get(LEAVE, {"upcoming": "false"}).json()["results"]] == [past.pk]
    assert [u["id"] for u in client.get(LEAVE, {"kind": "sick"}).json()["results"]] == [coming.pk]
    assert error(client.get(LEAVE, {"upcoming": "yes"}), 400)["fields"] == {"upcoming": ["Use true or false."]}


def test_someone_elses_unavailability_cannot_be_removed_and_is_not_told_apart(api_client, member_a, member_b):
    theirs = Unavailability.objects.create(person=member_b, starts_at=datetime(2026, 6, 3, tzinfo=UTC),
                                           ends_at=datetime(2026, 6, 5, tzinfo=UTC))
    client = api_client(member_a.user)

    hidden = client.delete(f"{LEAVE}{theirs.pk}/")
    missing = client.delete(f"{LEAVE}999999/")

    assert error(hidden, 404) == error(missing, 404)
    assert Unavailability.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(("fields", "expected"), [
    ({"ends_at": "2026-06-02T09:00:00+01:00"}, {"ends_at": ["The end must be after the start."]}),
    ({"ends_at": "2027-06-04T09:00:00+01:00"},
     {"ends_at": ["At most 366 days; ask an administrator for longer absences."]}),
    ({"kind": "holiday"}, {"kind": ['"holiday" is not a valid choice.']}),
    ({"starts_at": "2026-06-02T09:00:00"}, {"starts_at": [
        "Give the UTC offset too, e.g. 2026-05-01T09:00:00+01:00 or 2026-05-01T08:00:00Z."]}),
    ({"note": 42}, {"note": ["Not a valid string."]}),
    ({"starts_at": None}, {"starts_at": ["This field may not be null."]}),
])
def test_invalid_unavailability_is_refused_naming_the_field(api_client, member_a, fields, expected):
    response = api_client(member_a.user).post(LEAVE, leave_body(**fields), format="json")

    assert error(response, 400)["fields"] == expected
    assert not Unavailability.objects.exists()


def test_unavailability_is_leave_unless_said_otherwise(api_client, member_a):
    body = leave_body()
    del body["kind"], body["note"]

    response = api_client(member_a.user).post(LEAVE, body, format="json")

    assert (response.status_code, response.json()["kind"], response.json()["note"]) == (201, "leave", "")


@pytest.mark.parametrize("kind", ["leave", "sick", "court", "training", "other"])
def test_unavailable_until_a_time_starts_now_and_takes_me_off_my_lists_at_once(api_client, member_a, rota, unit_a,
                                                                              kind):
    assert names(resolve_callout_lists(unit_a, NOW)[0]) == ["Alice Member"]

    response = api_client(member_a.user).post(LEAVE, {"kind": kind, "ends_at": "2026-06-01T18:00:00+01:00"},
                                              format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["starts_at"], response.json()["ends_at"]) == (
        kind, "2026-06-01T10:00:00Z", "2026-06-01T17:00:00Z")
    assert names(resolve_callout_lists(unit_a, NOW)[0]) == []


def test_unavailable_until_a_time_already_past_is_refused_naming_the_end(api_client, member_a):
    response = api_client(member_a.user).post(LEAVE, {"ends_at": "2026-06-01T09:00:00Z"}, format="json")

    assert error(response, 400)["fields"] == {"ends_at": ["The end must be after the start."]}


# ---- units and who is on call ----------------------------------------------------------------------------


def test_an_operator_sees_every_unit_with_its_lists(api_client, unit_a, unit_b):
    response = api_client(role_user("Operators")).get("/api/v1/units/")

    assert response.status_code == 200
    assert [u["code"] for u in response.json()["results"]] == ["a", "b"]
    assert response.json()["results"][0] == {
        "id": unit_a.pk, "code": "a", "name": "Unit A", "description": "", "timezone": "Europe/London",
        "active": True, "tiers": [{"position": 1, "name": "Primary"}, {"position": 2, "name": "Secondary"}]}


def test_a_supervisor_sees_only_the_units_they_belong_to(api_client, unit_a, unit_b):
    supervisor = role_user("Supervisors")
    add_member(unit_b, supervisor.person, Membership.Role.COMMANDER)

    response = api_client(supervisor).get("/api/v1/units/")

    assert [u["code"] for u in response.json()["results"]] == ["b"]


def test_units_can_be_filtered(api_client, unit_a, unit_b):
    unit_b.active = False
    unit_b.save()
    client = api_client(role_user("Operators"))

    assert [u["code"] for u in client.get("/api/v1/units/", {"active": "false"}).json()["results"]] == ["b"]
    assert [u["code"] for u in client.get("/api/v1/units/", {"code": "a"}).json()["results"]] == ["a"]


def test_a_responder_sees_no_units(api_client, member_a):
    response = api_client(member_a.user).get("/api/v1/units/")

    assert error(response, 403)["message"] == (
        "Only operators, supervisors and administrators see units and who is on call.")


def test_who_is_on_call_now_with_every_reason(api_client, unit_a, member_a, rota):
    leader = make_person("Lee Leader")
    add_member(unit_a, leader, Membership.Role.TEAM_LEADER)
    secondary = unit_a.tiers.get(position=2)
    FixedRule.objects.create(tier=secondary, role=Membership.Role.TEAM_LEADER)
    cover = make_person("Cora Cover")
    Override.objects.create(tier=unit_a.tiers.get(position=1), person=cover, starts_at=NOW,
                            ends_at=datetime(2026, 6, 1, 12, tzinfo=UTC), reason="Extra for the march")

    response = api_client(role_user("Operators")).get(f"/api/v1/units/{unit_a.pk}/oncall/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["unit"]["code"], body["at"]) == ("a", "2026-06-01T10:00:00Z")
    primary, second = body["tiers"]
    assert (primary["position"], primary["name"], second["name"]) == (1, "Primary", "Secondary")
    assert [(p["person"]["full_name"], p["reasons"]) for p in primary["people"]] == [
        ("Alice Member", [{"kind": "rotation", "text": "Weekly rotation"}]),
        ("Cora Cover", [{"kind": "override", "text": "Added by override: Extra for the march"}]),
    ]
    assert [(p["person"]["full_name"], p["reasons"]) for p in second["people"]] == [
        ("Lee Leader", [{"kind": "fixed", "text": "Team leaders always on Secondary"}])]
    assert set(primary["people"][0]["person"]) == {"id", "full_name", "rank", "badge_number"}


def test_who_is_on_call_at_another_time(api_client, unit_a, rota):
    client = api_client(role_user("Operators"))

    response = client.get(f"/api/v1/units/{unit_a.pk}/oncall/", {"at": "2026-06-09T12:00:00+01:00"})

    assert response.json()["at"] == "2026-06-09T11:00:00Z"
    assert [p["person"]["full_name"] for p in response.json()["tiers"][0]["people"]] == ["Colin Colleague"]
    assert error(client.get(f"/api/v1/units/{unit_a.pk}/oncall/", {"at": "tomorrow"}), 400)["fields"].keys() == {
        "at"}


def test_on_call_leaves_out_whoever_is_unavailable(api_client, member_a, unit_a, rota):
    api_client(member_a.user).post(LEAVE, leave_body(starts_at="2026-06-01T09:00:00+01:00"), format="json")

    response = api_client(role_user("Operators")).get(f"/api/v1/units/{unit_a.pk}/oncall/")

    assert response.json()["tiers"][0]["people"] == []


def test_a_supervisor_cannot_see_who_is_on_call_in_a_unit_they_do_not_belong_to(api_client, unit_a, unit_b):
    client = api_client(role_user("Supervisors", unit=unit_a))

    assert client.get(f"/api/v1/units/{unit_a.pk}/oncall/").status_code == 200
    assert error(client.get(f"/api/v1/units/{unit_b.pk}/oncall/"), 404) == error(
        client.get("/api/v1/units/999999/oncall/"), 404)
