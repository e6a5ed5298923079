"""A recording channel that takes its time, for tests that kill a worker while it sends.

A worker process imports it by dotted path from PUSH_CHANNEL, SMS_CHANNEL or VOICE_CHANNEL.
"""

import os
import time

from callouts.channels.recording import RecordingChannel


class SlowRecordingChannel(RecordingChannel):
    """Waits before and after recording, as a provider takes time to accept and then to answer.

    A worker killed in the first half leaves a delivery that nobody received; in the second, one that was
    received with no answer to say so. Both stay ``sending``: an unknown outcome is not sent again.
    ``SLOW_CHANNEL_SECONDS`` (default 0.01) is the whole wait. Like a real provider's channel, it is called
    from the send thread pool.
    """

    blocking_io = True

    def send(self, delivery) -> str:
        half = float(os.environ.get("SLOW_CHANNEL_SECONDS", "0.01")) / 2
        time.sleep(half)
        message_id = super().send(delivery)
        time.sleep(half)
        return message_id


class AcceptedThenRaisingChannel(RecordingChannel):
    """The provider takes the message, then reading its answer fails with something other than ChannelError
    (a changed response format, a bug in the channel, a database error in its bookkeeping)."""

    def send(self, delivery) -> str:
        return self.send_many([delivery])[0]

    def send_many(self, deliveries) -> list[str]:
        super().send_many(deliveries)
        raise RuntimeError("the provider's answer could not be read")
