"""The operators' console inside the admin; CalloutAdmin.get_urls wraps these in admin_site.admin_view.

Each action is a POST to its own view that calls one service; a refusal (CalloutError) or a bad form
becomes an admin message on the live page, never an error page.
"""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from callouts import live as lives
from callouts.admin_forms import (
    AddPeopleForm,
    CancelForm,
    CloseForm,
    LaunchForm,
    ResendForm,
    StandDownForm,
    UnitChoiceForm,
    UpdateForm,
    launch_initial,
)
from callouts.idempotency import IdempotencyKey, IdempotencyKeyReused
from callouts.launch_preview import launch_preview
from callouts.models import Callout, EscalationPolicy
from callouts.services.callouts import (
    CalloutError,
    UpdateSent,
    callout_add_people,
    callout_cancel,
    callout_close,
    callout_escalate_now,
    callout_launch_once,
    callout_resend_unanswered,
    callout_send_update,
)
from units.models import ContactMethod, Unit
from units.sessions import not_activity, session_ends_at, session_locks_at

LAUNCH = "callouts.launch_callout"
VIEW = "callouts.view_callout"

OPEN = Callout.OPEN_STATES
# The states each action of the live page applies in (the services refuse the rest). Every box keeps its place
# as the state changes; the page disables those that do not apply, and offers none once the callout has ended.
ACTION_STATES = {
    "escalate": (Callout.State.ACTIVE,),
    "add_people": OPEN,
    "resend": (Callout.State.ACTIVE, Callout.State.EXHAUSTED),
    "update": OPEN,
    "stand_down": OPEN,
    "cancel": OPEN,
    "close": OPEN,
}


def launch(request):
    require(request, LAUNCH)
    if request.method == "POST":
        return launch_post(request, LaunchForm(request.POST))
    picker = UnitChoiceForm(request.GET or None)
    if not picker.is_valid():
        return render(request, "admin/callouts/callout/launch_unit.html", "Launch callout", {"picker": picker})
    unit = picker.cleaned_data["unit"]
    return launch_page(request, LaunchForm(initial={**launch_initial(unit), "idempotency_key": new_key()}))


def new_key() -> str:
    return uuid.uuid4().hex


def launch_page(request, form):
    unit = form.cleaned_data.get("unit") if form.is_bound else form.initial["unit"]
    return render(request, "admin/callouts/callout/launch.html", f"Launch callout: {unit or ''}",
                  {"form": form, "unit": unit})


def launch_post(request, form):
    if not form.is_valid():
        if "idempotency_key" in form.errors:
            # A key Muster did not make gets a fresh one, so the corrected form can be launched.
            form = LaunchForm({**request.POST.dict(), "idempotency_key": new_key()})
            form.is_valid()
            form.add_error(None, "This launch form was not made by Muster: check the details and launch again.")
        return launch_page(request, form)
    if "edit" in request.POST:
        return launch_page(request, LaunchForm(initial=form.initial_again()))
    if "confirm" in request.POST:
        return launch_confirmed(request, form)
    unit = form.cleaned_data["unit"]
    preview = launch_preview(unit=unit, need=form.need(), at=timezone.now())
    context = {"form": form, "unit": unit, "preview": preview, "need": form.need().describe()}
    return render(request, "admin/callouts/callout/launch_confirm.html", f"Confirm callout: {unit}", context)


def launch_confirmed(request, form):
    data = form.cleaned_data
    key = IdempotencyKey(origin=Callout.KeyOrigin.ADMIN, value=data["idempotency_key"])
    try:
        callout, created = callout_launch_once(
            unit=data["unit"], message=data["message"], actor=request.user, key=key, incident_ref=data["incident_ref"],
            need=form.need(), priority=data["priority"], exercise=data["exercise"],
        )
    except IdempotencyKeyReused as reused:
        live_url = reverse("admin:callouts_callout_live", args=[reused.callout.pk])
        messages.error(request, format_html(
            'This launch form already launched another callout, <a href="{}">{}</a>, so nothing was launched now. '
            "If a second callout is needed, check the details below and launch it.", live_url, reused.callout))
        return launch_page(request, LaunchForm(initial={**form.initial_again(), "idempotency_key": new_key()}))
    if created:
        alerted = callout.recipients.filter(notified_at__isnull=False).count()
        messages.success(request, f"Callout launched: {alerted} people are being alerted.")
    else:
        messages.info(request, "This callout had been launched already by this form; nobody was paged twice.")
    return redirect("admin:callouts_callout_live", callout.pk)


def live(request, callout_id):
    require(request, VIEW)
    live_callout = get_live(callout_id)
    context = {
        **live_context(request, live_callout),
        "can_act": request.user.has_perm(LAUNCH),
        "actions": {name: {"states": " ".join(states), "on": live_callout.callout.state in states}
                    for name, states in ACTION_STATES.items()},
        "add_people_form": AddPeopleForm(),
        "resend_form": ResendForm(initial={"channel": ContactMethod.Kind.VOICE}),
        "update_form": UpdateForm(),
        "stand_down_form": StandDownForm(),
        "cancel_form": CancelForm(),
        "close_form": CloseForm(),
        "session_locks_at": session_locks_at(request),
        "session_ends_at": session_ends_at(request),
    }
    return render(request, "admin/callouts/callout/live.html", f"Callout {live_callout.callout}", context)


@not_activity  # the page polls every 2 seconds on its own: that must not keep an unattended session open
def live_json(request, callout_id):
    require(request, VIEW)
    live_callout = get_live(callout_id)
    context = live_context(request, live_callout)
    html = render_to_string("admin/callouts/callout/_live.html", context)
    timeline_html = render_to_string("admin/callouts/callout/_live_timeline.html", context)
    locks_at = session_locks_at(request)
    data = lives.as_json(live_callout, phones=context["can_see_numbers"])
    return JsonResponse({**data, "html": html, "timeline_html": timeline_html, "problems": lives.console_problems(),
                         "session_locks_at": locks_at.isoformat() if locks_at else None})


def live_context(request, live_callout) -> dict:
    """The live page's facts, and which of the people's pages and phone numbers this viewer may see."""
    user = request.user
    return {"live": live_callout, "can_view_people": user.has_perm("units.view_person"),
            "can_see_numbers": user.has_perm("units.view_contactmethod")}


def get_live(callout_id):
    try:
        return lives.live_callout(callout_id)
    except Callout.DoesNotExist:
        raise Http404("No such callout.") from None


@require_POST
def escalate_now(request, callout_id):
    def perform(callout, data):
        callout = callout_escalate_now(callout=callout, actor=request.user)
        live_callout = lives.live_callout(callout.pk)
        if callout.state == Callout.State.EXHAUSTED:
            # Nobody more is coming: said as loudly as the page can, never as a success.
            banner = live_callout.banner
            return messages.ERROR, f"EXHAUSTED. {banner.text} {banner.action}: their numbers are below."
        return f"Escalated: {live_callout.current_list or 'the next list'} is being alerted."
    return act(request, callout_id, None, perform)


@require_POST
def add_people(request, callout_id):
    def perform(callout, data):
        added = callout_add_people(callout=callout, people=list(data["people"]), actor=request.user)
        return f"{len(added)} people added and alerted." if added else "Everyone chosen was already on the callout."
    return act(request, callout_id, AddPeopleForm, perform)


@require_POST
def resend(request, callout_id):
    def perform(callout, data):
        sent = callout_resend_unanswered(callout=callout, channel=data["channel"], actor=request.user)
        label = ContactMethod.Kind(data["channel"]).label
        return f"{label} sent again to {sent} people who have not answered."
    return act(request, callout_id, ResendForm, perform)


@require_POST
def send_update(request, callout_id):
    def perform(callout, data):
        sent = callout_send_update(callout=callout, text=data["text"], actor=request.user, by_voice=data["by_voice"])
        return sent_message("Update", sent)
    return act(request, callout_id, UpdateForm, perform)


@require_POST
def stand_down(request, callout_id):
    def perform(callout, data):
        sent = callout_send_update(callout=callout, text=data["text"], actor=request.user, stand_down=True,
                                   by_voice=data["by_voice"])
        return sent_message("Stand-down", sent)
    return act(request, callout_id, StandDownForm, perform)


def sent_message(what: str, sent: UpdateSent):
    """What an update or a stand-down did; a warning when someone who accepted got nothing."""
    if not sent.people and not sent.unreached:
        return messages.WARNING, f"Nobody who accepted is standing by: the {what.lower()} was not sent."
    text = f"{what} sent to {sent.people} who accepted ({sent.messages} messages)."
    if sent.unreached:
        return messages.WARNING, (f"{text} Not sent to {', '.join(sent.unreached)}: no way to reach them but a "
                                  "voice call. Tick \"Also by voice call\" or phone them.")
    return text


@require_POST
def cancel(request, callout_id):
    def perform(callout, data):
        callout_cancel(callout=callout, actor=request.user, reason=data["reason"])
        return "Callout cancelled; alerts not yet sent are stopped and those who accepted are stood down."
    return act(request, callout_id, CancelForm, perform)


@require_POST
def close(request, callout_id):
    def perform(callout, data):
        callout_close(callout=callout, actor=request.user, outcome=data["outcome"])
        return "Callout closed; those who accepted are told to stand down."
    return act(request, callout_id, CloseForm, perform)


def act(request, callout_id, form_class, perform):
    """Check the operator may act, validate the form, call one service; refusals become messages."""
    require(request, LAUNCH)
    callout = get_object_or_404(Callout, pk=callout_id)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, form_problem(form))
    else:
        try:
            said = perform(callout, form.cleaned_data if form else {})
            level, text = said if isinstance(said, tuple) else (messages.SUCCESS, said)
            messages.add_message(request, level, text)
        except CalloutError as error:
            messages.error(request, str(error))
    return redirect("admin:callouts_callout_live", callout_id)


def form_problem(form) -> str:
    return " ".join(f"{form.fields[name].label or name.capitalize()}: {' '.join(errors)}"
                    for name, errors in form.errors.items())


def policy_of_unit(request, unit_id):
    """From the unit page to its policy; a unit without one yet is offered a new one or told the defaults."""
    require(request, "callouts.view_escalationpolicy")
    unit = get_object_or_404(Unit, pk=unit_id)
    if policy := EscalationPolicy.objects.filter(unit=unit).first():
        return redirect("admin:callouts_escalationpolicy_change", policy.pk)
    if request.user.has_perm("callouts.add_escalationpolicy"):
        return redirect(f"{reverse('admin:callouts_escalationpolicy_add')}?unit={unit.pk}")
    defaults = EscalationPolicy.for_unit(unit)
    messages.info(request, f"{unit} has no escalation policy of its own, so its callouts wait "
                           f"{defaults.wait_minutes} minutes on each list and need {defaults.need().describe()}.")
    return redirect("admin:callouts_escalationpolicy_changelist")


def require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def render(request, template, title, context):
    context = {**admin.site.each_context(request), "title": title, "opts": Callout._meta, **context}
    return TemplateResponse(request, template, context)
