"""Plain helpers that build people, units and schedules for tests."""

import itertools
from datetime import date, time

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from units.models import ContactMethod, Membership, Person, Rotation, RotationParticipant, Unit
from units.services import unit_ensure_tiers

_seq = itertools.count(1)


def make_person(name: str | None = None, *, verified_sms: bool = True, **fields) -> Person:
    n = next(_seq)
    name = name or f"Officer {n}"
    user = get_user_model().objects.create_user(username=f"user{n}", password="correct horse battery")
    person = Person.objects.create(user=user, full_name=name, badge_number=f"B{n:05d}", **fields)
    if verified_sms:
        ContactMethod.objects.create(
            person=person, kind=ContactMethod.Kind.SMS, address=f"+447911{n:06d}", verified_at=timezone.now()
        )
    return person


def make_unit(code: str | None = None, *, tz: str = "Europe/London", **fields) -> Unit:
    n = next(_seq)
    code = code or f"u{n}"
    unit = Unit.objects.create(name=fields.pop("name", f"Unit {code}"), code=code, timezone=tz, **fields)
    unit_ensure_tiers(unit=unit)
    return unit


def add_member(unit: Unit, person: Person, role: str = Membership.Role.MEMBER) -> Membership:
    return Membership.objects.create(unit=unit, person=person, role=role)


def make_rotation(tier, people, *, length: int = 1, unit: str = "weeks", start: date = date(2026, 1, 5),
                  handoff: time = time(9, 0), **fields) -> Rotation:
    rotation = Rotation.objects.create(
        tier=tier, name=fields.pop("name", "Rotation"), shift_length=length, shift_unit=unit,
        start_date=start, handoff_time=handoff, **fields,
    )
    for position, person in enumerate(people):
        RotationParticipant.objects.create(rotation=rotation, person=person, position=position)
    return rotation


def login_verified(client, user):
    """Log ``user`` in as if they had passed the second-factor form, with a static backup device."""
    device = StaticDevice.objects.create(user=user, name="backup")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


# The start of a JPEG (its SOI marker): what the attachment type check finds a photo by.
JPEG_START = b"\xff\xd8\xff\xe0"


def jpeg(body: bytes = b"photo") -> bytes:
    """Bytes whose content is a JPEG as far as the attachment type check can tell, unique per ``body``."""
    return JPEG_START + body
