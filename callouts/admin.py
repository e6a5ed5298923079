from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from callouts import admin_after_action, admin_views
from callouts.clock import db_now
from callouts.live import with_counts
from callouts.models import (
    Callout,
    Delivery,
    EscalationPolicy,
    NeedRequirement,
    Recipient,
    RecordedMessage,
    ResponseRecord,
    TierWait,
)
from callouts.need import QUALIFICATION, ROLE, Need, Requirement
from callouts.selectors import OVERDUE_GRACE
from callouts.times import console_date_time
from reports.admin_audit import ReportContentAudit
from reports.selectors import visible_deliveries, visible_recorded_messages
from units.models import Tier


def state_badge(callout: Callout) -> str:
    # Coloured by callouts/console.css: the Content-Security-Policy refuses style attributes.
    return format_html('<strong class="callout-state callout-state-{}">{}</strong>',
                       callout.state, callout.get_state_display())


def overdue_badge(callout: Callout) -> str:
    return format_html('<strong class="callout-overdue" title="{}">Overdue</strong>',
                       "Its escalation has not fired: the timers may have stopped. Phone round.")


def live_link(callout: Callout, text: str) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:callouts_callout_live", args=[callout.pk]), text)


class TierWaitInline(admin.TabularInline):
    model = TierWait
    extra = 0
    verbose_name = "wait on a list"
    verbose_name_plural = "waits per list (lists not named here use the wait above)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if "tier" in formset.form.base_fields:
            formset.form.base_fields["tier"].queryset = Tier.objects.filter(unit=obj.unit)
        return formset


class NeedRequirementFormSet(BaseInlineFormSet):
    """The policy's requirements must make a need a launch can ask for: none above the quorum, none twice."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        need = Need(quorum=self.instance.quorum, requirements=tuple(
            Requirement(kind=ROLE, code=row["role"], count=row["count"]) if row.get("role")
            else Requirement(kind=QUALIFICATION, code=row["qualification"].code, count=row["count"])
            for row in rows
        ))
        if problems := need.problems():
            raise ValidationError(problems)


class NeedRequirementInline(admin.TabularInline):
    model = NeedRequirement
    formset = NeedRequirementFormSet
    extra = 0
    verbose_name = "required role or qualification"
    verbose_name_plural = "required roles and qualifications among the accepts"


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["unit", "wait_minutes", "list_waits", "need", "move_on_when_hopeless", "repeat_count",
                    "fallback_to_operators"]
    list_select_related = ["unit"]
    search_fields = ["unit__name", "unit__code"]
    autocomplete_fields = ["unit"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tier_waits__tier", "requirements__qualification")

    def get_inlines(self, request, obj):
        # Waits per list need the unit's lists, so they are offered once the policy is saved.
        return [TierWaitInline, NeedRequirementInline] if obj else [NeedRequirementInline]

    def get_readonly_fields(self, request, obj=None):
        return ["unit"] if obj else []

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("unit/<int:unit_id>/", view(admin_views.policy_of_unit), name="callouts_escalationpolicy_unit"),
            *super().get_urls(),
        ]

    @admin.display(description="waits per list")
    def list_waits(self, policy):
        return ", ".join(f"{w.tier.name} {w.wait_minutes} min" for w in policy.tier_waits.all()) or "-"

    @admin.display(description="need")
    def need(self, policy):
        return policy.need().describe()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators inspect who was alerted and how; the audit trail is never edited or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Callout)
class CalloutAdmin(ReadOnlyAdmin):
    """The list of callouts; each opens on its live page, since callouts change only through actions."""

    # Few, stacked columns: the list fits a 1400-pixel screen beside the admin's menu and the filters.
    list_display = ["callout", "state_badge", "current_list", "answers", "launched"]
    list_display_links = None
    list_filter = ["state", ("unit", admin.RelatedOnlyFieldListFilter), "exercise"]
    list_select_related = ["unit", "launched_by"]
    search_fields = ["incident_ref", "message", "unit__name", "unit__code"]
    actions = None

    def get_queryset(self, request):
        # Exhausted and overdue callouts first, in red, until someone acts on them; by the database's clock, as
        # the watchdog judges "overdue".
        overdue = Q(state=Callout.State.ACTIVE, escalate_at__lt=db_now() - OVERDUE_GRACE)
        return with_counts(Callout.objects.all()).annotate(
            overdue=Case(When(overdue, then=Value(True)), default=Value(False), output_field=BooleanField()),
            attention_first=Case(When(Q(state=Callout.State.EXHAUSTED) | overdue, then=Value(0)), default=Value(1),
                                 output_field=IntegerField()),
        )

    def get_ordering(self, request):
        return ["open_first", "attention_first", "-launched_at"]

    def get_urls(self):
        view = self.admin_site.admin_view
        views = admin_views
        return [
            path("launch/", view(views.launch), name="callouts_callout_launch"),
            path("<int:callout_id>/live/", view(views.live), name="callouts_callout_live"),
            path("<int:callout_id>/live.json", view(views.live_json), name="callouts_callout_live_json"),
            path("<int:callout_id>/escalate/", view(views.escalate_now), name="callouts_callout_escalate"),
            path("<int:callout_id>/add-people/", view(views.add_people), name="callouts_callout_add_people"),
            path("<int:callout_id>/resend/", view(views.resend), name="callouts_callout_resend"),
            path("<int:callout_id>/update/", view(views.send_update), name="callouts_callout_update"),
            path("<int:callout_id>/stand-down/", view(views.stand_down), name="callouts_callout_stand_down"),
            path("<int:callout_id>/cancel/", view(views.cancel), name="callouts_callout_cancel"),
            path("<int:callout_id>/close/", view(views.close), name="callouts_callout_close"),
            path("<int:callout_id>/after-action/", view(admin_after_action.after_action),
                 name="callouts_callout_after_action"),
            path("<int:callout_id>/after-action.csv", view(admin_after_action.after_action_export),
                 name="callouts_callout_after_action_csv"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not object_id.isdigit():
            raise Http404
        return redirect("admin:callouts_callout_live", int(object_id))

    @admin.display(description="callout", ordering="incident_ref")
    def callout(self, callout):
        exercise = format_html(' <strong class="callout-exercise">Exercise</strong>') if callout.exercise else ""
        return format_html('{}{}<div class="callout-quiet">{}</div>',
                           live_link(callout, callout.incident_ref or callout.message[:40]), exercise, callout.unit)

    @admin.display(description="state", ordering="state")
    def state_badge(self, callout):
        if callout.overdue:
            return format_html("{}{}", state_badge(callout), overdue_badge(callout))
        return state_badge(callout)

    @admin.display(description="launched", ordering="launched_at")
    def launched(self, callout):
        return format_html('{}<div class="callout-quiet">by {}</div>',
                           console_date_time(callout.launched_at, callout.unit), callout.launched_by)

    @admin.display(description="answers", ordering="accepted")
    def answers(self, callout):
        return format_html('<span class="answer-count">{} accepted</span> <span class="answer-count">{} declined'
                           '</span> <span class="answer-count">{} not answered</span>',
                           callout.accepted, callout.declined, callout.silent)

    @admin.display(description="list alerted")
    def current_list(self, callout):
        if not callout.current_list:
            return "-"
        return f"{callout.current_list} (round {callout.round})" if callout.round > 1 else callout.current_list


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ResponseRecordInline(ReadOnlyInline):
    model = ResponseRecord
    fields = ["at", "response", "eta_minutes", "note", "channel", "actor"]
    verbose_name_plural = "answers, oldest first"


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ["channel", "kind", "round", "address", "state", "due_at", "sent_at", "attempts", "error"]


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["person", "callout_link", "tier_name", "notified_at", "response", "eta_minutes",
                    "response_channel", "responded_at"]
    list_filter = ["response", "response_channel"]
    list_select_related = ["person", "callout__unit"]
    search_fields = ["person__full_name", "person__badge_number", "callout__incident_ref"]
    inlines = [ResponseRecordInline, DeliveryInline]

    @admin.display(description="callout", ordering="callout")
    def callout_link(self, recipient):
        return live_link(recipient.callout, recipient.callout)


def report_link(report_id, version) -> str:
    """A notice's report by its id (never its summary, so the list of deliveries quotes no report)."""
    url = reverse("admin:reports_report_change", args=[report_id])
    return format_html('<a href="{}">report {}… v{}</a>', url, str(report_id)[:8], version)


@admin.register(Delivery)
class DeliveryAdmin(ReportContentAudit, ReadOnlyAdmin):
    """Every message sent or to send. A notice quotes a report (its subject and body), so it is listed only to
    those who may see that report, and opening one is audited like opening the report."""

    list_display = ["addressee", "callout_link", "channel", "kind", "address", "state", "due_at", "sent_at",
                    "attempts", "error_code"]
    list_filter = ["state", "channel", "kind"]
    list_select_related = ["recipient__person", "recipient__callout__unit", "person"]
    search_fields = ["address", "provider_message_id", "recipient__person__full_name"]
    audit_via = "delivery"

    def get_queryset(self, request):
        return visible_deliveries(request.user)

    def shown_report(self, delivery):
        return (delivery.report_id, delivery.report_version) if delivery.report_id else None

    def listed_report(self, delivery):
        return None  # the list shows no subject or body

    @admin.display(description="person", ordering="recipient__person__full_name")
    def addressee(self, delivery):
        return delivery.addressee

    @admin.display(description="callout or report", ordering="recipient__callout")
    def callout_link(self, delivery):
        if delivery.report_id is not None:
            return report_link(delivery.report_id, delivery.report_version)
        if delivery.recipient_id is None:
            return delivery.topic
        return live_link(delivery.recipient.callout, delivery.recipient.callout)


@admin.register(RecordedMessage)
class RecordedMessageAdmin(ReportContentAudit, ReadOnlyAdmin):
    """What the recording channel would have sent, under the same rule as the deliveries: a message quoting a
    report is listed only to those who may see it, and every page that shows one is audited."""

    list_display = ["created_at", "channel", "to", "subject"]
    list_filter = ["channel"]
    list_select_related = ["delivery"]
    search_fields = ["to", "subject", "body"]
    audit_via = "recorded message"

    def get_queryset(self, request):
        return visible_recorded_messages(request.user)

    def shown_report(self, message):
        delivery = message.delivery
        return (delivery.report_id, delivery.report_version) if delivery and delivery.report_id else None
