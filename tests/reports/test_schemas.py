import pytest

from reports.models import ReportType
from reports.schemas import draft_errors, schema_error, validation_errors

MISSING_CHILD = {
    "name": "Amy Clarke", "age": 9, "date_of_birth": "2017-02-14", "description": "Slim, long brown hair",
    "clothing": "Red school coat", "last_seen_place": "Brixton station", "last_seen_at": "2026-06-03T08:40:00+01:00",
    "vulnerabilities": ["child"], "risk_factors": "Out of character", "grading": "high", "rationale": "Nine, alone",
}


@pytest.fixture
def missing_person(db):
    return ReportType.objects.get(slug="missing-person").current_version.schema


@pytest.mark.parametrize("slug", ["missing-person", "welfare-concern", "incident"])
def test_the_shipped_types_have_valid_schemas_with_a_title_for_every_field(db, slug):
    schema = ReportType.objects.get(slug=slug).current_version.schema

    assert schema_error(schema) is None
    assert all(field.get("title") for field in schema["properties"].values())


def test_a_complete_missing_child_report_is_valid(missing_person):
    assert validation_errors(missing_person, MISSING_CHILD) == {}


def test_each_error_names_its_field_in_words_an_officer_can_act_on(missing_person):
    errors = validation_errors(missing_person, {**MISSING_CHILD, "age": -3, "grading": "severe", "name": ""})

    assert errors == {
        "name": ["name: must not be empty."],
        "age": ["age: -3 is less than the minimum of 0."],
        "grading": ["grading: 'severe' is not one of no-apparent-risk, low, medium, high."],
    }


def test_every_missing_required_field_is_named_on_its_own(missing_person):
    errors = validation_errors(missing_person, {"name": "Amy Clarke"})

    assert list(errors) == ["age", "description", "last_seen_place", "last_seen_at", "grading", "rationale"]
    assert errors["age"] == ["age: this field is required."]


def test_unknown_fields_and_wrong_types_are_named_down_to_the_list_item(missing_person):
    errors = validation_errors(missing_person, {**MISSING_CHILD, "age": "nine", "vulnerabilities": ["child", 3],
                                                "shoe_size": 4})

    assert errors == {
        "age": ["age: 'nine' is not a whole number."],
        "vulnerabilities.1": ["vulnerabilities.1: 3 is not text."],
        "shoe_size": ["shoe_size: not a field of this report."],
    }


@pytest.mark.parametrize(("field", "value", "valid"), [
    ("last_seen_at", "2026-06-03T08:40:00+01:00", True),
    ("last_seen_at", "2026-06-03T07:40:00Z", True),
    ("last_seen_at", "2026-06-03T08:40:00", False),  # no offset: which 08:40?
    ("last_seen_at", "2026-06-03 08:40", False),
    ("last_seen_at", "yesterday", False),
    ("date_of_birth", "2017-02-14", True),
    ("date_of_birth", "2017-02-30", False),
    ("date_of_birth", "20170214", False),
])
def test_dates_and_times_are_checked(missing_person, field, value, valid):
    errors = validation_errors(missing_person, {**MISSING_CHILD, field: value})

    assert (errors == {}) is valid
    if not valid:
        assert errors[field][0].startswith(f"{field}: '{value}' is not a date")


def test_a_long_value_is_not_quoted_back_whole(missing_person):
    errors = validation_errors(missing_person, {**MISSING_CHILD, "grading": "x" * 5000})

    assert len(errors["grading"][0]) < 200


def test_nested_objects_name_the_path(db):
    schema = ReportType.objects.get(slug="incident").current_version.schema
    report = {"title": "Fight", "category": "assault", "description": "Two men", "occurred_at": "2026-06-03T01:00:00Z",
              "people_involved": [{"name": "Dan"}, {"name": "Eve", "role": "victim"}]}

    assert validation_errors(schema, report) == {"people_involved.0.role": ["people_involved.0.role: this field is "
                                                                            "required."]}


def test_a_report_that_is_not_an_object_is_refused_as_a_whole(missing_person):
    assert list(validation_errors(missing_person, ["Amy"])) == [""]


@pytest.mark.parametrize(("schema", "expected"), [
    ([], "The schema must be a JSON object."),
    ({"type": "object", "properties": {"age": {"type": "whole"}}}, "Not a valid JSON Schema at properties/age/type"),
    ({"type": "string"}, 'The schema must describe an object: "type": "object" with "properties".'),
    ({"type": "object"}, 'The schema must describe an object: "type": "object" with "properties".'),
])
def test_schema_error_says_what_is_wrong_with_a_schema(schema, expected):
    assert schema_error(schema).startswith(expected)


def test_a_draft_may_be_incomplete_but_only_of_known_fields(missing_person):
    assert draft_errors(missing_person, {"name": "Amy", "age": "not checked yet"}) == {}
    assert draft_errors(missing_person, {"name": "Amy", "shoe": 4}) == {"shoe": ["shoe: not a field of this report."]}
    assert draft_errors(missing_person, "Amy") == {"": ["The report must be an object of named fields."]}
