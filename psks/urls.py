from django.urls import path

from psks import views

app_name = "psks"

urlpatterns = [
    path("", views.WorkerListView.as_view(), name="worker-list"),
    path("cakupan/", views.CoverageView.as_view(), name="coverage"),
    path("laporan/", views.ReportQueueView.as_view(), name="report-queue"),
    path("laporan/<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("laporan/<int:pk>/<str:action>/", views.ReportReviewView.as_view(),
         name="report-review"),
]
