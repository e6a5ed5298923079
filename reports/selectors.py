"""Who may see and change which reports: the one place that decides it, for the API and the admin alike."""

from django.db.models import Q, QuerySet

from reports.areas import with_descendants
from reports.models import Area, CirculationRecipient, Report

ADMINISTRATORS = "Administrators"


def is_reports_administrator(user) -> bool:
    return user.is_superuser or user.groups.filter(name=ADMINISTRATORS).exists()


def supervised_areas(user) -> QuerySet[Area]:
    """The areas whose supervisor unit has ``user``'s person as a member, and every area under them."""
    if not user.is_authenticated:
        return Area.objects.none()
    supervised = Area.objects.filter(supervisor_unit__memberships__person__user=user).values_list("pk", flat=True)
    return Area.objects.filter(pk__in=with_descendants(supervised))


def visible_reports(user) -> QuerySet[Report]:
    """The reports ``user`` may see: their own (drafts too), those circulated to them, the submitted reports of
    the areas they supervise; administrators see all."""
    if not user.is_authenticated:
        return Report.objects.none()
    if is_reports_administrator(user):
        return Report.objects.all()
    circulated = CirculationRecipient.objects.filter(person__user=user).values("circulation__report_id")
    supervised = list(supervised_areas(user).values_list("pk", flat=True))
    return Report.objects.filter(
        Q(author__user=user)
        | Q(pk__in=circulated)
        | Q(state=Report.State.SUBMITTED, area_id__in=supervised)
    )


def may_amend(user, report: Report) -> bool:
    """The author, a supervisor of the report's area, or an administrator; not someone it was merely
    circulated to."""
    if report.author.user_id == user.pk or is_reports_administrator(user):
        return True
    return report.area_id is not None and supervised_areas(user).filter(pk=report.area_id).exists()
