"""A local double of a Web Push service, a VAPID key pair, and browsers subscribed to it, so tests drive the real
``pywebpush`` over real HTTP and read what a service worker would receive::

    def test_something(vapid, push_service, person):
        browser = subscribe_browser(person, push_service)
        ...  # send a delivery to browser.subscription's endpoint
        [(headers, body)] = push_service.received
        headers["urgency"], browser.read(body)      # the Urgency header, the decrypted JSON payload

The fixtures ``vapid`` and ``push_service`` are in every test's reach (tests/conftest.py). ``vapid`` sets
VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY and VAPID_SUBJECT to a fresh pair: a working pair for any test
(the field app's browser tests included) that needs push configured.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from units.models import ContactMethod, PushSubscription


class PushService:
    """A push service endpoint that keeps each request and answers with the status it is told."""

    def __init__(self):
        self.status = 201
        self.location = ""  # where a redirect points
        self.answer = b""  # the body of the answer
        self.received: list[tuple[dict, bytes]] = []
        self.arrived: list[float] = []  # when each was received (time.time()), for bench/field_app.py
        self.paths: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                service.arrived.append(time.time())
                service.paths.append(self.path)
                self.send_response(service.status)
                self.send_header("Location", service.location or f"{self.path}/messages/m-{len(service.received)}")
                self.send_header("Content-Length", str(len(service.answer)))
                self.end_headers()
                self.wfile.write(service.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/push/v2/device-1"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_key_of(key: Vapid) -> str:
    return b64url(key.public_key.public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint))


@pytest.fixture
def vapid(settings):
    key = Vapid()
    key.generate_keys()
    settings.VAPID_PRIVATE_KEY = b64url(key.private_key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = public_key_of(key)
    settings.VAPID_SUBJECT = "mailto:duty@police.example"
    return key


@pytest.fixture
def push_service(settings):
    # A push service on loopback is reached only because the operator names it, as an IP address.
    settings.PUSH_SERVICE_HOSTS = [*settings.PUSH_SERVICE_HOSTS, "127.0.0.1"]
    service = PushService()
    thread = threading.Thread(target=service.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


@dataclass
class Browser:
    """A browser's side of a subscription at the push service: its endpoint, its key pair and auth secret, and what
    Muster keeps of it once told."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes
    subscription: PushSubscription | None = None

    def read(self, body: bytes) -> dict:
        """The JSON payload, decrypted as only this browser can."""
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth))

    def to_json(self) -> dict:
        """What the browser's ``PushSubscription.toJSON()`` gives for it."""
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}


def browser_at(service: PushService, *, path: str = "device-1") -> Browser:
    """A browser subscribed at the service, which Muster has not been told of yet."""
    return Browser(service.endpoint.replace("device-1", path), ec.generate_private_key(ec.SECP256R1()),
                   os.urandom(16))


def subscribe_browser(person, service: PushService, *, path: str = "device-1") -> Browser:
    """``person``'s browser subscribed at the service; their push contact methods point at it."""
    browser = browser_at(service, path=path)
    keys = browser.to_json()["keys"]
    browser.subscription = PushSubscription.objects.create(person=person, endpoint=browser.endpoint, **keys)
    ContactMethod.objects.filter(person=person, kind="push").update(address=browser.endpoint)
    return browser
