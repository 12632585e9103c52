from django.urls import path

from pmks import views

app_name = "pmks"

urlpatterns = [
    path("", views.PersonListView.as_view(), name="person-list"),
    path("orang/baru/", views.PersonCreateView.as_view(), name="person-create"),
    path("orang/<int:pk>/", views.PersonDetailView.as_view(), name="person-detail"),
    path("orang/<int:pk>/ubah/", views.PersonUpdateView.as_view(), name="person-update"),
    path("orang/<int:pk>/kasus/", views.CaseOpenView.as_view(), name="case-open"),
    # before the transitions: "layanan" is no status
    path("orang/<int:pk>/kasus/<int:case_pk>/layanan/", views.ServiceRecordView.as_view(),
         name="service-record"),
    path("orang/<int:pk>/kasus/<int:case_pk>/<str:target>/", views.CaseTransitionView.as_view(),
         name="case-transition"),
    path("orang/<int:pk>/layanan/<int:service_pk>/", views.ServiceUpdateView.as_view(),
         name="service-update"),
    path("keluarga/<int:pk>/", views.HouseholdDetailView.as_view(), name="household-detail"),
    path("keluarga/<int:pk>/ubah/", views.HouseholdUpdateView.as_view(),
         name="household-update"),
    path("duplikat/", views.DuplicateListView.as_view(), name="duplicates"),
    path("duplikat/<int:pk>/", views.DuplicateDetailView.as_view(), name="duplicate-detail"),
]
