from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "Units and schedules"

    def ready(self):
        from auditlog.models import LogEntry
        from auditlog.signals import pre_log
        from django.db.models.signals import pre_save

        from units import auth_events, sessions
        from units.audit import name_the_actor, skip_password_rehash

        auth_events.connect()
        sessions.connect()
        # Connected here, before any auditlog context: it must run before auditlog's own pre_save receiver.
        pre_save.connect(name_the_actor, sender=LogEntry, dispatch_uid="muster_audit_actor_name")
        pre_log.connect(skip_password_rehash, dispatch_uid="muster_audit_skip_password_rehash")
