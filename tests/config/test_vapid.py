"""The VAPID key pair: the demo's, kept in var/ and made on the first run, and the check that the two halves
configured belong together."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import Error, Warning
from py_vapid import Vapid

from callouts.checks import vapid_keys_belong_together
from config.vapid import key_pair_file, public_key, public_key_of
from tests.push_double import b64url

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_pair_is_made_once_private_to_its_owner_and_then_kept(tmp_path):
    path = tmp_path / "var" / "vapid_private_key.pem"

    public = key_pair_file(path)

    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert key_pair_file(path) == public  # every later start uses the same pair: subscriptions stay good
    assert public_key_of(str(path)) == public == public_key(Vapid.from_file(str(path)))


def test_muster_run_gives_the_demo_a_pair_in_var_unless_one_is_set(tmp_path):
    """./muster's demo_env, run as ./muster run runs it."""
    script = (f"source <(sed -n '/^demo_env() {{/,/^}}/p' {ROOT / 'muster'}); PY={sys.executable}; demo_env; "
              'echo "$VAPID_PRIVATE_KEY"; echo "$VAPID_PUBLIC_KEY"; echo "$VAPID_SUBJECT"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAPID_")}

    def demo_env(**extra) -> list[str]:
        result = subprocess.run(["bash", "-c", script], cwd=ROOT, env={**env, "MUSTER_VAR_DIR": str(tmp_path), **extra},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    private, public, subject = demo_env()
    assert private == str(tmp_path / "vapid_private_key.pem")
    assert public == public_key_of(private) and subject.startswith("mailto:")
    assert demo_env()[1] == public
    assert demo_env(VAPID_PRIVATE_KEY="mine", VAPID_PUBLIC_KEY="its-public-half")[:2] == ["mine", "its-public-half"]


@pytest.fixture
def pair() -> tuple[str, str]:
    key = Vapid()
    key.generate_keys()
    return b64url(key.private_key.private_numbers().private_value.to_bytes(32, "big")), public_key(key)


def test_a_matching_pair_or_none_at_all_passes_the_check(settings, pair):
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = pair
    assert vapid_keys_belong_together(None) == []
    settings.VAPID_PRIVATE_KEY = settings.VAPID_PUBLIC_KEY = ""
    assert vapid_keys_belong_together(None) == []


def test_a_pem_file_is_a_private_key_as_pywebpush_takes_it(settings, tmp_path):
    public = key_pair_file(tmp_path / "key.pem")
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = str(tmp_path / "key.pem"), public

    assert vapid_keys_belong_together(None) == []


def test_halves_of_two_different_pairs_stop_the_start(settings, pair):
    other = Vapid()
    other.generate_keys()
    settings.VAPID_PRIVATE_KEY, settings.VAPID_PUBLIC_KEY = pair[0], public_key(other)

    [problem] = vapid_keys_belong_together(None)

    assert isinstance(problem, Error) and problem.id == "callouts.E007"
    assert pair[1] in problem.hint


@pytest.mark.parametrize(("private", "public", "kind", "code"), [
    ("", "BPUBLIC", Error, "callouts.E005"),
    ("not a key", "BPUBLIC", Error, "callouts.E006"),
    (None, "", Warning, "callouts.W001"),  # a private key alone: push works, the app cannot subscribe
])
def test_a_half_pair_or_a_broken_key_is_reported(settings, pair, private, public, kind, code):
    settings.VAPID_PRIVATE_KEY = pair[0] if private is None else private
    settings.VAPID_PUBLIC_KEY = public

    [problem] = vapid_keys_belong_together(None)

    assert type(problem) is kind and problem.id == code
