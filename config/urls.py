from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api import not_found

api_v1 = [
    path("", include("units.api.urls")),
    path("", include("callouts.api.urls")),
    path("", include("reports.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # Browsers ask for /favicon.ico on every page that names no icon (the API docs, the response pages).
    path("favicon.ico", RedirectView.as_view(url=static("muster/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("app/", include("fieldapp.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script from /api/docs/?script=, not inline: the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", not_found),  # any other address under /api/, newlines and all
    path("", include("units.urls")),
    path("", include("callouts.urls")),
    path("", include("reports.urls")),
]
