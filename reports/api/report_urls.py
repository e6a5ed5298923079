from rest_framework.routers import SimpleRouter

from reports.api import views

router = SimpleRouter()
router.register("areas", views.AreaViewSet, basename="area")
router.register("report-types", views.ReportTypeViewSet, basename="report-type")
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns = router.urls
