from datetime import timedelta

from django.utils import timezone

from callouts.models import Callout, Delivery

OVERDUE_GRACE = timedelta(seconds=30)


def overdue_problems() -> list[str]:
    """What the watchdog shouts about: timers that did not fire and sends with no known outcome."""
    now = timezone.now()
    problems = [
        f"Escalation overdue on {callout} by {int((now - callout.escalate_at).total_seconds())} s: "
        "fall back to phoning"
        for callout in Callout.objects.filter(state=Callout.State.ACTIVE, escalate_at__lt=now - OVERDUE_GRACE)
        .select_related("unit")
    ]
    stuck = Delivery.objects.filter(state=Delivery.State.SENDING, send_deadline__lt=now).count()
    if stuck:
        problems.append(f"{stuck} message(s) stuck sending with no outcome from the provider: check who was reached")
    return problems
