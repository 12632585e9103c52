"""Reads of the kernel."""

import datetime

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from dinsos import audit
from dinsos.dashboard import Panel, Waiting
from dinsos.models import ImportBatch
from dinsos.money import format_rupiah, format_tanggal, format_waktu
from dinsos.scoping import ALL, restrict, user_area


def user_profile(*, user) -> dict:
    area = user_area(user)
    office = user.office
    return {
        "user": user,
        "office": office,
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "area": None if area is None else (office.wilayah if office else None),
        "province_wide": area is ALL,
    }


def import_list(*, user):
    return ImportBatch.objects.for_user(user).select_related("created_by")


def import_get(*, user, pk) -> ImportBatch:
    return get_object_or_404(import_list(user=user), pk=pk)


def dashboard(*, user):
    """Menunggu Anda: this user's recent imports that rejected rows (last 30 days)."""
    if not user.has_perm("dinsos.add_importbatch"):
        return None
    since = timezone.now() - datetime.timedelta(days=30)
    rejected = (import_list(user=user).filter(created_by=user, created_at__gte=since)
                .exclude(errors=[]).count())
    waiting = [Waiting(_("Impor Anda dengan baris ditolak (30 hari)"), rejected,
                       reverse("imports"))] if rejected else []
    return Panel(_("Impor"), waiting=waiting)


ACTION_LABELS = {0: _lazy("dibuat"), 1: _lazy("diubah"), 2: _lazy("dihapus"), 3: _lazy("dibuka")}
DOOR_LABELS = {"admin": _lazy("admin"), "api": _lazy("API"), "web": _lazy("halaman staf"),
               "system": _lazy("sistem"), "command": _lazy("perintah"),
               "task": _lazy("tugas latar")}
EMPTY = (None, "None", "", "[]", "{}")


def _moment(value) -> str:
    moment = datetime.datetime.fromisoformat(str(value))
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=datetime.UTC)  # auditlog keeps UTC without its offset
    return format_waktu(moment)


def _related(field, value, user, cache: dict) -> str:
    """A foreign key by the related record's name — only when the viewer may see the record
    (the access policy), else its number."""
    model = field.related_model
    key = (model, str(value))
    if key not in cache:
        found = restrict(model._default_manager.all(), user).filter(pk=value).first() \
            if user is not None else None
        cache[key] = str(found) if found is not None else f"#{value}"
    return cache[key]


def _shown(field, value, *, user=None, cache=None) -> str:
    """One value of an audit entry as staff read it: labels for choices, the related record's
    name, dates and moments the Indonesian way, amounts in rupiah, identifiers as stored
    (masked when written: UU 27/2022)."""
    if isinstance(value, (list, dict)) and field.get_internal_type() != "JSONField":
        value = ", ".join(map(str, value.get("objects", []))) if isinstance(value, dict) \
            else ", ".join(map(str, value))
    if value in EMPTY or (isinstance(value, str) and value and set(value) == {"*"}):
        return "—"
    kind = field.get_internal_type()
    try:
        if getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
        if field.many_to_one or field.one_to_one:
            return _related(field, value, user, cache if cache is not None else {})
        if kind == "DateField":
            return format_tanggal(datetime.date.fromisoformat(str(value)))
        if kind == "DateTimeField":
            return _moment(value)
        if kind == "BooleanField":
            return _("ya") if str(value) == "True" else _("tidak")
        if kind == "DecimalField" and field.name.endswith("amount"):
            return format_rupiah(str(value))
    except (ValueError, TypeError, ArithmeticError):
        return str(value)
    return str(value)


def _door(entry) -> str:
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    source = str(data.get("source", ""))
    kind, _sep, name = source.partition(":")
    label = DOOR_LABELS.get(kind)
    if label is None:
        return source
    return f"{label} {name}".strip()


def _hidden(field) -> bool:
    """Bookkeeping a reader of the history does not need: the id, timestamps the database
    keeps, derived keys, reverse relations."""
    return (not field.concrete or field.primary_key or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False) or field.name.endswith("_key"))


M2M_OPERATIONS = {"add": _lazy("ditambah"), "delete": _lazy("dihapus")}


def _m2m_change(field, values: dict) -> dict:
    """An entry of a many-to-many list (a household's assets): what was added or removed,
    by name ("ditambah: Sepeda, Mobil")."""
    names = ", ".join(str(name) for name in values.get("objects") or ()) or "—"
    operation = values.get("operation")
    text = f"{M2M_OPERATIONS.get(operation, operation)}: {names}"
    added = operation == "add"
    return {"field": capfirst(str(field.verbose_name)), "old": "—" if added else names,
            "new": names if added else "—", "text": text}


def _code_names(model, cache: dict) -> dict:
    """{code: name} of a list's entries (``Asset``, ``Program``), read once per model."""
    if model not in cache:
        fields = {f.name for f in model._meta.get_fields()}
        cache[model] = (dict(model._base_manager.values_list("code", "name"))
                        if {"code", "name"} <= fields else {})
    return cache[model]


def _m2m_codes_change(field, values, *, action: int, cache: dict) -> list[dict]:
    """A list as the import's entries keep it (one entry per chunk: the old and the new codes
    joined by ";", or the codes of a new record), read as the other doors' m2m entries are:
    what was added and what was removed, by name ("ditambah: Mobil"; "dihapus: Lahan")."""
    values = values if isinstance(values, (list, tuple)) else [None, values]
    old, new = (list(values) + [None, None])[:2]
    before = {c for c in str(old or "").split(";") if c and c != "None"}
    after = {c for c in str(new or "").split(";") if c and c != "None"}
    if action == 0:
        before = set()
    names = _code_names(field.related_model, cache.setdefault("codes", {}))
    label = capfirst(str(field.verbose_name))
    changes = []
    for operation, codes in (("add", after - before), ("delete", before - after)):
        if codes:
            shown = ", ".join(sorted(str(names.get(c, c)) for c in codes))
            added = operation == "add"
            changes.append({"field": label, "old": "—" if added else shown,
                            "new": shown if added else "—",
                            "text": f"{M2M_OPERATIONS[operation]}: {shown}"})
    return changes


def describe_entries(entries, *, user=None, obj=None) -> list[dict]:
    """Audit entries, readable — the one formatter of the person page's "Riwayat", the admin's
    history and audit-log pages and the audit-log list: who, when, what was done, through which
    door, and each field by its Indonesian label with old → new (choices by label, related
    records by name when the viewer may see them, dates the Indonesian way). With ``obj``
    (one record's history) a bulk import entry shows what it did to that record."""
    cache: dict = {}
    rows = []
    for entry in entries:
        model = entry.content_type.model_class() if entry.content_type_id else None
        changes = []
        action, raw = audit.entry_changes(entry, obj) if obj is not None else (
            entry.action, entry.changes_dict or {})
        raw = raw if action in (0, 1) else {}
        for name, values in raw.items():
            try:
                field = model._meta.get_field(name)
            except (FieldDoesNotExist, AttributeError):
                continue
            if _hidden(field):
                continue
            if field.many_to_many and isinstance(values, dict):
                changes.append(_m2m_change(field, values))
                continue
            if field.many_to_many:  # the import's codes (``_m2m_codes_change``)
                changes += _m2m_codes_change(field, values, action=action, cache=cache)
                continue
            values = values if isinstance(values, (list, tuple)) else [None, values]
            old, new = (list(values) + [None, None])[:2]
            old_shown = _shown(field, old, user=user, cache=cache)
            new_shown = _shown(field, new, user=user, cache=cache)
            if action == 0 and new_shown == "—":
                continue  # a creation lists the values given, not the empty ones
            if field.get_internal_type() == "JSONField":
                text = _("diperbarui")  # derived details (summaries): see the record itself
            elif action == 0:
                text = new_shown
            else:
                text = f"{old_shown} → {new_shown}"
            changes.append({"field": capfirst(str(field.verbose_name)), "old": old_shown,
                            "new": new_shown, "text": text})
        rows.append({
            "when": entry.timestamp,
            "actor": (entry.actor.get_full_name() or entry.actor.username) if entry.actor
            else _("sistem"),
            "action": ACTION_LABELS.get(action, str(action)),
            "created": action == 0,
            "door": _door(entry),
            "what": f"{capfirst(model._meta.verbose_name)}: {entry.object_repr}" if model
            else entry.object_repr,
            "changes": changes,
        })
    return rows


def history(*, obj, user=None, limit: int = 100) -> list[dict]:
    """The changes of one record, readable (``describe_entries``): created, changed, deleted.
    Its reads (UU 27/2022 access log) are counted apart (``access_summary``): shown among the
    changes they buried them, and pushed the oldest ones past ``limit``. The caller has already
    fetched ``obj`` through a scoped selector."""
    entries = (audit.entries_for(obj).exclude(action=LogEntry.Action.ACCESS)
               .select_related("actor", "content_type").order_by("-timestamp", "-id")[:limit])
    return describe_entries(entries, user=user, obj=obj)


def access_summary(*, obj) -> dict | None:
    """How often the record was opened, and the last time by whom (None: never)."""
    reads = LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.ACCESS)
    last = reads.select_related("actor").order_by("-timestamp", "-id").first()
    if last is None:
        return None
    return {"count": reads.count(), "when": last.timestamp,
            "actor": (last.actor.get_full_name() or last.actor.username) if last.actor
            else _("sistem"), "door": _door(last)}
