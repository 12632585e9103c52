from rest_framework.routers import DefaultRouter

from psks.api import views

app_name = "psks-api"

router = DefaultRouter()
router.register("workers", views.WorkerViewSet, basename="worker")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("banks", views.BankViewSet, basename="bank")
router.register("bank-accounts", views.BankAccountViewSet, basename="bankaccount")
router.register("institutions", views.InstitutionViewSet, basename="institution")
router.register("activity-reports", views.ActivityReportViewSet, basename="activityreport")
router.register("meetings", views.MeetingViewSet, basename="meeting")
router.register("coverage", views.CoverageViewSet, basename="coverage")

urlpatterns = router.urls
