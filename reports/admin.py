import json

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

import reports.admin_reviews  # noqa: F401  (registers the review queue)
from callouts.admin import ReadOnlyAdmin, ReadOnlyInline
from reports.admin_audit import ReportContentAudit
from reports.admin_forms import (
    AreaForm,
    CirculationPolicyForm,
    PartnerAgencyForm,
    ReferralRuleForm,
    ReportTypeVersionForm,
    ReportTypeVersionFormSet,
    ReviewPolicyForm,
)
from reports.models import (
    Area,
    Attachment,
    CirculationPolicy,
    CirculationRecipient,
    PartnerAgency,
    Referral,
    ReferralDelivery,
    ReferralRule,
    Report,
    ReportType,
    ReportTypeVersion,
    ReportVersion,
    ReviewPolicy,
    ReviewTask,
)
from reports.referral_selectors import overdue_referrals
from reports.report_display import changes_of, grading_of, location_html, shown_fields
from reports.selectors import visible_reports
from reports.services.export import EXPORT_PERMISSION, reports_export
from reports.services.report_types import VersionNotPublishable, type_version_draft, type_version_publish


def pretty_json(value) -> str:
    return format_html('<pre class="muster-pre">{}</pre>',
                       json.dumps(value, indent=2, ensure_ascii=False))


def clock_time(value) -> str:
    """A time as the console shows times: local, 24-hour, to the second."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    form = AreaForm
    list_display = ["code", "name", "kind", "parent", "patrol_unit", "supervisor_unit", "has_boundary"]
    list_filter = ["kind", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent", "patrol_unit", "supervisor_unit"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "patrol_unit", "supervisor_unit"]

    @admin.display(boolean=True, description="boundary")
    def has_boundary(self, area):
        return area.boundary is not None


class ReportTypeVersionInline(admin.StackedInline):
    model = ReportTypeVersion
    form = ReportTypeVersionForm
    formset = ReportTypeVersionFormSet
    extra = 0
    fields = ["number", "schema", "promoted_fields", "grading_field", "summary_fields", "published_at",
              "published_by"]
    readonly_fields = ["published_at", "published_by"]
    ordering = ["-number"]
    show_change_link = True


def message_publish(modeladmin, request, version: ReportTypeVersion) -> None:
    try:
        type_version_publish(version=version, actor=request.user)
    except VersionNotPublishable as error:
        modeladmin.message_user(request, f"{version} not published: {error}", messages.ERROR)
    else:
        modeladmin.message_user(request, f"{version} published.")


@admin.action(description="New draft version (a copy of the latest)", permissions=["change"])
def new_draft_of_type(modeladmin, request, queryset):
    for report_type in queryset:
        draft = type_version_draft(report_type=report_type, actor=request.user)
        modeladmin.message_user(request, f"{draft} created as a draft.")


@admin.action(description="Publish the latest draft version", permissions=["change"])
def publish_latest_draft(modeladmin, request, queryset):
    for report_type in queryset:
        latest = report_type.versions.order_by("-number").first()
        if latest is None or latest.is_published:
            modeladmin.message_user(request, f"{report_type} has no draft version to publish.", messages.WARNING)
        else:
            message_publish(modeladmin, request, latest)


@admin.register(ReportType)
class ReportTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "active", "current_number", "draft_number"]
    list_filter = ["active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ReportTypeVersionInline]
    actions = [new_draft_of_type, publish_latest_draft]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")

    @admin.display(description="published version")
    def current_number(self, report_type):
        published = [v.number for v in report_type.versions.all() if v.is_published]
        return f"v{max(published)}" if published else "-"

    @admin.display(description="draft")
    def draft_number(self, report_type):
        drafts = [v.number for v in report_type.versions.all() if not v.is_published]
        return f"v{max(drafts)}" if drafts else "-"


@admin.action(description="Publish the selected draft versions", permissions=["change"])
def publish_versions(modeladmin, request, queryset):
    for version in queryset.select_related("report_type"):
        if version.is_published:
            modeladmin.message_user(request, f"{version} was already published.", messages.WARNING)
        else:
            message_publish(modeladmin, request, version)


@admin.action(description="New draft version of their types (a copy of the latest)", permissions=["change"])
def new_draft_of_version(modeladmin, request, queryset):
    types = ReportType.objects.filter(pk__in=queryset.values("report_type"))
    new_draft_of_type(modeladmin, request, types)


@admin.register(ReportTypeVersion)
class ReportTypeVersionAdmin(admin.ModelAdmin):
    form = ReportTypeVersionForm
    list_display = ["__str__", "report_type", "number", "published_at", "published_by"]
    list_filter = ["report_type", ("published_at", admin.EmptyFieldListFilter)]
    list_select_related = ["report_type", "published_by"]
    fields = ["report_type", "number", "schema", "promoted_fields", "grading_field", "summary_fields",
              "published_at", "published_by"]
    actions = [publish_versions, new_draft_of_version]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return self.fields
        return ["report_type", "published_at", "published_by"] if obj else ["published_at", "published_by"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False  # reports were, or may have been, filed under it
        return super().has_delete_permission(request, obj)


class ReportVersionInline(ReadOnlyInline):
    model = ReportVersion
    fields = ["number", "created", "author", "reason", "grading", "area", "type_version", "changes"]
    readonly_fields = fields
    verbose_name_plural = "versions, first submitted first"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "area", "type_version__report_type")

    @admin.display(description="when")
    def created(self, version):
        return clock_time(version.created_at)

    @admin.display(description="what changed")
    def changes(self, version):
        """What this version changed from the one before; the page shows the latest content in full above."""
        before = (ReportVersion.objects.select_related("type_version").filter(report_id=version.report_id,
                                                                               number=version.number - 1).first())
        if before is None:
            return "First submitted"
        lines = format_html_join("", "<li><strong>{}</strong>: {} &rarr; {}</li>", changes_of(version, before))
        return format_html('<ul class="muster-bare-list">{}</ul>', lines) if lines else "No field changed"


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["filename", "content_type", "size", "sha256", "uploaded_by", "uploaded"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="uploaded at")
    def uploaded(self, attachment):
        return clock_time(attachment.uploaded_at)


class ReviewInline(ReadOnlyInline):
    model = ReviewTask
    fields = ["version", "state", "opened", "due", "reviewer", "decided", "new_grading", "comment"]
    readonly_fields = fields
    verbose_name_plural = "supervisor reviews"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reviewer")

    @admin.display(description="opened")
    def opened(self, review):
        return clock_time(review.created_at)

    @admin.display(description="due")
    def due(self, review):
        return clock_time(review.due_at)

    @admin.display(description="decided")
    def decided(self, review):
        return clock_time(review.decided_at)


@admin.action(description="Export selected as CSV", permissions=["export"])
def export_selected(modeladmin, request, queryset):
    return csv_download(reports_export(reports=queryset, actor=request.user))


def csv_download(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reports-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response


@admin.register(Report)
class ReportAdmin(ReportContentAudit, ReadOnlyAdmin):
    """Reports are filed and amended from the phone; here they are read, and exported by those allowed to."""

    list_display = ["report_type", "summary", "grading", "area", "author", "state", "submitted_at", "version"]
    list_filter = ["state", "report_type", "grading", ("area", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["report_type", "area", "author"]
    search_fields = ["summary", "author__full_name", "author__badge_number", "area__code"]
    date_hierarchy = "submitted_at"
    fieldsets = [
        (None, {"fields": ["report_type", "author", "area", "location", "captured", "submitted"]}),
        ("Record", {"fields": ["state", "version", "type_version", "received", "id"]}),
    ]
    readonly_fields = ["report_type", "author", "area", "location", "captured", "submitted", "state", "version",
                       "type_version", "received", "id"]
    inlines = [ReportVersionInline, AttachmentInline, ReviewInline]
    actions = [export_selected]
    audit_via = "report"

    def get_queryset(self, request):
        return visible_reports(request.user).select_related("report_type", "type_version", "area", "author")

    def shown_report(self, report):
        return report, report.version

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("export/", view(self.export_view), name="reports_report_export"), *super().get_urls()]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def export_view(self, request):
        """The reports the list shows with the same filters and search, as CSV."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect(reverse("admin:reports_report_changelist") + "?e=1")
        return csv_download(reports_export(reports=changelist.queryset, actor=request.user))

    def changelist_view(self, request, extra_context=None):
        extra = {"can_export": self.has_export_permission(request)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, unquote(object_id))
        if report is not None and self.has_view_permission(request, report):
            extra_context = {**(extra_context or {}), **related_context(report)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="location")
    def location(self, report):
        return location_html(report)

    @admin.display(description="captured on the phone")
    def captured(self, report):
        return clock_time(report.captured_at)

    @admin.display(description="submitted")
    def submitted(self, report):
        return clock_time(report.submitted_at)

    @admin.display(description="received by the server")
    def received(self, report):
        return clock_time(report.received_at)


def related_context(report: Report) -> dict:
    recipients = CirculationRecipient.objects.select_related("person").order_by("id")
    deliveries = ReferralDelivery.objects.prefetch_related("attempt_log")
    grading = grading_of(report.type_version, report.grading)
    leave_out = (report.type_version.grading_field,) if grading else ()
    return {
        "grading": grading,
        "report_fields": shown_fields(report.type_version, report.data, leave_out=leave_out),
        "circulations": report.circulations.prefetch_related(Prefetch("recipients", queryset=recipients)),
        "referrals": report.referrals.select_related("agency", "rule").prefetch_related(
            Prefetch("deliveries", queryset=deliveries)),
    }


@admin.register(PartnerAgency)
class PartnerAgencyAdmin(admin.ModelAdmin):
    form = PartnerAgencyForm
    list_display = ["name", "email", "webhook_url", "secret", "active"]
    list_filter = ["active"]
    search_fields = ["name", "email"]

    @admin.display(description="webhook secret")
    def secret(self, agency):
        return "set (hidden)" if agency.webhook_secret else "-"


@admin.register(ReferralRule)
class ReferralRuleAdmin(admin.ModelAdmin):
    form = ReferralRuleForm
    list_display = ["name", "report_type", "agency", "priority", "act_within_minutes", "active"]
    list_filter = ["active", "report_type", "agency", "priority"]
    list_select_related = ["report_type", "agency"]
    search_fields = ["name", "agency__name"]


class OverdueFilter(admin.SimpleListFilter):
    title = "acknowledgement"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue acknowledgement")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue_referrals().values("pk"))
        return queryset


class ReferralDeliveryInline(ReadOnlyInline):
    model = ReferralDelivery
    fields = ["channel", "address", "state", "attempts", "due_at", "delivered_at", "error", "attempt_lines"]
    readonly_fields = fields
    verbose_name_plural = "deliveries and every attempt"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("attempt_log")

    @admin.display(description="attempts")
    def attempt_lines(self, delivery):
        lines = format_html_join(
            "", "<li>{}. {} {} {} {}</li>",
            ((a.number, a.at.strftime("%Y-%m-%d %H:%M:%S"), "ok" if a.ok else "failed", a.status, a.detail)
             for a in delivery.attempt_log.all()),
        )
        return format_html('<ul class="muster-bare-list">{}</ul>', lines) if lines else "-"


@admin.register(Referral)
class ReferralAdmin(ReportContentAudit, ReadOnlyAdmin):
    list_display = ["report_link", "agency", "kind", "priority", "created_at", "act_by", "acknowledged_at",
                    "acknowledged_by"]
    list_filter = [OverdueFilter, "agency", "kind", "priority"]
    list_select_related = ["report__report_type", "agency"]
    search_fields = ["agency__name", "report__summary", "acknowledged_by"]
    fields = ["report_link", "version", "kind", "rule", "agency", "priority", "created_at", "act_by",
              "acknowledged_at", "acknowledged_by", "sent"]
    readonly_fields = fields
    inlines = [ReferralDeliveryInline]
    audit_via = "referral"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(report__in=visible_reports(request.user).values("pk"))

    def shown_report(self, referral):
        return referral.report, referral.version  # what was sent, from the version it was made of

    def listed_report(self, referral):
        return referral.report, referral.report.version  # the list names the report by its summary as it is now

    def changelist_view(self, request, extra_context=None):
        overdue = self.get_queryset(request).filter(pk__in=overdue_referrals().values("pk")).count()
        return super().changelist_view(request, {**(extra_context or {}), "overdue_count": overdue})

    @admin.display(description="report", ordering="report__submitted_at")
    def report_link(self, referral):
        url = reverse("admin:reports_report_change", args=[referral.report_id])
        return format_html('<a href="{}">{}</a>', url, referral.report)

    @admin.display(description="what was sent")
    def sent(self, referral):
        return pretty_json(referral.payload)


@admin.register(CirculationPolicy)
class CirculationPolicyAdmin(admin.ModelAdmin):
    form = CirculationPolicyForm
    list_display = ["report_type", "grading", "reach"]
    list_filter = ["report_type", "reach"]
    list_select_related = ["report_type"]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(admin.ModelAdmin):
    form = ReviewPolicyForm
    list_display = ["report_type", "grading", "within_minutes"]
    list_filter = ["report_type"]
    list_select_related = ["report_type"]
