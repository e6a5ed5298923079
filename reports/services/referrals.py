"""Referrals: matching rules send a frozen payload to partner agencies by email and signed webhook.

Delivery is **at least once**. A lost safeguarding referral is worse than a duplicate, and the partner can drop
a duplicate by its ``X-Muster-Delivery`` header. So a delivery whose worker died while sending (still
``sending`` past its ``send_deadline``) goes back to ``pending`` at the next lease and is sent again. Otherwise
a delivery's state only moves forward: pending → sending → delivered | failed, or back to pending to retry.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from callouts.clock import db_now
from reports.conditions import condition_error, condition_matches
from reports.links import referral_ack_link
from reports.models import Referral, ReferralAttempt, ReferralDelivery, ReferralRule, ReportVersion
from reports.referral_channels import SENDERS, SendError
from reports.tasks import send_referral
from units.audit import audit_event

log = logging.getLogger(__name__)

# A leased delivery's task has this long to claim it before the sweep hands it out again.
LEASE = timedelta(seconds=60)
# Longest wait between two attempts, however many came before.
RETRY_CAP_SECONDS = 3600


def refer(*, version: ReportVersion, now: datetime) -> None:
    """Make the referrals for a submitted version; running it again makes none twice.

    A rule whose condition matches makes an initial referral, unless it referred an earlier version: then,
    and also when it no longer matches, it makes an update referral, so the agency hears that a grading
    dropped. Earlier referrals are never changed. Updates go out while the agency is active, even when the
    rule has since been switched off: the agency already holds the case.
    """
    report = version.report
    referred_before = set(Referral.objects.filter(report=report, version__lt=version.number)
                          .values_list("rule_id", flat=True))
    already = set(Referral.objects.filter(report=report, version=version.number).values_list("rule_id", flat=True))
    rules = (ReferralRule.objects.filter(Q(report_type_id=report.report_type_id) | Q(pk__in=referred_before))
             .filter(agency__active=True).exclude(pk__in=already).select_related("agency").order_by("pk"))
    for rule in rules:
        if rule.pk in referred_before:
            referral_make(rule=rule, version=version, kind=Referral.Kind.UPDATE, now=now)
        elif rule.active and rule_matches(rule, version):
            referral_make(rule=rule, version=version, kind=Referral.Kind.INITIAL, now=now)


def rule_matches(rule: ReferralRule, version: ReportVersion) -> bool:
    if error := condition_error(rule.condition):
        # Saved around the admin's validation; one bad rule must not hold up the others.
        log.error("Referral rule %s (%s) is skipped, its condition is malformed: %s", rule.pk, rule.name, error)
        return False
    return condition_matches(rule.condition, version.data)


def referral_make(*, rule: ReferralRule, version: ReportVersion, kind: str, now: datetime) -> Referral:
    with transaction.atomic():
        act_by = now + timedelta(minutes=rule.act_within_minutes)
        referral = Referral(rule=rule, agency=rule.agency, report=version.report, version=version.number, kind=kind,
                            priority=rule.priority, created_at=now, act_by=act_by, payload={})
        referral.full_clean(exclude=["payload"])
        referral.save()
        # The link needs the referral's id, so the frozen payload is completed before anything is sent.
        referral.payload = frozen_payload(referral, rule, version, referral_ack_link(referral.pk))
        referral.save(update_fields=["payload"])
        deliveries = [ReferralDelivery.objects.create(referral=referral, channel=channel, address=address, due_at=now)
                      for channel, address in channels_of(rule.agency)]
        audit_event(event="referral_made", target=referral, data={
            "report": str(version.report_id), "version": version.number, "kind": kind, "rule": rule.pk,
            "agency": rule.agency.name, "channels": [d.channel for d in deliveries]})
        for delivery in deliveries:
            transaction.on_commit(lambda pk=delivery.pk: send_referral.delay(pk))
    return referral


def channels_of(agency) -> list[tuple[str, str]]:
    found = []
    if agency.email:
        found.append((ReferralDelivery.Channel.EMAIL, agency.email))
    if agency.webhook_url:
        found.append((ReferralDelivery.Channel.WEBHOOK, agency.webhook_url))
    return found


def frozen_payload(referral: Referral, rule: ReferralRule, version: ReportVersion, ack_url: str) -> dict:
    report, author = version.report, version.report.author
    shared = [name for name in rule.shared_fields if isinstance(name, str)]
    return {
        "referral_id": referral.pk,
        "kind": referral.kind,
        "agency": rule.agency.name,
        "rule": rule.name,
        "report": {"id": str(report.pk), "type": report.report_type.slug, "type_name": report.report_type.name,
                   "version": version.number},
        "submitted_at": report.submitted_at.isoformat() if report.submitted_at else None,
        "amended_at": version.created_at.isoformat() if version.number > 1 else None,
        "area": {"name": version.area.name, "code": version.area.code} if version.area else None,
        "officer": {"name": author.full_name, "badge_number": author.badge_number},
        "priority": referral.priority,
        "act_by": referral.act_by.isoformat(),
        "acknowledge_url": ack_url,
        "shared_fields": shared,
        "fields": {name: version.data[name] for name in shared if name in version.data},
    }


def referral_deliveries_lease(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Hand due deliveries to the sweep: each is leased by pushing its due time ``LEASE`` ahead, so the next
    sweep does not hand it out again while its task waits for a worker. A delivery stuck in ``sending`` past its
    deadline (its worker died mid-send, the outcome unknown) goes back to pending first: at least once."""
    now = now or db_now()
    with transaction.atomic():
        stuck = list(ReferralDelivery.objects.select_for_update(skip_locked=True)
                     .filter(state=ReferralDelivery.State.SENDING, send_deadline__lte=now)[:limit])
        for delivery in stuck:
            attempt_failed(delivery, now, status="", detail="No outcome by the send deadline (the worker stopped?)",
                           retry=True, retry_at=now)
        due = list(ReferralDelivery.objects.select_for_update(skip_locked=True)
                   .filter(state=ReferralDelivery.State.PENDING, due_at__lte=now)
                   .order_by("due_at", "id").values_list("id", flat=True)[:limit])
        ReferralDelivery.objects.filter(id__in=due).update(due_at=now + LEASE)
    return due


def referral_delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is pending and due (or leased); returns its new state, or ``not-claimed``.

    The claim is one conditional UPDATE committed before the agency is contacted, so a second worker, or a
    second run of the task, finds nothing to claim.
    """
    now = db_now()
    deadline = now + timedelta(seconds=3 * max(settings.REFERRAL_TIMEOUT, settings.EMAIL_TIMEOUT or 0))
    with transaction.atomic():
        claimed = ReferralDelivery.objects.filter(
            pk=delivery_id, state=ReferralDelivery.State.PENDING, due_at__lte=now + LEASE,
        ).update(state=ReferralDelivery.State.SENDING, attempts=F("attempts") + 1, send_deadline=deadline)
    if claimed != 1:
        return "not-claimed"
    delivery = ReferralDelivery.objects.select_related("referral__agency").get(pk=delivery_id)
    try:
        status = SENDERS[delivery.channel].send(delivery)
    except SendError as error:
        return attempt_failed(delivery, db_now(), status=error.status, detail=str(error), retry=error.retry)
    except Exception as error:
        log.exception("Referral delivery %s: the %s sender raised", delivery.pk, delivery.channel)
        return attempt_failed(delivery, db_now(), status="", detail=f"{type(error).__name__}: {error}",
                              retry=True)
    return attempt_delivered(delivery, db_now(), status)


def attempt_delivered(delivery: ReferralDelivery, now: datetime, status: str) -> str:
    with transaction.atomic():
        ReferralAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, ok=True, status=status)
        # A send that outlived its deadline may have been put back to pending meanwhile; it still arrived.
        ReferralDelivery.objects.filter(
            pk=delivery.pk, state__in=[ReferralDelivery.State.SENDING, ReferralDelivery.State.PENDING],
        ).update(state=ReferralDelivery.State.DELIVERED, delivered_at=now, send_deadline=None, error="")
    log.info("Referral %s delivered by %s to %s (%s)", delivery.referral_id, delivery.channel, delivery.address,
             status)
    return ReferralDelivery.State.DELIVERED


def attempt_failed(delivery: ReferralDelivery, now: datetime, *, status: str, detail: str, retry: bool,
                   retry_at: datetime | None = None) -> str:
    """Log the attempt; retry with backoff while attempts remain, else the delivery has failed for good."""
    again = retry and delivery.attempts < settings.REFERRAL_MAX_ATTEMPTS
    state = ReferralDelivery.State.PENDING if again else ReferralDelivery.State.FAILED
    changes = {"state": state, "send_deadline": None, "error": detail}
    if again:
        changes["due_at"] = retry_at or now + retry_delay(delivery.attempts)
    with transaction.atomic():
        ReferralAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, ok=False,
                                       status=status[:40], detail=detail)
        ReferralDelivery.objects.filter(pk=delivery.pk, state=ReferralDelivery.State.SENDING).update(**changes)
        if not again:
            audit_event(event="referral_delivery_failed", target=delivery.referral, data={
                "channel": delivery.channel, "address": delivery.address, "attempts": delivery.attempts,
                "error": detail})
    if again:
        log.warning("Referral delivery %s (%s) attempt %s failed, retrying at %s: %s", delivery.pk,
                    delivery.channel, delivery.attempts, changes["due_at"].isoformat(), detail)
    else:
        log.error("Referral %s to %s by %s failed for good after %s attempts: %s", delivery.referral_id,
                  delivery.address, delivery.channel, delivery.attempts, detail)
    return state


def retry_delay(attempts: int) -> timedelta:
    """Exponential from ``REFERRAL_RETRY_BASE`` seconds, capped, with ±20% jitter so that deliveries that
    failed together (the partner was down) do not all come back at the same second."""
    seconds = min(settings.REFERRAL_RETRY_BASE * 2 ** (attempts - 1), RETRY_CAP_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def referral_acknowledge(*, referral: Referral, by: str) -> Referral:
    """Record that the agency has the referral; a second acknowledgement changes nothing."""
    with transaction.atomic():
        referral = Referral.objects.select_for_update().select_related("agency", "report__report_type").get(
            pk=referral.pk)
        if referral.acknowledged_at is not None:
            return referral
        referral.acknowledged_at, referral.acknowledged_by = timezone.now(), by[:120]
        referral.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_event(event="referral_acknowledged", target=referral, data={
            "by": referral.acknowledged_by, "agency": referral.agency.name, "report": str(referral.report_id),
            "version": referral.version})
    return referral
