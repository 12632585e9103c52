from rest_framework.routers import DefaultRouter

from incentives.api import views

app_name = "incentives-api"

router = DefaultRouter()
router.register("rates", views.RateViewSet, basename="rate")
router.register("ceilings", views.BudgetCeilingViewSet, basename="ceiling")
router.register("runs", views.PayoutRunViewSet, basename="run")
router.register("lines", views.PayoutLineViewSet, basename="line")
router.register("run-status", views.RunStatusViewSet, basename="run-status")
router.register("documents", views.RunDocumentViewSet, basename="document")

urlpatterns = router.urls
