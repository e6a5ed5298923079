"""Supervisor review: a task with a due time per the type's and grading's policy; overdue ones alert.

A report has at most one open review, and it is always of the latest version. An amendment while a review is
open moves that review to the new version instead of opening a second one: the supervisor reviews what the
report says now, once. Its due time becomes the earlier of the two (an amendment never buys time; a grading
that demands a quicker review brings it forward). A version written by a supervisor's re-grade opens no review
of its own: the re-grade was the review.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from callouts.clock import db_now
from callouts.models import Delivery
from callouts.notices import LockScreen, notify_people
from reports.models import Report, ReportVersion, ReviewPolicy, ReviewTask
from reports.selectors import visible_reports
from reports.services.circulation import area_label, duty_people, grading_label, report_link
from units.audit import acting, audit_event
from units.models import Person

SUPERVISORS = "Supervisors"
BATCH = 100


class ReviewClosed(Exception):
    """The review was already decided (by someone else, or in another tab)."""


def review_within(*, report_type, grading: str) -> int | None:
    """Minutes allowed by the type's policy for the grading, else its any-grading policy; None: no review."""
    policies = {p.grading: p.within_minutes for p in ReviewPolicy.objects.filter(report_type=report_type,
                                                                                   grading__in=[grading, ""])}
    return policies.get(grading, policies.get(""))


def review_open(*, version: ReportVersion, now: datetime) -> ReviewTask | None:
    report = version.report
    if ReviewTask.objects.filter(report=report, version=version.number).exists():
        return None
    if ReviewTask.objects.filter(report=report, version=version.number - 1, state=ReviewTask.State.REGRADED).exists():
        return None
    within = review_within(report_type=report.report_type, grading=version.grading)
    # Counted from the submission, so a version the sweep processes late is not given extra time.
    due_at = version.created_at + timedelta(minutes=within) if within is not None else None
    with transaction.atomic():
        review = ReviewTask.objects.select_for_update().filter(report=report, state=ReviewTask.State.OPEN).first()
        if review is not None:
            return review_move(review=review, version=version, due_at=due_at)
        if due_at is None:
            return None
        review = ReviewTask(report=report, version=version.number, created_at=now, due_at=due_at)
        review.full_clean()
        review.save()
        audit_event(event="review_opened", target=report, message=f"Review of version {version.number} due",
                    data={"review": review.pk, "version": version.number, "due_at": due_at.isoformat()})
    return review


def review_move(*, review: ReviewTask, version: ReportVersion, due_at: datetime | None) -> ReviewTask:
    previous = review.version
    review.version = version.number
    review.due_at = min(review.due_at, due_at) if due_at else review.due_at
    review.save(update_fields=["version", "due_at"])
    audit_event(event="review_moved", target=review.report,
                message=f"Open review moved from version {previous} to the amendment, version {version.number}",
                data={"review": review.pk, "from_version": previous, "version": version.number,
                      "due_at": review.due_at.isoformat()})
    return review


def reviews_overdue_alert(*, now: datetime | None = None) -> int:
    """Alert the duty supervisors of every open review past its due time, once each; how many were alerted."""
    now = now or db_now()
    with transaction.atomic():
        reviews = list(ReviewTask.objects.select_for_update(skip_locked=True, of=("self",))
                       .filter(state=ReviewTask.State.OPEN, due_at__lt=now, overdue_alerted_at__isnull=True)
                       .select_related("report__report_type", "report__area__parent").order_by("due_at")[:BATCH])
        for review in reviews:
            review.overdue_alerted_at = now
            review.save(update_fields=["overdue_alerted_at"])
            people = review_supervisors(review=review, now=now)
            readers = [person for person in people if may_see(person, review.report)]
            # Supervisors alerted because nobody is on duty in the area may not be allowed to read the report:
            # they are told a review is overdue and where, never what the report says.
            others = [p for p in people if p not in readers]
            for audience, text, may_read in ((readers, overdue_text, True), (others, overdue_nudge, False)):
                if audience:
                    subject, body = text(review=review, now=now)
                    notify_people(people=audience, topic=review_topic(review), subject=subject, body=body,
                                  lock_screen=overdue_lock_screen(review=review, now=now, may_read=may_read),
                                  report=review.report, report_version=review.version, now=now)
            audit_event(event="review_overdue_alerted", target=review.report,
                        message=f"Review of version {review.version} overdue: {len(people)} supervisors alerted",
                        data={"review": review.pk, "version": review.version, "people": [p.pk for p in people]})
    return len(reviews)


def review_supervisors(*, review: ReviewTask, now: datetime) -> list[Person]:
    """The duty supervisors of the report's area; with nobody on duty there, every supervisor: never nobody."""
    on_duty = [person for person, _ in duty_people(area=review.report.area, reach="supervisors", now=now).values()]
    if on_duty:
        return on_duty
    group = Group.objects.filter(name=SUPERVISORS).first()
    return list(Person.objects.filter(user__groups=group, active=True, user__is_active=True)) if group else []


def overdue_text(*, review: ReviewTask, now: datetime) -> tuple[str, str]:
    report = review.report
    label = grading_label(report.grading)
    late = int((now - review.due_at).total_seconds() // 60)
    subject = f"OVERDUE review: {label + ' ' if label else ''}{report.report_type.name.lower()} — " \
              f"{area_label(report.area)}"
    body = "\n".join([
        report.summary,
        f"Review of version {review.version} was due at {timezone.localtime(review.due_at):%H:%M %d/%m/%Y}"
        f" ({late} min ago).",
        f"Area: {area_label(report.area)}",
        report_link(report),
    ])
    return subject, body


def overdue_nudge(*, review: ReviewTask, now: datetime) -> tuple[str, str]:
    """The overdue alert without the report's content, for a supervisor who may not read the report."""
    late = int((now - review.due_at).total_seconds() // 60)
    subject = f"OVERDUE review — {area_label(review.report.area)}"
    body = "\n".join([
        f"A report's review was due at {timezone.localtime(review.due_at):%H:%M %d/%m/%Y} ({late} min ago) and "
        "nobody on duty has taken it.",
        f"Area: {area_label(review.report.area)}",
        "An administrator or the area's supervisors can open it in Muster's review queue.",
    ])
    return subject, body


def overdue_lock_screen(*, review: ReviewTask, now: datetime, may_read: bool) -> LockScreen:
    """The overdue alert as a locked phone shows it: never the report's content; the type and grading only to
    those who may read the report."""
    report = review.report
    late = int((now - review.due_at).total_seconds() // 60)
    label = grading_label(report.grading)
    what = f"{label + ' ' if label else ''}{report.report_type.name.lower()} report" if may_read else "report"
    return LockScreen(title="Muster", body=f"OVERDUE review of a {what} — {area_label(report.area)}: due at "
                      f"{timezone.localtime(review.due_at):%H:%M} ({late} min ago).")


def may_see(person: Person, report) -> bool:
    return person.user_id is not None and visible_reports(person.user).filter(pk=report.pk).exists()


def review_topic(review: ReviewTask) -> str:
    return f"review:{review.pk}"


def review_decide(*, review: ReviewTask, actor, state: str, comment: str, new_grading: str = "") -> ReviewTask:
    """Record the decision on a review that is still open; the caller holds the transaction."""
    review = ReviewTask.objects.select_for_update().select_related("report").get(pk=review.pk)
    if review.state != ReviewTask.State.OPEN:
        raise ReviewClosed(f"This review was already decided: {review.get_state_display().lower()}.")
    review.state, review.reviewer, review.decided_at = state, actor, timezone.now()
    review.comment, review.new_grading = comment, new_grading
    review.full_clean()
    review.save()
    # The supervisors no longer need reminding of a review that is done.
    Delivery.objects.filter(topic=review_topic(review), state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, updated_at=timezone.now())
    return review


def review_approve(*, review: ReviewTask, actor, comment: str = "") -> ReviewTask:
    with transaction.atomic(), acting(actor):
        review = review_decide(review=review, actor=actor, state=ReviewTask.State.APPROVED, comment=comment)
        audit_event(event="review_approved", target=review.report, actor=actor,
                    message=f"Version {review.version} approved", data=decision(review))
    return review


def review_regrade(*, review: ReviewTask, actor, grading: str, comment: str) -> ReviewTask:
    """Re-grade the report: an amendment by the supervisor, so the new grading is circulated and referred."""
    from reports.services.filing import ReportInvalid, report_amend

    with transaction.atomic(), acting(actor):
        review = review_decide(review=review, actor=actor, state=ReviewTask.State.REGRADED, comment=comment,
                               new_grading=grading)
        report = Report.objects.select_related("type_version", "area").get(pk=review.report_id)
        if not report.type_version.grading_field:
            raise ReportInvalid({"grading": [f"{report.report_type} reports have no grading to change."]})
        data, previous = {**report.data, report.type_version.grading_field: grading}, report.grading
        report_amend(report=report, actor=actor, base_version=review.version, data=data, area=report.area,
                     reason=f"Re-graded by {actor_name(actor)}: {comment}")
        audit_event(event="review_regraded", target=report, actor=actor,
                    message=f"Version {review.version} re-graded from {previous} to {grading}",
                    data={**decision(review), "from_grading": previous, "grading": grading})
    return review


def review_return(*, review: ReviewTask, actor, comment: str) -> ReviewTask:
    """Send the report back to its author, who is told why and amends it (which opens a new review)."""
    with transaction.atomic(), acting(actor):
        review = review_decide(review=review, actor=actor, state=ReviewTask.State.RETURNED, comment=comment)
        report = review.report
        notify_people(people=[report.author], topic=f"review-returned:{review.pk}",
                      subject=f"Report returned by {actor_name(actor)}: {report.summary}"[:200],
                      body=f"{comment}\n\nPlease amend version {review.version}.\n{report_link(report)}",
                      lock_screen=LockScreen(title="Muster", body=f"Your {report.report_type.name.lower()} report "
                                             "was returned to you: open Muster to amend it."),
                      report=report, report_version=review.version)
        audit_event(event="review_returned", target=report, actor=actor,
                    message=f"Version {review.version} returned to {report.author}", data=decision(review))
    return review


def decision(review: ReviewTask) -> dict:
    return {"review": review.pk, "version": review.version, "comment": review.comment}


def actor_name(actor) -> str:
    person = Person.objects.filter(user=actor).first()
    return person.full_name if person else actor.get_username()
