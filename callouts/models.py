from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q

from callouts.need import QUALIFICATION, ROLE, Need, Requirement
from callouts.policy import PolicySnapshot
from units.models import ContactMethod, Membership, Person, Qualification, Tier, Unit


class Heartbeat(models.Model):
    """Last time a process proved it was alive, by the database's clock; timers and deliveries need beat and a
    worker both. A worker's sweep also records how far its own clock is from the database's."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()
    clock_skew = models.FloatField(default=0, help_text="Seconds this process's clock was ahead of the database's.")

    def __str__(self):
        return f"{self.name} at {self.beat_at:%H:%M:%S}"


class EscalationPolicy(models.Model):
    """How a unit's callout moves from list to list; snapshotted into every callout at launch."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="escalation_policy")
    wait_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Minutes to wait on a list before alerting the next, unless set per list below."
    )
    quorum = models.PositiveSmallIntegerField(default=1, help_text="Accepts needed to fill a callout.")
    move_on_when_hopeless = models.BooleanField(
        default=True, help_text="Alert the next list at once when this list can no longer meet the need."
    )
    repeat_count = models.PositiveSmallIntegerField(
        default=0, help_text="Times to start again from the first list when every list is exhausted."
    )
    fallback_to_operators = models.BooleanField(
        default=True, help_text="When all lists are exhausted, alert the duty operators on screen and by phone."
    )

    class Meta:
        verbose_name_plural = "escalation policies"
        constraints = [models.CheckConstraint(condition=Q(quorum__gte=1), name="policy_quorum_positive")]

    def __str__(self):
        return f"Escalation policy of {self.unit}"

    @classmethod
    def for_unit(cls, unit: Unit) -> "EscalationPolicy":
        """The unit's policy with its requirements and waits; without one, an unsaved policy of the defaults."""
        requirements = NeedRequirement.objects.select_related("qualification").order_by("id")
        policy = (cls.objects.filter(unit=unit).select_related("unit")
                  .prefetch_related(Prefetch("requirements", queryset=requirements), "tier_waits__tier").first())
        return policy or cls(unit=unit)

    def need(self) -> Need:
        """What fills the unit's callouts unless a launch asks otherwise: the one place this need is built, for the
        launch form's initial values, a launch without a need, and the policy list."""
        rows = self.requirements.all() if self.pk else []
        return Need(quorum=self.quorum, requirements=tuple(
            Requirement(kind=ROLE, code=row.role, count=row.count) if row.role
            else Requirement(kind=QUALIFICATION, code=row.qualification.code, count=row.count)
            for row in rows
        ))

    def snapshot(self) -> PolicySnapshot:
        """The waits, moves and fallback a callout launched now runs on."""
        default_wait = self.wait_minutes * 60
        waits = {tier.position: default_wait for tier in self.unit.tiers.all()}
        for tier_wait in self.tier_waits.all() if self.pk else []:
            waits[tier_wait.tier.position] = tier_wait.wait_minutes * 60
        return PolicySnapshot(waits=waits, default_wait=default_wait, move_on_when_hopeless=self.move_on_when_hopeless,
                              repeat_count=self.repeat_count, fallback_to_operators=self.fallback_to_operators)


class TierWait(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="tier_waits")
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="+")
    wait_minutes = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "tier"], name="tier_wait_unique")]

    def __str__(self):
        return f"{self.tier}: {self.wait_minutes} min"

    def clean(self):
        if self.tier_id and self.policy_id and self.tier.unit_id != self.policy.unit_id:
            raise ValidationError({"tier": "This list belongs to another unit."})


class NeedRequirement(models.Model):
    """Part of a filled callout: at least ``count`` accepts with this role or qualification."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="requirements")
    role = models.CharField(max_length=20, choices=Membership.Role.choices, blank=True)
    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, null=True, blank=True)
    count = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="") & Q(qualification__isnull=False))
                | (~Q(role="") & Q(qualification__isnull=True)),
                name="need_role_xor_qualification",
            ),
        ]

    def __str__(self):
        return f"{self.count} × {self.get_role_display() or self.qualification}"

    def clean(self):
        if bool(self.role) == bool(self.qualification_id):
            raise ValidationError("Choose either a role or a qualification.")


class Callout(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        FILLED = "filled", "Filled"
        EXHAUSTED = "exhausted", "Exhausted"
        CANCELLED = "cancelled", "Cancelled"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        URGENT = "urgent", "Urgent"
        HIGH = "high", "High"
        NORMAL = "normal", "Normal"

    class KeyOrigin(models.TextChoices):
        API = "api", "API (Idempotency-Key header)"
        ADMIN = "admin", "Admin launch form"

    OPEN_STATES = (State.ACTIVE, State.FILLED, State.EXHAUSTED)

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="callouts")
    message = models.TextField()
    incident_ref = models.CharField("incident reference", max_length=60, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.URGENT)
    need = models.JSONField(help_text="Frozen at launch: quorum and required roles/qualifications (Need.to_json; "
                            "read it as frozen_need).")
    policy = models.JSONField(help_text="Frozen at launch: waits per list, move-on, repeats, fallback "
                              "(PolicySnapshot.to_json; read it as frozen_policy).")
    launched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    launched_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    outcome = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    current_tier = models.PositiveSmallIntegerField(default=0, help_text="Position of the list alerted last.")
    round = models.PositiveSmallIntegerField(default=1)
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)
    exercise = models.BooleanField(default=False, help_text="A drill: kept out of statistics.")
    # A key means something only to whoever sent it, and only where they sent it: it is unique per login and
    # origin, so neither another login's key nor a key typed into the admin's form reaches this callout.
    idempotency_key = models.CharField(max_length=100, blank=True,
                                       help_text="As the caller sent it; unique per login and origin.")
    idempotency_origin = models.CharField(max_length=10, choices=KeyOrigin.choices, blank=True)
    idempotency_fingerprint = models.CharField(
        max_length=64, blank=True,
        help_text="SHA-256 of the launch request the key came with; a retry must match it. Empty for callouts "
        "launched before fingerprints were kept.",
    )

    class Meta:
        ordering = ["-launched_at"]
        permissions = [("launch_callout", "Can launch callouts and act on them")]
        indexes = [models.Index(fields=["state", "escalate_at"], name="callout_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(escalate_at__isnull=True) | Q(state="active"), name="callout_timer_only_when_active"
            ),
            models.UniqueConstraint(fields=["launched_by", "idempotency_origin", "idempotency_key"],
                                    condition=~Q(idempotency_key=""), name="callout_key_once_per_caller"),
            models.CheckConstraint(
                condition=Q(idempotency_key="", idempotency_origin="")
                | (~Q(idempotency_key="") & ~Q(idempotency_origin="")),
                name="callout_key_has_its_origin",
            ),
        ]

    def __str__(self):
        return f"{self.unit.code}: {self.incident_ref or self.message[:40]}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def frozen_need(self) -> Need:
        return Need.from_json(self.need)

    @property
    def frozen_policy(self) -> PolicySnapshot:
        return PolicySnapshot.from_json(self.policy)


class Recipient(models.Model):
    """A person frozen onto a callout at launch, with the list and the reasons that put them there."""

    class Response(models.TextChoices):
        NONE = "none", "No answer"
        ACCEPT = "accept", "Accepted"
        DECLINE = "decline", "Declined"

    callout = models.ForeignKey(Callout, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="callout_recipients")
    tier_position = models.PositiveSmallIntegerField()
    tier_name = models.CharField(max_length=60)
    reasons = models.JSONField(default=list)
    role = models.CharField(max_length=20, blank=True)
    qualifications = models.JSONField(default=list)
    notified_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(max_length=10, choices=Response.choices, default=Response.NONE)
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    response_channel = models.CharField(max_length=10, blank=True)
    added_by_operator = models.BooleanField(
        default=False, help_text="Added by hand: alerted until they answer or the callout ends, even once filled."
    )
    stood_down_at = models.DateTimeField(
        null=True, blank=True, help_text="When this person, having accepted, was last told to stand down."
    )

    class Meta:
        ordering = ["callout", "tier_position", "id"]
        constraints = [models.UniqueConstraint(fields=["callout", "person"], name="recipient_once_per_callout")]

    def __str__(self):
        return f"{self.person} on {self.callout}"

    @property
    def stood_down(self) -> bool:
        """Told to stand down since their latest answer: an accept given after a stand-down stands again."""
        return self.stood_down_at is not None and (self.responded_at is None or self.stood_down_at >= self.responded_at)


class ResponseRecord(models.Model):
    """Every answer ever given, in order; the recipient row holds only the latest."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="history")
    response = models.CharField(max_length=10, choices=Recipient.Response.choices)
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=10)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["recipient", "at", "id"]

    def __str__(self):
        return f"{self.recipient.person}: {self.response} by {self.channel}"


class InboundReply(models.Model):
    """A text someone sent back to an alert, as it came: the live page shows the operator those the system could
    not understand (the sender was only sent the help text)."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="inbound_replies")
    channel = models.CharField(max_length=10)
    body = models.CharField(max_length=1600)  # Twilio's longest message
    understood = models.BooleanField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name_plural = "inbound replies"

    def __str__(self):
        return f"{self.recipient.person} by {self.channel}: {self.body[:40]}"


class Delivery(models.Model):
    """One message to one address; its state only moves forward (GoAlert's outgoing-message machine)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        ALERT = "alert", "Alert"
        UPDATE = "update", "Update"
        NOTICE = "notice", "Notice"

    FINAL_STATES = (State.DELIVERED, State.FAILED, State.CANCELLED)
    LIVE_STATES = (State.PENDING, State.SENDING, State.SENT, State.DELIVERED)

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="deliveries", null=True,
                                  blank=True, help_text="The callout recipient; empty for a notice.")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="notices", null=True, blank=True,
                               help_text="Whom a notice is for; empty for a callout's messages.")
    topic = models.CharField(max_length=60, blank=True, db_index=True,
                             help_text="What a notice is about, e.g. circulation:12; empty for a callout's messages.")
    # A real link rather than the topic's text, so the admin can scope a notice by the report's own selector
    # (reports.selectors.visible_reports) in SQL, whatever form a topic takes.
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, related_name="notices", null=True,
                               blank=True, help_text="The report a notice carries content of; only those who may "
                               "see the report see the notice.")
    report_version = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="The version of the report the notice tells of.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ALERT)
    round = models.PositiveSmallIntegerField(default=1)
    sequence = models.PositiveSmallIntegerField(default=0, help_text="Which update this is; 0 for the alert.")
    channel = models.CharField(max_length=10, choices=ContactMethod.Kind.choices)
    address = models.CharField(max_length=500)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(help_text="When to send, or to try again after a temporary failure.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="Queued for a worker until then.")
    send_deadline = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=100, blank=True, db_index=True)
    error_code = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["state", "due_at"], name="delivery_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "round", "sequence", "channel", "address"], name="delivery_once"
            ),
            models.UniqueConstraint(fields=["person", "topic", "channel", "address"],
                                    condition=models.Q(recipient__isnull=True), name="notice_once"),
            models.CheckConstraint(condition=Q(channel__in=ContactMethod.Kind.values), name="delivery_known_channel"),
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False, kind__in=["alert", "update"])
                | models.Q(recipient__isnull=True, kind="notice", person__isnull=False),
                name="delivery_for_recipient_or_notice",
            ),
            models.CheckConstraint(condition=models.Q(report__isnull=True) | models.Q(recipient__isnull=True),
                                   name="report_only_on_notices"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.address}: {self.state}"

    @property
    def addressee(self):
        return self.recipient.person if self.recipient_id else self.person


class RecordedMessage(models.Model):
    """What the recording channel would have sent: the outbox of the demo and the tests."""

    delivery = models.ForeignKey(Delivery, on_delete=models.SET_NULL, null=True, related_name="recorded")
    channel = models.CharField(max_length=10, choices=ContactMethod.Kind.choices)
    to = models.CharField(max_length=500)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.to}"
