import secrets
from typing import NamedTuple

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from units.audit import acting, audit_event
from units.models import (
    ContactMethod,
    Device,
    Person,
    PushSubscription,
    Tier,
    Unavailability,
    Unit,
    hash_device_token,
    new_feed_token,
)

DEFAULT_TIERS = ("Primary", "Secondary")


def unit_ensure_tiers(*, unit: Unit) -> list[Tier]:
    """Give a unit its primary and secondary lists if it has none yet."""
    if not unit.tiers.exists():
        for position, name in enumerate(DEFAULT_TIERS, start=1):
            tier = Tier(unit=unit, position=position, name=name)
            tier.full_clean()
            tier.save()
    return list(unit.tiers.all())


def unit_create(*, name: str, code: str, timezone: str = "Europe/London", description: str = "",
                commander: Person | None = None, actor=None) -> Unit:
    with transaction.atomic(), acting(actor):
        unit = Unit(name=name, code=code, timezone=timezone, description=description, commander=commander)
        unit.full_clean()
        unit.save()
        unit_ensure_tiers(unit=unit)
    return unit


def feed_token_reset(*, obj: Person | Unit, actor=None) -> str:
    """Issue a new calendar feed address; the old one stops working at once (for a leaked link)."""
    with transaction.atomic(), acting(actor):
        obj.feed_token = new_feed_token()
        obj.save(update_fields=["feed_token"])
    return obj.feed_token


class Enrolment(NamedTuple):
    device: Device
    token: str
    wipe_key: str


def device_enrol(*, user, name: str, platform: str, remote_addr: str | None = None) -> Enrolment:
    """Enrol a device for ``user`` (who has just logged in with password and second factor).

    Returns the device, its token and its wipe key: 256 random bits each, returned only here and stored only as
    their SHA-256. The wipe key signs this device out and does nothing else
    (``units.authentication.device_for_wipe_key``).
    """
    token, wipe_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction.atomic(), acting(user, remote_addr=remote_addr):
        device = Device(user=user, name=name, platform=platform, token_hash=hash_device_token(token),
                        token_prefix=token[:8], wipe_key_hash=hash_device_token(wipe_key))
        device.full_clean()
        device.save()
        audit_event(event="device_enrolled", target=device, actor=user, message=f"Device {name} enrolled",
                    remote_addr=remote_addr, data={"username": user.get_username(), "device": device.pk,
                                                   "platform": platform, "token_prefix": device.token_prefix})
    return Enrolment(device, token, wipe_key)


def device_revoke(*, device: Device, actor, reason: str = Device.RevokedReason.ADMIN) -> bool:
    """Stop a device's token working from its next request. False when it was already revoked."""
    now = timezone.now()
    revoked_by = actor if isinstance(actor, get_user_model()) else None
    with transaction.atomic(), acting(actor):
        changed = Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=revoked_by, revoked_reason=reason
        )
        if changed:
            # A lost phone must not keep receiving alerts by push either.
            pushes = PushSubscription.objects.filter(device=device, active=True).update(active=False)
            audit_event(event="device_revoked", target=device, actor=actor,
                        message=f"Device {device.name} revoked: {Device.RevokedReason(reason).label}",
                        data={"username": device.user.get_username(), "device": device.pk, "reason": reason,
                              "push_subscriptions_stopped": pushes})
    device.refresh_from_db()
    return bool(changed)


def devices_revoke_all(*, user, actor, reason: str = Device.RevokedReason.ADMIN) -> int:
    """Revoke every device of ``user``; returns how many were still active."""
    with transaction.atomic():
        devices = Device.objects.filter(user=user, revoked_at__isnull=True).select_related("user")
        return sum(device_revoke(device=device, actor=actor, reason=reason) for device in devices)


def person_deactivate(*, person: Person, actor) -> int:
    """Take a person off every list, out of the app and the back office. Returns devices revoked."""
    with transaction.atomic(), acting(actor):
        person.active = False
        person.full_clean()
        person.save(update_fields=["active"])
        return account_access_end(user=person.user, actor=actor)


def account_access_end(*, user: AbstractBaseUser, actor: AbstractBaseUser | None) -> int:
    """For a login that may no longer act: revoke every device and end every back office session.

    Each would be refused at its next request anyway (units.access.may_act); this leaves nothing to refuse.
    Returns devices revoked.
    """
    with transaction.atomic():
        revoked = devices_revoke_all(user=user, actor=actor, reason=Device.RevokedReason.DEACTIVATED)
        sessions_end(user=user, actor=actor)
    return revoked


def sessions_end(*, user: AbstractBaseUser, actor: AbstractBaseUser | None) -> int:
    """Delete every open back office session of ``user``; returns how many.

    Sessions are stored in the database (Django's default engine) and say whose they are only inside their
    encoded data, so every unexpired one is read: a back office has hundreds, not millions.
    """
    user_id = str(user.pk)
    keys = [session.session_key for session in Session.objects.filter(expire_date__gt=timezone.now())
            if session.get_decoded().get(SESSION_KEY) == user_id]
    if keys:
        with transaction.atomic():
            Session.objects.filter(session_key__in=keys).delete()
            audit_event(event="sessions_ended", target=user, actor=actor, message="Back office sessions ended",
                        data={"username": user.get_username(), "sessions": len(keys), "reason": "account_disabled"})
    return len(keys)


def push_subscription_save(*, person: Person, endpoint: str, p256dh: str, auth: str, user_agent: str = "",
                           actor=None, device: Device | None = None) -> tuple[PushSubscription, bool]:
    """Keep a browser's Web Push subscription and the verified push contact method that uses it.

    A subscription already known (the same endpoint) is updated and moves to ``person`` (a shared browser
    whose user changed); the previous person's push contact method for it goes. Returns it and whether it is new.
    """
    with transaction.atomic(), acting(actor):
        subscription = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        created = subscription is None
        if created:
            subscription = PushSubscription(endpoint=endpoint)
        elif subscription.person_id != person.pk:
            ContactMethod.objects.filter(person_id=subscription.person_id, kind=ContactMethod.Kind.PUSH,
                                         address=endpoint).delete()
        subscription.person, subscription.device = person, device
        subscription.p256dh, subscription.auth, subscription.user_agent = p256dh, auth, user_agent[:300]
        subscription.active = True
        subscription.full_clean()
        subscription.save()
        contact_method_verify_push(person=person, endpoint=endpoint)
    return subscription, created


def contact_method_verify_push(*, person: Person, endpoint: str) -> ContactMethod:
    method = ContactMethod.objects.filter(person=person, kind=ContactMethod.Kind.PUSH, address=endpoint).first()
    if method is None:
        method = ContactMethod(person=person, kind=ContactMethod.Kind.PUSH, address=endpoint, delay_minutes=0)
    if method.verified_at is None:
        method.verified_at = timezone.now()
        method.full_clean()
        method.save()
    return method


def unavailability_create(*, person: Person, kind: str, starts_at, ends_at, note: str = "",
                          actor) -> Unavailability:
    """Take ``person`` off every callout list from ``starts_at`` to ``ends_at``."""
    with transaction.atomic(), acting(actor):
        unavailability = Unavailability(person=person, kind=kind, starts_at=starts_at, ends_at=ends_at, note=note)
        unavailability.full_clean()
        unavailability.save()
    return unavailability


def unavailability_delete(*, unavailability: Unavailability, actor) -> None:
    """Put the person back on their lists for that window; the audit log keeps what was deleted."""
    with transaction.atomic(), acting(actor):
        unavailability.delete()
