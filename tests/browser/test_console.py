"""The operator's console in a real browser: launch a callout, watch the answers arrive, and the session lock."""

import re
from datetime import date, time

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from callouts.models import Callout, EscalationPolicy, NeedRequirement
from callouts.services.callouts import callout_launch, callout_respond
from tests.browser.console_steps import wait
from tests.factories import add_member, make_person, make_rotation, make_unit
from units.models import ContactMethod, FixedRule, Membership, Qualification

PEOPLE = ["Alex Morgan", "Priya Shah", "Tom Becker", "Grace Okoye", "Sean Murphy"]
LEADERS = ["Dana Whitfield", "Kofi Mensah"]


@pytest.fixture(autouse=True)
def tasks_at_once(eager_tasks):
    """Alerts go as soon as a launch commits, as they would with a worker running."""


@pytest.fixture
def tsu(db):
    """A Tactical Support Unit: five officers on the primary list, two team leaders on the secondary (one on call by
    rotation), each reachable by push, SMS and a call a minute later; two accepts fill it, one a medic."""
    unit = make_unit("tsu", name="Tactical Support Unit")
    primary, secondary = unit.tiers.all()
    medic = Qualification.objects.get_or_create(code="medic", defaults={"name": "Medic"})[0]
    people = {}
    for n, name in enumerate(PEOPLE + LEADERS):
        person = people[name] = make_person(name)
        ContactMethod.objects.create(person=person, kind="push", address=f"device-{n}")
        ContactMethod.objects.create(person=person, kind="voice", address=f"+44770090{n:04d}", delay_minutes=1)
        add_member(unit, person, Membership.Role.TEAM_LEADER if name in LEADERS else Membership.Role.MEMBER)
    for name in PEOPLE:
        FixedRule.objects.create(tier=primary, person=people[name])
    for name in ("Priya Shah", "Sean Murphy"):
        unit.memberships.get(person=people[name]).qualifications.add(medic)
    make_rotation(secondary, [people[name] for name in LEADERS], start=date(2026, 1, 5), handoff=time(7))
    policy = EscalationPolicy.objects.create(unit=unit, quorum=2, wait_minutes=5)
    NeedRequirement.objects.create(policy=policy, qualification=medic, count=1)
    unit.people = people
    return unit


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def test_an_operator_launches_a_callout_and_watches_the_answers_arrive(browser, client, dispatcher, tsu,
                                                                       timers_running):
    browser.log_in(client, dispatcher)
    driver = browser.open(f"{reverse('admin:callouts_callout_launch')}?unit={tsu.pk}")

    driver.find_element(By.NAME, "message").send_keys(
        "Armed suspect seen at Kennington Park. RV Kennington police station, north yard.")
    driver.find_element(By.NAME, "incident_ref").send_keys("CAD-2026-0412")
    browser.screenshot("launch-callout.png")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit][value='Check who will be alerted']").click()

    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "launch-confirm")))
    heading = driver.find_element(By.CSS_SELECTOR, "#content-main h2")
    assert "You are about to alert 5 people on Tactical Support Unit" in heading.text
    assert "2 accepts, including 1 medic" in driver.page_source
    driver.find_element(By.NAME, "confirm").click()

    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "live")))
    callout = Callout.objects.get()
    assert driver.current_url.endswith(reverse("admin:callouts_callout_live", args=[callout.pk]))
    assert "Callout launched: 5 people are being alerted." in driver.page_source
    wait(driver, 10).until(lambda d: text_of(d, "live-status").startswith("Updated"))

    # Answers come in by SMS and the app while the operator watches: the page shows them without a reload.
    for name, answer, eta in (("Priya Shah", "accept", 12), ("Tom Becker", "decline", None)):
        recipient = callout.recipients.get(person=tsu.people[name])
        callout_respond(recipient=recipient, response=answer, channel="sms", eta_minutes=eta)
    wait(driver, 10).until(
        lambda d: (text_of(d, "count-accepted"), text_of(d, "count-declined")) == ("1", "1"))
    assert "12 min" in driver.find_element(By.ID, "live").text
    assert re.fullmatch(r"Updated \d\d:\d\d:\d\d; updates every 2 seconds\.", text_of(driver, "live-status"))
    assert re.search(r"locks at \d\d:\d\d \(in \d+:\d\d\)", text_of(driver, "session-lock"))  # 24-hour clock
    assert not driver.find_element(By.ID, "callout-banner").is_displayed()


def test_a_live_page_left_alone_locks_when_the_session_ends_and_says_so(browser, client, dispatcher, tsu, settings):
    settings.SESSION_COOKIE_AGE = 6  # SESSION_IDLE_SECONDS: the page's own updates must not keep it alive
    callout = callout_launch(unit=tsu, message="Missing child, Riverside Park", actor=dispatcher)
    browser.log_in(client, dispatcher)
    driver = browser.open(reverse("admin:callouts_callout_live", args=[callout.pk]))
    wait(driver, 10).until(lambda d: text_of(d, "live-status").startswith("Updated"))

    lock = wait(driver, 20).until(lambda d: "Your session has ended" in text_of(d, "session-lock")
                                           and d.find_element(By.ID, "session-lock"))

    assert lock.find_element(By.LINK_TEXT, "Log in again").get_attribute("href").startswith(
        browser.base_url + reverse("admin:login"))
    assert "Live updates stopped" in text_of(driver, "live-status")


@pytest.mark.parametrize("page", [
    "admin:index", "admin:callouts_callout_changelist", "admin:callouts_callout_launch", "admin:units_unit_changelist",
    "admin:units_person_changelist", "admin:auditlog_logentry_changelist", "admin:reports_report_changelist",
    "admin:reports_reviewtask_changelist",
])
def test_back_office_pages_run_without_errors_under_the_content_security_policy(browser, client, page, tsu):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("chief", password="x" * 16)
    browser.log_in(client, admin)

    driver = browser.open(reverse(page))

    assert driver.find_element(By.ID, "site-name").text == "Muster"
    # The browser fixture fails the test on any error in the console, a refused inline script among them.


def test_the_login_page_and_the_api_docs_run_without_errors(browser):
    driver = browser.open(reverse("admin:login"))
    assert driver.find_element(By.NAME, "username")

    driver = browser.open("/api/docs/")
    wait(driver, 15).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .opblock")))
