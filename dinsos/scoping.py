"""The access policy, in one place. Every surface (API viewsets, serializer relation fields,
filtersets, the browsable API, the admin, staff pages, exports, reports, tasks) asks it three
questions:

* **Which rows** — ``restrict(queryset, user)`` / ``Model.objects.for_user(user)``. A user's
  area is the wilayah of its office: the province office sees everything, a kabupaten/kota
  office only what lies inside its code (``36.01`` sees ``36.01.*``). Every area-bound model
  declares ``scope_field``, the path to the Wilayah that places a record (a tuple when a record
  touches several places: it is visible only when all of them are in the area). The area of a
  record is always derived on the server, and writes are checked with ``ensure_in_area``.
* **Which actions** — ``can(user, action, model)``: the role's Django permission (roles.py
  grants them from the same declarations) and the model's ``province_only`` declaration:
  ``ProvinceOnly.WRITE`` (reference and configuration data: every role reads, only
  province-wide users change) or ``ProvinceOnly.ALL`` (province data: only province-wide users
  open its pages, endpoints and reports; a related field may still name it, e.g. the run of a
  district's payout line).
* **How identifiers look** — ``mask_for(user, model, field, value)``: NIK, No. KK, NPWP and
  account numbers are whole for users who may change the record, masked for read-only roles
  (Auditor, Keuangan, Pimpinan) — UU 27/2022 data minimisation.

An object outside the user's rows answers exactly like one that does not exist.
"""

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from dinsos.validators import mask_identity_number

PROVINCE_CODE = "36"


class _All:
    def __repr__(self):
        return "ALL"


ALL = _All()


class ProvinceOnly:
    """Values of a model's ``province_only`` attribute."""

    WRITE = "write"  # reference/configuration data: all roles read, province-wide users change
    ALL = "all"  # province data: only province-wide users read or change


# --- which rows -------------------------------------------------------------------------------


def user_area(user):
    """ALL for province-wide users, a wilayah code for a kab/kota user, None for no access."""
    if user is None or not user.is_authenticated:
        return None
    area = getattr(user, "area_code", None)
    if area == PROVINCE_CODE or (area is None and user.is_superuser):
        return ALL
    return area


def code_within(kode: str | None, area) -> bool:
    if area is ALL:
        return True
    if not area or not kode:
        return False
    return kode == area or kode.startswith(f"{area}.")


def area_q(field: str, area) -> models.Q:
    """Q for records whose wilayah at ``field`` lies within ``area``. The lookup goes through
    ``__kode`` so Django compares the foreign-key column itself (no join)."""
    if area is ALL:
        return models.Q()
    if area is None:
        return models.Q(pk__in=[])
    return models.Q(**{f"{field}__kode": area}) | models.Q(
        **{f"{field}__kode__startswith": f"{area}."}
    )


def scope_fields(model) -> tuple[str, ...]:
    """The wilayah paths that place a record of ``model`` (empty for data without an area)."""
    fields = getattr(model, "scope_field", None)
    if not fields:
        return ()
    return (fields,) if isinstance(fields, str) else tuple(fields)


def province_only(model) -> str | None:
    return getattr(model, "province_only", None)


def restrict(queryset, user):
    """The rows of ``queryset`` that ``user`` may see: its area for area-bound models,
    everything of data without an area, nothing for anonymous users. One call for any model,
    so related-object fields, filters and lookups never list another district. (Whether a
    user may open a model's own pages at all — province data — is ``can``.)"""
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset.filter(scope_q(queryset.model, user_area(user)))


def scope_q(model, area, via: str = "") -> models.Q:
    """Q for the rows of ``model`` inside ``area`` (``user_area``) on every scope path —
    ``restrict``'s condition; with ``via`` (``"head"``), for the ``model`` record a query of
    another model reaches through that relation: a related record's own area, asked inside
    the query (a household's head registered in another kab/kota)."""
    prefix = f"{via}__" if via else ""
    q = models.Q()
    for field in scope_fields(model):
        q &= area_q(f"{prefix}{field}", area)
    return q


def shown_within(area, model, via: str, value):
    """``value`` (an expression reading the related ``model`` record at ``via``: ``F("head__
    name")``) where that record lies inside ``area``, else NULL: a field that comes from a
    related record outside the user's rows is not shown on any door (a household's head
    registered in another kab/kota). One CASE in the row's own query — no query per row;
    the expression itself for province-wide users."""
    condition = scope_q(model, area, via)
    if area is ALL or not condition:
        return value
    return models.Case(models.When(condition, then=value), default=None)


def within_area(obj, user) -> bool:
    """``restrict`` for one loaded record (a row of a nested list, prefetched with its parent):
    is it inside ``user``'s area on every one of its model's scope paths?"""
    area = user_area(user)
    if area is ALL:
        return True
    for path in scope_fields(type(obj)):
        *hops, last = path.split("__")
        target = obj
        for hop in hops:
            target = getattr(target, hop, None)
        if target is None or not code_within(getattr(target, f"{last}_id", None), area):
            return False
    return True


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        return restrict(self, user)


def in_area(user, kode: str | None) -> bool:
    return code_within(kode, user_area(user))


class OutsideArea(PermissionDenied):
    """A write refused by ``ensure_in_area``; ``field`` names the input that placed it there
    (``desa``), so a batch row's error stands under that field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def ensure_in_area(user, kode: str | None, *, field: str | None = None,
                   typed: bool = True) -> None:
    """Refuse a write that would place a record outside the user's area. The message names
    the wilayah the user asked for (``typed``: ``kode`` is what the user sent, a desa code);
    the wilayah of a stored record outside the area (the household a person is put in) is
    never named (``typed=False``): the refusal tells nothing of a record outside the user's
    rows. Records of other districts rarely reach here, because the related-object fields
    only accept the user's rows (``restrict``). ``field``: the input that chose the wilayah
    (``desa``, ``household``), when the caller knows it."""
    if not in_area(user, kode):
        office = getattr(getattr(user, "office", None), "name", None) or _("tidak ada")
        if not typed:
            raise OutsideArea(_("Data yang dipilih berada di luar wilayah kerja Anda "
                                "(%(office)s).") % {"office": office}, field)
        raise OutsideArea(
            _("Wilayah %(kode)s berada di luar wilayah kerja Anda (%(office)s).")
            % {"kode": kode or "-", "office": office}, field)


# --- which actions ----------------------------------------------------------------------------


def can(user, action: str, model, obj=None) -> bool:
    """May ``user`` take ``action`` (view, add, change, delete or a custom codename such as
    verify_run) on ``model`` — and, given ``obj``, on that record?"""
    if user is None or not user.is_authenticated:
        return False
    opts = model._meta
    codename = action if "_" in action else f"{action}_{opts.model_name}"
    if not user.has_perm(f"{opts.app_label}.{codename}"):
        return False
    level = province_only(model)
    if level and user_area(user) is not ALL and (level == ProvinceOnly.ALL or action != "view"):
        return False
    if obj is not None and scope_fields(model):
        return restrict(model._default_manager.filter(pk=obj.pk), user).exists()
    return True


# --- how identifiers look ---------------------------------------------------------------------

#: Field name -> how much of it stays visible when masked. The audit trail masks the same fields.
IDENTIFIER_FIELDS = {
    "nik": {"head": 6, "tail": 2},
    "no_kk": {"head": 6, "tail": 2},
    "npwp": {"head": 6, "tail": 2},
    "account_number": {"head": 0, "tail": 4},
}


def mask(field: str, value) -> str:
    """The masked form of an identifier (NIK, No. KK, NPWP: region part and last 2 digits;
    account numbers: last 4 digits)."""
    return mask_identity_number(value, **IDENTIFIER_FIELDS.get(field, {}))


def sees_identifiers(user, model) -> bool:
    """Identifiers of ``model`` are whole for users who may change its records."""
    return can(user, "change", model)


def mask_for(user, model, field: str, value):
    """``value`` as ``user`` may see it."""
    if not value or sees_identifiers(user, model):
        return value
    return mask(field, value)


def data_as_seen(user, model, data: dict) -> dict:
    """A stored mapping of a ``model`` record (a merged person's snapshot) as ``user`` may see
    it: its identifier keys (nik, no_kk, npwp, account_number) through ``mask_for``."""
    return {key: mask_for(user, model, key, value) if key in IDENTIFIER_FIELDS else value
            for key, value in data.items()}


def ordering_as_seen(user, model, ordering) -> list:
    """A default ordering of ``model`` rows without the identifier fields ``user`` sees masked
    (``no_kk``, ``-household__no_kk``): the order of masked numbers tells what the mask hides
    (registration date and serial of a No. KK). ``id`` keeps the order whole when one was
    left out. Expressions and other fields stay as they are."""
    shown, dropped = [], False
    for entry in ordering or ():
        if isinstance(entry, str):
            *path, name = entry.lstrip("-?").split("__")
            owner = model
            try:
                for hop in path:
                    owner = owner._meta.get_field(hop).related_model
            except (AttributeError, FieldDoesNotExist):
                owner = model
            if name in IDENTIFIER_FIELDS and not sees_identifiers(user, owner):
                dropped = True
                continue
        shown.append(entry)
    if dropped and not any(e in ("id", "-id", "pk", "-pk") for e in shown):
        shown.append("id")
    return shown


def shown_identifier(user, value, *, full_perm: str, field: str = "nik") -> str:
    """``mask_for`` for templates that name the record by its change permission
    (``"pmks.change_person"``)."""
    from django.apps import apps

    app_label, codename = full_perm.split(".", 1)
    model = apps.get_model(app_label, codename.removeprefix("change_"))
    return mask_for(user, model, field, value) or ""


# --- staff pages ------------------------------------------------------------------------------


class ScopedViewMixin:
    """For staff pages (ListView, DetailView, UpdateView…): out-of-area objects answer 404."""

    def get_queryset(self):
        return restrict(super().get_queryset(), self.request.user)
