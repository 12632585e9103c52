"""FilterSets of the registry, shared by the API, the staff pages and exports."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Replace
from django.utils.translation import gettext_lazy as _

from dinsos.choices import FundingSource, Pillar, Sex
from dinsos.filters import (
    FilterSet,
    IntegerFilter,
    WilayahCodeFilter,
    identifier_digits,
    identifier_filter,
)
from dinsos.scoping import scope_q, user_area
from pmks import calculations, choices
from pmks.models import (
    Case,
    DuplicateCandidate,
    Household,
    HouseholdAsset,
    HouseholdProgram,
    Person,
    Service,
)

#: codes one ``?aset=`` / ``?program=`` may name (the lists hold 17 and 12): each is a
#: subquery of its own
MAX_CODES = 30


def _few_codes(value: str) -> None:
    if len({c.strip() for c in value.split(",")} - {""}) > MAX_CODES:
        raise ValidationError(_("Paling banyak %(max)d kode, dipisah koma.") % {"max": MAX_CODES})


def _holding(through, target: str):
    """A filter method: the households whose list (``through``) holds every code given
    (``?aset=sepeda-motor`` or ``?aset=lahan,sepeda-motor``); an unknown code finds none."""

    def method(self, queryset, name, value):
        for code in {c.strip() for c in value.split(",")} - {""}:
            queryset = queryset.filter(Exists(through.objects.filter(
                household=OuterRef("pk"), **{f"{target}__code": code})))
        return queryset

    return method


class HouseholdFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    decile = IntegerFilter(label=_("Desil"))
    decile_max = IntegerFilter(field_name="decile", lookup_expr="lte",
                                             label=_("Desil paling tinggi"))
    aset = django_filters.CharFilter(
        method="with_assets", label=_("Kode aset"), validators=[_few_codes],
        help_text=_("Keluarga yang memiliki aset ini; beberapa kode dipisah koma: semuanya."))
    program = django_filters.CharFilter(
        method="with_programs", label=_("Kode program bantuan"), validators=[_few_codes],
        help_text=_("Keluarga peserta program ini; beberapa kode dipisah koma: semuanya."))
    q = django_filters.CharFilter(method="search", label=_("Cari No. KK, alamat, kepala"))

    with_assets = _holding(HouseholdAsset, "asset")
    with_programs = _holding(HouseholdProgram, "program")

    class Meta:
        model = Household
        fields = ["wilayah", "decile", "no_kk"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if (digits := identifier_digits(value)) is not None:
            return identifier_filter(queryset, "no_kk", digits, request=self.request)
        # the head's name only of a head the user may see: a hit through the name of a person
        # registered in another kab/kota would confirm him and his KK
        head = Q(head__name__icontains=value) & scope_q(Person, user_area(self.user), "head")
        return queryset.filter(Q(address__icontains=value) | head)


class PersonFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    sex = django_filters.ChoiceFilter(choices=Sex.choices)
    life_status = django_filters.MultipleChoiceFilter(choices=choices.LifeStatus.choices)
    disability = django_filters.MultipleChoiceFilter(choices=choices.Disability.choices)
    marital_status = django_filters.MultipleChoiceFilter(choices=choices.MaritalStatus.choices)
    chronic_illness = django_filters.MultipleChoiceFilter(
        choices=choices.ChronicIllness.choices)
    birth_date_from = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte")
    birth_date_to = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte")
    tanpa_nik = django_filters.BooleanFilter(field_name="nik", lookup_expr="isnull",
                                             label=_("Tanpa NIK"))
    household = IntegerFilter(field_name="household_id")
    q = django_filters.CharFilter(method="search", label=_("Cari NIK atau nama"),
                                  help_text=_("Nama dengan ejaan lain juga ditemukan (M./Moch./"
                                              "Muhammad, Siti/St., ejaan lama, i/y); NIK boleh "
                                              "awalannya saja."))

    class Meta:
        model = Person
        fields = ["wilayah", "sex", "life_status", "disability", "marital_status",
                  "chronic_illness", "household"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if (digits := identifier_digits(value)) is not None:
            return identifier_filter(queryset, "nik", digits, request=self.request)
        key = calculations.name_search_key(value)
        folded = Replace("name_key", Value(calculations.SEARCH_FOLD[0]),
                         Value(calculations.SEARCH_FOLD[1]))
        by_key = Q(folded_key__contains=key) if key else Q(pk__in=[])
        return queryset.alias(folded_key=folded).filter(Q(name__icontains=value) | by_key)


class CaseFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="desa")
    category = django_filters.CharFilter(field_name="category__slug", label=_("Kode kategori"))
    status = django_filters.MultipleChoiceFilter(choices=choices.CaseStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=choices.CaseSource.choices)
    pillar = django_filters.ChoiceFilter(choices=Pillar.choices, method="with_pillar",
                                         label=_("Punya layanan pada pilar"))
    identified_from = django_filters.DateFilter(field_name="identified_on", lookup_expr="gte")
    identified_to = django_filters.DateFilter(field_name="identified_on", lookup_expr="lte")
    minimum_service = django_filters.BooleanFilter(field_name="category__minimum_service")

    class Meta:
        model = Case
        fields = ["wilayah", "category", "status", "person", "household"]

    def with_pillar(self, queryset, name, value):
        services = Service.objects.filter(case=OuterRef("pk"), pillar=value)
        return queryset.filter(Exists(services))


class ServiceFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="case__desa")
    pillar = django_filters.MultipleChoiceFilter(choices=Pillar.choices)
    service_type = django_filters.CharFilter(field_name="service_type__code")
    category = django_filters.CharFilter(field_name="case__category__slug")
    funding_source = django_filters.MultipleChoiceFilter(choices=FundingSource.choices)
    start_from = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Service
        fields = ["wilayah", "pillar", "service_type", "case"]


class DuplicateCandidateFilterSet(FilterSet):
    wilayah = WilayahCodeFilter(field_name="person_a__desa")
    status = django_filters.MultipleChoiceFilter(choices=choices.DuplicateStatus.choices)
    min_score = IntegerFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = DuplicateCandidate
        fields = ["wilayah", "status"]
