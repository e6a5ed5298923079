import contextlib

from auditlog.context import set_actor


def acting(actor):
    """Attribute audit entries to ``actor``; with no actor, keep whoever the request middleware set."""
    if actor is None:
        return contextlib.nullcontext()
    return set_actor(actor)
