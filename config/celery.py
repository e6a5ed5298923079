import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("muster")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def run_system_checks(**kwargs) -> None:
    """A worker refuses to start with a misconfiguration runserver would refuse (a contact kind no channel
    sends): better no worker and a loud start than alerts failing one by one at 3 a.m."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as error:
        raise SystemExit(str(error)) from None  # Celery logs and ignores an Exception from a signal handler
