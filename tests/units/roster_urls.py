"""The admin with the roster import wired in, as the lead will wire it, for the view tests."""

from django.contrib import admin
from django.urls import include, path

from units.admin_roster import roster_urls

urlpatterns = [
    path("admin/", include(roster_urls(admin.site))),
    path("admin/", admin.site.urls),
]
