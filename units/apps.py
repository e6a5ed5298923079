from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "Units and schedules"

    def ready(self):
        from auditlog.models import LogEntry
        from django.db.models.signals import pre_save

        from units import auth_events, sessions
        from units.audit import name_the_actor

        auth_events.connect()
        sessions.connect()
        # Connected here, before any auditlog context: it must run before auditlog's own pre_save receiver.
        pre_save.connect(name_the_actor, sender=LogEntry, dispatch_uid="muster_audit_actor_name")
