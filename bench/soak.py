"""Soak test of the embedded stack: ``./muster run`` on SQLite and the embedded broker, the sweep every second and a
callout every few seconds, for 20 minutes. It passes when no worker, beat or web server died on its way.

Run it with ``.venv/bin/python bench/soak.py`` (``--minutes``, ``--every``; ``--checkout DIR`` soaks another
checkout's ``./muster run``, e.g. an older commit's, to compare). It needs nothing but the checkout: a temporary
MUSTER_VAR_DIR, a free PORT. It enrols the demo operator's phone through the API with a backup code that
``./muster run`` prints, then launches a callout to the Tactical Support Unit every ``--every`` seconds through
the API and closes each ``--close-after`` seconds later (so every one escalates to the secondary list first).
At the end it stops the stack with SIGINT, as Ctrl-C does, and reads the rows and the log:

* callouts launched (and launches refused or unanswered), alerts handed to the provider (the recording
  channel), seconds from an alert being due to being handed over (p50, p95, max), alerts overdue by more than a
  minute at the end, escalations overdue at the end;
* worker crashes ("Unrecoverable error", a worker that exited), restarts by ./muster run, lines logged at
  WARNING and above, and INFO lines a minute.

It replaces the "Embedded stack soak" section of docs/benchmarks.md (``--output``) and prints it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "bench"))

from sections import replace_section  # noqa: E402

SECTION = "## Embedded stack soak"
START_SECONDS = 600
PASSWORD = "muster-demo-2026"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20, help="how long to soak")
    parser.add_argument("--every", type=float, default=5, help="seconds between callouts")
    parser.add_argument("--close-after", type=float, default=360, help="seconds before each callout is closed")
    parser.add_argument("--checkout", default=str(BASE_DIR), help="the checkout whose ./muster run is soaked")
    parser.add_argument("--output", default=str(BASE_DIR / "docs" / "benchmarks.md"), help="'-' to write none")
    return parser.parse_args()


class Api:
    def __init__(self, base: str):
        self.base, self.token = base, None

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(self.base + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, {"error": error.read().decode(errors="replace")[:300]}
        except OSError as error:  # no answer at all: the web server is down
            return 0, {"error": repr(error)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_stack(checkout: str, var_dir: Path, port: int) -> tuple[subprocess.Popen, Path]:
    log_path = var_dir / "muster-run.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "EMAIL_PORT")}
    # The mail sink's port is chosen here too: an older ./muster run stops when another program holds 8025.
    env.update(PORT=str(port), EMAIL_PORT=str(free_port()), MUSTER_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(Path(checkout) / "muster"), "run"], cwd=checkout, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return process, log_path


def wait_until_running(process: subprocess.Popen, log_path: Path) -> str:
    deadline = time.monotonic() + START_SECONDS
    while "Muster is running at" not in (text := log_path.read_text()):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"./muster run did not start (exit {process.poll()}):\n{text[-3000:]}")
        time.sleep(1)
    return text


def enrol_operator(api: Api, started_log: str) -> int:
    codes = re.search(r"^\s*operator\s.*backup codes: (\S+)", started_log, re.MULTILINE)
    status, answer = api.call("POST", "/api/v1/auth/devices/", {
        "username": "operator", "password": PASSWORD, "otp_token": codes.group(1), "name": "soak", "platform": "web"})
    if status != 201:
        sys.exit(f"Enrolling the operator failed: {status} {answer}")
    api.token = answer["token"]
    status, units = api.call("GET", "/api/v1/units/?code=tsu")
    return units["results"][0]["id"]


def soak(api: Api, unit: int, process: subprocess.Popen, args) -> dict:
    launched, refused, closed, open_callouts = 0, {}, 0, []
    started = time.monotonic()
    end = started + args.minutes * 60
    next_launch = started
    while time.monotonic() < end and process.poll() is None:
        now = time.monotonic()
        if now >= next_launch:
            status, answer = api.call("POST", "/api/v1/callouts/", {
                "unit": unit, "message": f"Soak callout {launched + 1}", "incident_ref": f"SOAK-{launched + 1}"})
            if status == 201:
                launched += 1
                open_callouts.append((now, answer["id"]))
            else:
                refused[status] = refused.get(status, 0) + 1
            next_launch += args.every
        while open_callouts and now - open_callouts[0][0] >= args.close_after:
            _, callout = open_callouts.pop(0)
            closed += api.call("POST", f"/api/v1/callouts/{callout}/close/", {"outcome": "Soak"})[0] == 200
        time.sleep(max(min(next_launch - time.monotonic(), 1), 0))
    return {"launched": launched, "refused": refused, "closed": closed, "seconds": time.monotonic() - started,
            "stack_stopped": process.poll() is not None}


def stop_stack(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def when(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(round(p / 100 * len(ordered) + 0.5)) - 1, 0)] if ordered else float("nan")


def rows(var_dir: Path, ended: datetime) -> dict:
    db = sqlite3.connect(var_dir / "muster.sqlite3")
    sent = [(when(s) - when(d)).total_seconds() for s, d in db.execute(
        "SELECT sent_at, due_at FROM callouts_delivery WHERE kind = 'alert' AND sent_at IS NOT NULL")]
    cutoff = ended.timestamp() - 60
    overdue = sum(1 for (due,) in db.execute(
        "SELECT due_at FROM callouts_delivery WHERE state IN ('pending', 'sending')") if when(due).timestamp() < cutoff)
    late_escalations = sum(1 for (at,) in db.execute(
        "SELECT escalate_at FROM callouts_callout WHERE state = 'active' AND escalate_at IS NOT NULL")
        if when(at).timestamp() < ended.timestamp() - 5)
    escalated = db.execute("SELECT COUNT(DISTINCT callout_id) FROM callouts_recipient WHERE tier_position > 1 "
                           "AND notified_at IS NOT NULL").fetchone()[0]
    db.close()
    return {"handed": len(sent), "lateness": sent, "overdue": overdue, "late_escalations": late_escalations,
            "escalated": escalated}


def log_counts(log_path: Path, minutes: float) -> dict:
    text = log_path.read_text(errors="replace")
    lines = text.splitlines()
    levels = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
    found = [m.group(1) for line in lines if (m := levels.match(line))]
    exits = re.findall(r"(\w[\w ]*?) exited unexpectedly \(([^)]*)\)", text)
    return {
        "unrecoverable": text.count("Unrecoverable error"),
        "worker_exits": sum(1 for name, _ in exits if name == "worker"),
        "restarts": exits,
        "warnings": sum(1 for level in found if level in ("WARNING", "ERROR", "CRITICAL")),
        "info_per_minute": sum(1 for level in found if level == "INFO") / minutes,
        "tracebacks": text.count("Traceback (most recent call last)"),
        "tail": "\n".join(lines[-15:]),
    }


def report(args, result: dict, db: dict, log: dict, commit: str) -> str:
    lateness = db["lateness"]
    restarts = ", ".join(f"{name} ({status})" for name, status in log["restarts"]) or "none"
    # An older ./muster run stopped everything when its worker died; this one starts the worker again.
    crashed = max(log["unrecoverable"], log["worker_exits"] + result["stack_stopped"])
    refused = ", ".join(f"{n} × {status or 'no answer'}" for status, n in result["refused"].items()) or "none"
    lines = [
        SECTION,
        "",
        f"Written by `bench/soak.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC against `./muster run` at {commit}: "
        "SQLite and the embedded broker, a prefork worker (2 processes), beat with the sweep every second, the "
        f"recording channel. A callout to the Tactical Support Unit every {args.every:g} s through the API, each "
        f"closed {args.close_after:g} s later (the unit escalates to its secondary list after 5 minutes).",
        "",
        "| | |",
        "|---|---|",
        f"| minutes soaked | {result['seconds'] / 60:.1f} of {args.minutes:g} |",
        f"| callouts launched (refused or unanswered) | {result['launched']} ({refused}) |",
        f"| callouts escalated to the secondary list | {db['escalated']} |",
        f"| alerts handed to the provider | {db['handed']} |",
        f"| seconds from due to handed over: p50, p95, max | {percentile(lateness, 50):.2f}, "
        f"{percentile(lateness, 95):.2f}, {max(lateness, default=float('nan')):.2f} |",
        f"| alerts more than a minute overdue at the end; escalations overdue | {db['overdue']}; "
        f"{db['late_escalations']} |",
        f"| worker crashes (Unrecoverable error, worker exits, the stack stopping) | {crashed} |",
        f"| restarts by ./muster run | {restarts} |",
        f"| log: lines at WARNING and above; tracebacks; INFO lines a minute | {log['warnings']}; "
        f"{log['tracebacks']}; {log['info_per_minute']:.1f} |",
        "",
        "Result: " + ("**passed**: no worker crash and no alert left behind." if crashed == 0 and db["overdue"] == 0
                      else "**FAILED**: a worker crashed or an alert was left behind."),
    ]
    if result["stack_stopped"]:
        lines += ["", "The stack stopped before the end; the last lines of its log:", "", "```", log["tail"], "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    commit = subprocess.run(["git", "-C", args.checkout, "log", "-1", "--format=%h"], capture_output=True,
                            text=True).stdout.strip() or "an unknown commit"
    with tempfile.TemporaryDirectory(prefix="muster-soak-") as folder:
        var_dir, port = Path(folder), free_port()
        process, log_path = start_stack(args.checkout, var_dir, port)
        try:
            api = Api(f"http://127.0.0.1:{port}")
            unit = enrol_operator(api, wait_until_running(process, log_path))
            print(f"Soaking ./muster run on port {port} for {args.minutes:g} minutes; log: {log_path}", flush=True)
            result = soak(api, unit, process, args)
            # What is overdue is judged as the soak ends, not after the stop: no escalation fires while stopping.
            ended = datetime.now(UTC)
        finally:
            stop_stack(process)
        text = report(args, result, rows(var_dir, ended), log_counts(log_path, result["seconds"] / 60), commit)
        if os.environ.get("SOAK_KEEP_LOG"):
            Path(os.environ["SOAK_KEEP_LOG"]).write_text(log_path.read_text(errors="replace"))
    print(text)
    if args.output != "-":
        replace_section(Path(args.output), SECTION, text)


if __name__ == "__main__":
    main()
