from django.apps import AppConfig


class CalloutsConfig(AppConfig):
    name = "callouts"

    def ready(self):
        from callouts import checks  # noqa: F401  registers the system checks
