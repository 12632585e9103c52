"""The /api/v1/ router. Each domain app adds its routes here under its own prefix."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from dinsos.api.imports import ImportBatchViewSet
from dinsos.api.views import MeView, WilayahViewSet

router = DefaultRouter()
router.register("wilayah", WilayahViewSet, basename="wilayah")
router.register("imports", ImportBatchViewSet, basename="importbatch")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
