import uuid

from callouts.models import RecordedMessage


class RecordingChannel:
    """Sends nothing: records the message so the demo and tests can show what would have gone out."""

    blocking_io = False  # one insert a batch: nothing to wait for, so no thread of its own

    def send(self, delivery) -> str:
        return self.send_many([delivery])[0]

    def send_many(self, deliveries) -> list[str]:
        RecordedMessage.objects.bulk_create(
            RecordedMessage(delivery=delivery, channel=delivery.channel, to=delivery.address,
                            subject=delivery.subject, body=delivery.body)
            for delivery in deliveries
        )
        return [f"rec-{uuid.uuid4().hex}" for _ in deliveries]
