"""./muster run as a person starts it (SQLite, the embedded broker, a free PORT, a temporary MUSTER_VAR_DIR): a
worker killed with SIGKILL comes back while the web server keeps answering and a logged-in session keeps working;
a killed web server comes back too, with the session.

It needs neither PostgreSQL nor Redis, but it runs the whole stack for a minute or two, so it runs with the
services tests.
"""

import calendar
import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parent.parent.parent
START_SECONDS = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def mail_sink_port_held():
    """Another program on the mail sink's usual port (if nobody else already is)."""
    with socket.socket() as other:
        with contextlib.suppress(OSError):
            other.bind(("127.0.0.1", 8025))
            other.listen()
        yield


def wait_for(condition, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s; the log ends:\n{log.read_text()[-4000:]}", pytrace=False)
        time.sleep(0.5)
    return found


def children(pid: int) -> dict[int, str]:
    """The processes ./muster run started, by pid, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_text().replace("\0", " ")
    return found


def worker_pid(run: subprocess.Popen) -> int | None:
    return next((pid for pid, cmd in children(run.pid).items() if " worker " in cmd), None)


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()

    def post(self, path: str, form: dict) -> str:
        _, _, page = self.get(path)
        form = {"csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1),
                **form}
        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(form).encode(),
                                         headers={"Referer": self.base + path})
        with self.opener.open(request, timeout=10) as response:
            return response.read().decode()

    def log_in(self, username: str, code: str) -> None:
        """Username, password and a backup code, on the one login page."""
        self.post("/admin/login/", {"username": username, "password": "muster-demo-2026", "otp_token": code,
                                    "next": "/admin/"})

    def logged_in(self) -> bool:
        status, url, page = self.get("/admin/")
        return status == 200 and "/login/" not in url and "Log out" in page


def test_a_killed_worker_comes_back_while_the_web_server_and_a_session_keep_working(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "EMAIL_PORT", "SITE_URL", "LOG_LEVEL")}
    env.update(PORT=str(port), MUSTER_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    log = tmp_path / "muster-run.log"
    with mail_sink_port_held(), open(log, "w") as output:
        run = subprocess.Popen([str(ROOT / "muster"), "run"], cwd=ROOT, env=env, stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: "Muster is running at" in log.read_text() or run.poll() is not None, START_SECONDS,
                     "./muster run did not start", log)
            assert run.poll() is None, f"./muster run stopped at its start:\n{log.read_text()[-3000:]}"
            started = log.read_text()
            # Another program holds 8025: the mail sink took another port and said which.
            sink = re.search(r"mail sink on 127\.0\.0\.1:(\d+): another program holds 8025", started)
            assert sink and int(sink.group(1)) != 8025

            browser = Browser(f"http://127.0.0.1:{port}")
            code = re.search(r"^\s*admin\s.*backup codes: (\S+)", started, re.MULTILINE).group(1)
            browser.log_in("admin", code)
            assert browser.logged_in()

            first = wait_for(lambda: worker_pid(run), 30, "no worker process", log)
            os.kill(first, signal.SIGKILL)
            while "worker exited unexpectedly (killed by SIGKILL)" not in log.read_text():
                assert browser.get("/admin/login/")[0] == 200  # the web server answers throughout
                time.sleep(0.2)
            second = wait_for(lambda: (pid := worker_pid(run)) not in (None, first) and pid, 30,
                              "the worker was not started again", log)
            wait_for(lambda: log.read_text().count("celery@") >= 2 and log.read_text().count(" ready.") >= 2, 60,
                     "the new worker did not get ready", log)

            assert browser.logged_in()  # the same session, after the restart
            # The new worker runs the scheduled tasks: the heartbeat row moves on (every 15 s).
            killed_at = time.time()
            database = tmp_path / "muster.sqlite3"
            wait_for(lambda: heartbeat_after(database, killed_at), 45, "no heartbeat from the new worker", log)
            assert run.poll() is None and second in children(run.pid)

            # Even the web server, if it dies, comes back with the sessions it had (they are rows, signed with the
            # key kept in MUSTER_VAR_DIR).
            web = next(pid for pid, cmd in children(run.pid).items() if " runserver " in cmd)
            os.killpg(web, signal.SIGKILL)
            wait_for(lambda: "web server exited unexpectedly (killed by SIGKILL)" in log.read_text(), 30,
                     "the web server's exit was not noticed", log)
            wait_for(lambda: answers(browser), 60, "the web server did not come back", log)
            assert browser.logged_in()
        finally:
            if run.poll() is None:
                os.kill(run.pid, signal.SIGINT)  # Ctrl-C
            status = run.wait(timeout=60)
    text = log.read_text()
    assert status == 0
    assert "Unrecoverable error" not in text
    # The log is readable: the every-second sweep is not at INFO.
    assert not re.search(r" INFO .*(Sending due task|Task callouts\.tasks\.sweep\[)", text)


def answers(browser: Browser) -> bool:
    with contextlib.suppress(OSError):
        return browser.get("/admin/login/")[0] == 200
    return False


def heartbeat_after(database: Path, moment: float) -> bool:
    with contextlib.closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT beat_at FROM callouts_heartbeat WHERE name = 'worker'").fetchone()
    return bool(row) and calendar.timegm(time.strptime(row[0][:19], "%Y-%m-%d %H:%M:%S")) > moment
