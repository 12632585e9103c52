from django.urls import path

from psks import views

app_name = "psks"

urlpatterns = [
    path("", views.WorkerListView.as_view(), name="worker-list"),
    path("cakupan/", views.CoverageView.as_view(), name="coverage"),
]
