"""System checks: a misconfigured channel stops the start, not a callout at 3 a.m."""

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from units.models import ContactMethod


@register()
def every_contact_kind_has_a_channel(app_configs, **kwargs) -> list[Error]:
    """Each kind of contact method a person can have must name a class that can send it."""
    errors = []
    channels = getattr(settings, "MUSTER_CHANNELS", {})
    for kind, label in ContactMethod.Kind.choices:
        path = channels.get(kind)
        if not path:
            errors.append(Error(
                f"No channel sends {label} ({kind!r}) messages: alerts to those contact methods would fail.",
                hint=f"Set {kind.upper()}_CHANNEL, or MUSTER_PROVIDERS=recording|live.", id="callouts.E001"))
            continue
        try:
            channel = import_string(path)
        except ImportError as error:
            errors.append(Error(f"The {label} channel {path!r} cannot be imported: {error}",
                                hint=f"Check {kind.upper()}_CHANNEL.", id="callouts.E002"))
            continue
        if not callable(getattr(channel, "send", None)):
            errors.append(Error(f"The {label} channel {path!r} has no send(delivery) method.",
                                hint=f"Check {kind.upper()}_CHANNEL.", id="callouts.E003"))
    for kind in sorted(set(channels) - set(ContactMethod.Kind.values)):
        errors.append(Error(f"MUSTER_CHANNELS names a channel for {kind!r}, which is not a kind of contact method.",
                            id="callouts.E004"))
    return errors
