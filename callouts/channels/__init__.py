"""Channels: one class per way of reaching a person, each with ``send(delivery) -> provider message id``.

``send`` raises ``ChannelError``; ``permanent=True`` means trying again cannot help (a bad number),
otherwise the delivery is retried with backoff. Which class serves a channel is a setting, so dev,
demo and tests use the recording channel and production uses the real providers.
"""

from django.conf import settings
from django.utils.module_loading import import_string


class ChannelError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


_instances: dict[str, object] = {}


def channel_for(kind: str):
    path = settings.MUSTER_CHANNELS[kind]
    if path not in _instances:
        _instances[path] = import_string(path)()
    return _instances[path]
