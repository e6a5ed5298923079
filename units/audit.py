"""Writing the audit trail: who acts (``acting``), explicit entries (``audit_event``) and the request's context.

Every entry keeps its actor's username (in auditlog's ``actor_email`` column, which exists so that an entry still
says who when the user row is deleted; Muster's logins are usernames, and many have no email address).
"""

import contextlib

from auditlog.context import auditlog_value, set_actor
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, is_password_usable
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from units.addresses import client_address


@contextlib.contextmanager
def acting(actor, *, remote_addr: str | None = None):
    """Attribute audit entries to ``actor``; with no actor, keep whoever the request middleware set.

    The entries keep the request's client address unless ``remote_addr`` is given, and the request's own context
    is back afterwards (auditlog's ``set_actor`` replaces it and never puts it back).
    """
    if actor is None:
        yield
        return
    outer = auditlog_value.get(None)
    if remote_addr is None and outer is not None:
        remote_addr = outer.get("remote_addr")
    try:
        with set_actor(actor, remote_addr=remote_addr):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)


def audit_event(*, event: str, target: Model | None, actor=None, message: str = "", data: dict | None = None,
                remote_addr: str | None = None, target_model: type[Model] | None = None) -> LogEntry:
    """Write an explicit audit entry for something that is not a row change (a login, a launch, ...)."""
    # _meta, not type(): a request's user is a lazy wrapper whose type is SimpleLazyObject.
    model = target._meta.model if target is not None else target_model
    user = actor if isinstance(actor, get_user_model()) else None
    # Inside acting(): auditlog copies its context's actor name and address onto every entry saved in it.
    with acting(user, remote_addr=remote_addr):
        return LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(target.pk) if target is not None else "",
            object_id=target.pk if target is not None and isinstance(target.pk, int) else None,
            object_repr=str(target) if target is not None else (data or {}).get("username", ""),
            action=LogEntry.Action.ACCESS,
            changes_text=message or event,
            additional_data={"event": event, **(data or {})},
            actor=user,
            actor_email=username_of(user),
            remote_addr=remote_addr if remote_addr is not None else context_address(),
        )


def context_address() -> str | None:
    return (auditlog_value.get(None) or {}).get("remote_addr")


def username_of(actor) -> str | None:
    return actor.get_username() if isinstance(actor, get_user_model()) else None


def name_the_actor(sender, instance: LogEntry, **kwargs) -> None:
    """pre_save of every LogEntry: keep the actor's username on it.

    auditlog sets the actor from its context in a pre_save receiver that runs after this one, then copies every
    context key naming a LogEntry field onto the entry; so the name goes into the context, and auditlog writes it
    with the actor (or not at all, when its context is no longer live).
    """
    context = auditlog_value.get(None)
    if context is not None and "actor_email" not in context:
        context["actor_email"] = username_of(context.get("actor"))
    if instance.actor_id is not None and not instance.actor_email:
        instance.actor_email = username_of(instance.actor)


def skip_password_rehash(sender, instance, action, **kwargs) -> bool | None:
    """pre_log of every audited save: no entry for a login re-hashing the password it has just checked.

    Django's check_password replaces a hash made with older settings (fewer iterations, a shorter salt, another
    hasher) by one of the same password, and saves it; auditlog would record that as a password change, masked,
    on the login after every upgrade. That save is told from a real change by what Django does (it clears
    ``_password``, which set_password fills until the save) and by what changes: only the password, from a hash
    needing an upgrade to one that does not. False tells auditlog to write nothing.
    """
    if action != LogEntry.Action.UPDATE or sender is not get_user_model() or instance._password is not None:
        return None
    old = sender._default_manager.filter(pk=instance.pk).first()
    if old is None or not is_rehash(old.password, instance.password):
        return None
    others = [f.attname for f in sender._meta.concrete_fields if f.attname != "password"]
    return None if any(getattr(old, name) != getattr(instance, name) for name in others) else False


def is_rehash(old: str, new: str) -> bool:
    """Whether ``new`` is what Django's check_password would store in place of ``old`` (same password)."""
    if old == new or not (is_password_usable(old) and is_password_usable(new)):
        return False
    try:
        before, after = identify_hasher(old), identify_hasher(new)
    except ValueError:
        return False
    preferred = get_hasher("default")
    return (after.algorithm == preferred.algorithm and not preferred.must_update(new)
            and (before.algorithm != preferred.algorithm or preferred.must_update(old)))


class AuditContextMiddleware(AuditlogMiddleware):
    """auditlog's middleware with the client's address from units.addresses.

    auditlog's own takes the first address of any X-Forwarded-For and the port from X-Forwarded-Port, both
    written by whoever sends the request; the port is not kept.
    """

    def get_extra_data(self, request):
        return {**super().get_extra_data(request), "remote_addr": client_address(request), "remote_port": None}
