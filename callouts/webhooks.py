"""Twilio webhooks: text replies to an alert, and the keypad menu of an alert call.

Every answer goes through ``callout_respond`` as the person who was alerted; an answer to a callout that has
closed meanwhile gets a spoken or texted explanation, never an error page, which Twilio would read out as
"an application error has occurred".
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_POST
from twilio.twiml import TwiML
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from callouts.models import Callout, Delivery, Recipient
from callouts.replies import MAX_ETA_MINUTES, Reply, parse_sms_reply
from callouts.selectors import recipient_for_phone
from callouts.services.callouts import CalloutError, callout_respond
from callouts.services.replies import reply_received
from callouts.twilio_auth import twilio_signed
from units.access import ACCOUNT_DISABLED, may_act, response_refused
from units.models import ContactMethod

SMS_HELP = "Reply Y to accept, Y 15 for ETA 15 min, N to decline."
SMS_NO_CALLOUT = "No active callout for this number."
SMS_DISABLED = f"{ACCOUNT_DISABLED}: this answer was not recorded. Call your control room."
VOICE_DISABLED = f"{ACCOUNT_DISABLED}. No answer was recorded. Call your control room."
VOICE_MENU = "Press 1 to accept, 2 to decline."
VOICE_LANGUAGE = "en-GB"
ETA_DIGITS = re.compile(r"[0-9]{1,3}")


@twilio_signed
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    recipient = recipient_for_phone(request.POST.get("From", ""))
    reply = parse_sms_reply(request.POST.get("Body", ""))
    if recipient is None:
        text = SMS_NO_CALLOUT
    elif not may_act(recipient.person.user):
        response_refused(person=recipient.person, target=recipient.callout, channel="sms")
        text = SMS_DISABLED
    else:
        # Kept whatever it says: the operator sees a text the system could not read ("on my way") on the timeline.
        reply_received(recipient=recipient, channel="sms", body=request.POST.get("Body", ""),
                       understood=reply is not None, actor=recipient.person.user)
        text = SMS_HELP if reply is None else sms_answer(recipient, reply)
    response = MessagingResponse()
    response.message(text)
    return twiml(response)


def sms_answer(recipient: Recipient, reply: Reply) -> str:
    label = callout_label(recipient.callout)
    try:
        callout_respond(recipient=recipient, response=reply.response, channel="sms",
                        eta_minutes=reply.eta_minutes, actor=recipient.person.user)
    except CalloutError as error:
        return f"{label}: {error}"
    if reply.response == "decline":
        return f"Declined: {label}. Reply Y to accept after all."
    eta = "" if reply.eta_minutes is None else f", ETA {reply.eta_minutes} min"
    return f"Accepted: {label}{eta}. Reply N to withdraw."


def callout_label(callout: Callout) -> str:
    drill = "DRILL " if callout.exercise else ""
    return f"{drill}{callout.unit} {callout.incident_ref or callout.message[:40]}"


@twilio_signed
@require_POST
def voice_call(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """What Twilio plays when the person picks up the call of a voice delivery."""
    delivery = voice_delivery(delivery_id)
    if delivery.recipient_id and not may_act(delivery.recipient.person.user):
        return twiml(goodbye(VoiceResponse(), VOICE_DISABLED))
    return twiml(voice_menu(delivery))


@twilio_signed
@require_POST
def voice_answer(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = voice_delivery(delivery_id)
    if refused_disabled(delivery):
        return twiml(goodbye(VoiceResponse(), VOICE_DISABLED))
    digit = request.POST.get("Digits", "")
    if digit not in ("1", "2"):
        return twiml(voice_menu(delivery))
    response = "accept" if digit == "1" else "decline"
    try:
        voice_respond(delivery, response)
    except CalloutError as error:
        return twiml(goodbye(VoiceResponse(), str(error)))
    if response == "decline":
        return twiml(goodbye(VoiceResponse(), "You have declined. Thank you."))
    return twiml(eta_prompt(delivery, "You have accepted."))


@twilio_signed
@require_POST
def voice_eta(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = voice_delivery(delivery_id)
    if refused_disabled(delivery):
        return twiml(goodbye(VoiceResponse(), VOICE_DISABLED))
    digits = request.POST.get("Digits", "")
    if not ETA_DIGITS.fullmatch(digits) or int(digits) > MAX_ETA_MINUTES:
        return twiml(eta_prompt(delivery, f"Please enter a number of minutes up to {MAX_ETA_MINUTES}."))
    try:
        voice_respond(delivery, "accept", eta_minutes=int(digits))
    except CalloutError as error:
        return twiml(goodbye(VoiceResponse(), str(error)))
    return twiml(goodbye(VoiceResponse(), f"You have accepted with an E.T.A. of {int(digits)} minutes. Thank you."))


def voice_delivery(delivery_id: int) -> Delivery:
    return get_object_or_404(
        Delivery.objects.select_related("recipient__callout__unit", "recipient__person__user"),
        pk=delivery_id, channel=ContactMethod.Kind.VOICE,
    )


def refused_disabled(delivery: Delivery) -> bool:
    """True (and audited) when the called person may no longer act: a keypress is then not an answer."""
    recipient = delivery.recipient
    if recipient is None or may_act(recipient.person.user):
        return False
    response_refused(person=recipient.person, target=recipient.callout, channel="voice")
    return True


def voice_respond(delivery: Delivery, response: str, eta_minutes: int | None = None) -> None:
    # The delivery says who was called; the caller ID of a call we placed proves nothing more.
    recipient = delivery.recipient
    callout_respond(recipient=recipient, response=response, channel="voice", eta_minutes=eta_minutes,
                    actor=recipient.person.user)


def voice_menu(delivery: Delivery) -> VoiceResponse:
    """The alert read out twice, each time followed by the keypad menu; an update is only read out."""
    response = VoiceResponse()
    callout = delivery.recipient.callout if delivery.recipient_id else None
    text = delivery.body or (callout.message if callout else "")
    if delivery.kind != Delivery.Kind.ALERT:
        response.say(text, language=VOICE_LANGUAGE, loop=2)
        return goodbye(response, "")
    if not callout.is_open:
        return goodbye(response, f"The callout for {callout.unit} is {callout.get_state_display().lower()}. "
                                 "No answer is needed.")
    for _ in range(2):
        gather = response.gather(num_digits=1, action=absolute_url("callouts:twilio_voice_answer", delivery),
                                 method="POST")
        gather.say(text, language=VOICE_LANGUAGE)
        gather.say(VOICE_MENU, language=VOICE_LANGUAGE)
    return goodbye(response, "No answer was recorded.")


def eta_prompt(delivery: Delivery, lead_in: str) -> VoiceResponse:
    response = VoiceResponse()
    gather = response.gather(num_digits=3, finish_on_key="#", method="POST",
                             action=absolute_url("callouts:twilio_voice_eta", delivery))
    gather.say(f"{lead_in} Enter your E.T.A. in minutes, then press hash.", language=VOICE_LANGUAGE)
    return goodbye(response, "No E.T.A. was entered. You remain accepted.")


def goodbye(response: VoiceResponse, text: str) -> VoiceResponse:
    response.say(f"{text} Goodbye.".strip(), language=VOICE_LANGUAGE)
    response.hangup()
    return response


def absolute_url(name: str, delivery: Delivery) -> str:
    # Absolute, because the signature of the next request is checked against SITE_URL.
    return settings.SITE_URL + reverse(name, args=[delivery.id])


def twiml(response: TwiML) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")
