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


@pytest.mark.parametrize("name", ["APP_LOCK_MINUTES", "APP_PIN_ATTEMPTS"])
def test_the_field_apps_lock_and_wipe_cannot_be_switched_off_with_zero(tmp_path, name):
    with pytest.raises(AssertionError, match=f"{name} must be at least 1, not 0"):
        load_settings(tmp_path, **{name: "0"})


def production_environment() -> dict[str, str]:
    """docs/production.env, as systemd or docker read it: NAME=value lines, comments on lines of their own."""
    lines = (ROOT / "docs" / "production.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    env = production_environment()
    # Only the directory differs: /var/lib/muster is not writable here, and settings create it.
    env.update({"PATH": os.environ["PATH"], "MUSTER_VAR_DIR": str(tmp_path),
                "DJANGO_SETTINGS_MODULE": "config.settings"})

    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_production_environment_turns_on_https_and_trusts_one_proxy(tmp_path):
    probe = ("import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
             "'redirect': settings.SECURE_SSL_REDIRECT, 'hsts': settings.SECURE_HSTS_SECONDS, "
             "'proxy_header': settings.SECURE_PROXY_SSL_HEADER, 'proxies': settings.TRUSTED_PROXY_COUNT, "
             "'cookies': settings.SESSION_COOKIE_SECURE}))")
    env = {**production_environment(), "PATH": os.environ["PATH"], "MUSTER_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)

    assert json.loads(result.stdout) == {"redirect": True, "hsts": 31536000, "cookies": True, "proxies": 1,
                                         "proxy_header": ["HTTP_X_FORWARDED_PROTO", "https"]}


def test_the_demo_defaults_leave_https_to_the_operator(tmp_path):
    probe = ("import json, django; from django.conf import settings; django.setup(); print(json.dumps({"
             "'redirect': settings.SECURE_SSL_REDIRECT, 'hsts': settings.SECURE_HSTS_SECONDS, "
             "'proxy_header': settings.SECURE_PROXY_SSL_HEADER, 'proxies': settings.TRUSTED_PROXY_COUNT}))")
    env = {"PATH": os.environ["PATH"], "MUSTER_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)

    assert json.loads(result.stdout) == {"redirect": False, "hsts": 0, "proxy_header": None, "proxies": 0}


@pytest.mark.parametrize("value", ["X-Forwarded-Proto", "HTTP_X_FORWARDED_PROTO", "x_forwarded_proto"])
def test_the_proxy_ssl_header_is_taken_as_a_header_name(tmp_path, value):
    probe = ("import django; from django.conf import settings; django.setup(); "
             "print(settings.SECURE_PROXY_SSL_HEADER[0])")
    env = {"PATH": os.environ["PATH"], "MUSTER_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings",
           "SECURE_PROXY_SSL_HEADER": value}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.stdout.strip() == "HTTP_X_FORWARDED_PROTO"


def test_a_proxy_ssl_header_that_is_no_header_name_is_refused(tmp_path):
    with pytest.raises(AssertionError, match="SECURE_PROXY_SSL_HEADER must be a header name"):
        load_settings(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")


def test_the_admin_tells_times_on_the_24_hour_clock_by_default(db):
    from datetime import UTC, datetime

    from django.template import Context, Template
    from django.utils import translation

    at = datetime(2026, 6, 3, 15, 27, tzinfo=UTC)
    with translation.override("en-gb"):
        shown = Template("{{ at }} | {{ at|time }} | {{ at|date:'SHORT_DATETIME_FORMAT' }}").render(Context({"at": at}))

    assert shown == "3 Jun 2026, 15:27 | 15:27 | 03/06/2026 15:27"
