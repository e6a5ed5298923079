from django.contrib.auth.management import create_permissions
from django.db import migrations

UNITS_MODELS = [
    "qualification", "person", "contactmethod", "unit", "membership", "tier", "rotation",
    "rotationparticipant", "override", "unavailability", "fixedrule",
]
ALL_ACTIONS = ["add", "change", "delete", "view"]


def perms(app_label, models, actions):
    return [(app_label, f"{action}_{model}") for model in models for action in actions]


ROLES = {
    "Administrators": [
        *perms("units", UNITS_MODELS, ALL_ACTIONS),
        *perms("auth", ["user", "group"], ALL_ACTIONS),
        *perms("otp_totp", ["totpdevice"], ALL_ACTIONS),
        *perms("otp_static", ["staticdevice", "statictoken"], ALL_ACTIONS),
        ("auditlog", "view_logentry"),
    ],
    # Callout permissions are added by the callouts app's own migrations.
    "Operators": perms("units", UNITS_MODELS, ["view"]),
    "Supervisors": [
        *perms("units", UNITS_MODELS, ["view"]),
        *perms("units", ["unavailability", "override"], ["add", "change", "delete"]),
    ],
    # Responders use the app and their calendar feed, never the admin.
    "Responders": [],
}


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # On a fresh database permissions are only created after all migrations ran (post_migrate).
    for label in ("auth", "auditlog", "otp_totp", "otp_static", "units"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
        app_config.models_module = None
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in codenames
        ])


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("auditlog", "0017_add_actor_email"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
        ("units", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_roles, delete_roles),
    ]
