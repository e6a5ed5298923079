"""A local double of Twilio's REST API, so tests drive the real ``twilio`` client over real HTTP.

It answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` and ``.../Calls.json`` on 127.0.0.1 with the JSON
Twilio sends, checks the account's basic auth, records every request, and answers from a script::

    double.script("Messages", [429, 429, 201])   # then 201 for every later request
    double.script("Messages", [(400, 21211)])     # a refusal with Twilio's error code
    double.always("Calls", 500)
    double.script("Messages", ["hang"])           # holds the request until the double stops
    [r.params["To"] for r in double.requests("Messages") if r.status == 201]

Use the ``twilio_double`` fixture (import it into the test module) to point the settings at it, or, for a
worker in another process, pass ``double.env()`` into its environment (with ``SMS_CHANNEL`` or
``MUSTER_PROVIDERS=live`` to send through Twilio at all) and wait with ``double.wait_for("Messages", 3)``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "d0b1e" * 6 + "00"
AUTH_TOKEN = "double-auth-token"
FROM_NUMBER = "+447700900001"
API_VERSION = "2010-04-01"
RESOURCES = ("Messages", "Calls")
HANG = "hang"

# Twilio's error codes for the statuses a script may name alone, and their messages.
DEFAULT_CODES = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number {to} is not a valid mobile number",
}

Reply = int | tuple[int, int] | str


@dataclass
class RecordedRequest:
    resource: str
    path: str
    params: dict[str, str]
    username: str
    password: str
    status: int = 0
    sid: str = ""


class TwilioDouble:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid, self.auth_token = account_sid, auth_token
        self._lock = threading.Condition()
        self._scripts: dict[str, deque[Reply]] = {name: deque() for name in RESOURCES}
        self._then: dict[str, Reply] = dict.fromkeys(RESOURCES, 201)
        self._log: list[RecordedRequest] = []
        self._released = threading.Event()
        self.delay = 0.0  # seconds each answer takes, as a real provider's round trip does
        self.in_flight = self.most_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> TwilioDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def env(self) -> dict[str, str]:
        """Environment variables that point a Muster process at this double."""
        return {"TWILIO_API_BASE": self.base_url, "TWILIO_ACCOUNT_SID": self.account_sid,
                "TWILIO_AUTH_TOKEN": self.auth_token, "TWILIO_FROM_NUMBER": FROM_NUMBER}

    def script(self, resource: str, replies: list[Reply], then: Reply = 201) -> None:
        """Answer the next requests with ``replies`` in order, and every one after with ``then``."""
        with self._lock:
            self._scripts[resource] = deque(replies)
            self._then[resource] = then

    def always(self, resource: str, reply: Reply) -> None:
        self.script(resource, [], then=reply)

    def requests(self, resource: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._log if r.resource == resource]

    def wait_for(self, resource: str, count: int, timeout: float = 10) -> list[RecordedRequest]:
        """Wait until ``count`` requests for ``resource`` have been answered; for workers in other processes."""
        with self._lock:
            self._lock.wait_for(lambda: len([r for r in self._log if r.resource == resource and r.status]) >= count,
                                timeout=timeout)
        return self.requests(resource)

    def _next_reply(self, resource: str) -> Reply:
        with self._lock:
            script = self._scripts[resource]
            return script.popleft() if script else self._then[resource]

    def _answer(self, record: RecordedRequest, account_sid: str) -> tuple[int, dict]:
        if (record.username, record.password, account_sid) != (self.account_sid, self.auth_token, self.account_sid):
            return error(401, 20003)
        reply = self._next_reply(record.resource)
        if reply == HANG:
            self._released.wait(timeout=60)
            reply = 201
        status, code = reply if isinstance(reply, tuple) else (reply, DEFAULT_CODES.get(reply, reply))
        if status >= 300:
            return error(status, code, to=record.params.get("To", ""))
        if not record.params.get("To"):
            return error(400, 21604)
        record.sid = ("SM" if record.resource == "Messages" else "CA") + uuid.uuid4().hex
        return status, created(record, self.account_sid)

    def _finish(self, record: RecordedRequest, status: int) -> None:
        with self._lock:
            record.status = status
            self._lock.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = self.path.split("?")[0].strip("/").split("/")
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                resource = parts[-1].removesuffix(".json") if len(parts) == 4 else ""
                if parts[:2] != [API_VERSION, "Accounts"] or resource not in RESOURCES:
                    self.reply(*error(404, 20404))
                    return
                record = RecordedRequest(resource, self.path, params, *basic_auth(self.headers))
                with double._lock:
                    double._log.append(record)
                    double.in_flight += 1
                    double.most_in_flight = max(double.most_in_flight, double.in_flight)
                time.sleep(double.delay)
                status, body = double._answer(record, parts[2])
                with double._lock:
                    double.in_flight -= 1
                double._finish(record, status)
                self.reply(status, body)

            def reply(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # The client gave up waiting (a timeout test).

            def log_message(self, *args) -> None:
                pass

        return Handler


def basic_auth(headers) -> tuple[str, str]:
    scheme, _, encoded = headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return "", ""
    username, _, password = base64.b64decode(encoded).decode().partition(":")
    return username, password


def error(status: int, code: int, to: str = "") -> tuple[int, dict]:
    message = MESSAGES.get(code, "Error").format(to=to)
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}


def created(record: RecordedRequest, account_sid: str) -> dict:
    now = format_datetime(datetime.now(UTC))
    uri = f"/{API_VERSION}/Accounts/{account_sid}/{record.resource}/{record.sid}.json"
    common = {"account_sid": account_sid, "api_version": API_VERSION, "date_created": now, "date_updated": now,
              "direction": "outbound-api", "from": record.params.get("From"), "price": None, "price_unit": "USD",
              "sid": record.sid, "status": "queued", "to": record.params.get("To"), "uri": uri}
    if record.resource == "Messages":
        return {**common, "body": record.params.get("Body", ""), "date_sent": None, "error_code": None,
                "error_message": None, "messaging_service_sid": None, "num_media": "0", "num_segments": "1",
                "subresource_uris": {"media": uri.replace(".json", "/Media.json")}}
    return {**common, "answered_by": None, "caller_name": None, "duration": None, "end_time": None,
            "forwarded_from": None, "from_formatted": record.params.get("From"), "parent_call_sid": None,
            "phone_number_sid": None, "queue_time": "0", "start_time": None, "to_formatted": record.params.get("To"),
            "subresource_uris": {"recordings": uri.replace(".json", "/Recordings.json")}}


def twilio_signature(url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """The ``X-Twilio-Signature`` Twilio would send with a webhook to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, params)


@pytest.fixture
def twilio_double(settings):
    """A running Twilio double, with the Twilio settings pointed at it."""
    with TwilioDouble() as double:
        settings.TWILIO_API_BASE = double.base_url
        settings.TWILIO_ACCOUNT_SID = double.account_sid
        settings.TWILIO_AUTH_TOKEN = double.auth_token
        settings.TWILIO_FROM_NUMBER = FROM_NUMBER
        yield double
