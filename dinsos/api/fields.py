"""Serializer fields shared by every app's API, and the one way query parameters are read."""

import datetime
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from dinsos.choices import DESA_KELURAHAN
from dinsos.models import Wilayah
from dinsos.periods import YEAR_MAX, YEAR_MIN, parse_month
from dinsos.scoping import mask_for, restrict


class DesaField(serializers.PrimaryKeyRelatedField):
    """A desa/kelurahan by its Kemendagri code ("36.01.01.2001"); read without a query."""

    default_error_messages = {
        "does_not_exist": "Kode desa/kelurahan '{pk_value}' tidak dikenal.",
        "incorrect_type": "Kode desa/kelurahan harus teks, misalnya 36.01.01.2001.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Wilayah.objects.filter(tingkat__in=DESA_KELURAHAN))
        super().__init__(**kwargs)


class KecamatanField(DesaField):
    default_error_messages = {
        "does_not_exist": "Kode kecamatan '{pk_value}' tidak dikenal.",
        "incorrect_type": "Kode kecamatan harus teks, misalnya 36.01.01.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Wilayah.objects.filter(tingkat="kecamatan"))
        super().__init__(**kwargs)


class MaskedIdentifierField(serializers.CharField):
    """NIK / No. KK / NPWP / account number, shown as the access policy says: whole to users who
    may change the record, masked for read-only roles (``dinsos.scoping.mask_for``). The
    serializer base builds it for every model field named in ``IDENTIFIER_FIELDS``."""

    def __init__(self, *, model=None, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def to_representation(self, value):
        value = super().to_representation(value)
        request = self.context.get("request")
        model = self.model or self.parent.Meta.model
        return mask_for(getattr(request, "user", None), model, self.field_name, value)


@extend_schema_field(serializers.ListField(child=serializers.SlugField()))
class CodeListField(serializers.Field):
    """A list of reference entries by their ``code`` (a household's programs:
    ``["pkh", "bpnt"]``), sorted. Written, the list sent replaces the stored one and a code
    not in ``queryset`` (restricted by the access policy, as every relation) answers 400
    naming it; read, ``read(instance, source)`` gives the codes (from a list's annotation,
    without a query per row)."""

    many_values = True  # bounded as every list of a request body (``BoundedListMixin``)
    default_error_messages = {
        "not_a_list": _("Kirim daftar kode {noun} (larik teks), misalnya [\"{example}\"]."),
        "unknown": _("Kode {noun} tidak dikenal: {codes}."),
        "null_characters": _("Karakter null tidak diizinkan."),
        "too_long": _("Kode {noun} paling panjang {max} karakter."),
    }

    def __init__(self, *, queryset, noun, example, read, **kwargs):
        self.queryset, self.noun, self.example, self.read = queryset, noun, example, read
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return self.read(instance, self.source)

    def get_value(self, dictionary):
        """A form-encoded body (the browsable API's HTML form) sends a list as repeated keys
        (``assets=lahan&assets=ac``): read as the list, as DRF's own list fields do."""
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_representation(self, value):
        return list(value)

    def to_internal_value(self, data):
        if not isinstance(data, list) or not all(isinstance(code, str) for code in data):
            self.fail("not_a_list", noun=self.noun, example=self.example)
        codes = list(dict.fromkeys(code.strip() for code in data))
        # refused before the query (PostgreSQL refuses a NUL in a literal: a 500) and never
        # echoed back; a code longer than any stored one is not looked up either
        if any("\x00" in code for code in codes):
            self.fail("null_characters")
        longest = self.queryset.model._meta.get_field("code").max_length
        if any(len(code) > longest for code in codes):
            self.fail("too_long", noun=self.noun, max=longest)
        request = self.context.get("request")
        found = {entry.code: entry for entry in restrict(self.queryset.all(), getattr(
            request, "user", None)).filter(code__in=codes)} if codes else {}
        unknown = [code for code in codes if code not in found]
        if unknown:
            self.fail("unknown", noun=self.noun, codes=", ".join(unknown))
        return [found[code] for code in codes]


def area_codes(kode: str | None) -> dict:
    """kecamatan and kab/kota codes of a desa code, from the code itself (no query)."""
    return {
        "kecamatan": kode[:8] if kode and len(kode) >= 8 else None,
        "kab_kota": kode[:5] if kode and len(kode) >= 5 else None,
    }


# --- years, months and query parameters -------------------------------------------------------
# ASCII digits only: int() and str.isdigit() also take "²", "٢٠٢٦" or full-width digits.
_YEAR = re.compile(r"[0-9]{4}")


class YearField(serializers.Field):
    """A program or budget year, four ASCII digits within YEAR_MIN..YEAR_MAX."""

    default_error_messages = {
        "invalid": _("Tahun harus empat angka antara {min} dan {max}, mis. 2026."),
    }

    def to_internal_value(self, data) -> int:
        text = str(data).strip()
        if not _YEAR.fullmatch(text) or not YEAR_MIN <= int(text) <= YEAR_MAX:
            self.fail("invalid", min=YEAR_MIN, max=YEAR_MAX)
        return int(text)

    def to_representation(self, value):
        return value


class MonthField(serializers.Field):
    """A month as ``YYYY-MM`` (a date ``YYYY-MM-01`` is accepted too); the value is the first
    day of the month. Read by the kernel's one month parser, ``dinsos.periods.parse_month``."""

    label_text = _("Bulan")

    def to_internal_value(self, data) -> datetime.date:
        try:
            return parse_month(data, label=str(self.label_text))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from exc

    def to_representation(self, value):
        return f"{value:%Y-%m}"


def query_params(request, serializer_class) -> dict:
    """The query parameters read through ``serializer_class``: a bad value answers 400 naming
    the parameter, before any work starts."""
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data
