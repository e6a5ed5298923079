import hashlib
import secrets
import zoneinfo
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_email
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/London.")


# Ofcom reserves 07700 900000-900999 for drama: the demo uses it so it can never ring a real person.
FICTIONAL_NUMBER_PREFIX = "+447700900"


def normalize_phone(value: str) -> str:
    """Return the E.164 form of an international phone number, or raise ValidationError."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            f"{value!r} is not a phone number in international form, such as +447911123456."
        ) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_valid_number(number) or e164.startswith(FICTIONAL_NUMBER_PREFIX)):
        raise ValidationError(f"{value!r} is not a valid phone number.")
    return e164


class Qualification(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Person(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="person")
    full_name = models.CharField(max_length=150)
    rank = models.CharField(max_length=60, blank=True)
    badge_number = models.CharField("collar/badge number", max_length=30, unique=True)
    home_station = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True, help_text="Inactive people are on no callout list.")
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "people"

    def __str__(self):
        return f"{self.rank} {self.full_name}".strip()


class ContactKind(models.TextChoices):
    PUSH = "push", "Mobile push"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    EMAIL = "email", "Email"


class ContactMethod(models.Model):
    Kind = ContactKind
    PHONE_KINDS = (Kind.SMS, Kind.VOICE)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    address = models.CharField(
        max_length=500,
        help_text="E.164 phone number (+447911123456) for SMS and voice, an address for email, "
        "the subscription endpoint for push (set by the app).",
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in which channels are tried.")
    delay_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Minutes after the alert without an answer before this channel is used."
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person", "delay_minutes", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "address"], name="contact_method_unique"),
            # A kind no channel sends would strand the person's alerts: refused by the database too.
            models.CheckConstraint(condition=Q(kind__in=ContactKind.values), name="contact_method_known_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.address}"

    def clean(self):
        if self.kind in self.PHONE_KINDS:
            try:
                self.address = normalize_phone(self.address)
            except ValidationError as error:
                raise ValidationError({"address": error.messages}) from None
        elif self.kind == self.Kind.EMAIL:
            try:
                validate_email(self.address)
            except ValidationError:
                raise ValidationError({"address": f"{self.address!r} is not an email address."}) from None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class Unit(models.Model):
    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=20, unique=True, help_text="Short code, e.g. tsu or k9.")
    description = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="Europe/London", validators=[validate_timezone])
    active = models.BooleanField(default=True)
    commander = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="commanded_units"
    )
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        TEAM_LEADER = "team_leader", "Team leader"
        COMMANDER = "commander", "Commander"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    qualifications = models.ManyToManyField(Qualification, blank=True, related_name="memberships")

    class Meta:
        ordering = ["unit", "person__full_name"]
        constraints = [models.UniqueConstraint(fields=["unit", "person"], name="membership_unique")]

    def __str__(self):
        return f"{self.person} in {self.unit} ({self.get_role_display()})"


class Tier(models.Model):
    """One ordered callout list of a unit: position 1 is primary, 2 secondary, and so on."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="tiers")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["unit", "position"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "position"], name="tier_position_unique"),
            models.CheckConstraint(condition=Q(position__gte=1), name="tier_position_positive"),
        ]

    def __str__(self):
        return f"{self.unit.code} {self.name}"


class Rotation(models.Model):
    """A layer of on-call shifts on a tier; participants take turns in order, in the unit's time zone."""

    class ShiftUnit(models.TextChoices):
        HOURS = "hours", "Hours"
        DAYS = "days", "Days"
        WEEKS = "weeks", "Weeks"

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=80)
    shift_length = models.PositiveSmallIntegerField(default=1)
    shift_unit = models.CharField(max_length=10, choices=ShiftUnit.choices, default=ShiftUnit.WEEKS)
    start_date = models.DateField(help_text="Local date of the first handoff.")
    handoff_time = models.TimeField(help_text="Local wall-clock time of every handoff.")
    end_date = models.DateField(null=True, blank=True, help_text="Local date the rotation stops (at handoff).")
    weekdays = models.CharField(
        max_length=7,
        default="0123456",
        validators=[RegexValidator(r"^0?1?2?3?4?5?6?$", "Weekdays are digits 0 (Monday) to 6 (Sunday).")],
        help_text="Days on which this layer is on call, e.g. weekdays only for a weekday layer. "
        "A duty day runs from one handoff time to the next, not from midnight.",
    )

    class Meta:
        ordering = ["tier", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(shift_length__gte=1), name="rotation_shift_length_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="rotation_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.tier} / {self.name}"

    def clean(self):
        if self.end_date and self.start_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": "The end date must be after the start date."})
        if self.weekdays == "":
            raise ValidationError({"weekdays": "Choose at least one day."})


class RotationParticipant(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rotation_slots")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rotation", "position", "id"]

    def __str__(self):
        return f"{self.person} in {self.rotation}"


class Override(models.Model):
    """For a window, ``person`` replaces ``replaces`` on the tier, or is added when nobody is replaced."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="overrides")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="overrides")
    replaces = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="overridden_by"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["tier", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="override_end_after_start"),
        ]

    def __str__(self):
        if self.replaces_id:
            return f"{self.person} for {self.replaces} on {self.tier}"
        return f"{self.person} added to {self.tier}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})
        if self.replaces_id and self.replaces_id == self.person_id:
            raise ValidationError({"replaces": "A person cannot replace themselves."})
        if self.tier_id and self.person_id and self.starts_at and self.ends_at:
            overlapping = Override.objects.filter(
                tier_id=self.tier_id, person_id=self.person_id, starts_at__lt=self.ends_at, ends_at__gt=self.starts_at
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(
                    f"{self.person} already has an override on this list overlapping {self.starts_at:%d %b %H:%M}"
                    f" – {self.ends_at:%d %b %H:%M}."
                )


class Unavailability(models.Model):
    class Kind(models.TextChoices):
        LEAVE = "leave", "Leave"
        SICK = "sick", "Sick"
        COURT = "court", "Court"
        TRAINING = "training", "Training"
        OTHER = "other", "Other"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="unavailabilities")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LEAVE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["person", "starts_at"]
        verbose_name_plural = "unavailability"
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="unavailability_end_after_start"),
        ]

    def __str__(self):
        return f"{self.person}: {self.get_kind_display()} {self.starts_at:%d %b} – {self.ends_at:%d %b}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})


class FixedRule(models.Model):
    """Members always on a tier from the reporting structure: everyone with a role, or one named person."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="fixed_rules")
    role = models.CharField(max_length=20, choices=Membership.Role.choices, blank=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["tier", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="") & Q(person__isnull=False)) | (~Q(role="") & Q(person__isnull=True)),
                name="fixed_rule_role_xor_person",
            ),
        ]

    def __str__(self):
        if self.person_id:
            return f"{self.person} always on {self.tier}"
        return f"{self.get_role_display()}s always on {self.tier}"

    def clean(self):
        if bool(self.role) == bool(self.person_id):
            raise ValidationError("Choose either a role or a person, not both.")


SHIFT_UNIT_DELTAS = {
    Rotation.ShiftUnit.HOURS: timedelta(hours=1),
    Rotation.ShiftUnit.DAYS: timedelta(days=1),
    Rotation.ShiftUnit.WEEKS: timedelta(weeks=1),
}


class PushSubscription(models.Model):
    """A browser or app's Web Push subscription: where to push a person's alerts and the keys to encrypt them.

    The push ``ContactMethod`` of a person holds the subscription's ``endpoint`` as its address; the push
    channel finds the keys here by that endpoint. The mobile API creates the subscription and its contact
    method together. When the push service answers 404 or 410 the subscription is gone for good and is marked
    inactive; the browser has to subscribe again.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="push_subscriptions")
    device = models.ForeignKey("Device", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="push_subscriptions",
                               help_text="The enrolled device that subscribed; revoking it stops these pushes.")
    endpoint = models.URLField(max_length=500, unique=True)
    p256dh = models.CharField(max_length=200, help_text="The browser's public key (base64url) for encryption.")
    auth = models.CharField(max_length=100, help_text="The browser's auth secret (base64url).")
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["person", "-created_at"]

    def __str__(self):
        return f"Push to {self.person} ({self.user_agent or 'unknown device'})"

    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def hash_device_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Device(models.Model):
    """A phone or browser enrolled for the API. Its token is shown once at enrolment and kept only hashed."""

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"
        WEB = "web", "Web"

    class RevokedReason(models.TextChoices):
        OWNER = "owner", "Removed by its owner"
        ADMIN = "admin", "Revoked by an administrator"
        IDLE = "idle", "Expired: not used for too long"
        MAX_AGE = "max_age", "Expired: enrolled too long ago"
        DEACTIVATED = "deactivated", "Owner deactivated"
        WIPED = "wiped", "Wrong PIN too many times"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_devices")
    name = models.CharField(max_length=100)
    platform = models.CharField(max_length=10, choices=Platform.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the token.")
    token_prefix = models.CharField(max_length=8, editable=False, help_text="First characters of the token.")
    wipe_key_hash = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="SHA-256 of the key with which the app signs this device out after too many wrong PINs; empty "
                  "for devices enrolled before there was one.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    revoked_reason = models.CharField(max_length=20, choices=RevokedReason.choices, blank=True, editable=False)

    class Meta:
        ordering = ["user", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_reason="")
                | (Q(revoked_at__isnull=False) & ~Q(revoked_reason="")),
                name="device_revoked_with_reason",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_platform_display()}) of {self.user}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
