import contextlib

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model


def acting(actor):
    """Attribute audit entries to ``actor``; with no actor, keep whoever the request middleware set."""
    if actor is None:
        return contextlib.nullcontext()
    return set_actor(actor)


def audit_event(*, event: str, target: Model | None, actor=None, message: str = "", data: dict | None = None,
                remote_addr: str | None = None, target_model: type[Model] | None = None) -> LogEntry:
    """Write an explicit audit entry for something that is not a row change (a login, a launch, ...)."""
    model = type(target) if target is not None else target_model
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
