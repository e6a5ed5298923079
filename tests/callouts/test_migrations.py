"""Callouts launched before an upgrade, as the upgrade leaves them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from callouts.idempotency import IdempotencyKey
from callouts.models import Callout
from callouts.services.callouts import callout_launch_once
from units.models import Unit

BEFORE_SCOPED_KEYS = ("callouts", "0005_notices")
POLICY = {"waits": {"1": 300}, "default_wait": 300, "move_on_when_hopeless": True, "repeat_count": 0,
          "fallback_to_operators": True}


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_keys_stored_as_global_strings_become_the_keys_of_their_launchers():
    executor = migrate([BEFORE_SCOPED_KEYS])
    old = executor.loader.project_state([BEFORE_SCOPED_KEYS]).apps
    users, unit = old.get_model("auth", "User").objects, old.get_model("units", "Unit").objects.create(
        name="Canine Unit", code="k9", feed_token="k9-feed")
    control, desk = users.create(username="control"), users.create(username="desk")
    launched = {"unit": unit, "message": "Missing child, Riverside Park", "need": {"quorum": 1}, "policy": POLICY,
                "launched_at": timezone.now()}
    made = old.get_model("callouts", "Callout").objects
    made.create(launched_by=control, idempotency_key=f"api:{control.pk}:CAD-7", **launched)
    made.create(launched_by=desk, idempotency_key="0123456789abcdef0123456789abcdef", **launched)
    made.create(launched_by=desk, idempotency_key=f"api:{control.pk}:CAD-8", **launched)  # planted in the form
    made.create(launched_by=desk, idempotency_key=None, **launched)

    migrate(executor.loader.graph.leaf_nodes())

    assert list(Callout.objects.order_by("id").values_list(
        "launched_by__username", "idempotency_origin", "idempotency_key", "idempotency_fingerprint")) == [
        ("control", "api", "CAD-7", ""),
        ("desk", "admin", "0123456789abcdef0123456789abcdef", ""),
        ("desk", "admin", f"api:{control.pk}:CAD-8", ""),
        ("desk", "", "", ""),
    ]
    # A retry that spans the upgrade gets the callout its key launched, as it would have before.
    first = Callout.objects.order_by("id").first()
    callout, created = callout_launch_once(unit=Unit.objects.get(), message="Missing child, Riverside Park",
                                           actor=first.launched_by,
                                           key=IdempotencyKey(origin=Callout.KeyOrigin.API, value="CAD-7"))
    assert (callout, created) == (first, False)
