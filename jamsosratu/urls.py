from django.urls import path

from jamsosratu import views

app_name = "jamsosratu"

urlpatterns = [
    path("", views.CycleListView.as_view(), name="cycle-list"),
    path("siklus/<int:year>/", views.CycleDetailView.as_view(), name="cycle-detail"),
    path("siklus/<int:year>/cakupan/", views.CoverageView.as_view(), name="coverage"),
    path("siklus/<int:year>/peserta/", views.EnrolmentListView.as_view(), name="enrolment-list"),
    path("siklus/<int:year>/tahap/<int:number>/buat/", views.TrancheGenerateView.as_view(),
         name="tranche-generate"),
    path("siklus/<int:year>/tahap/<int:number>/berkas-bank.csv", views.BankFileView.as_view(),
         name="bank-file"),
    path("siklus/<int:year>/tahap/<int:number>/hasil-bank/", views.BankResultView.as_view(),
         name="bank-result"),
    path("siklus/<int:year>/tahap/<int:number>/melampaui-pagu/",
         views.TrancheOverBudgetView.as_view(), name="tranche-over-budget"),
    path("siklus/<int:year>/tahap/<int:number>/gagal/", views.FailedPaymentsView.as_view(),
         name="failed-payments"),
    path("siklus/<int:year>/tahap/<int:number>/gagal/<int:pk>/jadwalkan-ulang/",
         views.PaymentRescheduleView.as_view(), name="payment-reschedule"),
    path("peserta/<int:pk>/", views.EnrolmentDetailView.as_view(), name="enrolment-detail"),
    path("peserta/<int:pk>/status/<str:target>/", views.EnrolmentTransitionView.as_view(),
         name="enrolment-transition"),
    path("peserta/<int:pk>/rekening/verifikasi/", views.EnrolmentAccountVerifyView.as_view(),
         name="enrolment-account-verify"),
    path("peserta/<int:pk>/verifikasi/", views.VerificationCreateView.as_view(),
         name="verification-create"),
    path("verifikasi/<int:pk>/terapkan/", views.ApplyFindingsView.as_view(),
         name="verification-apply"),
    path("proses/<int:pk>/", views.JobDetailView.as_view(), name="job-detail"),
]
