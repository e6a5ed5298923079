"""The field app's shell, manifest and service worker as a browser fetches them: installable, cacheable offline,
and under the same Content-Security-Policy as every other page."""

import json
import struct

import pytest
from django.contrib.staticfiles import finders

from config.csp import POLICY
from fieldapp import shell
from tests.csp import inline_code

pytestmark = pytest.mark.django_db


def png_size(path) -> tuple[int, int]:
    with open(path, "rb") as image:
        header = image.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def static_path(url: str) -> str:
    return finders.find(url.removeprefix("/static/"))


def test_the_shell_page_runs_only_its_own_files_under_the_usual_policy(client):
    response = client.get("/app/")

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == POLICY
    assert inline_code(response) == []
    page = response.content.decode()
    assert '<script type="module" src="/static/fieldapp/app.js"></script>' in page
    assert '<link rel="manifest" href="/app/manifest.webmanifest">' in page
    assert "no-cache" in response.headers["Cache-Control"]
    # Every module asked for at once, not one import after another.
    assert '<link rel="modulepreload" href="/static/fieldapp/screens/callout.js">' in page
    assert '<link rel="modulepreload" href="/static/fieldapp/vendor/htm-3.1.1-preact-standalone.module.js">' in page


def test_the_manifest_installs_the_app_at_app_with_its_icons(client):
    response = client.get("/app/manifest.webmanifest")

    assert response.headers["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert (manifest["name"], manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "Muster", "/app/", "/app/", "standalone")
    assert manifest["theme_color"] and manifest["background_color"]
    icons = {(icon["sizes"], icon["purpose"]): static_path(icon["src"]) for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for (sizes, _), path in icons.items():
        assert "x".join(map(str, png_size(path))) == sizes


def test_the_service_worker_is_served_from_the_app_folder_fresh_each_time(client):
    response = client.get("/app/sw.js")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "Service-Worker-Allowed" not in response.headers  # its scope is its own folder, /app/
    first_line = response.content.decode().splitlines()[0]
    assert first_line == f"const SHELL = {json.dumps(shell.shell())};"


def test_the_worker_caches_every_file_the_shell_loads(client):
    files = shell.shell()["files"]

    assert {"/app/", "/app/manifest.webmanifest", "/static/fieldapp/app.js", "/static/fieldapp/app.css",
            "/static/fieldapp/icons/icon-192.png"} <= set(files)
    assert not [url for url in files if url.startswith("/static/") and not static_path(url)]
    assert not [url for url in files if url.endswith((".md", "LICENSE"))]


def test_a_changed_module_gives_the_worker_a_new_version(tmp_path, monkeypatch):
    (tmp_path / "fieldapp").mkdir()
    module = tmp_path / "fieldapp" / "app.js"
    module.write_text("// one\n")
    monkeypatch.setattr(shell, "STATIC", tmp_path)
    shell.shell.cache_clear()
    try:
        before = shell.shell()["version"]
        module.write_text("// two\n")
        shell.shell.cache_clear()
        assert shell.shell()["version"] != before
    finally:
        shell.shell.cache_clear()
