"""Writes of the kernel: regions, offices, API tokens."""

import csv
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from dinsos.choices import KAB_KOTA, Tingkat

DATA_DIR = Path(__file__).resolve().parent / "data"
WILAYAH_CSV = DATA_DIR / "wilayah_banten.csv"
PROVINCE_CODE = "36"


def assign_fields(obj, fields: dict, allowed: set[str]) -> set[str]:
    """Set the given attributes on a model instance; a name outside ``allowed`` is a
    programming error (services accept only the fields they own). Returns the names of the
    fields whose value changed (``clean_written`` asks their rules): a form or a PUT sends
    every field back, the ones it did not change included."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    changed = set()
    for name, value in fields.items():
        try:
            field = obj._meta.get_field(name)
            name_of, attname = field.name, field.attname
        except FieldDoesNotExist:
            name_of = attname = name
        before = getattr(obj, attname, None)
        setattr(obj, name, value)
        if obj.pk is None or getattr(obj, attname, None) != before:
            changed.add(name_of)
    return changed


def locked(obj):
    """The stored row of ``obj`` read again under a row lock (``FOR UPDATE``): an update
    service works on it, not on the caller's copy, so what another writer committed meanwhile
    (a merge, a transition, a status, an end date) is seen by the service's checks and kept,
    never written over by an older copy's full save. The base manager: a row a default
    manager hides (merged) is still found, and its guard says why it cannot change."""
    return type(obj)._base_manager.select_for_update().get(pk=obj.pk)


def fitted(model, field: str, text: str) -> str:
    """A text the system composes from a user's words (``"Peserta dikeluarkan: " + reason``)
    cut to the field's ``max_length`` with "…": the whole reason stays on the record it was
    given for, and a reason that fits its own field never makes a derived one overflow (it
    did: a database error, a 500)."""
    limit = model._meta.get_field(field).max_length
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


def check_field(model, field: str, value, *, name: str | None = None) -> None:
    """The rules of ``model``'s field ``field`` (its validators, its max_length) asked of
    ``value`` before, or apart from, a ``full_clean``: a refusal names the field
    (``{"visit_date": […]}``), or ``name`` when the caller's input is called otherwise (an
    exclusion's ``reason`` becomes the enrolment's ``exit_reason``)."""
    try:
        model._meta.get_field(field).run_validators(value)
    except ValidationError as exc:
        raise ValidationError({name or field: exc.messages}) from None


def clean_written(instance, written=None) -> None:
    """``full_clean`` of a record being saved, each field's own rules asked only of the values
    written now (``written``: the fields an update service changed, as ``assign_fields``
    returns them; ``None``, a new or wholly prepared record: every field). A value stored
    before a later rule — a phone with letters before ``psks/0013``, an account with dashes
    before ``jamsosratu/0009``, a status date typed ahead — is not asked again when someone
    edits another field or moves the record on (it was: the record could not be renamed,
    stopped or excluded); it is asked when it is changed. The model's ``clean``, its
    uniqueness and every constraint are always asked."""
    if written is None:
        instance.full_clean()
        return
    written = set(written)
    instance.full_clean(exclude=[f.name for f in instance._meta.concrete_fields
                                 if f.name not in written and f.attname not in written],
                        validate_unique=False, validate_constraints=False)
    instance.validate_unique()
    instance.validate_constraints()


def delete_or_refuse(obj) -> None:
    """Delete ``obj``; when records elsewhere still refer to it (``on_delete=PROTECT``), refuse
    with a ValidationError naming what holds it, instead of a database error. Call it inside the
    service's transaction, so the service's earlier writes are rolled back with the refusal."""
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        holders = sorted({
            f"{apps.get_app_config(o._meta.app_label).verbose_name}: {o._meta.verbose_name}"
            for o in exc.protected_objects})
        raise ValidationError(
            _("%(obj)s tidak dapat dihapus karena masih dipakai oleh data %(holders)s.")
            % {"obj": capfirst(obj._meta.verbose_name), "holders": "; ".join(holders)},
            code="protected") from None
def field_values(obj) -> dict:
    """The stored value of every concrete field except the timestamps: compare before and
    after assigning to tell "unchanged" from "updated"."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields
            if f.name not in ("created_at", "updated_at")}


def wilayah_rows(path: Path = WILAYAH_CSV):
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            yield {
                "kode": row["kode"].strip(),
                "nama": row["nama"].strip(),
                "tingkat": Tingkat(row["tingkat"].strip()),
                "induk_id": row["induk"].strip() or None,
            }


def wilayah_load(*, path: Path = WILAYAH_CSV, model=None) -> int:
    """Upsert the region tree from the Kemendagri CSV (idempotent; names and parents are
    refreshed, nothing is deleted). ``model`` lets a data migration pass its historical model."""
    audited = model is None
    if model is None:
        from dinsos.models import Wilayah as model
    objs = [model(**row) for row in wilayah_rows(path)]
    fields = ("nama", "tingkat", "induk_id")
    with transaction.atomic():
        before = {w.kode: w for w in model.objects.all()} if audited else {}
        model.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["kode"],
            update_fields=["nama", "tingkat", "induk"],
        )
        if audited:
            _audit_wilayah_changes(model, objs, before, fields)
    return len(objs)


def _audit_wilayah_changes(model, objs, before, fields) -> None:
    """A bulk upsert sends no signals: write the trail for what it changed."""
    from auditlog.models import LogEntry

    from dinsos.audit import log_bulk

    entries = []
    for obj in objs:
        old = before.get(obj.kode)
        if old is None:
            entries.append((obj, {f: [None, getattr(obj, f)] for f in fields},
                            LogEntry.Action.CREATE))
            continue
        changes = {f: [getattr(old, f), getattr(obj, f)] for f in fields
                   if getattr(old, f) != getattr(obj, f)}
        if changes:
            entries.append((obj, changes, LogEntry.Action.UPDATE))
    log_bulk(model, entries)


def offices_ensure(*, wilayah_model=None, office_model=None) -> int:
    """One Dinas Sosial per province and per kabupaten/kota (idempotent)."""
    if wilayah_model is None:
        from dinsos.models import Office as office_model
        from dinsos.models import Wilayah as wilayah_model
    regions = wilayah_model.objects.filter(kode=PROVINCE_CODE) | wilayah_model.objects.filter(
        tingkat__in=KAB_KOTA
    )
    count = 0
    for region in regions.order_by("kode"):
        name = (
            "Dinas Sosial Provinsi Banten"
            if region.kode == PROVINCE_CODE
            else f"Dinas Sosial {region.nama}"
        )
        office_model.objects.get_or_create(wilayah=region, defaults={"name": name})
        count += 1
    return count


def token_issue(*, user, days: int):
    """Issue an API token for a machine client. Only a hash is stored (django-rest-knox); the
    key is returned once and cannot be shown again."""
    from knox.models import AuthToken

    if days < 1 or days > 366:
        raise ValueError(_("Masa berlaku token harus 1 sampai 366 hari."))
    if not user.is_active:
        raise ValueError(_("Pengguna %(username)s tidak aktif.") % {"username": user.username})
    instance, key = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
    return instance, key


def token_revoke(*, user, token_key: str | None = None) -> int:
    """Revoke one token (by its 15-character key prefix) or all of a user's tokens."""
    from knox.models import AuthToken

    tokens = AuthToken.objects.filter(user=user)
    if token_key:
        tokens = tokens.filter(token_key=token_key[:15])
    count, _ = tokens.delete()
    return count


def login_unlock(*, user) -> int:
    """Lift a login lockout (django-axes) of ``user`` from every address; returns how many
    recorded failures were cleared."""
    from axes.utils import reset

    return reset(username=user.get_username())


def idempotency_keys_purge() -> int:
    """Stored ``Idempotency-Key`` answers older than ``IDEMPOTENCY_KEY_DAYS``: an answer may
    hold personal data (a registration's NIK), and no client retries a POST after days."""
    from django.conf import settings

    from dinsos.models import IdempotencyKey

    cutoff = timezone.now() - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS)
    count, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return count


def tokens_purge_expired() -> int:
    from knox.models import AuthToken

    count, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return count
