"""What CI runs: .ci/run."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_run_sets_ci_true_so_the_services_stage_cannot_be_skipped(tmp_path):
    # A copy of .ci/run next to a stand-in ./muster that prints what it was given.
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    stand_in = tmp_path / "muster"
    stand_in.write_text('#!/usr/bin/env bash\necho "CI=${CI:-unset} $*"\n')
    stand_in.chmod(0o755)
    env = {name: value for name, value in os.environ.items() if name != "CI"}

    result = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], env=env, capture_output=True, text=True,
                            check=True)

    assert result.stdout == "CI=true test\n"
