"""What the field app's service worker keeps for offline use: every file the shell loads, and one version for them.

The version is a digest of the files themselves, so any change to a module, the shell page or the service worker
changes sw.js byte for byte; the browser then installs the new worker, which fetches the new files into a new
cache and drops the old one. Nothing is to be remembered by hand at release time.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from django.templatetags.static import static
from django.urls import reverse

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SHELL_TEMPLATE = HERE / "templates" / "fieldapp" / "shell.html"
WORKER = HERE / "serviceworker.js"
# Documentation and licences sit beside the modules but are never loaded by the app.
LOADED = {".js", ".css", ".png", ".svg"}
FAVICON = "muster/favicon.svg"


def static_files() -> list[str]:
    """The app's static files, as paths under STATIC_URL, in a stable order."""
    return sorted(
        path.relative_to(STATIC).as_posix()
        for path in (STATIC / "fieldapp").rglob("*")
        if path.is_file() and path.suffix in LOADED
    )


@cache
def shell() -> dict:
    """The shell's URLs and their version, worked out once per process (the files change only with a deploy)."""
    digest = hashlib.sha256()
    for path in [SHELL_TEMPLATE, WORKER, *(STATIC / name for name in static_files())]:
        digest.update(path.as_posix().encode())
        digest.update(path.read_bytes())
    urls = [reverse("fieldapp:shell"), reverse("fieldapp:manifest"), static(FAVICON),
            *(static(name) for name in static_files())]
    return {"version": digest.hexdigest()[:16], "files": urls}


def worker_source() -> str:
    """sw.js: the worker's code after one line that names the shell it caches."""
    return f"const SHELL = {json.dumps(shell())};\n" + WORKER.read_text()
