"""Before launch, in a real browser: the confirmation's red warnings, launching anyway, and the callout red on the
home page once nobody is coming; and the duty page a dispatcher launches from."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from callouts.models import Callout, EscalationPolicy, NeedRequirement
from callouts.services.callouts import escalations_due
from tests.browser.console_steps import launch_checked, wait, warning_lines
from tests.factories import add_member, make_person, make_rotation, make_unit
from units.models import ContactMethod, FixedRule, Membership

# As with a worker and beat running: alerts go as soon as a launch commits, and no watchdog banner.
pytestmark = pytest.mark.usefixtures("eager_tasks", "timers_running")


@pytest.fixture
def dog_unit(db):
    """A Dog Support Unit at 3 a.m.: nobody on its primary list (the handler is on leave and nobody covers), two
    officers on the secondary, one of whose phone was never verified; its policy wants a team leader among two."""
    unit = make_unit("dsu", name="Dog Support Unit")
    _, secondary = unit.tiers.all()
    for name in ("Sam Price", "Jo Adeyemi"):
        person = make_person(name, verified_sms=name == "Sam Price")
        if name == "Jo Adeyemi":
            ContactMethod.objects.create(person=person, kind="voice", address="+447700900555")
        add_member(unit, person)
        FixedRule.objects.create(tier=secondary, person=person)
    policy = EscalationPolicy.objects.create(unit=unit, quorum=2, wait_minutes=5)
    NeedRequirement.objects.create(policy=policy, role=Membership.Role.TEAM_LEADER, count=1)
    return unit


def test_an_operator_is_warned_in_red_launches_anyway_and_sees_the_callout_red_once_exhausted(
        browser, client, dispatcher, dog_unit):
    browser.log_in(client, dispatcher)
    warnings = launch_checked(browser, dog_unit, incident_ref="CAD-0317", message="Suspect ran from a burglary, "
                              "Hollow Lane. Dog needed. RV Hollow Lane junction with the A21.")
    driver = browser.driver
    assert warning_lines(warnings) == [
        "Before you launch: 3 warnings",
        "Primary has nobody on it right now: the launch alerts Secondary first.",
        "No verified contact method, so the alert may not reach them: Jo Adeyemi (Secondary).",
        "Secondary cannot fill this callout even if everyone on it accepts: no team leader on it, and it needs 1. "
        "Nor can all the lists together: phone round for the rest.",
    ]
    # Red for a tired eye, not only in words: the box's border and its heading are the error red.
    assert warnings.value_of_css_property("border-top-color") == "rgba(186, 33, 33, 1)"
    assert "You are about to alert 2 people on Dog Support Unit Secondary" in driver.find_element(
        By.CSS_SELECTOR, "#content-main h2").text
    browser.screenshot("launch-confirm-warnings.png")

    driver.find_element(By.NAME, "confirm").click()  # the warnings do not stop the launch
    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "live")))
    callout = Callout.objects.get()
    assert callout.state == Callout.State.ACTIVE
    driver = browser.open(reverse("admin:index"))
    assert not driver.find_elements(By.ID, "needs-action")  # on time and still waiting: nothing to shout about

    escalations_due(now=timezone.now() + timedelta(minutes=6))  # the sweep, once the wait has run out
    driver = browser.open(reverse("admin:index"))

    red = driver.find_element(By.ID, "needs-action")
    assert red.find_element(By.TAG_NAME, "h2").text == "Act now: 1 callout exhausted or overdue"
    assert ("Dog Support Unit: CAD-0317 EXHAUSTED: every list has been alerted and the need is not met (needs 2 "
            "accepts, including 1 team leader; 0 accepted). Phone round now.") in red.text
    assert "Phone round now." in red.text
    driver = browser.open(reverse("admin:callouts_callout_changelist"))
    red = driver.find_element(By.ID, "needs-action")  # and above the callouts list
    assert "Dog Support Unit: CAD-0317 EXHAUSTED" in red.text
    red.find_element(By.LINK_TEXT, "Dog Support Unit: CAD-0317").click()
    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "live")))
    assert driver.current_url.endswith(reverse("admin:callouts_callout_live", args=[callout.pk]))


def test_on_call_now_shows_local_times_flags_the_unreachable_and_launches_a_unit(browser, client, dispatcher,
                                                                                dog_unit):
    tsu = make_unit("tsu", name="Tactical Support Unit", tz="Europe/Berlin")
    primary, secondary = tsu.tiers.all()
    make_rotation(primary, [make_person("Alex Morgan"), make_person("Priya Shah")], start=date(2026, 1, 5),
                  handoff=time(7))
    FixedRule.objects.create(tier=secondary, person=make_person("Dana Whitfield"))
    browser.log_in(client, dispatcher)

    before = datetime.now(UTC).astimezone(tsu.tzinfo)
    driver = browser.open(reverse("admin:units_unit_on_call"))
    after = datetime.now(UTC).astimezone(tsu.tzinfo)

    rows = {row.find_element(By.TAG_NAME, "th").text: row
            for row in driver.find_elements(By.CSS_SELECTOR, ".duty-table tbody tr")}
    local = rows["Tactical Support Unit"].find_elements(By.TAG_NAME, "td")[0].text
    # Berlin's wall clock on a 24-hour clock, with its zone (the minute may turn while the page loads).
    assert local in {f"{at:%a %-d %b %H:%M %Z}\nEurope/Berlin" for at in (before, after)}
    dogs = rows["Dog Support Unit"].text
    assert "Nobody" in dogs and "Jo Adeyemi NO VERIFIED CONTACT" in dogs
    browser.screenshot("on-call-now.png")

    rows["Dog Support Unit"].find_element(By.LINK_TEXT, "Launch callout").click()

    wait(driver, 10).until(shown.presence_of_element_located((By.NAME, "message")))
    assert "Dog Support Unit" in driver.find_element(By.ID, "content-main").text
