"""Field reports: versioned report types, reports and their versions, areas, circulation, referrals, reviews."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from config.outbound import url_problem, webhook_policy
from units.models import Person, Unit


class Area(models.Model):
    """A sector or beat. Who patrols it and who supervises it come from the rotas of two units."""

    class Kind(models.TextChoices):
        SECTOR = "sector", "Sector"
        BEAT = "beat", "Beat"

    code = models.SlugField(max_length=40, unique=True, help_text="Short code an officer can pick on the phone.")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BEAT)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               help_text="The sector a beat belongs to.")
    boundary = models.JSONField(
        null=True, blank=True,
        help_text="GeoJSON Polygon or MultiPolygon (longitude, latitude); a report's location finds its area by it.",
    )
    patrol_unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="patrolled_areas",
        help_text="The officers on this unit's primary list are the patrols on duty in this area.",
    )
    supervisor_unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="supervised_areas",
        help_text="This unit's members supervise the area; its primary list is the duty supervisor.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def clean(self):
        if self.boundary is not None:
            from reports.areas import boundary_error

            if error := boundary_error(self.boundary):
                raise ValidationError({"boundary": error})
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": "An area cannot be inside itself."})
            ancestor = ancestor.parent


class ReportType(models.Model):
    """A kind of report (missing person, welfare concern, ...); its fields live in published versions."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True, help_text="Inactive types cannot be used for new reports.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def current_version(self):
        return self.versions.filter(published_at__isnull=False).order_by("-number").first()


# What a published version promises the phones and the reports filed under it.
PUBLISHED_FIELDS = ("schema", "promoted_fields", "grading_field", "summary_fields")


class ReportTypeVersion(models.Model):
    """One version of a report type's form. A published version never changes; publish a new one instead."""

    report_type = models.ForeignKey(ReportType, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    schema = models.JSONField(help_text="JSON Schema (draft 2020-12) of the report's fields, with titles and help.")
    promoted_fields = models.JSONField(
        default=list, blank=True, help_text="Fields copied onto the report for search and listing, e.g. name, age.",
    )
    grading_field = models.CharField(max_length=60, blank=True,
                                     help_text="The field holding the risk grading, if the type has one.")
    summary_fields = models.JSONField(default=list, blank=True,
                                      help_text="Fields that make up the one-line summary circulated to patrols.")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta:
        ordering = ["report_type", "-number"]
        constraints = [models.UniqueConstraint(fields=["report_type", "number"], name="report_type_version_once")]

    def __str__(self):
        return f"{self.report_type} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = ReportTypeVersion.objects.filter(pk=self.pk, published_at__isnull=False).values(
                "number", *PUBLISHED_FIELDS).first()
            if stored and any(stored[name] != getattr(self, name) for name in stored):
                raise ValidationError("A published version never changes: publish a new version instead.")
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Report(models.Model):
    """A report, identified by the UUID its device generated. Its content is the latest version's."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False,
                          help_text="Generated by the device, so a retried submission is recognised.")
    report_type = models.ForeignKey(ReportType, on_delete=models.PROTECT, related_name="reports")
    type_version = models.ForeignKey(ReportTypeVersion, on_delete=models.PROTECT, related_name="reports")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="reports")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    data = models.JSONField(default=dict, help_text="The fields, as the type version's schema describes them.")
    promoted = models.JSONField(default=dict, blank=True, help_text="The type's promoted fields, for search.")
    grading = models.CharField(max_length=40, blank=True, db_index=True)
    summary = models.CharField(max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(null=True, blank=True, help_text="Location accuracy in metres.")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="reports")
    captured_at = models.DateTimeField(null=True, blank=True, help_text="The device's clock when it was taken.")
    received_at = models.DateTimeField(auto_now_add=True, help_text="When the server first received it.")
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0, help_text="The latest submitted version; 0 for a draft.")
    content_hash = models.CharField(max_length=64, blank=True,
                                    help_text="SHA-256 of what was submitted, to recognise a retried submission.")

    class Meta:
        ordering = ["-received_at"]
        permissions = [("export_report", "Can export reports as CSV")]
        indexes = [models.Index(fields=["state", "-submitted_at"], name="report_submitted_idx")]

    def __str__(self):
        return f"{self.report_type}: {self.summary or self.id}"


class ReportVersion(models.Model):
    """What was submitted, and each amendment after it; never changed once written."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    type_version = models.ForeignKey(ReportTypeVersion, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField()
    grading = models.CharField(max_length=40, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was amended; empty for the first.")
    created_at = models.DateTimeField()
    processed_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When circulation, referrals and review were set up for it; the sweep finishes any left undone.",
    )

    class Meta:
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="report_version_once")]
        indexes = [models.Index(fields=["processed_at"], name="report_version_unprocessed",
                                condition=models.Q(processed_at__isnull=True))]

    def __str__(self):
        return f"{self.report} v{self.number}"


def attachment_path(attachment, filename: str) -> str:
    return f"reports/{attachment.report_id}/{attachment.sha256}"


class Attachment(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "uploaded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "sha256"], name="attachment_once")]

    def __str__(self):
        return self.filename


class CirculationPolicy(models.Model):
    """Who a report is circulated to, by type and grading. With no policy, the area's patrols and supervisors."""

    class Reach(models.TextChoices):
        NONE = "none", "Nobody"
        SUPERVISORS = "supervisors", "The area's duty supervisors"
        AREA = "area", "Patrols on duty in the area, and its duty supervisors"
        SECTOR = "sector", "Patrols on duty in the whole sector, and its duty supervisors"

    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="circulation_policies")
    grading = models.CharField(max_length=40, blank=True, help_text="Empty: any grading without its own policy.")
    reach = models.CharField(max_length=12, choices=Reach.choices, default=Reach.AREA)

    class Meta:
        ordering = ["report_type", "grading"]
        verbose_name_plural = "circulation policies"
        constraints = [models.UniqueConstraint(fields=["report_type", "grading"], name="circulation_policy_once")]

    def __str__(self):
        return f"{self.report_type} {self.grading or 'any grading'}: {self.get_reach_display()}"


class Circulation(models.Model):
    """A report version sent to the patrols and supervisors of its area."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="circulations")
    version = models.PositiveIntegerField()
    area = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reach = models.CharField(max_length=12, choices=CirculationPolicy.Reach.choices)
    summary = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["report", "version"], name="circulation_once")]

    def __str__(self):
        return f"Circulation of {self.report} v{self.version}"


class CirculationRecipient(models.Model):
    class Reason(models.TextChoices):
        PATROL = "patrol", "On patrol in the area"
        SUPERVISOR = "supervisor", "Duty supervisor"

    circulation = models.ForeignKey(Circulation, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="circulations_received")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["circulation", "id"]
        constraints = [models.UniqueConstraint(fields=["circulation", "person"], name="circulated_once")]

    def __str__(self):
        return f"{self.person}: {self.circulation}"

    @property
    def topic(self) -> str:
        return f"circulation:{self.pk}"


class PartnerAgency(models.Model):
    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True, help_text="Referrals are emailed here, if set.")
    webhook_url = models.URLField(blank=True, help_text="HTTPS address referrals are posted to, if set.")
    webhook_secret = models.CharField(max_length=128, blank=True,
                                      help_text="Shared secret for the X-Muster-Signature HMAC-SHA256 header.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "partner agencies"

    def __str__(self):
        return self.name

    def clean(self):
        if not self.email and not self.webhook_url:
            raise ValidationError("Give an email address, a webhook address, or both.")
        if self.webhook_url and not self.webhook_secret:
            raise ValidationError({"webhook_secret": "A webhook needs a shared secret to sign with."})
        # The form also looks the host up; sending checks the address it connects to (config.outbound).
        if self.webhook_url and (problem := url_problem(self.webhook_url, webhook_policy())):
            raise ValidationError({"webhook_url": problem})


class ReferralRule(models.Model):
    """When a report of this type matches the condition, the agency is sent the chosen fields."""

    class Priority(models.TextChoices):
        URGENT = "urgent", "Urgent"
        HIGH = "high", "High"
        ROUTINE = "routine", "Routine"

    name = models.CharField(max_length=120)
    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="referral_rules")
    condition = models.JSONField(
        default=list, blank=True,
        help_text='All must hold, e.g. [{"field": "grading", "op": "in", "value": ["high", "medium"]}, '
                  '{"field": "age", "op": "lt", "value": 18}]; empty matches every report.',
    )
    agency = models.ForeignKey(PartnerAgency, on_delete=models.PROTECT, related_name="rules")
    shared_fields = models.JSONField(default=list, help_text="The report's fields the agency receives.")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.HIGH)
    act_within_minutes = models.PositiveIntegerField(default=60, help_text="How soon the agency must acknowledge.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["report_type", "name"]

    def __str__(self):
        return f"{self.name} → {self.agency}"

    def clean(self):
        from reports.conditions import condition_error

        if error := condition_error(self.condition):
            raise ValidationError({"condition": error})
        if not isinstance(self.shared_fields, list) or not all(isinstance(f, str) for f in self.shared_fields):
            raise ValidationError({"shared_fields": "A list of field names."})


class Referral(models.Model):
    """What one agency was sent about one report version: the payload is frozen when it is made."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Referral"
        UPDATE = "update", "Update after an amendment"

    rule = models.ForeignKey(ReferralRule, on_delete=models.PROTECT, related_name="referrals")
    agency = models.ForeignKey(PartnerAgency, on_delete=models.PROTECT, related_name="referrals")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="referrals")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INITIAL)
    priority = models.CharField(max_length=10, choices=ReferralRule.Priority.choices)
    payload = models.JSONField(help_text="Exactly what the agency was sent; never changed.")
    created_at = models.DateTimeField()
    act_by = models.DateTimeField(help_text="When the agency must have acknowledged it.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "report", "version"], name="referral_once")]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.report} to {self.agency}"


class ReferralDelivery(models.Model):
    """One way a referral goes to its agency (email or webhook); its state only moves forward."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField()
    send_deadline = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["referral", "channel"]
        verbose_name_plural = "referral deliveries"
        constraints = [models.UniqueConstraint(fields=["referral", "channel"], name="referral_delivery_once")]
        indexes = [models.Index(fields=["state", "due_at"], name="referral_delivery_due_idx")]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.address}: {self.state}"


class ReferralAttempt(models.Model):
    """Every attempt to deliver a referral, successful or not."""

    delivery = models.ForeignKey(ReferralDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    ok = models.BooleanField()
    status = models.CharField(max_length=40, blank=True, help_text="SMTP reply code or HTTP status.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"Attempt {self.number}: {'ok' if self.ok else 'failed'}"


class ReviewPolicy(models.Model):
    """How soon a supervisor must review a report of this type and grading."""

    report_type = models.ForeignKey(ReportType, on_delete=models.CASCADE, related_name="review_policies")
    grading = models.CharField(max_length=40, blank=True, help_text="Empty: any grading without its own policy.")
    within_minutes = models.PositiveIntegerField(help_text="Review due this long after submission.")

    class Meta:
        ordering = ["report_type", "grading"]
        verbose_name_plural = "review policies"
        constraints = [models.UniqueConstraint(fields=["report_type", "grading"], name="review_policy_once")]

    def __str__(self):
        return f"{self.report_type} {self.grading or 'any grading'}: within {self.within_minutes} min"


class ReviewTask(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Awaiting review"
        APPROVED = "approved", "Approved"
        REGRADED = "regraded", "Re-graded"
        RETURNED = "returned", "Returned to the author"

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="reviews")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    new_grading = models.CharField(max_length=40, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "version"], name="review_once")]

    def __str__(self):
        return f"Review of {self.report} v{self.version}"
