"""After a version is submitted: circulate it, refer it, open its review. Each step is idempotent, so the
task enqueued on commit and the sweep that finishes anything a lost task left undone can both run it."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from callouts.clock import db_now
from reports.models import ReportVersion

log = logging.getLogger(__name__)


def version_process(*, version_id: int, now: datetime | None = None) -> bool:
    """Run every step for one submitted version; True when it is now fully processed.

    A step that fails is logged and rolled back on its own, so one bad referral rule cannot stop a
    circulation; the version stays unprocessed and the sweep tries the failed step again.
    """
    from reports.services.circulation import circulate
    from reports.services.referrals import refer
    from reports.services.reviews import review_open

    now = now or db_now()
    with transaction.atomic():
        version = (ReportVersion.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("report__report_type", "report__author", "type_version", "area")
                   .filter(pk=version_id, processed_at__isnull=True).first())
        if version is None:
            return False
        failed = []
        for step in (circulate, refer, review_open):
            try:
                with transaction.atomic():
                    step(version=version, now=now)
            except Exception:
                log.exception("Report %s version %s: %s failed; the sweep will try again",
                              version.report_id, version.number, step.__name__)
                failed.append(step.__name__)
        if failed:
            return False
        version.processed_at = now
        version.save(update_fields=["processed_at"])
    return True


def versions_unprocessed_process(*, now: datetime | None = None, limit: int = 50) -> int:
    """The sweep's part: finish every submitted version whose task was lost or failed."""
    ids = list(ReportVersion.objects.filter(processed_at__isnull=True).order_by("created_at", "id")
               .values_list("id", flat=True)[:limit])
    return sum(version_process(version_id=version_id, now=now) for version_id in ids)


def version_submitted(version: ReportVersion) -> None:
    """Called by filing inside its transaction: process the version as soon as it commits."""
    from reports.tasks import process_version

    transaction.on_commit(lambda: process_version.delay(version.pk))
