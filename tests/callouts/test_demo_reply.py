import io

import pytest
from django.core.management import CommandError, call_command

from callouts import tasks
from callouts.services.callouts import callout_launch


@pytest.fixture
def demo_server(live_server, settings):
    settings.DEBUG = True
    settings.SITE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = "demo-token"
    return live_server


def test_demo_reply_answers_through_the_running_servers_sms_webhook(demo_server, k9, operator):
    callout = callout_launch(unit=k9, message="Search of Riverside Park", actor=operator)
    tasks.sweep()
    ann = k9.people["Ann"]
    out = io.StringIO()
    call_command("demo_reply", ann.contact_methods.get(kind="sms").address, "y 15", stdout=out)
    assert "Accepted" in out.getvalue()
    recipient = callout.recipients.get(person=ann)
    assert (recipient.response, recipient.eta_minutes, recipient.response_channel) == ("accept", 15, "sms")


def test_demo_reply_refuses_outside_the_demo(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="demo only"):
        call_command("demo_reply", "+447700900001", "Y")
