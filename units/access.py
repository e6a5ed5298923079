"""May this login act? The one rule the back office, the API and every reply channel ask.

A login acts only while its user is active and its person, when it has one, is active. Deactivating a person
(or unticking *active* on the user) therefore stops the back office session, the admin login, the API's device
tokens and the answers by text, call and email link, each at its next request.
"""

from django.db.models import Model

from units.audit import audit_event

# What a refused person is told, on every channel.
ACCOUNT_DISABLED = "Your Muster account is disabled"


def may_act(user) -> bool:
    if user is None or not user.is_active:
        return False
    person = getattr(user, "person", None)  # None for a login without a person (an administrator)
    return person is None or person.active


def response_refused(*, person, target: Model, channel: str) -> None:
    """Audit an answer refused because its person may not act; nothing else is recorded."""
    audit_event(event="response_refused", target=target, actor=person.user,
                message=f"{person}: answer refused, account disabled",
                data={"person": person.pk, "username": person.user.get_username(), "channel": channel,
                      "reason": "account_disabled"})
