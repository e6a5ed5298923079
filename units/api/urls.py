from django.urls import path
from rest_framework.routers import SimpleRouter

from units.api import views

router = SimpleRouter()
router.register("auth/devices", views.DeviceViewSet, basename="device")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("push-subscriptions/", views.PushSubscriptionView.as_view(), name="push-subscriptions"),
    *router.urls,
]
