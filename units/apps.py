from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "Units and schedules"

    def ready(self):
        from units import auth_events

        auth_events.connect()
