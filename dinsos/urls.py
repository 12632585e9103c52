from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.module_loading import module_has_submodule
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dinsos import views

admin.site.site_header = "Dinas Sosial Provinsi Banten"
admin.site.site_title = "Dinas Sosial Provinsi Banten"
admin.site.index_title = "Administrasi"

handler404 = "dinsos.api.errors.api_not_found"
handler500 = "dinsos.api.errors.api_server_error"


def _app_urls():
    """Each domain app's `api/urls.py` is mounted at /api/v1/<app>/ and its `urls.py` (staff
    pages) at /<app>/, so the kernel never names a domain app."""
    patterns = []
    for config in apps.get_app_configs():
        if config.name == "dinsos" or Path(config.path).parent != settings.BASE_DIR:
            continue  # the kernel, and third-party apps
        if module_has_submodule(config.module, "api") and module_has_submodule(
            import_module(f"{config.name}.api"), "urls"
        ):
            patterns.append(path(f"api/v1/{config.label}/", include(f"{config.name}.api.urls")))
        if module_has_submodule(config.module, "urls"):
            patterns.append(path(f"{config.label}/", include(f"{config.name}.urls")))
    return patterns


urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("impor/", views.ImportListView.as_view(), name="imports"),
    path("impor/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("impor/<int:pk>/laporan.<str:fmt>", views.ImportReportView.as_view(),
         name="import-report"),
    path("impor/templat/<str:kind>.<str:fmt>", views.ImportTemplateView.as_view(),
         name="import-template"),
    path("masuk/", auth_views.LoginView.as_view(), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    # the admin's password change, its old password counted by the login lockout (django-axes)
    path("admin/password_change/", admin.site.admin_view(views.AdminPasswordChangeView.as_view()),
         name="admin-password-change"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("dinsos.api.urls")),
    *_app_urls(),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start script as a file: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]
