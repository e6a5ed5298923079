"""How the back office shows a report: its fields by its type's schema (the titles and help the phone's form
showed, in the form's order), the changes an amendment made, its grading and where it was filed from.

The report page and the review page both use these, through templates/admin/reports/_fields.html.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.utils.html import format_html

from reports.models import Report, ReportTypeVersion, ReportVersion

# Nesting shown as fields; anything deeper (a schema referring to itself) is shown as one line of text.
MAX_DEPTH = 4
# How close the map opens: about a street.
MAP_ZOOM = 17


@dataclass(frozen=True)
class ShownField:
    """One field as the page shows it: its title and help, and its value as text, a list, or groups of fields
    (an object, or a list of objects such as the people involved in an incident)."""

    name: str
    title: str
    help: str = ""
    text: str = ""
    items: tuple[str, ...] = ()
    groups: tuple[tuple[ShownField, ...], ...] = ()


@dataclass(frozen=True)
class Grading:
    title: str
    value: str


def shown_fields(type_version: ReportTypeVersion, data, *, leave_out: tuple[str, ...] = ()) -> list[ShownField]:
    """The fields ``data`` gives, in the schema's order, then any the schema does not name; empty ones left out."""
    schema = type_version.schema if isinstance(type_version.schema, dict) else {}
    return fields_of(schema, schema, data, leave_out=leave_out, depth=0)


def fields_of(root: dict, schema: dict, data, *, leave_out=(), depth: int) -> list[ShownField]:
    if not isinstance(data, dict):
        return []
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    names = [name for name in properties if name in data] + [name for name in data if name not in properties]
    return [field_of(root, resolved(root, properties.get(name)), name, data[name], depth)
            for name in names if name not in leave_out and not is_empty(data[name])]


def field_of(root: dict, spec: dict, name: str, value, depth: int) -> ShownField:
    title, help_text = str(spec.get("title") or name.replace("_", " ").capitalize()), str(spec.get("description", ""))
    if isinstance(value, dict) and depth < MAX_DEPTH:
        groups = (tuple(fields_of(root, spec, value, depth=depth + 1)),)
        return ShownField(name, title, help_text, groups=groups)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and depth < MAX_DEPTH:
        item = resolved(root, spec.get("items"))
        groups = tuple(tuple(fields_of(root, item, v, depth=depth + 1)) for v in value)
        return ShownField(name, title, help_text, groups=groups)
    if isinstance(value, list):
        item = resolved(root, spec.get("items"))
        return ShownField(name, title, help_text, items=tuple(text_of(item, v) for v in value))
    return ShownField(name, title, help_text, text=text_of(spec, value))


def resolved(root: dict, spec) -> dict:
    """``spec`` with a reference within the schema (``#/$defs/person``) followed, once: the schema was checked
    when it was published (reports.schema_safety), and this only needs its titles."""
    if not isinstance(spec, dict):
        return {}
    ref = spec.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return spec
    target = root
    for part in ref[2:].split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
    return {**target, **{k: v for k, v in spec.items() if k != "$ref"}} if isinstance(target, dict) else spec


def text_of(spec: dict, value) -> str:
    """One value as a line of text: yes/no, a date and time as written with its offset, an object's fields."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and spec.get("format") == "date-time":
        return date_time_text(value)
    if isinstance(value, dict):
        properties = spec.get("properties") if isinstance(spec.get("properties"), dict) else {}
        return "; ".join(f"{(properties.get(k) or {}).get('title', k)}: {text_of(properties.get(k) or {}, v)}"
                         for k, v in value.items() if not is_empty(v))
    if isinstance(value, list):
        return ", ".join(text_of(spec.get("items") or {}, v) for v in value)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def date_time_text(value: str) -> str:
    """``2026-06-03T08:30:00+01:00`` as ``2026-06-03 08:30 +01:00``: the officer's own clock time and offset."""
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return value
    offset = moment.strftime("%z")
    offset = f" {offset[:3]}:{offset[3:]}" if offset else ""
    return moment.strftime("%Y-%m-%d %H:%M") + offset


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def grading_of(type_version: ReportTypeVersion, grading: str) -> Grading | None:
    """The grading and the title its form gives it ("Risk grading"), or None for a type without one."""
    if not type_version.grading_field:
        return None
    properties = type_version.schema.get("properties") if isinstance(type_version.schema, dict) else None
    spec = (properties or {}).get(type_version.grading_field) or {}
    return Grading(title=str(spec.get("title") or "Grading"), value=grading or "not graded")


def changes_of(version: ReportVersion, before: ReportVersion | None) -> list[tuple[str, str, str]]:
    """(title, before, after) for each field an amendment changed, in the form's order."""
    if before is None:
        return []
    schema = version.type_version.schema if isinstance(version.type_version.schema, dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    old = before.data if isinstance(before.data, dict) else {}
    new = version.data if isinstance(version.data, dict) else {}
    names = [n for n in properties if n in old or n in new] + [n for n in {**old, **new} if n not in properties]
    changed = []
    for name in names:
        if old.get(name) != new.get(name):
            spec = resolved(schema, properties.get(name))
            changed.append((str(spec.get("title") or name), text_of(spec, old.get(name)) or "(none)",
                            text_of(spec, new.get(name)) or "(none)"))
    return changed


def location_html(report: Report) -> str:
    """The coordinates the phone sent, their accuracy, and a link that opens them on OpenStreetMap."""
    if report.latitude is None or report.longitude is None:
        return "No location: the phone had no fix"
    latitude, longitude = coordinate(report.latitude), coordinate(report.longitude)
    accuracy = f"± {report.accuracy_m} m" if report.accuracy_m is not None else "accuracy not given"
    return format_html(
        '<span class="report-coordinates">{}, {}</span> ({}) '
        '<a class="report-map-link" href="{}" target="_blank" rel="noopener noreferrer">Open in a map</a>',
        latitude, longitude, accuracy, map_url(latitude, longitude),
    )


def coordinate(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def map_url(latitude: str, longitude: str) -> str:
    """OpenStreetMap with a marker at the point: a link the supervisor follows, nothing the page loads."""
    query = urlencode({"mlat": latitude, "mlon": longitude})
    return f"https://www.openstreetmap.org/?{query}#map={MAP_ZOOM}/{latitude}/{longitude}"
