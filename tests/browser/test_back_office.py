"""The rest of the back office in a real browser: logging in through the login page with an authenticator code,
reading the audit log, and a supervisor reading a report and deciding its review."""

import importlib
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from callouts.services.callouts import callout_cancel, callout_close, callout_launch, callout_send_update
from reports.models import Area, ReportType, ReportTypeVersion, ReviewPolicy, ReviewTask
from reports.services.filing import Place, report_submit
from tests.browser.console_steps import PASSWORD, login_with_authenticator, wait, whole_page_screenshot
from tests.factories import add_member, make_person, make_unit
from units.audit import acting
from units.models import ContactMethod, FixedRule, Membership

# The shipped form, as its migration wrote it.
MISSING_PERSON = importlib.import_module("reports.migrations.0002_report_types").MISSING_PERSON


@pytest.fixture(autouse=True)
def tasks_at_once(eager_tasks):
    """Alerts, circulation and the review are set up as soon as their transaction commits."""


def test_an_administrator_logs_in_with_a_code_and_reads_the_audit_log(browser, timers_running):
    chief = get_user_model().objects.create_superuser("chief", password=PASSWORD)
    dispatcher = get_user_model().objects.create_user("dee.dispatch", password=PASSWORD, is_staff=True)
    unit = make_unit("tsu", name="Tactical Support Unit")
    person = make_person("Alex Morgan")
    ContactMethod.objects.create(person=person, kind="push", address="Alex's phone", verified_at=timezone.now())
    add_member(unit, person)
    FixedRule.objects.create(tier=unit.tiers.get(position=1), person=person)
    with acting(dispatcher, remote_addr="192.0.2.10"):
        first = callout_launch(unit=unit, message="Armed suspect, Kennington Park", actor=dispatcher)
        callout_send_update(callout=first, text="Suspect detained, thank you", actor=dispatcher, stand_down=True)
        callout_close(callout=first, actor=dispatcher, outcome="Suspect arrested")
        second = callout_launch(unit=unit, message="Missing child, Riverside Park", actor=dispatcher)
        callout_cancel(callout=second, actor=dispatcher, reason="Found safe by the family")

    login_with_authenticator(browser, chief)
    driver = browser.open(reverse("admin:auditlog_logentry_changelist"))

    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")]
    assert any("Callout cancelled" in row and "Found safe by the family" in row for row in rows)
    assert any("Callout closed" in row and "Suspect arrested" in row for row in rows)
    assert any("Stood down" in row and "dee.dispatch" in row and "192.0.2.10" in row for row in rows)
    assert any("Logged in" in row and "chief" in row for row in rows)
    assert not any("Changed" in row and "password" in row for row in rows)
    browser.screenshot("audit-log.png")

    driver.find_element(By.LINK_TEXT, "Callout cancelled").click()
    wait(driver, 10).until(lambda d: "event=callout_cancelled" in d.current_url)
    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")]
    assert len(rows) == 1 and "Found safe by the family" in rows[0]


@pytest.fixture
def lambeth(db):
    """Beat Brixton of sector Lambeth: one patrol on duty, and Sergeant Sam Okafor, a supervisor login, on duty
    for the sector; a missing-person form reviewed within 60 minutes at high risk."""
    supervisors = make_unit("lambeth-sup", name="Lambeth duty supervisors")
    sam = make_person("Sam Okafor")
    sam.user.username, sam.user.is_staff = "sam.okafor", True
    sam.user.set_password(PASSWORD)
    sam.user.save()
    sam.user.groups.add(Group.objects.get(name="Supervisors"))
    add_member(supervisors, sam, Membership.Role.TEAM_LEADER)
    FixedRule.objects.create(tier=supervisors.tiers.get(position=1), person=sam)
    patrol = make_unit("brixton", name="Brixton response")
    pat = make_person("Pat Reid")
    ContactMethod.objects.create(person=pat, kind="push", address="Pat's phone", verified_at=timezone.now())
    add_member(patrol, pat)
    FixedRule.objects.create(tier=patrol.tiers.get(position=1), person=pat)
    sector = Area.objects.create(code="lambeth", name="Lambeth", kind=Area.Kind.SECTOR, supervisor_unit=supervisors)
    brixton = Area.objects.create(code="brixton", name="Brixton", parent=sector, patrol_unit=patrol,
                                  supervisor_unit=supervisors)
    # As the migration shipped it; a test run before this one may have flushed it away.
    missing, _ = ReportType.objects.get_or_create(slug="missing-person", defaults={"name": "Missing person"})
    ReportTypeVersion.objects.get_or_create(report_type=missing, number=1, defaults={
        "schema": MISSING_PERSON, "promoted_fields": ["name", "age", "grading"], "grading_field": "grading",
        "summary_fields": ["name", "age", "last_seen_place"], "published_at": timezone.now()})
    ReviewPolicy.objects.create(report_type=missing, grading="high", within_minutes=60)
    return {"sam": sam.user, "brixton": brixton, "missing": missing}


def test_a_supervisor_reads_a_report_and_decides_its_review(browser, lambeth, timers_running):
    officer = make_person("Alex Morgan")
    get_user_model().objects.filter(pk=officer.user_id).update(username="alex.morgan")
    seen = (timezone.now() - timedelta(hours=1)).replace(microsecond=0).isoformat()
    report, _ = report_submit(
        report_id=uuid.uuid4(), report_type=lambeth["missing"], actor=officer.user, captured_at=timezone.now(),
        place=Place(latitude=51.4613, longitude=-0.1145, accuracy_m=12, area=lambeth["brixton"]),
        data={"name": "Amy Clarke", "age": 9, "date_of_birth": "2017-02-14",
              "description": "White, slim, 4 ft, long brown hair in a ponytail",
              "clothing": "Red school coat, grey skirt, pink backpack",
              "last_seen_place": "Brixton station, Brixton Road", "last_seen_at": seen,
              "vulnerabilities": ["child", "asthma: no inhaler with her"],
              "risk_factors": "Never gone missing before; did not arrive at school",
              "grading": "high", "rationale": "Nine years old, out of character, needs medication"})

    login_with_authenticator(browser, lambeth["sam"])
    driver = browser.open(reverse("admin:reports_report_change", args=[report.pk]))

    assert driver.find_element(By.ID, "report-grading").text.split() == ["RISK", "GRADING", "high"]
    fields = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
              for row in driver.find_elements(By.CSS_SELECTOR, "#report-content tr.report-field")}
    assert fields["Name"] == "Amy Clarke" and fields["Age"] == "9"
    assert fields["Vulnerabilities"].splitlines() == ["child", "asthma: no inhaler with her"]
    assert "Risk grading" not in fields
    link = driver.find_element(By.LINK_TEXT, "Open in a map")
    assert link.get_attribute("href") == (
        "https://www.openstreetmap.org/?mlat=51.4613&mlon=-0.1145#map=17/51.4613/-0.1145")
    assert "51.4613, -0.1145 (± 12 m)" in driver.find_element(By.CSS_SELECTOR, ".field-location").text
    assert not driver.find_elements(By.TAG_NAME, "pre")
    whole_page_screenshot(browser, "report-page.png")

    review = ReviewTask.objects.get(report=report)
    driver = browser.open(reverse("admin:reports_reviewtask_change", args=[review.pk]))
    driver.find_element(By.CSS_SELECTOR, "#review-decision input[value=regrade]").click()
    driver.find_element(By.CSS_SELECTOR, "#review-decision select[name=grading] option[value=medium]").click()
    driver.find_element(By.NAME, "comment").send_keys("Found with her aunt's number; lower risk")
    driver.find_element(By.CSS_SELECTOR, "#review-decision input[type=submit]").click()

    wait(driver, 10).until(lambda d: any("re-graded medium" in message.text for message in
                                                  d.find_elements(By.CSS_SELECTOR, ".messagelist li")))
    review.refresh_from_db()
    assert (review.state, review.reviewer) == (ReviewTask.State.REGRADED, lambeth["sam"])


def test_someone_without_their_phone_logs_in_with_a_backup_code(browser):
    from django_otp.plugins.otp_static.models import StaticDevice

    chief = get_user_model().objects.create_superuser("chief", password=PASSWORD)
    TOTPDevice.objects.create(user=chief, name="chief's phone")
    StaticDevice.objects.create(user=chief, name="Backup codes").token_set.create(token="k7d2mq4x")
    driver = browser.open(reverse("admin:login"))
    assert not driver.find_element(By.NAME, "backup_code").is_displayed()

    driver.find_element(By.NAME, "username").send_keys("chief")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.XPATH, "//summary[text()='Use a backup code instead']").click()
    driver.find_element(By.NAME, "backup_code").send_keys("k7d2mq4x")
    driver.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()

    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "user-tools")))
    assert not StaticDevice.objects.get(user=chief).token_set.exists()
