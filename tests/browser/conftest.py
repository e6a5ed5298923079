"""Real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, against pytest-django's live
server: what an operator's browser runs, with the page's own scripts, styles and Content-Security-Policy.

Every test reads the browser's console: an error there (a script refused by the CSP, an exception, a failed
fetch) fails the test. ``./muster test`` installs the two packages with apt when they are missing and runs these
tests in a stage of their own; with ``CI=true`` a missing browser fails rather than skips.

With ``MUSTER_SCREENSHOTS`` set to a folder, tests that show a screen people see save it there
(``./muster screenshots`` writes docs/img/).
"""

import importlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from callouts.models import Heartbeat
from reports.models import ReportType, ReportTypeVersion
from tests.browser import app_steps
from tests.browser.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.browser.console_steps import DESKTOP
from tests.browser.devtools import DevTools
from tests.factories import login_verified


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # The live server sees only committed rows (each test's are flushed after it; see ``roles``).
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite in a file, as ./muster run has it: each of the live server's request threads then opens its own
    connection, as a real server's would, instead of sharing the test's in-memory one."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("browser-db") / "muster.sqlite3")


def need_chromium() -> None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        message = (f"Debian's chromium and chromium-driver are needed ({CHROMIUM}, {CHROMEDRIVER}): "
                   "./muster test installs them")
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def chromium():
    """One browser for the session; each test starts from a blank page without cookies."""
    need_chromium()
    profile = tempfile.mkdtemp(prefix="muster-chromium-")
    driver = start_chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class RestartableChromium:
    """A Chromium of the test's own on a profile folder that outlives it: ``kill()`` ends the browser process with
    SIGKILL (as a phone's system ends an app it needs the memory of, or a flat battery), and ``start()`` opens a new
    Chromium on the same profile, which finds what the last one had stored: IndexedDB, the service worker, caches."""

    def __init__(self, profile: str):
        self.profile, self.driver = profile, None

    def start(self):
        self.driver = start_chromium(self.profile)
        return self.driver

    def kill(self) -> None:
        from tests.browser.devtools import DevTools

        tools = DevTools(self.driver)
        [pid] = [process["id"] for process in tools.send("SystemInfo.getProcessInfo")["processInfo"]
                 if process["type"] == "browser"]
        tools.close()
        os.kill(pid, signal.SIGKILL)
        self.driver.service.stop()  # chromedriver, whose session died with its browser; it reaps the process
        self.driver = None

    def quit(self) -> None:
        if self.driver is not None:
            self.driver.quit()
            self.driver = None


@pytest.fixture
def restartable_chromium():
    need_chromium()
    profile = tempfile.mkdtemp(prefix="muster-phone-")
    phone = RestartableChromium(profile)
    try:
        yield phone
    finally:
        phone.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Browser:
    """The test's view of the browser: open a page of the live server, find things, and the console's errors."""

    def __init__(self, driver, base_url: str):
        self.driver, self.base_url = driver, base_url
        self.kept_errors: list[str] = []  # read from the console early (accessibility.py), still this test's

    def open(self, path: str):
        self.driver.get(self.base_url + path)
        return self.driver

    def log_in(self, client, user) -> None:
        """The user's session, made as the second-factor form makes it, handed to the browser as its cookie."""
        login_verified(client, user)
        self.open("/static/admin/css/base.css")  # a page of the site, so the cookie can be set for it
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.driver.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})

    def console_errors(self) -> list[str]:
        errors = self.kept_errors + [entry["message"] for entry in self.driver.get_log("browser")
                                     if entry["level"] == "SEVERE"]
        self.kept_errors = []
        return errors

    def screenshot(self, name: str) -> None:
        if folder := os.environ.get("MUSTER_SCREENSHOTS"):
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(Path(folder) / name))
            (Path(folder) / name).chmod(0o644)  # documentation, not var/: readable by all, whatever the umask


@pytest.fixture
def browser(chromium, live_server):
    chromium.get("about:blank")
    # Every site's cookies: WebDriver's delete_all_cookies only clears the open page's, and on about:blank that is
    # none, so an earlier test's session cookie stayed beside the one log_in adds and was sometimes the one sent.
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.get_log("browser")  # what an earlier test left in the console is not this test's
    page = Browser(chromium, live_server.url)
    yield page
    errors = page.console_errors()
    chromium.get("about:blank")  # a live page stops polling before this test's rows are flushed
    assert not errors, "errors in the browser's console:\n" + "\n".join(errors)


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Each test starts with no request counted against a rate limit, as it starts with no rows: the live server
    keeps one cache for the session, and the enrolments of earlier tests are not this test's (the limits are
    tested on their own in tests/api)."""
    cache.clear()


@pytest.fixture(scope="session")
def roles_as_migrated(django_db_setup, django_db_blocker) -> dict[str, list[tuple[str, str]]]:
    with django_db_blocker.unblock():
        return {group.name: list(group.permissions.values_list("content_type__app_label", "codename"))
                for group in Group.objects.all()}


@pytest.fixture(autouse=True)
def roles(roles_as_migrated, db):
    """The groups the migrations made, with their permissions: the flush after each transactional test empties
    every table, and only content types and permissions are made again by it."""
    for name, permissions in roles_as_migrated.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = Q(pk__in=[])
        for app_label, codename in permissions:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(wanted))


@pytest.fixture
def dispatcher(db):
    user = get_user_model().objects.create_user("dispatcher", is_staff=True, first_name="Dee", last_name="Dispatch")
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def timers_running(db):
    """What a running worker and beat leave: a heartbeat and a sweep just now (no watchdog banner)."""
    for name in ("worker", "sweep"):
        Heartbeat.objects.create(name=name, beat_at=timezone.now())


@pytest.fixture
def window(chromium):
    """Resize the one browser of the session, and give the next test its desktop back."""
    yield lambda size: chromium.set_window_size(*size)
    chromium.set_window_size(*DESKTOP)


@pytest.fixture
def shipped_report_types(db):
    """The report types migration reports.0002 ships, as on a fresh install: the flush after a transactional test
    empties their tables with the rest."""
    shipped = importlib.import_module("reports.migrations.0002_report_types")
    for spec in shipped.TYPES:
        report_type, _ = ReportType.objects.get_or_create(slug=spec["slug"], defaults={"name": spec["name"]})
        ReportTypeVersion.objects.get_or_create(report_type=report_type, number=1, defaults={
            "schema": spec["schema"], "promoted_fields": spec["promoted_fields"],
            "grading_field": spec["grading_field"], "summary_fields": spec["summary_fields"],
            "published_at": timezone.now()})
    return {spec["slug"]: spec for spec in shipped.TYPES}


@pytest.fixture
def app(browser, chromium):
    """The session's browser as an officer's phone that never opened Muster, standing in Brixton, with location and
    notifications allowed."""
    app_steps.forget_the_site(chromium, browser.base_url)
    app_steps.phone_for(chromium, browser.base_url)
    yield browser
    app_steps.signal(chromium, on=True)
    app_steps.forget_the_site(chromium, browser.base_url)
    chromium.execute_cdp_cmd("Browser.resetPermissions", {})
    chromium.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})


@pytest.fixture
def devtools(chromium):
    """A DevTools connection of the test's own to the session's browser (tests/browser/devtools.py)."""
    tools = DevTools(chromium)
    yield tools
    tools.close()
