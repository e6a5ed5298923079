"""Run a command with this process's clock moved: ``python -m tests.services.skewed_clock -30 -A config worker``.

As on a worker host whose clock is 30 s behind: time-machine moves ``time.time()`` and ``datetime.now()`` (the
clock Django, Celery and Muster read), and the clock keeps ticking from there. The database's clock is not moved.
"""

import sys
import time

import time_machine


def main() -> None:
    offset = float(sys.argv[1])
    time_machine.travel(time.time() + offset, tick=True).start()
    from celery.__main__ import main as celery

    sys.argv = ["celery", *sys.argv[2:]]
    celery()


if __name__ == "__main__":
    main()
