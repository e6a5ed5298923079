from django import template

from callouts import times

register = template.Library()


@register.filter
def console_time(moment, unit=None):
    """``{{ callout.launched_at|console_time:callout.unit }}``: 24-hour, the operator's zone, the unit's beside it."""
    return times.console_time(moment, unit) if moment else ""


@register.filter
def console_seconds(moment):
    """``03:12:04``: a timeline's times, to the second."""
    return times.clock_time(moment, seconds=True) if moment else ""
