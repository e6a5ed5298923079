"""Report type schemas (JSON Schema draft 2020-12): checking a schema, and checking a report against one with
messages an officer can act on, each naming its field ("age: -3 is less than the minimum of 0")."""

import re
from datetime import date, datetime

import re2
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from referencing.exceptions import Unresolvable

from reports.schema_safety import matches, report_validator, schema_hazard

# RFC 3339, as JSON Schema's date-time means it: a date, a time and an offset (Z or ±hh:mm).
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# Only these formats are checked, none of which looks anything up ("regex" would compile the officer's text with
# Python's re; "uri" and "hostname" checkers never fetch, but are not needed either).
FORMAT_CHECKER = FormatChecker(["date", "email", "uuid"])


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def is_date_time(value) -> bool:
    # jsonschema checks date-time only with rfc3339-validator installed; this needs nothing more.
    if not isinstance(value, str):
        return True
    if not DATE_TIME.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def is_date(value) -> bool:
    if not isinstance(value, str):
        return True
    date.fromisoformat(value)
    return len(value) == 10  # fromisoformat also takes 20260603 and 2026-W23-3


TYPE_NAMES = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
              "array": "a list", "object": "an object with named fields", "null": "null"}
FORMAT_NAMES = {"date": "a date such as 2026-06-03",
                "date-time": "a date and time with its offset, such as 2026-06-03T09:30:00+01:00",
                "email": "an email address", "uuid": "a UUID"}
SHOWN = 60  # characters of an offending value quoted back


def schema_error(schema) -> str | None:
    """Why ``schema`` cannot be a report type's schema, or None: it must be a valid draft 2020-12 schema of an
    object with named fields."""
    if not isinstance(schema, dict):
        return "The schema must be a JSON object."
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        return f"Not a valid JSON Schema{f' at {where}' if where else ''}: {error.message}"
    except RecursionError:
        return "The schema is nested too deeply."
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return 'The schema must describe an object: "type": "object" with "properties".'
    return schema_hazard(schema)


def validation_errors(schema: dict, data) -> dict[str, list[str]]:
    """Every way ``data`` breaks ``schema``, by field path (``age``, ``vulnerabilities.0``; ``""`` for the whole
    report); empty when it is valid."""
    # A schema published before the rules of reports.schema_safety: what could run away is never run.
    if hazard := schema_hazard(schema, publishing=False):
        return unusable(hazard)
    try:
        return found_errors(schema, data)
    except Unresolvable:
        return unusable("A $ref in it points outside the form or to nothing (nothing is ever fetched).")
    except re2.error:
        return unusable("A pattern in it cannot be used.")
    except RecursionError:
        return unusable("It is nested too deeply.")


def unusable(reason: str) -> dict[str, list[str]]:
    return {"": [f"This report type's form cannot be checked. {reason} Nothing was lost: keep the report as a "
                 "draft and ask an administrator to publish a corrected version of the form."]}


def found_errors(schema: dict, data) -> dict[str, list[str]]:
    validator = report_validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        for path, text in describe(error):
            text = f"{path}: {text}" if path else text
            if text not in errors.setdefault(path, []):
                errors[path].append(text)
    order = list(schema.get("properties", {}))
    return dict(sorted(errors.items(), key=lambda item: form_position(order, item[0])))


def form_position(order: list[str], path: str) -> tuple[int, str]:
    """Errors in the order the form shows the fields."""
    name = path.split(".", 1)[0]
    return (order.index(name) if name in order else len(order), path)


def draft_errors(schema: dict, data) -> dict[str, list[str]]:
    """What even a draft must be: an object of the schema's fields. Values are checked only on submission."""
    if not isinstance(data, dict):
        return {"": ["The report must be an object of named fields."]}
    known = schema.get("properties", {})
    return {name: [f"{name}: not a field of this report."] for name in sorted(data) if name not in known}


def describe(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) for one error; a missing field is named as itself, not as its parent."""
    path = ".".join(str(part) for part in error.absolute_path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        return [(join(path, name), "this field is required.") for name in missing]
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(value, dict):
        known, patterns = error.schema.get("properties", {}), list(error.schema.get("patternProperties", {}))
        return [(join(path, name), "not a field of this report.") for name in value
                if name not in known and not any(matches(p, name) for p in patterns)]
    return [(path, message(error))]


def message(error: ValidationError) -> str:
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else expected
        return f"{shown(value)} is not {' or '.join(TYPE_NAMES.get(t, t) for t in wanted)}."
    if keyword == "enum":
        return f"{shown(value)} is not one of {', '.join(str(option) for option in expected)}."
    if keyword == "const":
        return f"must be {shown(expected)}."
    if keyword == "format":
        return f"{shown(value)} is not {FORMAT_NAMES.get(expected, expected)}."
    if keyword == "minLength":
        return "must not be empty." if expected == 1 else f"must be at least {expected} characters long."
    if keyword == "maxLength":
        return f"must be at most {expected} characters long."
    if keyword == "minItems":
        return f"give at least {expected}."
    if keyword == "maxItems":
        return f"give at most {expected}."
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        return f"{error.message}."  # "-3 is less than the minimum of 0": numbers are short
    if keyword == "pattern":
        return f"{shown(value)} does not have the expected form."
    return error.message if len(error.message) <= 200 else error.message[:200] + "…"


def shown(value) -> str:
    text = repr(value) if isinstance(value, str) else _json(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _json(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return str(value)


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name



def schema_fields(schema) -> set[str]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return set(properties) if isinstance(properties, dict) else set()


def version_problems(*, schema, promoted_fields, grading_field: str, summary_fields) -> dict[str, str]:
    """What keeps a version from being used: a bad schema, or named fields the schema does not have."""
    if error := schema_error(schema):
        return {"schema": error}
    known = schema_fields(schema)
    problems = {}
    for name, value in (("promoted_fields", promoted_fields), ("summary_fields", summary_fields)):
        if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
            problems[name] = "A list of field names, e.g. [\"name\", \"age\"]."
        elif missing := [f for f in value if f not in known]:
            problems[name] = f"Not in the schema: {', '.join(missing)}."
    if grading_field and grading_field not in known:
        problems["grading_field"] = f"Not in the schema: {grading_field}."
    return problems
