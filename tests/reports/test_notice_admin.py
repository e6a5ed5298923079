"""The Deliveries and Recorded messages admin (callouts/admin.py, scoped by reports/selectors.py): a notice
quotes a report, so it is shown only to those who may see that report (the report admin's own selector),
everywhere the admin shows it, and every page showing one is audited. Callout alerts stay visible to operators
as before."""

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

import callouts.admin  # noqa: F401  (registers the admins, as the site does)
from callouts.channels.recording import RecordingChannel
from callouts.models import Delivery, RecordedMessage
from callouts.services.callouts import callout_launch
from reports.models import Area
from reports.services.circulation import circulate
from tests.factories import login_verified
from tests.reports.conftest import NOW, reachable
from units.models import FixedRule

MIGRATION = __import__("callouts.migrations.0009_delivery_report", fromlist=["link_notices_to_reports"])


def staff(user, group: str | None = None) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    if group:
        user.groups.add(Group.objects.get(name=group))
    return login_verified(Client(), user)


def events(event: str) -> list[LogEntry]:
    return [e for e in LogEntry.objects.order_by("id") if (e.additional_data or {}).get("event") == event]


@pytest.fixture
def traffic(beats, officer, simple_type, file_report, clock):
    """A callout alert to Pat; Amy's high-risk report on n1 circulated (to Pat and Sam) and another area's
    report circulated to its own patrol; every message sent through the recording channel."""
    elsewhere = reachable("Uma")
    unit = beats["n1"].patrol_unit
    FixedRule.objects.get_or_create(tier=unit.tiers.get(position=1), person=beats["people"]["Pat"])
    callout = callout_launch(unit=unit, message="Armed suspect at Kennington Park", actor=officer.user)
    amy, amy_v1 = file_report(officer, simple_type, {"name": "Amy Clarke", "age": 9, "grading": "high"},
                              area=beats["n1"])
    outside = Area.objects.create(code="x", name="Elsewhere", patrol_unit=elsewhere_unit(elsewhere))
    ben, ben_v1 = file_report(officer, simple_type, {"name": "Ben Other", "grading": "low"}, area=outside)
    circulate(version=amy_v1, now=NOW)
    circulate(version=ben_v1, now=NOW)
    RecordingChannel().send_many(list(Delivery.objects.all()))
    return {"callout": callout, "amy": amy, "ben": ben,
            "alert": Delivery.objects.filter(recipient__callout=callout).first(),
            "amy_notice": Delivery.objects.filter(report=amy).first(),
            "ben_notice": Delivery.objects.filter(report=ben).first()}


def elsewhere_unit(person):
    from tests.factories import add_member, make_unit

    unit = make_unit("patrol-x", name="Patrol x")
    add_member(unit, person)
    FixedRule.objects.create(tier=unit.tiers.get(position=1), person=person)
    return unit


def shown(client, model: str, query: str = "") -> list:
    response = client.get(reverse(f"admin:callouts_{model}_changelist") + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_notices_are_linked_to_the_report_and_version_they_quote(traffic):
    notice = traffic["amy_notice"]

    assert (notice.report, notice.report_version) == (traffic["amy"], 1)
    assert "Amy Clarke" in notice.body
    assert traffic["alert"].report is None


def test_operators_see_callout_alerts_but_no_report_notice(traffic):
    operator = staff(reachable("Otto").user, "Operators")

    deliveries = shown(operator, "delivery")
    messages = shown(operator, "recordedmessage")

    alerts = Delivery.objects.filter(recipient__isnull=False)
    assert {d.pk for d in deliveries} == set(alerts.values_list("pk", flat=True))
    assert all(m.delivery.recipient_id for m in messages) and messages
    assert shown(operator, "recordedmessage", "?q=Amy") == []
    notice, message = traffic["amy_notice"], traffic["amy_notice"].recorded.get()
    for page in (reverse("admin:callouts_delivery_change", args=[notice.pk]),
                 reverse("admin:callouts_delivery_history", args=[notice.pk]),
                 reverse("admin:callouts_recordedmessage_change", args=[message.pk]),
                 reverse("admin:callouts_recordedmessage_history", args=[message.pk])):
        response = operator.get(page, follow=True)
        assert "Amy Clarke" not in response.content.decode(), page
    assert operator.get(reverse("admin:callouts_delivery_change", args=[traffic["alert"].pk])).status_code == 200
    assert events("report_viewed") == []


def test_a_supervisor_sees_the_notices_of_their_areas_reports_only(traffic, beats):
    supervisor = staff(beats["people"]["Sam"].user)

    notices = {d.report_id for d in shown(supervisor, "delivery") if d.report_id}
    messages = {m.delivery.report_id for m in shown(supervisor, "recordedmessage") if m.delivery.report_id}

    assert notices == messages == {traffic["amy"].pk}
    ben = traffic["ben_notice"]
    assert supervisor.get(reverse("admin:callouts_delivery_change", args=[ben.pk])).status_code == 302
    assert supervisor.get(reverse("admin:callouts_recordedmessage_change", args=[ben.recorded.get().pk])
                          ).status_code == 302


def test_administrators_see_every_notice(traffic):
    chief = staff(reachable("Chief").user, "Administrators")

    assert {d.report_id for d in shown(chief, "delivery")} >= {traffic["amy"].pk, traffic["ben"].pk}


def test_opening_a_notice_is_audited_with_who_which_report_and_version(traffic, beats):
    sam = beats["people"]["Sam"].user
    supervisor = staff(sam)
    notice = traffic["amy_notice"]

    page = supervisor.get(reverse("admin:callouts_delivery_change", args=[notice.pk]), REMOTE_ADDR="10.1.2.3")

    assert "Amy Clarke" in page.content.decode()
    [entry] = events("report_viewed")
    assert (entry.actor, entry.object_pk, entry.remote_addr) == (sam, str(traffic["amy"].pk), "10.1.2.3")
    assert entry.additional_data["version"] == 1 and entry.additional_data["via"] == "delivery"


def test_the_deliveries_list_quotes_no_report_and_so_is_not_a_read(traffic, beats):
    supervisor = staff(beats["people"]["Sam"].user)

    page = supervisor.get(reverse("admin:callouts_delivery_changelist")).content.decode()

    assert "Amy Clarke" not in page and f"report {str(traffic['amy'].pk)[:8]}" in page
    assert events("reports_listed") == []


def test_the_recorded_messages_list_is_audited_with_the_reports_it_quotes(traffic, beats):
    sam = beats["people"]["Sam"].user
    supervisor = staff(sam)

    page = supervisor.get(reverse("admin:callouts_recordedmessage_changelist"))
    message = traffic["amy_notice"].recorded.get()
    supervisor.get(reverse("admin:callouts_recordedmessage_change", args=[message.pk]))

    assert page.status_code == 200
    [listed] = events("reports_listed")
    assert listed.actor == sam and listed.additional_data["reports"] == [[str(traffic["amy"].pk), 1]]
    assert listed.additional_data["via"] == "recorded message"
    [viewed] = events("report_viewed")
    assert viewed.object_pk == str(traffic["amy"].pk) and viewed.additional_data["via"] == "recorded message"


def test_an_operator_listing_only_callout_messages_writes_no_report_audit(traffic):
    operator = staff(reachable("Otto").user, "Operators")

    shown(operator, "recordedmessage")

    assert events("reports_listed") == []


def test_notices_sent_before_the_link_are_linked_by_their_topic(traffic):
    Delivery.objects.filter(report__isnull=False).update(report=None, report_version=None)

    MIGRATION.link_notices_to_reports(apps, None)

    assert set(Delivery.objects.filter(recipient__isnull=True).values_list("report", "report_version")) == {
        (traffic["amy"].pk, 1), (traffic["ben"].pk, 1)}
    assert RecordedMessage.objects.filter(delivery__report=traffic["amy"]).exists()
