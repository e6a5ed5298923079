"""Supervisor review: a task with a due time per the type's and grading's policy; overdue ones alert."""

from datetime import datetime

from reports.models import ReportVersion


def review_open(*, version: ReportVersion, now: datetime) -> None:
    raise NotImplementedError  # the reviews helper writes this


def reviews_overdue_alert(*, now: datetime | None = None) -> int:
    raise NotImplementedError
