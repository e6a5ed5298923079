"""A dispatcher's night at 3 a.m., start to finish, in a real browser: log in with the authenticator, launch
although the confirmation warns in red, watch texts arrive through Twilio's webhook, see the callout go red when
the timer finds nobody on the secondary list, stand down, close, and check the page on a phone."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from callouts.live import clock
from callouts.models import Callout, EscalationPolicy
from callouts.services.callouts import escalations_due
from callouts.times import clock_time
from callouts.webhooks import SMS_HELP
from tests.browser.accessibility import accessibility_problems
from tests.browser.console_steps import (
    DESKTOP,
    PASSWORD,
    PHONE,
    RED,
    background,
    banner,
    banner_says,
    launch_checked,
    login_with_authenticator,
    visible_overflow,
    wait,
    warning_lines,
    whole_page_screenshot,
)
from tests.factories import add_member, make_person, make_unit
from tests.twilio_double import AUTH_TOKEN, FROM_NUMBER, twilio_signature
from units.models import FixedRule

# As with a worker and beat running: alerts go as soon as a launch commits, and no watchdog banner.
pytestmark = pytest.mark.usefixtures("eager_tasks", "timers_running")

PRIMARY = ["Alex Morgan", "Priya Shah", "Tom Becker"]
CLOSED = "rgba(52, 58, 64, 1)"
PALE_RED = "rgba(253, 232, 232, 1)"  # a timeline event that needs the operator's eye


@pytest.fixture
def dog_unit(db):
    """A Dog Support Unit at 3 a.m.: three handlers on the primary list, each with a verified mobile; nobody on
    the secondary; two accepts fill a callout."""
    unit = make_unit("dsu", name="Dog Support Unit")
    primary, _ = unit.tiers.all()
    unit.people = {}
    for name in PRIMARY:
        person = unit.people[name] = make_person(name, rank="PC")
        add_member(unit, person)
        FixedRule.objects.create(tier=primary, person=person)
    EscalationPolicy.objects.create(unit=unit, quorum=2, wait_minutes=5)
    return unit


@pytest.fixture
def twilio_webhooks(settings, live_server):
    """Twilio signs with our auth token over the address it was given: this live server's."""
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SITE_URL = live_server.url


def text_from(person, body: str) -> str:
    """A text from the person's phone, as Twilio posts it to the webhook; what Twilio would text back."""
    url = settings.SITE_URL + reverse("callouts:twilio_sms_inbound")
    params = {"MessageSid": f"SM{person.pk:032d}", "From": person.contact_methods.get(kind="sms").address,
              "To": FROM_NUMBER, "Body": body}
    signed = {"X-Twilio-Signature": twilio_signature(url, params)}
    request = Request(url, data=urlencode(params).encode(), headers=signed)
    with urlopen(request, timeout=10) as response:
        return ET.fromstring(response.read()).find("Message").text


def person_row(driver, name: str):
    return driver.find_element(By.XPATH, f"//tr[@class='person-row'][.//a[@class='person-link'][text()='PC {name}']]")


def answer_of(driver, name: str) -> str:
    return person_row(driver, name).find_element(By.CSS_SELECTOR, ".answer-cell").text


def launch_despite_the_empty_list(browser, unit) -> Callout:
    warnings = launch_checked(browser, unit, incident_ref="CAD-0317", message="Burglars ran from the Co-op, Hollow "
                              "Lane. Dog needed to track. RV Hollow Lane junction with the A21.")
    assert warning_lines(warnings) == [
        "Before you launch: 1 warning",
        "Secondary has nobody on it right now: if the lists before it do not fill the callout, it is exhausted there."]
    assert warnings.value_of_css_property("border-top-color") == RED
    assert background(warnings.find_element(By.TAG_NAME, "h2")) == RED

    driver = browser.driver
    driver.find_element(By.NAME, "confirm").click()
    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "live")))
    callout = Callout.objects.get()
    assert driver.current_url.endswith(reverse("admin:callouts_callout_live", args=[callout.pk]))
    return callout


def confirm_action(driver, form_id: str, question: str) -> None:
    """Submit one of the live page's action boxes, answer its question yes, and wait for the page it leads to."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, f"#{form_id} input[type=submit]").click()
    alert = wait(driver, 5).until(shown.alert_is_present())
    assert alert.text == question
    alert.accept()
    wait(driver, 10).until(shown.staleness_of(page))


def timeline_rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#timeline tbody tr")


def success_message(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, ".messagelist .success").text


def test_a_dispatchers_night_from_login_to_closing_the_callout(browser, dispatcher, dog_unit, twilio_webhooks,
                                                              window):
    dispatcher.set_password(PASSWORD)
    dispatcher.save()
    people = dog_unit.people

    # 1. Logs in through the login page with the code from the authenticator; nothing waits for action yet.
    login_with_authenticator(browser, dispatcher)
    driver = browser.driver
    assert "DEE" in driver.find_element(By.ID, "user-tools").text.upper()
    assert not driver.find_elements(By.ID, "needs-action")

    # 2. Warned in red that the secondary list is empty, launches anyway and lands on the live page.
    callout = launch_despite_the_empty_list(browser, dog_unit)
    assert success_message(driver) == "Callout launched: 3 people are being alerted."
    wait(driver, 10).until(lambda d: d.find_element(By.ID, "live-status").text.startswith("Updated"))
    assert banner(driver).text.startswith("ACTIVE\nWaiting for answers from Primary: 0 of 2 accepts. This is the "
                                          "last list")
    assert driver.find_element(By.ID, "next-list").text == "None: last list"

    # 3. Texts arrive through Twilio's webhook; the page shows them without a reload.
    assert text_from(people["Priya Shah"], "Y 10") == (
        "Accepted: Dog Support Unit CAD-0317, ETA 10 min. Reply N to withdraw.")
    wait(driver, 10).until(lambda d: d.find_element(By.ID, "count-accepted").text == "1")
    priya = callout.recipients.get(person=people["Priya Shah"])
    arrives = clock_time(priya.responded_at + timedelta(minutes=10))
    assert answer_of(driver, "Priya Shah").splitlines()[:2] == [
        f"Accepted · arrives ~{arrives} (ETA 10 min)", f"by sms at {clock_time(priya.responded_at)}"]
    assert banner(driver).text.startswith("ACTIVE\nWaiting for answers from Primary: 1 of 2 accepts.")

    assert text_from(people["Alex Morgan"], "on my way") == SMS_HELP  # not understood: no answer recorded
    updated = driver.find_element(By.ID, "live-status").text
    wait(driver, 10).until(lambda d: d.find_element(By.ID, "live-status").text != updated)
    assert driver.find_element(By.ID, "count-accepted").text == "1"
    assert answer_of(driver, "Alex Morgan").startswith("No answer")
    # The operator sees what Alex wrote, in his row and at the top of the timeline, in red.
    alex = callout.recipients.get(person=people["Alex Morgan"])
    received = clock_time(alex.inbound_replies.get().received_at)
    assert f"Texted “on my way” at {received}: not understood, not an answer" in answer_of(driver, "Alex Morgan")
    newest = timeline_rows(driver)[0]
    assert newest.text.startswith(f"{clock_time(alex.inbound_replies.get().received_at, seconds=True)} Reply not "
                                  "understood PC Alex Morgan SMS “on my way”")
    assert background(newest.find_element(By.TAG_NAME, "td")) == PALE_RED
    assert any(row.text.startswith(f"{clock_time(priya.responded_at, seconds=True)} Accepted PC Priya Shah SMS "
                                   f"ETA 10 min, arrives ~{arrives}") for row in timeline_rows(driver))

    # 4. The wait runs out with nobody on the secondary: the banner turns red and says to phone round.
    escalations_due(now=callout.escalate_at + timedelta(seconds=1))
    wait(driver, 10).until(banner_says("EXHAUSTED"))
    assert background(banner(driver)) == RED
    assert banner(driver).text.splitlines() == [
        "EXHAUSTED", "Not filled, and no list is left to alert: 1 of 2 accepts.",
        "PHONE ROUND NOW: 2 PEOPLE NOT ANSWERING"]  # the link to the phone round, in capitals
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#phone-round a.person-link")] == [
        "PC Alex Morgan", "PC Tom Becker"]
    exhausted = [row for row in timeline_rows(driver) if " Exhausted " in row.text]
    assert [row.text.split(" ", 1)[1] for row in exhausted] == [
        "Exhausted Wait ran out; every list alerted and the need not met: phone round now"]
    assert background(exhausted[0].find_element(By.TAG_NAME, "td")) == PALE_RED

    driver = browser.open(reverse("admin:index"))
    red = driver.find_element(By.ID, "needs-action")
    assert red.value_of_css_property("border-top-color") == RED
    assert red.find_element(By.TAG_NAME, "h2").text == "Act now: 1 callout exhausted or overdue"
    assert ("Dog Support Unit: CAD-0317 EXHAUSTED: every list has been alerted and the need is not met (needs 2 "
            "accepts; 1 accepted). Phone round now.") in red.text
    red.find_element(By.LINK_TEXT, "Dog Support Unit: CAD-0317").click()
    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "live")))

    # 5. Stands down the one who accepted, then closes with the outcome: nothing more to do.
    driver.find_element(By.CSS_SELECTOR, "#action-stand-down input[name=text]").send_keys("Suspects detained")
    confirm_action(driver, "action-stand-down", "Send a stand-down to everyone who accepted?")
    assert success_message(driver).startswith("Stand-down sent to 1 who accepted")
    priya.refresh_from_db()
    assert answer_of(driver, "Priya Shah").startswith(f"Stood down {clock_time(priya.stood_down_at)}")
    assert "arrives" not in answer_of(driver, "Priya Shah")

    driver.find_element(By.CSS_SELECTOR, "#action-close textarea[name=outcome]").send_keys(
        "Two arrested by patrol; no dog needed in the end")
    confirm_action(driver, "action-close", "Close this callout with this outcome? Those who accepted are told to "
                                           "stand down.")
    assert success_message(driver) == "Callout closed; those who accepted are told to stand down."
    callout.refresh_from_db()
    assert banner(driver).text == (f"CLOSED\nClosed at {clock_time(callout.closed_at)}. Those who accepted were "
                                   "told to stand down.")
    assert background(banner(driver)) == CLOSED
    assert "Outcome: Two arrested by patrol; no dog needed in the end" in driver.find_element(By.ID, "live").text
    assert driver.find_element(By.CSS_SELECTOR, ".callout-ended").text.startswith("This callout is closed: there is "
                                                                                   "nothing more to send or change.")
    assert not driver.find_elements(By.CSS_SELECTOR, "#content-main form, #content-main input[type=submit]")

    # 6. On a supervisor's phone the closed callout fits the screen.
    window(PHONE)
    wait(driver, 5).until(lambda d: d.execute_script("return window.innerWidth;") == PHONE[0])
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")
    assert visible_overflow(driver) <= 0
    window(DESKTOP)

    driver = browser.open(reverse("admin:index"))
    assert not driver.find_elements(By.ID, "needs-action")  # acted on: the front page no longer shouts

    # 7. The after-action report, from the live page: how fast, who came by which channel, who was not reached.
    driver = browser.open(reverse("admin:callouts_callout_live", args=[callout.pk]))
    driver.find_element(By.LINK_TEXT, "After-action report").click()
    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "after-action-figures")))
    first_accept = clock((priya.responded_at - callout.launched_at).total_seconds())
    assert driver.find_element(By.ID, "first-accept").text == first_accept
    assert driver.find_element(By.ID, "to-quorum").text == "not met"
    assert driver.find_element(By.ID, "came-by-channel").text == "SMS: 1"
    assert [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#unreached tbody tr")] == [
        "PC Alex Morgan Primary Alerted by SMS; no answer", "PC Tom Becker Primary Alerted by SMS; no answer"]
    whole_page_screenshot(browser, "after-action.png")
    assert accessibility_problems(browser) == []

    # 8. The live page passes WCAG 2.2 AA as axe-core checks it (target sizes included).
    browser.open(reverse("admin:callouts_callout_live", args=[callout.pk]))
    assert accessibility_problems(browser) == []
