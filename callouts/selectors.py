from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from callouts.clock import db_now
from callouts.models import Callout, Delivery, Recipient
from units.models import ContactMethod, Membership, normalize_phone

OVERDUE_GRACE = timedelta(seconds=30)


def overdue_problems(now: datetime | None = None) -> list[str]:
    """What the watchdog shouts about: timers that did not fire and sends with no known outcome."""
    now = now or db_now()
    problems = [
        f"Escalation overdue on {callout} by {int((now - callout.escalate_at).total_seconds())} s: "
        "fall back to phoning"
        for callout in Callout.objects.filter(state=Callout.State.ACTIVE, escalate_at__lt=now - OVERDUE_GRACE)
        .select_related("unit")
    ]
    stuck = Delivery.objects.filter(state=Delivery.State.SENDING, send_deadline__lt=now,
                                    recipient__callout__state__in=Callout.OPEN_STATES).count()
    if stuck:
        problems.append(f"{stuck} message(s) stuck sending with no outcome from the provider: check who was reached")
    return problems


def callouts_needing_action(now: datetime | None = None) -> QuerySet[Callout]:
    """Open callouts that need an operator now: red on the back office's home page and above the callouts list.

    An exhausted callout (every list alerted, the need not met) stays until someone closes or cancels it, or late
    accepts fill it: adding people does not make anyone come, and the operator has to phone round. An active
    callout whose escalation is overdue (the timers did not move it on) stays until an operator acts on it after
    the time ran out: escalates it (its timer moves on), adds people or resends to those not answering, or closes
    or cancels it. One query, whatever the number of callouts. ``accepted`` counts the accepts so far.
    """
    now = now or db_now()
    acted_since_overdue = Exists(Recipient.objects.filter(
        callout=OuterRef("pk"), added_by_operator=True, notified_at__gte=OuterRef("escalate_at"))) | Exists(
        # A resend is an alert of a later sequence than the first; it is due at the moment it was asked for.
        Delivery.objects.filter(recipient__callout=OuterRef("pk"), kind=Delivery.Kind.ALERT, sequence__gt=0,
                                due_at__gte=OuterRef("escalate_at")))
    overdue = Q(state=Callout.State.ACTIVE, escalate_at__lt=now - OVERDUE_GRACE) & ~acted_since_overdue
    return (
        Callout.objects.filter(Q(state=Callout.State.EXHAUSTED) | overdue)
        .select_related("unit")
        .annotate(accepted=Count("recipients", filter=Q(recipients__response=Recipient.Response.ACCEPT)))
        .order_by("-launched_at")
    )


def recipient_for_phone(phone: str) -> Recipient | None:
    """Whom a text from this number answers for: their newest open callout they were alerted to.

    With none open, their newest callout of any state, so that a late "Y" hears the callout is over
    rather than that there never was one. A person with two open callouts answers the newer; every
    confirmation names the unit and incident so they can tell which.
    """
    try:
        phone = normalize_phone(phone)
    except ValidationError:
        return None
    alerted = (
        Recipient.objects.filter(
            person__contact_methods__kind__in=ContactMethod.PHONE_KINDS,
            person__contact_methods__address=phone,
            notified_at__isnull=False,
        )
        .select_related("callout__unit", "person__user")
        .order_by("-callout__launched_at", "-id")
    )
    return alerted.filter(callout__state__in=Callout.OPEN_STATES).first() or alerted.first()


LAUNCH_PERMISSION = "callouts.launch_callout"


def visible_callouts(user) -> QuerySet[Callout]:
    """The callouts ``user`` may see through the API: the one place that decides it.

    Whoever may launch (operators, administrators) sees every callout; a supervisor also sees those of the
    units they hold a membership of; everyone sees the callouts they were alerted for (notified, not merely
    frozen onto a later list that was never reached).
    """
    if user.has_perm(LAUNCH_PERMISSION):
        return Callout.objects.all()
    alerted = Recipient.objects.filter(person__user=user, notified_at__isnull=False).values("callout_id")
    visible = Q(pk__in=alerted)
    if user.has_perm("callouts.view_callout"):
        visible |= Q(unit__in=Membership.objects.filter(person__user=user).values("unit_id"))
    return Callout.objects.filter(visible)


def alerted_recipient(callout: Callout, user) -> Recipient | None:
    """``user``'s place on ``callout``, if they were alerted for it: what they may answer for."""
    return Recipient.objects.filter(callout=callout, person__user=user, notified_at__isnull=False).first()


def coming_recipients() -> QuerySet[Recipient]:
    """Recipients whose latest answer is accept and who were not told to stand down since (``Recipient.stood_down``
    in SQL), oldest answer first: who is coming."""
    not_stood_down = Q(stood_down_at__isnull=True) | Q(stood_down_at__lt=F("responded_at"))
    return (Recipient.objects.filter(not_stood_down, response=Recipient.Response.ACCEPT).select_related("person")
            .order_by("responded_at", "id"))
