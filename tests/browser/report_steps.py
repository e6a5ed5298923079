"""Steps for the field app's reports in a browser (the phone, its officer and the screens are app_steps'): opening a
form, filling one drawn from a report type's schema, photos, and the outbox's cards."""

import base64
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import Select

from tests.browser.app_steps import screen_is, to
from tests.browser.console_steps import wait


def new_report(driver, type_name: str) -> None:
    to(driver, "reports", "Field reports")
    button = wait(driver, 10).until(shown.element_to_be_clickable(
        (By.XPATH, f"//ul[@aria-label='Report forms']//button[normalize-space()='{type_name}']")))
    button.click()
    wait(driver, 10).until(screen_is(type_name))


def click(driver, element) -> None:
    """A tap on ``element`` in the middle of the screen (not under the sticky heading, where a field the page was
    already scrolled past would be clicked)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def field(driver, path: str):
    return wait(driver, 10).until(shown.presence_of_element_located((By.ID, f"field-{path}")))


def empty(element) -> None:
    """A field emptied as with the keyboard (WebDriver's clear() sends no input event, so the app would not know)."""
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(Keys.DELETE)


def type_into(driver, path: str, text: str) -> None:
    element = field(driver, path)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.clear()
    element.send_keys(text)


def set_input(driver, path: str, value: str) -> None:
    """A date or time picker's value as the phone's picker sets it (the picker itself is the browser's, not ours)."""
    driver.execute_script("""
        const input = document.getElementById(arguments[0]);
        input.value = arguments[1];
        input.dispatchEvent(new Event('input', { bubbles: true }));""", f"field-{path}", value)


def choose(driver, path: str, option: int) -> None:
    """The option-th choice of a field: its radio button, or its place in the list."""
    element = field(driver, path)
    if element.tag_name == "select":
        Select(element).select_by_index(option + 1)  # after "Choose…"
    else:
        click(driver, driver.find_element(By.ID, f"field-{path}-{option}"))


def now_button(driver, path: str) -> None:
    click(driver, field(driver, path).find_element(By.XPATH, "following-sibling::button[normalize-space()='Now']"))


def add_entry(driver, path: str) -> None:
    click(driver, driver.find_element(By.ID, f"field-{path}-add"))


def fill(driver, schema: dict, path: tuple = ()) -> None:
    """Every field of a form drawn from ``schema``, filled in as an officer would: text, numbers in bounds, the first
    choice, dates, Now for times, one entry in each list."""
    for name, spec in schema.get("properties", {}).items():
        fill_one(driver, spec, (*path, name))


def fill_one(driver, spec: dict, path: tuple) -> None:
    at = ".".join(map(str, path))
    if "enum" in spec:
        choose(driver, at, len(spec["enum"]) - 1)
    elif spec.get("type") == "integer" or spec.get("type") == "number":
        type_into(driver, at, str(min(spec.get("maximum", 9), max(spec.get("minimum", 0), 9))))
    elif spec.get("type") == "string" and spec.get("format") == "date":
        set_input(driver, at, "2017-02-14")
    elif spec.get("type") == "string" and spec.get("format") == "date-time":
        now_button(driver, at)
    elif spec.get("type") == "string":
        type_into(driver, at, f"{spec.get('title', path[-1])} as given"[:spec.get("maxLength", 200)])
    elif spec.get("type") == "array":
        add_entry(driver, at)
        fill_one(driver, spec["items"], (*path, 0))
    elif spec.get("type") == "object":
        fill(driver, spec, path)


def camera_photo(driver, folder: Path) -> Path:
    """A JPEG as a phone's camera makes one (drawn by the browser itself: Muster has no image library)."""
    data_url = driver.execute_script("""
        const canvas = document.createElement('canvas');
        canvas.width = 640; canvas.height = 480;
        const context = canvas.getContext('2d');
        context.fillStyle = '#b33'; context.fillRect(0, 0, 640, 480);
        context.fillStyle = '#fc6'; context.beginPath(); context.arc(320, 220, 140, 0, 7); context.fill();
        context.fillStyle = '#222'; context.font = '48px sans-serif'; context.fillText('Amy, 9', 240, 430);
        return canvas.toDataURL('image/jpeg', 0.9);""")
    path = folder / "IMG_20260603_0912.jpg"
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
    return path


def report_card(driver, report_id: str | None = None):
    """The outbox's card of a report (the newest one when no id is given)."""
    selector = f"[data-report='{report_id}']" if report_id else "[aria-label='My reports'] .report-card"
    return wait(driver, 10).until(shown.presence_of_element_located((By.CSS_SELECTOR, selector)))


def card_says(text: str, report_id: str | None = None):
    def check(driver):
        try:
            return text in report_card(driver, report_id).find_element(By.CSS_SELECTOR, ".report-state").text
        except Exception:  # redrawn meanwhile: look again
            return False
    return check
