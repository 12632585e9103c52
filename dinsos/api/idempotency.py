"""``Idempotency-Key`` for POST endpoints, in one place.

A client that retries a POST after a timeout sends the same key; the first response the
handler returns is stored in the same transaction as the work it describes, and every later
request with that key gets the stored response back (header ``Idempotent-Replayed: true``)
without running again. A refusal the handler *raises* rolls its work back and stores nothing
(the same key runs again); a refusal that keeps a record of itself (a list refused for the
pagu stays on the tahap as a failed job) is *returned* (``refusal_response``), so it commits
with its stored 400 and the same key answers that 400 again instead of recording it twice.
Two requests racing with one key meet at the database's unique constraint: the loser's work is
rolled back and it answers with the winner's response. Reusing a key for a different request is
refused (422), a file counting by its content. Keys are per user and kept for
``IDEMPOTENCY_KEY_DAYS`` (a daily task, ``dinsos.purge_idempotency_keys``, removes older ones).
"""

import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from dinsos.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "Permintaan dengan Idempotency-Key ini sedang diproses. Ulangi sebentar lagi."
    )
    default_code = "idempotency_in_progress"


class IdempotencyMismatch(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "Idempotency-Key ini sudah dipakai untuk permintaan lain. "
        "Gunakan kunci baru untuk data baru."
    )
    default_code = "idempotency_key_reused"


def _fingerprint(request) -> str:
    payload = json.dumps(
        {"method": request.method, "path": request.path, "data": request.data},
        sort_keys=True, default=_value,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _value(value) -> str:
    """A request value JSON does not know: an uploaded file by its content (by its name alone,
    another file sent with the same name and key was answered with the first one's answer),
    anything else as text."""
    if hasattr(value, "chunks"):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"file:{digest.hexdigest()}"
    return str(value)


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyMismatch()
    return Response(
        record.response_body, status=record.status_code, headers={REPLAYED_HEADER: "true"}
    )


def run_idempotent(request, handler) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not 1 <= len(key) <= 100:
        raise ValidationError({HEADER: [_("Idempotency-Key harus 1 sampai 100 karakter.")]})
    fingerprint = _fingerprint(request)
    record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if record is not None:
        return _replay(record, fingerprint)
    try:
        with transaction.atomic():
            response = handler()
            if not status.is_server_error(response.status_code):
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                IdempotencyKey.objects.create(
                    user=request.user, key=key, method=request.method, path=request.path[:255],
                    fingerprint=fingerprint, status_code=response.status_code,
                    response_body=body,
                )
    except IntegrityError:
        record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if record is None:
            raise IdempotencyConflict() from None
        return _replay(record, fingerprint)
    except Exception:
        # A retry racing the first request can fail on the data the first one just wrote
        # (e.g. "No. KK already exists"); if that request finished, answer with its response.
        record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
        if record is not None:
            return _replay(record, fingerprint)
        raise
    return response


def refusal_response(view, exc) -> Response:
    """``exc`` answered as the API answers any error (``dinsos.api.errors``), for a handler
    whose refusal wrote something that must stay: returned, not raised, it commits with the
    work and is the stored answer of an ``Idempotency-Key``."""
    return view.handle_exception(exc)


class IdempotentCreateMixin:
    """Makes ``create`` (POST on the list URL) honour Idempotency-Key. Custom POST actions
    call ``run_idempotent`` themselves (see ``idempotent_action``)."""

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: super(IdempotentCreateMixin, self).create(
            request, *args, **kwargs))


def idempotent_action(func):
    """Decorator for a viewset ``@action`` handling POST."""

    def wrapper(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: func(self, request, *args, **kwargs))

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper
