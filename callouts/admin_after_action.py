"""The after-action report of a callout in the admin: a printable page and its CSV, for whoever may view callouts."""

from django.http import Http404, HttpResponse

from callouts.admin_views import VIEW, render, require
from callouts.after_action import after_action_csv, after_action_read
from callouts.models import Callout
from units.addresses import client_address


def after_action(request, callout_id):
    require(request, VIEW)
    report = read(request, callout_id, export=False)
    return render(request, "admin/callouts/callout/after_action.html",
                  f"After-action report: {report.callout}", {"report": report})


def after_action_export(request, callout_id):
    require(request, VIEW)
    report = read(request, callout_id, export=True)
    response = HttpResponse(after_action_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="callout-{callout_id}-after-action.csv"'
    return response


def read(request, callout_id: int, *, export: bool):
    try:
        return after_action_read(callout_id=callout_id, actor=request.user, remote_addr=client_address(request),
                                 export=export)
    except Callout.DoesNotExist:
        raise Http404("No such callout.") from None
