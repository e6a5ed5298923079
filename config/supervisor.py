"""Keeps a few long-running programs going: one that exits is started again after a back-off, the others run on.

``./muster run`` uses it (config/stack.py) for the web server, the Celery worker and beat and the mail sink: a
worker that dies must not take the web server down with it mid-callout. Each program leads a process group of its
own, so stopping it also stops what it started (Celery's pool processes, runserver's reloaded child) and Ctrl-C in
the terminal reaches only the supervisor, which then stops them in order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    """Seconds before a restart: ``first``, doubling after each quick exit up to ``longest``; a program that ran
    for ``stable`` seconds or more counts as healthy again and is restarted after ``first``."""

    first: float = 1.0
    longest: float = 60.0
    stable: float = 60.0

    def delay(self, quick_exits: int) -> float:
        return min(self.first * 2 ** max(quick_exits - 1, 0), self.longest)


@dataclass
class Program:
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    quick_exits: int = 0
    restart_at: float | None = None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
        return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class Supervisor:
    def __init__(self, programs: list[Program], *, backoff: Backoff | None = None,
                 clock: Callable[[], float] = time.monotonic, cwd: str | None = None, stdout: int | None = None):
        self.programs = programs
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.cwd = cwd
        self.stdout = stdout
        self.stopping = threading.Event()

    def start(self) -> None:
        for program in self.programs:
            self._spawn(program)

    def check(self) -> None:
        """Notice programs that exited and start again those whose back-off has passed; call it often."""
        now = self.clock()
        for program in self.programs:
            if program.restart_at is None and program.process.poll() is not None:
                self._exited(program, now)
            if program.restart_at is not None and now >= program.restart_at:
                try:
                    self._spawn(program)
                except OSError as error:  # the program's file is gone, or the machine is out of processes
                    program.quick_exits += 1
                    program.restart_at = now + self.backoff.delay(program.quick_exits)
                    log.error("%s could not be started (%s); trying again in %g s", program.name, error,
                              program.restart_at - now)

    def run(self, poll_seconds: float = 0.2) -> None:
        """Check until ``stopping`` is set (by a signal handler or another thread); then call stop()."""
        while not self.stopping.wait(poll_seconds):
            self.check()

    def stop(self, grace_seconds: float = 20.0) -> None:
        """Each leader is asked to stop first, so Celery's main process can shut its pool down and hand unfinished
        tasks back; whatever is left of a group after ``grace_seconds`` is killed."""
        running = [p for p in self.programs if p.restart_at is None and p.process and p.process.poll() is None]
        for program in running:
            with contextlib.suppress(ProcessLookupError):
                program.process.terminate()
        deadline = time.monotonic() + grace_seconds
        for program in running:
            try:
                program.process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", program.name, grace_seconds)
        # runserver's reloaded child outlives its parent unless told to stop with the group.
        for program in running:
            self._kill_group(program, signal.SIGTERM)

    def _exited(self, program: Program, now: float) -> None:
        ran = now - program.started_at
        program.quick_exits = 0 if ran >= self.backoff.stable else program.quick_exits + 1
        delay = self.backoff.delay(program.quick_exits)
        program.restart_at = now + delay
        program.restarts += 1
        # What the leader left behind (pool processes, a reloaded child holding the port) goes with it.
        self._kill_group(program, signal.SIGKILL)
        log.error("%s exited unexpectedly (%s) after %.0f s; restart %d in %g s",
                  program.name, describe_exit(program.process.returncode), ran, program.restarts, delay)

    def _spawn(self, program: Program) -> None:
        env = {**os.environ, **(program.env or {})}
        program.started_at = self.clock()
        program.restart_at = None
        program.process = subprocess.Popen(program.argv, cwd=self.cwd, env=env, stdout=self.stdout,
                                           stderr=subprocess.STDOUT if self.stdout is not None else None,
                                           start_new_session=True)

    @staticmethod
    def _kill_group(program: Program, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(program.process.pid, signum)
