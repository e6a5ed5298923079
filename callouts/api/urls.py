from django.urls import path
from rest_framework.routers import SimpleRouter

from callouts.api import views

router = SimpleRouter()
router.register("callouts", views.CalloutViewSet, basename="callout")

urlpatterns = [
    path("answer-links/", views.PushAnswerView.as_view(), name="answer-links"),
    *router.urls,
]
