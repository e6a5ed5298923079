"""The embedded broker's candidates compared: kombu's filesystem transport, ours (config/broker.py), and kombu's
SQLAlchemy transport on a SQLite file.

Run it with ``.venv/bin/python bench/broker.py`` (SQLAlchemy is not a requirement: install it into a scratch
folder and put that on PYTHONPATH to include the third candidate; without it that column says so). Nothing else
is needed: no PostgreSQL, no Redis. Each candidate, in folders of its own:

* throughput: one process publishes ``--messages`` Celery-sized messages (about 1 KB) while another takes and
  acknowledges them as they come, as a worker does: messages a second, and the CPU each process used;
* errors: takes that raised, by exception (kombu's transport stops the worker on the first), such as a message
  read before its writer had finished it; also with a reader that looks again at once while larger messages are
  written, the most a reader can race a writer;
* idle: the CPU a consumer uses in 10 s of polling empty queues, at the polling interval ./muster run uses;
* killed mid-task: a consumer takes a message without acknowledging it (a task with acks_late) and is killed
  with SIGKILL; does a new consumer get the message again?
* priority: five messages at the send tasks' priority, then one at the sweep's: where the sweep's comes out.

It replaces the "Embedded broker" section of docs/benchmarks.md (``--output``) and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import resource
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))

from sections import replace_section  # noqa: E402

SECTION = "## Embedded broker"
SPAWN = multiprocessing.get_context("spawn")
QUEUE = "callouts"
POLLING_INTERVAL = 0.1
SEND_PRIORITY = 6  # callouts.tasks.SEND_PRIORITY, without importing Django here
CANDIDATES = {
    "kombu filesystem": "filesystem",
    "ours (config/broker.py)": "config.broker:Transport",
    "kombu SQLAlchemy on SQLite": "sqlalchemy",
}
# The race test: a reader looking again at once while 20 KB messages (a send task of 1,000 ids) are written.
RACE_MESSAGES = 300
RACE_PADDING = 20_000
# The size of a Celery message for send_deliveries with 100 ids, headers included.
BODY = {"args": [list(range(100000, 100100))], "kwargs": {}, "padding": "x" * 300}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="messages published and consumed per candidate")
    parser.add_argument("--repeats", type=int, default=3, help="throughput runs per candidate (the median is shown)")
    parser.add_argument("--output", default=str(BASE_DIR / "docs" / "benchmarks.md"), help="'-' to write none")
    return parser.parse_args()


def connection(transport: str, folder: str):
    from kombu import Connection

    if transport == "sqlalchemy":
        # kombu hands every transport option to SQLAlchemy's create_engine, which refuses polling_interval.
        conn = Connection(f"sqla+sqlite:///{folder}/broker.sqlite3")
        conn.transport.polling_interval = POLLING_INTERVAL
        return conn
    options = {"polling_interval": POLLING_INTERVAL, "store_processed": False}
    for key, sub in (("data_folder_in", "in"), ("data_folder_out", "in"), ("processed_folder", "processed"),
                     ("control_folder", "control")):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
        options[key] = os.path.join(folder, sub)
    conn = Connection("filesystem://", transport=transport, transport_options=options)
    # kombu's filesystem transport remembers in the process which queues it has bound, whatever the folder;
    # each measurement has folders of its own, so it must bind its queues there again.
    conn.transport.state.clear()
    return conn


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def produce(transport: str, folder: str, count: int, done, results, padding: int = 0) -> None:
    failed = {}
    with connection(transport, folder) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for number in range(count):
            try:
                queue.put({**BODY, "number": number, "more": "x" * padding})
            except Exception as error:  # in the web server, a task that was never enqueued
                failed[type(error).__name__] = failed.get(type(error).__name__, 0) + 1
        queue.close()
    done.set()
    results.put(("producer", (failed, cpu_seconds())))


def consume(transport: str, folder: str, count: int, done, results, tight: bool = False) -> None:
    """Take and acknowledge ``count`` messages: as a worker does (waiting at the polling interval when the queue
    is empty), or ``tight``: looking again at once, the most a reader can race a writer."""
    taken, errors = 0, {}
    deadline = time.monotonic() + 120
    with connection(transport, folder) as conn:
        queue = conn.SimpleQueue(QUEUE)
        while taken + sum(errors.values()) < count and time.monotonic() < deadline:
            try:
                (queue.get_nowait() if tight else queue.get(timeout=1)).ack()
                taken += 1
            except Empty:
                if done.is_set() and (tight or queue.qsize() == 0):  # some publishes failed: nothing more comes
                    break
                continue
            except Exception as error:  # what stops a Celery worker: counted here, so the run can go on
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
        queue.close()
    results.put(("consumer", (taken, errors, cpu_seconds())))


def idle(transport: str, folder: str, seconds: float, results) -> None:
    with connection(transport, folder) as conn:
        queues = [conn.SimpleQueue(name) for name in (QUEUE, "celery")]
        start = cpu_seconds()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(Empty):
                queues[0].get(timeout=deadline - time.monotonic())
        results.put(("idle", cpu_seconds() - start))


def hold_one(transport: str, folder: str, ready) -> None:
    """Take one message and never acknowledge it, as a worker does mid-task with acks_late, until killed."""
    with connection(transport, folder) as conn:
        queue = conn.SimpleQueue(QUEUE)
        queue.get(timeout=10)
        ready.set()
        time.sleep(60)


def run(target, *args, **kwargs):
    results = SPAWN.Queue()
    process = SPAWN.Process(target=target, args=(*args, results), kwargs=kwargs)
    process.start()
    return process, results


def throughput(transport: str, count: int, *, tight: bool = False, padding: int = 0) -> dict:
    with tempfile.TemporaryDirectory(prefix="muster-broker-") as folder:
        with connection(transport, folder) as conn:  # the tables or folders exist before either process starts
            conn.SimpleQueue(QUEUE).close()
        started = time.monotonic()
        done = SPAWN.Event()
        consumer, consumed = run(consume, transport, folder, count, done, tight=tight)
        producer, produced = run(produce, transport, folder, count, done, padding=padding)
        failed, producer_cpu = produced.get(timeout=300)[1]
        count -= sum(failed.values())
        taken, errors, consumer_cpu = consumed.get(timeout=300)[1]
        elapsed = time.monotonic() - started
        producer.join()
        consumer.join()
    return {"per_second": taken / elapsed, "errors": errors, "failed": failed, "taken": taken,
            "producer_ms": producer_cpu * 1000 / count,
            "consumer_ms": consumer_cpu * 1000 / count}


def idle_cpu(transport: str, seconds: float = 10) -> float:
    with tempfile.TemporaryDirectory(prefix="muster-broker-") as folder:
        process, results = run(idle, transport, folder, seconds)
        used = results.get(timeout=60)[1]
        process.join()
    return used / seconds * 100


def redelivered_after_kill(transport: str) -> bool:
    ctx = SPAWN
    with tempfile.TemporaryDirectory(prefix="muster-broker-") as folder:
        with connection(transport, folder) as conn:
            conn.SimpleQueue(QUEUE).put({"number": 1})
        ready = ctx.Event()
        holder = ctx.Process(target=hold_one, args=(transport, folder, ready))
        holder.start()
        ready.wait(30)
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
        with connection(transport, folder) as conn:
            queue = conn.SimpleQueue(QUEUE)
            try:
                queue.get(timeout=5).ack()
                return True
            except Empty:
                return False


def sweep_position(transport: str) -> int:
    with tempfile.TemporaryDirectory(prefix="muster-broker-") as folder, connection(transport, folder) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for number in range(5):
            queue.put({"number": number}, priority=SEND_PRIORITY)
        queue.put({"number": "sweep"})
        order = []
        for _ in range(6):
            message = queue.get(timeout=5)
            message.ack()
            order.append(message.payload["number"])
        return order.index("sweep") + 1


def merged(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for name, n in count.items():
            total[name] = total.get(name, 0) + n
    return total


def available(transport: str) -> bool:
    if transport != "sqlalchemy":
        return True
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        return False
    return True


def measure(transport: str, count: int, repeats: int) -> dict:
    print(f"Measuring {transport} ...", file=sys.stderr, flush=True)
    runs = sorted((throughput(transport, count) for _ in range(repeats)), key=lambda r: r["per_second"])
    result = runs[len(runs) // 2]
    result["errors"] = merged([r["errors"] for r in runs])
    result["failed"] = merged([r["failed"] for r in runs])
    race = throughput(transport, RACE_MESSAGES, tight=True, padding=RACE_PADDING)
    result["race_errors"] = merged([race["errors"], {f"{name} on publish": n for name, n in race["failed"].items()}])
    result["idle_percent"] = idle_cpu(transport)
    result["redelivered"] = redelivered_after_kill(transport)
    result["sweep_position"] = sweep_position(transport)
    return result


def errors(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "0"


def report(results: dict[str, dict | None], count: int, seconds: float) -> str:
    names = list(results)
    cells = {
        "messages a second, published and taken at once (median run)": lambda r: f"{r['per_second']:.0f}",
        "CPU ms a message: publisher": lambda r: f"{r['producer_ms']:.2f}",
        "CPU ms a message: consumer": lambda r: f"{r['consumer_ms']:.2f}",
        "takes that raised, in all runs (each would stop a worker)": lambda r: errors(r["errors"]),
        "publishes that raised, in all runs": lambda r: errors(r["failed"]),
        f"takes that raised, tight reader, {RACE_MESSAGES} messages of 20 KB": lambda r: errors(r["race_errors"]),
        f"CPU of an idle consumer (polling every {POLLING_INTERVAL} s)": lambda r: f"{r['idle_percent']:.1f}%",
        "message again after its consumer was killed mid-task": lambda r: "yes" if r["redelivered"] else "no",
        "place of the sweep queued behind 5 sends": lambda r: f"{r['sweep_position']} of 6",
    }
    lines = [
        SECTION,
        "",
        f"Written by `bench/broker.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; it took {seconds:.0f} s. "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, the SQLite file and message folders on "
        "the same disk. Each candidate in turn: one process publishes while another takes and acknowledges.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for label, cell in cells.items():
        lines.append(f"| {label} | " + " | ".join(
            cell(results[name]) if results[name] else "not installed" for name in names) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    results = {name: measure(transport, args.messages, args.repeats) if available(transport) else None
               for name, transport in CANDIDATES.items()}
    text = report(results, args.messages, time.monotonic() - started)
    print(text)
    if args.output != "-":
        replace_section(Path(args.output), SECTION, text)


if __name__ == "__main__":
    main()
