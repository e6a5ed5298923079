from datetime import timedelta

import pytest
from auditlog.models import LogEntry

from callouts.channels.push import WebPushChannel
from callouts.models import Delivery
from reports.models import Report, ReportVersion, ReviewPolicy, ReviewTask
from reports.services.reviews import (
    ReviewClosed,
    review_approve,
    review_open,
    review_regrade,
    review_return,
    reviews_overdue_alert,
)
from tests.push_double import subscribe_browser
from tests.reports.conftest import NOW, reachable

HIGH = {"name": "Amy", "age": 9, "grading": "high"}


@pytest.fixture
def policies(simple_type):
    ReviewPolicy.objects.create(report_type=simple_type, grading="high", within_minutes=60)
    ReviewPolicy.objects.create(report_type=simple_type, grading="", within_minutes=240)


@pytest.fixture
def review(beats, officer, simple_type, file_report, policies, clock):
    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    return review_open(version=version, now=NOW)


def amend(report, *, grading, at, reason="More detail"):
    previous = report.versions.order_by("-number").first()
    data = {**previous.data, "grading": grading}
    version = ReportVersion.objects.create(report=report, number=previous.number + 1,
                                           type_version=previous.type_version, data=data, grading=grading,
                                           area=previous.area, author=report.author.user, reason=reason,
                                           created_at=at)
    Report.objects.filter(pk=report.pk).update(version=version.number, grading=grading, data=data)
    return version


def review_notices(review):
    return Delivery.objects.filter(topic=f"review:{review.pk}")


def test_a_review_is_due_within_the_gradings_policy(review):
    assert review.state == ReviewTask.State.OPEN and review.version == 1
    assert review.due_at == NOW + timedelta(minutes=60)


def test_the_due_time_counts_from_submission_even_when_processed_late(beats, officer, simple_type, file_report,
                                                                       policies, clock):
    _, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    review = review_open(version=version, now=NOW + timedelta(minutes=7))
    assert review.due_at == NOW + timedelta(minutes=60) and review.created_at == NOW + timedelta(minutes=7)


def test_processing_a_submitted_version_circulates_it_and_opens_its_review(beats, officer, simple_type,
                                                                          file_report, policies, clock):
    from reports.services.processing import version_process

    report, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    assert version_process(version_id=version.pk, now=NOW) is True
    assert report.reviews.get().due_at == NOW + timedelta(minutes=60)
    assert {r.person.full_name for r in report.circulations.get().recipients.all()} == {"Pat", "Sam"}


def test_a_grading_without_its_own_policy_uses_the_types_blank_one(beats, officer, simple_type, file_report,
                                                                    policies, clock):
    _, version = file_report(officer, simple_type, {**HIGH, "grading": "low"}, area=beats["n1"])
    assert review_open(version=version, now=NOW).due_at == NOW + timedelta(minutes=240)


def test_without_a_policy_no_review_is_opened(beats, officer, simple_type, file_report, clock):
    _, version = file_report(officer, simple_type, HIGH, area=beats["n1"])
    assert review_open(version=version, now=NOW) is None
    assert not ReviewTask.objects.exists()


def test_opening_twice_opens_one_review(review):
    version = review.report.versions.get(number=1)
    assert review_open(version=version, now=NOW + timedelta(minutes=1)) is None
    assert ReviewTask.objects.count() == 1


def test_an_amendment_moves_the_open_review_to_it_and_never_puts_the_due_time_back(review):
    version = amend(review.report, grading="low", at=NOW + timedelta(minutes=30))
    moved = review_open(version=version, now=NOW + timedelta(minutes=30))
    assert ReviewTask.objects.count() == 1
    assert moved.pk == review.pk and moved.version == 2
    assert moved.due_at == NOW + timedelta(minutes=60)  # not 30 + 240


def test_an_amendment_to_a_stricter_grading_brings_the_due_time_forward(beats, officer, simple_type, file_report,
                                                                         policies, clock):
    report, version = file_report(officer, simple_type, {**HIGH, "grading": "low"}, area=beats["n1"])
    review_open(version=version, now=NOW)
    moved = review_open(version=amend(report, grading="high", at=NOW + timedelta(minutes=10)),
                        now=NOW + timedelta(minutes=10))
    assert moved.due_at == NOW + timedelta(minutes=70)


def test_an_amendment_after_a_return_opens_a_new_review(review, beats):
    review_return(review=review, actor=beats["people"]["Sam"].user, comment="Add the clothing")
    version = amend(review.report, grading="high", at=NOW + timedelta(minutes=20))
    new = review_open(version=version, now=NOW + timedelta(minutes=20))
    assert new.pk != review.pk and new.version == 2 and new.due_at == NOW + timedelta(minutes=80)


def test_the_overdue_alert_goes_exactly_after_the_due_time_and_once(review, beats, clock):
    clock.move_to(review.due_at - timedelta(seconds=1))
    assert reviews_overdue_alert() == 0
    clock.move_to(review.due_at)
    assert reviews_overdue_alert() == 0
    clock.move_to(review.due_at + timedelta(seconds=1))
    assert reviews_overdue_alert() == 1
    assert reviews_overdue_alert() == 0
    clock.shift(timedelta(hours=1))
    assert reviews_overdue_alert() == 0

    review.refresh_from_db()
    assert review.overdue_alerted_at == NOW + timedelta(minutes=60, seconds=1)
    notices = review_notices(review)
    assert {d.person.full_name for d in notices} == {"Sam"}
    push = notices.get(channel="push")
    assert push.kind == Delivery.Kind.NOTICE and push.due_at == review.overdue_alerted_at
    assert notices.get(channel="email").subject == "OVERDUE review: HIGH RISK simple report — Beat n1"
    assert (push.subject, push.body) == ("Muster", "OVERDUE review of a HIGH RISK simple report report — Beat n1: "
                                                   "due at 11:00 (0 min ago).")
    assert LogEntry.objects.filter(additional_data__event="review_overdue_alerted").count() == 1


def test_an_overdue_review_push_is_a_notice_at_normal_urgency_without_the_reports_content(
        review, beats, clock, vapid, push_service):
    browser = subscribe_browser(beats["people"]["Sam"], push_service)
    clock.move_to(review.due_at + timedelta(minutes=12))
    reviews_overdue_alert()

    WebPushChannel().send(review_notices(review).get(channel="push"))

    [(headers, body)] = push_service.received
    assert headers["urgency"] == "normal"
    assert browser.read(body) == {"kind": "notice", "title": "Muster", "url": "/app/", "body": "OVERDUE review of a "
                                  "HIGH RISK simple report report — Beat n1: due at 11:00 (12 min ago)."}


def test_a_decided_review_never_alerts(review, beats, clock):
    review_approve(review=review, actor=beats["people"]["Sam"].user)
    clock.move_to(review.due_at + timedelta(minutes=5))
    assert reviews_overdue_alert() == 0


def test_with_no_supervisor_on_duty_every_supervisor_is_alerted(beats, officer, simple_type, file_report, policies,
                                                                clock):
    sue = reachable("Sue", "Supervisors")
    gone = reachable("Gil", "Supervisors")
    gone.active = False
    gone.save()
    report, version = file_report(officer, simple_type, HIGH, area=None)
    review = review_open(version=version, now=NOW)
    clock.move_to(review.due_at + timedelta(minutes=1))
    assert reviews_overdue_alert() == 1
    assert {d.person_id for d in review_notices(review)} == {beats["people"]["Sam"].pk, sue.pk}


def test_a_supervisor_alerted_only_because_nobody_is_on_duty_is_not_told_what_the_report_says(
        beats, officer, simple_type, file_report, policies, clock):
    sue = reachable("Sue", "Supervisors")
    report, version = file_report(officer, simple_type, HIGH, area=None)  # in no supervisor's area
    review = review_open(version=version, now=NOW)
    clock.move_to(review.due_at + timedelta(minutes=1))

    reviews_overdue_alert()

    notices = review_notices(review).filter(person=sue)
    assert notices.exists()
    for notice in notices:
        assert "Amy" not in notice.body + notice.subject and "HIGH" not in notice.body + notice.subject
        assert report.summary not in notice.body and "simple" not in notice.body.lower()
    email = notices.get(channel="email")
    assert email.subject == "OVERDUE review — no area" and "review queue" in email.body
    assert notices.get(channel="push").body == "OVERDUE review of a report — no area: due at 11:00 (1 min ago)."


def test_a_supervisor_who_may_read_the_report_gets_its_summary_in_the_overdue_alert(review, beats, clock):
    clock.move_to(review.due_at + timedelta(minutes=1))

    reviews_overdue_alert()

    assert review.report.summary in review_notices(review).get(channel="email").body
    assert review.report.summary not in review_notices(review).get(channel="push").body  # shown on a locked phone


def test_approving_records_the_supervisor_and_stops_reminders(review, beats, clock):
    clock.move_to(review.due_at + timedelta(seconds=1))
    reviews_overdue_alert()
    sam = beats["people"]["Sam"].user
    clock.shift(timedelta(minutes=1))
    approved = review_approve(review=review, actor=sam, comment="Good rationale")
    assert approved.state == ReviewTask.State.APPROVED and approved.reviewer == sam
    assert approved.decided_at == NOW + timedelta(minutes=61, seconds=1) and approved.comment == "Good rationale"
    assert review_notices(review).filter(state="pending").count() == 0
    assert LogEntry.objects.filter(additional_data__event="review_approved", actor=sam).count() == 1
    with pytest.raises(ReviewClosed):
        review_approve(review=review, actor=sam)
    with pytest.raises(ReviewClosed):
        review_return(review=review, actor=sam, comment="Too late")


def test_regrading_amends_the_report_and_opens_no_review_of_the_regrade(review, beats, clock):
    sam = beats["people"]["Sam"].user
    regraded = review_regrade(review=review, actor=sam, grading="medium", comment="Seen with her aunt")
    assert regraded.state == ReviewTask.State.REGRADED and regraded.new_grading == "medium"
    report = Report.objects.get(pk=review.report_id)
    assert report.version == 2 and report.grading == "medium" and report.data["grading"] == "medium"
    version = report.versions.get(number=2)
    assert version.reason == "Re-graded by Sam: Seen with her aunt" and version.author == sam
    assert review_open(version=version, now=NOW) is None
    entry = LogEntry.objects.get(additional_data__event="review_regraded")
    assert entry.additional_data["from_grading"] == "high" and entry.additional_data["grading"] == "medium"


def test_regrading_to_a_grading_the_type_does_not_have_changes_nothing(review, beats, clock):
    from reports.services.filing import ReportInvalid

    with pytest.raises(ReportInvalid):
        review_regrade(review=review, actor=beats["people"]["Sam"].user, grading="catastrophic", comment="x")
    review.refresh_from_db()
    assert review.state == ReviewTask.State.OPEN
    assert Report.objects.get(pk=review.report_id).version == 1


def test_returning_tells_the_author_why(review, beats, officer, clock):
    returned = review_return(review=review, actor=beats["people"]["Sam"].user, comment="Add what she wore")
    assert returned.state == ReviewTask.State.RETURNED
    notice = Delivery.objects.get(person=officer, topic=f"review-returned:{review.pk}", channel="email")
    assert "Add what she wore" in notice.body and notice.subject.startswith("Report returned by Sam")
    push = Delivery.objects.get(person=officer, topic=f"review-returned:{review.pk}", channel="push")
    assert (push.subject, push.body) == ("Muster", "Your simple report report was returned to you: open Muster to "
                                                   "amend it.")
    assert LogEntry.objects.filter(additional_data__event="review_returned").exists()


def test_a_type_without_a_grading_cannot_be_regraded(beats, officer, file_report, clock):
    from reports.models import ReportType, ReportTypeVersion
    from reports.services.filing import ReportInvalid

    incident = ReportType.objects.create(slug="note", name="Note")
    ReportTypeVersion.objects.create(report_type=incident, number=1, published_at=NOW, summary_fields=["title"],
                                     schema={"type": "object", "properties": {"title": {"type": "string"}}})
    ReviewPolicy.objects.create(report_type=incident, grading="", within_minutes=30)
    _, version = file_report(officer, incident, {"title": "Broken window"}, area=beats["n1"])
    review = review_open(version=version, now=NOW)
    assert review.due_at == NOW + timedelta(minutes=30)
    with pytest.raises(ReportInvalid):
        review_regrade(review=review, actor=beats["people"]["Sam"].user, grading="high", comment="x")
    review.refresh_from_db()
    assert review.state == ReviewTask.State.OPEN
