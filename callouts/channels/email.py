import smtplib
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from callouts.channels import ChannelError
from callouts.models import Delivery
from config.outbound import smtp_failure, smtp_reason


class EmailChannel:
    """Sends the delivery by email through Django's ``EMAIL_BACKEND`` (SMTP in production).

    Returns the Message-ID it set. Raises ``ChannelError``: permanent when the address is malformed or the
    server refuses it for good (a 5xx reply); temporary when the server cannot be reached or answers 4xx
    (full mailbox, greylisting); unknown when the connection fails or times out once the message is on its
    way, since the server may have taken it (as for Twilio's lost answers, it is not sent again).
    """

    def send(self, delivery: Delivery) -> str:
        message_id = make_msgid(domain=urlsplit(settings.SITE_URL).hostname)
        connection = get_connection()
        email = EmailMessage(delivery.subject, delivery.body, settings.DEFAULT_FROM_EMAIL, [delivery.address],
                             headers={"Message-ID": message_id}, connection=connection)
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as error:
            raise ChannelError(f"Mail server unreachable: {smtp_failure(error)}", code="network") from error
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise smtp_error(code, reply) from error
        except smtplib.SMTPResponseException as error:
            raise smtp_error(error.smtp_code, error.smtp_error) from error
        except (OSError, smtplib.SMTPException) as error:
            # Connected, then no answer: the server may have taken the message, so it is not sent again.
            raise ChannelError(f"No answer from the mail server, the email may have gone: {smtp_failure(error)}",
                               unknown=True, code="timeout") from error
        except ValueError as error:
            raise ChannelError(f"Not an email address: {error}", permanent=True, code="invalid-address") from error
        finally:
            connection.close()
        return message_id


def smtp_error(code: int, reply: bytes | str) -> ChannelError:
    # The reply's text is the mail server's (and may quote a remote one): only its code is kept.
    return ChannelError(f"Mail server answered {code} ({smtp_reason(code)})", permanent=code >= 500, code=str(code))
