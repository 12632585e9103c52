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
transaction of this database still running (``_horizon``): those are all committed or rolled
back, and
every row that becomes visible later has a larger ``txid``, so it sorts after any cursor handed
out. A long transaction delays the feed (never loses a row). SQLite serialises writers, so
``id`` order is commit order there and ``txid`` is 0.
"""

import base64
import binascii
import re
import zlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BigIntegerField, Func, Max, Q
from django.db.models.expressions import RawSQL
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
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


def _area_path(model) -> str:
    return _REGISTERED[model]


def _area_attname(model) -> str | None:
    """The column holding the area when it is the model's own foreign key, else None (the
    area is reached through a parent: ``worker__desa``)."""
    path = _area_path(model) if model in _REGISTERED else model.scope_field
    return None if "__" in path else model._meta.get_field(path).attname


def areas_of(model, pks) -> dict:
    """{pk: area code} of the rows as stored now (through the scope path)."""
    pks = list(pks)
    if not pks:
        return {}
    path = _area_path(model)
    _lock_parents(model, path, pks)
    return {pk: area or "" for pk, area in model._base_manager.filter(_among("pk", pks))
            .order_by().values_list("pk", path)}


def _owner(path_model, path: str):
    """The model holding the area foreign key at the end of ``path`` (``Worker`` for a report's
    ``worker__desa``), or None when the area is the model's own field."""
    if "__" not in path:
        return None
    target = path_model
    for part in path.split("__")[:-1]:
        target = target._meta.get_field(part).related_model
    return target


def _move_key(model) -> int:
    """The first key of the advisory locks that order the moves of ``model``'s records against
    the writes of the records whose area is read through them (two 32-bit keys: a space of its
    own, apart from the one-key locks of the import and the payout computation)."""
    return zlib.crc32(model._meta.db_table.encode()) & 0x7FFFFFFF


def _lock_parents(model, path: str, pks: list) -> None:
    """On PostgreSQL, before a record's area is read through its parent (the worker of a
    report, ``worker__desa``): a SHARED advisory lock per parent, which a move of that parent
    takes EXCLUSIVELY (``_lock_moves``). A report saved while another transaction moved its
    worker read the worker's old area (the move was not committed) and filed its change there,
    and the mover's re-feed of the worker's records could not see the report (not committed
    either): the new district never got it, the old one kept it. Now the report's writer waits
    for the mover to commit, or the mover for the writer, and under READ COMMITTED the next
    statement reads the committed area either way. Only moves wait: a parent's other updates
    take no advisory lock (a row lock ``FOR SHARE`` made every edit of a worker wait for any
    transaction that had saved one of its records — a whole PSKS import — and a flow saving a
    record and then updating its parent deadlock against itself), and sibling writers share
    the lock."""
    owner = _owner(model, path)
    if connection.vendor != "postgresql" or owner is None:
        return
    parents = (model._base_manager.filter(_among("pk", pks)).order_by(path.rsplit("__", 1)[0])
               .values_list(path.rsplit("__", 1)[0], flat=True).distinct())
    ids = sorted({pk for pk in parents if pk is not None})
    if ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, (v.pk %% 2147483647)::int) "
                           "FROM unnest(%s::bigint[]) AS v(pk)", [_move_key(owner), _array(ids)])


def _lock_moves(model, pks) -> None:
    """A move of ``model``'s records to another area (their own area field changes) waits for
    the writers of the records whose area is read through them, and makes new ones wait
    (``_lock_parents``), on PostgreSQL; in id order."""
    if connection.vendor != "postgresql" or model not in _OWNERS:
        return
    ids = sorted(pks)
    if ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, (v.pk %% 2147483647)::int) "
                           "FROM unnest(%s::bigint[]) AS v(pk)", [_move_key(model), _array(ids)])


def _prior_areas(model, pks) -> dict:
    """{pk: area} of each record's last upsert in the log: where a reader last saw it. A
    record has one (``dinsos_change_one_upsert``); read newest last all the same, so the
    answer never depends on the order the database happens to return rows in."""
    return dict(Change.objects.filter(_among("object_id", pks), resource=resource(model),
                                      kind=Kind.UPSERT).order_by("txid", "id")
                .values_list("object_id", "area"))


# --- writing ----------------------------------------------------------------------------------


def _write(model, entries: list[Change]) -> None:
    """File ``entries``: a tombstone takes the place of the record's upsert row; an upsert
    replaces it (``_upsert``), tombstones and ``left_area`` first, so they sort before it."""
    label = resource(model)
    now = timezone.now()
    upserts = {e.object_id: e.area for e in entries if e.kind == Kind.UPSERT}
    others = [e for e in entries if e.kind != Kind.UPSERT]
    if connection.vendor == "postgresql":
        gone = {e.object_id for e in others} - set(upserts)
    else:  # SQLite serialises writers: delete and insert
        gone = {e.object_id for e in entries}
    if gone:
        Change.objects.filter(resource=label, kind=Kind.UPSERT, object_id__in=gone).delete()
    for entry in others:
        entry.resource, entry.at, entry.txid = label, now, _CurrentTxid()
    Change.objects.bulk_create(others, batch_size=1000)
    if connection.vendor == "postgresql":
        _upsert(label, upserts, now)
    else:
        Change.objects.bulk_create(
            (Change(resource=label, object_id=pk, kind=Kind.UPSERT, area=area, at=now,
                    txid=_CurrentTxid()) for pk, area in upserts.items()), batch_size=1000)


def _upsert(label: str, areas: dict, now) -> None:
    """The records' upsert rows ({pk: area}) in one statement on PostgreSQL: a new row, or the
    record's existing one taking a new id, transaction and area. A DELETE then INSERT let two
    concurrent writers of one record each keep a row — the DELETE cannot see a row
    committed after it started — and the reader saw the record twice, or a stale area
    decided its next ``left_area``. The partial unique index (one upsert per record) makes
    the second writer wait for the first and then replace its row. In id order, so two
    writers of the same records lock them in one order."""
    if not areas:
        return
    pks = sorted(areas)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO dinsos_change (txid, resource, object_id, kind, area, new_area, at) "
            "SELECT pg_current_xact_id()::text::bigint, %(label)s, v.pk, %(upsert)s, v.area, "
            "       '', %(now)s "
            "FROM unnest(%(pks)s::bigint[], %(areas)s::text[]) WITH ORDINALITY AS v(pk, area, n) "
            "ORDER BY v.n "
            "ON CONFLICT (resource, object_id) WHERE kind = 'upsert' DO UPDATE SET "
            "id = EXCLUDED.id, txid = EXCLUDED.txid, area = EXCLUDED.area, at = EXCLUDED.at",
            {"label": label, "upsert": Kind.UPSERT, "now": now, "pks": _array(pks),
             "areas": _array(areas[pk] or "" for pk in pks)})


def record_saved(model, rows) -> None:
    """Records created or changed: ``rows`` are ``(pk, old_area or None, new_area)``. The area
    a record had is taken from its last upsert in the log (``old_area`` only when it has
    none), so a move writes ``left_area`` for the area it left whoever moved it. Bulk writers
    (imports) call this themselves; single saves arrive through the signals."""
    rows = list(rows)
    if not rows:
        return
    prior = _prior_areas(model, [pk for pk, _o, _n in rows])
    entries = []
    for pk, old_area, new_area in rows:
        old_area = prior.get(pk, old_area)
        if old_area and old_area != (new_area or ""):
            entries.append(Change(object_id=pk, kind=Kind.LEFT_AREA, area=old_area,
                                  new_area=new_area or ""))
        entries.append(Change(object_id=pk, kind=Kind.UPSERT, area=new_area or ""))
    _write(model, entries)


#: from this many rows on, ``refresh`` writes the log set-based (``record_saved_bulk``)
BULK_FROM = 1000


def refresh(model, pks) -> None:
    """Feed rows again as they are stored now (their area read through the scope path):
    after a bulk INSERT/UPDATE, or when a parent they show or live under changed."""
    if not is_registered(model):
        return
    areas = areas_of(model, pks)
    if len(areas) <= BULK_FROM:
        record_saved(model, [(pk, None, area) for pk, area in areas.items()])
        return
    prior = _prior_areas(model, list(areas))  # a whole run's lines: set-based
    record_saved_bulk(model, [(pk, prior.get(pk), area) for pk, area in areas.items()])


def record_saved_bulk(model, rows) -> None:
    """``record_saved`` for large bulk writes (the PMKS import through COPY), set-based: one
    INSERT of the ``left_area`` rows and one of the upsert rows (replacing each record's
    previous one, ``_upsert``) from arrays, with no model instance per row. Same rows as
    ``record_saved``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        record_saved(model, rows)
        return
    label = resource(model)
    left = [(pk, old, new) for pk, old, new in rows if old and old != new]
    now = timezone.now()
    if left:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO dinsos_change (txid, resource, object_id, kind, area, new_area, at) "
                "SELECT pg_current_xact_id()::text::bigint, %s, v.pk, %s, v.area, v.new_area, "
                "%s FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(pk, area, new_area)",
                [label, Kind.LEFT_AREA, now, _array(pk for pk, _o, _n in left),
                 _array(old for _p, old, _n in left), _array(new or "" for _p, _o, new in left)])
    _upsert(label, {pk: new or "" for pk, _old, new in rows}, now)


def _among(field: str, pks) -> Q:
    """``field`` is one of the integer ``pks``: on PostgreSQL as ONE array parameter (a whole
    payout run's 50,000 lines: Django compiles ``__in`` into a placeholder per value, half a
    second of Python before the query is sent), elsewhere as ``__in``."""
    pks = list(pks)
    if connection.vendor == "postgresql" and len(pks) > BULK_FROM:
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [_array(pks)])})
    return Q(**{f"{field}__in": pks})


def _array(values) -> str:
    """A PostgreSQL array literal (``{1,2}``, ``{"36.01",""}``): ONE constant for the server to
    read, where psycopg2 sends a list as ``ARRAY[…]``, an expression per element that the
    server parses and plans one by one (about 60 % more time per 25,000 rows of an import)."""
    def element(value) -> str:
        if isinstance(value, int):
            return str(value)
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(map(element, values)) + "}"


def record_bulk(model, entries) -> None:
    """Rows written in bulk, as audited by ``audit.log_bulk`` (instance, {field: [old, new]},
    LogEntry action): every audited bulk write feeds the change log too."""
    if not is_registered(model):
        return
    from auditlog.models import LogEntry

    deleted = [i for i, _d, action in entries if action == LogEntry.Action.DELETE]
    if deleted:
        prior = _prior_areas(model, [i.pk for i in deleted])
        _write(model, [Change(object_id=i.pk, kind=Kind.DELETED, area=prior.get(i.pk, ""))
                       for i in deleted])
    refresh(model, [i.pk for i, _d, action in entries if action != LogEntry.Action.DELETE])
    for parent, field in _SHOWN_IN.get(model, ()):  # where the rows are now, and were before
        ids = {getattr(i, field.attname) for i, _d, _a in entries}
        ids |= {(diff.get(field.name) or diff.get(field.attname))[0] for _i, diff, _a in entries
                if diff.get(field.name) or diff.get(field.attname)}
        refresh(parent, {int(pk) for pk in ids if pk not in (None, "")})


def record_deleted(model, pks) -> None:
    """Rows deleted in one statement (no signal): a tombstone each, in the area a reader last
    saw it. From ``BULK_FROM`` rows on PostgreSQL (a recompute deletes a whole run's lines) in
    one statement whatever their number, with no model instance per row."""
    pks = list(pks)
    if not pks or not is_registered(model):
        return
    if connection.vendor == "postgresql" and len(pks) >= BULK_FROM:
        _record_deleted_bulk(model, pks)
        return
    prior = _prior_areas(model, pks)
    _write(model, [Change(object_id=pk, kind=Kind.DELETED, area=prior.get(pk, ""))
                   for pk in pks])


def _record_deleted_bulk(model, pks: list) -> None:
    """``record_deleted`` as one statement: the records' upsert rows are deleted and their
    areas (where a reader last saw each) become the tombstones' areas, in the order of
    ``pks`` (as ``_write`` numbers them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH gone AS (DELETE FROM dinsos_change WHERE resource = %(label)s "
            # bigint[], as object_id: a list of Python ints is an integer[], and a bigint =
            # integer test of a large array is a linear search per row (4-7 s for the 150,000
            # log rows of a 50,000-line run), where bigint = bigint is hashed (0.1 s)
            "    AND kind = %(upsert)s AND object_id = ANY(%(pks)s::bigint[]) "
            "    RETURNING object_id, area), "
            "prior AS (SELECT DISTINCT ON (object_id) object_id, area FROM gone "
            "    ORDER BY object_id) "
            "INSERT INTO dinsos_change (txid, resource, object_id, kind, area, new_area, at) "
            "SELECT pg_current_xact_id()::text::bigint, %(label)s, v.pk, %(deleted)s, "
            "       coalesce(prior.area, ''), '', %(now)s "
            "FROM unnest(%(pks)s::bigint[]) WITH ORDINALITY AS v(pk, n) "
            # FULL, not LEFT: the same rows (every deleted upsert is one of the pks) but a
            # hash or merge join; the planner guesses 10 rows for unnest and 1 for the CTE,
            # and a nested loop made it n² (3 s for a run of 5,000 lines)
            "FULL JOIN prior ON prior.object_id = v.pk ORDER BY v.n",
            {"label": resource(model), "upsert": Kind.UPSERT, "deleted": Kind.DELETED,
             "pks": _array(pks), "now": timezone.now()})


def update(queryset, **values) -> int:
    """``QuerySet.update`` for registered models: the rows' ``updated_at`` moves and each
    changed row is fed (an UPDATE statement sends no signal)."""
    model = queryset.model
    pks = list(queryset.values_list("pk", flat=True))
    if any(f.name == "updated_at" for f in model._meta.fields):
        values.setdefault("updated_at", timezone.now())
    before = _parents_of(model, pks)
    attname = _area_attname(model) if model in _REGISTERED else None
    if attname and ({attname, attname.removesuffix("_id")} & set(values)):
        _lock_moves(model, pks)  # a move: waits for the writers of the records under them
    count = model._base_manager.filter(pk__in=pks).update(**values)
    refresh(model, pks)
    for parent, ids in _parents_of(model, pks).items():
        refresh(parent, ids | before[parent])
    return count


def _parents_of(model, pks) -> dict:
    """{parent model: ids} of the records that show ``model``'s rows ``pks`` inside them
    (``register(children=…)``), as stored now: one query per relation."""
    rows = model._base_manager.filter(pk__in=pks).order_by()
    return {parent: set(rows.exclude(**{field.attname: None})
                        .values_list(field.attname, flat=True).distinct())
            for parent, field in _SHOWN_IN.get(model, ())}


def record_merged(instance, *, into) -> None:
    """``instance`` was folded into ``into`` (called by the merge service)."""
    model = type(instance)
    area = _prior_areas(model, [instance.pk]).get(instance.pk) or areas_of(
        model, [instance.pk]).get(instance.pk, "")
    _write(model, [Change(object_id=instance.pk, kind=Kind.MERGED, merged_into=into.pk,
                          area=area)])


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    attname = _area_attname(sender)
    if raw or instance._state.adding or attname is None:
        old = None
    elif update_fields is not None and sender.scope_field not in update_fields:
        old = getattr(instance, attname)
    else:
        old = sender._base_manager.filter(pk=instance.pk).values_list(attname, flat=True).first()
        if old is not None and old != getattr(instance, attname):
            _lock_moves(sender, [instance.pk])
    instance.__dict__["_changes_old_area"] = old


def _after_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    old = instance.__dict__.pop("_changes_old_area", None)
    attname = _area_attname(sender)
    if attname is None:
        new = areas_of(sender, [instance.pk]).get(instance.pk, "")
    else:
        new = getattr(instance, attname)
    record_saved(sender, [(instance.pk, old, new)])


def _after_delete(sender, instance, **kwargs):
    area = _prior_areas(sender, [instance.pk]).get(instance.pk)
    if area is None:
        attname = _area_attname(sender)
        area = getattr(instance, attname) if attname else ""
    _write(sender, [Change(object_id=instance.pk, kind=Kind.DELETED, area=area or "")])


_REGISTERED: dict = {}
#: models whose records others' areas are read through (a worker for its reports): their
#: moves take ``_lock_moves``
_OWNERS: set = set()
_PENDING: list = []


def connect() -> None:
    """Connect the parent/children/m2m signals of registered models (called once the apps
    are loaded: related models are known only then)."""
    while _PENDING:
        connect_one, model, name = _PENDING.pop(0)
        connect_one(model, name)
    _OWNERS.update(filter(None, (_owner(model, path) for model, path in _REGISTERED.items())))


def is_registered(model) -> bool:
    return model in _REGISTERED


def registered_models() -> list:
    return list(_REGISTERED)


def _follow(model, lookup: str) -> None:
    """Saves of the record at ``lookup`` (a foreign-key path) re-feed ``model``'s rows under
    it: they may have moved with it, or show its fields."""
    target = model
    for part in lookup.split("__"):
        target = target._meta.get_field(part).related_model

    _FOLLOWERS.setdefault(target, []).append((model, lookup))

    def parent_saved(sender, instance, raw=False, **kwargs):
        if not raw:
            # no ordering: the model's default one may join (lines sort by worker name)
            refresh(model, model._base_manager.filter(**{lookup: instance.pk}).order_by()
                    .values_list("pk", flat=True))

    post_save.connect(parent_saved, sender=target, weak=False,
                      dispatch_uid=f"dinsos.changes.{resource(model)}.follows.{lookup}")


#: {parent model: [(model, lookup)]}: registered models whose rows a save of the parent
#: re-feeds (``_follow``: the parent on their area path, and ``follows``)
_FOLLOWERS: dict = {}


def moving(model, pks) -> None:
    """``model``'s records ``pks`` are about to be moved to another area by a raw UPDATE (the
    PMKS import through COPY): the locks a single save's move takes (``_lock_moves``), before
    the rows are locked, in the same order as a save's."""
    _lock_moves(model, sorted(set(pks)))


def saved_without_signal(model, pks) -> None:
    """What the save signals of ``model``'s records ``pks`` do beyond their own change rows,
    for records written by a raw UPDATE (the PMKS import through COPY): the rows that follow
    them are fed again as stored now (``_follow``: a case's services, read through
    ``case__desa``, move with it: ``left_area`` for the area they left, ``upsert`` in the
    new one) and the records that show them inside are re-fed (``children``). Their own rows
    the writer feeds itself (``record_saved_bulk``); a move takes ``moving`` first.
    Set-based: a fixed number of queries per related model, whatever the number of
    records."""
    pks = sorted(set(pks))
    if not pks:
        return
    for follower, lookup in _FOLLOWERS.get(model, ()):
        refresh(follower, follower._base_manager.filter(_among(lookup, pks)).order_by()
                .values_list("pk", flat=True))
    for parent, ids in _parents_of(model, pks).items():
        refresh(parent, ids)


#: {child model: [(parent model, foreign key)]}: records that show the child's rows inside
#: them (``register(children=…)``), for the bulk paths (``record_bulk``, ``update``)
_SHOWN_IN: dict = {}


def _follow_children(model, related_name: str) -> None:
    """Saves and deletes of the rows at ``related_name`` (children shown inside the record,
    a board of an institution, a household's members: its head's name and member count)
    re-feed the record — and the one a saved child left (a member who moved out)."""
    relation = model._meta.get_field(related_name)
    child, field = relation.related_model, relation.field
    attname, old_key = field.attname, f"_changes_old_{model._meta.model_name}"
    _SHOWN_IN.setdefault(child, []).append((model, field))

    def child_saving(sender, instance, raw=False, update_fields=None, **kwargs):
        if raw or instance._state.adding or (
                update_fields is not None and field.name not in update_fields):
            return
        instance.__dict__[old_key] = sender._base_manager.filter(pk=instance.pk).values_list(
            attname, flat=True).first()

    def child_changed(sender, instance, raw=False, **kwargs):
        parents = {getattr(instance, attname, None), instance.__dict__.pop(old_key, None)}
        if not raw and parents - {None}:
            refresh(model, sorted(parents - {None}))

    uid = f"dinsos.changes.{resource(model)}.children.{related_name}"
    pre_save.connect(child_saving, sender=child, weak=False, dispatch_uid=uid)
    post_save.connect(child_changed, sender=child, weak=False, dispatch_uid=uid)
    post_delete.connect(child_changed, sender=child, weak=False, dispatch_uid=uid)


def _follow_m2m(model, name: str) -> None:
    through = model._meta.get_field(name).remote_field.through

    def m2m_changed_(sender, instance, action, reverse, pk_set, **kwargs):
        if not action.startswith("post_"):
            return
        refresh(model, (pk_set or []) if reverse else [instance.pk])

    m2m_changed.connect(m2m_changed_, sender=through, weak=False,
                        dispatch_uid=f"dinsos.changes.{resource(model)}.m2m.{name}")


def register(model=None, *, follows=(), children=(), m2m=()):
    """Feed the changes of ``model``. Its area is read through ``scope_field`` — its own
    foreign key to Wilayah (``desa``) or a path through a parent (``worker__desa``); a parent
    on that path that moves re-feeds the rows under it (a worker's bank accounts move with
    the worker). ``follows``: further parents whose saves re-feed the rows (their fields are
    shown: ``worker`` for ``worker_name``); ``children``: related names of rows shown inside
    the record (an institution's board, a household's members: their saves and deletes,
    and bulk writes through ``record_bulk`` and ``update``, re-feed it); ``m2m``:
    many-to-many fields shown (attendees). Usable as a class decorator."""

    def _register(model):
        path = model.scope_field
        _REGISTERED[model] = path
        uid = f"dinsos.changes.{resource(model)}"
        pre_save.connect(_before_save, sender=model, dispatch_uid=uid, weak=False)
        post_save.connect(_after_save, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(_after_delete, sender=model, dispatch_uid=uid, weak=False)
        parents = set(follows)
        if "__" in path:
            parents.add(path.rsplit("__", 1)[0])
        # related models are resolved once all apps are loaded (connect(), DinsosConfig.ready)
        _PENDING.extend([*((_follow, model, p) for p in sorted(parents)),
                         *((_follow_children, model, n) for n in children),
                         *((_follow_m2m, model, n) for n in m2m)])
        return model

    return _register(model) if model is not None else _register


# --- reading ----------------------------------------------------------------------------------


def _bad_cursor(message=None) -> ValidationError:
    return ValidationError({"cursor": message or _(
        "Kursor tidak dikenal. Gunakan nilai 'cursor' dari jawaban sebelumnya, atau mulai "
        "tanpa kursor.")}, code="invalid_cursor")


_CURSOR = re.compile(r"([0-9]{1,19})\.([0-9]{1,19})(?:\.([a-z0-9_]+\.[a-z0-9_]+))?")


@dataclass(frozen=True, order=True)
class Position:
    txid: int = 0
    seq: int = 0

    def encode(self, resource: str | None = None) -> str:
        """``txid.seq.resource`` in base64: the feed it belongs to travels with it."""
        raw = f"{self.txid}.{self.seq}" + (f".{resource}" if resource else "")
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, resource: str | None = None) -> "Position":
        """The position in a cursor of the feed of ``resource``: ASCII digits only, and a
        cursor naming another feed is refused (its numbers would skip this feed's changes).
        A cursor without a resource (handed out before it carried one) is still read."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _bad_cursor() from None
        match = _CURSOR.fullmatch(raw)
        if match is None:
            raise _bad_cursor()
        txid, seq, owner = int(match[1]), int(match[2]), match[3]
        if txid > _MAX_SEQ or seq > _MAX_SEQ:
            raise _bad_cursor()
        if resource and owner and owner != resource:
            raise _bad_cursor(_("Kursor ini milik feed lain (%(other)s), bukan %(resource)s: "
                                "setiap feed punya kursornya sendiri.")
                              % {"other": owner, "resource": resource})
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


def _horizon() -> tuple[int | None, int | None, int | None]:
    """(the lowest transaction id below which every transaction of THIS database has ended,
    this transaction if it wrote, the snapshot's ``xmax``: no transaction id at or above it
    exists yet) on PostgreSQL; (None, None, None) elsewhere.

    The snapshot's running transactions (``xip``) span the whole server; only those of this
    database can write change rows, so the others (another database's long test, a report
    job elsewhere) do not hold the feeds back. Order matters: the snapshot is taken first,
    then the activity is read afresh — a transaction of this database still running then
    shows its id; one that started after the snapshot gets an id at or above ``xmax``, which
    sorts after the horizon anyway. Without the right to read other sessions' activity
    (superuser or pg_read_all_stats) the server-wide ``xmin`` is used, as before."""
    if connection.vendor != "postgresql":
        return None, None, None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text, "
                       "pg_current_xact_id_if_assigned()::text::bigint")
        snapshot, own = cursor.fetchone()
        xmin, xmax, xip = snapshot.split(":")
        running = [int(x) for x in xip.split(",") if x]
        if not running:
            return int(xmax), own, int(xmax)
        cursor.execute("SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', "
                       "'MEMBER') FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not (row and row[0]):
            return int(xmin), own, int(xmax)
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # no cached activity
        cursor.execute(
            "SELECT backend_xid::text::bigint FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_xid IS NOT NULL "
            "UNION SELECT transaction::text::bigint FROM pg_prepared_xacts "
            "WHERE database = current_database()")
        ours = {value for (value,) in cursor.fetchall()}
    mine = [x for x in running if x % 2**32 in ours]  # activity shows 32-bit xids
    return (min(mine) if mine else int(xmax)), own, int(xmax)


def _ahead(after: Position, xmax: int | None, own: int | None) -> bool:
    """Whether ``after`` lies beyond anything this server has handed out: a transaction id
    not completed yet (PostgreSQL: a feed hands out only ids below the horizon, which is at
    most ``xmax``, or its own transaction's, read back in that same transaction), a change id
    not written yet (SQLite, where ``txid`` is 0). Such a cursor would be handed back page
    after page, and the client would wait forever."""
    if xmax is not None:
        return after.txid >= xmax and after.txid != own
    return after.txid != 0 or after.seq > (Change.objects.aggregate(last=Max("id"))["last"] or 0)


def feed(*, model, user, after: Position | None = None, since=None, limit: int) -> FeedPage:
    """Changes of ``model`` the user may read, after ``after`` (or changed at or after
    ``since`` on a first pull), at most ``limit``, oldest first."""
    xmin, own, xmax = _horizon()
    if after is not None and _ahead(after, xmax, own):
        raise _bad_cursor(_("Kursor menunjuk posisi yang belum ada di server ini (bukan dari "
                            "jawaban server ini). Gunakan nilai 'cursor' dari jawaban "
                            "sebelumnya, atau mulai tanpa kursor."))
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
        # Nothing for this reader below the horizon: resume from there next time — but not
        # past this transaction's own id while it runs: what it writes after this read (a
        # batch, a test's whole body) carries that id, which is below the snapshot's xmax.
        horizon = min(xmin, own) if own else xmin
        position = max(after or Position(), Position(horizon - 1, _MAX_SEQ))
    else:
        last = Change.objects.aggregate(last=Max("id"))["last"] or 0
        position = max(after or Position(), Position(0, last))
    return FeedPage(changes=rows, position=position, more=len(rows) == limit)
