import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException

from callouts.channels.twilio_client import status_callback_url, twilio_client, twilio_error
from callouts.models import Delivery


class TwilioSMSChannel:
    """Sends the delivery's body by SMS through Twilio's REST API and returns the message SID.

    Raises ``ChannelError``: temporary for 429, 5xx or no connection; unknown when the answer is lost
    after the request went out (not sent again); permanent when Twilio
    refuses the message, such as for an invalid number (21211) or one that cannot take SMS (21614).
    Twilio reports what happens next to the status callback.
    """

    def send(self, delivery: Delivery) -> str:
        try:
            message = twilio_client().messages.create(
                to=delivery.address, from_=settings.TWILIO_FROM_NUMBER, body=delivery.body,
                status_callback=status_callback_url(delivery),
            )
        except (TwilioException, requests.RequestException) as error:
            raise twilio_error(error) from error
        return message.sid
