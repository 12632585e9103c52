"""What a district system needs to keep a mirror, in one place for every resource:

- ``ChangesFeedMixin``: ``GET <list>/changes/`` — upserts with the record's current data and
  tombstones (deleted, merged into, left your area), after an opaque cursor (``dinsos.changes``
  explains why the order cannot skip or repeat under concurrent writes);
- ``ETagMixin`` / ``IfMatchMixin``: ``ETag`` on detail responses, ``If-Match`` on updates and
  deletes (412 when the record changed since it was read), checked under a row lock;
- ``batch_upsert``: many rows by their natural key in one request, each through the same
  service as a single write, each in its own savepoint, with a per-row result.
"""

from functools import cache

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from dinsos import audit, changes
from dinsos.api.errors import _as_drf
from dinsos.api.filters import UPDATED_SINCE, parse_since
from dinsos.api.idempotency import run_idempotent
from dinsos.api.pagination import PAGE_SIZE, page_size_schema, parse_page_size
from dinsos.api.serializers import Serializer
from dinsos.models import Change
from dinsos.versions import current_version

CURSOR = "cursor"

# --- changes feed -----------------------------------------------------------------------------


#: a change's moment as the schema declares it and every record's time reads: WIB, +07:00
CHANGE_AT = serializers.DateTimeField()


@cache
def change_page_serializer(item_serializer):
    """``{next, cursor, results: [{id, change, at, merged_into, data}]}`` for one resource;
    ``data`` is the record as its list shows it (only for ``upsert``)."""
    name = item_serializer.__name__.removesuffix("Serializer")
    entry = type(f"{name}ChangeSerializer", (Serializer,), {
        "id": serializers.IntegerField(),
        "change": serializers.ChoiceField(choices=Change.Kind.choices),
        "at": CHANGE_AT,
        "merged_into": serializers.IntegerField(allow_null=True),
        "data": item_serializer(allow_null=True),
    })
    return type(f"{name}ChangePageSerializer", (Serializer,), {
        "next": serializers.URLField(allow_null=True, help_text=_(
            "Halaman berikutnya; null bila sudah mutakhir.")),
        "cursor": serializers.CharField(help_text=_(
            "Simpan dan kirim sebagai ?cursor= pada tarikan berikutnya.")),
        "results": entry(many=True),
    })


class ChangesFeedMixin:
    """For viewsets of models registered with ``dinsos.changes.register``. Upserts are read
    through ``get_queryset()`` — the same scope and selector as the list — so a record the
    user may not (or no longer) see is never shown; a later tombstone tells why. A viewset
    whose reads are logged (``log_access``) writes one ACCESS entry per feed page that served
    records, naming them (``what="sinkron"``), as its list pages do."""

    def change_item_serializer(self):
        return self.serializer_class

    @extend_schema(parameters=[
        OpenApiParameter(CURSOR, OpenApiTypes.STR, description=_(
            "Kursor dari jawaban sebelumnya (tarikan lanjutan).")),
        OpenApiParameter(UPDATED_SINCE, OpenApiTypes.DATETIME, description=_(
            "Tarikan pertama: perubahan pada atau setelah waktu ini (waktu server). "
            "Tanpa kursor dan tanpa updated_since: seluruh data wilayah Anda.")),
        OpenApiParameter(PAGE_SIZE, page_size_schema(settings.SYNC_FEED_MAX_PAGE_SIZE)),
    ])
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def changes(self, request, *args, **kwargs):
        params = request.query_params
        unknown = sorted(set(params) - {CURSOR, UPDATED_SINCE, PAGE_SIZE, "format"})
        if unknown:
            raise ValidationError({n: [_("Parameter '%(name)s' tidak dikenal untuk daftar ini.")
                                       % {"name": n}] for n in unknown}, code="unknown_parameter")
        if params.get(CURSOR) and params.get(UPDATED_SINCE):
            raise ValidationError({UPDATED_SINCE: [_(
                "updated_since hanya untuk tarikan pertama; tarikan lanjutan cukup dengan cursor "
                "(jangan kirim keduanya).")]}, code="cursor_with_updated_since")
        model = self.get_queryset().model
        feed = changes.resource(model)
        after = changes.Position.decode(params[CURSOR], feed) if params.get(CURSOR) else None
        since = parse_since(params[UPDATED_SINCE]) if params.get(UPDATED_SINCE) else None
        page = changes.feed(model=model, user=request.user, after=after, since=since,
                            limit=parse_page_size(
                                request, default=settings.SYNC_FEED_PAGE_SIZE,
                                maximum=settings.SYNC_FEED_MAX_PAGE_SIZE))
        rows = page.changes
        queryset = self.get_queryset()
        current = queryset.in_bulk([c.object_id for c in rows if c.kind == Change.Kind.UPSERT])
        visible_targets = set(queryset.filter(
            pk__in=[c.merged_into for c in rows if c.merged_into]).values_list("pk", flat=True))
        serializer_class = self.change_item_serializer()
        context = self.get_serializer_context()
        results = []
        for change in rows:
            entry = {"id": change.object_id, "change": change.kind,
                     "at": CHANGE_AT.to_representation(change.at),  # WIB, as the records
                     "merged_into": None, "data": None}
            if change.kind == Change.Kind.UPSERT:
                obj = current.get(change.object_id)
                if obj is None:
                    continue  # gone or out of reach since; its tombstone follows
                entry["data"] = serializer_class(obj, context=context).data
            elif change.kind == Change.Kind.MERGED:
                if change.merged_into in visible_targets:
                    entry["merged_into"] = change.merged_into
                else:  # kept in another area: say no more than "left your area"
                    entry["change"] = Change.Kind.LEFT_AREA
            results.append(entry)
        served = [entry["id"] for entry in results if entry["data"] is not None]
        if getattr(self, "log_access", False) and served:  # as the list page it mirrors
            audit.log_read(model, what="sinkron", pks=served)
        cursor = page.position.encode(feed)
        next_url = None
        if page.more:  # the cursor alone says where to go on; updated_since was the start
            next_url = remove_query_param(
                replace_query_param(request.build_absolute_uri(), CURSOR, cursor), UPDATED_SINCE)
        return Response({"next": next_url, "cursor": cursor, "results": results})


# --- conditional requests ---------------------------------------------------------------------


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("Data ini sudah diubah orang lain sejak Anda membacanya (If-Match tidak "
                       "cocok). Baca ulang, lalu kirim perubahan Anda lagi.")
    default_code = "precondition_failed"


def _current_etag(instance, *, lock: bool) -> str | None:
    return current_version(instance, lock=lock)


def check_if_match(request, instance) -> None:
    """412 unless ``If-Match`` (when sent) names the record's current version. Locks the row
    until the transaction ends, so no write slips in between the check and the update."""
    header = request.headers.get("If-Match")
    if not header:
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" in tags:
        return
    if _current_etag(instance, lock=True) not in tags:
        raise PreconditionFailed()


def with_etag(response, instance):
    """Set the ETag of ``instance`` (its version: model, id, updated_at) on a 2xx response."""
    if status.is_success(response.status_code):
        etag = _current_etag(instance, lock=False)
        if etag:
            response["ETag"] = etag
    return response


class ETagMixin:
    """ETag on detail responses (retrieve). A POST action that honours If-Match itself
    (``check_if_match``) says so with ``@action(..., honours_if_match=True)``: the schema
    documents the header and the 412."""

    honours_if_match = False

    def get_object(self):
        self._conditional_object = super().get_object()
        return self._conditional_object

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        return with_etag(response, self._conditional_object)


class IfMatchMixin(ETagMixin):
    """If-Match honoured on update, partial update and delete; the new ETag on the answer."""

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            check_if_match(request, self.get_object())
            response = super().update(request, *args, **kwargs)
        return with_etag(response, self._conditional_object)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            check_if_match(request, self.get_object())
            return super().destroy(request, *args, **kwargs)


# --- batch upsert -----------------------------------------------------------------------------

class BatchOutcome(models.TextChoices):
    CREATED = "created", _("dibuat")
    UPDATED = "updated", _("diubah")
    UNCHANGED = "unchanged", _("sudah sama")
    REFUSED = "refused", _("ditolak")


OUTCOMES = BatchOutcome.values


@cache
def batch_serializers(row_serializer, key: str):
    name = row_serializer.__name__.removesuffix("Serializer")
    request = type(f"{name}BatchSerializer", (Serializer,), {
        "rows": row_serializer(many=True, help_text=_(
            "Paling banyak SYNC_BATCH_MAX_ROWS baris; kunci: %(key)s.") % {"key": key}),
    })
    result = type(f"{name}BatchResultSerializer", (Serializer,), {
        "index": serializers.IntegerField(),
        key: serializers.CharField(allow_null=True),
        "status": serializers.ChoiceField(choices=BatchOutcome.choices),
        "id": serializers.IntegerField(allow_null=True),
        "errors": serializers.DictField(child=serializers.ListField(
            child=serializers.CharField()), allow_null=True),
    })
    response = type(f"{name}BatchResponseSerializer", (Serializer,), {
        "summary": serializers.DictField(child=serializers.IntegerField()),
        "results": result(many=True),
    })
    return request, response


def _row_errors(exc) -> dict:
    if isinstance(exc, DjangoValidationError):
        exc = _as_drf(exc)
    if isinstance(exc, ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {
            "non_field_errors": exc.detail}
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])]
                for k, v in detail.items()}
    message = getattr(exc, "detail", None) or (exc.args[0] if exc.args else _("Ditolak."))
    return {getattr(exc, "field", None) or "non_field_errors": [str(message)]}


def _json_type(value) -> str:
    """How JSON names the type of ``value``, for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return _("boolean")
    if isinstance(value, int | float):
        return _("angka")
    if isinstance(value, str):
        return _("teks")
    return _("larik (array)")


def batch_upsert(view, request, *, key: str, row_serializer, upsert,
                 retry_refused: bool = False) -> Response:
    """POST ``{"rows": [...]}``. Each row is validated by ``row_serializer`` and written by
    ``upsert(actor=…, <key>=…, **validated)`` → (object, "created"|"updated"|"unchanged") in a
    savepoint of its own: a refused row changes nothing and the others still apply. The whole
    request is one transaction with its Idempotency-Key record, so a retried batch replays.

    With ``retry_refused`` the rows a rule refused (a validation error) are tried once more
    after all the others, in their order (unless a later row names the same key: the later
    one stands): a rule that one row may pass only after another row
    of the same batch applied — the persons' one kepala keluarga per household, when a whole
    KK is sent again with its new kepala listed before the former one's new relationship —
    answers as the import of the same rows does, whatever their order."""

    def handle():
        rows = request.data.get("rows") if isinstance(request.data, dict) else None
        if not isinstance(rows, list) or not rows:
            raise ValidationError({"rows": [_("Kirim daftar baris di 'rows'.")]})
        limit = settings.SYNC_BATCH_MAX_ROWS
        if len(rows) > limit:
            raise ValidationError({"rows": [_("Paling banyak %(max)s baris per permintaan "
                                              "(dikirim %(n)s).") % {"max": limit,
                                                                     "n": len(rows)}]})
        context = view.get_serializer_context()

        def apply(index, row) -> tuple[dict, bool]:
            """The row's result, and whether a rule refused it (worth another try)."""
            value = str(row.get(key) or "").strip() if isinstance(row, dict) else ""
            result = {"index": index, key: value or None, "status": "refused", "id": None,
                      "errors": None}
            try:
                with transaction.atomic():
                    if not isinstance(row, dict):
                        raise ValidationError({"non_field_errors": [_(
                            "Setiap baris di 'rows' harus berupa objek JSON ({\"%(key)s\": …}), "
                            "bukan %(type)s.") % {"key": key, "type": _json_type(row)}]})
                    if not value:
                        raise ValidationError({key: [_("%(key)s wajib diisi.") % {"key": key}]})
                    serializer = row_serializer(data=row, context=context)
                    serializer.is_valid(raise_exception=True)
                    obj, outcome = upsert(actor=request.user, **{key: value},
                                          **serializer.validated_data)
                result.update(status=outcome, id=obj.pk)
            except DjangoValidationError as exc:
                result["errors"] = _row_errors(exc)
                return result, isinstance(row, dict) and bool(value)
            except (ValidationError, PermissionDenied, Http404) as exc:
                result["errors"] = _row_errors(exc)
            return result, False

        results, again = [], []
        for index, row in enumerate(rows):
            result, refused_by_rule = apply(index, row)
            results.append(result)
            if refused_by_rule:
                again.append(index)
        if retry_refused and len(again) < len(rows):
            last = {result[key]: result["index"] for result in results}
            for index in again:  # a later row of the same key stands: never written over
                if last[results[index][key]] == index:
                    results[index] = apply(index, rows[index])[0]
        summary = {o: sum(r["status"] == o for r in results) for o in OUTCOMES}
        return Response({"summary": summary, "results": results}, status=status.HTTP_200_OK)

    return run_idempotent(request, handle)
