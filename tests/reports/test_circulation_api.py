from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callouts.models import Delivery
from reports.services.circulation import circulate
from tests.api.conftest import api_client, clear_throttles  # noqa: F401  (the API fixtures)
from tests.reports.conftest import NOW

CIRCULATIONS = "/api/v1/circulations/"
HIGH = {"name": "Amy", "age": 9, "grading": "high"}


@pytest.fixture
def circulated(beats, officer, simple_type, file_report, clock):
    def make(data=HIGH, *, area="n1", at=NOW):
        report, version = file_report(officer, simple_type, data, area=beats[area], at=at)
        return circulate(version=version, now=at)

    return make


def test_the_route_names_are_the_agreed_ones():
    assert reverse("api-circulations") == CIRCULATIONS
    assert reverse("api-circulation-ack", args=[7]) == f"{CIRCULATIONS}7/ack/"


def test_i_see_what_was_circulated_to_me_newest_first(api_client, beats, circulated):  # noqa: F811
    older = circulated({**HIGH, "name": "Ben"})
    newer = circulated(at=NOW + timedelta(minutes=3))
    circulated(area="n2")  # Pat does not patrol n2

    body = api_client(beats["people"]["Pat"].user).get(CIRCULATIONS).json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    item = body["results"][0]
    assert item["report"] == str(newer.report_id) and item["version"] == 1 and item["updated"] is False
    assert item["report_type"] == {"slug": "simple", "name": "Simple report"}
    assert item["summary"] == "Amy, 9" and item["grading"] == "high" and item["reason"] == "patrol"
    assert item["area"] == {"code": "n1", "name": "Beat n1", "kind": "beat"}
    assert item["acknowledged_at"] is None and item["reached"] is False
    assert {(d["channel"], d["state"]) for d in item["deliveries"]} == {
        ("push", "pending"), ("email", "pending"), ("sms", "pending")}


def test_reached_once_a_notice_is_handed_to_the_provider(api_client, beats, circulated):  # noqa: F811
    circulation = circulated()
    pat = circulation.recipients.get(person=beats["people"]["Pat"])
    Delivery.objects.filter(topic=pat.topic, channel="push").update(state=Delivery.State.DELIVERED, sent_at=NOW)

    item = api_client(pat.person.user).get(CIRCULATIONS).json()["results"][0]

    assert item["reached"] is True
    assert {d["channel"]: d["state"] for d in item["deliveries"]}["push"] == "delivered"


def test_someone_not_circulated_sees_nothing(api_client, beats, circulated):  # noqa: F811
    circulated()
    assert api_client(beats["people"]["Rory"].user).get(CIRCULATIONS).json()["count"] == 0


def test_acknowledging_returns_the_item_and_stops_my_pending_notices(api_client, beats, circulated):  # noqa: F811
    circulation = circulated()
    sam = circulation.recipients.get(person=beats["people"]["Sam"])

    response = api_client(sam.person.user).post(f"{CIRCULATIONS}{circulation.pk}/ack/")

    assert response.status_code == 200
    item = response.json()
    assert item["id"] == circulation.pk and item["acknowledged_at"].startswith("2026-06-03T10:00:00")
    assert {d["state"] for d in item["deliveries"]} == {"cancelled"}
    pat = circulation.recipients.get(person=beats["people"]["Pat"])
    assert set(Delivery.objects.filter(topic=pat.topic).values_list("state", flat=True)) == {"pending"}


def test_acknowledging_twice_keeps_the_first_time(api_client, beats, circulated, clock):  # noqa: F811
    circulation = circulated()
    client = api_client(beats["people"]["Pat"].user)
    client.post(f"{CIRCULATIONS}{circulation.pk}/ack/")
    clock.shift(timedelta(minutes=4))
    assert client.post(f"{CIRCULATIONS}{circulation.pk}/ack/").json()["acknowledged_at"].startswith(
        "2026-06-03T10:00:00")


def test_acknowledging_a_circulation_that_did_not_reach_me_is_a_404(api_client, beats, circulated):  # noqa: F811
    circulation = circulated()
    client = api_client(beats["people"]["Quinn"].user)
    for url in (f"{CIRCULATIONS}{circulation.pk}/ack/", f"{CIRCULATIONS}999999/ack/",
                f"{CIRCULATIONS}9999999999999999999999/ack/"):
        response = client.post(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    assert not circulation.recipients.filter(acknowledged_at__isnull=False).exists()


def test_without_a_token_it_is_a_401(client, db):
    response = client.get(CIRCULATIONS)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_the_list_takes_as_many_queries_for_twenty_as_for_two(api_client, beats, circulated):  # noqa: F811
    client = api_client(beats["people"]["Sam"].user)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CIRCULATIONS).status_code == 200
        return len(captured)

    for n in range(2):
        circulated(area=("n1", "n2")[n % 2], at=NOW + timedelta(seconds=n))
    few = count_queries()
    for n in range(2, 20):
        circulated(area=("n1", "n2")[n % 2], at=NOW + timedelta(seconds=n))
    assert count_queries() == few
