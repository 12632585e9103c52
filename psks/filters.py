import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dinsos.filters import FilterSet, WilayahCodeFilter, identifier_digits, identifier_filter
from psks import choices
from psks.models import ActivityReport, Assignment, BankAccount, Institution, Meeting, Worker


class WorkerFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    status = django_filters.MultipleChoiceFilter(choices=choices.WorkerStatus.choices)
    role = django_filters.ChoiceFilter(choices=choices.Role.choices, method="with_role",
                                       label=_("Peran aktif hari ini (atau pada ?on=)"))
    on = django_filters.DateFilter(method="noop", label=_("Tanggal untuk filter peran"))
    q = django_filters.CharFilter(method="search", label=_("Cari NIK atau nama"))

    class Meta:
        model = Worker
        fields = ["wilayah", "status", "sex", "education"]

    def noop(self, queryset, name, value):
        return queryset

    def with_role(self, queryset, name, value):
        on = self.form.cleaned_data.get("on") or timezone.localdate()
        active = Assignment.objects.filter(worker=OuterRef("pk"), role=value,
                                           start_date__lte=on).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=on))
        return queryset.filter(Exists(active))

    def search(self, queryset, name, value):
        value = value.strip()
        if (digits := identifier_digits(value)) is not None:
            return identifier_filter(queryset, "nik", digits, request=self.request)
        return queryset.filter(name__icontains=value) if value else queryset


class AssignmentFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="area")
    role = django_filters.MultipleChoiceFilter(choices=choices.Role.choices)
    active_on = django_filters.DateFilter(method="active", label=_("Aktif pada tanggal"))
    start_from = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Assignment
        fields = ["wilayah", "role", "worker", "funding_source"]

    def active(self, queryset, name, value):
        return queryset.filter(start_date__lte=value).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=value))


class BankAccountFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="worker__desa")
    verified = django_filters.BooleanFilter(field_name="verified_at", lookup_expr="isnull",
                                            exclude=True, label=_("Sudah diverifikasi"))

    class Meta:
        model = BankAccount
        fields = ["wilayah", "worker", "bank", "verified"]


class InstitutionFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    type = django_filters.MultipleChoiceFilter(choices=choices.InstitutionType.choices)
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Institution
        fields = ["wilayah", "type", "status", "accreditation"]


class ActivityReportFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="worker__desa")
    status = django_filters.MultipleChoiceFilter(choices=choices.ReportStatus.choices)
    period = django_filters.DateFilter(field_name="period")
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte")

    class Meta:
        model = ActivityReport
        fields = ["wilayah", "status", "worker", "period"]


class MeetingFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="kecamatan")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Meeting
        fields = ["wilayah", "type", "date"]
