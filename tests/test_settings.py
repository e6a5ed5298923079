import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'broker': settings.CELERY_BROKER_URL, "
    "'debug': settings.DEBUG, 'idle': settings.SESSION_COOKIE_AGE, 'key': settings.SECRET_KEY}))"
)


def load_settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY")}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "MUSTER_VAR_DIR": str(tmp_path), **env})
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)
    if result.returncode:
        raise AssertionError(result.stderr)
    return json.loads(result.stdout)


def test_with_nothing_set_muster_uses_sqlite_and_a_filesystem_broker_in_var(tmp_path):
    loaded = load_settings(tmp_path)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(tmp_path / "muster.sqlite3")
    assert loaded["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "in").is_dir()
    assert loaded["debug"] is False
    assert loaded["idle"] == 1800


def test_secret_key_is_random_per_machine_and_kept(tmp_path, tmp_path_factory):
    first = load_settings(tmp_path)["key"]
    assert len(first) >= 50
    assert load_settings(tmp_path)["key"] == first
    assert load_settings(tmp_path_factory.mktemp("other"))["key"] != first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path):
    loaded = load_settings(tmp_path, DATABASE_URL="postgres://muster@db.example:5432/muster",
                           REDIS_URL="redis://cache.example:6379/0")
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "muster"
    assert loaded["broker"] == "redis://cache.example:6379/0"


def test_a_malformed_number_is_refused_with_the_variable_named(tmp_path):
    with pytest.raises(AssertionError, match="SESSION_IDLE_SECONDS must be a whole number"):
        load_settings(tmp_path, SESSION_IDLE_SECONDS="half an hour")
