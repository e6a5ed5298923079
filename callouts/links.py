"""One-click answers from an alert email: ``/respond/<token>/``.

The signed token (``messages.response_link``) is the credential, so the page needs no login: it names one
recipient and one answer, and expires after ``RESPONSE_LINK_MAX_AGE`` seconds. Mail scanners open every
link they see, so opening the link only shows a confirmation page; the answer is recorded when the person
presses its button, which posts the form from that page (CSRF protected).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from callouts.messages import LINK_SALT, response_link
from callouts.models import Recipient
from callouts.replies import MAX_ETA_MINUTES
from callouts.services.callouts import CalloutError, callout_respond
from units.access import ACCOUNT_DISABLED, may_act, response_refused

ANSWERS = ("accept", "decline")
OPPOSITE = {"accept": "decline", "decline": "accept"}


class InvalidLink(Exception):
    def __init__(self, title: str, status: int):
        super().__init__(title)
        self.title, self.status = title, status


class AnswerForm(forms.Form):
    eta_minutes = forms.IntegerField(required=False, min_value=0, max_value=MAX_ETA_MINUTES)
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def respond_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        recipient, answer = read_token(token)
    except InvalidLink as problem:
        return render(request, "callouts/respond_refused.html", {"title": problem.title}, status=problem.status)
    if not may_act(recipient.person.user):
        return refused_disabled(request, recipient)
    if not recipient.callout.is_open:
        return refused_closed(request, recipient)
    form = AnswerForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        context = {"recipient": recipient, "callout": recipient.callout, "answer": answer, "form": form}
        return render(request, "callouts/respond_confirm.html", context, status=400 if form.is_bound else 200)
    eta = form.cleaned_data["eta_minutes"] if answer == "accept" else None
    try:
        recipient = callout_respond(recipient=recipient, response=answer, channel="email", eta_minutes=eta,
                                    note=form.cleaned_data["note"], actor=recipient.person.user)
    except CalloutError:
        return refused_closed(request, recipient)
    context = {"recipient": recipient, "callout": recipient.callout,
               "switch_answer": OPPOSITE[answer], "switch_url": response_link(recipient.id, OPPOSITE[answer])}
    return render(request, "callouts/respond_done.html", context)


def read_token(token: str) -> tuple[Recipient, str]:
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=settings.RESPONSE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidLink("This link has expired", 410) from None
    except signing.BadSignature:
        raise InvalidLink("This link is not valid", 400) from None
    recipient = Recipient.objects.select_related("callout__unit", "person__user").filter(pk=payload["r"]).first()
    if recipient is None or payload["a"] not in ANSWERS:
        raise InvalidLink("This link is not valid", 400)
    return recipient, payload["a"]


def refused_disabled(request: HttpRequest, recipient: Recipient) -> HttpResponse:
    if request.method == "POST":  # an answer given, not a link opened (mail scanners open every link)
        response_refused(person=recipient.person, target=recipient.callout, channel="email")
    return render(request, "callouts/respond_refused.html", {"title": ACCOUNT_DISABLED, "disabled": True},
                  status=403)


def refused_closed(request: HttpRequest, recipient: Recipient) -> HttpResponse:
    callout = recipient.callout
    callout.refresh_from_db(fields=["state"])  # it may have closed while the person was reading the page
    title = f"This callout is {callout.get_state_display().lower()}"
    return render(request, "callouts/respond_refused.html", {"title": title, "callout": callout}, status=409)
