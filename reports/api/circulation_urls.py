from django.urls import path, re_path

from reports.api.circulation_views import CirculationViewSet

urlpatterns = [
    path("circulations/", CirculationViewSet.as_view({"get": "list"}), name="api-circulations"),
    re_path(r"^circulations/(?P<pk>[0-9]{1,18})/ack/$", CirculationViewSet.as_view({"post": "ack"}),
            name="api-circulation-ack"),
]
