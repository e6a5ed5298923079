"""Steps and looks for the field app's browser tests: a fresh phone and its officer, enrolment, the PIN, moving
between screens, the signal, what IndexedDB holds, the service worker's notifications, the phone's screen size and
what a person with a screen reader or in the dark gets (axe-core)."""

import json
from contextlib import contextmanager

from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as shown

from tests.browser.accessibility import accessibility_problems
from tests.browser.console_steps import PASSWORD, wait
from tests.factories import make_person

PIN = "246810"
PHONE_SCREEN = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {**OFFLINE, "offline": False}
# Brixton, where the README's walk-through stands, as the phone's GPS gives it.
BRIXTON = {"latitude": 51.4613, "longitude": -0.1145, "accuracy": 12}


def field_officer(name: str):
    """A responder with a login, a password and an authenticator app, as enrolment asks for."""
    person = make_person(name, rank="PC")
    person.user.set_password(PASSWORD)
    person.user.save()
    person.user.groups.add(Group.objects.get(name="Responders"))
    person.authenticator = TOTPDevice.objects.create(user=person.user, name=f"{name}'s authenticator")
    return person


def phone_for(driver, base_url: str, position: dict = BRIXTON) -> None:
    """The browser as the officer's phone: location allowed and where the GPS puts it; notifications allowed (as
    after the officer's tap on the app's button)."""
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base_url,
                                                        "permissions": ["geolocation", "notifications"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", position)


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


def enrolled(browser, person):
    """Enrolled with the second factor and a PIN: the app open (on its callouts) and its service worker running."""
    driver = open_app(browser)
    fill_enrolment(driver, person.user, person.authenticator)
    submit(driver)
    choose_pin(driver)
    wait(driver, 15).until(screen_is("Callouts"))
    worker_ready(driver)
    return driver


def to(driver, route: str, title: str) -> None:
    """A screen of the app by its route (#/...), as a link in it goes there: no reload, so the app stays unlocked."""
    driver.execute_script("location.hash = arguments[0];", f"#/{route}")
    wait(driver, 10).until(screen_is(title))


def signal(driver, *, on: bool, devtools=None) -> None:
    """The phone's signal gone or back (DevTools network emulation). Chromium applies the emulation only where the
    Network domain is enabled in the same DevTools session (it let every request through without: checked on
    Chromium 156), and only for that session's target.

    With ``devtools`` (a connection of our own, tests/browser/devtools.py) the page and its service worker lose the
    signal, as a phone's whole browser does; without, the page alone, through chromedriver's session, which lives
    on when the test's own connections cannot (a killed and restarted browser).
    """
    if devtools is None:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", ONLINE if on else OFFLINE)
        if on:
            driver.execute_script("dispatchEvent(new Event('online'));")
        return
    # Back on, the worker first: the page's `online` event (which the browser fires) sends what waited, through it.
    targets = (("page", "/app/"), ("service_worker", "/app/sw.js"))
    for kind, url in reversed(targets) if on else targets:
        target = devtools.attach(kind, url)
        devtools.send("Network.enable", session=target)
        devtools.send("Network.emulateNetworkConditions", ONLINE if on else OFFLINE, session=target)


def network_errors_only(browser, *expected: str) -> None:
    """The console while the phone had no signal: every error is a request that could not go out (or one of the
    ``expected`` answers the browser logs, such as "status of 409"), nothing else."""
    errors = browser.console_errors()
    allowed = ("net::ERR_INTERNET_DISCONNECTED", *expected)
    assert all(any(text in error for text in allowed) for error in errors), errors


def server_refusals_only(browser, status: int) -> None:
    """The console after answers the test expects: the browser logs each 4xx, and nothing else is there."""
    errors = browser.console_errors()
    assert errors and all(f"the server responded with a status of {status}" in error for error in errors), errors


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
    """What there is to tap in the app (links, buttons, fields) that is less than 44 pixels tall or wide. A radio
    button, a checkbox or a file picker is tapped through its label (the whole row, or the button the picker hides
    behind), so its label is what is measured."""
    return driver.execute_script("""
        const small = [];
        document.querySelectorAll("#app a, #app button, #app input, #app select").forEach((element) => {
          const byLabel = ["radio", "checkbox", "file"].includes(element.type) && element.labels.length;
          const target = byLabel ? element.labels[0] : element;
          const box = target.getBoundingClientRect();
          if (box.width && (box.height < 44 || box.width < 44)) {
            small.push(`${target.outerHTML.slice(0, 80)} ${box.width}x${box.height}`);
          }
        });
        return small;""")


def overflow(driver) -> int:
    """How far the app runs off the side of the screen."""
    return driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth;")


def dark(driver, on: bool = True) -> None:
    """The phone's dark theme on or off (the app follows the system's setting, prefers-color-scheme)."""
    scheme = [{"name": "prefers-color-scheme", "value": "dark"}] if on else []
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": scheme})


def beyond_the_side_in_large_text(driver) -> list[str]:
    """What of the app runs past the screen's right edge (cut off, or to scroll to) with the phone's text at twice
    its size (WCAG 1.4.4)."""
    return driver.execute_script("""
        document.documentElement.style.fontSize = "200%";
        try {
          return [...document.querySelectorAll("#app *")]
            .filter((element) => element.getBoundingClientRect().right > innerWidth + 1)
            .map((element) => element.outerHTML.slice(0, 80));
        } finally {
          document.documentElement.style.fontSize = "";
        }""")


def looks_right(browser, screenshot: str = "", *, dark_screenshot: bool = False) -> None:
    """The screen as it is now, on a 390×844 phone: every target 44 pixels or more, nothing off the side (with the
    phone's text at twice its size too), and no WCAG 2.2 AA problem (axe-core) in the light theme or the dark one.
    With a ``screenshot`` name, the screen saved at a desktop's size as NAME.png and at the phone's as
    NAME-phone.png (and NAME-phone-dark.png if asked)."""
    driver = browser.driver
    driver.execute_script("scrollTo(0, 0);")
    if screenshot:
        browser.screenshot(f"{screenshot}.png")
    with phone_screen(driver):
        driver.execute_script("scrollTo(0, 0);")
        small, past_the_side = small_targets(driver), overflow(driver)
        assert (small, past_the_side) == ([], 0), f"{heading(driver)}: {small}, {past_the_side} px off the side"
        if screenshot:
            browser.screenshot(f"{screenshot}-phone.png")
        assert beyond_the_side_in_large_text(driver) == [], heading(driver)
        for theme in ("light", "dark"):
            dark(driver, theme == "dark")
            try:
                problems = accessibility_problems(browser)
                assert problems == [], f"{heading(driver)}, {theme} theme: {problems}"
                if theme == "dark" and dark_screenshot:
                    browser.screenshot(f"{screenshot}-phone-dark.png")
            finally:
                dark(driver, False)


# PushManager in the app's pages answering from a subscription the test holds (see push_stand_in). It keeps the
# applicationServerKey the app subscribed with, as a real subscription does (options.applicationServerKey), and
# leaves it in sessionStorage for the test to read.
PUSH_STAND_IN = """
(() => {
  const given = %s;
  let current = null;
  const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/[+]/g, "-").replace(/[/]/g, "_").replace(/=+$/, "");
  PushManager.prototype.subscribe = async function (options) {
    const key = options.applicationServerKey;
    const applicationServerKey = key instanceof ArrayBuffer ? key : new Uint8Array(key).buffer;
    sessionStorage.setItem("push-stand-in:key", text(applicationServerKey));
    current = { endpoint: given.endpoint, expirationTime: null,
                options: { userVisibleOnly: options.userVisibleOnly, applicationServerKey },
                toJSON: () => given, unsubscribe: async () => { current = null; return true; } };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


@contextmanager
def push_stand_in(driver, subscription: dict):
    """The browser's own push service stood in for by a subscription at the push service double
    (tests/push_double.py), whose keys the test holds.

    Headless Chromium cannot subscribe for real: its push service (Google's) needs an account and the network, and
    ``PushManager.subscribe`` never answers (the app says, after 20 seconds, that push could not be turned on).
    Everything else is real: the app asks with Muster's VAPID key and sends the subscription to Muster, Muster's
    Web Push channel encrypts and sends to the double, and the test hands what arrived to the service worker.
    """
    added = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                   {"source": PUSH_STAND_IN % json.dumps(subscription)})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]})


def subscribed_with(driver) -> str:
    """The applicationServerKey the app subscribed with, base64url."""
    return driver.execute_script("return sessionStorage.getItem('push-stand-in:key');")
