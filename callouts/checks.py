"""System checks: a misconfigured channel stops the start, not a callout at 3 a.m."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from config.vapid import VapidKeyError, public_key_of
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


@register()
def vapid_keys_belong_together(app_configs, **kwargs) -> list[Error | Warning]:
    """The app subscribes with VAPID_PUBLIC_KEY and every push is signed with VAPID_PRIVATE_KEY: halves of two
    different pairs would have every push refused by the push services, silently, on the night."""
    private, public = settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY
    if not private and not public:
        return []  # push is off; the app says so
    if not private:
        return [Error("VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY: the app would subscribe to pushes "
                      "Muster cannot sign.", hint="Set VAPID_PRIVATE_KEY to the private half of the pair.",
                      id="callouts.E005")]
    try:
        derived = public_key_of(private)
    except VapidKeyError as error:
        return [Error(str(error), hint="A base64url key or the path of a PEM file.", id="callouts.E006")]
    if not public:
        return [Warning("VAPID_PRIVATE_KEY is set without VAPID_PUBLIC_KEY: the field app cannot subscribe to push.",
                        hint=f"Set VAPID_PUBLIC_KEY={derived}", id="callouts.W001")]
    if public != derived:
        return [Error("VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY: push services would refuse "
                      "every push to the app.", hint=f"The public half is {derived}", id="callouts.E007")]
    return []
