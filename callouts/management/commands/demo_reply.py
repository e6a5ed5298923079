"""Answer a demo callout by SMS as Twilio would: a signed POST to the running server's SMS webhook."""

import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from twilio.request_validator import RequestValidator


class Command(BaseCommand):
    help = "Send an SMS reply (e.g. 'Y 15') from a phone number to the running Muster, signed like Twilio."

    def add_arguments(self, parser):
        parser.add_argument("phone", help="The responder's number, e.g. +447700900001")
        parser.add_argument("body", help="The text: Y, Y 15, N, ...")

    def handle(self, *args, phone, body, **options):
        if not settings.DEBUG:
            raise CommandError("demo_reply is for the demo only (DEBUG on).")
        if not settings.TWILIO_AUTH_TOKEN:
            raise CommandError("Set TWILIO_AUTH_TOKEN (./muster run sets a demo one).")
        url = settings.SITE_URL + reverse("callouts:twilio_sms_inbound")
        params = {"From": phone, "To": settings.TWILIO_FROM_NUMBER or "+447700900000", "Body": body,
                  "MessageSid": "SMdemo"}
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),
                                         headers={"X-Twilio-Signature": signature})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                self.stdout.write(response.read().decode())
        except urllib.error.HTTPError as error:
            raise CommandError(f"{url} answered {error.code}: {error.read().decode(errors='replace')}") from None
        except urllib.error.URLError as error:
            raise CommandError(f"Nothing answers at {url} ({error.reason}): is ./muster run going? If it serves "
                               "another port, give it: PORT=8001 ./muster reply ...") from None
