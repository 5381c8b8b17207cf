from rest_framework.routers import SimpleRouter

from referrals.api import reports

router = SimpleRouter()
router.register("reports", reports.ReportViewSet, basename="api-report")
router.register("jobs", reports.BackgroundJobViewSet, basename="api-job")

urlpatterns = router.urls
