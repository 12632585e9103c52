"""Every API error is JSON a person can act on:
``{"detail": "<message>", "code": "<code>", "errors": {"<field>": ["<message>", …]}}``."""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from dinsos import locks, unique


def _flatten_codes(detail):
    if isinstance(detail, list) and detail:
        return _flatten_codes(detail[0])
    if isinstance(detail, dict) and detail:
        return _flatten_codes(next(iter(detail.values())))
    return getattr(detail, "code", None)


def _details(errors) -> list:
    """Django ValidationErrors → DRF ErrorDetails, keeping each validator's code."""
    return [
        exceptions.ErrorDetail(
            str(e.message % e.params) if e.params else str(e.message), code=e.code or "invalid"
        )
        for e in errors
    ]


def _as_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        key = {"__all__": "non_field_errors"}
        return exceptions.ValidationError(
            {key.get(field, field): _details(errors) for field, errors in exc.error_dict.items()}
        )
    return exceptions.ValidationError({"non_field_errors": _details(exc.error_list)})


class LockBusy(exceptions.APIException):
    """A row the request needs is held by another process longer than ``WEB_LOCK_TIMEOUT``."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "sedang_dikunci"
    default_detail = locks.MESSAGE
    wait = locks.RETRY_AFTER  # DRF's Retry-After header


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _indonesian(exc):
    """DRF and Django texts that are English (or say too much) whatever the language: the
    rest of DRF's messages are translated by the project catalog (locale/id)."""
    if isinstance(exc, Http404):
        # "No Person matches the given query." names the model: one generic answer, the same
        # for a missing id and one outside the user's area.
        return exceptions.NotFound()
    if isinstance(exc, exceptions.ParseError):
        return exceptions.ParseError(_(
            "Isi permintaan tidak dapat dibaca: kirim JSON yang sah (periksa tanda kutip, koma "
            "dan kurung) dengan Content-Type yang sesuai."))
    if isinstance(exc, exceptions.Throttled):
        # DRF appends "Expected available in N seconds." in English: the message is ours.
        detail = (_("Terlalu banyak permintaan. Coba lagi dalam %(wait)d detik.")
                  % {"wait": math.ceil(exc.wait)} if exc.wait is not None
                  else _("Terlalu banyak permintaan. Coba lagi nanti."))
        throttled = exceptions.Throttled(detail=detail)
        throttled.wait = exc.wait  # keeps the Retry-After header
        return throttled
    if locks.is_lock_conflict(exc):
        return LockBusy()
    if isinstance(exc, ProtectedError):
        return Conflict(_("Data ini tidak dapat dihapus karena masih dipakai oleh data lain."))
    return exc


NON_FIELD = "non_field_errors"


def _flat_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """The documented shape, ``{field: [message, …]}``, for nested serializers too: an error of
    the second board member's name is ``"board_members.1.name"``. DRF's English "No data
    provided" (a JSON body of ``null``) is said in Indonesian."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        errors = {str(i): item for i, item in enumerate(errors) if item}
    if not isinstance(errors, dict):
        errors = {NON_FIELD: errors}
    for key, value in errors.items():
        name = prefix.rstrip(".") if key == NON_FIELD and prefix else f"{prefix}{key}"
        if isinstance(value, dict) or (isinstance(value, list) and value and all(
                isinstance(v, dict | list) for v in value)):
            flat.update(_flat_errors(value, f"{name}."))
            continue
        for message in value if isinstance(value, list) else [value]:
            text = (_("Isi permintaan kosong (null): kirim objek JSON berisi kolom-kolomnya.")
                    if getattr(message, "code", None) == "null" and key == NON_FIELD
                    else str(message))
            flat.setdefault(name, []).append(text)
    return flat


def exception_handler(exc, context):
    exc = unique.refusal(exc) or exc  # a unique index met after the checks: 400, the field
    if isinstance(exc, DjangoValidationError):
        exc = _as_drf(exc)
    exc = _indonesian(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = _flat_errors(data)
        response.data = {
            "detail": _("Data tidak valid. Periksa kolom yang disebut di 'errors'."),
            "code": _flatten_codes(exc.detail) or "invalid",
            "errors": errors,
        }
    elif isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
        if isinstance(exc, exceptions.ParseError):
            response.data["errors"] = {"non_field_errors": [str(detail)]}
    return response


def api_not_found(request, exception=None):
    """404 for unknown URLs: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Alamat API tidak ditemukan: %(path)s") % {"path": request.path},
             "code": "not_found"},
            status=status.HTTP_404_NOT_FOUND,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_server_error(request):
    """500 under /api/: the same JSON shape, no traceback; Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Terjadi kesalahan di server."), "code": "server_error"},
                            status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    from django.views.defaults import server_error

    return server_error(request)
