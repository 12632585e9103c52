from rest_framework.routers import DefaultRouter

from jamsosratu.api import views

app_name = "jamsosratu-api"

router = DefaultRouter()
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("enrolments", views.EnrolmentViewSet, basename="enrolment")
router.register("verifications", views.VerificationViewSet, basename="verification")
router.register("conditions", views.CommitmentViewSet, basename="condition")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("coverage", views.CoverageViewSet, basename="coverage")
router.register("jobs", views.TrancheJobViewSet, basename="job")

urlpatterns = router.urls
