"""The OpenAPI schema tells the truth about every response (settings ``DEFAULT_SCHEMA_CLASS``):

- an enum read from a model field that may be blank or null accepts "" / null (a closed case
  without reason, a payout line not on hold) — generated clients parse real data;
- every operation documents its error answers with the one error shape (component ``Error``);
- detail answers carry ``ETag``; updates and deletes take ``If-Match`` (412 when stale);
- the changes feeds (``<list>/changes/``) document their page of upserts and tombstones.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from dinsos.api.serializers import Serializer
from dinsos.tabular import XLSX_CONTENT_TYPE


class ErrorSerializer(Serializer):
    detail = serializers.CharField(help_text=_("Pesan untuk manusia, dalam Bahasa Indonesia."))
    code = serializers.CharField(help_text=_("Kode yang stabil untuk program."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text=_("Per kolom atau parameter yang salah: daftar pesan."),
    )


ERROR_TEXT = {
    "400": _("Data atau parameter tidak valid (kolom yang salah di 'errors')."),
    "401": _("Belum masuk atau token tidak berlaku."),
    "403": _("Tidak berwenang untuk tindakan ini."),
    "404": _("Tidak ditemukan (atau di luar wilayah Anda)."),
    "405": _("Metode tidak diizinkan."),
    "406": _("Header Accept meminta format yang tidak tersedia."),
    "409": _("Permintaan dengan Idempotency-Key yang sama sedang diproses."),
    "412": _("If-Match tidak cocok: data sudah berubah sejak dibaca."),
    "415": _("Content-Type isi permintaan tidak didukung (kirim application/json)."),
    "422": _("Idempotency-Key sudah dipakai untuk permintaan lain."),
    "429": _("Terlalu banyak permintaan; lihat Retry-After."),
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
#: the answer of a table download (``dinsos.tabular.table_response``): CSV or XLSX by ``fmt``
TABLE_FILE = {(200, "text/csv"): OpenApiTypes.BINARY,
              (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}
BLANKABLE_FORMATS = {"email", "uri"}


def _nullable_source(field) -> bool:
    """A read-only value reached through a relation that may be empty
    (``approved_by.username`` of a run not yet approved) is null then."""
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model = getattr(meta, "model", None)
    if model is None or not field.source or field.source == "*":
        return False
    for part in field.source.split(".")[:-1]:
        try:
            relation = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if getattr(relation, "null", False):
            return True
        model = relation.related_model
        if model is None:
            return False
    return False


def _model_field(field):
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model = getattr(meta, "model", None)
    if model is None or not field.source or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


class AutoSchema(BaseAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.ChoiceField) and not isinstance(
                field, serializers.MultipleChoiceField):
            model_field = _model_field(field)
            if isinstance(model_field, models.Field) and model_field.choices:
                field.allow_blank = field.allow_blank or (
                    model_field.blank and isinstance(model_field, models.CharField))
                field.allow_null = field.allow_null or model_field.null
        if field.read_only and not getattr(field, "allow_null", False) and (
                field.default is None or _nullable_source(field)):
            field.allow_null = True
        result = super()._map_serializer_field(field, direction, bypass_extensions)
        if getattr(field, "allow_blank", False) and result.get("format") in BLANKABLE_FORMATS:
            result.pop("format")  # "" is no e-mail address: a blank value would violate it
        return result

    def _is_detail(self) -> bool:
        return "{" in self.path

    def get_response_serializers(self):
        if getattr(self.view, "action", None) == "changes" and hasattr(
                self.view, "change_item_serializer"):
            from dinsos.api.sync import change_page_serializer

            return change_page_serializer(self.view.change_item_serializer())
        return super().get_response_serializers()

    def _takes_if_match(self) -> bool:
        """Updates and deletes of a record, and a POST action that checks it itself
        (``honours_if_match``, ``dinsos.api.sync.ETagMixin``)."""
        return self._is_detail() and (self.method in {"PUT", "PATCH", "DELETE"} or (
            self.method == "POST" and getattr(self.view, "honours_if_match", False)))

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self._takes_if_match():
            params.append(OpenApiParameter(
                "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description=_(
                    "ETag dari pembacaan terakhir; 412 bila data sudah berubah.")))
        if self.method == "POST":
            params.append(OpenApiParameter(
                "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, description=_(
                    "Kunci unik per permintaan; pengulangan menjawab jawaban pertama.")))
        if self.method in {"GET", "PUT", "PATCH"} and self._is_detail():
            params.append(OpenApiParameter(
                "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=["200", "201"],
                description=_("Versi data; kirim sebagai If-Match saat mengubah.")))
        return params

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "406", "429"]  # 406: any Accept no renderer serves
        if self._is_detail() or self.method == "GET":  # a list: a page beyond the last one
            codes.append("404")
        if self.method in WRITES:
            codes += ["405", "409", "422"]
        if self.method in {"POST", "PUT", "PATCH"} and self._get_request_body():
            codes.append("415")
        if self._takes_if_match():
            codes.append("412")
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=str(ERROR_TEXT[code])), code,
                    direction=direction,
                )
        return responses
