"""The condition language of referral rules: a list of clauses that must all hold.

    [{"field": "grading", "op": "in", "value": ["medium", "high"]}, {"field": "age", "op": "lt", "value": 18}]

A clause names a top-level field of the report's data, an operator and a value:

- ``eq``, ``ne``: equal / not equal to a string, number or true/false;
- ``in``, ``not_in``: one of / none of a non-empty list of those;
- ``lt``, ``lte``, ``gt``, ``gte``: compared with a number;
- ``contains``: a list field holds the value, or a text field contains it;
- ``exists``: with ``true`` (or no value) the field is filled in; with ``false`` it is missing or empty.

Numbers compare as numbers (18 equals 18.0); strings compare exactly, case and all, since gradings are codes.
A value of another type never matches (the text "17" is not less than 18, and true is not 1).

A clause on a field the report does not have (missing, or null) is false, whatever its operator — also
``ne`` and ``not_in``: a report that gives no age is not "aged other than 18". Only ``exists: false`` asks for
a missing field. An empty condition matches every report.
"""

from __future__ import annotations

OPS = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "exists", "contains")
ORDERING = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b}
CLAUSE_KEYS = {"field", "op", "value"}


def condition_error(condition) -> str | None:
    """What is wrong with a condition, in words an administrator can act on; None when it is well formed."""
    if not isinstance(condition, list):
        return 'A condition is a list of clauses, e.g. [{"field": "age", "op": "lt", "value": 18}] (or [] for all).'
    for number, clause in enumerate(condition, start=1):
        if error := clause_error(clause):
            return f"Clause {number}: {error}"
    return None


def clause_error(clause) -> str | None:
    if not isinstance(clause, dict):
        return 'each clause is an object like {"field": "age", "op": "lt", "value": 18}.'
    if unknown := sorted(set(clause) - CLAUSE_KEYS, key=str):
        return f"unknown key {', '.join(map(str, unknown))}; a clause has only field, op and value."
    field, op = clause.get("field"), clause.get("op")
    if not isinstance(field, str) or not field.strip():
        return "field must be the name of one of the report's fields."
    if op not in OPS:
        return f"unknown op {op!r}; use one of {', '.join(OPS)}."
    if "value" not in clause and op != "exists":
        return f"{op} needs a value."
    return value_error(op, clause.get("value", True))


def value_error(op: str, value) -> str | None:
    if op == "exists":
        return None if isinstance(value, bool) else "exists takes true or false."
    if op in ORDERING:
        return None if is_number(value) else f"{op} compares with a number, not {value!r}."
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return f"{op} takes a non-empty list of values, e.g. [\"medium\", \"high\"]."
        if not all(is_scalar(item) for item in value):
            return f"{op} takes a list of texts, numbers or true/false."
        return None
    return None if is_scalar(value) else f"{op} compares with a text, a number or true/false, not {value!r}."


def condition_matches(condition: list, data: dict) -> bool:
    """True when every clause holds for the report's data. The condition must be well formed
    (``condition_error`` is None); a clause on a missing field is false, see the module's docstring."""
    return all(clause_matches(clause, data) for clause in condition)


def clause_matches(clause: dict, data: dict) -> bool:
    op, value = clause["op"], clause.get("value", True)
    present = data.get(clause["field"]) not in (None, "", [])
    if op == "exists":
        return present is value
    if clause["field"] not in data or data[clause["field"]] is None:
        return False
    actual = data[clause["field"]]
    if op == "eq":
        return same(actual, value)
    if op == "ne":
        return is_scalar(actual) and not same(actual, value)
    if op == "in":
        return any(same(actual, item) for item in value)
    if op == "not_in":
        return is_scalar(actual) and not any(same(actual, item) for item in value)
    if op == "contains":
        if isinstance(actual, list):
            return any(same(item, value) for item in actual)
        return isinstance(actual, str) and isinstance(value, str) and value in actual
    return is_number(actual) and ORDERING[op](actual, value)


def same(actual, value) -> bool:
    if is_number(actual) and is_number(value):
        return actual == value
    return type(actual) is type(value) and actual == value


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_scalar(value) -> bool:
    return isinstance(value, str | int | float | bool)
