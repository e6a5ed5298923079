"""Thin Celery shells: each task takes ids, calls a service, and is safe to run twice."""

from celery import shared_task


@shared_task(ignore_result=True)
def process_version(version_id: int) -> None:
    from reports.services.processing import version_process

    version_process(version_id=version_id)


@shared_task(ignore_result=True)
def send_referral(delivery_id: int) -> None:
    from reports.services.referrals import referral_delivery_send

    referral_delivery_send(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def sweep() -> None:
    from reports.services.processing import versions_unprocessed_process
    from reports.services.referrals import referral_deliveries_lease
    from reports.services.reviews import reviews_overdue_alert

    versions_unprocessed_process()
    for delivery_id in referral_deliveries_lease():
        send_referral.delay(delivery_id)
    reviews_overdue_alert()
