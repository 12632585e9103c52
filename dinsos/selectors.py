"""Reads of the kernel."""

import datetime

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from dinsos.dashboard import Panel, Waiting
from dinsos.models import ImportBatch
from dinsos.money import format_tanggal
from dinsos.scoping import ALL, user_area


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


def _shown(field, value) -> str:
    if value in (None, "None", ""):
        return "—"
    choices = dict(field.choices or ()) if getattr(field, "choices", None) else None
    if choices:
        return str(choices.get(value, value))
    if field.get_internal_type() == "DateField":
        try:
            return format_tanggal(datetime.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if field.get_internal_type() == "BooleanField":
        return _("ya") if str(value) == "True" else _("tidak")
    return str(value)


def history(*, obj, limit: int = 100) -> list[dict]:
    """The audit trail of one record, readable: who, when, what was done, and for a change
    each field by its Indonesian label with old → new (choices by label, dates the Indonesian
    way). The caller has already fetched ``obj`` through a scoped selector."""
    model = type(obj)
    entries = (LogEntry.objects.get_for_object(obj).select_related("actor")
               .order_by("-timestamp", "-id")[:limit])
    rows = []
    for entry in entries:
        changes = []
        for name, values in (entry.changes_dict or {}).items():
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not field.concrete:
                continue
            old, new = (list(values) + [None, None])[:2]
            changes.append({"field": str(field.verbose_name), "old": _shown(field, old),
                            "new": _shown(field, new)})
        rows.append({
            "when": entry.timestamp,
            "actor": (entry.actor.get_full_name() or entry.actor.username) if entry.actor
            else _("sistem"),
            "action": ACTION_LABELS.get(entry.action, str(entry.action)),
            "door": (entry.additional_data or {}).get("source", "")
            if isinstance(entry.additional_data, dict) else "",
            "changes": changes if entry.action == 1 else [],
        })
    return rows
