"""The audit log in the back office: auditlog's own view, naming the actor of an entry whose user was deleted."""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin


class MusterLogEntryAdmin(LogEntryAdmin):
    search_fields = [*LogEntryAdmin.search_fields, "actor_email"]

    @admin.display(description="User")
    def user_url(self, obj):
        if obj.actor is None and obj.actor_email:
            return f"{obj.actor_email} (user deleted)"
        return super().user_url(obj)


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, MusterLogEntryAdmin)
