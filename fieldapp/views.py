"""The field app's three addresses: the shell page, its Web App Manifest and its service worker.

Everything else the app needs is a static file or the public API; the shell carries nothing about the person, so
one cached copy serves every officer offline.
"""

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from fieldapp.shell import static_files, worker_source

THEME = "#264b5d"
BACKGROUND = "#f4f6f8"


@require_safe
@cache_control(no_cache=True)
def shell(request):
    # no-cache: the service worker serves the shell offline; online, a new deploy must be seen at once.
    # Every module named up front, so the browser fetches them side by side instead of import after import.
    modules = [static(name) for name in static_files() if name.endswith(".js")]
    return render(request, "fieldapp/shell.html", {"theme": THEME, "modules": modules})


@require_safe
@cache_control(no_cache=True)
def manifest(request):
    app = reverse("fieldapp:shell")
    body = {
        "id": app,
        "name": "Muster",
        "short_name": "Muster",
        "description": "Callouts, availability and field reports for officers.",
        "lang": "en-GB",
        "start_url": app,
        "scope": app,
        "display": "standalone",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [
            {"src": static("fieldapp/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("fieldapp/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": static("fieldapp/icons/maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }
    return HttpResponse(json.dumps(body, indent=2), content_type="application/manifest+json")


@require_safe
@cache_control(no_cache=True)
def service_worker(request):
    # no-cache: browsers check sw.js for a new version on every navigation; a cached copy would hold back fixes.
    return HttpResponse(worker_source(), content_type="text/javascript; charset=utf-8")
