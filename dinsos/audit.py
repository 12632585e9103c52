"""The audit trail, in one place, on django-auditlog.

Every registered model gets a LogEntry per create, update and delete with the actor, time,
remote address and the old → new value of each field (NIK, No. KK, account numbers and
passwords are masked). ``audit_context`` says who acts and through which door (admin, web,
api, command, task); the middleware opens it for every request, resolving the user lazily so
that DRF token authentication (which happens inside the view) is seen too; ``AuditedCommand``
and the Celery base task open it for commands and tasks.
"""

import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from auditlog.registry import auditlog
from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import pre_save
from django.utils import timezone

from dinsos.scoping import IDENTIFIER_FIELDS
from dinsos.validators import mask_identity_number, mask_identity_numbers_in

_current: ContextVar["AuditContext | None"] = ContextVar("dinsos_audit_context", default=None)


@dataclass
class AuditContext:
    source: str
    actor: Any = None
    request: Any = None
    extra: dict = field(default_factory=dict)

    def resolve_actor(self):
        if self.actor is not None:
            return self.actor
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


@contextmanager
def audit_context(*, source: str | None = None, actor=None, request=None, **extra):
    """Open (or narrow) the audit context. Nested calls inherit what they don't override."""
    outer = _current.get()
    ctx = AuditContext(
        source=source or (outer.source if outer else "system"),
        actor=actor if actor is not None else (outer.actor if outer else None),
        request=request or (outer.request if outer else None),
        extra={**(outer.extra if outer else {}), **extra},
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def current_context() -> AuditContext | None:
    return _current.get()


def _fill_log_entry(sender, instance, **kwargs):
    ctx = _current.get()
    if ctx is None:
        return
    actor = ctx.resolve_actor()
    if instance.actor_id is None and actor is not None:
        instance.actor = actor
        instance.actor_email = getattr(actor, "email", None) or None
    if ctx.request is not None and not instance.remote_addr:
        instance.remote_addr = ctx.request.META.get("REMOTE_ADDR")
    instance.additional_data = {
        **(instance.additional_data or {}), "source": ctx.source, **ctx.extra
    }


def connect():
    from auditlog.models import LogEntry

    pre_save.connect(_fill_log_entry, sender=LogEntry, dispatch_uid="dinsos.audit.fill_log_entry")


# Personal identifiers are masked in the trail (UU 27/2022): the log shows that they changed.
MASKED_FIELDS = tuple(IDENTIFIER_FIELDS)
EXCLUDED_FIELDS = ("password", "last_login")


def register(model=None, **options):
    """Register a model for auditing (usable as a class decorator). Identifiers are masked and
    secrets excluded for every model, whatever the caller passes."""

    def _register(cls):
        names = {f.name for f in cls._meta.fields}
        mask = {*options.pop("mask_fields", ()), *(n for n in MASKED_FIELDS if n in names)}
        exclude = {*options.pop("exclude_fields", ()), *(n for n in EXCLUDED_FIELDS if n in names)}
        auditlog.register(cls, mask_fields=sorted(mask), exclude_fields=sorted(exclude), **options)
        return cls

    return _register(model) if model is not None else _register


def log_bulk(model, entries: list[tuple[object, dict, int]]) -> None:
    """Audit rows written in bulk (imports), where no save() signal fires: ``entries`` are
    (instance, {field: [old, new]}, action) with action a LogEntry.Action. One INSERT per call;
    masked fields are masked as for single saves."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    if not entries:
        return
    content_type = ContentType.objects.get_for_model(model)
    masked = set(MASKED_FIELDS)
    ctx = _current.get()
    actor = ctx.resolve_actor() if ctx else None
    extra = {"source": ctx.source if ctx else "system", **(ctx.extra if ctx else {}), "bulk": True}
    rows = []
    for instance, changes, action in entries:
        shown = {
            name: [None if v is None else mask_identity_number(v) if name in masked else str(v)
                   for v in pair]
            for name, pair in changes.items()
        }
        rows.append(LogEntry(
            content_type=content_type, object_pk=str(instance.pk),
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=str(instance)[:200], action=action, changes=shown,
            changes_text="", actor=actor, additional_data=extra,
        ))
    LogEntry.objects.bulk_create(rows, batch_size=1000)
    from dinsos.changes import record_bulk

    record_bulk(model, entries)  # every audited bulk write feeds the sync change log too


def log_batch(model, *, rows: tuple[int, int], created: list, updated: dict) -> None:
    """ONE entry for a chunk of a bulk import (instead of one per row): the file's row range,
    the ids created and, per id updated, {field: [old, new]} (identifiers masked as for
    single saves). ``objects`` lists every id touched so one record's history finds the entry
    (``entries_for``; indexed on PostgreSQL)."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    masked = set(MASKED_FIELDS)
    updated = {
        str(pk): {name: [None if v is None else mask_identity_number(v) if name in masked
                         else str(v) for v in pair] for name, pair in diff.items()}
        for pk, diff in updated.items()
    }
    first, last = rows
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model), object_pk="", object_id=None,
        object_repr=f"impor baris {first}–{last}: {len(created)} {model._meta.verbose_name} "
                    f"baru, {len(updated)} diubah"[:200],
        action=LogEntry.Action.CREATE if not updated else LogEntry.Action.UPDATE,
        changes=None, changes_text="",
        additional_data={"bulk": True, "rows": [first, last],
                         "objects": [*created, *(int(pk) for pk in updated)],
                         "created": list(created), "updated": updated},
    )


def entries_for(obj):
    """The trail of one record: its own entries and the bulk import entries that touched it
    (``log_batch``). Newest first is the caller's ordering."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    entries = LogEntry.objects.get_for_object(obj)
    if isinstance(obj.pk, int):
        batches = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_pk="",
            additional_data__bulk=True)
        if connection.vendor == "postgresql":
            entries = entries | batches.filter(additional_data__objects__contains=[obj.pk])
        else:  # no JSON containment on SQLite (where the import writes one entry per row)
            ids = [e.pk for e in batches.only("pk", "additional_data")
                   if obj.pk in e.additional_data.get("objects", ())]
            entries = entries | LogEntry.objects.filter(pk__in=ids)
    return entries


def entry_changes(entry, obj) -> tuple[int, dict]:
    """(action, {field: [old, new]}) of ``entry`` for ``obj``, a bulk entry included."""
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    if entry.object_pk == "" and data.get("bulk") and "objects" in data:
        from auditlog.models import LogEntry

        if obj.pk in data.get("created", ()):
            return LogEntry.Action.CREATE, {}
        return LogEntry.Action.UPDATE, data.get("updated", {}).get(str(obj.pk), {})
    return entry.action, entry.changes_dict or {}


def log_access(instance) -> None:
    """Record that a person's data was read (an ACCESS entry in the same trail)."""
    from auditlog.signals import accessed

    accessed.send(sender=instance.__class__, instance=instance)


def masked_query(query) -> dict:
    """The query of a read as the trail keeps it: every value as text, a NIK, No. KK or NPWP
    in it (a search or export by the whole number — the only one a masked role may make)
    masked as the trail masks identifiers (``mask_identity_numbers_in``, as the logs do);
    jsonb holds no NUL."""
    return {mask_identity_numbers_in(str(k).replace("\x00", "")):
            mask_identity_numbers_in(str(v).replace("\x00", ""))
            for k, v in (query or {}).items()}


def log_read(model, *, what: str, pks=(), query=None) -> None:
    """Record that a list, export or report of personal data was read: ONE ACCESS entry for
    the whole read (``what``: "daftar", "ekspor"…), naming the rows shown (a list page) or the
    query that selected them (a streamed export; identifiers in it masked, ``masked_query``).
    Written on every list page, so on PostgreSQL
    it is one INSERT without the ORM whose commit does not wait for the WAL flush
    (``synchronous_commit = off`` for that transaction only: the entry is durable a fraction
    of a second later, and only a crash of the database server in that moment could lose it;
    the flush used to be most of a list page's time)."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections, router

    content_type = ContentType.objects.get_for_model(model)
    data = {"read": what, "rows": [str(pk) for pk in pks], "query": masked_query(query)}
    repr_ = f"{what} {model._meta.verbose_name_plural}"[:200]
    connection = connections[router.db_for_write(LogEntry)]
    if connection.vendor != "postgresql":
        LogEntry.objects.create(
            content_type=content_type, object_pk="", object_id=None, object_repr=repr_,
            action=LogEntry.Action.ACCESS, changes=None, changes_text="", additional_data=data)
        return
    ctx = _current.get()
    actor = ctx.resolve_actor() if ctx else None
    if ctx is not None:
        data = {**data, "source": ctx.source, **ctx.extra}
    remote_addr = ctx.request.META.get("REMOTE_ADDR") if ctx and ctx.request else None
    insert = (f"INSERT INTO {LogEntry._meta.db_table} (content_type_id, object_pk, object_repr, "
              "action, changes_text, actor_id, actor_email, remote_addr, additional_data, "
              "timestamp) VALUES (%s, '', %s, %s, '', %s, %s, %s, %s, %s)")
    if not connection.in_atomic_block:  # one statement string: one implicit transaction
        insert = "SET LOCAL synchronous_commit TO OFF; " + insert
    with connection.cursor() as cursor:
        cursor.execute(insert, [content_type.pk, repr_, LogEntry.Action.ACCESS,
                                actor.pk if actor else None,
                                (getattr(actor, "email", None) or None) if actor else None,
                                remote_addr or None, json.dumps(data, cls=DjangoJSONEncoder),
                                timezone.now()])


def _source_for_path(path: str) -> str:
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/"):
        return "api"
    return "web"


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_context(source=_source_for_path(request.path), request=request):
            return self.get_response(request)


class AuditedCommand(BaseCommand):
    """Base for management commands: their writes are audited with source ``command:<name>``."""

    def execute(self, *args, **options):
        name = self.__class__.__module__.rsplit(".", 1)[-1]
        with audit_context(source=f"command:{name}"):
            return super().execute(*args, **options)
