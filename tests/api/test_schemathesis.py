"""Schemathesis against /api/schema/ as an operator and as a responder, with callouts, leave, units, reports and
circulations to find.

Generated requests, valid and not, go to the callout, schedule, report and circulation operations of the schema
served at /api/schema/, in process through the WSGI application (tests/api/test_schema.py runs every operation,
the device and account ones included, with a plain person's token). A report's id is a UUID no generator
guesses, so the report operations are sent to one of the caller's own reports (submitted with a photo, or a
draft, one still missing fields) or to someone else's; unknown ids are test_schema.py's part. Checked: no 5xx;
every answer's status, content type, headers and body match the schema; requests that break the schema are
refused; and a schema-valid request refused with a 400 is refused for a rule the operation's 400 declares under
the field named (``refusals_are_declared``: an area code that does not exist, a window's end before its start).
Not checked, as in tests/api/test_schema.py: that every schema-valid request is accepted, except answers to a
callout: test_every_answer_the_schema_allows_is_taken checks that each one is taken.
"""

import itertools
import uuid
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from callouts.services.callouts import callout_close, callout_respond
from config.wsgi import application
from reports.models import Area, Circulation, CirculationRecipient, ReportType
from reports.services.filing import Place, attachment_add, report_draft_save, report_submit
from tests.api.schema_checks import refusals_are_declared
from tests.api.test_callouts_api import launch_for, role_user
from tests.factories import add_member, jpeg, make_unit
from units.models import Unavailability, Unit

api = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path_regex=r"^/api/v1/(callouts|shifts|unavailability|units|report-types|reports|circulations)/"
)
# Unknown query parameters are ignored, as most APIs do; refusing them is not what the schema promises.
api.config.generation.update(allow_extra_parameters=False)


MISSING_CHILD = {
    "name": "Amy Clarke", "age": 9, "description": "Slim, long brown hair", "last_seen_place": "Brixton station",
    "last_seen_at": "2026-06-03T08:40:00+01:00", "grading": "high", "rationale": "Nine years old and alone",
}


def reports_of(person, area) -> dict:
    """A submitted report with a photo, a complete draft and one still missing fields by ``person``, and a
    circulation to them."""
    kwargs = {"report_type": ReportType.objects.get(slug="missing-person"), "actor": person.user,
              "data": MISSING_CHILD, "place": Place(area=area), "captured_at": None}
    report = report_submit(report_id=uuid.uuid4(), **kwargs)[0]
    photo = SimpleUploadedFile("amy.jpg", jpeg(f"photo of {report.pk}".encode()), content_type="image/jpeg")
    attachment = attachment_add(report=report, actor=person.user, upload=photo)[0]
    draft = report_draft_save(report_id=uuid.uuid4(), **kwargs)[0]
    # Submitting this one is a 400 naming the missing fields: an answer the schema must declare.
    unfinished = report_draft_save(report_id=uuid.uuid4(), **{**kwargs, "data": {"name": "Amy Clarke"}})[0]
    circulation = Circulation.objects.create(report=report, version=1, area=area, reach="area",
                                             summary=report.summary, created_at=report.submitted_at)
    CirculationRecipient.objects.create(circulation=circulation, person=person, reason="patrol")
    # As the schema types them: a path id the schema says is a string, sent as an int, would make the
    # request schema-invalid in schemathesis's eyes after the fact.
    return {"reports": [(str(report.pk), attachment.pk), (str(draft.pk), 0), (str(unfinished.pk), 0)],
            "circulation": str(circulation.pk)}


@pytest.fixture(params=["operator", "responder"])
def caller(request, api_client, monkeypatch, settings, tmp_path, unit_a, unit_b, member_a, member_b):
    """A device token of the role, with open and closed callouts, leave, units, reports and circulations it can
    and cannot see; ``reports`` are its own two and someone else's."""
    settings.MEDIA_ROOT = str(tmp_path)
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
    area = Area.objects.create(code="brixton", name="Brixton", supervisor_unit=unit_b)
    own, others = reports_of(user.person, area), reports_of(member_b, area)
    return {"token": api_client(user).token, "reports": [*own["reports"], others["reports"][0]],
            "circulations": [own["circulation"], others["circulation"]]}


@api.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says_to_operators_and_responders(case, caller):
    excluded = [positive_data_acceptance]
    negative = case.meta.generation.mode.is_negative
    if aim_at_known_objects(case, caller) and negative:
        # Sent to a real report, a GET with a stray Content-Type or a body with unknown fields is answered as DRF
        # answers them everywhere (ignored); with unknown ids, test_schema.py checks that such requests are refused.
        excluded.append(negative_data_rejection)
    case.call_and_validate(headers={"Authorization": f"Token {caller['token']}"}, excluded_checks=excluded,
                           additional_checks=[refusals_are_declared])


PICKS = itertools.count()  # each case takes the next object in turn


def aim_at_known_objects(case, caller) -> bool:
    """Send a report or circulation operation to one of the caller's or someone else's; True when it did."""
    pick = next(PICKS)
    if case.path.startswith("/api/v1/reports/{id}/"):
        report_id, attachment_id = caller["reports"][pick % len(caller["reports"])]
        wanted = {"id": report_id, "number": 1, "attachment_id": attachment_id}
    elif case.path == "/api/v1/circulations/{id}/ack/":
        wanted = {"id": caller["circulations"][pick % len(caller["circulations"])]}
    else:
        return False
    # Assigned, not changed in place, so schemathesis judges the request by the ids actually sent.
    case.path_parameters = {name: wanted.get(name, value) for name, value in case.path_parameters.items()}
    return True


# Every answer the schema allows is taken. A phone's client is generated from the schema: a rule the schema does
# not declare (an ETA only with accept, say) refuses answers such a client sends, and a refused decline leaves the
# person silent, so the list waits out its time instead of moving on. Here positive_data_acceptance is checked:
# only schema-valid answers are sent, to an open callout the responder was alerted for, and each must succeed.
answers = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path_regex=r"^/api/v1/callouts/\{id\}/respond/$"
)
# NUL is refused in every text field (Django cannot store it); the schema's strings do not say so, which is the
# API-wide text rule and not what this test is about.
answers.config.generation.update(modes=["positive"], allow_x00=False)


@answers.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_the_schema_allows_is_taken(case, api_client, unit_a, member_a):
    callout = launch_for(unit_a, member_a, actor=role_user("Operators"))
    case.path_parameters = {"id": str(callout.pk)}  # typed as the schema types it, or the case counts as negative

    case.call_and_validate(headers={"Authorization": f"Token {api_client(member_a.user).token}"},
                           checks=[positive_data_acceptance])
