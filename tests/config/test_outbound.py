"""Requests to typed addresses: refused before connecting when the host resolves to an internal address, sent to
the address that was checked, never redirected, never through a proxy from the environment."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from config.outbound import OutboundRefused, guarded_session, resolved_problem, url_problem, webhook_policy

HOOK = "https://hooks.partner.example/muster"

INTERNAL = [
    "127.0.0.1", "127.8.9.10", "10.0.0.5", "172.16.3.4", "192.168.1.10", "169.254.169.254", "169.254.10.10",
    "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.251", "255.255.255.255", "::1", "::", "fd00:ec2::254",
    "fe80::1", "fc00::5", "::ffff:127.0.0.1", "::ffff:10.0.0.5", "::ffff:169.254.169.254",
    "2002:7f00:1::1", "2002:a9fe:a9fe::1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
]


class Server(ThreadingHTTPServer):
    """A web server on loopback that answers every POST with ``status`` (and ``location``, if set)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.status, self.location, self.paths = 200, "", []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.paths.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    server = Server()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def post(url: str):
    with guarded_session(webhook_policy()) as session:
        return session.post(url, data=b"{}", timeout=5)


@pytest.mark.parametrize("address", INTERNAL)
def test_a_host_resolving_to_an_internal_address_is_refused_before_any_connection(network, settings, address):
    network.dns["hooks.partner.example"] = [address]
    with pytest.raises(OutboundRefused, match="resolves to an address not allowed"):
        post(HOOK)
    assert network.connected == []


@pytest.mark.parametrize("address", INTERNAL)
def test_an_internal_address_typed_as_the_host_is_refused_when_saved(address):
    host = f"[{address}]" if ":" in address else address
    assert "not allowed" in url_problem(f"https://{host}:8443/hook", webhook_policy())


def test_a_public_host_is_connected_to_at_the_address_that_was_checked(network):
    network.dns["hooks.partner.example"] = ["93.184.216.34"]
    with pytest.raises(requests.ConnectionError):  # the test network refuses it: nothing leaves this machine
        post(HOOK)
    assert network.connected == ["93.184.216.34"]
    assert network.lookups == ["hooks.partner.example"]


def test_one_internal_address_among_public_ones_refuses_the_host(network):
    network.dns["hooks.partner.example"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(OutboundRefused):
        post(HOOK)
    assert network.connected == []


def test_a_name_that_was_public_when_saved_and_points_inside_when_sent_is_refused(network):
    network.dns["hooks.partner.example"] = ["93.184.216.34"]
    assert resolved_problem(HOOK, webhook_policy()) is None
    network.dns["hooks.partner.example"] = ["127.0.0.1"]  # DNS rebinding
    with pytest.raises(OutboundRefused):
        post(HOOK)
    assert network.connected == []


def test_a_name_that_does_not_resolve_yet_can_be_saved_and_fails_when_sent(network):
    assert resolved_problem("https://not-yet.partner.invalid/hook", webhook_policy()) is None
    with pytest.raises(requests.ConnectionError):
        post("https://not-yet.partner.invalid/hook")


def test_a_host_named_in_the_setting_may_be_private_but_never_a_metadata_address(network, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.partner.example"]
    network.dns["hooks.partner.example"] = ["10.0.0.5"]
    with pytest.raises(requests.ConnectionError):
        post(HOOK)
    assert network.connected == ["10.0.0.5"]
    network.dns["hooks.partner.example"] = ["169.254.169.254"]
    with pytest.raises(OutboundRefused, match="metadata"):
        post(HOOK)
    assert network.connected == ["10.0.0.5"]


def test_plain_http_is_refused_except_to_a_loopback_host_the_operator_named(server, settings, network):
    assert url_problem("http://hooks.partner.example/muster", webhook_policy()) == "The address must use https://."
    with pytest.raises(OutboundRefused):
        post(f"{server.url}/hook")
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    assert post(f"{server.url}/hook").status_code == 200
    assert server.paths == ["/hook"]


def test_a_named_host_over_http_must_still_resolve_to_loopback(network, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    network.dns["localhost"] = ["10.0.0.5"]
    with pytest.raises(OutboundRefused, match="plain http"):
        post("http://localhost:8080/hook")
    assert network.connected == []


def test_a_redirect_is_answered_as_it_is_and_not_followed(server, settings, network):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server.status, server.location = 307, f"{server.url}/elsewhere"
    assert post(f"{server.url}/hook").status_code == 307
    assert server.paths == ["/hook"]


def test_a_proxy_in_the_environment_is_not_used(server, settings, network, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert post(f"{server.url}/hook").status_code == 200
    assert server.paths == ["/hook"]


@pytest.mark.parametrize("url", ["ftp://hooks.partner.example/x", "https://user:pass@hooks.partner.example/x",
                                 "https:///nohost", "https://hooks.partner.example:99999/x", "file:///etc/passwd"])
def test_an_address_that_is_not_an_https_url_is_refused(url):
    assert url_problem(url, webhook_policy())
