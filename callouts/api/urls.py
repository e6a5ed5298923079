from rest_framework.routers import SimpleRouter

from callouts.api import views

router = SimpleRouter()
router.register("callouts", views.CalloutViewSet, basename="callout")

urlpatterns = router.urls
