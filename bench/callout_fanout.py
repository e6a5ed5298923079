"""Callout fan-out and escalation timing on PostgreSQL, Redis, a real Celery worker and one beat.

Run it with ``./muster bench``, which checks that PostgreSQL and Redis answer first. It builds a scratch
database (``muster_bench`` on the server of DATABASE_URL), seeds units of 200 and 1,000 people with push, SMS
and voice each (no delay on any), starts a prefork worker and a beat exactly as ``./muster run`` does, and
measures what an operator waits for:

* fan-out: from ``Callout.launched_at`` to the last delivery of the first list handed to the provider
  (``Delivery.sent_at``; the recording channel stands in for the provider);
* escalation lateness: from a callout's ``escalate_at`` deadline to the sweep that alerted the next list
  (``Recipient.notified_at``) and to the last of those alerts handed to the provider. Measured with nothing
  else going on, and with the deadline falling while a large fan-out is being sent;
* queries: those of the launch and of an accept in this process, and those of one send.

It writes docs/benchmarks.md (``--output``) and prints the same tables.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

BENCH_DB = "muster_bench"
START_SECONDS = 60
SETTLE_SECONDS = 120
POLL_SECONDS = 0.25
# The bar set by the brief, from Grafana OnCall's issue tracker: 24.5 s to email 100 people from one alert.
ONCALL_BAR = "Grafana OnCall: 24.5 s to email 100 people from one alert"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200,1000", help="people on the first list, comma-separated")
    parser.add_argument("--runs", type=int, default=20, help="callouts launched to each list of up to 200 people")
    parser.add_argument("--large-runs", type=int, default=6, help="callouts launched to each larger list")
    parser.add_argument("--idle-escalations", type=int, default=20, help="escalations timed with nothing else on")
    add_stack_options(parser)
    return parser.parse_args()


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark on this stack takes: its worker, where it writes, whether its database stays."""
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument("--output", default=str(BASE_DIR / "docs" / "benchmarks.md"), help="'-' to write none")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")


# ---- the scratch database, and Django on it ------------------------------------------------------------


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench: DATABASE_URL must point at a PostgreSQL server (./muster bench sets it)")
    return urlsplit(url)._replace(path=f"/{BENCH_DB}").geturl()


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database(url: str) -> None:
    import psycopg

    admin = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def setup_django(url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["MUSTER_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ---- seeding -------------------------------------------------------------------------------------------


def seed_unit(code: str, primary: int, secondary: int):
    """Members on primary, team leaders on secondary, each reachable by push, SMS and voice at once."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from units.models import ContactMethod, FixedRule, Membership, Person, Unit
    from units.services import unit_ensure_tiers

    user_model = get_user_model()
    unit = Unit.objects.create(name=f"Bench {code}", code=code, timezone="Europe/London")
    first, second = unit_ensure_tiers(unit=unit)[:2]
    roles = [Membership.Role.MEMBER] * primary + [Membership.Role.TEAM_LEADER] * secondary
    users = user_model.objects.bulk_create(user_model(username=f"{code}-{n}", password="!") for n in range(len(roles)))
    people = Person.objects.bulk_create(
        Person(user=user, full_name=f"Officer {code} {n:04d}", badge_number=f"{code}-{n:05d}")
        for n, user in enumerate(users)
    )
    Membership.objects.bulk_create(Membership(unit=unit, person=p, role=r) for p, r in zip(people, roles, strict=True))
    now = timezone.now()
    ContactMethod.objects.bulk_create(
        ContactMethod(person=person, kind=kind, address=address, verified_at=now)
        for n, person in enumerate(people)
        for kind, address in (("push", f"device-{code}-{n}"), ("sms", f"+447700{n:06d}"), ("voice", f"+447700{n:06d}"))
    )
    FixedRule.objects.create(tier=first, role=Membership.Role.MEMBER)
    FixedRule.objects.create(tier=second, role=Membership.Role.TEAM_LEADER)
    return unit


# ---- the worker and beat -------------------------------------------------------------------------------


@dataclass
class Processes:
    log_dir: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, args: list[str], marker: str, **env: str) -> None:
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args], cwd=BASE_DIR,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, **env})
        self.started.append(process)
        deadline = time.monotonic() + START_SECONDS
        while marker not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: celery {name} did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def start_stack(processes: Processes, concurrency: int) -> None:
    from config.celery import app

    app.control.purge()
    processes.start("worker", ["worker", "--pool", "prefork", "--concurrency", str(concurrency), "-l", "info",
                               "-Q", "callouts,celery", "-n", f"bench-{os.getpid()}@%h",
                               "--without-gossip", "--without-mingle"], " ready.")
    # Beat logs each sweep it sends at DEBUG (config/log_filters.py): that line says it is sending.
    processes.start("beat", ["beat", "-l", "debug", "-s", str(processes.log_dir / "beat-schedule")],
                    "Sending due task sweep", LOG_LEVEL="DEBUG")


class Neighbours(threading.Thread):
    """CPU time used meanwhile by processes that are not the benchmark's (another test run on the machine):
    sampled from /proc twice a second; PostgreSQL's processes count as the benchmark's."""

    INTERVAL = 0.5

    def __init__(self, own_groups: set[int]):
        super().__init__(daemon=True)
        self.own_groups = own_groups | {os.getpgrp()}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.recent: deque[float] = deque([1.0, 1.0], maxlen=2)  # busy until sampled
        self.busy_starts = 0
        self.wait_budget = 90.0  # seconds of waiting for quiet in the whole run, so that it still ends in minutes
        self.started = time.monotonic()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.INTERVAL):
            now = self.sample()
            used = sum(cpu - self.last.get(pid, self.first.get(pid, cpu)) for pid, cpu in now.items())
            self.recent.append(used / (self.INTERVAL * os.cpu_count()))
            for pid, cpu in now.items():
                self.first.setdefault(pid, cpu)
                self.last[pid] = cpu

    def wait_quiet(self, threshold: float = 0.1, seconds: float = 10) -> None:
        """Start the next run when other processes have left the machine alone for a second, or after
        ``seconds`` anyway (counted in the report)."""
        started = time.monotonic()
        deadline = started + min(seconds, self.wait_budget)
        while max(self.recent) > threshold:
            if time.monotonic() > deadline:
                self.busy_starts += 1
                break
            time.sleep(0.1)
        self.wait_budget -= time.monotonic() - started

    def sample(self) -> dict[int, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                comm, rest = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            fields = rest.split()
            if int(fields[2]) in self.own_groups or comm.endswith("(postgres"):
                continue
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
        return found

    def stack_cpu(self) -> float:
        """CPU seconds used so far by the worker, beat and PostgreSQL, counting backends that have exited
        (their time is added to the postmaster's children's time when it reaps them)."""
        ticks, total = os.sysconf("SC_CLK_TCK"), 0
        for entry in Path("/proc").iterdir():
            try:
                comm, rest = (entry / "stat").read_text().rsplit(")", 1) if entry.name.isdigit() else ("", "")
            except OSError:
                continue
            fields = rest.split()
            if comm.endswith("(postgres"):
                total += sum(int(field) for field in fields[11:15])
            elif fields and int(fields[2]) in self.own_groups - {os.getpgrp()}:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def share(self) -> float:
        """Their CPU seconds as a share of the machine's over the time sampled."""
        self.stopped.set()
        used = sum(self.last[pid] - self.first[pid] for pid in self.last)
        return used / ((time.monotonic() - self.started) * os.cpu_count())


# ---- measurements --------------------------------------------------------------------------------------


def wait_until(condition, seconds: float = SETTLE_SECONDS, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"bench: gave up after {seconds} s waiting for {what}")
        # Every result is read from the rows' own timestamps, so polling less often changes no figure; it
        # only keeps this process and PostgreSQL answering it from taking CPU from the stack it measures.
        time.sleep(POLL_SECONDS)


def settled(deliveries) -> bool:
    return not deliveries.filter(state__in=["pending", "sending"]).exists()


def launch(unit, operator):
    from callouts.services.callouts import callout_launch

    return callout_launch(unit=unit, message="Benchmark: firearms incident, Elm Street", actor=operator)


def fan_out_seconds(callout) -> float:
    from django.db.models import Max

    from callouts.models import Delivery

    deliveries = Delivery.objects.filter(recipient__callout=callout)
    wait_until(lambda: settled(deliveries), what=f"the fan-out of callout {callout.pk}")
    states = set(deliveries.values_list("state", flat=True))
    if states != {"sent"}:
        sys.exit(f"bench: callout {callout.pk} ended with deliveries {states}, not all sent")
    return (deliveries.aggregate(last=Max("sent_at"))["last"] - callout.launched_at).total_seconds()


def set_deadline(callout, seconds: float) -> datetime:
    """Waits are whole minutes in the policy; the frozen copy on the callout is shortened to seconds."""
    from django.utils import timezone

    from callouts.models import Callout

    deadline = timezone.now() + timedelta(seconds=seconds)
    frozen = callout.frozen_policy
    policy = replace(frozen, waits={**frozen.waits, 1: max(1, round(seconds))}).to_json()
    Callout.objects.filter(pk=callout.pk).update(policy=policy, escalate_at=deadline)
    return deadline


def escalation_lateness(callout, deadline: datetime) -> tuple[float, float]:
    """Seconds from the deadline to the next list being alerted, and to its last alert handed over."""
    from django.db.models import Max, Min

    from callouts.models import Delivery

    secondary = Delivery.objects.filter(recipient__callout=callout, recipient__tier_position=2)
    wait_until(lambda: secondary.exists() and settled(secondary), what=f"the escalation of callout {callout.pk}")
    notified = callout.recipients.filter(tier_position=2).aggregate(first=Min("notified_at"))["first"]
    handed = secondary.aggregate(last=Max("sent_at"))["last"]
    return (notified - deadline).total_seconds(), (handed - deadline).total_seconds()


def cancel(*callouts) -> None:
    from callouts.services.callouts import callout_cancel

    for callout in callouts:
        callout_cancel(callout=callout, actor=callout.launched_by, reason="Benchmark run over")


def primary_paged(callout) -> None:
    from callouts.models import Delivery

    deliveries = Delivery.objects.filter(recipient__callout=callout)
    wait_until(lambda: settled(deliveries), what=f"the first list of callout {callout.pk}")


def idle_escalations(unit, operator, count: int, neighbours: Neighbours) -> list[tuple[float, float]]:
    """``count`` small callouts whose deadlines fall over ten seconds, with nothing else going on."""
    neighbours.wait_quiet()
    callouts = [launch(unit, operator) for _ in range(count)]
    for callout in callouts:
        primary_paged(callout)
    deadlines = [set_deadline(c, 1.5 + 10 * random.random()) for c in callouts]
    results = [escalation_lateness(c, d) for c, d in zip(callouts, deadlines, strict=True)]
    cancel(*callouts)
    return results


def loaded_runs(unit, small_unit, operator, runs: int, neighbours: Neighbours) -> tuple[list, list]:
    """Each run launches to ``unit`` while a small callout's deadline falls during that fan-out."""
    fan_outs, escalations, cpu = [], [], []
    for _ in range(runs):
        neighbours.wait_quiet()
        small = launch(small_unit, operator)
        primary_paged(small)
        deadline = set_deadline(small, 0.2 + 0.6 * random.random())
        cpu_before = neighbours.stack_cpu()
        big = launch(unit, operator)
        fan_outs.append(fan_out_seconds(big))
        cpu.append(neighbours.stack_cpu() - cpu_before)
        escalations.append(escalation_lateness(small, deadline))
        cancel(big, small)
    return fan_outs, escalations, cpu


def query_counts(unit, operator) -> dict[str, int]:
    """Queries in this process: the launch, one send task's chunk of deliveries, and the first accept."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from callouts.models import Delivery
    from callouts.services.callouts import callout_respond
    from callouts.tasks import SEND_CHUNK, send_deliveries

    with CaptureQueriesContext(connection) as launched:
        callout = launch(unit, operator)
    ids = list(Delivery.objects.filter(recipient__callout=callout).order_by("id").values_list("id", flat=True))
    with CaptureQueriesContext(connection) as sent:
        send_deliveries(ids[:SEND_CHUNK])  # the task's own code, run here
    recipient = callout.recipients.filter(tier_position=1).first()
    with CaptureQueriesContext(connection) as accepted:
        callout_respond(recipient=recipient, response="accept", channel="sms")
    cancel(callout)
    return {"launch": len(launched), "accept": len(accepted), "send": len(sent) / min(len(ids), SEND_CHUNK)}


# ---- report --------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def row(label: str, values: list[float], *points: float) -> str:
    cells = " | ".join(f"{percentile(values, p):.2f}" for p in points)
    return f"| {label} | {len(values)} | {cells} | {max(values):.2f} |"


def verdict(results: dict, which: str) -> str:
    index = 0 if which == "fired" else 1
    samples = {"with nothing else running": results["idle"]}
    samples.update({f"during a {size}-person fan-out": r["escalations"] for size, r in results["sizes"].items()})
    parts = [f"{'met' if percentile([s[index] for s in v], 99) <= 2 else 'missed'} {label}"
             for label, v in samples.items()]
    return ", ".join(parts)


def versions() -> dict[str, str]:
    import celery
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    import redis

    from config.celery import app

    with app.connection_for_write() as conn:
        redis_version = conn.default_channel.client.info("server")["redis_version"]
    return {"Python": platform.python_version(), "Django": django.get_version(), "Celery": celery.__version__,
            "PostgreSQL": postgres, "Redis server": redis_version, "redis-py": redis.__version__}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores (`nproc`: {os.cpu_count()}), {cpu}, {memory} GiB, {platform.platform()}"


def report(args, results: dict, queries: dict, elapsed: float) -> str:
    from django.conf import settings

    from callouts.tasks import SEND_CHUNK

    lines = [
        "# Benchmarks",
        "",
        "Written by `./muster bench` (`bench/callout_fanout.py`); run it again to regenerate this file.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the whole run took {elapsed:.0f} s",
        f"- Machine: {machine()}",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in versions().items())}",
        f"- Command: `{' '.join(['./muster bench', *sys.argv[1:]])}`",
        f"- Other processes on the machine used {results['neighbours']:.0%} of its CPU during the measurements"
        + (" (the timings below are slower than on a quiet machine)" if results["neighbours"] > 0.05 else "")
        + f"; each run waited up to 10 s (90 s in all) for a quiet second before starting, and "
        f"{results['busy_starts']} started without one",
        f"- Stack: PostgreSQL and Redis on this machine, one `celery worker --pool prefork --concurrency "
        f"{args.concurrency}` and one `celery beat` (the sweep every second), as `./muster run` starts them; "
        f"deliveries sent in tasks of {SEND_CHUNK}, claimed and handed over {settings.DELIVERY_SEND_BATCH} at a "
        "time; the recording channel stands in for the providers (one insert per batch); "
        f"DATABASE_CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']}.",
        f"- The bar: {ONCALL_BAR}. Muster's aim: 200 people on 3 channels handed to the providers in under 1 s "
        "(target p95 ≤ 2 s here), a handful of queries per recipient, escalations within 1 s of their deadline "
        "(target p99 ≤ 2 s).",
        "",
        "## Fan-out: launch to every alert of the first list handed to the provider",
        "",
        "Seconds from `launched_at` to the last `sent_at`, one callout at a time (a small callout escalating "
        "alongside each).",
        "",
        "| People × 3 channels | callouts | p50 | p95 | max | deliveries/s (median run) | CPU ms per delivery "
        "(median) | CPU floor on 2 idle cores |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, result in results["sizes"].items():
        fan = result["fan_out"]
        rate = size * 3 / percentile(fan, 50)
        cpu = percentile(result["cpu"], 50)
        lines.append(f"| {size} × 3 = {size * 3} | {len(fan)} | {percentile(fan, 50):.2f} | "
                     f"{percentile(fan, 95):.2f} | {max(fan):.2f} | {rate:.0f} | {cpu / (size * 3) * 1000:.2f} | "
                     f"{cpu / os.cpu_count():.2f} s |")
    lines += ["", "*CPU ms per delivery* is the CPU time the worker, beat and PostgreSQL used during a fan-out "
                  "(including the sweeps, and PostgreSQL answering this command's polling) over its deliveries; "
                  "unlike the seconds, it hardly changes when other processes load the machine. The *CPU floor* "
                  "is that time spread over every core: the fastest the fan-out could be on an idle machine."]
    if 200 in results["sizes"]:
        p95 = percentile(results["sizes"][200]["fan_out"], 95)
        lines += ["", f"Target p95 ≤ 2 s for 200 people on 3 channels: **{'met' if p95 <= 2 else 'missed'}** "
                      f"({p95:.2f} s); the aim of under 1 s: **{'met' if p95 < 1 else 'missed'}**."]
    lines += [
        "",
        "## Escalation lateness after the deadline",
        "",
        "Seconds after `escalate_at`: *fired* is when the sweep alerted the next list (`notified_at`), *handed* "
        "when the last of those alerts (2 people × 3 channels) reached the provider.",
        "",
        "| While | escalations | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
        row("nothing else runs: fired", [f for f, _ in results["idle"]], 50, 95, 99),
        row("nothing else runs: handed", [h for _, h in results["idle"]], 50, 95, 99),
    ]
    for size, result in results["sizes"].items():
        lines.append(row(f"a {size}-person fan-out is sent: fired", [f for f, _ in result["escalations"]],
                         50, 95, 99))
        lines.append(row(f"a {size}-person fan-out is sent: handed", [h for _, h in result["escalations"]],
                         50, 95, 99))
    lines += [
        "",
        "Percentiles are nearest-rank: with 20 values, p95 is the 19th and p99 the 20th (the maximum).",
        "",
        f"Target p99 ≤ 2 s for an escalation to fire: **{verdict(results, 'fired')}**; for its alerts to be "
        f"handed to the provider: **{verdict(results, 'handed')}**.",
        "",
        "## Queries",
        "",
        "| Operation | queries | per recipient |",
        "|---|---|---|",
    ]
    from callouts.tasks import SEND_CHUNK

    for size, counts in queries.items():
        lines.append(f"| launch to {size} | {counts['launch']} | {counts['launch'] / size:.3f} |")
    for size, counts in queries.items():
        lines.append(f"| first accept, {size} on the list | {counts['accept']} | — |")
    send = next(iter(queries.values()))["send"]
    lines += [
        f"| one send, in a task of {SEND_CHUNK} | {send:.2f} | {send * 3:.1f} for 3 channels |",
        "",
        "Launch and accept cost a fixed number of queries whatever the size of the list "
        "(`tests/services/test_callouts_queries.py` holds them to that on PostgreSQL). A send task loads its "
        "chunk in one query, then for each batch of DELIVERY_SEND_BATCH deliveries claims them in one short "
        "transaction committed before any provider is called (a SELECT ... FOR UPDATE SKIP LOCKED and an "
        "UPDATE), reads the batch again with the database's clock just before the hand-over (so a worker frozen "
        "since its claim sends nothing past its deadline or no longer wanted), hands them over, and marks those "
        "sent in one conditional UPDATE: a worker killed mid-batch "
        "leaves at most a batch with an unknown outcome, never sent again. The recording channel's insert is "
        "one of the queries; a real provider's channel replaces it with HTTP calls made side by side from a "
        "thread pool. On SQLite (not measured here) launch grows "
        "by a few queries per hundred people, because Django splits bulk inserts at SQLite's 999-variable "
        "limit: 36, 48 and 103 queries for 1, 200 and 1,000 people, against 36 for each on PostgreSQL.",
        "",
        *PROFILE_NOTES,
    ]
    return "\n".join(lines)


# Not re-measured by this command: what py-spy and cProfile showed when the fan-out was first profiled.
PROFILE_NOTES = [
    "## Where the time goes",
    "",
    "Profiled on 2026-11-28 with py-spy on the worker during this benchmark and cProfile around one "
    "process's sends; not re-measured by this command.",
    "",
    "- The fan-out is CPU-bound on two cores: both pool processes were busy throughout, and PostgreSQL's "
    "backends share the same cores. A commit costs 85 µs here (`pg_test_fsync`), so the disk is not it. "
    "Four pool processes instead of two gained about 10%.",
    "- A send used to be five queries and about 3.6 ms of one core, nearly all of it in Django and psycopg: "
    "the claim (~12% of the worker's time), reading the delivery back with its recipient and callout (~27%, "
    "mostly building that three-table query), the recording channel's insert and the audit entry auditlog "
    "wrote for it (~27%), and marking it sent (~11%). Celery, the connection opened per task "
    "(DATABASE_CONN_MAX_AGE=0) and Redis were a few per cent. From this profile, commit dd4e1a0 loads each "
    "task's 25 deliveries in one query, checks that an alert is still wanted inside the claim's UPDATE, and "
    "no longer audits the recording channel's outbox: three queries a send plus one a task. Measured at "
    "200 people on a quiet machine before it: p50 2.0–2.4 s, p95 2.1–2.4 s.",
    "- Then (a later session, on a slower machine: p95 4.98 s, 12.1 ms of CPU a delivery at 200 people) "
    "cProfile showed the claim's check that an alert is still wanted costing more than everything else: "
    "Django builds an UPDATE with joins as a subquery. The rows loaded with the chunk already say whether "
    "the alert is wanted, and whatever makes it unwanted later cancels its pending deliveries in the same "
    "transaction, so the claim's state condition is enough (2.7 ms a send in-process, from 5.3). Claiming, "
    "marking and recording a batch at a time (DELIVERY_SEND_BATCH=10) took it to 1.2 ms. This command "
    "used to poll PostgreSQL fifty times a second while it waited, which took CPU from the stack it "
    "measured; it polls four times a second now (the figures come from the rows' timestamps). Persistent "
    "connections (DATABASE_CONN_MAX_AGE=60) and batches of 25 instead of 10 made no measurable difference; "
    "send tasks of 100 deliveries instead of 25 did (10 callouts of 200 people: p50 1.54 → 0.92 s, CPU a "
    "delivery 3.65 → 2.08 ms), each task carrying a fixed cost of Celery and a fresh database connection.",
    "- With real providers the HTTP call, not the database, will dominate. Such channels are called side by "
    "side from a thread pool of DELIVERY_SEND_BATCH threads in each worker process, so a batch takes about "
    "as long as its slowest request: by arithmetic (not measured here), at 150 ms a request two processes "
    "hand over about 130 messages a second, where one at a time they managed 13. "
    "`tests/services/test_callouts_twilio.py` checks against the local Twilio double answering in 300 ms "
    "that requests are in flight side by side and each person gets one SMS.",
    "- Escalations no longer wait behind sends: send tasks carry a lower Redis priority than the sweep "
    "(callouts/tasks.py, SEND_PRIORITY). Before that, an escalation due during a 1,000-person fan-out fired "
    "8 s late. The alerts of the escalated list still queue behind the sends ahead of them, which is what "
    "the *handed* rows show.",
    "",
]


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))  # so the worker and beat are stopped
    sizes = [int(size) for size in args.sizes.split(",")]
    started = time.monotonic()
    url = bench_database_url()
    print(f"bench: scratch database {BENCH_DB}", flush=True)
    recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="muster-bench-") as var_dir:
        setup_django(url, var_dir)
        from django.contrib.auth import get_user_model

        operator = get_user_model().objects.create_user("bench-operator", password="bench-password-2026")
        small = seed_unit("esc", primary=2, secondary=2)
        units = {size: seed_unit(f"b{size}", primary=size, secondary=2) for size in sizes}
        query_counts(small, operator)  # the first launch of a process also fills Django's caches
        queries = {size: query_counts(unit, operator) for size, unit in units.items()}
        print(f"bench: seeded; queries {queries}", flush=True)

        processes = Processes(Path(var_dir))
        try:
            start_stack(processes, args.concurrency)
            neighbours = Neighbours({process.pid for process in processes.started})
            neighbours.start()
            results = {"idle": idle_escalations(small, operator, args.idle_escalations, neighbours), "sizes": {}}
            print("bench: idle escalations done", flush=True)
            for size, unit in units.items():
                runs = args.runs if size <= 200 else args.large_runs
                fan_out, escalations, cpu = loaded_runs(unit, small, operator, runs, neighbours)
                results["sizes"][size] = {"fan_out": fan_out, "escalations": escalations, "cpu": cpu}
                print(f"bench: {size} done: fan-out p50 {percentile(fan_out, 50):.2f} s", flush=True)
        finally:
            processes.stop()
        results["neighbours"], results["busy_starts"] = neighbours.share(), neighbours.busy_starts
        text = report(args, results, queries, time.monotonic() - started)
    print(text)
    if args.output != "-":
        path = Path(args.output)
        # The field-report benchmark (bench/report_submit.py) keeps its own section at the end of the file.
        reports = path.read_text().partition("\n## Field reports")[1:] if path.exists() else ("", "")
        path.write_text(text.rstrip("\n") + "\n" + "".join(reports))
        print(f"bench: wrote {args.output}")
    if not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
