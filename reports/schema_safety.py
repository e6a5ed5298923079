"""What a report type's schema may hold, so that checking a report against it can neither reach the network nor
run away.

An admin types the schema, and every submission is checked against it on the web server. So:

- a ``$ref`` must point inside the schema (``#...``), and the registry used to validate never retrieves anything:
  a remote ``$ref`` once made the validator ``urlopen`` it, with no timeout;
- regular expressions (``pattern``, the names in ``patternProperties``) run on RE2, whose time grows with the
  text and never explodes the way Python's backtracking ``re`` does on ``^(a+)+$``. A pattern RE2 cannot run
  (backreferences, lookaround) is refused when the version is published;
- ``unevaluatedProperties`` next to ``patternProperties`` is refused: jsonschema matches those names with
  Python's ``re`` inside its own code, where RE2 cannot be put;
- ``$ref`` may not lead back into itself (a report form is not recursive; ``{"$ref": "#"}`` never ends), and the
  schema with every ``$ref`` written out in full is at most ``MAX_SUBSCHEMAS`` schemas, so nesting references
  two by two cannot make one check do millions of steps.

``schema_hazard`` is checked when a version is published. Before each check against a stored schema (one
published before these rules) only what could run away is checked (``publishing=False``): a cycle, too many
parts, ``unevaluatedProperties`` with ``patternProperties``. Such a schema is not run at all. A remote ``$ref``
or a pattern RE2 cannot run is left in: a report that never reaches it is checked as usual (a missing person
report must not wait on a field it does not use), and one that does gets a clear error, never a fetch.
"""

from __future__ import annotations

import functools

import re2
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

MAX_SUBSCHEMAS = 2000
REFERENCES = ("$ref", "$dynamicRef", "$recursiveRef")
ONE_SCHEMA = ("additionalProperties", "unevaluatedProperties", "items", "additionalItems", "unevaluatedItems",
              "contains", "propertyNames", "not", "if", "then", "else")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the admin, not printed on the server's stderr


class SchemaHazard(Exception):
    """Why checking reports against this schema is not safe, in words for the admin who wrote it."""


@functools.lru_cache(maxsize=512)
def compiled(pattern: str):
    return re2.compile(pattern, _RE2_OPTIONS)


def matches(pattern: str, text: str) -> bool:
    return compiled(pattern).search(text) is not None


# jsonschema's keywords, with RE2 where they use Python's ``re``.

def pattern(validator, expected, instance, schema):
    if validator.is_type(instance, "string") and not matches(expected, instance):
        yield ValidationError(f"{instance!r} does not match {expected!r}")


def pattern_properties(validator, patterns, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for expected, subschema in patterns.items():
        for name, value in instance.items():
            if matches(expected, name):
                yield from validator.descend(value, subschema, path=name, schema_path=expected)


def additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    known, patterns = schema.get("properties", {}), list(schema.get("patternProperties", {}))
    extras = sorted((name for name in instance
                     if name not in known and not any(matches(p, name) for p in patterns)), key=str)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif additional is False and extras:
        yield ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))} unexpected)")


ReportSchemaValidator = validators.extend(Draft202012Validator, {
    "pattern": pattern, "patternProperties": pattern_properties, "additionalProperties": additional_properties,
})


def report_validator(schema: dict, *, format_checker) -> Draft202012Validator:
    """A validator for a report type's schema whose registry holds only the schema itself: nothing is fetched."""
    return ReportSchemaValidator(schema, format_checker=format_checker, registry=Registry())


def schema_hazard(schema, *, publishing: bool = True) -> str | None:
    """Why ``schema`` is not safe to check reports against (see the module's docstring), or None."""
    if not isinstance(schema, dict):
        return None
    try:
        Walk(schema, publishing=publishing).size(schema, "")
    except SchemaHazard as hazard:
        return str(hazard)
    except RecursionError:
        return "The schema is nested too deeply."
    return None


class Walk:
    """Visits every subschema with each ``$ref`` followed, counting the schemas a check may visit."""

    def __init__(self, root: dict, *, publishing: bool):
        self.publishing = publishing
        resource = DRAFT202012.create_resource(root)
        base = resource.id() or ""
        self.resolver = Registry().with_resource(base, resource).resolver(base)
        self.root = root
        self.pattern_properties = has_pattern_properties(root)
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def size(self, node, where: str) -> int:
        if not isinstance(node, dict):
            return 1
        if id(node) in self.sizes:
            return self.sizes[id(node)]
        if id(node) in self.open:
            raise SchemaHazard(f"The $ref at {where or '/'} leads back to a schema that contains it: a report form "
                               "cannot refer to itself.")
        self.open.add(id(node))
        self.check_node(node, where)
        total = 1 + sum(self.size(child, path) for child, path in children(node, where))
        for keyword in REFERENCES:
            if isinstance(node.get(keyword), str) and (target := self.target(node[keyword], where)) is not None:
                total += self.size(target, f"{where}/{keyword}")
        if total > MAX_SUBSCHEMAS:
            raise SchemaHazard(f"With its $refs written out the schema has more than {MAX_SUBSCHEMAS} parts; "
                               "simplify it.")
        self.open.discard(id(node))
        self.sizes[id(node)] = total
        return total

    def check_node(self, node: dict, where: str) -> None:
        if "unevaluatedProperties" in node and self.pattern_properties:
            raise SchemaHazard("unevaluatedProperties cannot be used together with patternProperties; use "
                               "additionalProperties instead.")
        if not self.publishing:
            return
        if "$id" in node and node is not self.root:
            raise SchemaHazard(f"$id at {where}: only the schema itself may have an $id.")
        expressions = [("pattern", node["pattern"])] if isinstance(node.get("pattern"), str) else []
        if isinstance(node.get("patternProperties"), dict):
            expressions += [("patternProperties", name) for name in node["patternProperties"]]
        for keyword, expression in expressions:
            try:
                compiled(expression)
            except re2.error as error:
                reason = error.args[0].decode(errors="replace") if error.args and isinstance(
                    error.args[0], bytes) else str(error)
                raise SchemaHazard(f"The regular expression {expression[:60]!r} ({keyword} at {where or '/'}) "
                                   f"cannot be used: {reason}. Backreferences and lookaround are not "
                                   "supported.") from None

    def target(self, reference: str, where: str):
        """The subschema ``reference`` points to; None for one that is never followed (only when not publishing:
        the validator's registry cannot fetch it and says so if a report reaches it)."""
        if not reference.startswith("#"):
            if not self.publishing:
                return None
            raise SchemaHazard(f"$ref {reference[:100]!r} at {where or '/'} points outside the schema; only "
                               "references within it (starting with #) are allowed, and nothing is fetched.")
        try:
            return self.resolver.lookup(reference).contents
        except Unresolvable:
            if not self.publishing:
                return None
            raise SchemaHazard(f"$ref {reference[:100]!r} at {where or '/'} points to nothing in the "
                               "schema.") from None


def children(node: dict, where: str):
    for keyword in ONE_SCHEMA:
        if isinstance(node.get(keyword), (dict, bool)):
            yield node[keyword], f"{where}/{keyword}"
    for keyword in SCHEMA_LISTS:
        if isinstance(node.get(keyword), list):
            yield from ((child, f"{where}/{keyword}/{i}") for i, child in enumerate(node[keyword]))
    for keyword in SCHEMA_MAPS:
        if isinstance(node.get(keyword), dict):
            yield from ((child, f"{where}/{keyword}/{name}") for name, child in node[keyword].items())


def has_pattern_properties(node) -> bool:
    if isinstance(node, dict):
        return "patternProperties" in node or any(has_pattern_properties(v) for v in node.values())
    if isinstance(node, list):
        return any(has_pattern_properties(v) for v in node)
    return False
