from django.urls import path

from fieldapp import views

app_name = "fieldapp"
urlpatterns = [
    path("", views.shell, name="shell"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    # Served from /app/ rather than /static/: a service worker's scope can be no wider than the folder it comes from.
    path("sw.js", views.service_worker, name="sw"),
]
