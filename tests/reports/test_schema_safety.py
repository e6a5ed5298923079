"""Hostile report type schemas: publishing refuses them with a message naming the problem, and checking a report
against one stored before these rules finishes at once with a clear error, without touching the network."""

import signal
from contextlib import contextmanager

import pytest

from reports.models import ReportTypeVersion
from reports.schemas import validation_errors
from reports.services.report_types import VersionNotPublishable, type_version_publish
from tests.reports.conftest import SIMPLE_SCHEMA


def form(**fields) -> dict:
    """SIMPLE_SCHEMA with more fields (or other keywords) in it."""
    extra = {k: v for k, v in fields.items() if k != "properties"}
    return {**SIMPLE_SCHEMA, **extra, "properties": {**SIMPLE_SCHEMA["properties"], **fields.get("properties", {})}}


def doubling(levels: int) -> dict:
    """Each definition refers to the next one twice: written out, the schema has 2 ** levels parts."""
    defs = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]} for i in range(levels)}
    defs[f"d{levels}"] = {"type": "string"}
    return form(properties={"notes": {"$ref": "#/$defs/d0"}}, **{"$defs": defs})


HOSTILE = {
    "remote $ref": (form(properties={"person": {"$ref": "https://schemas.partner.example/person.json"}}),
                    "points outside the schema"),
    "metadata $ref": (form(properties={"person": {"$ref": "http://169.254.169.254/latest/meta-data/"}}),
                      "points outside the schema"),
    "loopback $ref": (form(**{"$ref": "http://127.0.0.1:8199/schema.json"}), "points outside the schema"),
    "remote $dynamicRef": (form(properties={"p": {"$dynamicRef": "https://schemas.partner.example/x#meta"}}),
                           "points outside the schema"),
    "nested $id": (form(properties={"p": {"$id": "https://schemas.partner.example/", "$ref": "other.json"}}),
                   "only the schema itself may have an $id"),
    "backreference": (form(properties={"code": {"type": "string", "pattern": "^(a+)\\1$"}}), "cannot be used"),
    "lookahead in patternProperties": (form(patternProperties={"^(?=x)": {"type": "string"}}), "cannot be used"),
    "refers to itself": (form(**{"$ref": "#"}), "leads back"),
    "property refers to itself": (form(properties={"a": {"$ref": "#/properties/a"}}), "leads back"),
    "refers in a circle": (form(properties={"a": {"$ref": "#/$defs/x"}}, **{"$defs": {"x": {"$ref": "#/$defs/y"},
                                                                                        "y": {"$ref": "#/$defs/x"}}}),
                           "leads back"),
    "doubling references": (doubling(30), "more than 2000 parts"),
    "unevaluatedProperties with patternProperties": (
        form(additionalProperties=None, unevaluatedProperties=False, patternProperties={"^x-": {"type": "string"}}),
        "unevaluatedProperties cannot be used together with patternProperties"),
    "$ref to nothing": (form(properties={"a": {"$ref": "#/$defs/missing"}}), "points to nothing"),
}
for schema, _ in HOSTILE.values():
    if schema.get("additionalProperties", False) is None:
        del schema["additionalProperties"]


@contextmanager
def finishes_within(seconds: int):
    """Fails the test if the block is still running after ``seconds`` (far more than it needs; Python's
    backtracking ``re`` takes years on these inputs, and the regex engine checks for signals as it goes)."""
    def stop(*_):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def draft(simple_type):
    def make(schema):
        return ReportTypeVersion.objects.create(report_type=simple_type, number=2, schema=schema,
                                                grading_field="grading")
    return make


@pytest.mark.parametrize("name", HOSTILE)
def test_publishing_refuses_a_hostile_schema_naming_the_problem(draft, admin_user, network, name):
    schema, problem = HOSTILE[name]
    version = draft(schema)

    with finishes_within(10), pytest.raises(VersionNotPublishable) as refused:
        type_version_publish(version=version, actor=admin_user)

    assert problem in refused.value.problems["schema"]
    version.refresh_from_db()
    assert not version.is_published
    assert network.lookups == [] and network.connected == []


@pytest.mark.parametrize("name", HOSTILE)
def test_a_report_reaching_a_hostile_part_of_a_schema_stored_before_these_rules_gets_a_clear_error_at_once(
        network, name):
    schema, _ = HOSTILE[name]

    with finishes_within(10):
        errors = validation_errors(schema, {"name": "Amy", "grading": "high", "person": {}, "a": "x", "p": 1,
                                            "notes": "n", "code": "aa"})

    [message] = errors[""]
    assert "This report type's form cannot be checked" in message and "Nothing was lost" in message
    assert network.lookups == [] and network.connected == []


RUNAWAY = ["refers to itself", "property refers to itself", "refers in a circle", "doubling references",
           "unevaluatedProperties with patternProperties"]
# A $ref at the top applies to every report; every field name is matched against a patternProperties name.
REACHED_BY_EVERY_REPORT = ["loopback $ref", "lookahead in patternProperties"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_stored_schema_is_run_for_reports_that_do_not_reach_its_hostile_part_unless_it_could_run_away(
        network, name):
    schema, _ = HOSTILE[name]

    with finishes_within(10):
        errors = validation_errors(schema, {"name": "Amy", "grading": "high"})

    assert ("" in errors) == (name in RUNAWAY or name in REACHED_BY_EVERY_REPORT)
    assert network.lookups == [] and network.connected == []


CATASTROPHIC = "^(a+)+$"
ATTACK = "a" * 5000 + "!"  # backtracking needs 2 ** 5000 steps for this


def test_a_catastrophic_pattern_is_checked_in_linear_time(network):
    schema = form(properties={"code": {"type": "string", "title": "Code", "pattern": CATASTROPHIC}})

    with finishes_within(5):
        errors = validation_errors(schema, {"name": "Amy", "grading": "high", "code": ATTACK})

    assert errors == {"code": [f"code: {repr(ATTACK)[:60]}… does not have the expected form."]}
    assert validation_errors(schema, {"name": "Amy", "grading": "high", "code": "aaaa"}) == {}


def test_a_catastrophic_pattern_in_pattern_properties_is_checked_in_linear_time(network):
    schema = form(properties={"tags": {"type": "object", "title": "Tags", "additionalProperties": False,
                                       "patternProperties": {CATASTROPHIC: {"type": "string"}}}})

    with finishes_within(5):
        errors = validation_errors(schema, {"name": "Amy", "grading": "high", "tags": {ATTACK: "x", "aaa": 1}})

    assert errors == {"tags.aaa": ["tags.aaa: 1 is not text."],
                      f"tags.{ATTACK}": [f"tags.{ATTACK}: not a field of this report."]}


def test_a_catastrophic_pattern_on_property_names_is_checked_in_linear_time(network):
    schema = form(properties={"tags": {"type": "object", "title": "Tags", "propertyNames": {"pattern": CATASTROPHIC}}})

    with finishes_within(5):
        errors = validation_errors(schema, {"name": "Amy", "grading": "high", "tags": {ATTACK: "x"}})

    assert list(errors) == ["tags"]


def test_a_schema_with_a_catastrophic_pattern_can_be_published_since_it_runs_safely(draft, admin_user):
    version = draft(form(properties={"code": {"type": "string", "pattern": CATASTROPHIC}}))

    assert type_version_publish(version=version, actor=admin_user).is_published


def test_local_refs_and_anchors_still_work(network):
    schema = form(properties={"home": {"$ref": "#/$defs/address"}, "work": {"$ref": "#place"}},
                  **{"$defs": {"address": {"type": "object", "required": ["postcode"],
                                           "properties": {"postcode": {"type": "string", "pattern": "^[A-Z0-9 ]+$"}}},
                               "place": {"$anchor": "place", "type": "string"}}})

    assert validation_errors(schema, {"name": "Amy", "grading": "high", "home": {"postcode": "SW9 8"},
                                      "work": "Brixton"}) == {}
    assert set(validation_errors(schema, {"name": "Amy", "grading": "high", "home": {}, "work": 3})) == {
        "home.postcode", "work"}
