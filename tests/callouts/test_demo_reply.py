import io
import os
import socket
import subprocess

import pytest
from django.conf import settings
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


def muster_reply(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in ("PORT", "SITE_URL", "DEBUG")}
    return subprocess.run([str(settings.BASE_DIR / "muster"), "reply", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("told", ["PORT", "the running server's note"])
def test_muster_reply_answers_the_server_on_port_or_the_one_muster_run_started(told, live_server, settings,
                                                                                  tmp_path, k9, operator):
    port = live_server.url.rsplit(":", 1)[1]
    settings.DEBUG = True
    settings.SITE_URL = f"http://127.0.0.1:{port}"
    settings.TWILIO_AUTH_TOKEN = "demo-token"
    env = {"MUSTER_VAR_DIR": str(tmp_path), "TWILIO_AUTH_TOKEN": "demo-token"}
    if told == "PORT":
        env["PORT"] = port
    else:
        (tmp_path / "run_site_url").write_text(settings.SITE_URL)  # what ./muster run leaves while it runs
    callout = callout_launch(unit=k9, message="Search of Riverside Park", actor=operator)
    tasks.sweep()
    ann = k9.people["Ann"]

    result = muster_reply(ann.contact_methods.get(kind="sms").address, "Y 15", **env)

    assert "Accepted" in result.stdout, result.stderr
    assert callout.recipients.get(person=ann).response == "accept"


def test_muster_reply_says_what_to_do_when_nothing_answers(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = muster_reply("+447700900999", "Y", PORT=port, MUSTER_VAR_DIR=str(tmp_path))
    assert result.returncode == 1
    assert f"Nothing answers at http://127.0.0.1:{port}/webhooks/twilio/sms/" in result.stderr
    assert "is ./muster run going?" in result.stderr
