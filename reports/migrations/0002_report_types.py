"""The report types Muster ships (missing person, welfare concern, incident), version 1 each, and what each
role may do with the reports models in the back office.

The schemas are written out here rather than imported: a migration must keep doing what it did when it was
written, whatever later versions of the types look like.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

DRAFT = "https://json-schema.org/draft/2020-12/schema"

MISSING_PERSON = {
    "$schema": DRAFT,
    "title": "Missing person",
    "type": "object",
    "required": ["name", "age", "description", "last_seen_place", "last_seen_at", "grading", "rationale"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 200,
                 "description": "Full name as the informant gives it, with any other names they use."},
        "age": {"type": "integer", "title": "Age", "minimum": 0, "maximum": 130,
                "description": "In years. Your best estimate if the date of birth is not known."},
        "date_of_birth": {"type": "string", "format": "date", "title": "Date of birth",
                          "description": "If known, as YYYY-MM-DD."},
        "description": {"type": "string", "title": "Description", "minLength": 1, "maxLength": 2000,
                        "description": "Height, build, hair, ethnic appearance, glasses, scars and other marks."},
        "clothing": {"type": "string", "title": "Clothing", "maxLength": 1000,
                     "description": "What they were last seen wearing, and anything they carried."},
        "last_seen_place": {"type": "string", "title": "Last seen (place)", "minLength": 1, "maxLength": 300,
                            "description": "Address or landmark where they were last seen."},
        "last_seen_at": {"type": "string", "format": "date-time", "title": "Last seen (time)",
                         "description": "Date and time with the UTC offset, e.g. 2026-06-03T08:30:00+01:00."},
        "vulnerabilities": {"type": "array", "title": "Vulnerabilities", "maxItems": 20,
                            "items": {"type": "string", "minLength": 1, "maxLength": 200},
                            "description": "One entry each: e.g. child, medical condition, medication needed, "
                                           "mental health, learning disability, risk of exploitation."},
        "risk_factors": {"type": "string", "title": "Risk factors", "maxLength": 2000,
                         "description": "What raises the risk: out of character, weather, threats, missing "
                                        "before, where they may go."},
        "grading": {"type": "string", "title": "Risk grading",
                    "enum": ["no-apparent-risk", "low", "medium", "high"],
                    "description": "no-apparent-risk, low, medium or high, as the missing persons guidance "
                                   "defines them. High risk is circulated at once."},
        "rationale": {"type": "string", "title": "Rationale", "minLength": 1, "maxLength": 2000,
                      "description": "Why you chose this grading."},
    },
}

WELFARE_CONCERN = {
    "$schema": DRAFT,
    "title": "Welfare concern",
    "type": "object",
    "required": ["subject_name", "address", "concern", "urgency"],
    "additionalProperties": False,
    "properties": {
        "subject_name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 200,
                         "description": "The person there is a concern for."},
        "subject_age": {"type": "integer", "title": "Age", "minimum": 0, "maximum": 130,
                        "description": "In years, if known or estimated."},
        "address": {"type": "string", "title": "Address", "minLength": 1, "maxLength": 300,
                    "description": "Where the person lives or was found."},
        "concern": {"type": "string", "title": "Concern", "minLength": 1, "maxLength": 4000,
                    "description": "What the concern is and who raised it."},
        "urgency": {"type": "string", "title": "Urgency", "enum": ["low", "medium", "high"],
                    "description": "low, medium or high: how soon someone must act."},
        "actions_taken": {"type": "string", "title": "Actions taken", "maxLength": 4000,
                          "description": "What you did: visits, calls, who else was told."},
    },
}

INCIDENT = {
    "$schema": DRAFT,
    "title": "Incident",
    "type": "object",
    "required": ["title", "category", "description", "occurred_at"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "title": "Title", "minLength": 1, "maxLength": 200,
                  "description": "A short line, e.g. 'Shop window smashed, Atlantic Road'."},
        "category": {"type": "string", "title": "Category",
                     "enum": ["assault", "burglary", "criminal-damage", "disorder", "road-traffic-collision",
                              "theft", "public-safety", "other"],
                     "description": "The closest category."},
        "description": {"type": "string", "title": "What happened", "minLength": 1, "maxLength": 4000},
        "occurred_at": {"type": "string", "format": "date-time", "title": "When it happened",
                        "description": "Date and time with the UTC offset, e.g. 2026-06-03T08:30:00+01:00."},
        "people_involved": {
            "type": "array", "title": "People involved", "maxItems": 50,
            "items": {
                "type": "object", "title": "Person", "required": ["name", "role"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 200},
                    "role": {"type": "string", "title": "Role", "enum": ["victim", "witness", "suspect", "other"]},
                    "details": {"type": "string", "title": "Details", "maxLength": 1000,
                                "description": "Contact details, description, injuries."},
                },
            },
        },
    },
}

TYPES = [
    {"slug": "missing-person", "name": "Missing person", "schema": MISSING_PERSON,
     "promoted_fields": ["name", "age", "grading"], "grading_field": "grading",
     "summary_fields": ["name", "age", "last_seen_place"]},
    {"slug": "welfare-concern", "name": "Welfare concern", "schema": WELFARE_CONCERN,
     "promoted_fields": ["subject_name", "urgency"], "grading_field": "urgency",
     "summary_fields": ["subject_name", "address"]},
    {"slug": "incident", "name": "Incident", "schema": INCIDENT,
     "promoted_fields": ["title", "category"], "grading_field": "",
     "summary_fields": ["title", "category"]},
]

REPORTS_MODELS = [
    "area", "reporttype", "reporttypeversion", "report", "reportversion", "attachment", "circulationpolicy",
    "circulation", "circulationrecipient", "partneragency", "referralrule", "referral", "referraldelivery",
    "referralattempt", "reviewpolicy", "reviewtask",
]
ALL_ACTIONS = ["add", "change", "delete", "view"]
EXPORT = "export_report"


def perms(models, actions):
    return [f"{action}_{model}" for model in models for action in actions]


ROLES = {
    "Administrators": [*perms(REPORTS_MODELS, ALL_ACTIONS), EXPORT],
    # Supervisors decide reviews (change_reviewtask) and export; everything else they read.
    "Supervisors": [*perms(REPORTS_MODELS, ["view"]), "change_reviewtask", EXPORT],
    "Operators": perms(["reporttype", "reporttypeversion", "area"], ["view"]),
}


def ship_types(apps, schema_editor):
    ReportType = apps.get_model("reports", "ReportType")
    ReportTypeVersion = apps.get_model("reports", "ReportTypeVersion")
    now = timezone.now()
    for shipped in TYPES:
        report_type, _ = ReportType.objects.get_or_create(slug=shipped["slug"], defaults={"name": shipped["name"]})
        ReportTypeVersion.objects.get_or_create(
            report_type=report_type, number=1,
            defaults={"schema": shipped["schema"], "promoted_fields": shipped["promoted_fields"],
                      "grading_field": shipped["grading_field"], "summary_fields": shipped["summary_fields"],
                      "published_at": now},
        )


def unship_types(apps, schema_editor):
    ReportType = apps.get_model("reports", "ReportType")
    ReportTypeVersion = apps.get_model("reports", "ReportTypeVersion")
    slugs = [shipped["slug"] for shipped in TYPES]
    ReportTypeVersion.objects.filter(report_type__slug__in=slugs).delete()
    ReportType.objects.filter(slug__in=slugs).delete()


def grant(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # On a fresh database permissions are only created after all migrations ran (post_migrate).
    app_config = apps.get_app_config("reports")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    app_config.models_module = None
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="reports", codename__in=codenames))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="reports"))


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0001_initial"),
        ("units", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(ship_types, unship_types),
        migrations.RunPython(grant, revoke),
    ]
