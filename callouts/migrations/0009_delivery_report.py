import django.db.models.deletion
from django.db import migrations, models


def link_notices_to_reports(apps, schema_editor):
    """Notices sent before the link existed: their report and version from their topic (circulation:<recipient>,
    review:<review>, review-returned:<review>), so the admin scopes them like new ones."""
    Delivery = apps.get_model("callouts", "Delivery")
    CirculationRecipient = apps.get_model("reports", "CirculationRecipient")
    ReviewTask = apps.get_model("reports", "ReviewTask")
    for delivery in Delivery.objects.filter(recipient__isnull=True, report__isnull=True).exclude(topic=""):
        prefix, _, key = delivery.topic.partition(":")
        if not key.isdigit():
            continue
        if prefix == "circulation":
            row = CirculationRecipient.objects.filter(pk=key).select_related("circulation").first()
            found = (row.circulation.report_id, row.circulation.version) if row else None
        elif prefix in ("review", "review-returned"):
            review = ReviewTask.objects.filter(pk=key).first()
            found = (review.report_id, review.version) if review else None
        else:
            found = None
        if found:
            Delivery.objects.filter(pk=delivery.pk).update(report_id=found[0], report_version=found[1])


class Migration(migrations.Migration):

    dependencies = [
        ('callouts', '0008_engine_hardening'),
        ('reports', '0002_report_types'),
        ('units', '0007_push_subscription_device'),
    ]

    operations = [
        migrations.AddField(
            model_name='delivery',
            name='report',
            field=models.ForeignKey(blank=True, help_text='The report a notice carries content of; only those who may see the report see the notice.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notices', to='reports.report'),
        ),
        migrations.AddField(
            model_name='delivery',
            name='report_version',
            field=models.PositiveIntegerField(blank=True, help_text='The version of the report the notice tells of.', null=True),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.CheckConstraint(condition=models.Q(('report__isnull', True), ('recipient__isnull', True), _connector='OR'), name='report_only_on_notices'),
        ),
        migrations.RunPython(link_notices_to_reports, migrations.RunPython.noop),
    ]
