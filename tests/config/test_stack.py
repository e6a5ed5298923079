"""What ./muster run decides before it starts anything: the mail sink's port."""

import socket

import pytest

from config.stack import StackError, mail_sink_port, port_free


@pytest.fixture
def held_port():
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_the_mail_sink_picks_a_free_port_and_says_so_when_another_program_holds_its_own(held_port):
    port, line = mail_sink_port({"EMAIL_HOST": "127.0.0.1"}, default=held_port)
    assert port != held_port and port_free(port)
    assert line == (f"Emails (referrals) go to the mail sink on 127.0.0.1:{port}: another program holds "
                    f"{held_port} (set EMAIL_PORT to choose the port)")


def test_the_mail_sink_keeps_its_own_port_when_it_is_free():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert mail_sink_port({"EMAIL_HOST": "127.0.0.1"}, default=free)[0] == free


def test_an_email_port_that_was_asked_for_and_is_taken_stops_the_run_naming_the_variable(held_port):
    with pytest.raises(StackError, match=rf"port {held_port} \(EMAIL_PORT\) is in use by another program: set "
                                         "EMAIL_PORT to a free port"):
        mail_sink_port({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(held_port)})


def test_with_a_real_mail_server_no_sink_is_started():
    assert mail_sink_port({"EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "587"}) == (
        None, "Emails (referrals) go to the SMTP server at smtp.example.org:587")
