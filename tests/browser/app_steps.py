"""Steps and looks for the field app's browser tests: a fresh phone, enrolment, the PIN, what IndexedDB holds, the
service worker's notifications, and the phone's screen size."""

from contextlib import contextmanager

from django_otp.oath import totp
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from tests.browser.console_steps import PASSWORD, wait

PIN = "246810"
PHONE_SCREEN = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def forget_the_site(driver, base_url: str) -> None:
    """As a phone that never opened Muster: no IndexedDB, service worker, caches or cookies for the site."""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": base_url, "storageTypes": "all"})


@contextmanager
def phone_screen(driver):
    """The page laid out as on a 390×844 phone (a mobile viewport, not only a narrow window)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_SCREEN)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def heading(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "header h1").text


def screen_is(title: str):
    def check(driver):
        found = driver.find_elements(By.CSS_SELECTOR, "header h1")
        return bool(found) and found[0].text == title
    return check


def open_app(browser, path: str = ""):
    driver = browser.open(f"/app/{path}")
    wait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "header h1"))
    return driver


def fill_enrolment(driver, user, device) -> None:
    driver.find_element(By.ID, "username").send_keys(user.username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    code = driver.find_element(By.ID, "otp_token")
    assert (code.get_attribute("inputmode"), code.get_attribute("autocomplete")) == ("numeric", "one-time-code")
    code.send_keys(f"{totp(device.bin_key):06d}")


def submit(driver) -> None:
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def choose_pin(driver, pin: str = PIN, again: str | None = None) -> None:
    wait(driver, 10).until(screen_is("Choose a PIN"))
    for name, value in (("pin", pin), ("again", pin if again is None else again)):
        field = driver.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    submit(driver)


def enter_pin(driver, pin: str) -> None:
    field = wait(driver, 10).until(shown.element_to_be_clickable((By.ID, "pin")))
    field.clear()
    field.send_keys(pin)
    submit(driver)


def problem(driver) -> str:
    return wait(driver, 10).until(shown.visibility_of_element_located((By.CSS_SELECTOR, "main .problem"))).text


def problem_says(text: str):
    return shown.text_to_be_present_in_element((By.CSS_SELECTOR, "main .problem"), text)


# Every record of every IndexedDB database of the page's origin, each value as text: strings as they are, binary
# (the sealed records' IV and ciphertext) byte for byte as Latin-1, so any plaintext inside would show.
READ_INDEXEDDB = """
const done = arguments[arguments.length - 1];
const asked = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error); });
const text = (value) => {
  if (value instanceof ArrayBuffer) return new TextDecoder("latin1").decode(value);
  if (ArrayBuffer.isView(value)) return new TextDecoder("latin1").decode(value);
  if (value && typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}=${text(v)}`).join(";");
  return String(value);
};
(async () => {
  const records = [];
  for (const { name } of await indexedDB.databases()) {
    // Opened without creating: a database the app deletes meanwhile must not come back, empty, from this read.
    const opening = indexedDB.open(name);
    opening.onupgradeneeded = () => opening.transaction.abort();
    const db = await asked(opening).catch(() => null);
    if (!db) continue;
    for (const store of db.objectStoreNames) {
      const objects = db.transaction(store).objectStore(store);
      const [keys, values] = await Promise.all([asked(objects.getAllKeys()), asked(objects.getAll())]);
      keys.forEach((key, i) => records.push({ database: name, store, key: String(key), value: text(values[i]) }));
    }
    db.close();
  }
  return records;
})().then(done, (error) => done(String(error)));
"""


def indexeddb_records(driver) -> list[dict]:
    return driver.execute_async_script(READ_INDEXEDDB)


READ_NOTIFICATIONS = """
const done = arguments[arguments.length - 1];
navigator.serviceWorker.ready.then((registration) => registration.getNotifications()).then((shown) => done(
  shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction,
                      actions: n.actions.map((a) => a.title), data: n.data }))));
"""


def notifications(driver) -> list[dict]:
    """The notifications the service worker shows now, as ``registration.getNotifications()`` lists them."""
    return driver.execute_async_script(READ_NOTIFICATIONS)


def worker_ready(driver) -> None:
    driver.set_script_timeout(15)
    driver.execute_async_script("navigator.serviceWorker.ready.then(() => arguments[arguments.length - 1]())")


def advance_clock(driver, seconds: float) -> None:
    """The page's clock ``seconds`` ahead (Date.now, which the idle lock reads), without waiting for them to pass."""
    driver.execute_script("const now = Date.now.bind(Date); Date.now = () => now() + arguments[0];", seconds * 1000)


def small_targets(driver) -> list[str]:
    """What there is to tap in the app (links, buttons, fields) that is less than 44 pixels tall or wide."""
    return driver.execute_script("""
        const small = [];
        document.querySelectorAll("#app a, #app button, #app input, #app select").forEach((element) => {
          const box = element.getBoundingClientRect();
          if (box.width && (box.height < 44 || box.width < 44)) {
            small.push(`${element.outerHTML.slice(0, 80)} ${box.width}x${box.height}`);
          }
        });
        return small;""")


def overflow(driver) -> int:
    """How far the app runs off the side of the screen."""
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth;")
