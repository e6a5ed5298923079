"""Who may see and change which reports: the one place that decides it, for the API and the admin alike."""

from django.db.models import Q, QuerySet

from callouts.models import Delivery, RecordedMessage
from reports.areas import with_descendants
from reports.models import Area, CirculationRecipient, Report, ReviewTask

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


def visible_reviews(user) -> QuerySet[ReviewTask]:
    """The review queue of ``user``: reviews of the reports they may see (``visible_reports``) in the areas they
    supervise; administrators see all. Someone a report was only circulated to does not review it, and a report
    without an area is in no supervisor's areas: administrators review it."""
    reviews = ReviewTask.objects.filter(report__in=visible_reports(user).values("pk"))
    if is_reports_administrator(user):
        return reviews
    return reviews.filter(report__area__in=supervised_areas(user).values("pk"))


def visible_deliveries(user) -> QuerySet[Delivery]:
    """Callout alerts and updates as before (the Delivery admin's permission decides who reads those); a notice,
    which quotes a report, only when its report is one ``user`` may see. A notice linked to no report is for
    administrators only, since nobody can tell whose content it carries."""
    if is_reports_administrator(user):
        return Delivery.objects.all()
    return Delivery.objects.filter(Q(recipient__isnull=False) | Q(report__in=visible_reports(user).values("pk")))


def visible_recorded_messages(user) -> QuerySet[RecordedMessage]:
    """The recording channel's outbox under the same rule as ``visible_deliveries``, by the delivery each
    message was for; a message whose delivery is gone is for administrators only."""
    if is_reports_administrator(user):
        return RecordedMessage.objects.all()
    return RecordedMessage.objects.filter(delivery__in=visible_deliveries(user).values("pk"))
