"""Referrals: matching rules send a frozen payload to partner agencies by email and signed webhook."""

from datetime import datetime

from reports.models import ReportVersion


def refer(*, version: ReportVersion, now: datetime) -> None:
    raise NotImplementedError  # the referrals helper writes this


def referral_deliveries_lease(*, now: datetime | None = None) -> list[int]:
    raise NotImplementedError


def referral_delivery_send(*, delivery_id: int) -> str:
    raise NotImplementedError
