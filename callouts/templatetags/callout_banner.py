from django import template

from callouts.live import console_problems

register = template.Library()


@register.inclusion_tag("admin/callouts/_banner.html", takes_context=True)
def callout_banner(context):
    """The watchdog's red banner, on every admin page, for whoever watches callouts."""
    request = context.get("request")
    if request is None or not request.user.has_perm("callouts.view_callout"):
        return {"problems": [], "watching": False}
    return {"problems": console_problems(), "watching": True}
