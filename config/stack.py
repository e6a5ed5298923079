"""``./muster run``: migrate, seed the demo, then serve with a Celery worker, beat and a demo mail sink, each
started again if it exits (config/supervisor.py) until Ctrl-C.

Run as ``python -m config.stack`` by ``./muster run``, which has set the demo's environment (DEBUG, SITE_URL,
EMAIL_HOST, TWILIO_AUTH_TOKEN). PORT is the web server's port; EMAIL_PORT, when set, the mail sink's.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from config.supervisor import Program, Supervisor

BASE_DIR = Path(__file__).resolve().parent.parent
MAIL_SINK_PORT = 8025
WEB_START_SECONDS = 60
LOOPBACK = ("127.0.0.1", "localhost")

log = logging.getLogger("muster.run")


class StackError(Exception):
    """./muster run cannot start, for a reason the person at the terminal can act on."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def mail_sink_port(env: dict[str, str], default: int = MAIL_SINK_PORT) -> tuple[int | None, str]:
    """The mail sink's port and a line saying where emails go; None when EMAIL_HOST is a real server.

    EMAIL_PORT, when set, is taken as meant: if another program holds it, the run stops and says so. Unset, the
    sink takes ``default``, or any free port when another program has that one.
    """
    host, wanted = env.get("EMAIL_HOST", "127.0.0.1"), env.get("EMAIL_PORT", "")
    if host not in LOOPBACK:
        return None, f"Emails (referrals) go to the SMTP server at {host}:{wanted or 25}"
    if wanted:
        port = int(wanted)
        if not port_free(port, host):
            raise StackError(f"The mail sink's port {port} (EMAIL_PORT) is in use by another program: set "
                             "EMAIL_PORT to a free port, or leave it unset and ./muster run picks one.")
        return port, f"Emails (referrals) go to the mail sink on {host}:{port}"
    if port_free(default, host):
        return default, f"Emails (referrals) go to the mail sink on {host}:{default}"
    port = free_port(host)
    return port, (f"Emails (referrals) go to the mail sink on {host}:{port}: another program holds {default} "
                  f"(set EMAIL_PORT to choose the port)")


def programs(*, port: int, sink_port: int | None, email_host: str, var_dir: Path) -> list[Program]:
    python, celery = sys.executable, str(Path(sys.executable).with_name("celery"))
    level = os.environ.get("LOG_LEVEL", "INFO").lower()
    env = {"EMAIL_PORT": str(sink_port)} if sink_port else {}
    found = [
        Program("web server", [python, "manage.py", "runserver", f"127.0.0.1:{port}"], env),
        # Gossip, mingle and event heartbeats serve a cluster of workers; with one they only add broker traffic,
        # and on the embedded broker a killed worker's event queue would keep collecting files nobody reads.
        Program("worker", [celery, "-A", "config", "worker", "-l", level, "--concurrency", "2", "-Q",
                           "callouts,celery", "--without-gossip", "--without-mingle", "--without-heartbeat"], env),
        Program("beat", [celery, "-A", "config", "beat", "-l", level, "--pidfile", str(var_dir / "celerybeat.pid")],
                env),
    ]
    if sink_port:
        found.append(Program("mail sink", [python, "manage.py", "mail_sink", "--host", email_host, "--port",
                                           str(sink_port)], env))
    return found


def wait_for_web(supervisor: Supervisor, port: int) -> None:
    web = supervisor.programs[0]
    deadline = time.monotonic() + WEB_START_SECONDS
    while not port_in_use(port):
        if web.process.poll() is not None:
            raise StackError(f"The web server exited while starting ({web.process.returncode}); see above.")
        if time.monotonic() > deadline or supervisor.stopping.wait(0.2):
            raise StackError(f"The web server did not open port {port} within {WEB_START_SECONDS} s.")


def port_in_use(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


def run(port: int) -> None:
    from django.conf import settings

    if not port_free(port):
        raise StackError(f"Port {port} is already in use (another ./muster run?); choose another with PORT=...")
    sink_port, mail_line = mail_sink_port(dict(os.environ))
    manage("migrate", "--noinput")
    seeded = manage("seed_demo", capture=True)

    var_dir = Path(settings.VAR_DIR)
    supervisor = Supervisor(programs(port=port, sink_port=sink_port, email_host=settings.EMAIL_HOST,
                                     var_dir=var_dir), cwd=str(BASE_DIR))
    # Ctrl-C, a plain kill, or the terminal closing: stop everything in order rather than leave it running.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: supervisor.stopping.set())
    supervisor.start()
    site_file = var_dir / "run_site_url"
    try:
        wait_for_web(supervisor, port)
        print(f"\n{seeded}\n", flush=True)
        say(f"Muster is running at {settings.SITE_URL}/admin/ with a Celery worker and beat. Ctrl-C stops them all.")
        if sink_port:
            mail_line += f", saved as {var_dir / 'mail'}/*.eml"
        say(mail_line)
        # ./muster reply in another terminal answers this server, whatever its PORT.
        site_file.write_text(settings.SITE_URL)
        supervisor.run()
    finally:
        site_file.unlink(missing_ok=True)
        say("Stopping the web server, worker, beat and mail sink (if started)")
        supervisor.stop()


def say(line: str) -> None:
    print(f"==> {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s", level=logging.INFO)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        run(args.port)
    except StackError as error:
        sys.exit(f"muster: {error}")


if __name__ == "__main__":
    main()
