from rest_framework.routers import DefaultRouter

from pmks.api import views

app_name = "pmks-api"

router = DefaultRouter()
router.register("households", views.HouseholdViewSet, basename="household")
router.register("persons", views.PersonViewSet, basename="person")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("service-types", views.ServiceTypeViewSet, basename="servicetype")
router.register("assets", views.AssetViewSet, basename="asset")
router.register("programs", views.ProgramViewSet, basename="program")
router.register("cases", views.CaseViewSet, basename="case")
router.register("services", views.ServiceViewSet, basename="service")
router.register("duplicates", views.DuplicateCandidateViewSet, basename="duplicate")

urlpatterns = router.urls
