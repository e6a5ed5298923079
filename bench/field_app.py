"""The field app's figures (/app/), in Debian's headless Chromium against a real server, worker and beat.

Run it with ``./muster bench app`` (or as the last part of ``./muster bench``). It builds the scratch database,
seeds a unit with one officer (an authenticator for enrolment, push as their only channel) and an operator,
starts ``runserver`` (DEBUG off, static files served by Django), a Celery worker and beat, a local Web Push
service double that Muster's real Web Push channel sends to, and one Chromium. Then it measures:

* first load: every request Chromium makes (DevTools ``Network`` events of the page and of the service worker)
  from opening /app/ on a phone that never saw Muster until the worker is active and the enrol screen shows,
  each body's size raw and gzipped at level 9 (as WhiteNoise writes its .gz files);
* push to a usable callout screen: a callout is launched, the push that Muster sent to the double is decrypted
  and handed to the service worker (DevTools ``ServiceWorker.deliverPushMessage``); the notification's tap is
  the worker's own ``clicked(data, action)``, the function its ``notificationclick`` handler calls, run in the
  worker through DevTools (headless Chromium shows no notification to press);
* push to accepted: the operator's live page, open in a second window, showing the answer.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent))

import callout_fanout as stack  # noqa: E402  (the scratch database, the worker and beat, percentiles)
from report_submit import free_port  # noqa: E402
from sections import replace_section  # noqa: E402

from tests.browser.chromium import CHROMEDRIVER, CHROMIUM, start_chromium  # noqa: E402

if TYPE_CHECKING:
    from tests.push_double import PushService

STARTED = time.monotonic()
SECTION = "## Field app"
TARGET_KB = 150
USABLE_TARGET = 1.0
LIVE_POLL_SECONDS = 2  # callouts/static/callouts/live.js
PIN = "246810"
PASSWORD = "bench-password-2026"


def say(text: str) -> None:
    print(f"bench: {text}, {time.monotonic() - STARTED:.0f} s in", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8, help="pushes timed in each of the three ways")
    stack.add_stack_options(parser)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


# ---- the push service double, the web server, the settings ------------------------------------------------


def start_push_service() -> PushService:
    """tests/push_double.py's Web Push service on loopback, answering 201 to every push Muster sends, on a thread
    of its own (imported once Django is set up: it reads Muster's models)."""
    from tests.push_double import PushService

    service = PushService()
    threading.Thread(target=service.server.serve_forever, args=(0.05,), daemon=True).start()
    return service


def pushes_since(service: PushService, count: int) -> list[tuple[float, bytes]]:
    """Each push from the count-th on: when it arrived, and its body."""
    return [(at, body) for at, (_, body) in zip(service.arrived[count:], service.received[count:], strict=False)]


def configure(port: int) -> None:
    """What every process needs before Django starts: a fresh VAPID pair, the real Web Push channel, and the
    double's address allowed as a push service."""
    from py_vapid import Vapid

    from config.vapid import b64url, public_key

    key = Vapid()
    key.generate_keys()
    os.environ.update({
        "DEBUG": "false",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "VAPID_PRIVATE_KEY": b64url(key.private_key.private_numbers().private_value.to_bytes(32, "big")),
        "VAPID_PUBLIC_KEY": public_key(key),
        "VAPID_SUBJECT": "mailto:bench@police.example",
        "PUSH_CHANNEL": "callouts.channels.push.WebPushChannel",
        "PUSH_SERVICE_HOSTS": "127.0.0.1",
    })


def start_web(processes: stack.Processes, port: int) -> str:
    """Django's runserver as ``./muster run`` starts it, with DEBUG off and static files served by Django."""
    log_path = processes.log_dir / "web.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", "--insecure",
                                    f"127.0.0.1:{port}"], cwd=stack.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    processes.started.append(process)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            sys.exit(f"bench: the web server did not start:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(OSError), urlopen(f"{base}/app/", timeout=2) as answer:
            return answer.status == 200
        return False

    stack.wait_until(answers, stack.START_SECONDS, "the web server")
    return base


def forget_throttles() -> None:
    """No request counted against a rate limit by an earlier run: the database is new each time, but the cache in
    Redis is not, and a phone may enrol only 10 times an hour from one address (API_THROTTLE_ENROL)."""
    import redis
    from django.conf import settings
    from django.core.cache import cache

    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter(match=cache.make_key("throttle_*")):
            client.delete(key)


# ---- seeding -------------------------------------------------------------------------------------------


@dataclass
class People:
    unit: object
    officer: object
    authenticator: object
    operator: object
    phone: object  # the officer's browser as the push service knows it (tests/push_double.Browser)


def seed(push: PushService) -> People:
    """A unit with one officer on its first list, reachable by push only, with an authenticator app; an
    operator; the officer's browser subscribed at the push double."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import add_member, make_person, make_unit
    from tests.push_double import subscribe_browser
    from units.models import ContactMethod, FixedRule

    unit = make_unit("bench-app", name="Bench Response Unit")
    officer = make_person("Sam Bench", rank="PC", verified_sms=False)
    officer.user.set_password(PASSWORD)
    officer.user.save()
    officer.user.groups.add(Group.objects.get(name="Responders"))
    add_member(unit, officer)
    FixedRule.objects.create(tier=unit.tiers.get(position=1), person=officer)
    authenticator = TOTPDevice.objects.create(user=officer.user, name="Sam's authenticator")
    ContactMethod.objects.create(person=officer, kind="push", address="Sam's phone", verified_at=timezone.now())
    operator = get_user_model().objects.create_user("bench-operator", is_staff=True, first_name="Olu",
                                                    last_name="Operator")
    operator.groups.add(Group.objects.get(name="Operators"))
    return People(unit, officer, authenticator, operator, subscribe_browser(officer, push))


# ---- Chromium ------------------------------------------------------------------------------------------


class Tools:
    """The browser's DevTools websocket (tests/browser/devtools.py), with what the bench adds: read what has
    arrived without waiting for an answer, and evaluate with a readable error."""

    def __init__(self, driver):
        from tests.browser.devtools import DevTools

        self.devtools = DevTools(driver)
        self.send, self.event, self.attach = self.devtools.send, self.devtools.event, self.devtools.attach

    def close(self) -> None:
        self.devtools.close()

    def pump(self, seconds: float) -> list[dict]:
        """The events that arrive within ``seconds`` (and those already read), taken off the queue."""
        import websocket

        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.devtools.socket.settimeout(left)
            try:
                self.devtools.events.append(json.loads(self.devtools.socket.recv()))
            except websocket.WebSocketTimeoutException:
                break
        events, self.devtools.events[:] = list(self.devtools.events), []
        return events

    def evaluate(self, session: str, expression: str):
        """The value of ``expression``, awaited when a promise (within DevTools' 10 s), in the target of
        ``session``."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}…: {result['exceptionDetails']}")
        return result["result"].get("value")


# ---- first load ----------------------------------------------------------------------------------------

# Compressed already: WhiteNoise never gzips these, so a phone downloads them raw.
ALREADY_COMPRESSED = (".png",)


@dataclass
class Fetch:
    by: str  # "page" or "worker"
    url: str
    status: int = 0
    length: int | None = None  # the body's Content-Length, as Chromium received it
    wire: int = 0  # bytes on the wire, headers included (DevTools' encodedDataLength)
    done: bool = False


@dataclass
class Sizes:
    raw: int
    gzip: int
    image: bool  # a format compressed already (PNG): WhiteNoise never gzips it

    @property
    def counted(self) -> int:
        """What a phone downloads when the server compresses as WhiteNoise does: the gzipped file, unless it is
        an image or gzip saves less than 5%."""
        return self.raw if self.image or self.gzip >= 0.95 * self.raw else self.gzip


class FirstLoad:
    """Every request of the page and of its service worker, from DevTools' Network events: attached to every new
    target as it starts (the worker is held until its Network domain is on), so its precache is seen too."""

    def __init__(self, tools: Tools, page_target: str):
        self.tools, self.page_target = tools, page_target
        self.kinds: dict[str, str] = {}
        self.fetches: dict[tuple[str, str], Fetch] = {}
        # The status the server sent, from the ExtraInfo events: a revalidation the server answered 304 reaches the
        # fetch (and responseReceived) as the cached 200.
        self.sent: dict[tuple[str, str], int] = {}

    def run(self, url: str) -> list[Fetch]:
        self.tools.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True})
        self.take(self.tools.pump(0.3))
        page = next(s for s, target in self.kinds.items() if target == self.page_target)
        self.tools.send("Page.navigate", {"url": url}, session=page)
        deadline = time.monotonic() + 30
        quiet_since = time.monotonic()
        while not (self.settled(page) and time.monotonic() - quiet_since > 0.5):
            if time.monotonic() > deadline:
                sys.exit("bench: the app's first load did not settle within 30 s")
            if self.take(self.tools.pump(0.1)):
                quiet_since = time.monotonic()
        self.tools.send("Target.setAutoAttach", {"autoAttach": False, "waitForDebuggerOnStart": False,
                                                 "flatten": True})
        for session in self.kinds:
            with contextlib.suppress(RuntimeError):
                self.tools.send("Target.detachFromTarget", {"sessionId": session})
        for key, fetch in self.fetches.items():
            if self.sent.get(key) == 304:
                fetch.status = 304
        return [fetch for fetch in self.fetches.values() if fetch.url]

    def settled(self, page: str) -> bool:
        """The enrol screen shows, the worker is active, and no request is still loading."""
        shown = self.tools.evaluate(page, """(async () =>
            document.querySelector("header h1")?.textContent === "Enrol this phone"
            && (await navigator.serviceWorker.getRegistration())?.active?.state === "activated")()""")
        return shown and all(fetch.done for fetch in self.fetches.values())

    def take(self, events: list[dict]) -> bool:
        """Records what the events say; True when a request started."""
        started = False
        for event in events:
            method, params, session = event.get("method", ""), event.get("params", {}), event.get("sessionId")
            if method == "Target.attachedToTarget":
                self.attached(params)
            elif method.startswith("Network.") and session in self.kinds:
                started |= self.network(self.kinds[session], session, method, params)
        return started

    def attached(self, params: dict) -> None:
        session, target = params["sessionId"], params["targetInfo"]
        if target["type"] in ("page", "service_worker"):
            self.kinds[session] = target["targetId"] if target["type"] == "page" else "worker"
            self.tools.send("Network.enable", session=session)
        if params["waitingForDebugger"]:
            self.tools.send("Runtime.runIfWaitingForDebugger", session=session)

    def network(self, kind: str, session: str, method: str, params: dict) -> bool:
        if kind not in (self.page_target, "worker"):
            return False  # another page of the browser (its new-tab page)
        key = (session, params.get("requestId", ""))
        if method == "Network.responseReceivedExtraInfo":
            self.sent[key] = params.get("statusCode", 0)
            return False
        if method in ("Network.requestWillBeSent", "Network.responseReceived") and key not in self.fetches:
            # The worker's own script is fetched before it runs: only its response is seen.
            self.fetches[key] = Fetch("page" if kind == self.page_target else "worker", "")
        fetch = self.fetches.get(key)
        if fetch is None:
            return False
        if method == "Network.requestWillBeSent":
            fetch.url = params["request"]["url"]
            return True
        if method == "Network.responseReceived":
            response = params["response"]
            headers = {name.lower(): value for name, value in response["headers"].items()}
            fetch.url, fetch.status = response["url"], response["status"]
            fetch.length = int(headers["content-length"]) if "content-length" in headers else None
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            fetch.wire, fetch.done = params.get("encodedDataLength", 0), True
        return False


def sizes_of(fetches: list[Fetch]) -> dict[str, Sizes]:
    """Each URL's body as the server sends it, raw and gzipped at level 9 as WhiteNoise compresses (no name,
    no time in the header), read again by the bench: Chromium keeps no body of what the worker put in its cache.
    The length must be the one Chromium received."""
    found = {}
    for url in sorted({fetch.url for fetch in fetches}):
        with urlopen(url, timeout=10) as answer:
            body = answer.read()
        lengths = {fetch.length for fetch in fetches if fetch.url == url} - {None}
        if not {fetch.status for fetch in fetches if fetch.url == url} <= {200, 304}:
            sys.exit(f"bench: {url} did not answer 200 (or 304, not modified) to every request of the first load")
        if lengths and lengths != {len(body)}:
            sys.exit(f"bench: {url} is {len(body)} bytes now, Chromium received {lengths}")
        found[url] = Sizes(len(body), len(gzip.compress(body, compresslevel=9, mtime=0)),
                           url.endswith(ALREADY_COMPRESSED))
    return found


def first_load(driver, tools: Tools, base: str) -> tuple[list[Fetch], dict[str, Sizes]]:
    fetches = FirstLoad(tools, driver.current_window_handle).run(f"{base}/app/")
    return fetches, sizes_of(fetches)


# ---- what the bench runs in the pages and in the worker ------------------------------------------------

# A promise of the moment (Date.now(), the machine's clock) a condition on the page first holds: checked now and
# after every change to the page, so the time is that of the change, not of a poll.
WATCH = """
window.__benchWatch ??= (check, ms = 9000) => new Promise((resolve, reject) => {
  let observer = null;
  let timer = null;
  const done = () => {
    let holds = false;
    try { holds = check(); } catch { holds = false; }
    if (!holds) return false;
    observer?.disconnect();
    clearTimeout(timer);
    resolve(Date.now());
    return true;
  };
  if (done()) return;
  observer = new MutationObserver(done);
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  timer = setTimeout(() => { observer.disconnect(); reject(new Error(`${check} not within ${ms} ms`)); }, ms);
});
"""

# In the service worker: the moment each notification is shown (its showNotification promise resolved), kept by
# tag. Installed once in each run of the worker, around the registration's own method.
WORKER_HOOK = """(() => {
  if (self.__bench) return false;
  const times = {};
  const waiting = {};
  const show = self.registration.showNotification.bind(self.registration);
  self.registration.showNotification = (title, options = {}) => show(title, options).then((result) => {
    const at = Date.now();
    (times[options.tag] ||= []).push(at);
    (waiting[options.tag] || []).forEach((resolve) => resolve(at));
    delete waiting[options.tag];
    return result;
  });
  self.__bench = { shown: (tag) => new Promise((resolve, reject) => {
    if (times[tag]) return resolve(times[tag][0]);
    (waiting[tag] ||= []).push(resolve);
    setTimeout(() => reject(new Error(`no notification ${tag} within 8 s`)), 8000);
  }) };
  return true;
})()"""

# A press on the notification: what its notificationclick handler does (close it, then clicked(data, action)).
PRESS = """__bench.shown(%(tag)s).then(async (shownAt) => {
  const [notification] = await self.registration.getNotifications({ tag: %(tag)s });
  notification.close();
  const pressedAt = Date.now();
  %(then)s
  return { shownAt, pressedAt };
})"""
TAP = "await clicked(notification.data || {}, '');"
ACCEPT = "await clicked(notification.data || {}, 'accept');"


def callout_usable(callout_id: int, message: str) -> str:
    """The callout screen shows this callout's message and an Accept button that can be pressed."""
    return f"""() => location.hash === "#/callouts/{callout_id}"
        && document.getElementById("callout-message")?.textContent === {json.dumps(message)}
        && [...document.querySelectorAll("button.accept")].some((button) => !button.disabled)"""


PIN_USABLE = """() => document.querySelector("header h1")?.textContent === "Muster is locked"
    && !!document.getElementById("pin") && !document.querySelector("main form button[type=submit]").disabled"""
# The app shows the answer as the server holds it: no longer queued ("at HH:MM" follows it then).
ANSWER_SHOWN = """() => (document.getElementById("my-answer")?.textContent || "").startsWith("Accepted")
    && !!document.querySelector("#my-answer .meta") && !document.querySelector(".waiting")"""
# The lock screen gone: the PIN's key derived and the token read with it.
UNLOCKED = """() => document.querySelector("header h1")?.textContent !== 'Muster is locked'"""
# When the new window's navigation started, and when its shell and modules had run (DOMContentLoaded follows the
# module scripts), on the machine's clock.
LOADED = """(() => {
  const [navigation] = performance.getEntriesByType("navigation");
  return { navigating: performance.timeOrigin + navigation.startTime,
    loaded: performance.timeOrigin + navigation.domContentLoadedEventEnd };
})()"""
PAGE_NOW = "`${location.href} ${document.readyState}: ${document.body?.innerText.slice(0, 400)}`"
ACCEPT_BUTTON = "button[aria-label='Accept, there in 10 min']"


def live_shows(recipient_id: int) -> str:
    return f"""() => !!document.querySelector('tr.person-row[data-recipient="{recipient_id}"] .answer-accept')"""


# ---- the phone and the operator's screen ---------------------------------------------------------------


def enrol(driver, tools: Tools, people: People) -> None:
    """Enrolment with the password and the authenticator's code, then the PIN: the app open on its callouts."""
    from django_otp.oath import totp
    from selenium.webdriver.common.by import By

    page = tools.attach("page", "/app/")
    fields = {"username": people.officer.user.username, "password": PASSWORD,
              "otp_token": f"{totp(people.authenticator.bin_key):06d}"}
    for name, value in fields.items():
        driver.find_element(By.ID, name).send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    heading_is(tools, page, "Choose a PIN")
    for name in ("pin", "again"):
        driver.find_element(By.ID, name).send_keys(PIN)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    heading_is(tools, page, "Callouts")


def heading_is(tools: Tools, session: str, title: str) -> None:
    awaited(tools, session, WATCH + f"""__benchWatch(() =>
        document.querySelector("header h1")?.textContent === {json.dumps(title)})""")


def awaited(tools: Tools, session: str, expression: str):
    """The value of a watch's promise; when it never comes, the run stops saying what the page showed."""
    try:
        return tools.evaluate(session, expression)
    except RuntimeError as error:
        sys.exit(f"bench: {error}\nThe page then: {tools.evaluate(session, PAGE_NOW)}")


class Rig:
    """The officer's phone (the app's window and its service worker) and the operator's live page (a second
    window of the same Chromium), driven through DevTools."""

    def __init__(self, driver, tools: Tools, base: str, people: People, push: PushService):
        self.driver, self.tools, self.base, self.people, self.push = driver, tools, base, people, push
        self.app = tools.attach("page", "/app/")
        self.operator = self.new_window()
        self.log_in_operator()
        self.registration = self.worker_registration()

    def new_window(self) -> str:
        target = self.tools.send("Target.createTarget", {"url": "about:blank", "newWindow": True})["targetId"]
        return self.tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def log_in_operator(self) -> None:
        """The operator's session, made as the second-factor form makes it, handed to the browser as its cookie."""
        from django.conf import settings
        from django.test import Client

        from tests.factories import login_verified

        client = login_verified(Client(), self.people.operator)
        self.tools.send("Storage.setCookies", {"cookies": [{
            "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "domain": "127.0.0.1", "path": "/", "httpOnly": True}]})

    def worker_registration(self) -> str:
        self.tools.send("ServiceWorker.enable", session=self.operator)
        scope = f"{self.base}/app/"
        update = self.tools.event("ServiceWorker.workerRegistrationUpdated", lambda params: any(
            entry["scopeURL"] == scope and not entry["isDeleted"] for entry in params["registrations"]))
        return next(entry["registrationId"] for entry in update["registrations"] if entry["scopeURL"] == scope)

    def worker(self) -> str:
        """The service worker's DevTools session, the worker started first if it had stopped (one started while
        DevTools watches can wait for a debugger before running anything, the push event included)."""
        deadline = time.monotonic() + 15
        while True:
            try:
                session = self.tools.attach("service_worker", "/app/sw.js")
                break
            except LookupError:
                if time.monotonic() > deadline:
                    sys.exit("bench: the service worker did not start")
                self.tools.send("ServiceWorker.startWorker", {"scopeURL": f"{self.base}/app/"}, session=self.operator)
                self.tools.pump(0.1)
        self.tools.send("Runtime.runIfWaitingForDebugger", session=session)
        self.tools.evaluate(session, WORKER_HOOK)
        return session

    def deliver(self, payload: dict) -> float:
        """The push as the push service hands it to the browser: straight to the worker's push event."""
        started = time.time()
        self.tools.send("ServiceWorker.deliverPushMessage", {
            "origin": f"{self.base}/", "registrationId": self.registration, "data": json.dumps(payload)},
            session=self.operator)
        return started

    def watch(self, session: str, name: str, condition: str, then: str = "") -> None:
        self.tools.evaluate(session, WATCH + f"window.{name} = __benchWatch({condition}){then}; true")

    def seen(self, session: str, name: str):
        return awaited(self.tools, session, f"window.{name}")

    def open_live_page(self, callout, recipient_id: int) -> None:
        """The operator's live page of the callout, loaded (not the login page), watching for the officer's
        answer."""
        from django.urls import reverse

        path = reverse("admin:callouts_callout_live", args=[callout.pk])
        self.tools.send("Page.navigate", {"url": self.base + path}, session=self.operator)
        loaded = (f"location.pathname === {json.dumps(path)} && document.readyState === 'complete' "
                  "&& !!document.getElementById('live-status')")
        stack.wait_until(lambda: self.tools.evaluate(self.operator, loaded), 15, "the live page")
        self.watch(self.operator, "__benchLive", live_shows(recipient_id))
        # Not a wait for anything: the push is delivered at a random point of the page's poll cycle (2 s after
        # its last update), as in life, rather than always at the same time after the page loaded.
        time.sleep(random.uniform(0, LIVE_POLL_SECONDS))


# ---- the timed runs ------------------------------------------------------------------------------------

MESSAGE = "Run {n}: armed suspect seen at Kennington Park. RV Kennington police station, north yard."


@dataclass
class Pushed:
    callout: object
    recipient_id: int
    payload: dict
    handed: float  # seconds from the launch to the push service's receiving the push

    @property
    def tag(self) -> str:
        return json.dumps(f"callout-{self.callout.pk}")


def launch(rig: Rig, n: int) -> Pushed:
    """A callout launched to the officer, and the push Muster sent for it, decrypted as the phone would."""
    from callouts.services.callouts import callout_launch

    before = len(rig.push.arrived)
    callout = callout_launch(unit=rig.people.unit, actor=rig.people.operator, message=MESSAGE.format(n=n),
                             incident_ref=f"CAD-BENCH-{n:04d}")
    found: list[tuple[float, dict]] = []

    def arrived() -> bool:
        found[:] = [(at, payload) for at, body in pushes_since(rig.push, before)
                    if (payload := rig.people.phone.read(body)).get("callout") == callout.pk
                    and payload.get("kind") == "callout"]
        return bool(found)

    stack.wait_until(arrived, 30, f"the push of callout {callout.pk}")
    at, payload = found[0]
    recipient = callout.recipients.get(person=rig.people.officer)
    return Pushed(callout, recipient.pk, payload, at - callout.launched_at.timestamp())


def stored_at(recipient_id: int) -> float:
    """When the server stored the officer's answer (the answer's own timestamp, set by the web server)."""
    from callouts.models import Recipient

    answer = Recipient.objects.filter(pk=recipient_id, responded_at__isnull=False)
    stack.wait_until(answer.exists, 15, f"the answer of recipient {recipient_id}")
    return answer.get().responded_at.timestamp()


def accept_on_the_notification(rig: Rig, n: int) -> dict[str, float]:
    pushed = launch(rig, n)
    rig.open_live_page(pushed.callout, pushed.recipient_id)
    worker = rig.worker()
    delivered = rig.deliver(pushed.payload)
    press = rig.tools.evaluate(worker, PRESS % {"tag": pushed.tag, "then": ACCEPT})
    stored = stored_at(pushed.recipient_id)
    live = rig.seen(rig.operator, "__benchLive") / 1000
    return {"handed": pushed.handed, "shown": press["shownAt"] / 1000 - delivered,
            "stored": stored - press["pressedAt"] / 1000, "live": live - stored, "end": live - delivered}


def accept_in_the_open_app(rig: Rig, n: int) -> dict[str, float]:
    """The app open and unlocked on its callout list: the tap takes it to the callout, and its Accept is
    pressed as soon as it can be."""
    rig.tools.evaluate(rig.app, "location.hash = '#/callouts'")
    heading_is(rig.tools, rig.app, "Callouts")
    pushed = launch(rig, n)
    rig.open_live_page(pushed.callout, pushed.recipient_id)
    press_at_once = f""".then((usableAt) => {{
        const pressedAt = Date.now();
        document.querySelector("{ACCEPT_BUTTON}").click();
        window.__benchAnswered = __benchWatch({ANSWER_SHOWN});
        return {{ usableAt, pressedAt }};
    }})"""
    rig.watch(rig.app, "__benchUsable", callout_usable(pushed.callout.pk, pushed.callout.message), press_at_once)
    worker = rig.worker()
    delivered = rig.deliver(pushed.payload)
    tap = rig.tools.evaluate(worker, PRESS % {"tag": pushed.tag, "then": TAP})
    usable = rig.seen(rig.app, "__benchUsable")
    answered = rig.seen(rig.app, "__benchAnswered") / 1000
    stored = stored_at(pushed.recipient_id)
    live = rig.seen(rig.operator, "__benchLive") / 1000
    pressed = usable["pressedAt"] / 1000
    return {"handed": pushed.handed, "shown": tap["shownAt"] / 1000 - delivered,
            "usable": (usable["usableAt"] - tap["pressedAt"]) / 1000, "stored": stored - pressed,
            "answered": answered - pressed, "live": live - stored, "end": live - delivered}


def tap_with_the_app_closed(rig: Rig, n: int) -> dict[str, float]:
    """No window of the app open: the tap opens one at the callout, the shell comes from the worker's cache and
    asks for the PIN (the key lived only in the closed page's memory); the PIN is entered at once."""
    from callouts.services.callouts import callout_cancel

    pushed = launch(rig, n)
    worker = rig.worker()
    delivered = rig.deliver(pushed.payload)
    tap = rig.tools.evaluate(worker, PRESS % {"tag": pushed.tag, "then": ""})
    tapped, target, window = open_window(rig, rig.base + pushed.payload["url"])
    pin = rig.seen(window, "__benchPin") / 1000
    loaded = rig.tools.evaluate(window, LOADED)
    entered = enter_pin(rig, window, callout_usable(pushed.callout.pk, pushed.callout.message))
    unlocked, usable = rig.seen(window, "__benchUnlocked") / 1000, rig.seen(window, "__benchUsable") / 1000
    rig.tools.send("Target.closeTarget", {"targetId": target})
    callout_cancel(callout=pushed.callout, actor=rig.people.operator, reason="Benchmark run over")
    navigating = loaded["navigating"] / 1000
    return {"handed": pushed.handed, "shown": tap["shownAt"] / 1000 - delivered, "pin": pin - tapped,
            "window": navigating - tapped, "loaded": loaded["loaded"] / 1000 - navigating,
            "pin_shown": pin - navigating, "unlocked": usable - entered, "key": unlocked - entered}


def open_window(rig: Rig, url: str) -> tuple[float, str, str]:
    """The tap's new window at ``url``, watched for the PIN screen from its first script on.

    clients.openWindow() needs the user activation only a real notification press carries (Chromium refuses it
    from DevTools: "Not allowed to open a window"), so the window is opened here, as openWindow opens it."""
    tapped = time.time()
    target = rig.tools.send("Target.createTarget", {"url": "about:blank", "newWindow": True})["targetId"]
    window = rig.tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    rig.tools.send("Page.enable", session=window)
    rig.tools.send("Page.addScriptToEvaluateOnNewDocument", {
        "source": WATCH + f"window.__benchPin = __benchWatch({PIN_USABLE});"}, session=window)
    navigation = rig.tools.send("Page.navigate", {"url": url}, session=window)
    if "errorText" in navigation:
        sys.exit(f"bench: the tap's window did not open {url}: {navigation['errorText']}")
    return tapped, target, window


def enter_pin(rig: Rig, window: str, usable: str) -> float:
    """The PIN typed and Unlock pressed; when, by the page's clock."""
    return rig.tools.evaluate(window, WATCH + f"""(() => {{
        window.__benchUnlocked = __benchWatch({UNLOCKED});
        window.__benchUsable = __benchWatch({usable});
        const field = document.getElementById("pin");
        field.value = {json.dumps(PIN)};
        const enteredAt = Date.now();
        field.form.requestSubmit();
        return enteredAt;
    }})()""") / 1000


KINDS = {
    "notification": accept_on_the_notification,
    "open": accept_in_the_open_app,
    "closed": tap_with_the_app_closed,
}


def measure(driver, base: str, people: People, push: PushService, runs: int, neighbours) -> dict:
    tools = Tools(driver)
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["notifications"]})
    fetches, sizes = first_load(driver, tools, base)
    say(f"first load measured, {len(fetches)} requests")
    enrol(driver, tools, people)
    rig = Rig(driver, tools, base, people, push)
    results: dict = {"fetches": fetches, "sizes": sizes}
    n = 0
    for kind, run in KINDS.items():
        if kind == "closed":
            driver.get("about:blank")  # the app's window closed: its page, and the key in its memory, gone
        run(rig, n := n + 1)  # not counted: the first of each kind warms the server and the browser
        results[kind] = []
        for _ in range(runs):
            neighbours.wait_quiet()
            results[kind].append(run(rig, n := n + 1))
            tools.pump(0)  # DevTools' events of this run, read by nobody
        say(f"{kind} done")
    tools.close()
    return results


# ---- report --------------------------------------------------------------------------------------------


def ms_row(label: str, values: list[float]) -> str:
    """Milliseconds, nearest-rank percentiles."""
    cells = " | ".join(f"{stack.percentile(values, p) * 1000:.0f}" for p in (50, 95))
    return f"| {label} | {len(values)} | {cells} | {max(values) * 1000:.0f} |"


def p95(values: list[float]) -> str:
    return f"{stack.percentile(values, 95) * 1000:.0f}"


def verdict(values: list[float]) -> str:
    return "met" if stack.percentile(values, 95) <= USABLE_TARGET else "missed"


def column(runs: list[dict[str, float]], key: str) -> list[float]:
    return [run[key] for run in runs]


def load_part(fetches: list[Fetch], sizes: dict[str, Sizes], base: str) -> list[str]:
    by: dict[str, list[str]] = {}
    for fetch in fetches:
        by.setdefault(fetch.url, []).append(fetch.by)
    # A 304 (not modified: the worker's install revalidating what the page has just loaded) carries no body.
    bodies = [fetch for fetch in fetches if fetch.status == 200]
    every = sum(sizes[fetch.url].counted for fetch in bodies)
    once = sum(size.counted for size in sizes.values())
    twice = {url for url in by if sum(fetch.url == url for fetch in bodies) > 1}
    reloaded = sum(sizes[url].counted for url in twice)
    not_modified = sum(fetch.status == 304 for fetch in fetches)
    lines = [
        "### First load of the app shell",
        "",
        f"From opening /app/ on a phone that never saw Muster until its service worker is active and \"Enrol this "
        f"phone\" shows: {len(fetches)} requests, {sum(f.by == 'page' for f in fetches)} by the page and "
        f"{sum(f.by == 'worker' for f in fetches)} by the worker (its script and its precache).",
        "",
        "| File | fetched by | raw bytes | gzip -9 bytes |",
        "|---|---|---|---|",
    ]
    for url, size in sizes.items():
        gzipped = f"{size.gzip:,}" + (" (sent raw)" if size.counted == size.raw else "")
        lines.append(f"| {url.removeprefix(base)} | {' + '.join(sorted(by[url]))} | {size.raw:,} | {gzipped} |")
    lines += [
        f"| **every request ({len(fetches)}; {not_modified} answered 304, no body)** | | "
        f"{sum(sizes[f.url].raw for f in bodies):,} | **{every:,}** |",
        f"| each file once ({len(sizes)}) | | {sum(s.raw for s in sizes.values()):,} | {once:,} |",
        "",
        "*gzip -9* is the body compressed at level 9 as WhiteNoise writes its .gz files (no name or time in the "
        "header); the totals count a file raw where WhiteNoise would send it so: PNG, or gzip saving under 5%. "
        "KB are 1,000 bytes. Brotli is not measured (no brotli module here). As served by runserver, which "
        f"compresses nothing, the requests took {sum(f.wire for f in fetches):,} bytes on the wire, headers "
        "included.",
        "",
        f"Target ≤ {TARGET_KB} KB compressed: **{'met' if every <= TARGET_KB * 1000 else 'missed'}** "
        f"({every / 1000:.1f} KB for every request; each file once is {once / 1000:.1f} KB). The worker's install "
        f"revalidates every file of the shell (`cache: \"no-cache\"`): {not_modified} came back 304, not modified, "
        f"since the page had just loaded them; {len(twice)} files were downloaded twice "
        f"({reloaded / 1000:.1f} KB compressed).",
        "",
    ]
    return lines


def usable_part(results: dict) -> list[str]:
    opened, closed = results["open"], results["closed"]
    both = [run["pin"] + run["unlocked"] for run in closed]
    tap = column(opened, "usable")
    return [
        "### Push to a usable callout screen",
        "",
        "*Usable*: the callout screen shows the callout's message and its Accept buttons can be pressed. "
        "Milliseconds:",
        "",
        "| From → until | runs | p50 | p95 | max |",
        "|---|---|---|---|---|",
        ms_row("push delivered to the worker → notification shown (every run)",
               [run["shown"] for kind in KINDS for run in results[kind]]),
        ms_row("**app open and unlocked in a window: tap → callout screen usable**", tap),
        ms_row("**app closed: tap → PIN screen usable**", column(closed, "pin")),
        ms_row("tap → the new window starts loading the app (a window opened through DevTools)",
               column(closed, "window")),
        ms_row("loading starts → the shell and its modules, from the worker's cache, have run (DOMContentLoaded)",
               column(closed, "loaded")),
        ms_row("loading starts → PIN screen usable", column(closed, "pin_shown")),
        ms_row("PIN entered → the lock screen gone (the key derived, the token read)", column(closed, "key")),
        ms_row("**app closed: PIN entered → callout screen usable**", column(closed, "unlocked")),
        ms_row("app closed: the two together (the time to type the PIN left out)", both),
        "",
        f"Target ≤ {USABLE_TARGET:.0f} s after the tap, judged on p95. App open: **{verdict(tap)}** "
        f"(p95 {p95(tap)} ms). App closed, where the PIN stands between the tap and the callout: the PIN screen "
        f"is usable {p95(column(closed, 'pin'))} ms after the tap (p95; the bench's opening of the window through "
        f"DevTools is up to {max(column(closed, 'window')) * 1000:.0f} ms of it) and the callout "
        f"{p95(column(closed, 'unlocked'))} ms after the PIN; the two together, the person's typing left out, "
        f"**{verdict(both)}** (p95 {p95(both)} ms). The PIN's key is derived with PBKDF2-SHA-256 at 600,000 "
        "iterations (fieldapp/static/fieldapp/crypto.js): that work is in *the lock screen gone*, by design.",
        "",
    ]


def accepted_part(results: dict) -> list[str]:
    notification, opened = results["notification"], results["open"]
    return [
        "### Push to accepted",
        "",
        "Until the operator's live page (`/admin/callouts/callout/<id>/live/`, logged in with a verified second "
        "factor, in a second window) shows the officer as Accepted. Milliseconds:",
        "",
        "| From → until | runs | p50 | p95 | max |",
        "|---|---|---|---|---|",
        ms_row("**Accept on the notification: push delivered → live page shows it**", column(notification, "end")),
        ms_row("push delivered → notification shown", column(notification, "shown")),
        ms_row("Accept pressed → answer stored (the push's own answer link)", column(notification, "stored")),
        ms_row("stored → live page shows it", column(notification, "live")),
        ms_row("**In the open app: push delivered → live page shows it**", column(opened, "end")),
        ms_row("push delivered → notification shown", column(opened, "shown")),
        ms_row("tap → callout screen usable", column(opened, "usable")),
        ms_row("\"Accept, there in 10 min\" pressed → answer stored", column(opened, "stored")),
        ms_row("pressed → the app shows the answer as the server holds it", column(opened, "answered")),
        ms_row("stored → live page shows it", column(opened, "live")),
        ms_row("before all this: launch → the push at the push service (worker, pywebpush)",
               [run["handed"] for kind in KINDS for run in results[kind]]),
        "",
        f"The live page asks for an update {LIVE_POLL_SECONDS} s after its last one came "
        f"(callouts/static/callouts/live.js), so *stored → live page* is mostly that wait: 0–{LIVE_POLL_SECONDS} s, "
        "plus the update's request (two, when the answer is stored while one is on its way); each push is "
        "delivered at a random point of the page's cycle. *Stored* is the answer's `responded_at`, set by the web "
        "server.",
        "",
    ]


def section(args, results: dict, share: float, busy: int, elapsed: float) -> str:
    runs = sum(len(results[kind]) for kind in KINDS)
    versions = {**stack.versions(), **results["browser"]}
    lines = [
        f"{SECTION}: first load, push to a usable callout screen, push to accepted",
        "",
        f"Written by `bench/field_app.py` (`./muster bench app`, and last in `./muster bench`) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; it took {elapsed:.0f} s.",
        "",
        f"- Machine: {stack.machine()}",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in versions.items())}",
        f"- Command: `{' '.join(['./muster bench app', *sys.argv[1:]])}`",
        f"- Other processes on the machine used {share:.0%} of its CPU meanwhile"
        + (" (the timings below are slower than on a quiet machine)" if share > 0.05 else "")
        + f"; {busy} of {runs} runs started without a quiet second",
        f"- Stack: PostgreSQL and Redis on this machine, `manage.py runserver` (DEBUG off, static files served by "
        f"Django, nothing compressed), one `celery worker --pool prefork --concurrency {args.concurrency}` and "
        "one `celery beat`; Muster's Web Push channel (pywebpush) sending to a push service double on loopback; "
        "Debian's Chromium, headless, with the app in one window and the operator's live page in another.",
        "",
        "What this measures. First, what a phone downloads on its first visit to /app/, request by request, as "
        "Chromium's DevTools Network events list them for the page and for the service worker. Then each run "
        f"launches a callout to one officer whose only channel is push ({args.runs} runs of each kind, after one "
        "not counted): Muster's worker sends the Web Push to the double, the bench decrypts it as the phone "
        "would and hands it to the app's service worker with DevTools' `ServiceWorker.deliverPushMessage`. The "
        "push service's own delay and a sleeping phone's wake-up are not in these figures. Headless Chromium has "
        "no notification to press: a press is the worker's own `clicked(data, action)`, which its "
        "`notificationclick` handler calls, run in the worker through DevTools. With the app closed, "
        "`clients.openWindow()` refuses to run without the user activation only a real press carries, so the "
        "bench opens the window at the notification's address itself (DevTools `Target.createTarget`), as "
        "openWindow would. The screens are watched by a MutationObserver in each page, the notification by a "
        "wrapper around the worker's `showNotification`; every time is read from the machine's clock. Nobody "
        "hesitates: each press follows the screen it needs at once, so these are the system's times, without a "
        f"person's. Percentiles are nearest-rank: {nearest_rank(args.runs)}.",
        "",
        *load_part(results["fetches"], results["sizes"], results["base"]),
        *usable_part(results),
        *accepted_part(results),
    ]
    return "\n".join(lines)


def nearest_rank(runs: int) -> str:
    rank = math.ceil(0.95 * runs)
    return f"with {runs} runs, p95 is " + ("the maximum" if rank == runs else f"value {rank} of {runs}, smallest first")


def browser_versions(driver) -> dict[str, str]:
    driver_version = driver.capabilities.get("chrome", {}).get("chromedriverVersion", "").split(" ")[0]
    return {"Chromium": driver.capabilities["browserVersion"], "chromedriver": driver_version}


def run_all(args, var_dir: str, people: People, push: PushService, port: int) -> tuple[dict, object]:
    processes = stack.Processes(Path(var_dir))
    driver = None
    try:
        stack.start_stack(processes, args.concurrency)
        base = start_web(processes, port)
        say("worker, beat and web server up")
        driver = start_chromium(str(Path(var_dir) / "chromium"))
        # Chromium and chromedriver stay in this process's group: the Neighbours count them as the bench's.
        neighbours = stack.Neighbours({process.pid for process in processes.started})
        neighbours.wait_budget = 30.0
        neighbours.start()
        results = measure(driver, base, people, push, args.runs, neighbours)
        results.update(base=base, browser=browser_versions(driver))
    finally:
        if driver is not None:
            driver.quit()
        processes.stop()
        push.server.shutdown()
        push.server.server_close()
    return results, neighbours


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))  # so the stack and browser are stopped
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        sys.exit("bench: the field app's benchmark needs Debian's chromium and chromium-driver (apt-get install "
                 "chromium chromium-driver; ./muster test installs them)")
    started = time.monotonic()
    url = stack.bench_database_url()
    stack.recreate_database(url)
    port = free_port()
    configure(port)
    with tempfile.TemporaryDirectory(prefix="muster-bench-") as var_dir:
        stack.setup_django(url, var_dir)
        forget_throttles()
        push = start_push_service()
        people = seed(push)
        say("scratch database made")
        results, neighbours = run_all(args, var_dir, people, push, port)
        text = section(args, results, neighbours.share(), neighbours.busy_starts, time.monotonic() - started)
    print(text)
    if args.output != "-":
        replace_section(Path(args.output), SECTION, text)
        print(f"bench: wrote {args.output}")
    if not args.keep:
        stack.drop_database(url)


if __name__ == "__main__":
    main()
