"""Shared FilterSet pieces. ``FilterSet`` is the base of every app's filtersets: the querysets
of its model-choice filters are restricted to the user's rows by the access policy, so a filter
form never lists another district's objects and ``?person=<id of another district>`` is refused
exactly like a missing id. ``WilayahCodeFilter`` is THE filter every app uses for "any wilayah
code selects everything inside it"."""

import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.filters import QuerySetRequestMixin

from dinsos.choices import Tingkat
from dinsos.models import Wilayah
from dinsos.scoping import restrict, sees_identifiers
from dinsos.validators import EXCEL_SCIENTIFIC


class FilterSet(django_filters.FilterSet):
    """Pass ``request`` (views) or ``user`` (selectors); without either, model choices are
    empty (closed by default)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)
        for filter_ in self.filters.values():
            queryset = (filter_.get_queryset(request)
                        if isinstance(filter_, QuerySetRequestMixin) else None)
            if queryset is not None:
                filter_.queryset = restrict(queryset, self.user)


class WilayahCodeFilter(django_filters.CharFilter):
    """``?wilayah=36.01`` keeps records whose wilayah at ``field_name`` is 36.01 or inside it.
    Compares the foreign-key column itself (the key is the code), so no join is made."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Kode wilayah (provinsi, kab/kota, kecamatan atau desa)"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        value = value.strip().rstrip(".")
        return qs.filter(
            Q(**{f"{self.field_name}__kode": value})
            | Q(**{f"{self.field_name}__kode__startswith": f"{value}."})
        )


class IntegerFilter(django_filters.NumberFilter):
    """A whole number within the database's integer range: "²", "1.5" or 10**20 answer 400
    naming the parameter, never a database error (SQLite cannot even bind such a number)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class WilayahFilterSet(FilterSet):
    tingkat = django_filters.MultipleChoiceFilter(choices=Tingkat.choices, label=_("Tingkat"))
    induk = django_filters.CharFilter(field_name="induk_id", label=_("Kode induk"))
    kode = django_filters.CharFilter(
        field_name="kode", lookup_expr="startswith", label=_("Awalan kode")
    )
    q = django_filters.CharFilter(method="search", label=_("Cari nama atau kode"))

    class Meta:
        model = Wilayah
        fields = ["tingkat", "induk", "kode"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(nama__icontains=value) | Q(kode__startswith=value))


_SEPARATORS = re.compile(r"[\s.\-']")
_DIGITS = re.compile(r"[0-9]+")


def identifier_digits(text: str) -> str | None:
    """A NIK / No. KK as staff type or paste it into a search box — ``3601 0141 0190 0017``,
    ``3601.0141.0190.0017``, ``'3601014101900017`` — as its digits; ``""`` for a number Excel
    has already rounded (``3.60101E+15``: its digits are lost, it finds no one); ``None`` when
    the text is not a number at all (a name)."""
    text = text.strip()
    if EXCEL_SCIENTIFIC.fullmatch(text):
        return ""
    digits = _SEPARATORS.sub("", text)
    return digits if _DIGITS.fullmatch(digits) else None


def identifier_filter(queryset, field: str, value: str, *, request):
    """Search by NIK / No. KK. Users who see identifiers whole may search by prefix; read-only
    roles, who see them masked, only by the complete number, so the hidden digits can't be
    found one at a time (UU 27/2022)."""
    if not value:
        return queryset.none()
    if len(value) == 16:  # the whole number: exact equality, the unique index answers it
        return queryset.filter(**{field: value})
    if sees_identifiers(getattr(request, "user", None), queryset.model):
        return queryset.filter(**{f"{field}__startswith": value})
    return queryset.none()
