"""The restart loop of ./muster run, with short-lived real child processes and a clock the test moves."""

import logging
import os
import signal
import sys
import time

import pytest

from config.supervisor import Backoff, Program, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def exits_with(status: int) -> list[str]:
    return [sys.executable, "-c", f"import sys; sys.exit({status})"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def supervised(clock):
    started = []

    def make(*programs: Program, backoff: Backoff | None = None) -> Supervisor:
        supervisor = Supervisor(list(programs), backoff=backoff or Backoff(first=1, longest=8, stable=30),
                                clock=clock)
        supervisor.start()
        started.append(supervisor)
        return supervisor

    yield make
    for supervisor in started:
        supervisor.stop(grace_seconds=5)


def exited(program: Program) -> None:
    program.process.wait(timeout=10)


def gone(pid: int) -> bool:
    """True once the process has exited (a zombie counts: its parent has not collected it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_worker_that_exits_is_started_again_after_the_backoff_and_the_web_server_runs_on(
        supervised, clock, caplog):
    web, worker = Program("web server", SLEEPER), Program("worker", exits_with(3))
    supervisor = supervised(web, worker)
    web_pid, first_worker = web.process.pid, worker.process
    exited(worker)

    with caplog.at_level(logging.INFO, logger="config.supervisor"):
        supervisor.check()
    assert [r.getMessage() for r in caplog.records] == [
        "worker exited unexpectedly (exit status 3) after 0 s; restart 1 in 1 s"]
    assert caplog.records[0].levelname == "ERROR"

    clock.now += 0.5
    supervisor.check()
    assert worker.process is first_worker

    clock.now += 0.5
    supervisor.check()
    assert worker.process is not first_worker and worker.restarts == 1
    assert web.process.pid == web_pid and web.process.poll() is None


def test_quick_exits_double_the_wait_up_to_the_longest_and_a_long_run_resets_it(supervised, clock, caplog):
    worker = Program("worker", exits_with(1))
    supervisor = supervised(worker)
    waits = []
    for _ in range(5):
        exited(worker)
        supervisor.check()
        waits.append(worker.restart_at - clock.now)
        clock.now = worker.restart_at
        supervisor.check()
    assert waits == [1, 2, 4, 8, 8]

    clock.now += 30  # this run lasted the stable time: the worker was healthy, its next exit is a first one
    exited(worker)
    supervisor.check()
    assert worker.restart_at - clock.now == 1
    assert "restart 6 in 1 s" in caplog.text


def test_a_killed_program_is_reported_with_its_signal(supervised, caplog):
    beat = Program("beat", SLEEPER)
    supervisor = supervised(beat)
    os.kill(beat.process.pid, signal.SIGKILL)
    exited(beat)
    supervisor.check()
    assert "beat exited unexpectedly (killed by SIGKILL)" in caplog.text


def test_what_a_dead_program_left_behind_is_stopped_before_it_starts_again(supervised, tmp_path):
    # A Celery worker killed with SIGKILL leaves its pool processes; runserver's reloaded child holds the port.
    pid_file = tmp_path / "child.pid"
    leaves_a_child = [sys.executable, "-c", "import subprocess, sys; "
                      f"child = subprocess.Popen({SLEEPER!r}); open({str(pid_file)!r}, 'w').write(str(child.pid))"]
    worker = Program("worker", leaves_a_child)
    supervisor = supervised(worker)
    exited(worker)
    child = int(pid_file.read_text())
    assert not gone(child)
    supervisor.check()
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)


def test_stop_asks_each_program_to_stop_and_ends_what_it_started(clock, tmp_path):
    marker = tmp_path / "stopped"
    # A worker finishing its tasks on SIGTERM, with a pool process of its own.
    graceful = [sys.executable, "-c", "import signal, subprocess, sys, time\n"
                f"pool = subprocess.Popen({SLEEPER!r})\n"
                f"def finish(*_): open({str(marker)!r}, 'w').write('done'); sys.exit(0)\n"
                "signal.signal(signal.SIGTERM, finish)\n"
                f"open({str(tmp_path / 'pool.pid')!r}, 'w').write(str(pool.pid))\n"
                "time.sleep(60)"]
    worker = Program("worker", graceful)
    supervisor = Supervisor([worker, Program("web server", SLEEPER)], clock=clock)
    supervisor.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "pool.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pool = int((tmp_path / "pool.pid").read_text())

    supervisor.stop(grace_seconds=5)

    assert marker.read_text() == "done"
    assert all(program.process.poll() is not None for program in supervisor.programs)
    deadline = time.monotonic() + 10
    while not gone(pool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pool)


def test_a_program_that_cannot_be_started_again_is_retried_later(supervised, clock, tmp_path, caplog):
    worker = Program("worker", exits_with(1))
    supervisor = supervised(worker)
    exited(worker)
    supervisor.check()
    worker.argv = [str(tmp_path / "no-such-program")]
    clock.now = worker.restart_at
    supervisor.check()
    assert "worker could not be started" in caplog.text and worker.restart_at == clock.now + 2
