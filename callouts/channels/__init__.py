"""Channels: one class per way of reaching a person, each with ``send(delivery) -> provider message id``.

``send`` raises ``ChannelError``; ``permanent=True`` means trying again cannot help (a bad number),
``unknown=True`` that the provider may have taken the message (a timeout after the request was sent), so
it must not be sent again; otherwise the delivery is retried with backoff. Which class serves a channel
is a setting, so dev, demo and tests use the recording channel and production uses the real providers.
A channel that waits on a provider is called from a small thread pool, several at a time; one that sets
``blocking_io = False`` runs in the worker's own thread, and may offer ``send_many(deliveries)`` to take a
whole batch at once (a list of message ids, in order).
"""

from django.conf import settings
from django.utils.module_loading import import_string


class ChannelError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, unknown: bool = False, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.unknown = unknown
        self.code = code


def nothing_sent(error: Exception) -> bool:
    """True when a request failed before reaching the provider (no connection), so sending again is safe."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return True
    seen = error
    while seen is not None:
        if isinstance(seen, (NewConnectionError, ConnectTimeoutError)):
            return True
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__ or (
            seen.args[0] if seen.args and isinstance(seen.args[0], Exception) else None)
    return False


_instances: dict[str, object] = {}


def channel_for(kind: str):
    path = settings.MUSTER_CHANNELS[kind]
    if path not in _instances:
        _instances[path] = import_string(path)()
    return _instances[path]
