"""Idempotency keys, step 2 of 2: no key is the empty string, and a key is unique per login and origin."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("callouts", "0006_idempotency_scope"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="callout",
            name="idempotency_key",
            field=models.CharField(blank=True, default="", help_text="As the caller sent it; unique per login and origin.", max_length=100),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="callout",
            constraint=models.UniqueConstraint(condition=models.Q(("idempotency_key", ""), _negated=True), fields=("launched_by", "idempotency_origin", "idempotency_key"), name="callout_key_once_per_caller"),
        ),
        migrations.AddConstraint(
            model_name="callout",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("idempotency_key", ""), ("idempotency_origin", "")), models.Q(models.Q(("idempotency_key", ""), _negated=True), models.Q(("idempotency_origin", ""), _negated=True)), _connector="OR"), name="callout_key_has_its_origin"),
        ),
    ]
