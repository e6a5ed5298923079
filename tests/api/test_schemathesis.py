"""Schemathesis against /api/schema/ as an operator and as a responder, with callouts, leave and units to find.

Generated requests, valid and not, go to the callout and schedule operations of the schema served at
/api/schema/, in process through the WSGI application (tests/api/test_schema.py runs every operation, the
device and account ones included, with a plain person's token). Checked: no 5xx; every answer's status,
content type, headers and body match the schema; requests that break the schema are refused. Not checked, as
in tests/api/test_schema.py: that every schema-valid request is accepted. A schema cannot say that a launch's
unit must exist, that a window's end comes after its start or that an ETA goes only with an accept; refusing
those with a 400 is right.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.specs.openapi.checks import positive_data_acceptance

from callouts.services import callout_close, callout_respond
from config.wsgi import application
from tests.api.test_callouts_api import launch_for, role_user
from tests.factories import add_member, make_unit
from units.models import Unavailability, Unit

api = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path_regex=r"^/api/v1/(callouts|shifts|unavailability|units)/"
)
# Unknown query parameters are ignored, as most APIs do; refusing them is not what the schema promises.
api.config.generation.update(allow_extra_parameters=False)


@pytest.fixture(params=["operator", "responder"])
def token(request, api_client, monkeypatch, unit_a, unit_b, member_a, member_b):
    """A device token of the role, with open and closed callouts, leave and units it can and cannot see."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "device", "100000/min")
    operator = role_user("Operators")
    member_a.user.groups.add(Group.objects.get(name="Responders"))
    add_member(unit_b, member_a)
    open_a = launch_for(unit_a, member_a, actor=operator, incident_ref="CAD-1")
    callout_respond(recipient=open_a.recipients.get(), response="accept", channel="app", eta_minutes=5)
    callout_close(callout=launch_for(unit_a, member_a, actor=operator), actor=operator, outcome="Done")
    launch_for(unit_b, member_b, actor=operator)
    Unavailability.objects.create(person=member_a, starts_at=open_a.launched_at + timedelta(days=1),
                                  ends_at=open_a.launched_at + timedelta(days=3))
    if not Unit.objects.filter(pk=1).exists():  # the unit the schema's launch example names
        make_unit("one", pk=1)
    user = operator if request.param == "operator" else member_a.user
    return api_client(user).token


@api.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says_to_operators_and_responders(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=[positive_data_acceptance])
