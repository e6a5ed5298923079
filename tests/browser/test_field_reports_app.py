"""Field reports in the field app (/app/#/reports), in a real Chromium as an officer's phone runs it: a missing-person
report written and submitted without signal survives the browser being killed and reaches the system once, with
its photo, circulated and referred; every shipped form filled in; the server's refusals shown on their fields; a
409 resolved; an amendment with its reason; Background Sync; the circulations inbox."""

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from reports.models import (
    Area,
    Attachment,
    Circulation,
    CirculationRecipient,
    PartnerAgency,
    Referral,
    ReferralRule,
    Report,
    ReportType,
    ReportTypeVersion,
)
from reports.schemas import validation_errors
from reports.services.filing import Place, attachment_add, report_amend, report_submit
from tests.browser.app_steps import (
    ONLINE,
    PIN,
    enrolled,
    enter_pin,
    field_officer,
    indexeddb_records,
    looks_right,
    network_errors_only,
    phone_for,
    screen_is,
    server_refusals_only,
    signal,
    to,
    worker_ready,
)
from tests.browser.conftest import Browser
from tests.browser.console_steps import wait
from tests.browser.report_steps import (
    add_entry,
    camera_photo,
    card_says,
    choose,
    click,
    empty,
    field,
    fill,
    new_report,
    now_button,
    report_card,
    set_input,
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
MISSING_CHILD = {**AMY, "age": 9, "last_seen_at": "2026-06-03T08:40:00+01:00", "grading": "high"}


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
    if photo:
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
    to(driver, "reports", "Field reports")  # the forms and the areas, fetched while there is signal
    wait(driver, 10).until(shown.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Missing person']")))
    wait(driver, 10).until(lambda d: "areas" in {record["key"] for record in indexeddb_records(d)})
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
    looks_right(phone, "app-report-form")
    network_errors_only(phone)

    # Killed with the draft half-way: it comes back as typed, with its photo and position.
    driver = restarted(restartable_chromium, phone, f"reports/{report_id}", "Missing person")
    assert field(driver, "name").get_attribute("value") == "Amy Clarke"
    assert field(driver, "vulnerabilities.0").get_attribute("value") == ASTHMA
    assert driver.find_element(By.ID, "field-grading-3").is_selected()
    assert len(driver.find_elements(By.CSS_SELECTOR, ".thumb img")) == 1
    assert "(± 12 m)" in driver.find_element(By.ID, "position").text
    wait(driver, 10).until(lambda d: area_choices(d) == [("brixton", "Brixton")])  # kept from when it had signal

    click(driver, driver.find_element(By.ID, "send-report"))
    wait(driver, 10).until(screen_is("Field reports"))
    wait(driver, 10).until(card_says("Waiting for signal: saved on this phone", report_id))
    looks_right(phone, "app-reports-outbox")
    network_errors_only(phone)
    assert not Report.objects.exists()

    # Killed again with the report in the outbox; opened without signal, then signal comes back.
    driver = restarted(restartable_chromium, phone, "reports", "Field reports")
    wait(driver, 10).until(card_says("Waiting for signal", report_id))
    worker_ready(driver)
    signal(driver, on=True)
    wait(driver, 20).until(card_says("Circulated at", report_id))
    wait(driver, 10).until(lambda d: "photo to send" not in report_card(d, report_id).text)  # the photo follows
    network_errors_only(phone)

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


# ---- with the session's browser (its console is checked after each test) -------------------------------------


def area_choices(driver) -> list[tuple[str, str]]:
    """What the area field offers to pick: each area's code, with its name."""
    return [(option.get_attribute("value"), option.get_attribute("textContent").strip())
            for option in driver.find_elements(By.CSS_SELECTOR, "#area-choices option")]


def sent(driver) -> str:
    """Send the form; the outbox opens. The report's id."""
    report_id = driver.execute_script("return location.hash.split('/')[2];")
    click(driver, driver.find_element(By.ID, "send-report"))
    wait(driver, 10).until(screen_is("Field reports"))
    return report_id


def test_every_shipped_form_opens_fills_in_and_is_filed(app, alex, brixton, shipped_report_types):
    driver = enrolled(app, alex)
    for slug, spec in shipped_report_types.items():
        new_report(driver, spec["name"])
        fill(driver, spec["schema"])
        report_id = sent(driver)
        wait(driver, 15).until(card_says("Circulated at", report_id))

        report = Report.objects.get(pk=report_id)
        assert (report.report_type.slug, report.state, report.area) == (slug, "submitted", brixton)
        assert validation_errors(spec["schema"], report.data) == {}
        assert set(report.data) == set(spec["schema"]["properties"])  # every field, optional ones too
    incident = Report.objects.get(report_type__slug="incident").data
    assert incident["people_involved"] == [{"name": "Name as given", "role": "other", "details": "Details as given"}]
    assert incident["category"] == "other"


def test_what_the_server_refuses_is_shown_on_its_field(app, alex, brixton):
    Area.objects.create(code="lambeth", name="Lambeth", kind=Area.Kind.SECTOR)
    driver = enrolled(app, alex)
    to(driver, "reports", "Field reports")
    wait(driver, 10).until(shown.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Missing person']")))
    # A new version of the form is published while the phone holds the old one: only adults now.
    missing = ReportType.objects.get(slug="missing-person")
    version = missing.current_version
    schema = {**version.schema, "properties": {**version.schema["properties"], "age": {
        **version.schema["properties"]["age"], "minimum": 18}}}
    ReportTypeVersion.objects.create(report_type=missing, number=2, schema=schema, promoted_fields=["name"],
                                     grading_field="grading", summary_fields=["name"], published_at=timezone.now())
    new_report(driver, "Missing person")
    fill_missing_child(driver, photo=None)
    report_id = sent(driver)

    wait(driver, 10).until(card_says("Not accepted: open it to see why", report_id))
    click(driver, report_card(driver, report_id))
    wait(driver, 10).until(screen_is("Missing person"))
    assert "This form was changed on the system" in driver.find_element(By.CSS_SELECTOR, "main .notice").text
    age = field(driver, "age")
    assert age.get_attribute("aria-invalid") == "true"
    error = driver.find_element(By.ID, f"{age.get_attribute('id')}-error")
    assert error.text == "9 is less than the minimum of 18."
    assert error.get_attribute("id") in age.get_attribute("aria-describedby")
    assert "9 is less than the minimum of 18." in driver.find_element(By.CSS_SELECTOR, ".error-summary").text

    type_into(driver, "age", "19")
    driver.find_element(By.ID, "area").send_keys("atlantis")
    sent(driver)
    wait(driver, 10).until(card_says("Not accepted", report_id))
    click(driver, report_card(driver, report_id))
    area = wait(driver, 10).until(shown.presence_of_element_located((By.ID, "area")))
    assert area.get_attribute("aria-invalid") == "true"
    assert "atlantis" in driver.find_element(By.ID, "area-error").text
    assert not Report.objects.exists()

    # Picked from the areas Muster knows instead (the phone's list offers each beat's code with its name).
    wait(driver, 10).until(lambda d: area_choices(d) == [("brixton", "Brixton"), ("lambeth", "Lambeth")])
    empty(area)
    area.send_keys("brixton")
    sent(driver)
    wait(driver, 10).until(card_says("Circulated at", report_id))
    server_refusals_only(app, 400)
    report = Report.objects.get()
    assert (report.type_version.number, report.data["age"], report.area) == (2, 19, brixton)


def test_a_submission_whose_answer_was_lost_then_changed_shows_what_differs_and_goes_in_as_an_amendment(
        app, devtools, alex, brixton):
    driver = enrolled(app, alex)
    new_report(driver, "Missing person")
    fill_missing_child(driver, photo=None)
    # The server files the report, and its answer is lost on the way back (the signal dropped).
    page = devtools.attach("page", "/app/")
    devtools.send("Fetch.enable", {"patterns": [{"urlPattern": "*/api/v1/reports/", "requestStage": "Response"}]},
                  session=page)
    report_id = sent(driver)
    paused = devtools.event("Fetch.requestPaused", lambda params: params["request"]["method"] == "POST")
    signal(driver, on=False)
    devtools.send("Fetch.failRequest", {"requestId": paused["requestId"], "errorReason": "ConnectionReset"},
                  session=page)
    devtools.send("Fetch.disable", session=page)
    wait(driver, 10).until(card_says("Waiting for signal", report_id))
    assert Report.objects.get().data["clothing"] == AMY["clothing"]

    # The officer, thinking it never went, changes it before it does.
    click(driver, report_card(driver, report_id))
    click(driver, wait(driver, 10).until(shown.element_to_be_clickable((By.ID, "change-report"))))
    type_into(driver, "clothing", "Blue raincoat over the school uniform")
    sent(driver)
    signal(driver, on=True)
    wait(driver, 10).until(card_says("Differs from the copy on the system", report_id))
    network_errors_only(app, "net::ERR_CONNECTION_RESET", "status of 409")

    click(driver, report_card(driver, report_id))
    table = wait(driver, 10).until(shown.presence_of_element_located((By.CSS_SELECTOR, "table.differences")))
    rows = [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert rows == [["Clothing", AMY["clothing"], "Blue raincoat over the school uniform"]]
    looks_right(app, "app-report-conflict")
    click(driver, driver.find_element(By.ID, "keep-mine"))
    click(driver, driver.find_element(By.ID, "send-mine"))
    assert driver.find_element(By.CSS_SELECTOR, ".conflict form .problem").text.startswith("Say why")
    driver.find_element(By.ID, "reason").send_keys("Mother corrected the coat's colour")
    click(driver, driver.find_element(By.ID, "send-mine"))
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.ID, "report-status"), "Circulated at"))

    report = Report.objects.get()
    assert report.version == 2 and report.data["clothing"] == "Blue raincoat over the school uniform"
    latest = report.versions.get(number=2)
    assert (latest.reason, latest.author) == ("Mother corrected the coat's colour", alex.user)


def test_an_officer_amends_a_report_on_the_system_with_a_reason(app, alex, brixton):
    driver = enrolled(app, alex)
    new_report(driver, "Missing person")
    fill_missing_child(driver, photo=None)
    report_id = sent(driver)
    wait(driver, 10).until(card_says("Circulated at", report_id))

    click(driver, report_card(driver, report_id))
    click(driver, wait(driver, 10).until(shown.element_to_be_clickable((By.ID, "amend-report"))))
    wait(driver, 10).until(screen_is("Amend: Missing person"))
    type_into(driver, "last_seen_place", "Number 2 bus towards Stockwell")
    click(driver, driver.find_element(By.ID, "send-amendment"))
    reason = driver.find_element(By.ID, "reason")
    assert reason.get_attribute("aria-invalid") == "true"
    assert driver.find_element(By.ID, "reason-error").text == "Say why the report is amended."
    reason.send_keys("A witness saw her board the 2 bus")
    click(driver, driver.find_element(By.ID, "send-amendment"))
    wait(driver, 10).until(screen_is("Missing person"))
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.CSS_SELECTOR, "main .facts"), "version 2"))

    report = Report.objects.get()
    assert (report.version, report.data["last_seen_place"]) == (2, "Number 2 bus towards Stockwell")
    assert report.versions.get(number=2).reason == "A witness saw her board the 2 bus"
    place = driver.find_element(By.CSS_SELECTOR, "dd[data-path=last_seen_place]").text
    assert place == "Number 2 bus towards Stockwell"

    # Amended on the system meanwhile (the sergeant, from the back office): the phone's next amendment is a 409.
    sergeant = field_officer("Sam Okafor")
    report_amend(report=report, actor=sergeant.user, base_version=2, reason="Coat colour from the school",
                 data={**report.data, "clothing": "Navy school coat"})
    click(driver, wait(driver, 10).until(shown.element_to_be_clickable((By.ID, "amend-report"))))
    type_into(driver, "rationale", "Nine, alone, and her inhaler is at home")
    driver.find_element(By.ID, "reason").send_keys("Mother says the inhaler is at home")
    click(driver, driver.find_element(By.ID, "send-amendment"))
    wait(driver, 10).until(shown.presence_of_element_located((By.CSS_SELECTOR, "table.differences")))
    assert driver.find_element(By.CSS_SELECTOR, ".conflict .problem").text == (
        "Someone amended this report (version 3) after the version you amended.")
    rows = [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
            for row in driver.find_elements(By.CSS_SELECTOR, "table.differences tbody tr")]
    assert rows == [["Clothing", "Navy school coat", AMY["clothing"]],
                    ["Rationale", AMY["rationale"], "Nine, alone, and her inhaler is at home"]]
    click(driver, driver.find_element(By.ID, "discard-mine"))
    click(driver, driver.find_element(By.ID, "confirm-discard"))
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.CSS_SELECTOR, "main .facts"), "version 3"))
    assert driver.find_element(By.CSS_SELECTOR, "dd[data-path=clothing]").text == "Navy school coat"
    assert Report.objects.get().version == 3
    network_errors_only(app, "status of 409")


def worker_notifications(devtools) -> list[dict]:
    """What the service worker shows now, read in the worker itself (no page of the app is open)."""
    worker = devtools.attach("service_worker", "/app/sw.js")
    return devtools.evaluate(worker, "self.registration.getNotifications().then((shown) => shown.map((n) => ({"
                                     "title: n.title, body: n.body, tag: n.tag, url: n.data.url})))")


def app_windows(devtools) -> int:
    """The app's pages the service worker can reach (none when the worker is not even running)."""
    try:
        worker = devtools.attach("service_worker", "/app/sw.js")
    except LookupError:
        return 0
    return devtools.evaluate(worker, "self.clients.matchAll({type: 'window', includeUncontrolled: true})"
                                     ".then((windows) => windows.length)")


def background_sync(devtools, base_url: str) -> None:
    """The browser's Background Sync firing for the reports' tag, as when the phone is back online."""
    page = devtools.attach("page", "")
    devtools.send("ServiceWorker.disable", session=page)  # enabled again, it tells the registrations again
    devtools.send("ServiceWorker.enable", session=page)
    scope = f"{base_url}/app/"
    update = devtools.event("ServiceWorker.workerRegistrationUpdated", lambda params: any(
        entry["scopeURL"] == scope and not entry["isDeleted"] for entry in params["registrations"]))
    registration = next(entry["registrationId"] for entry in update["registrations"] if entry["scopeURL"] == scope)
    devtools.send("ServiceWorker.dispatchSyncEvent", {"origin": f"{base_url}/", "registrationId": registration,
                                                      "tag": "muster-reports", "lastChance": False}, session=page)


def closed(driver) -> None:
    """The app closed, still without signal: its page gone from the tab, a blank page in its place.

    Chromium lifts a page's network emulation a moment before the page goes (when its tab shuts, or as it navigates
    away), and the page then sees signal come back and sends what waits: every other run on Chromium 156, whether
    the emulation came from chromedriver's DevTools session or our own. So the page's last moments are cut off from
    the network at its source, its fetch, as a phone out of signal would be."""
    driver.execute_script("window.fetch = () => Promise.reject(new TypeError('Failed to fetch'));")
    driver.get("about:blank")


def test_background_sync_sends_from_the_open_app_and_asks_to_open_a_closed_one(app, devtools, alex, brixton):
    driver = enrolled(app, alex)
    to(driver, "reports", "Field reports")  # the forms, fetched while there is signal
    wait(driver, 10).until(shown.element_to_be_clickable((By.XPATH, "//button[normalize-space()='Missing person']")))
    signal(driver, on=False)
    new_report(driver, "Missing person")
    fill_missing_child(driver, photo=None)
    first = sent(driver)
    wait(driver, 10).until(card_says("Waiting for signal", first))

    # Signal back, but no `online` event reaches the page (the phone's radio woke in the background): the sync does.
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", ONLINE)
    background_sync(devtools, app.base_url)
    wait(driver, 10).until(card_says("Circulated at", first))
    network_errors_only(app)

    signal(driver, on=False)
    new_report(driver, "Welfare concern")
    type_into(driver, "subject_name", "Edna Price")
    type_into(driver, "address", "14 Coldharbour Lane")
    type_into(driver, "concern", "Neighbour has not seen her for three days")
    choose(driver, "urgency", 1)
    second = sent(driver)
    wait(driver, 10).until(card_says("Waiting for signal", second))
    network_errors_only(app)
    closed(driver)
    wait(driver, 10).until(lambda d: app_windows(devtools) == 0)  # gone for the worker too (it is slower under load)

    background_sync(devtools, app.base_url)
    wait(driver, 10).until(lambda d: worker_notifications(devtools))
    assert worker_notifications(devtools) == [{
        "title": "Muster", "body": "Back online: open Muster and unlock it to send the reports waiting on this phone.",
        "tag": "reports-waiting", "url": "/app/#/reports"}]
    assert Report.objects.filter(pk=second).count() == 0

    signal(driver, on=True)
    driver.get(f"{app.base_url}/app/#/reports")  # the officer taps it: the app opens, and once unlocked, sends
    enter_pin(driver, PIN)
    wait(driver, 15).until(card_says("Circulated at", second))
    assert Report.objects.get(pk=second).data["subject_name"] == "Edna Price"


def test_a_report_circulated_to_me_is_read_in_the_app_and_acknowledged(app, alex, brixton, tmp_path):
    add_member(brixton.patrol_unit, alex)
    FixedRule.objects.create(tier=brixton.patrol_unit.tiers.get(position=1), person=alex)
    driver = enrolled(app, alex)
    author = field_officer("Priya Shah")
    photo = camera_photo(driver, tmp_path)
    report, _ = report_submit(report_id=uuid.uuid4(), report_type=ReportType.objects.get(slug="missing-person"),
                              actor=author.user, data=MISSING_CHILD, place=Place(area=brixton), captured_at=None)
    with photo.open("rb") as upload:
        attachment_add(report=report, actor=author.user,
                       upload=SimpleUploadedFile(photo.name, upload.read(), content_type="image/jpeg"))

    to(driver, "circulations", "Circulated to me")
    card = wait(driver, 10).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".circulation")))
    assert card.text.startswith("Missing person\nGrading: High · Brixton\nAmy Clarke, 9, Brixton station")
    assert driver.find_element(By.ID, "to-acknowledge").text == "1 to acknowledge"
    looks_right(app, "app-circulations")
    click(driver, card.find_element(By.XPATH, ".//button[normalize-space()='Acknowledge']"))
    wait(driver, 10).until(shown.text_to_be_present_in_element((By.CSS_SELECTOR, ".circulation"), "Acknowledged at"))
    assert driver.find_element(By.ID, "to-acknowledge").text == "All acknowledged"
    recipient = CirculationRecipient.objects.get(person=alex)
    assert recipient.acknowledged_at is not None

    click(driver, driver.find_element(By.XPATH, "//a[normalize-space()='Read it']"))
    wait(driver, 10).until(screen_is("Missing person"))
    facts = wait(driver, 10).until(shown.presence_of_element_located((By.CSS_SELECTOR, ".report-fields"))).text
    assert "Name\nAmy Clarke" in facts and "Last seen (place)\nBrixton station" in facts
    assert "Risk grading\nHigh" in facts
    assert "Last seen (time)\n3 Jun 2026, " in facts  # as the app writes times (en-GB), whatever the browser's
    looks_right(app, "app-circulated-report")
    wait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, ".thumb img").get_attribute("src")
                           .startswith("data:image/jpeg;base64,"))
