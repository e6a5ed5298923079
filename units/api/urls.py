from django.urls import path
from rest_framework.routers import SimpleRouter

from units.api import schedule_views, views

router = SimpleRouter()
router.register("auth/devices", views.DeviceViewSet, basename="device")

urlpatterns = [
    path("app-config/", views.AppConfigView.as_view(), name="app-config"),
    path("me/", views.MeView.as_view(), name="me"),
    path("push-subscriptions/", views.PushSubscriptionView.as_view(), name="push-subscriptions"),
    *router.urls,
]

# Schedule endpoints: units and who is on call, my shifts, my unavailability.
schedule_router = SimpleRouter()
schedule_router.register("units", schedule_views.UnitViewSet, basename="unit")
schedule_router.register("unavailability", schedule_views.UnavailabilityViewSet, basename="unavailability")
urlpatterns += [
    path("shifts/", schedule_views.ShiftListView.as_view(), name="shifts"),
    *schedule_router.urls,
]
