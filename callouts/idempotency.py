"""Idempotency keys of launches: whose key it is, and which request it came with.

A key is the caller's own: it is looked up with the login that sent it and where it was sent (the API's
Idempotency-Key header, or the admin's launch form), never on its own. With it is kept a fingerprint of the
request, so a retry is told apart from a different launch that reuses the key: the retry gets the first
callout, the different launch is refused (``IdempotencyKeyReused``) and pages nobody.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from callouts.models import Callout
from callouts.need import Need
from units.models import Unit


@dataclass(frozen=True)
class IdempotencyKey:
    origin: Callout.KeyOrigin
    value: str


class IdempotencyKeyReused(Exception):
    """The caller's key already launched a callout for a different request."""

    def __init__(self, key: IdempotencyKey, callout: Callout):
        self.key, self.callout = key, callout
        super().__init__(
            f"Idempotency-Key {key.value!r} was already used by you for another launch (callout {callout.pk}, "
            f"{callout.unit.name}). Send exactly the same request to get that callout back, or a new key for a "
            "new callout."
        )


def request_fingerprint(*, unit: Unit, message: str, incident_ref: str, priority: str, exercise: bool,
                        need: Need | None) -> str:
    """SHA-256 of the launch as asked: the need as sent (none: the policy's, whatever it is by the retry), and
    without the need's storage version, so a retry still matches after an upgrade."""
    asked = None if need is None else {"quorum": need.quorum, "requirements": [r.to_json() for r in need.requirements]}
    canonical = json.dumps(
        {"unit": unit.pk, "message": message, "incident_ref": incident_ref, "priority": str(priority),
         "exercise": exercise, "need": asked},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def keyed_callout(*, actor, key: IdempotencyKey) -> Callout | None:
    return (Callout.objects.select_related("unit")
            .filter(launched_by=actor, idempotency_origin=key.origin, idempotency_key=key.value).first())


def same_request(callout: Callout, fingerprint: str) -> bool:
    # Callouts launched before fingerprints were kept have none: a retry of one gets it, as it did then.
    return not callout.idempotency_fingerprint or callout.idempotency_fingerprint == fingerprint
