from celery import shared_task
from django.utils import timezone


@shared_task(ignore_result=True)
def heartbeat() -> None:
    from callouts.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})
