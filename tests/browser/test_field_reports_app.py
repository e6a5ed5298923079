"""Field reports in the field app (/app/#/reports), in a real Chromium as an officer's phone runs it: a missing-person
report written and submitted without signal survives the browser being killed and reaches the system once, with
its photo, circulated and referred; every shipped form filled in; the server's refusals shown on their fields; a
409 resolved; an amendment with its reason; Background Sync; the circulations inbox."""

import hashlib

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from reports.models import (
    Area,
    Attachment,
    Circulation,
    PartnerAgency,
    Referral,
    ReferralRule,
    Report,
    ReportType,
)
from tests.browser.app_steps import PIN, enter_pin, indexeddb_records, phone_screen, screen_is, worker_ready
from tests.browser.conftest import Browser
from tests.browser.console_steps import wait
from tests.browser.report_steps import (
    add_entry,
    camera_photo,
    card_says,
    choose,
    click,
    enrolled,
    field,
    field_officer,
    network_errors_only,
    new_report,
    now_button,
    phone_for,
    report_card,
    set_input,
    signal,
    to,
    type_into,
)
from tests.factories import add_member, make_unit
from tests.reports.conftest import reachable
from units.models import FixedRule

pytestmark = pytest.mark.usefixtures("eager_tasks", "timers_running", "shipped_report_types")

BRIXTON_BOX = {"type": "Polygon", "coordinates": [[[-0.13, 51.45], [-0.10, 51.45], [-0.10, 51.47], [-0.13, 51.47],
                                                   [-0.13, 51.45]]]}
AMY = {"name": "Amy Clarke", "age": "9", "description": "White, slim, long brown hair in a ponytail",
       "clothing": "Red school coat, grey skirt, pink backpack", "last_seen_place": "Brixton station, Brixton Road",
       "risk_factors": "Never gone missing before; did not arrive at school",
       "rationale": "Nine years old, out of character, needs medication"}
ASTHMA = "asthma: no inhaler with her"


@pytest.fixture
def brixton(db):
    """The beat the phone stands in, with a patrol on duty; missing children referred to children's services."""
    patrol = make_unit("brixton-response", name="Brixton response")
    pat = reachable("Pat Brixton")
    add_member(patrol, pat)
    FixedRule.objects.create(tier=patrol.tiers.get(position=1), person=pat)
    area = Area.objects.create(code="brixton", name="Brixton", kind=Area.Kind.BEAT, boundary=BRIXTON_BOX,
                               patrol_unit=patrol)
    agency = PartnerAgency.objects.create(name="Lambeth Children's Services", email="safeguarding@lambeth.example")
    ReferralRule.objects.create(name="Missing child", report_type=ReportType.objects.get(slug="missing-person"),
                                agency=agency, shared_fields=["name", "age", "grading"],
                                condition=[{"field": "age", "op": "lt", "value": 18}])
    area.pat = pat
    return area


@pytest.fixture
def alex(db):
    return field_officer("Alex Morgan")


@pytest.fixture
def phone(restartable_chromium, live_server):
    """The officer's phone: a Chromium of its own, on a profile that survives it being killed."""
    driver = restartable_chromium.start()
    phone_for(driver, live_server.url)
    return Browser(driver, live_server.url)


def fill_missing_child(driver, photo) -> None:
    for path, text in AMY.items():
        type_into(driver, path, text)
    set_input(driver, "date_of_birth", "2017-02-14")
    now_button(driver, "last_seen_at")
    add_entry(driver, "vulnerabilities")
    type_into(driver, "vulnerabilities.0", ASTHMA)
    choose(driver, "grading", 3)  # high
    driver.find_element(By.ID, "pick-photos").send_keys(str(photo))
    wait(driver, 10).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".thumb img")))


def restarted(restartable_chromium, phone: Browser, route: str, title: str):
    """The browser killed (as the phone's system ends it, or a flat battery) and opened again without signal, the app
    from its icon, unlocked: a new Chromium on the same profile, with nothing of the old one's memory."""
    restartable_chromium.kill()
    driver = phone.driver = restartable_chromium.start()
    signal(driver, on=False)
    driver.get(f"{phone.base_url}/app/#/{route}")
    wait(driver, 15).until(screen_is("Muster is locked"))
    enter_pin(driver, PIN)
    wait(driver, 15).until(screen_is(title))
    return driver


def test_a_missing_child_filed_without_signal_survives_the_browser_killed_and_is_filed_once_with_its_photo(
        phone, restartable_chromium, alex, brixton, tmp_path):
    driver = enrolled(phone, alex)
    to(driver, "reports", "Field reports")  # the forms, fetched while there is signal
    wait(driver, 10).until(shown.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Missing person']")))
    photo = camera_photo(driver, tmp_path)

    signal(driver, on=False)
    new_report(driver, "Missing person")
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "position"), "± 12 m"))
    assert driver.find_element(By.CSS_SELECTOR, "#position .position").text == "51.46130, -0.11450 (± 12 m)"
    fill_missing_child(driver, photo)
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "saved"), "Saved on this phone at"))
    report_id = driver.execute_script("return location.hash.split('/')[2];")

    records = indexeddb_records(driver)
    assert {f"report:{report_id}", "report-types"} <= {record["key"] for record in records}
    assert any(record["key"].startswith(f"photo:{report_id}:") for record in records)
    stored = "\n".join(record["key"] + " " + record["value"] for record in records)
    jpeg = photo.read_bytes()
    # (Values of a character or two, the age, are left out: ciphertext holds any short string by chance.)
    for secret in [*(text for text in AMY.values() if len(text) > 2), ASTHMA, "Amy", "Brixton", "51.46",
                   "2017-02-14", jpeg[200:232].decode("latin1")]:
        assert secret not in stored, secret
    with phone_screen(driver):
        driver.execute_script("scrollTo(0, 0);")
        phone.screenshot("app-report-form.png")
    network_errors_only(driver)

    # Killed with the draft half-way: it comes back as typed, with its photo and position.
    driver = restarted(restartable_chromium, phone, f"reports/{report_id}", "Missing person")
    assert field(driver, "name").get_attribute("value") == "Amy Clarke"
    assert field(driver, "vulnerabilities.0").get_attribute("value") == ASTHMA
    assert driver.find_element(By.ID, "field-grading-3").is_selected()
    assert len(driver.find_elements(By.CSS_SELECTOR, ".thumb img")) == 1
    assert "(± 12 m)" in driver.find_element(By.ID, "position").text

    click(driver, driver.find_element(By.ID, "send-report"))
    wait(driver, 10).until(screen_is("Field reports"))
    wait(driver, 10).until(card_says("Waiting for signal: saved on this phone", report_id))
    with phone_screen(driver):
        phone.screenshot("app-reports-outbox.png")
    network_errors_only(driver)
    assert not Report.objects.exists()

    # Killed again with the report in the outbox; opened without signal, then signal comes back.
    driver = restarted(restartable_chromium, phone, "reports", "Field reports")
    wait(driver, 10).until(card_says("Waiting for signal", report_id))
    worker_ready(driver)
    signal(driver, on=True)
    wait(driver, 20).until(card_says("Circulated at", report_id))
    network_errors_only(driver)

    report = Report.objects.get()
    assert str(report.pk) == report_id
    assert (report.state, report.version, report.area, report.grading) == ("submitted", 1, brixton, "high")
    assert {key: report.data[key] for key in AMY} == {**AMY, "age": 9}
    assert report.data["vulnerabilities"] == [ASTHMA] and report.data["date_of_birth"] == "2017-02-14"
    assert (float(report.latitude), float(report.longitude), report.accuracy_m) == (51.4613, -0.1145, 12)
    [attachment] = Attachment.objects.filter(report=report)
    assert attachment.sha256 == hashlib.sha256(jpeg).hexdigest()
    assert (attachment.filename, attachment.content_type) == (photo.name, "image/jpeg")
    circulation = Circulation.objects.get(report=report)
    assert [r.person for r in circulation.recipients.all()] == [brixton.pat]
    assert Referral.objects.get(report=report).agency.name == "Lambeth Children's Services"
    card = report_card(driver, report_id).text
    assert "1 photo" in card and "Amy Clarke, 9, Brixton station, Brixton Road" in card
    assert not any(record["key"].startswith("photo:") for record in indexeddb_records(driver))  # sent: gone
