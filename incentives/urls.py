from django.urls import path

from incentives import views

app_name = "incentives"

urlpatterns = [
    path("", views.RunListView.as_view(), name="run-list"),
    path("hitung/<str:period>/", views.RunProgressView.as_view(), name="run-progress"),
    path("perhitungan/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("perhitungan/<int:pk>/laporan/<str:kind>/", views.RunReportView.as_view(),
         name="run-report"),
    path("perhitungan/<int:pk>/<str:action>/", views.RunActionView.as_view(), name="run-action"),
]
