import contextlib

from auditlog.context import auditlog_value, set_actor
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model


@contextlib.contextmanager
def acting(actor):
    """Attribute audit entries to ``actor``; with no actor, keep whoever the request middleware set.

    Inside a request the client's address is kept, and the request's own context is back afterwards
    (auditlog's ``set_actor`` replaces it and never puts it back).
    """
    if actor is None:
        yield
        return
    outer = auditlog_value.get(None)
    address = {"remote_addr": outer.get("remote_addr"), "remote_port": outer.get("remote_port")} if outer else {}
    try:
        with set_actor(actor, **address):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)


def audit_event(*, event: str, target: Model | None, actor=None, message: str = "", data: dict | None = None,
                remote_addr: str | None = None, target_model: type[Model] | None = None) -> LogEntry:
    """Write an explicit audit entry for something that is not a row change (a login, a launch, ...)."""
    # _meta, not type(): a request's user is a lazy wrapper whose type is SimpleLazyObject.
    model = target._meta.model if target is not None else target_model
    if remote_addr is None:
        remote_addr = (auditlog_value.get(None) or {}).get("remote_addr")
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=str(target.pk) if target is not None else "",
        object_id=target.pk if target is not None and isinstance(target.pk, int) else None,
        object_repr=str(target) if target is not None else (data or {}).get("username", ""),
        action=LogEntry.Action.ACCESS,
        changes_text=message or event,
        additional_data={"event": event, **(data or {})},
        actor=actor if isinstance(actor, get_user_model()) else None,
        remote_addr=remote_addr,
    )
