from django import template

from callouts.clock import db_now
from callouts.selectors import callouts_needing_action

register = template.Library()


@register.inclusion_tag("admin/callouts/_needing_action.html", takes_context=True)
def callouts_needing_action_block(context):
    """The red list of exhausted and overdue callouts, for everyone who watches callouts, not only who launched."""
    request = context.get("request")
    if request is None or not request.user.has_perm("callouts.view_callout"):
        return {"callouts": []}
    now = db_now()
    return {"callouts": list(callouts_needing_action(now)), "now": now}
