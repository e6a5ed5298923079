"""Thin Celery shells: each task takes ids, calls a service, and is safe to run twice."""

from datetime import timedelta

from celery import shared_task

# Beat sends this sweep every 2 s; one starting less than this after the last is dropped (callouts.health).
SWEEP_GAP = timedelta(seconds=1)


@shared_task(ignore_result=True)
def process_version(version_id: int) -> None:
    from reports.services.processing import version_process

    version_process(version_id=version_id)


@shared_task(ignore_result=True)
def send_referral(delivery_id: int) -> None:
    from reports.services.referrals import referral_delivery_send

    referral_delivery_send(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def sweep(scheduled: bool = False) -> None:
    from callouts.clock import db_now
    from callouts.health import sweep_start
    from reports.services.processing import versions_unprocessed_process
    from reports.services.referrals import referral_deliveries_lease
    from reports.services.reviews import reviews_overdue_alert

    if scheduled and not sweep_start("reports-sweep", gap=SWEEP_GAP, now=db_now()):
        return
    versions_unprocessed_process()
    for delivery_id in referral_deliveries_lease():
        send_referral.delay(delivery_id)
    reviews_overdue_alert()
