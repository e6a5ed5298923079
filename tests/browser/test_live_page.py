"""The live page and the callouts list in a real browser, as a dispatcher at 3 a.m. and a supervisor on the road
see them: the state impossible to misread, whom to phone, nothing that jumps or runs off the screen."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from callouts.models import Callout, EscalationPolicy, NeedRequirement
from callouts.services.callouts import (
    callout_escalate_now,
    callout_launch,
    callout_respond,
    callout_send_update,
    escalations_due,
)
from tests.browser.console_steps import (
    DESKTOP,
    GREEN,
    PHONE,
    RED,
    background,
    banner,
    banner_says,
    visible_overflow,
    wait,
)
from tests.factories import add_member, make_person, make_rotation, make_unit
from units.models import ContactMethod, FixedRule, Membership, Qualification, Rotation

PEOPLE = ["Alex Morgan", "Priya Shah", "Tom Becker", "Grace Okoye", "Sean Murphy"]
LEADERS = ["Dana Whitfield", "Kofi Mensah"]


# As with a worker and beat running: alerts go as soon as a launch commits, and no watchdog banner.
pytestmark = pytest.mark.usefixtures("eager_tasks", "timers_running")


@pytest.fixture
def tsu(db):
    """A Tactical Support Unit: five officers on the primary list, two team leaders on the secondary (one on call by
    rotation), each reachable by push, SMS and a call a minute later; three accepts fill it, one a medic."""
    unit = make_unit("tsu", name="Tactical Support Unit")
    primary, secondary = unit.tiers.all()
    medic = Qualification.objects.get_or_create(code="medic", defaults={"name": "Medic"})[0]
    people = {}
    for n, name in enumerate(PEOPLE + LEADERS):
        person = people[name] = make_person(name, rank="PC" if name in PEOPLE else "Sgt", verified_sms=False)
        ContactMethod.objects.create(person=person, kind="push", address=f"device-{n}")
        ContactMethod.objects.create(person=person, kind="sms", address=f"+44770090{n:04d}")
        ContactMethod.objects.create(person=person, kind="voice", address=f"+44770090{n:04d}", delay_minutes=1)
        add_member(unit, person, Membership.Role.TEAM_LEADER if name in LEADERS else Membership.Role.MEMBER)
    for name in PEOPLE:
        FixedRule.objects.create(tier=primary, person=people[name])
    for name in ("Priya Shah", "Sean Murphy"):
        unit.memberships.get(person=people[name]).qualifications.add(medic)
    make_rotation(secondary, [people[name] for name in LEADERS], start=date(2026, 1, 5), handoff=time(7))
    policy = EscalationPolicy.objects.create(unit=unit, quorum=3, wait_minutes=5)
    NeedRequirement.objects.create(policy=policy, qualification=medic, count=1)
    unit.people = people
    return unit


@pytest.fixture
def without_secondary(tsu):
    Rotation.objects.filter(tier__unit=tsu).delete()
    return tsu


def launch(unit, dispatcher) -> Callout:
    return callout_launch(unit=unit, actor=dispatcher, incident_ref="CAD-2026-0412",
                          message="Armed suspect seen at Kennington Park. RV Kennington police station, north yard.")


def answer(callout, unit, name, response, **kwargs):
    recipient = callout.recipients.get(person=unit.people[name])
    callout_respond(recipient=recipient, response=response, channel=kwargs.pop("channel", "sms"), **kwargs)


def realistic(unit, dispatcher) -> Callout:
    """Ten minutes into a callout: one stood down (too far out), one coming with an update, one declined, two
    silent to phone."""
    callout = launch(unit, dispatcher)
    answer(callout, unit, "Grace Okoye", "accept", eta_minutes=40, note="Coming from Croydon")
    callout_send_update(callout=callout, actor=dispatcher, stand_down=True,
                        text="Thank you Grace, officers nearer are on their way.")
    answer(callout, unit, "Priya Shah", "accept", eta_minutes=12, note="Coming from Lambeth")
    answer(callout, unit, "Tom Becker", "decline", channel="app")
    callout_send_update(callout=callout, actor=dispatcher, text="RV moved to the north yard gate.")
    return callout


def open_live(browser, client, dispatcher, callout):
    browser.log_in(client, dispatcher)
    driver = browser.open(reverse("admin:callouts_callout_live", args=[callout.pk]))
    wait(driver, 10).until(lambda d: d.find_element(By.ID, "live-status").text.startswith("Updated"))
    return driver


def test_the_banner_turns_green_when_the_callout_fills(browser, client, dispatcher, tsu):
    callout = launch(tsu, dispatcher)
    driver = open_live(browser, client, dispatcher, callout)
    assert banner(driver).text.startswith("ACTIVE\nWaiting for answers from Primary: 0 of 3 accepts.")

    for name in ("Priya Shah", "Alex Morgan", "Sean Murphy"):
        answer(callout, tsu, name, "accept", eta_minutes=15)

    wait(driver, 10).until(banner_says("FILLED"))
    assert banner(driver).text == "FILLED\nNeed met: 3 accepts, including 1 medic. 3 accepted."
    assert background(banner(driver)) == GREEN
    assert driver.find_element(By.ID, "next-list").text == "-"


def test_a_callout_the_timer_moves_into_an_empty_list_turns_red_with_the_phone_round(browser, client, dispatcher,
                                                                                     without_secondary):
    callout = launch(without_secondary, dispatcher)
    answer(callout, without_secondary, "Tom Becker", "decline")
    driver = open_live(browser, client, dispatcher, callout)
    assert driver.find_element(By.ID, "next-list").text == "None: last list"

    escalations_due(now=callout.escalate_at + timedelta(seconds=1))  # the wait runs out; nobody is on secondary

    wait(driver, 10).until(banner_says("EXHAUSTED"))
    assert background(banner(driver)) == RED
    assert "phone round now: 4 people not answering" in banner(driver).text.lower()
    phone_round = driver.find_element(By.ID, "phone-round")
    assert phone_round.location["y"] < driver.find_element(By.CSS_SELECTOR, ".callout-table").location["y"]
    assert [a.text for a in phone_round.find_elements(By.CSS_SELECTOR, "a.person-link")] == [
        "PC Alex Morgan", "PC Priya Shah", "PC Grace Okoye", "PC Sean Murphy"]
    assert [a.get_attribute("href") for a in phone_round.find_elements(By.CSS_SELECTOR, "a.tel")] == [
        "tel:+447700900000", "tel:+447700900001", "tel:+447700900003", "tel:+447700900004"]
    # The actions the state no longer allows are disabled where they were.
    assert not driver.find_element(By.CSS_SELECTOR, "#action-escalate input[type=submit]").is_enabled()
    assert driver.find_element(By.CSS_SELECTOR, "#action-resend input[type=submit]").is_enabled()


def test_escalate_now_asks_first_and_on_the_last_list_says_exhausted_in_red(browser, client, dispatcher, tsu):
    callout = launch(tsu, dispatcher)
    driver = open_live(browser, client, dispatcher, callout)
    escalate = driver.find_element(By.CSS_SELECTOR, "#action-escalate input[type=submit]")

    escalate.click()
    question = wait(driver, 5).until(shown.alert_is_present())
    assert question.text == "Alert Secondary now, without waiting for Primary?"
    question.dismiss()
    callout.refresh_from_db()
    assert callout.current_tier == 1

    escalate.click()
    wait(driver, 5).until(shown.alert_is_present()).accept()
    wait(driver, 10).until(shown.staleness_of(escalate))
    assert driver.find_element(By.CSS_SELECTOR, ".messagelist .success").text == \
        "Escalated: Secondary is being alerted."
    # Secondary is the last list: nothing to count down to.
    assert driver.find_element(By.ID, "next-list").text == "None: last list"
    assert not driver.find_elements(By.CSS_SELECTOR, "#live [data-until]")
    assert "This is the last list" in banner(driver).text

    driver.find_element(By.CSS_SELECTOR, "#action-escalate input[type=submit]").click()
    question = wait(driver, 5).until(shown.alert_is_present())
    assert question.text.startswith("Secondary is the last list. Escalating now stops waiting for it: the callout "
                                    "becomes EXHAUSTED, not filled")
    question.accept()
    wait(driver, 10).until(banner_says("EXHAUSTED"))
    assert not driver.find_elements(By.CSS_SELECTOR, ".messagelist .success")
    error = driver.find_element(By.CSS_SELECTOR, ".messagelist .error")
    assert error.text.startswith("EXHAUSTED. Not filled, and no list is left to alert: 0 of 3 accepts.")
    assert background(banner(driver)) == RED


def test_the_action_boxes_keep_their_places_as_the_state_changes(browser, client, dispatcher, tsu):
    callout = launch(tsu, dispatcher)
    driver = open_live(browser, client, dispatcher, callout)

    def places():
        area = driver.find_element(By.CSS_SELECTOR, ".callout-actions").rect
        return {form.get_attribute("id"): (form.rect["x"] - area["x"], form.rect["y"] - area["y"])
                for form in driver.find_elements(By.CSS_SELECTOR, ".callout-actions form")}

    active = places()
    for name in ("Priya Shah", "Alex Morgan", "Sean Murphy"):
        answer(callout, tsu, name, "accept", eta_minutes=15)
    wait(driver, 10).until(banner_says("FILLED"))

    assert places() == active
    assert len(active) == 7
    escalate = driver.find_element(By.ID, "action-escalate")
    assert escalate.find_element(By.CSS_SELECTOR, ".callout-action-what").text == "Not while the callout is filled."
    assert not escalate.find_element(By.CSS_SELECTOR, "input[type=submit]").is_enabled()


def test_the_live_page_of_a_callout_in_progress(browser, client, dispatcher, tsu, window):
    callout = realistic(tsu, dispatcher)
    driver = open_live(browser, client, dispatcher, callout)
    assert banner(driver).text.startswith("ACTIVE\nWaiting for answers from Primary: 2 of 3 accepts (1 stood down).")

    rows = {row.find_element(By.CSS_SELECTOR, ".person-link").text: row
            for row in driver.find_elements(By.CSS_SELECTOR, "tr.person-row")}
    grace = rows["PC Grace Okoye"].find_element(By.CSS_SELECTOR, ".answer-cell").text
    assert grace.startswith("Stood down ") and "Accepted" not in grace and "arrives" not in grace
    priya = rows["PC Priya Shah"].find_element(By.CSS_SELECTOR, ".answer-cell").text
    assert priya.startswith("Accepted · arrives ~") and "(ETA 12 min)" in priya and "update sent" in priya
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#phone-round a.person-link")] == [
        "PC Alex Morgan", "PC Sean Murphy"]
    assert rows["PC Alex Morgan"].find_element(By.CSS_SELECTOR, ".person-link").get_attribute("href").endswith(
        reverse("admin:units_person_change", args=[tsu.people["Alex Morgan"].pk]))
    show_whole_page(driver, window)  # the grid, the phone round and the actions in one picture
    browser.screenshot("live-callout.png")


def show_whole_page(driver, window):
    chrome = driver.get_window_size()["height"] - driver.execute_script("return window.innerHeight;")
    window((DESKTOP[0], driver.execute_script("return document.documentElement.scrollHeight;") + chrome))


def small_targets(driver) -> list[str]:
    """Links, buttons and fields to tap on the page that are less than 44 px tall."""
    return driver.execute_script("""
        var small = [];
        document.querySelectorAll("#content a, #content input[type=submit], #content button, #content select, "
                                  + "#content .callout-check, #content .select2-selection").forEach(function (el) {
          var box = el.getBoundingClientRect();
          if (box.width && box.height && box.height < 44) { small.push(el.outerHTML.slice(0, 80) + " " + box.height); }
        });
        return small;""")


def test_on_a_phone_the_live_page_fits_the_screen_and_everything_to_tap_is_44_px(browser, client, dispatcher, tsu,
                                                                                  window):
    callout = realistic(tsu, dispatcher)
    window(PHONE)
    driver = open_live(browser, client, dispatcher, callout)
    assert driver.execute_script("return window.innerWidth;") == 390

    assert visible_overflow(driver) <= 0
    assert small_targets(driver) == []
    browser.screenshot("live-callout-phone.png")

    callout_escalate_now(callout=callout, actor=dispatcher)
    callout_escalate_now(callout=callout, actor=dispatcher)  # nobody left: red, with the phone round first
    wait(driver, 10).until(banner_says("EXHAUSTED"))
    assert visible_overflow(driver) <= 0
    assert small_targets(driver) == []


def test_the_callouts_list_fits_a_1400_pixel_screen(browser, client, dispatcher, tsu, without_secondary):
    realistic(tsu, dispatcher)
    long = callout_launch(unit=tsu, actor=dispatcher, message="Concern for welfare: missing elderly man with "
                          "dementia, last seen near the canal towpath behind the Oval at 01:30, may be confused.")
    callout_escalate_now(callout=long, actor=dispatcher)
    browser.log_in(client, dispatcher)

    driver = browser.open(reverse("admin:callouts_callout_changelist"))

    assert driver.execute_script("return window.innerWidth;") == 1400
    assert visible_overflow(driver) <= 0
    badge = driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr:first-child .callout-state")
    assert (badge.text, background(badge)) == ("EXHAUSTED", RED)
    assert driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr:last-child .callout-state").text == "ACTIVE"
