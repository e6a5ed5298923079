import uuid

from callouts.models import RecordedMessage


class RecordingChannel:
    """Sends nothing: records the message so the demo and tests can show what would have gone out."""

    blocking_io = False  # one insert: nothing to wait for, so no thread of its own

    def send(self, delivery) -> str:
        RecordedMessage.objects.create(
            delivery=delivery, channel=delivery.channel, to=delivery.address,
            subject=delivery.subject, body=delivery.body,
        )
        return f"rec-{uuid.uuid4().hex}"
