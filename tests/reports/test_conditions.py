"""The condition language of referral rules: what matches, and what an administrator is told is wrong."""

import pytest

from reports.conditions import condition_error, condition_matches

CHILD = {"name": "Amy", "age": 9, "grading": "high", "vulnerabilities": ["asthma", "autism"],
         "description": "Red coat", "found": False}


def clause(field, op, value=None, **extra):
    return {"field": field, "op": op, **({} if value is None else {"value": value}), **extra}


@pytest.mark.parametrize("condition, matches", [
    ([], True),
    ([clause("grading", "eq", "high")], True),
    ([clause("grading", "eq", "High")], False),  # gradings are codes: case counts
    ([clause("grading", "ne", "low")], True),
    ([clause("grading", "ne", "high")], False),
    ([clause("grading", "in", ["medium", "high"])], True),
    ([clause("grading", "in", ["low", "medium"])], False),
    ([clause("grading", "not_in", ["low", "medium"])], True),
    ([clause("grading", "not_in", ["high"])], False),
    ([clause("age", "lt", 18)], True),
    ([clause("age", "lt", 9)], False),
    ([clause("age", "lte", 9)], True),
    ([clause("age", "gt", 8.5)], True),
    ([clause("age", "gte", 10)], False),
    ([clause("age", "eq", 9.0)], True),  # numbers as numbers
    ([clause("age", "eq", "9")], False),  # the text "9" is not the number 9
    ([clause("name", "lt", 18)], False),  # a text is never less than a number
    ([clause("found", "eq", 0)], False),  # false is not 0
    ([clause("found", "eq", False)], True),
    ([clause("vulnerabilities", "contains", "autism")], True),
    ([clause("vulnerabilities", "contains", "Autism")], False),
    ([clause("description", "contains", "coat")], True),
    ([clause("description", "contains", "hat")], False),
    ([clause("name", "exists", True)], True),
    ([clause("name", "exists")], True),
    ([clause("clothing", "exists", True)], False),
    ([clause("clothing", "exists", False)], True),
    ([clause("grading", "in", ["medium", "high"]), clause("age", "lt", 18)], True),
    ([clause("grading", "in", ["medium", "high"]), clause("age", "lt", 5)], False),  # all must hold
])
def test_a_condition_matches_the_report_data_when_every_clause_holds(condition, matches):
    assert condition_error(condition) is None
    assert condition_matches(condition, CHILD) is matches


@pytest.mark.parametrize("op, value", [
    ("eq", 9), ("ne", 9), ("in", [9]), ("not_in", [9]), ("lt", 18), ("gte", 0), ("contains", "x"),
])
def test_a_clause_on_a_missing_field_never_matches(op, value):
    for data in ({"name": "Amy"}, {"name": "Amy", "age": None}):
        assert condition_matches([clause("age", op, value)], data) is False


def test_only_exists_false_asks_for_a_missing_or_empty_field():
    condition = [clause("clothing", "exists", False)]
    assert condition_matches(condition, {"clothing": ""}) is True
    assert condition_matches(condition, {"clothing": []}) is True
    assert condition_matches(condition, {"clothing": "Blue jeans"}) is False


@pytest.mark.parametrize("condition, says", [
    ({"field": "age", "op": "lt", "value": 18}, "list of clauses"),
    ("grading = high", "list of clauses"),
    (["grading"], "Clause 1: each clause is an object"),
    ([clause("age", "below", 18)], "Clause 1: unknown op 'below'"),
    ([clause("grading", "eq", "high"), clause("age", "lt", "18")], "Clause 2: lt compares with a number"),
    ([clause("age", "lt", True)], "lt compares with a number"),
    ([clause("grading", "in", "high")], "in takes a non-empty list"),
    ([clause("grading", "in", [])], "in takes a non-empty list"),
    ([clause("grading", "not_in", [["high"]])], "not_in takes a list of texts, numbers or true/false"),
    ([clause("grading", "eq", ["high"])], "eq compares with a text, a number or true/false"),
    ([clause("grading", "eq")], "eq needs a value"),
    ([clause("name", "exists", "yes")], "exists takes true or false"),
    ([clause("", "eq", "x")], "field must be the name"),
    ([clause(3, "eq", "x")], "field must be the name"),
    ([clause("age", "lt", 18, unit="years")], "unknown key unit"),
])
def test_a_malformed_condition_is_explained(condition, says):
    error = condition_error(condition)
    assert error is not None and says in error
