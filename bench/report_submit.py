"""Field-report submission timing on PostgreSQL, Redis, a real Celery worker, one beat and a real SMTP server.

Run it with ``./muster bench`` (after the callout benchmark) or alone with ``./muster bench-reports``. It
builds the scratch database, seeds a sector of two beats with patrols and a duty supervisor on call, the
shipped missing-person type, a safeguarding agency whose referral rule matches a child at high risk, and
starts a prefork worker and a beat as ``./muster run`` does, and an SMTP server (aiosmtpd) in this process.
Then it submits high-risk missing-child reports one at a time and measures what the officer's colleagues
wait for, from the moment the submit service is called:

* referral: until the SMTP server has accepted the safeguarding referral email;
* circulation: until the last alert due at once (every channel of every patrol and supervisor reached) has
  been handed to the provider (the recording channel stands in for it);
* both: the later of the two.

It replaces the "Field reports" section of docs/benchmarks.md (``--output``) and prints it.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import callout_fanout as stack  # noqa: E402  (the scratch database, the worker and beat, the CPU sampler)
from sections import replace_section  # noqa: E402

SECTION = "## Field reports"
PATROLS_PER_BEAT = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="reports submitted, one at a time")
    stack.add_stack_options(parser)
    return parser.parse_args()


class Inbox:
    """What the SMTP server accepted, with the time it accepted each message."""

    def __init__(self):
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler API)
        with self.lock:
            self.arrivals.append((time.time(), envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed() -> tuple[object, object, object]:
    """A sector of two beats, 10 patrols on each on duty and 2 duty supervisors, each reachable by push, SMS
    and email at once; the shipped missing-person type; a safeguarding agency with the demo's rule."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from reports.models import Area, CirculationPolicy, PartnerAgency, ReferralRule, ReportType, ReviewPolicy
    from units.models import ContactMethod, FixedRule, Membership, Person, Unit
    from units.services import unit_ensure_tiers

    user_model = get_user_model()
    now = timezone.now()

    def unit_of(code: str, size: int) -> Unit:
        unit = Unit.objects.create(name=f"Bench {code}", code=code, timezone="Europe/London")
        primary = unit_ensure_tiers(unit=unit)[0]
        users = user_model.objects.bulk_create(user_model(username=f"{code}-{n}", password="!") for n in range(size))
        people = Person.objects.bulk_create(Person(user=u, full_name=f"Officer {code} {n}", badge_number=f"{code}{n}")
                                            for n, u in enumerate(users))
        Membership.objects.bulk_create(Membership(unit=unit, person=p) for p in people)
        ContactMethod.objects.bulk_create(
            ContactMethod(person=p, kind=kind, address=address, verified_at=now)
            for n, p in enumerate(people)
            for kind, address in (("push", f"device-{code}-{n}"), ("sms", f"+447700{900000 + n:06d}"),
                                  ("email", f"{code}-{n}@police.example"))
        )
        FixedRule.objects.create(tier=primary, role=Membership.Role.MEMBER)
        return unit

    supervisors = unit_of("sup", 2)
    sector = Area.objects.create(code="sector", name="Sector", kind=Area.Kind.SECTOR, supervisor_unit=supervisors)
    beat = None
    for n, west in enumerate((-0.20, -0.10)):
        box = [[west, 51.40], [west + 0.1, 51.40], [west + 0.1, 51.50], [west, 51.50], [west, 51.40]]
        beat = Area.objects.create(code=f"beat{n}", name=f"Beat {n}", parent=sector, supervisor_unit=supervisors,
                                   patrol_unit=unit_of(f"beat{n}", PATROLS_PER_BEAT),
                                   boundary={"type": "Polygon", "coordinates": [box]})
    missing = ReportType.objects.get(slug="missing-person")
    CirculationPolicy.objects.create(report_type=missing, grading="high", reach=CirculationPolicy.Reach.SECTOR)
    ReviewPolicy.objects.create(report_type=missing, grading="high", within_minutes=60)
    agency = PartnerAgency.objects.create(name="Children's Services", email="safeguarding@council.example")
    ReferralRule.objects.create(
        name="Missing child at risk", report_type=missing, agency=agency, priority="urgent", act_within_minutes=60,
        condition=[{"field": "grading", "op": "in", "value": ["medium", "high"]},
                   {"field": "age", "op": "lt", "value": 18}],
        shared_fields=["name", "age", "description", "last_seen_place", "last_seen_at", "grading", "rationale"],
    )
    author = unit_of("author", 1).memberships.get().person
    return missing, author, beat


def child(n: int) -> dict:
    return {
        "name": f"Child {n}", "age": 9, "description": "Slim, short dark hair, blue school jumper",
        "clothing": "Blue jumper, grey trousers", "last_seen_place": "Brixton Road by the Tube station",
        "last_seen_at": "2026-11-28T15:30:00+00:00", "vulnerabilities": ["Under 12"],
        "risk_factors": "Not returned from school; no history of going missing", "grading": "high",
        "rationale": "Young child, out of character, dark and cold",
    }


def submit_runs(missing, author, runs: int, inbox: Inbox, neighbours) -> dict[str, list[float]]:
    results = {"referral": [], "circulation": [], "both": [], "cpu": []}
    for n in range(runs):
        neighbours.wait_quiet()
        cpu_before = neighbours.stack_cpu()
        referral, handed, results["alerts"] = one_report(missing, author, n, inbox)
        results["referral"].append(referral)
        results["circulation"].append(handed)
        results["both"].append(max(referral, handed))
        results["cpu"].append((neighbours.stack_cpu() - cpu_before) * 1000)
    return results


def one_report(missing, author, n: int, inbox: Inbox) -> tuple[float, float, int]:
    """Seconds to the referral email and to the last circulation alert handed over, and how many alerts."""
    from callouts.models import Delivery
    from reports.models import ReportVersion
    from reports.services.filing import Place, report_submit

    mails_before = inbox.count()
    started = time.time()
    report, _ = report_submit(report_id=uuid.uuid4(), report_type=missing, actor=author.user, data=child(n),
                              place=Place(latitude=51.45, longitude=-0.15, accuracy_m=10), captured_at=None)
    version = ReportVersion.objects.filter(report_id=report.pk, number=1)
    stack.wait_until(lambda: inbox.count() > mails_before, what=f"the referral email of report {n}")
    stack.wait_until(lambda: version.filter(processed_at__isnull=False).exists(), what=f"the processing of {n}")
    alerts = circulated(report.pk)
    stack.wait_until(lambda: not alerts.exclude(state=Delivery.State.SENT).exists(),
                     what=f"the circulation of report {n}")
    handed = max(alerts.values_list("sent_at", flat=True)).timestamp() - started
    return inbox.arrivals[mails_before][0] - started, handed, alerts.count()


def circulated(report_id):
    """The alerts of a report's circulation: one notice topic per person it went to."""
    from callouts.models import Delivery
    from reports.models import CirculationRecipient

    ids = CirculationRecipient.objects.filter(circulation__report_id=report_id).values_list("id", flat=True)
    return Delivery.objects.filter(topic__in=[f"circulation:{pk}" for pk in ids])


def submit_queries(missing, author) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.services.filing import Place, report_submit

    with CaptureQueriesContext(connection) as captured:
        report_submit(report_id=uuid.uuid4(), report_type=missing, actor=author.user, data=child(0),
                      place=Place(latitude=51.45, longitude=-0.15, accuracy_m=10), captured_at=None)
    return len(captured)


def section(args, results: dict, queries: int, share: float, busy: int, elapsed: float) -> str:
    p95 = stack.percentile(results["both"], 95)
    lines = [
        f"{SECTION}: submit to referral email and circulation",
        "",
        f"Written by `bench/report_submit.py` (part of `./muster bench`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"it took {elapsed:.0f} s. Same machine and stack as above: {args.concurrency} worker processes, one beat, "
        "and an SMTP server (aiosmtpd) in the benchmark's process accepting the referral email.",
        f"Other processes used {share:.0%} of the machine's CPU meanwhile; {busy} of {args.runs} runs started "
        "without a quiet second.",
        "",
        f"Each run submits a high-risk missing-child report (the shipped missing-person type) in a beat of a "
        f"sector with {2 * PATROLS_PER_BEAT} patrols and 2 duty supervisors on duty, each reachable by push, SMS "
        f"and email at once; the sector-wide circulation is {results['alerts']} alerts. A safeguarding rule "
        "(grading medium or high, age under 18) refers it by email. Seconds from calling the submit service:",
        "",
        "| Until | reports | p50 | p95 | max |",
        "|---|---|---|---|---|",
        stack.row("the referral email is accepted by the SMTP server", results["referral"], 50, 95),
        stack.row("every circulation alert is handed to the provider", results["circulation"], 50, 95),
        stack.row("both", results["both"], 50, 95),
        "",
        f"Target p95 ≤ 2 s: **{'met' if p95 <= 2 else 'missed'}** ({p95:.2f} s). "
        f"CPU used by the worker, beat and PostgreSQL per report (median): "
        f"{stack.percentile(results['cpu'], 50):.0f} ms. The submit itself is {queries} queries "
        "(the report, its first version, the audit entries; circulation, referral and review happen in the task "
        "it enqueues on commit, and again in the sweep if that task is lost).",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's section of the file, keeping the callout benchmark's part and the sections after
    it (the embedded broker's and the soak's)."""
    replace_section(path, SECTION, text)


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    url = stack.bench_database_url()
    stack.recreate_database(url)
    port = free_port()
    os.environ.update({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port),
                       "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"})
    with tempfile.TemporaryDirectory(prefix="muster-bench-") as var_dir:
        stack.setup_django(url, var_dir)
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command otherwise

        missing, author, _ = seed()
        queries = submit_queries(missing, author)
        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=port)
        smtp.start()
        processes = stack.Processes(Path(var_dir))
        try:
            stack.start_stack(processes, args.concurrency)
            neighbours = stack.Neighbours({process.pid for process in processes.started})
            neighbours.start()
            stack.wait_until(lambda: inbox.count() >= 1, what="the first report's referral email")
            results = submit_runs(missing, author, args.runs, inbox, neighbours)
        finally:
            processes.stop()
            smtp.stop()
        text = section(args, results, queries, neighbours.share(), neighbours.busy_starts,
                       time.monotonic() - started)
    print(text)
    if args.output != "-":
        write_section(Path(args.output), text)
        print(f"bench: wrote {args.output}")
    if not args.keep:
        stack.drop_database(url)


if __name__ == "__main__":
    main()
