"""The partner's acknowledgement link in a referral: ``/referrals/ack/<token>/``.

The signed token is the credential, so the page needs no login; it names one referral and expires after
``REFERRAL_ACK_LINK_MAX_AGE`` seconds. Mail scanners open every link they see, so opening the link only shows
what the referral is about; the acknowledgement is recorded when someone presses the button, which posts the
form from that page (CSRF protected). A second press changes nothing and says when it was acknowledged.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from reports.models import Referral

ACK_SALT = "reports.referral-ack"


def referral_ack_link(referral_id: int) -> str:
    token = signing.dumps({"r": referral_id}, salt=ACK_SALT)
    return f"{settings.SITE_URL}{reverse('reports:referral-ack', args=[token])}"


class AcknowledgeForm(forms.Form):
    name = forms.CharField(required=False, max_length=120, label="Your name (optional)")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def referral_ack_page(request: HttpRequest, token: str) -> HttpResponse:
    from reports.services.referrals import referral_acknowledge

    try:
        referral = referral_from_token(token)
    except InvalidLink as problem:
        return render(request, "reports/referral_ack.html", {"invalid": str(problem)}, status=400)
    context = {"referral": referral, "payload": referral.payload}
    if referral.acknowledged_at is not None:
        return render(request, "reports/referral_ack.html", {**context, "already": True})
    form = AcknowledgeForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        return render(request, "reports/referral_ack.html", {**context, "form": form},
                      status=400 if form.is_bound else 200)
    referral = referral_acknowledge(referral=referral, by=form.cleaned_data["name"].strip())
    return render(request, "reports/referral_ack.html", {**context, "referral": referral, "done": True})


class InvalidLink(Exception):
    pass


def referral_from_token(token: str) -> Referral:
    """The referral a token names; ``InvalidLink`` says why when it is expired, altered or names none."""
    try:
        payload = signing.loads(token, salt=ACK_SALT, max_age=settings.REFERRAL_ACK_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidLink("This acknowledgement link has expired") from None
    except signing.BadSignature:
        raise InvalidLink("This acknowledgement link is not valid") from None
    referral_id = payload.get("r") if isinstance(payload, dict) else None
    referral = (Referral.objects.select_related("agency", "report__report_type").filter(pk=referral_id).first()
                if isinstance(referral_id, int) else None)
    if referral is None:
        raise InvalidLink("This acknowledgement link is not valid")
    return referral
