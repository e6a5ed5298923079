from django import template

from callouts import times

register = template.Library()


@register.filter
def console_time(moment, unit=None):
    """``{{ callout.launched_at|console_time:callout.unit }}``: 24-hour, the operator's zone, the unit's beside it."""
    return times.console_time(moment, unit) if moment else ""
