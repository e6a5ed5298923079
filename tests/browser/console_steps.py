"""Steps and looks shared by the browser tests: logging in as a person does, checking a launch and reading its
warnings, and reading the live page's state banner, its colours and whether anything runs off the screen."""

from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "a long and careful passphrase"
GREEN, RED = "rgba(30, 123, 52, 1)", "rgba(186, 33, 33, 1)"
DESKTOP, PHONE = (1400, 1000), (390, 844)



def wait(driver, seconds: float = 10) -> WebDriverWait:
    """WebDriverWait for the console's pages: the live page's poll replaces its content every 2 seconds, so an
    element found just before a refresh can be stale when read; that means "not yet", not a failure."""
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def login_with_authenticator(browser, user) -> None:
    """Through the login page, as a person does: username, password and the code their authenticator shows."""
    device = TOTPDevice.objects.create(user=user, name=f"{user.username}'s phone")
    driver = browser.open(reverse("admin:login"))
    code = driver.find_element(By.NAME, "otp_token")
    assert (code.get_attribute("inputmode"), code.get_attribute("autocomplete")) == ("numeric", "one-time-code")
    driver.find_element(By.NAME, "username").send_keys(user.username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    code.send_keys(f"{totp(device.bin_key):06d}")
    driver.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    wait(driver, 10).until(shown.presence_of_element_located((By.ID, "user-tools")))


def launch_checked(browser, unit, *, message: str, incident_ref: str):
    """The launch form for ``unit`` filled in and checked: the confirmation page's red box of warnings."""
    driver = browser.open(f"{reverse('admin:callouts_callout_launch')}?unit={unit.pk}")
    driver.find_element(By.NAME, "message").send_keys(message)
    driver.find_element(By.NAME, "incident_ref").send_keys(incident_ref)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit][value='Check who will be alerted']").click()
    return wait(driver, 10).until(shown.visibility_of_element_located((By.ID, "launch-warnings")))


def warning_lines(warnings) -> list[str]:
    """The warnings box as it reads: its heading, then each warning."""
    return [warnings.find_element(By.TAG_NAME, "h2").text,
            *(item.text for item in warnings.find_elements(By.TAG_NAME, "li"))]


def banner(driver):
    """The live page's full-width state banner."""
    return driver.find_element(By.ID, "callout-state")


def banner_says(label):
    return lambda driver: banner(driver).text.startswith(label)


def background(element) -> str:
    return element.value_of_css_property("background-color")


def visible_overflow(driver) -> int:
    """How far the page, or a box within it that scrolls sideways (the admin's list of results), overflows."""
    return driver.execute_script("""
        var over = document.documentElement.scrollWidth - window.innerWidth;
        document.querySelectorAll("#content *").forEach(function (el) {
          if (getComputedStyle(el).overflowX !== "visible") { over = Math.max(over, el.scrollWidth - el.clientWidth); }
        });
        return over;""")


def whole_page_screenshot(browser, name: str) -> None:
    """The page from its top to the end of its content (up to 2,400 pixels), in a window as wide as the others."""
    driver = browser.driver
    height = driver.execute_script("return document.getElementById('content').getBoundingClientRect().bottom")
    driver.set_window_size(1400, min(int(height) + 140, 2400))  # the window's frame takes about 140 pixels
    try:
        browser.screenshot(name)
    finally:
        driver.set_window_size(1400, 1000)
