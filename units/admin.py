from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html

from units import admin_audit, admin_views  # noqa: F401  admin_audit registers the audit log's view
from units.admin_forms import OverrideFormSet, ParticipantFormSet, RotationForm, describe_weekdays
from units.feeds import feed_url
from units.models import (
    ContactMethod,
    Device,
    FixedRule,
    Membership,
    Override,
    Person,
    Qualification,
    Rotation,
    RotationParticipant,
    Tier,
    Unavailability,
    Unit,
)
from units.services import (
    account_access_end,
    device_revoke,
    devices_revoke_all,
    feed_token_reset,
    person_deactivate,
    unit_ensure_tiers,
)


@admin.action(description="Issue new calendar feed addresses (the old ones stop working)",
              permissions=["change"])
def reset_feed_tokens(modeladmin, request, queryset):
    for obj in queryset:
        feed_token_reset(obj=obj, actor=request.user)
    modeladmin.message_user(request, f"New calendar feed addresses issued for {len(queryset)}.")


@admin.action(description="Revoke all their app devices (each must enrol again)", permissions=["change"])
def revoke_all_devices(modeladmin, request, queryset):
    count = sum(devices_revoke_all(user=person.user, actor=request.user) for person in queryset)
    modeladmin.message_user(request, f"{count} device(s) revoked.")


@admin.action(description="Deactivate: off every list, app devices revoked, sessions ended", permissions=["change"])
def deactivate_people(modeladmin, request, queryset):
    people = list(queryset.filter(active=True))
    count = sum(person_deactivate(person=person, actor=request.user) for person in people)
    modeladmin.message_user(request, f"{len(people)} deactivated; {count} device(s) revoked.")


class VerifiedFilter(admin.SimpleListFilter):
    title = "verified"
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [("yes", "Verified"), ("no", "Not verified")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(verified_at__isnull=self.value() == "no")
        return queryset


class ContactMethodInline(admin.TabularInline):
    model = ContactMethod
    extra = 0
    fields = ["kind", "address", "position", "delay_minutes", "verified_at"]


class PersonMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["unit", "role"]
    autocomplete_fields = ["unit"]


class UnitMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["person", "role", "qualifications"]
    autocomplete_fields = ["person"]


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ["position", "name"]
    show_change_link = True


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["full_name", "rank", "badge_number", "home_station", "active", "unit_count"]
    list_filter = ["active", "home_station", ("memberships__unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["full_name", "badge_number", "user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["calendar_feed", "app_devices"]
    inlines = [ContactMethodInline, PersonMembershipInline]
    actions = [reset_feed_tokens, revoke_all_devices, deactivate_people]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(unit_count=Count("memberships", distinct=True))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Unticking "active" by hand ends the devices and sessions too, as the deactivate action does.
        if change and "active" in form.changed_data and not obj.active:
            account_access_end(user=obj.user, actor=request.user)

    @admin.display(description="app devices")
    def app_devices(self, person):
        if not person.pk:
            return "-"
        active = person.user.api_devices.filter(revoked_at__isnull=True).count()
        url = reverse("admin:units_device_changelist")
        return format_html('<a href="{}?user__id__exact={}">{} active</a>', url, person.user_id, active)

    @admin.display(description="units", ordering="unit_count")
    def unit_count(self, person):
        return person.unit_count

    @admin.display(description="calendar feed")
    def calendar_feed(self, person):
        return feed_url(person) if person.pk else "-"


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    list_display = ["person", "kind", "address", "position", "delay_minutes", "verified"]
    list_filter = ["kind", VerifiedFilter]
    list_select_related = ["person"]
    search_fields = ["address", "person__full_name", "person__badge_number"]
    autocomplete_fields = ["person"]

    @admin.display(boolean=True, ordering="verified_at")
    def verified(self, contact_method):
        return contact_method.verified


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "commander", "timezone", "active", "member_count", "schedule_link"]
    list_filter = ["active"]
    list_select_related = ["commander"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["commander"]
    readonly_fields = ["schedule_link", "calendar_feed"]
    inlines = [UnitMembershipInline, TierInline]
    actions = [reset_feed_tokens]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("on-call/", view(admin_views.on_call_now), name="units_unit_on_call"),
            path("coverage-gaps/", view(admin_views.coverage_gap_report), name="units_unit_coverage_gaps"),
            path("<int:unit_id>/schedule/", view(admin_views.schedule_preview), name="units_unit_schedule"),
            *super().get_urls(),
        ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            unit_ensure_tiers(unit=form.instance)

    @admin.display(description="members", ordering="member_count")
    def member_count(self, unit):
        return unit.member_count

    @admin.display(description="calendar feed")
    def calendar_feed(self, unit):
        return feed_url(unit) if unit.pk else "-"

    @admin.display(description="schedule")
    def schedule_link(self, unit):
        if not unit.pk:
            return "-"
        return format_html('<a href="{}">Preview</a>', reverse("admin:units_unit_schedule", args=[unit.pk]))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "unit", "role", "qualification_names"]
    list_filter = ["unit", "role", "qualifications"]
    list_select_related = ["person", "unit"]
    search_fields = ["person__full_name", "person__badge_number", "unit__name"]
    autocomplete_fields = ["person", "unit"]
    filter_horizontal = ["qualifications"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("qualifications")

    @admin.display(description="qualifications")
    def qualification_names(self, membership):
        return ", ".join(q.name for q in membership.qualifications.all())


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


class RotationInline(admin.TabularInline):
    """Read-only: a rotation needs participants, which are edited on the rotation's own page."""

    model = Rotation
    extra = 0
    fields = ["name", "shift_length", "shift_unit", "start_date", "handoff_time", "end_date", "days"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="on call")
    def days(self, rotation):
        return describe_weekdays(rotation.weekdays)


class OverrideInline(admin.TabularInline):
    model = Override
    formset = OverrideFormSet
    extra = 0
    fields = ["person", "replaces", "starts_at", "ends_at", "reason"]
    autocomplete_fields = ["person", "replaces"]


class FixedRuleInline(admin.TabularInline):
    model = FixedRule
    extra = 0
    autocomplete_fields = ["person"]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["__str__", "unit", "position", "name"]
    list_filter = ["unit"]
    list_select_related = ["unit"]
    search_fields = ["name", "unit__name", "unit__code"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["add_rotation_link"]
    inlines = [RotationInline, OverrideInline, FixedRuleInline]

    @admin.display(description="rotations")
    def add_rotation_link(self, tier):
        if not tier.pk:
            return "Save the list first, then add rotations to it."
        url = reverse("admin:units_rotation_add")
        return format_html('<a href="{}?tier={}">Add a rotation to this list</a>', url, tier.pk)


class RotationParticipantInline(admin.TabularInline):
    model = RotationParticipant
    formset = ParticipantFormSet
    extra = 1
    fields = ["position", "person"]
    autocomplete_fields = ["person"]


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    form = RotationForm
    list_display = ["name", "tier", "shift", "start_date", "handoff_time", "end_date", "days", "participant_count"]
    list_filter = ["tier__unit", "shift_unit"]
    list_select_related = ["tier__unit"]
    search_fields = ["name", "tier__unit__name", "participants__person__full_name"]
    autocomplete_fields = ["tier"]
    inlines = [RotationParticipantInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participant_count=Count("participants", distinct=True))

    @admin.display(ordering="shift_length")
    def shift(self, rotation):
        unit = rotation.get_shift_unit_display().lower()
        return f"{rotation.shift_length} {unit.removesuffix('s') if rotation.shift_length == 1 else unit}"

    @admin.display(description="on call")
    def days(self, rotation):
        return describe_weekdays(rotation.weekdays)

    @admin.display(description="participants", ordering="participant_count")
    def participant_count(self, rotation):
        return rotation.participant_count


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["person", "replaces", "tier", "starts_at", "ends_at", "reason"]
    list_filter = ["tier__unit"]
    list_select_related = ["person", "replaces", "tier__unit"]
    search_fields = ["person__full_name", "replaces__full_name", "reason"]
    autocomplete_fields = ["tier", "person", "replaces"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]


@admin.register(Unavailability)
class UnavailabilityAdmin(admin.ModelAdmin):
    list_display = ["person", "kind", "starts_at", "ends_at", "note"]
    list_filter = ["kind", ("person__memberships__unit", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["person"]
    search_fields = ["person__full_name", "person__badge_number", "note"]
    autocomplete_fields = ["person"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]


@admin.register(FixedRule)
class FixedRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "tier", "role", "person"]
    list_filter = ["tier__unit", "role"]
    list_select_related = ["tier__unit", "person"]
    autocomplete_fields = ["tier", "person"]


class DeviceStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked or expired")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.action(description="Revoke selected devices (their tokens stop working at once)", permissions=["change"])
def revoke_devices(modeladmin, request, queryset):
    count = sum(device_revoke(device=device, actor=request.user) for device in queryset.select_related("user"))
    modeladmin.message_user(request, f"{count} device(s) revoked.")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    """Devices enrolled for the API. Read-only: phones enrol themselves, administrators revoke."""

    list_display = ["name", "owner", "platform", "token_prefix", "created_at", "last_used_at", "state"]
    list_filter = [DeviceStateFilter, "platform", "revoked_reason"]
    list_select_related = ["user__person"]
    search_fields = ["name", "token_prefix", "user__username", "user__person__full_name", "user__person__badge_number"]
    fields = ["user", "name", "platform", "token_prefix", "created_at", "last_used_at", "revoked_at", "revoked_by",
              "revoked_reason"]
    readonly_fields = fields
    ordering = ["user__username", "-created_at"]
    actions = [revoke_devices]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked devices stay on record

    @admin.display(description="owner", ordering="user__username")
    def owner(self, device):
        person = getattr(device.user, "person", None)
        return f"{person} ({device.user})" if person else str(device.user)

    @admin.display(ordering="revoked_at")
    def state(self, device):
        return device.get_revoked_reason_display() if device.revoked_at else "Active"


class MusterUserAdmin(UserAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A login switched off here loses its app devices and sessions as well, not just has them refused.
        if change and "is_active" in form.changed_data and not obj.is_active:
            account_access_end(user=obj, actor=request.user)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), MusterUserAdmin)
