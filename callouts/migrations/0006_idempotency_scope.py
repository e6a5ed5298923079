"""Idempotency keys become the caller's own: kept as sent, with where they were sent from and a fingerprint of the
request (step 1 of 2; 0007 makes the key non-null and adds the constraints, in a transaction of its own).

Keys stored before were global strings: ``api:<user id>:<key>`` from the API and anything the admin's form sent
(a UUID unless someone changed the hidden field). An ``api:`` key whose user is the callout's launcher becomes
that key with origin ``api``; any other becomes an ``admin`` key of its launcher, so a key planted through the
admin's form can no longer reach an API launch. Their fingerprints stay empty: a retry of a callout launched
before this migration gets that callout, as it did before.
"""

import re

from django.db import migrations, models

API_KEY = re.compile(r"api:([0-9]+):(.+)", re.DOTALL)


def scope_existing_keys(apps, schema_editor):
    Callout = apps.get_model("callouts", "Callout")
    keyed = list(Callout.objects.exclude(idempotency_key=None).only("idempotency_key", "launched_by_id"))
    for callout in keyed:
        match = API_KEY.fullmatch(callout.idempotency_key)
        if match and int(match[1]) == callout.launched_by_id:
            callout.idempotency_origin, callout.idempotency_key = "api", match[2]
        else:
            callout.idempotency_origin = "admin"
    Callout.objects.bulk_update(keyed, ["idempotency_key", "idempotency_origin"], batch_size=500)
    Callout.objects.filter(idempotency_key=None).update(idempotency_key="")


def unscope_keys(apps, schema_editor):
    Callout = apps.get_model("callouts", "Callout")
    api = list(Callout.objects.filter(idempotency_origin="api").only("idempotency_key", "launched_by_id"))
    for callout in api:
        callout.idempotency_key = f"api:{callout.launched_by_id}:{callout.idempotency_key}"
    Callout.objects.bulk_update(api, ["idempotency_key"], batch_size=500)
    Callout.objects.filter(idempotency_key="").update(idempotency_key=None)


class Migration(migrations.Migration):

    dependencies = [
        ("callouts", "0005_notices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="callout",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100, null=True,
                                   help_text="As the caller sent it; unique per login and origin."),
        ),
        migrations.AddField(
            model_name="callout",
            name="idempotency_origin",
            field=models.CharField(blank=True, choices=[("api", "API (Idempotency-Key header)"), ("admin", "Admin launch form")], max_length=10),
        ),
        migrations.AddField(
            model_name="callout",
            name="idempotency_fingerprint",
            field=models.CharField(blank=True, help_text="SHA-256 of the launch request the key came with; a retry must match it. Empty for callouts launched before fingerprints were kept.", max_length=64),
        ),
        migrations.AlterField(
            model_name="callout",
            name="need",
            field=models.JSONField(help_text="Frozen at launch: quorum and required roles/qualifications (Need.to_json; read it as frozen_need)."),
        ),
        migrations.AlterField(
            model_name="callout",
            name="policy",
            field=models.JSONField(help_text="Frozen at launch: waits per list, move-on, repeats, fallback (PolicySnapshot.to_json; read it as frozen_policy)."),
        ),
        migrations.RunPython(scope_existing_keys, unscope_keys),
    ]
