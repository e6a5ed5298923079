from django.contrib.auth.management import create_permissions
from django.db import migrations

CALLOUTS_MODELS = [
    "heartbeat", "escalationpolicy", "tierwait", "needrequirement", "callout", "recipient", "responserecord",
    "delivery", "recordedmessage",
]
# What the watch floor reads: callouts, who was alerted and how, and the policies behind them.
WATCHED_MODELS = [m for m in CALLOUTS_MODELS if m != "heartbeat"]
ALL_ACTIONS = ["add", "change", "delete", "view"]
LAUNCH = ("launch_callout", "Can launch callouts and act on them")


def perms(models, actions):
    return [f"{action}_{model}" for model in models for action in actions]


# Callouts change only through the services behind launch_callout; no role edits them by form.
ROLES = {
    "Administrators": [*perms(CALLOUTS_MODELS, ALL_ACTIONS), LAUNCH[0]],
    "Operators": [*perms(WATCHED_MODELS, ["view"]), LAUNCH[0]],
    "Supervisors": perms(WATCHED_MODELS, ["view"]),
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # On a fresh database permissions are only created after all migrations ran (post_migrate).
    app_config = apps.get_app_config("callouts")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    app_config.models_module = None
    callout_type = ContentType.objects.get(app_label="callouts", model="callout")
    Permission.objects.get_or_create(content_type=callout_type, codename=LAUNCH[0], defaults={"name": LAUNCH[1]})
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="callouts", codename__in=codenames))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="callouts"))
    Permission.objects.filter(content_type__app_label="callouts", codename=LAUNCH[0]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("callouts", "0002_callouts"),
        ("units", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
    ]
