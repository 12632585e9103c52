from rest_framework.routers import DefaultRouter

from pmks.api import views

app_name = "pmks-api"

router = DefaultRouter()
router.register("households", views.HouseholdViewSet, basename="household")
router.register("persons", views.PersonViewSet, basename="person")

urlpatterns = router.urls
