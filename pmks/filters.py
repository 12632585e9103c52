"""FilterSets of the registry, shared by the API, the staff pages and exports."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dinsos.choices import Sex
from dinsos.filters import WilayahCodeFilter
from pmks import choices
from pmks.models import Household, Person


class HouseholdFilterSet(django_filters.FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    decile = django_filters.NumberFilter(label=_("Desil"))
    decile_max = django_filters.NumberFilter(field_name="decile", lookup_expr="lte",
                                             label=_("Desil paling tinggi"))
    q = django_filters.CharFilter(method="search", label=_("Cari No. KK, alamat, kepala"))

    class Meta:
        model = Household
        fields = ["wilayah", "decile", "no_kk"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(no_kk__startswith=value)
        return queryset.filter(Q(address__icontains=value) | Q(head__name__icontains=value))


class PersonFilterSet(django_filters.FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    sex = django_filters.ChoiceFilter(choices=Sex.choices)
    life_status = django_filters.MultipleChoiceFilter(choices=choices.LifeStatus.choices)
    disability = django_filters.MultipleChoiceFilter(choices=choices.Disability.choices)
    birth_date_from = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    birth_date_to = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")
    tanpa_nik = django_filters.BooleanFilter(field_name="nik", lookup_expr="isnull",
                                             label=_("Tanpa NIK"))
    household = django_filters.NumberFilter(field_name="household_id")
    q = django_filters.CharFilter(method="search", label=_("Cari NIK atau nama"))

    class Meta:
        model = Person
        fields = ["wilayah", "sex", "life_status", "disability", "household"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(nik__startswith=value)
        return queryset.filter(name__icontains=value)
