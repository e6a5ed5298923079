import json
import logging
from datetime import timedelta

import pytest
from auditlog.models import LogEntry

from callouts.channels.push import WebPushChannel
from callouts.models import Delivery
from reports.models import Circulation, CirculationPolicy, CirculationRecipient, ReportVersion
from reports.services.circulation import circulate, circulation_acknowledge
from tests.push_double import subscribe_browser
from tests.reports.conftest import NOW

HIGH = {"name": "Amy", "age": 9, "grading": "high"}


def circulated_to(circulation) -> dict[str, str]:
    return {row.person.full_name: row.reason for row in circulation.recipients.select_related("person")}


def policy(report_type, grading, reach):
    return CirculationPolicy.objects.create(report_type=report_type, grading=grading, reach=reach)


def amend(report, *, grading=None, area="same", reason="Found more", author=None):
    previous = report.versions.order_by("-number").first()
    data = {**previous.data, **({"grading": grading} if grading else {})}
    version = ReportVersion.objects.create(
        report=report, number=previous.number + 1, type_version=previous.type_version, data=data,
        grading=data["grading"], area=previous.area if area == "same" else area, author=author or report.author.user,
        reason=reason, created_at=NOW + timedelta(minutes=5))
    report.version, report.grading, report.area = version.number, version.grading, version.area
    report.save()
    return version


def test_without_a_policy_the_patrols_on_duty_on_the_beat_and_its_supervisors_are_circulated(
        beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulation = circulate(version=version, now=NOW)
    # Rory patrols n1 but is only on its secondary list; Quinn is on n2.
    assert circulated_to(circulation) == {"Pat": "patrol", "Sam": "supervisor"}
    assert circulation.reach == "area" and circulation.area == beats["n1"]


def test_sector_reach_alerts_every_beat_of_the_sector(beats, officer, simple_type, file_report, clock):
    policy(simple_type, "high", "sector")
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    assert circulated_to(circulate(version=version, now=NOW)) == {"Pat": "patrol", "Quinn": "patrol",
                                                                   "Sam": "supervisor"}


def test_supervisors_reach_alerts_only_the_duty_supervisor(beats, officer, simple_type, file_report, clock):
    policy(simple_type, "high", "supervisors")
    report, version = file_report(officer, simple_type, HIGH, area=beats["n2"])
    assert circulated_to(circulate(version=version, now=NOW)) == {"Sam": "supervisor"}


def test_reach_none_circulates_nothing(beats, officer, simple_type, file_report, clock):
    policy(simple_type, "high", "none")
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    assert circulate(version=version, now=NOW) is None
    assert not Circulation.objects.exists() and not Delivery.objects.exists()


def test_the_gradings_own_policy_wins_over_the_types_blank_grading_policy(
        beats, officer, simple_type, file_report, clock):
    policy(simple_type, "", "supervisors")
    policy(simple_type, "high", "sector")
    _, low = file_report(officer, simple_type, {**HIGH, "grading": "low"}, area=beats["n1"])
    _, high = file_report(officer, simple_type, HIGH, area=beats["n1"])
    assert circulated_to(circulate(version=low, now=NOW)) == {"Sam": "supervisor"}
    assert set(circulated_to(circulate(version=high, now=NOW))) == {"Pat", "Quinn", "Sam"}


def test_a_report_placed_in_the_sector_reaches_the_patrols_of_its_beats(
        beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n"])
    assert set(circulated_to(circulate(version=version, now=NOW))) == {"Pat", "Quinn", "Sam"}


def test_the_author_is_never_circulated_their_own_report(beats, simple_type, file_report, clock):
    report, version = file_report(beats["people"]["Pat"], simple_type, HIGH, area=beats["n1"])
    assert circulated_to(circulate(version=version, now=NOW)) == {"Sam": "supervisor"}


def test_circulating_twice_creates_nothing_more(beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulate(version=version, now=NOW)
    deliveries = Delivery.objects.count()
    assert circulate(version=version, now=NOW) is None
    assert Circulation.objects.count() == 1 and CirculationRecipient.objects.count() == 2
    assert Delivery.objects.count() == deliveries


def test_each_recipient_gets_a_notice_by_their_own_channels_push_first(
        beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulation = circulate(version=version, now=NOW)
    pat = circulation.recipients.get(person=beats["people"]["Pat"])
    notices = {d.channel: d for d in Delivery.objects.filter(person=pat.person, topic=pat.topic)}
    assert all(d.kind == Delivery.Kind.NOTICE and d.state == Delivery.State.PENDING for d in notices.values())
    assert notices["push"].due_at == NOW
    assert notices["email"].due_at == NOW + timedelta(minutes=2)
    assert notices["email"].subject == "HIGH RISK simple report — Beat n1"
    assert "Amy, 9" in notices["email"].body and "Grading: high" in notices["email"].body
    assert f"/api/v1/reports/{report.pk}/" in notices["email"].body
    # A push shows on a locked phone: the report's type, grading and area, never its content.
    assert (notices["push"].subject, notices["push"].body) == ("Simple report", "Grading: high · Area: Beat n1")
    assert not Delivery.objects.filter(person__in=[officer, beats["people"]["Rory"]]).exists()


def test_circulation_is_audited_with_the_counts(beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulate(version=version, now=NOW)
    entry = LogEntry.objects.get(additional_data__event="report_circulated")
    assert entry.object_pk == str(report.pk)
    assert entry.additional_data["patrols"] == 1 and entry.additional_data["supervisors"] == 1


def test_a_report_without_an_area_goes_to_nobody_and_is_logged(officer, beats, simple_type, file_report, clock,
                                                               caplog):
    report, version = file_report(officer, simple_type, HIGH, area=None)
    with caplog.at_level(logging.WARNING):
        circulation = circulate(version=version, now=NOW)
    assert circulation.recipients.count() == 0 and not Delivery.objects.exists()
    assert any("has no area" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_an_amendment_that_keeps_grading_and_area_is_not_circulated_again(
        beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulate(version=version, now=NOW)
    assert circulate(version=amend(report, reason="Spelling"), now=NOW) is None
    assert Circulation.objects.count() == 1


def test_a_regraded_amendment_is_circulated_as_updated_to_its_reach_and_everyone_told_before(
        beats, officer, simple_type, file_report, clock):
    policy(simple_type, "low", "supervisors")
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    first = circulate(version=version, now=NOW)
    pat = first.recipients.get(person=beats["people"]["Pat"])
    update = circulate(version=amend(report, grading="low", reason="Seen safe"), now=NOW + timedelta(minutes=5))
    assert update.version == 2 and circulated_to(update) == {"Pat": "patrol", "Sam": "supervisor"}
    topic = update.recipients.get(person=pat.person).topic
    notice = Delivery.objects.get(person=pat.person, topic=topic, channel="email")
    assert notice.subject.startswith("UPDATED: LOW RISK") and "Seen safe" in notice.body
    push = Delivery.objects.get(person=pat.person, topic=topic, channel="push")
    assert (push.subject, push.body) == ("UPDATED: Simple report", "Grading: low · Area: Beat n1")
    # The first notice's email, not sent yet, would only repeat what the update replaces.
    assert Delivery.objects.get(topic=pat.topic, channel="email").state == Delivery.State.CANCELLED


def test_an_amendment_moving_the_report_reaches_the_new_beat(beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulate(version=version, now=NOW)
    update = circulate(version=amend(report, area=beats["n2"]), now=NOW)
    assert set(circulated_to(update)) == {"Pat", "Quinn", "Sam"}
    assert "Beat n2" in Delivery.objects.filter(topic__startswith="circulation:", channel="email").last().subject


def test_acknowledging_records_once_and_stops_pending_notices(beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulation = circulate(version=version, now=NOW)
    pat = circulation.recipients.get(person=beats["people"]["Pat"])
    sam = circulation.recipients.get(person=beats["people"]["Sam"])
    acknowledged = circulation_acknowledge(recipient=pat, actor=pat.person.user)
    assert acknowledged.acknowledged_at == NOW
    assert set(Delivery.objects.filter(topic=pat.topic).values_list("state", flat=True)) == {"cancelled"}
    assert set(Delivery.objects.filter(topic=sam.topic).values_list("state", flat=True)) == {"pending"}
    clock.shift(timedelta(minutes=1))
    assert circulation_acknowledge(recipient=pat, actor=pat.person.user).acknowledged_at == NOW
    assert LogEntry.objects.filter(additional_data__event="circulation_acknowledged").count() == 1


@pytest.mark.parametrize("grading, label", [("high", "HIGH RISK"), ("no-apparent-risk", "NO APPARENT RISK")])
def test_the_subject_names_the_grading(grading, label):
    from reports.services.circulation import grading_label

    assert grading_label(grading) == label


def test_whoever_wrote_the_amendment_is_not_sent_it(beats, officer, simple_type, file_report, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    circulate(version=version, now=NOW)
    sam = beats["people"]["Sam"]
    update = circulate(version=amend(report, grading="medium", reason="Re-graded by Sam: seen", author=sam.user),
                       now=NOW)
    assert circulated_to(update) == {"Pat": "patrol"}


def test_a_version_is_circulated_with_its_own_content_even_after_a_later_amendment(
        beats, officer, simple_type, file_report, clock):
    report, first = file_report(officer, simple_type, HIGH, area=beats["n1"])
    report.data, report.summary = {**HIGH, "name": "Amelia"}, "Amelia, 9"  # amended before version 1 went out
    report.save()

    circulation = circulate(version=first, now=NOW)

    assert circulation.summary == "Amy, 9"
    assert "Amy, 9" in Delivery.objects.filter(person=beats["people"]["Pat"], channel="email").first().body


# ---- the push a patrol's phone receives ------------------------------------------------------------------


def test_a_circulation_push_shows_type_grading_and_area_only_at_normal_urgency(
        beats, officer, simple_type, file_report, clock, vapid, push_service):
    pat = beats["people"]["Pat"]
    browser = subscribe_browser(pat, push_service)
    data = {**HIGH, "name": "Amy Clarke", "description": "Red coat, limps on the left leg"}
    report, version = file_report(officer, simple_type, data, area=beats["n1"])
    circulate(version=version, now=NOW)

    WebPushChannel().send(Delivery.objects.get(person=pat, channel="push"))

    [(headers, body)] = push_service.received
    payload = browser.read(body)
    assert headers["urgency"] == "normal"
    assert payload == {"kind": "circulation", "title": "Simple report", "body": "Grading: high · Area: Beat n1",
                       "url": "/app/#/circulations"}
    # No name, description or any other field of the report, and nothing that leads to them without the app.
    for value in ("Amy", "Clarke", "Red coat", "limps", "9", str(report.pk), "/api/"):
        assert value not in json.dumps(payload)
