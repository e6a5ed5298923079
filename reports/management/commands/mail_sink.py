"""A demo mail server: accepts every message on loopback and saves it as an .eml file instead of sending it.

``./muster run`` starts it and points ``EMAIL_HOST``/``EMAIL_PORT`` at it, so a referral email can be opened
(any mail program reads .eml files) without a real mail server.
"""

import itertools
import logging
import os
import signal
import threading
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class SaveToFolder:
    """aiosmtpd handler: writes each message, with the envelope's addresses, to ``<folder>/<time>-<n>.eml``."""

    def __init__(self, folder: Path, say):
        self.folder, self.say, self.count = folder, say, itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        path = self.folder / f"{timezone.now():%Y%m%dT%H%M%S}-{next(self.count)}.eml"
        header = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        # A referral email is personal data: the file is the owner's alone, whatever the umask.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as saved:
            saved.write(header.encode() + content)
        subject = message_from_bytes(content, policy=policy.default).get("Subject", "")
        self.say(f"Mail from {envelope.mail_from} to {', '.join(envelope.rcpt_tos)}: {subject} -> {path}")
        return "250 Message accepted for delivery"


class Command(BaseCommand):
    help = "Run a demo SMTP server on 127.0.0.1:8025 that saves each message under var/mail/ (stop with Ctrl-C)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--folder", default=str(Path(settings.VAR_DIR) / "mail"))

    def handle(self, *args, host, port, folder, **options):
        folder = Path(folder)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        controller = Controller(SaveToFolder(folder, self.say), hostname=host, port=port)
        try:
            controller.start()
        except Exception as error:  # aiosmtpd reports a taken port in several ways, depending on when it notices
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        self.say(f"Mail sink listening on {host}:{port}, saving messages to {folder}")
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        try:
            stopped.wait()
        finally:
            controller.stop()
            self.say("Mail sink stopped")

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
