"""What Muster writes to var/ is not readable by other users of the machine: files 0600, folders 0700, each
created through the code that really writes it (attachments, 0640 in 0750 folders, are in
tests/reports/test_filing.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A process as the web server, worker or mail sink is one: settings first, then the database (in WAL mode, as
# Muster opens it) and a referral email through the mail sink's own handler.
PROBE = """
import asyncio, json, django, types
from pathlib import Path
from django.conf import settings
django.setup()
from django.db import connection
from reports.management.commands.mail_sink import SaveToFolder
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE probe (x integer)")
    cursor.execute("INSERT INTO probe VALUES (1)")
    var = Path(settings.VAR_DIR)
    folder = var / "mail"
    folder.mkdir(mode=0o700)
    envelope = types.SimpleNamespace(mail_from="referrals@muster.invalid", rcpt_tos=["safe@example.org"],
                                     original_content=b"Subject: Referral\\r\\n\\r\\nAmy Clarke, 9", content=None)
    asyncio.run(SaveToFolder(folder, print).handle_DATA(None, None, envelope))
    modes = {str(p.relative_to(var)): ["folder" if p.is_dir() else "file", oct(p.stat().st_mode & 0o777)]
             for p in [var, *var.rglob("*")]}
print(json.dumps(modes))
"""


def modes_after_a_run(var_dir: Path) -> dict[str, list[str]]:
    """``{path in var/: [file or folder, mode]}`` while the probe's database is open (its WAL and SHM exist)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "MUSTER_VAR_DIR": str(var_dir)})
    # Started as a shell or service manager would start it, with the usual permissive umask.
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            umask=0o022, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_database_its_wal_the_secret_key_the_broker_and_emails_are_the_owners_alone(tmp_path):
    var = tmp_path / "var"

    modes = modes_after_a_run(var)

    assert {"muster.sqlite3", "muster.sqlite3-wal", "muster.sqlite3-shm", "secret_key", "broker/in"} <= set(modes)
    emails = [name for name in modes if name.startswith("mail/") and name.endswith(".eml")]
    assert len(emails) == 1
    assert {mode for kind, mode in modes.values() if kind == "file"} == {"0o600"}, modes
    assert {mode for kind, mode in modes.values() if kind == "folder"} == {"0o700"}, modes


def test_files_an_earlier_version_left_readable_are_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    for name in ("muster.sqlite3", "secret_key"):
        (var / name).touch()
        (var / name).chmod(0o644)
    (var / "secret_key").write_text("an-old-key-" + "x" * 50)

    modes = modes_after_a_run(var)

    assert [modes[name][1] for name in (".", "muster.sqlite3", "secret_key")] == ["0o700", "0o600", "0o600"]
