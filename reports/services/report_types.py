"""Report type versions: a draft to edit, then published, after which it never changes."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from reports.models import PUBLISHED_FIELDS, ReportType, ReportTypeVersion
from reports.schemas import version_problems
from units.audit import acting, audit_event


class VersionNotPublishable(Exception):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems.items()))
        self.problems = problems


def type_version_publish(*, version: ReportTypeVersion, actor) -> ReportTypeVersion:
    """Publish a draft version: from now on phones are given it and it never changes."""
    with transaction.atomic(), acting(actor):
        version = ReportTypeVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_published:
            return version
        if problems := version_problems(**{name: getattr(version, name) for name in PUBLISHED_FIELDS}):
            raise VersionNotPublishable(problems)
        version.published_at, version.published_by = timezone.now(), actor
        version.full_clean()
        version.save(update_fields=["published_at", "published_by"])
        audit_event(event="report_type_published", target=version, actor=actor,
                    data={"report_type": version.report_type.slug, "number": version.number})
    return version


def type_version_draft(*, report_type: ReportType, actor) -> ReportTypeVersion:
    """A new unpublished version, a copy of the latest, to edit and publish in place of it."""
    with transaction.atomic(), acting(actor):
        ReportType.objects.select_for_update().get(pk=report_type.pk)
        latest = report_type.versions.order_by("-number").first()
        number = (report_type.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        copied = {name: getattr(latest, name) for name in PUBLISHED_FIELDS} if latest else {
            "schema": {"type": "object", "properties": {}}, "promoted_fields": [], "grading_field": "",
            "summary_fields": [],
        }
        draft = ReportTypeVersion(report_type=report_type, number=number, **copied)
        draft.full_clean()
        draft.save()
    return draft
