"""Reads about referrals for supervisors and the admin."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from callouts.clock import db_now
from reports.models import Referral, ReferralDelivery


def overdue_referrals(*, now: datetime | None = None) -> QuerySet[Referral]:
    """Referrals the agency has not acknowledged although its time to act has passed, or that it may never
    have received (a delivery failed for good); the most urgent first. An acknowledged referral is never
    overdue: the agency has it, whichever way it arrived."""
    now = now or db_now()
    failed = ReferralDelivery.objects.filter(referral=OuterRef("pk"), state=ReferralDelivery.State.FAILED)
    return (Referral.objects.filter(acknowledged_at__isnull=True)
            .filter(Q(act_by__lt=now) | Exists(failed))
            .select_related("agency", "rule", "report__report_type", "report__area")
            .order_by("act_by", "id"))
