"""The field app's JSON Schema module (fieldapp/static/fieldapp/schema.js) run in Chromium against the server's own
checker (reports/schemas.py): the same reports are refused, with the errors on the same fields, for every keyword
draft 2020-12 has; and the form (schema_form.js) drawn from a schema that uses them."""

import importlib

import pytest
from jsonschema import Draft202012Validator
from jsonschema_specifications import REGISTRY
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from reports.schemas import schema_error, validation_errors
from tests.browser.app_steps import open_app

SHIPPED = importlib.import_module("reports.migrations.0002_report_types")
SCHEMA_JS = "/static/fieldapp/schema.js"
RUN = """
const [url, cases, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
import(url).then(({ Schema, KEYWORDS }) => done({
  errors: cases.map(([schema, data]) => new Schema(schema).errors(data)), keywords: KEYWORDS,
}), (error) => done({ failed: String(error) }));
"""

OBJ = "object"


def props(**fields) -> dict:
    return {"type": OBJ, "properties": fields}


CHILD = {"name": "Amy Clarke", "age": 9, "date_of_birth": "2017-02-14", "description": "Slim, long brown hair",
         "last_seen_place": "Brixton station", "last_seen_at": "2026-06-03T08:40:00+01:00",
         "vulnerabilities": ["child"], "grading": "high", "rationale": "Nine years old and alone"}
INCIDENT = {"title": "Window smashed", "category": "criminal-damage", "description": "Brick through the window",
            "occurred_at": "2026-06-03T02:10:00Z", "people_involved": [{"name": "Sam Lee", "role": "witness"}]}
DEFS = {"$defs": {"person": {"type": OBJ, "required": ["name"], "properties": {"name": {"type": "string",
                                                                                      "minLength": 1}}},
                  "a/b": {"type": "integer"}, "t~n": {"type": "string"}, "in words": {"enum": ["yes"]}},
        "definitions": {"code": {"pattern": "^[A-Z]{2}$"}}}

# (schema, report) pairs: every keyword of draft 2020-12, each passed and broken, and the shipped types.
CASES = [
    # type
    (props(a={"type": "integer"}), {"a": 1.5}), (props(a={"type": "integer"}), {"a": 2}),
    (props(a={"type": ["string", "null"]}), {"a": None}), (props(a={"type": ["string", "null"]}), {"a": 3}),
    (props(a={"type": "number"}), {"a": True}), (props(a={"type": "boolean"}), {"a": 0}),
    (props(a={"type": "array"}), {"a": {}}), (props(a={"type": OBJ}), {"a": []}), ({"type": OBJ}, ["not", "object"]),
    # enum, const
    (props(g={"enum": ["low", "high"]}), {"g": "mid"}), (props(g={"enum": ["low", "high"]}), {"g": "low"}),
    (props(g={"enum": [1, True]}), {"g": 1}), (props(g={"enum": [1, True]}), {"g": False}),
    (props(c={"const": {"x": [1, 2]}}), {"c": {"x": [1, 2]}}),
    (props(c={"const": {"x": [1, 2]}}), {"c": {"x": [2, 1]}}),
    (props(c={"const": "yes"}), {"c": "no"}),
    # numbers
    (props(n={"minimum": 0, "maximum": 130}), {"n": -3}), (props(n={"minimum": 0, "maximum": 130}), {"n": 131}),
    (props(n={"minimum": 0, "maximum": 130}), {"n": 130}), (props(n={"exclusiveMinimum": 0}), {"n": 0}),
    (props(n={"exclusiveMaximum": 10}), {"n": 10}), (props(n={"exclusiveMaximum": 10}), {"n": 9.5}),
    (props(n={"multipleOf": 2}), {"n": 7}), (props(n={"multipleOf": 2}), {"n": 8}),
    (props(n={"multipleOf": 0.1}), {"n": 0.3}), (props(n={"multipleOf": 1.5}), {"n": 4.5}),
    (props(n={"minimum": 5}), {"n": "3"}),
    # strings
    (props(s={"minLength": 1}), {"s": ""}), (props(s={"minLength": 3}), {"s": "ab"}),
    (props(s={"maxLength": 2}), {"s": "😀😀"}), (props(s={"maxLength": 2}), {"s": "abc"}),
    (props(s={"pattern": "^[A-Z]{2}[0-9]+$"}), {"s": "AB12"}), (props(s={"pattern": "^[A-Z]{2}[0-9]+$"}), {"s": "A12"}),
    (props(s={"pattern": "[0-9]"}), {"s": "no digits"}), (props(s={"pattern": "(?i)^abc$"}), {"s": "ABC"}),
    # formats: the server checks date, date-time, email and uuid; any other is a hint
    *[(props(d={"format": "date"}), {"d": value}) for value in
      ("2026-06-03", "2026-02-29", "2024-02-29", "20260603", "2026-6-03", "0000-01-01", "2026-13-01")],
    *[(props(t={"format": "date-time"}), {"t": value}) for value in
      ("2026-06-03T08:30:00+01:00", "2026-06-03T08:30:00.123Z", "2026-06-03t08:30:00z", "2026-06-03 08:30:00Z",
       "2026-06-03T24:00:00Z", "2026-06-03T23:59:60Z", "2026-02-29T08:00:00Z", "2026-06-03T08:30+01:00",
       "2026-06-03T08:30:00", "2026-06-03T08:30:00+24:00", "2026-06-03T08:30:00-00:00")],
    (props(e={"format": "email"}), {"e": "pc.shah@met.example"}), (props(e={"format": "email"}), {"e": "pc.shah"}),
    (props(u={"format": "uuid"}), {"u": "6f1c2a9e-4b7d-4e21-9a55-3c8d0f7b1e42"}),
    (props(u={"format": "uuid"}), {"u": "6f1c2a9e4b7d4e219a553c8d0f7b1e42"}),
    (props(h={"format": "time"}), {"h": "not a time"}), (props(h={"format": "hostname"}), {"h": "-"}),
    (props(d={"format": "date"}), {"d": 20260603}),
    # objects
    ({**props(a={}, b={}), "required": ["a", "b"]}, {"b": 1}),
    ({**props(p={**props(q={}), "required": ["q"]})}, {"p": {}}),
    ({**props(a={}), "additionalProperties": False}, {"a": 1, "z": 2, "y": 3}),
    ({**props(a={}), "additionalProperties": {"type": "string"}}, {"a": 1, "z": 2}),
    ({**props(a={}), "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": False},
     {"x_one": "1", "other": 1}),
    ({"type": OBJ, "propertyNames": {"maxLength": 3}}, {"abcd": 1, "ab": 2}),
    ({"type": OBJ, "minProperties": 2}, {"a": 1}), ({"type": OBJ, "maxProperties": 1}, {"a": 1, "b": 2}),
    ({**props(card={}, expiry={}), "dependentRequired": {"card": ["expiry"]}}, {"card": "1234"}),
    ({**props(card={}), "dependentSchemas": {"card": {"required": ["expiry"]}}}, {"card": "1234"}),
    ({**props(card={}), "dependentSchemas": {"card": {"required": ["expiry"]}}}, {"other": 1}),
    # arrays
    (props(l={"items": {"type": "string", "maxLength": 3}}), {"l": ["ab", "abcd", 5]}),
    (props(l={"prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False}), {"l": [1, "a", "b"]}),
    (props(l={"prefixItems": [{"type": "integer"}, {"type": "string"}]}), {"l": ["x", 2, None]}),
    (props(l={"contains": {"const": "child"}}), {"l": ["adult"]}),
    (props(l={"contains": {"const": "child"}}), {"l": ["child"]}),
    (props(l={"contains": {"type": "integer"}, "minContains": 2}), {"l": [1, "a"]}),
    (props(l={"contains": {"type": "integer"}, "maxContains": 1}), {"l": [1, 2]}),
    (props(l={"minItems": 2}), {"l": [1]}), (props(l={"maxItems": 1}), {"l": [1, 2]}),
    (props(l={"uniqueItems": True}), {"l": [{"a": 1}, {"a": 1}]}), (props(l={"uniqueItems": True}), {"l": [1, True]}),
    (props(l={"prefixItems": [{"type": "integer"}], "unevaluatedItems": False}), {"l": [1, 2]}),
    (props(l={"allOf": [{"prefixItems": [{}, {}]}], "unevaluatedItems": False}), {"l": [1, 2]}),
    (props(l={"contains": {"type": "string"}, "unevaluatedItems": {"type": "integer"}}), {"l": ["a", 2, None]}),
    # combinators
    (props(v={"allOf": [{"minimum": 2}, {"maximum": 5}]}), {"v": 7}),
    (props(v={"anyOf": [{"type": "string"}, {"minimum": 10}]}), {"v": 3}),
    (props(v={"anyOf": [{"type": "string"}, {"minimum": 10}]}), {"v": 12}),
    (props(v={"oneOf": [{"type": "integer"}, {"minimum": 2}]}), {"v": 3}),
    (props(v={"oneOf": [{"type": "integer"}, {"minimum": 2}]}), {"v": 1.5}),
    (props(v={"oneOf": [{"type": "integer"}, {"minimum": 2}]}), {"v": 1}),
    (props(v={"not": {"type": "string"}}), {"v": "text"}),
    ({**props(grading={}, rationale={}), "if": {"properties": {"grading": {"const": "high"}}, "required": ["grading"]},
      "then": {"required": ["rationale"]}, "else": {"properties": {"rationale": {"maxLength": 3}}}},
     {"grading": "high"}),
    ({**props(grading={}, rationale={}), "if": {"properties": {"grading": {"const": "high"}}, "required": ["grading"]},
      "then": {"required": ["rationale"]}, "else": {"properties": {"rationale": {"maxLength": 3}}}},
     {"grading": "low", "rationale": "long"}),
    # references
    ({**DEFS, **props(p={"$ref": "#/$defs/person"})}, {"p": {"name": ""}}),
    ({**DEFS, **props(p={"$ref": "#/$defs/person", "required": ["badge"]})}, {"p": {}}),
    ({**DEFS, **props(n={"$ref": "#/$defs/a~1b"}, t={"$ref": "#/$defs/t~0n"})}, {"n": "1", "t": 2}),
    ({**DEFS, **props(w={"$ref": "#/$defs/in%20words"})}, {"w": "no"}),
    ({**DEFS, **props(c={"$ref": "#/definitions/code"})}, {"c": "abc"}),
    ({"$defs": {"x": {"$anchor": "grade", "enum": [1, 2]}}, **props(g={"$ref": "#grade"})}, {"g": 3}),
    ({"$defs": {"x": {"$dynamicAnchor": "item", "type": "string"}}, **props(i={"$dynamicRef": "#item"})}, {"i": 1}),
    ({"$defs": {"people": {"type": "array", "items": {"$ref": "#/$defs/person"}}, **DEFS["$defs"]},
      **props(list={"$ref": "#/$defs/people"})}, {"list": [{"name": "A"}, {}]}),
    # unevaluatedProperties
    ({**props(a={}), "unevaluatedProperties": False}, {"a": 1, "b": 2}),
    ({"type": OBJ, "allOf": [props(a={})], "unevaluatedProperties": False}, {"a": 1}),
    ({**props(a={}), "allOf": [props(b={})], "unevaluatedProperties": False}, {"a": 1, "b": 2, "c": 3}),
    ({**props(a={}), "unevaluatedProperties": {"type": "integer"}}, {"a": "x", "b": 2, "c": "3"}),
    # annotations only: they never refuse anything
    (props(a={"title": "A", "description": "d", "default": 1, "examples": [2], "deprecated": True,
               "readOnly": True, "writeOnly": True, "$comment": "c", "contentEncoding": "base64",
               "contentMediaType": "image/png", "contentSchema": {"type": "integer"}}), {"a": "anything"}),
    (props(a=False), {"a": 1}), (props(a=True), {"a": 1}),
    # the shipped types
    (SHIPPED.MISSING_PERSON, CHILD), (SHIPPED.MISSING_PERSON, {}),
    (SHIPPED.MISSING_PERSON, {**CHILD, "age": -3, "grading": "severe", "date_of_birth": "2017-02-30",
                              "vulnerabilities": ["", "x" * 201], "nickname": "Ames", "last_seen_at": "today"}),
    (SHIPPED.WELFARE_CONCERN, {"subject_name": "Jo", "address": "1 High St", "concern": "Not seen", "urgency": "low"}),
    (SHIPPED.WELFARE_CONCERN, {"subject_name": "", "subject_age": 1.5, "urgency": "now"}),
    (SHIPPED.INCIDENT, INCIDENT),
    (SHIPPED.INCIDENT, {**INCIDENT, "people_involved": [{"name": "Sam"}, {"role": "boss", "age": 3}] * 26}),
]
# Keywords whose messages are worded as the server words them (the others name the same field, worded more simply).
SAME_WORDS = {"required", "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum",
              "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
              "additionalProperties"}


def run(driver, cases):
    driver.set_script_timeout(20)
    result = driver.execute_async_script(RUN, SCHEMA_JS, cases)
    assert "failed" not in result, result
    return result


@pytest.fixture
def page(browser):
    return open_app(browser)


def test_the_cases_are_forms_the_publish_check_allows():
    assert [(index, schema_error(schema)) for index, (schema, _) in enumerate(CASES)
            if isinstance(schema, dict) and schema.get("properties") and schema_error(schema)] == []


def test_the_phone_refuses_what_the_server_refuses_on_the_same_fields(page):
    phone = run(page, [list(case) for case in CASES])["errors"]

    for (schema, data), found in zip(CASES, phone, strict=True):
        server = validation_errors(schema, data)
        assert found.keys() == server.keys(), (schema, data, found, server)
        if set(keywords(schema)) <= SAME_WORDS | {"type", "properties", "$schema", "title", "description"}:
            assert found == server, (schema, data)


def keywords(node):
    if isinstance(node, bool):
        yield "a schema that is true or false"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            if key not in ("properties", "$defs", "patternProperties", "dependentSchemas"):
                yield from keywords(value)
            else:
                for child in value.values() if isinstance(value, dict) else ():
                    yield from keywords(child)
    elif isinstance(node, list):
        for item in node:
            yield from keywords(item)


def test_every_keyword_of_draft_2020_12_is_drawn_checked_or_knowingly_ignored(page):
    known = run(page, [])["keywords"]
    vocabulary = {keyword for uri in REGISTRY if uri.startswith("https://json-schema.org/draft/2020-12/meta/")
                  for keyword in REGISTRY.contents(uri).get("properties", {})}

    assert vocabulary | set(Draft202012Validator.VALIDATORS) <= known.keys()
    assert [keyword for keyword in Draft202012Validator.VALIDATORS if "checked" not in known[keyword]] == []
    shipped = {keyword for shipped in SHIPPED.TYPES for keyword in keywords(shipped["schema"])}
    assert [keyword for keyword in shipped if keyword in known and "form" not in known[keyword]
            and "ignored" not in known[keyword]] == []
    assert page.find_element(By.CSS_SELECTOR, "header h1").text == "Enrol this phone"


# ---- the form drawn from a schema ----------------------------------------------------------------------------

FORM = {
    "type": OBJ, "required": ["kind", "count", "officer"],
    "$defs": {"officer": {"type": OBJ, "title": "Officer", "required": ["badge"], "properties": {
        "badge": {"type": "string", "title": "Badge number", "pattern": "^[0-9]{4}[A-Z]{2}$",
                  "examples": ["1450BX"]}}}},
    "properties": {
        "form": {"const": "v2", "title": "Form version"},
        "kind": {"title": "Kind", "oneOf": [{"const": "rtc", "title": "Road traffic collision"},
                                            {"const": "fire", "title": "Fire"}]},
        "count": {"type": "integer", "title": "Vehicles", "minimum": 1, "maximum": 20, "default": 1},
        "speed": {"type": "number", "title": "Speed", "exclusiveMinimum": 0, "multipleOf": 0.5},
        "injured": {"type": "boolean", "title": "Anyone injured"},
        "injuries": {"type": "string", "title": "Injuries", "maxLength": 50},
        "colour": {"title": "Colour", "enum": ["red", "orange", "yellow", "green", "blue", "indigo", "violet"]},
        "email": {"type": "string", "format": "email", "title": "Email"},
        "seen": {"type": "string", "format": "date", "title": "Seen on"},
        "at": {"type": "string", "format": "date-time", "title": "At"},
        "ref": {"type": "string", "readOnly": True, "default": "AUTO-1", "title": "Reference"},
        "old": {"type": "string", "deprecated": True, "title": "Old field"},
        "officer": {"$ref": "#/$defs/officer", "title": "Reporting officer"},
        "hazards": {"type": "array", "title": "Hazards", "uniqueItems": True,
                    "items": {"enum": ["fuel", "glass", "electric"]}},
        "witnesses": {"type": "array", "title": "Witnesses", "minItems": 1, "maxItems": 2,
                      "items": {"type": "string", "title": "Witness"}},
        "point": {"type": "array", "title": "Grid point", "items": False,
                  "prefixItems": [{"type": "number", "title": "Easting"}, {"type": "number", "title": "Northing"}]},
        "vehicle": {"title": "Vehicle", "oneOf": [
            {"title": "Car", "type": OBJ, "required": ["reg"], "properties": {"reg": {"type": "string",
                                                                                       "title": "Registration"}}},
            {"title": "Bicycle", "type": OBJ, "properties": {"frame": {"type": "string", "title": "Frame number"}}}]},
        "card": {"type": "string", "title": "Card"},
        "expiry": {"type": "string", "title": "Expiry"},
    },
    "dependentRequired": {"card": ["expiry"]},
    "if": {"properties": {"injured": {"const": True}}, "required": ["injured"]},
    "then": {"required": ["injuries"], "properties": {"ambulance": {"type": "boolean", "title": "Ambulance called"}}},
}
DRAW = """
const [base, json, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
(async () => {
  const { html, render } = await import(base + "html.js");
  const { SchemaForm, initial } = await import(base + "schema_form.js");
  const { Schema } = await import(base + "schema.js");
  const schema = new Schema(json);
  const root = document.createElement("div");
  root.id = "form-under-test";
  document.body.prepend(root);
  let errors = {};
  window.formValue = initial(schema);
  const draw = () => render(html`<${SchemaForm} schema=${schema} value=${window.formValue} errors=${errors}
    onChange=${(value) => { window.formValue = value; draw(); }} />`, root);
  window.showErrors = (shown) => { errors = shown; draw(); };
  draw();
  return window.formValue;
})().then(done, (error) => done({ failed: String(error) }));
"""


def value(driver):
    return driver.execute_script("return window.formValue;")


def label_of(driver, element_id: str) -> str:
    element = driver.find_element(By.ID, element_id)
    if element.tag_name == "fieldset":
        return element.find_element(By.TAG_NAME, "legend").text
    return driver.find_element(By.CSS_SELECTOR, f"label[for='{element_id}']").text


def test_the_form_draws_each_keyword_and_gives_back_what_is_filled_in(page):
    page.set_script_timeout(20)
    start = page.execute_async_script(DRAW, "/static/fieldapp/", FORM)
    assert start == {"form": "v2", "count": 1, "ref": "AUTO-1", "officer": {}, "witnesses": [""]}

    def the(path):
        return page.find_element(By.ID, f"field-{path}")

    # Labels from titles ($ref's own title first), required and deprecated said, help from examples.
    assert label_of(page, "field-kind") == "Kind (required)"
    assert label_of(page, "field-officer") == "Reporting officer (required)"
    assert label_of(page, "field-officer.badge") == "Badge number (required)"
    assert the("officer.badge").get_attribute("placeholder") == "e.g. 1450BX"
    assert label_of(page, "field-old") == "Old field (no longer used)"
    assert the("form").text == "V2" and the("ref").get_attribute("readonly") == "true"
    # Pickers: numbers with their bounds, dates, email, choices as radios or a list.
    count = the("count")
    assert [count.get_attribute(a) for a in ("type", "min", "max", "step", "value")] == ["number", "1", "20", "1", "1"]
    assert the("speed").get_attribute("step") == "0.5"
    assert [the(p).get_attribute("type") for p in ("seen", "at", "email")] == ["date", "datetime-local", "email"]
    assert the("injuries").get_attribute("maxlength") == "50"
    assert [e.text for e in the("kind").find_elements(By.CSS_SELECTOR, "label.choice")] == [
        "Road traffic collision", "Fire"]
    assert [e.text for e in the("injured").find_elements(By.CSS_SELECTOR, "label.choice")] == [
        "Yes", "No", "Not given"]
    assert [o.text for o in the("colour").find_elements(By.TAG_NAME, "option")][:3] == ["Not given", "Red", "Orange"]
    assert [e.text for e in the("hazards").find_elements(By.CSS_SELECTOR, "label.choice")] == [
        "Fuel", "Glass", "Electric"]

    page.find_element(By.ID, "field-kind-1").click()
    page.find_element(By.ID, "field-hazards-2").click()
    page.find_element(By.ID, "field-hazards-0").click()
    the("officer.badge").send_keys("1450BX")
    # Lists: one witness to start (minItems), none removable below it, no Add past maxItems.
    assert label_of(page, "field-witnesses.0") == "Witness 1"
    assert not the("witnesses").find_elements(By.CSS_SELECTOR, "button.remove")
    page.find_element(By.ID, "field-witnesses-add").click()
    assert not page.find_elements(By.ID, "field-witnesses-add")
    assert len(the("witnesses").find_elements(By.CSS_SELECTOR, "button.remove")) == 2
    the("witnesses.1").send_keys("Sam Lee")
    page.find_element(By.ID, "field-point-add").click()
    page.find_element(By.ID, "field-point-add").click()
    assert [label_of(page, f"field-point.{i}") for i in (0, 1)] == ["Easting 1", "Northing 2"]
    assert not page.find_elements(By.ID, "field-point-add")  # items: false
    # A oneOf of shapes: choose one, its fields follow.
    Select(page.find_element(By.ID, "field-vehicle-which")).select_by_visible_text("Car")
    the("vehicle.reg").send_keys("LX26 ABC")
    # if/then and dependentRequired: fields and requirements appear with the answers.
    assert not page.find_elements(By.ID, "field-ambulance") and label_of(page, "field-injuries") == "Injuries"
    page.find_element(By.ID, "field-injured-0").click()
    assert label_of(page, "field-injuries") == "Injuries (required)"
    assert label_of(page, "field-ambulance") == "Ambulance called"
    the("card").send_keys("4000")
    assert label_of(page, "field-expiry") == "Expiry (required)"

    filled = value(page)
    assert {key: filled[key] for key in ("kind", "hazards", "officer", "witnesses", "vehicle", "injured", "card")} == {
        "kind": "fire", "hazards": ["fuel", "electric"], "officer": {"badge": "1450BX"}, "witnesses": ["", "Sam Lee"],
        "vehicle": {"reg": "LX26 ABC"}, "injured": True, "card": "4000"}
    assert filled["point"] == [None, None]

    # Errors by path, as schema.js and the server's 400 name them, each on its field.
    page.execute_script("window.showErrors(arguments[0]);", {
        "count": ["count: 0 is less than the minimum of 1."], "officer.badge": ["officer.badge: 'x' does not have "
                                                                              "the expected form."]})
    assert the("count").get_attribute("aria-invalid") == "true"
    assert page.find_element(By.ID, "field-count-error").text == "0 is less than the minimum of 1."
    assert page.find_element(By.ID, "field-officer.badge-error").text == "'x' does not have the expected form."
    assert "field-count-error" in the("count").get_attribute("aria-describedby")
