"""Launching and answering a callout cost the same number of queries on PostgreSQL for 1 person or 200."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callouts.models import Callout, Delivery, EscalationPolicy
from callouts.services.callouts import callout_launch, callout_respond
from tests.services.conftest import make_callout_unit

pytestmark = pytest.mark.services


def launch_and_accept(unit, operator) -> tuple[int, int, Callout]:
    """Queries of the launch, and of the first accept by someone on primary."""
    with CaptureQueriesContext(connection) as launch:
        callout = callout_launch(unit=unit, message="Firearms incident, Elm Street", actor=operator)
    recipient = callout.recipients.filter(tier_position=1).first()
    with CaptureQueriesContext(connection) as accept:
        callout_respond(recipient=recipient, response="accept", channel="sms", eta_minutes=10)
    callout.refresh_from_db()
    return len(launch), len(accept), callout


# With a quorum of 2 a list of one is hopeless at the first accept, which alerts the next list: another path.
@pytest.mark.parametrize(("quorum", "smallest"), [(1, 1), (2, 2)], ids=["accept-fills", "accept-does-not-fill"])
def test_launch_and_accept_cost_the_same_queries_for_one_person_or_200(db, operator, quorum, smallest):
    # The first callout of a process also fills Django's content type cache: measure the steady state.
    launch_and_accept(make_callout_unit(primary=2, code="warm"), operator)
    counts = {}
    for size in (smallest, 200):
        unit = make_callout_unit(primary=size, code=f"q{size}")
        EscalationPolicy.objects.create(unit=unit, quorum=quorum)
        launched, accepted, callout = launch_and_accept(unit, operator)
        assert Delivery.objects.filter(recipient__callout=callout).count() == size * 3
        assert callout.state == (Callout.State.FILLED if quorum == 1 else Callout.State.ACTIVE)
        counts[size] = launched, accepted

    assert counts[smallest] == counts[200], f"queries (launch, accept) by people on the list: {counts}"
