"""The sync changes feed, in one place.

Every change of a registered model (``changes.register(Model)``, next to ``audit.register``) is
written to ``dinsos.Change`` in the same transaction as the change itself: saves and deletes
through the model's signals — whoever saves, API, admin, staff pages, imports via
``record_saved`` for their bulk writes — and merges by the merge service (``record_merged``).
A save that moves a record to another area writes ``left_area`` for the area it left, then
``upsert`` for its new one. Only the newest ``upsert`` of a record is kept (it is read with the
record's current data), so the log stays about one row per record plus tombstones.

Order and cursor. A feed reads changes by ``(txid, id)`` after a cursor. ``id`` comes from a
sequence, but sequences are handed out at INSERT time, not at COMMIT: a transaction that took
id 100 can commit after id 101 was read, and a feed ordered by id (or by ``updated_at``) would
step over it forever. So on PostgreSQL each row carries its transaction id
(``pg_current_xact_id()``) and a feed reads only rows whose transaction is below the oldest
transaction still running (``pg_snapshot_xmin``): those are all committed or rolled back, and
every row that becomes visible later has a larger ``txid``, so it sorts after any cursor handed
out. A long transaction delays the feed (never loses a row). SQLite serialises writers, so
``id`` order is commit order there and ``txid`` is 0.
"""

import base64
import binascii
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BigIntegerField, Func, Max, Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos.models import Change
from dinsos.scoping import ALL, user_area

Kind = Change.Kind
_MAX_SEQ = 2**63 - 1


class _CurrentTxid(Func):
    """The writing transaction's id on PostgreSQL; 0 elsewhere (SQLite serialises writers)."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra):
        return "0", []

    def as_postgresql(self, compiler, connection, **extra):
        return "pg_current_xact_id()::text::bigint", []


def resource(model) -> str:
    return model._meta.label_lower


def _area_attname(model) -> str:
    return model._meta.get_field(model.scope_field).attname


# --- writing ----------------------------------------------------------------------------------


def _write(model, entries: list[Change]) -> None:
    label = resource(model)
    now = timezone.now()
    Change.objects.filter(
        resource=label, kind=Kind.UPSERT, object_id__in={e.object_id for e in entries}
    ).delete()
    for entry in entries:
        entry.resource, entry.at, entry.txid = label, now, _CurrentTxid()
    Change.objects.bulk_create(entries, batch_size=1000)


def record_saved(model, rows) -> None:
    """Records created or changed: ``rows`` are ``(pk, old_area or None, new_area)``. Bulk
    writers (imports) call this themselves; single saves arrive through the signals."""
    entries = []
    for pk, old_area, new_area in rows:
        if old_area and old_area != new_area:
            entries.append(Change(object_id=pk, kind=Kind.LEFT_AREA, area=old_area,
                                  new_area=new_area or ""))
        entries.append(Change(object_id=pk, kind=Kind.UPSERT, area=new_area or ""))
    if entries:
        _write(model, entries)


def record_saved_bulk(model, rows) -> None:
    """``record_saved`` for large bulk writes (the PMKS import through COPY), set-based: one
    DELETE of the records' previous ``upsert`` rows and one INSERT of the new rows from arrays,
    with no model instance per row. Same rows as ``record_saved``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        record_saved(model, rows)
        return
    label = resource(model)
    pks = [pk for pk, _old, _new in rows]
    left = [(pk, old, new) for pk, old, new in rows if old and old != new]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dinsos_change WHERE resource = %s AND kind = %s AND "
                       "object_id = ANY(%s)", [label, Kind.UPSERT, pks])
        insert = ("INSERT INTO dinsos_change (txid, resource, object_id, kind, area, new_area, "
                  "at) SELECT pg_current_xact_id()::text::bigint, %s, v.pk, %s, v.area, "
                  "v.new_area, %s FROM unnest(%s::bigint[], %s::text[], %s::text[]) "
                  "AS v(pk, area, new_area)")
        now = timezone.now()
        if left:
            cursor.execute(insert, [label, Kind.LEFT_AREA, now, [pk for pk, _o, _n in left],
                                    [old for _p, old, _n in left],
                                    [new or "" for _p, _o, new in left]])
        cursor.execute(insert, [label, Kind.UPSERT, now, pks,
                                [new or "" for _p, _o, new in rows], [""] * len(rows)])


def record_bulk(model, entries) -> None:
    """Rows written in bulk, as audited by ``audit.log_bulk`` (instance, {field: [old, new]},
    LogEntry action): every audited bulk write feeds the change log too."""
    if not is_registered(model):
        return
    from auditlog.models import LogEntry

    attname = _area_attname(model)
    deleted = [i for i, _d, action in entries if action == LogEntry.Action.DELETE]
    if deleted:
        _write(model, [Change(object_id=i.pk, kind=Kind.DELETED,
                              area=getattr(i, attname) or "") for i in deleted])
    saved = []
    for instance, diff, action in entries:
        if action == LogEntry.Action.DELETE:
            continue
        moved = diff.get(attname) or diff.get(model.scope_field)
        old = moved[0] if moved and action == LogEntry.Action.UPDATE else None
        saved.append((instance.pk, old, getattr(instance, attname)))
    record_saved(model, saved)


def update(queryset, **values) -> int:
    """``QuerySet.update`` for registered models: the rows' ``updated_at`` moves and each
    changed row is fed (an UPDATE statement sends no signal)."""
    model = queryset.model
    attname = _area_attname(model)
    rows = list(queryset.values_list("pk", attname))
    if any(f.name == "updated_at" for f in model._meta.fields):
        values.setdefault("updated_at", timezone.now())
    count = model._base_manager.filter(pk__in=[pk for pk, _a in rows]).update(**values)
    record_saved(model, [(pk, None, area) for pk, area in rows])
    return count


def record_merged(instance, *, into) -> None:
    """``instance`` was folded into ``into`` (called by the merge service)."""
    _write(type(instance), [Change(object_id=instance.pk, kind=Kind.MERGED, merged_into=into.pk,
                                   area=getattr(instance, _area_attname(type(instance))) or "")])


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    attname = _area_attname(sender)
    if raw or instance._state.adding:
        old = None
    elif update_fields is not None and sender.scope_field not in update_fields:
        old = getattr(instance, attname)
    else:
        old = sender._base_manager.filter(pk=instance.pk).values_list(attname, flat=True).first()
    instance.__dict__["_changes_old_area"] = old


def _after_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    old = instance.__dict__.pop("_changes_old_area", None)
    record_saved(sender, [(instance.pk, old, getattr(instance, _area_attname(sender)))])


def _after_delete(sender, instance, **kwargs):
    _write(sender, [Change(object_id=instance.pk, kind=Kind.DELETED,
                           area=getattr(instance, _area_attname(sender)) or "")])


_REGISTERED: set = set()


def is_registered(model) -> bool:
    return model in _REGISTERED


def register(model):
    """Feed the changes of ``model`` (its ``scope_field`` must be a direct foreign key to
    Wilayah). Usable as a class decorator."""
    _REGISTERED.add(model)
    uid = f"dinsos.changes.{resource(model)}"
    pre_save.connect(_before_save, sender=model, dispatch_uid=uid, weak=False)
    post_save.connect(_after_save, sender=model, dispatch_uid=uid, weak=False)
    post_delete.connect(_after_delete, sender=model, dispatch_uid=uid, weak=False)
    return model


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Position:
    txid: int = 0
    seq: int = 0

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.txid}.{self.seq}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Position":
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            txid, seq = (int(part) for part in raw.split("."))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationError(
                {"cursor": _("Kursor tidak dikenal. Gunakan nilai 'cursor' dari jawaban "
                             "sebelumnya, atau mulai tanpa kursor.")}, code="invalid_cursor",
            ) from None
        if txid < 0 or seq < 0:
            raise ValidationError({"cursor": _("Kursor tidak dikenal.")}, code="invalid_cursor")
        return cls(txid, seq)


@dataclass
class FeedPage:
    changes: list
    position: Position
    more: bool


def _code_q(field: str, area) -> Q:
    return Q(**{field: area}) | Q(**{f"{field}__startswith": f"{area}."})


def _visible(area) -> Q:
    """Which change rows a user of ``area`` reads: everything inside it, and ``left_area``
    only when the record went somewhere outside it."""
    if area is ALL:
        return ~Q(kind=Kind.LEFT_AREA)
    if not area:
        return Q(pk__in=[])
    return _code_q("area", area) & (~Q(kind=Kind.LEFT_AREA) | ~_code_q("new_area", area))


def _horizon() -> tuple[int | None, int | None]:
    """(oldest running transaction, this transaction if it wrote) on PostgreSQL; one
    statement, taken before the rows are read."""
    if connection.vendor != "postgresql":
        return None, None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                       "pg_current_xact_id_if_assigned()::text::bigint")
        return cursor.fetchone()


def feed(*, model, user, after: Position | None = None, since=None, limit: int) -> FeedPage:
    """Changes of ``model`` the user may read, after ``after`` (or changed at or after
    ``since`` on a first pull), at most ``limit``, oldest first."""
    xmin, own = _horizon()
    qs = Change.objects.filter(Q(resource=resource(model)) & _visible(user_area(user)))
    if xmin is not None:
        qs = qs.filter(Q(txid__lt=xmin) | Q(txid=own) if own else Q(txid__lt=xmin))
    if after is not None:
        qs = qs.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.seq))
    if since is not None:
        qs = qs.filter(at__gte=since)
    rows = list(qs.order_by("txid", "id")[:limit])
    if rows:
        position = Position(rows[-1].txid, rows[-1].id)
    elif xmin is not None:
        # Nothing for this reader below the horizon: resume from there next time.
        position = max(after or Position(), Position(xmin - 1, _MAX_SEQ))
    else:
        last = Change.objects.aggregate(last=Max("id"))["last"] or 0
        position = max(after or Position(), Position(0, last))
    return FeedPage(changes=rows, position=position, more=len(rows) == limit)
