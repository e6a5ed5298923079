"""The audit log in the back office: auditlog's own view, reading as people speak.

Each row says when (24-hour local time), what happened (an explicit event by its name, with its message; a row
change as Created, Changed or Deleted with the fields it changed), to what, who (by username, also after the
user was deleted) and from which address. The list can be filtered by event.
"""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from units.audit_events import EVENT_NAMES, event_name

ROW_ACTIONS = {LogEntry.Action.CREATE: "Created", LogEntry.Action.UPDATE: "Changed",
               LogEntry.Action.DELETE: "Deleted", LogEntry.Action.ACCESS: "Viewed"}
# Characters of a message shown in the list; the entry's page has all of it.
SHORT = 160


def explicit_event(entry: LogEntry) -> str | None:
    """The key of an entry written by units.audit.audit_event, or None for a row change."""
    if entry.action != LogEntry.Action.ACCESS or not isinstance(entry.additional_data, dict):
        return None
    return entry.additional_data.get("event") or None


class EventFilter(admin.SimpleListFilter):
    title = "event"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return list(EVENT_NAMES.items())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=LogEntry.Action.ACCESS, additional_data__event=self.value())
        return queryset


class MusterLogEntryAdmin(LogEntryAdmin):
    list_display = ["when", "event", "details", "resource_url", "user_url", "address"]
    list_filter = [EventFilter, *LogEntryAdmin.list_filter]
    search_fields = [*LogEntryAdmin.search_fields, "actor_email", "changes_text"]
    readonly_fields = ["when", "user_url", "address", "resource_url", "event", "message", "data", "msg"]
    fieldsets = [
        (None, {"fields": ["when", "user_url", "address", "resource_url", "cid"]}),
        ("What happened", {"fields": ["event", "message", "data", "msg"]}),
    ]

    class Media:
        css = {"all": ["units/audit.css"]}

    @admin.display(description="When", ordering="timestamp")
    def when(self, entry):
        return timezone.localtime(entry.timestamp).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="Event")
    def event(self, entry):
        key = explicit_event(entry)
        return event_name(key) if key else ROW_ACTIONS.get(entry.action, "")

    @admin.display(description="Details")
    def details(self, entry):
        if explicit_event(entry):
            text = self.message(entry)
            return text if len(text) <= SHORT else text[:SHORT] + "…"
        if entry.action == LogEntry.Action.UPDATE:
            return ", ".join(str(name) for name in entry.changes_display_dict)
        return ""

    @admin.display(description="Message")
    def message(self, entry):
        """The entry's own message, unless it only repeats the event ("Callout launched")."""
        key = explicit_event(entry)
        if key is None or entry.changes_text in (key, event_name(key)):
            return ""
        return entry.changes_text

    @admin.display(description="Recorded with it")
    def data(self, entry):
        extra = {k: v for k, v in (entry.additional_data or {}).items() if k != "event"}
        if not extra:
            return "-"
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(extra.items()))
        return format_html('<table class="muster-wide">{}</table>', rows)

    @admin.display(description="Resource")
    def resource_url(self, entry):
        """What the entry is about, as "Callout: tsu: Missing child", linked to its page while there is one."""
        kind = entry.content_type
        label = capfirst(kind.name)
        label = f"{label}: {entry.object_repr}" if entry.object_repr else label
        try:
            pk = entry.object_id if entry.object_id is not None else entry.object_pk
            link = reverse(f"admin:{kind.app_label}_{kind.model}_change", args=[pk])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', link, label)

    @admin.display(description="User")
    def user_url(self, entry):
        if entry.actor is not None:
            return super().user_url(entry)
        if entry.actor_email:
            return f"{entry.actor_email} (user deleted)"
        # An entry made in a request with nobody logged in (a failed login) has the address; the worker's don't.
        return "not logged in" if entry.remote_addr else "system"

    @admin.display(description="From", ordering="remote_addr")
    def address(self, entry):
        return entry.remote_addr or "-"


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, MusterLogEntryAdmin)
