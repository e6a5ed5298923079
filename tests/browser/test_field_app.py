"""The field app (/app/) in a real browser, as an officer's phone runs it: enrolment with the second factor, the PIN
and the lock, the wipe after wrong PINs, what IndexedDB keeps (nothing readable), a callout arriving by push and
answered, answers given without signal, availability, and the shell opening offline."""

import json

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from callouts.models import Callout, EscalationPolicy
from callouts.services.callouts import callout_launch, callout_respond
from tests.browser.app_steps import (
    PIN,
    advance_clock,
    choose_pin,
    enrolled,
    enter_pin,
    field_officer,
    fill_enrolment,
    heading,
    indexeddb_records,
    looks_right,
    network_errors_only,
    notifications,
    open_app,
    problem,
    problem_says,
    push_stand_in,
    screen_is,
    signal,
    submit,
    subscribed_with,
    to,
)
from tests.browser.console_steps import wait
from tests.factories import add_member, make_unit
from tests.push_double import browser_at
from units.models import ContactMethod, Device, FixedRule, PushSubscription, Unavailability

# As with a worker and beat running: alerts go as soon as a launch commits, and no watchdog banner; push is set up
# with a VAPID key pair, as the demo has it.
pytestmark = pytest.mark.usefixtures("eager_tasks", "timers_running", "vapid")

MESSAGE = "Armed suspect seen at Kennington Park. RV Kennington police station, north yard."


@pytest.fixture
def tsu(db):
    """Three accepts fill its callouts."""
    unit = make_unit("tsu", name="Tactical Support Unit")
    EscalationPolicy.objects.create(unit=unit, quorum=3, wait_minutes=5)
    return unit


def officer(unit, name):
    """A responder always on the unit's primary list, with an authenticator app."""
    person = field_officer(name)
    add_member(unit, person)
    FixedRule.objects.create(tier=unit.tiers.get(position=1), person=person)
    return person


@pytest.fixture
def priya(tsu):
    return officer(tsu, "Priya Shah")


@pytest.fixture
def alex(tsu):
    return officer(tsu, "Alex Morgan")


def launch(unit, dispatcher) -> Callout:
    return callout_launch(unit=unit, actor=dispatcher, message=MESSAGE, incident_ref="CAD-2026-0412")


def test_an_officer_enrols_with_the_second_factor_chooses_a_pin_and_unlocks_after_the_idle_lock(app, priya,
                                                                                               settings):
    settings.APP_LOCK_MINUTES = 2
    driver = open_app(app)
    assert heading(driver) == "Enrol this phone"
    fill_enrolment(driver, priya.user, priya.authenticator)
    looks_right(app, "app-enrol")
    submit(driver)
    choose_pin(driver, PIN, "246811")
    wait(driver, 10).until(problem_says("The two PINs are not the same. Enter them again."))
    looks_right(app, "app-pin")
    choose_pin(driver, "24681", "24681")
    wait(driver, 10).until(problem_says("The PIN must be at least 6 digits, digits only."))
    choose_pin(driver, PIN)
    wait(driver, 15).until(screen_is("Callouts"))

    device = Device.objects.get(user=priya.user)
    assert (device.platform, device.name, device.revoked_at) == ("web", "Web browser", None)
    to(driver, "device", "This device")
    assert "Muster locks after 2 minutes without use." in driver.find_element(By.TAG_NAME, "main").text
    looks_right(app, "app-device")

    advance_clock(driver, 2 * 60 + 1)  # two minutes without a tap or a key
    wait(driver, 10).until(screen_is("Muster is locked"))
    looks_right(app, "app-locked")
    enter_pin(driver, PIN)
    wait(driver, 15).until(screen_is("This device"))  # back where the officer was


def test_five_wrong_pins_wipe_the_phone_and_sign_the_device_out(app, priya):
    driver = enrolled(app, priya)
    device = Device.objects.get(user=priya.user)
    driver.refresh()  # the app closed and opened again: the key is gone with the page
    wait(driver, 15).until(screen_is("Muster is locked"))

    for left in ("4 tries", "3 tries", "2 tries", "1 try"):
        enter_pin(driver, "135790")
        wait(driver, 10).until(problem_says(f"Wrong PIN. {left} left"))
    assert problem(driver) == "Wrong PIN. 1 try left before Muster's data on this phone is wiped."
    enter_pin(driver, "135790")

    wait(driver, 15).until(screen_is("Enrol this phone"))
    assert driver.find_element(By.CSS_SELECTOR, "main .notice").text.startswith(
        "5 wrong PINs: Muster's data on this phone was wiped and the phone is signed out.")
    wait(driver, 10).until(lambda d: indexeddb_records(d) == [])
    device.refresh_from_db()
    assert device.revoked_at is not None


def test_five_wrong_pins_without_signal_wipe_the_phone_at_once_and_sign_it_out_when_the_signal_is_back(
        app, devtools, priya):
    driver = enrolled(app, priya)
    device = Device.objects.get(user=priya.user)
    driver.refresh()
    wait(driver, 15).until(screen_is("Muster is locked"))
    signal(driver, on=False, devtools=devtools)

    for left in ("4 tries", "3 tries", "2 tries", "1 try"):
        enter_pin(driver, "135790")
        wait(driver, 10).until(problem_says(f"Wrong PIN. {left} left"))
    enter_pin(driver, "135790")
    wait(driver, 15).until(screen_is("Enrol this phone"))
    # Wiped on the phone at once; what is left is the device's id and wipe key, to sign it out with later.
    assert [(record["store"], record["key"]) for record in indexeddb_records(driver)] == [("plain", "sign_out")]
    device.refresh_from_db()
    assert device.revoked_at is None

    # Back online, the first try does not get through (the radio is up, the route not yet): it is tried again.
    page = devtools.attach("page", "/app/")
    devtools.send("Fetch.enable", {"patterns": [{"urlPattern": "*/api/v1/auth/devices/wipe/"}]}, session=page)
    signal(driver, on=True, devtools=devtools)  # the browser's `online` event follows
    first = devtools.event("Fetch.requestPaused")
    devtools.send("Fetch.failRequest", {"requestId": first["requestId"], "errorReason": "InternetDisconnected"},
                  session=page)
    again = devtools.event("Fetch.requestPaused", seconds=15)
    devtools.send("Fetch.continueRequest", {"requestId": again["requestId"]}, session=page)
    devtools.send("Fetch.disable", session=page)
    wait(driver, 15).until(lambda d: Device.objects.filter(pk=device.pk, revoked_at__isnull=False).exists())
    wait(driver, 10).until(lambda d: indexeddb_records(d) == [])
    network_errors_only(app)


def test_indexeddb_holds_no_plaintext_of_the_token_or_of_an_answer_waiting_for_signal(app, devtools, priya, tsu,
                                                                                      dispatcher):
    callout = launch(tsu, dispatcher)
    driver = open_app(app)
    page = devtools.attach("page", "/app/")
    devtools.send("Network.enable", session=page)
    fill_enrolment(driver, priya.user, priya.authenticator)
    submit(driver)
    enrolment = devtools.event("Network.responseReceived",
                               lambda params: params["response"]["url"].endswith("/api/v1/auth/devices/"))
    devtools.event("Network.loadingFinished", lambda params: params["requestId"] == enrolment["requestId"])
    body = devtools.send("Network.getResponseBody", {"requestId": enrolment["requestId"]}, session=page)
    token = json.loads(body["body"])["token"]
    choose_pin(driver)
    wait(driver, 15).until(screen_is("Callouts"))
    to(driver, f"callouts/{callout.pk}", "Tactical Support Unit")
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "callout-message"), MESSAGE))

    signal(driver, on=False, devtools=devtools)
    driver.find_element(By.CSS_SELECTOR, "button.decline").click()
    driver.find_element(By.ID, "reason").send_keys("Giving evidence at Southwark Crown Court")
    driver.find_element(By.CSS_SELECTOR, "form button.decline").click()
    waiting = wait(driver, 10).until(shown.visibility_of_element_located((By.CSS_SELECTOR, ".waiting")))
    assert waiting.text.startswith("Waiting for signal: your answer is saved on this phone")
    looks_right(app)

    records = indexeddb_records(driver)
    assert {(record["store"], record["key"]) for record in records} >= {
        ("sealed", "token"), ("sealed", f"outbox:answer:{callout.pk}"), ("sealed", f"callout:{callout.pk}")}
    stored = "\n".join(record["key"] + " " + record["value"] for record in records)
    for secret in (token, token[:8], "Southwark", "Kennington", "Tactical Support Unit", "Priya", "CAD-2026"):
        assert secret not in stored

    signal(driver, on=True, devtools=devtools)  # the browser's `online` event follows
    wait(driver, 15).until(shown.invisibility_of_element_located((By.CSS_SELECTOR, ".waiting")))
    assert driver.find_element(By.ID, "my-answer").text.startswith("Declined\nat ")
    network_errors_only(app)
    recipient = callout.recipients.get(person=priya)
    assert (recipient.response, recipient.note, recipient.response_channel) == (
        "decline", "Giving evidence at Southwark Crown Court", "app")


def worker_registration(devtools, base_url: str) -> tuple[str, str]:
    """The page's DevTools session and the id of the service worker's registration for /app/."""
    page = devtools.attach("page", "/app/")
    devtools.send("ServiceWorker.enable", session=page)
    scope = f"{base_url}/app/"
    update = devtools.event("ServiceWorker.workerRegistrationUpdated", lambda params: any(
        entry["scopeURL"] == scope and not entry["isDeleted"] for entry in params["registrations"]))
    return page, next(entry["registrationId"] for entry in update["registrations"] if entry["scopeURL"] == scope)


# In the service worker: a promise settled when the worker's next showNotification has (the method is put back then).
NEXT_NOTIFICATION = """
self.nextNotification = new Promise((resolve, reject) => {
  const registration = self.registration, show = registration.showNotification;
  registration.showNotification = (...args) => {
    registration.showNotification = show;
    return show.apply(registration, args).then((value) => { resolve(); return value; }, (error) => {
      reject(error); throw error; });
  };
});
undefined;
"""


def deliver_push(devtools, base_url: str, payload: dict) -> None:
    """The push as the push service hands it to the browser: straight to the service worker's push event."""
    page, registration = worker_registration(devtools, base_url)
    # The worker started and running first: one (re)started while DevTools watches its registration can wait for a
    # debugger before it runs anything, the push event included, so once attached it is told to run.
    devtools.send("ServiceWorker.startWorker", {"scopeURL": f"{base_url}/app/"}, session=page)
    devtools.event("ServiceWorker.workerVersionUpdated", lambda params: any(
        version["registrationId"] == registration and version["runningStatus"] == "running"
        and version["status"] == "activated" for version in params["versions"]))
    worker = devtools.attach("service_worker", "/app/sw.js")
    devtools.send("Runtime.runIfWaitingForDebugger", session=worker)
    # Read only once shown: Chromium 156 drops a notification whose getNotifications() read overlaps its display
    # (a page polling while the worker showed one found none, ever after, in about half the runs).
    devtools.evaluate(worker, NEXT_NOTIFICATION)
    devtools.send("ServiceWorker.deliverPushMessage", {"origin": f"{base_url}/", "registrationId": registration,
                                                       "data": json.dumps(payload)}, session=page)
    devtools.evaluate(worker, "self.nextNotification")


@pytest.fixture
def priyas_phone(app, push_service, settings):
    """Priya's phone with its push subscription at a push service double (app_steps.push_stand_in), which Muster's
    Web Push channel really sends to."""
    settings.MUSTER_CHANNELS = {**settings.MUSTER_CHANNELS, "push": "callouts.channels.push.WebPushChannel"}
    phone = browser_at(push_service)
    with push_stand_in(app.driver, phone.to_json()):
        yield phone


def enrolled_with_push(app, person, phone, settings):
    """Enrolled, and subscribed to push by the app itself with Muster's VAPID key, Muster told of it."""
    driver = enrolled(app, person)
    wait(driver, 15).until(lambda d: PushSubscription.objects.filter(
        person=person, endpoint=phone.endpoint, p256dh=phone.to_json()["keys"]["p256dh"], active=True).exists())
    assert subscribed_with(driver) == settings.VAPID_PUBLIC_KEY
    assert ContactMethod.objects.get(person=person, kind="push").address == phone.endpoint
    return driver


def pushed(push_service, phone, settings) -> dict:
    """What Muster sent to the push service for ``phone``, signed with the key the app subscribed with: the payload
    the service worker will receive."""
    [(headers, body)] = push_service.received
    assert f"k={settings.VAPID_PUBLIC_KEY}" in headers["authorization"]  # what the push service checks
    return phone.read(body)


def tapped(devtools, action: str = "") -> None:
    """What a tap on the service worker's notification runs (headless Chromium shows none to tap): the body, or one
    of its actions."""
    worker = devtools.attach("service_worker", "/app/sw.js")
    devtools.evaluate(worker, "self.registration.getNotifications()"
                              f".then(([shown]) => {{ shown.close(); return clicked(shown.data, '{action}'); }})")


def answer_cell(driver, name: str) -> str:
    rows = {row.find_element(By.CSS_SELECTOR, ".person-link").text: row
            for row in driver.find_elements(By.CSS_SELECTOR, "tr.person-row")}
    return rows[name].find_element(By.CSS_SELECTOR, ".answer-cell").text


def test_a_callout_push_shows_a_notification_and_an_accept_with_eta_reaches_the_operators_live_page(
        app, devtools, client, priya, priyas_phone, push_service, alex, tsu, dispatcher, settings):
    driver = enrolled_with_push(app, priya, priyas_phone, settings)
    to(driver, "device", "This device")
    wait(driver, 10).until(shown.text_to_be_present_in_element(
        (By.TAG_NAME, "main"), "On: callouts arrive on this phone as notifications."))
    callout = launch(tsu, dispatcher)
    callout_respond(recipient=callout.recipients.get(person=alex), response="accept", eta_minutes=20, channel="sms")

    w0 = devtools.attach("service_worker", "/app/sw.js")
    devtools.send("Runtime.enable", session=w0)
    devtools.send("Log.enable", session=w0)
    deliver_push(devtools, app.base_url, pushed(push_service, priyas_phone, settings))
    try:
        wait(driver, 10).until(notifications)
    except Exception:
        w = devtools.attach("service_worker", "/app/sw.js")
        print("DEBUG notes", devtools.evaluate(w, "self.registration.getNotifications().then(n => n.length)"))
        print("DEBUG targets", devtools.send("Target.getTargets"))
        for e in devtools.events:
            if not e.get("method", "").startswith("Network"):
                print("DEBUG ev", e)
        raise
    [notification] = notifications(driver)
    assert {key: notification[key] for key in ("title", "body", "tag", "requireInteraction", "actions")} == {
        "title": "Tactical Support Unit", "body": MESSAGE, "tag": f"callout-{callout.pk}",
        "requireInteraction": True, "actions": ["Accept", "Decline"]}

    tapped(devtools)  # the open app is brought forward at the callout
    wait(driver, 10).until(screen_is("Tactical Support Unit"))
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "callout-message"), MESSAGE))
    main = driver.find_element(By.TAG_NAME, "main").text
    assert "Incident\nCAD-2026-0412" in main and "My answer\nNot answered" in main
    wait(driver, 10).until(lambda d: "PC Alex Morgan\nETA 20 min" in d.find_element(By.TAG_NAME, "main").text)
    looks_right(app, "app-callout", dark_screenshot=True)
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Accept, there in 10 min']").click()
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "my-answer"), "Accepted · ETA 10 min"))
    to(driver, "callouts", "Callouts")
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.TAG_NAME, "main"), "Accepted"))
    looks_right(app, "app-callouts")

    app.log_in(client, dispatcher)
    live = app.open(reverse("admin:callouts_callout_live", args=[callout.pk]))
    wait(live, 10).until(lambda d: d.find_element(By.ID, "live-status").text.startswith("Updated"))
    priya_answer = answer_cell(live, "PC Priya Shah")
    assert priya_answer.startswith("Accepted · arrives ~") and "(ETA 10 min)" in priya_answer


def test_an_officer_sees_their_shifts_and_feed_and_books_themselves_unavailable(app, priya):
    driver = enrolled(app, priya)
    to(driver, "availability", "My availability")
    shifts = wait(driver, 10).until(shown.visibility_of_element_located(
        (By.CSS_SELECTOR, "[aria-labelledby=shifts-heading] li")))
    assert shifts.text.startswith("Now – ") and shifts.text.endswith("Tactical Support Unit · Primary")
    feed = driver.find_element(By.ID, "feed").get_attribute("value")
    assert feed.startswith("http") and feed.endswith(".ics")

    driver.find_element(By.XPATH, "//button[normalize-space()='I am unavailable…']").click()
    driver.find_element(By.CSS_SELECTOR, "#kind option[value=court]").click()
    driver.find_element(By.ID, "note").send_keys("Southwark Crown Court")
    looks_right(app)
    submit(driver)
    booked = wait(driver, 10).until(shown.visibility_of_element_located(
        (By.CSS_SELECTOR, "[aria-labelledby=unavailable-heading] li")))
    assert booked.text.startswith("Court until ") and "Southwark Crown Court" in booked.text
    court = Unavailability.objects.get(person=priya)
    assert (court.kind, court.note) == ("court", "Southwark Crown Court")
    looks_right(app, "app-availability")

    booked.find_element(By.XPATH, ".//button[normalize-space()='Remove']").click()
    wait(driver, 10).until(shown.text_to_be_present_in_element(
        (By.CSS_SELECTOR, "[aria-labelledby=unavailable-heading]"), "Nothing booked"))
    assert not Unavailability.objects.filter(person=priya).exists()


def test_every_screen_opens_without_signal(app, devtools, priya, tsu, dispatcher):
    callout = launch(tsu, dispatcher)
    driver = enrolled(app, priya)
    to(driver, f"callouts/{callout.pk}", "Tactical Support Unit")
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "callout-message"), MESSAGE))
    to(driver, "availability", "My availability")
    wait(driver, 10).until(shown.visibility_of_element_located((By.ID, "shifts-heading")))

    to(driver, f"callouts/{callout.pk}", "Tactical Support Unit")
    signal(driver, on=False, devtools=devtools)
    driver.refresh()  # the app opened again, without signal
    wait(driver, 15).until(screen_is("Muster is locked"))
    assert driver.execute_async_script("fetch('/api/v1/app-config/').then(() => arguments[0]('answered'), "
                                       "() => arguments[0]('no signal'))") == "no signal"
    enter_pin(driver, PIN)
    wait(driver, 15).until(shown.text_to_be_present_in_element((By.ID, "callout-message"), MESSAGE))
    assert driver.find_element(By.CSS_SELECTOR, "main .offline").text == "No connection: showing what was saved."
    for route, title in (("callouts", "Callouts"), ("availability", "My availability"), ("device", "This device"),
                         ("reports", "Field reports"), ("circulations", "Circulated to me")):
        to(driver, route, title)
        if route == "availability":
            shifts = wait(driver, 10).until(shown.visibility_of_element_located(
                (By.CSS_SELECTOR, "[aria-labelledby=shifts-heading] li")))
            assert shifts.text.endswith("Tactical Support Unit · Primary")
    network_errors_only(app)


def test_accept_on_the_notification_answers_through_the_pushs_own_link(app, devtools, priya, priyas_phone,
                                                                       push_service, tsu, dispatcher, settings):
    driver = enrolled_with_push(app, priya, priyas_phone, settings)
    callout = launch(tsu, dispatcher)
    deliver_push(devtools, app.base_url, pushed(push_service, priyas_phone, settings))
    wait(driver, 10).until(notifications)

    tapped(devtools, "accept")
    wait(driver, 10).until(lambda d: [n["body"] for n in notifications(d)] == [
        "Accepted. Open Muster to give your ETA."])
    recipient = callout.recipients.get(person=priya)
    assert (recipient.response, recipient.eta_minutes, recipient.response_channel) == ("accept", None, "push")
