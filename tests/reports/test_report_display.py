"""A report's fields as the back office shows them: by the titles of its form, whatever shape the form has."""

from decimal import Decimal

from reports.models import Report, ReportTypeVersion
from reports.report_display import grading_of, location_html, shown_fields

PERSON = {"type": "object", "title": "Person",
          "properties": {"name": {"type": "string", "title": "Full name"},
                         "injured": {"type": "boolean", "title": "Injured"}}}
FORM = {
    "type": "object",
    "$defs": {"person": PERSON},
    "properties": {
        "victim": {"$ref": "#/$defs/person", "description": "Who was hurt."},
        "when": {"type": "string", "format": "date-time", "title": "When"},
        "risk": {"type": "string", "title": "Urgency", "enum": ["low", "high"]},
    },
}


def form(**fields) -> ReportTypeVersion:
    return ReportTypeVersion(schema=FORM, grading_field="risk", promoted_fields=[], summary_fields=[], **fields)


def test_a_field_defined_by_reference_is_shown_by_the_titles_it_refers_to():
    [victim] = shown_fields(form(), {"victim": {"name": "Jo Bloggs", "injured": False}})

    assert (victim.title, victim.help) == ("Person", "Who was hurt.")
    [[name, injured]] = victim.groups
    assert (name.title, name.text, injured.title, injured.text) == ("Full name", "Jo Bloggs", "Injured", "no")


def test_a_time_is_shown_at_the_officers_clock_with_its_offset_and_empty_fields_are_left_out():
    fields = shown_fields(form(), {"when": "2026-06-03T08:30:00+01:00", "victim": {}, "risk": ""})

    assert [(f.title, f.text) for f in fields] == [("When", "2026-06-03 08:30 +01:00")]


def test_a_field_the_form_does_not_name_is_shown_by_its_name_after_the_others():
    fields = shown_fields(form(), {"badge_seen": "4411", "when": "not a time"})

    assert [(f.title, f.text) for f in fields] == [("When", "not a time"), ("Badge seen", "4411")]


def test_the_grading_takes_its_title_from_the_form():
    grading = grading_of(form(), "high")

    assert (grading.title, grading.value) == ("Urgency", "high")
    assert grading_of(ReportTypeVersion(schema=FORM, grading_field=""), "") is None


def test_a_location_without_accuracy_says_so_and_its_coordinates_lose_trailing_zeros():
    report = Report(latitude=Decimal("51.500000"), longitude=Decimal("-0.120000"), accuracy_m=None)

    html = location_html(report)

    assert "51.5, -0.12</span> (accuracy not given)" in html
    assert 'href="https://www.openstreetmap.org/?mlat=51.5&amp;mlon=-0.12#map=17/51.5/-0.12"' in html
