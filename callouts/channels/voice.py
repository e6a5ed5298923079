import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException

from callouts.channels.twilio_client import status_callback_url, twilio_client, twilio_error
from callouts.models import Delivery


class TwilioVoiceChannel:
    """Places a call through Twilio's REST API and returns the call SID.

    When the call is answered Twilio fetches what to say from our voice webhook for this delivery.
    Raises ``ChannelError``: temporary for 429, 5xx or no connection; unknown when the answer is lost
    after the request went out (not sent again); permanent when Twilio
    refuses the call, such as for an invalid number. Busy and no-answer arrive later at the status callback.
    """

    def send(self, delivery: Delivery) -> str:
        try:
            call = twilio_client().calls.create(
                to=delivery.address, from_=settings.TWILIO_FROM_NUMBER,
                url=settings.SITE_URL + reverse("callouts:twilio_voice_call", args=[delivery.id]),
                status_callback=status_callback_url(delivery),
            )
        except (TwilioException, requests.RequestException) as error:
            raise twilio_error(error) from error
        return call.sid
