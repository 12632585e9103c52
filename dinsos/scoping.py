"""District scoping, in one place.

A user's area is the wilayah of its office: the province office sees everything, a kabupaten/
kota office only what lies inside its code (``36.01`` sees ``36.01.*``). Every scoped model
declares ``scope_field``, the path to the Wilayah that places a record, and uses
``ScopedQuerySet``; the API base viewsets, the staff-page mixin, the admin mixin, selectors,
exports and tasks all call ``for_user``. The area of a record is always derived on the server
from that wilayah, and writes are checked with ``ensure_in_area``.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from dinsos.validators import mask_identity_number

PROVINCE_CODE = "36"


class _All:
    def __repr__(self):
        return "ALL"


ALL = _All()


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


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(area_q(self.model.scope_field, user_area(user)))


def in_area(user, kode: str | None) -> bool:
    return code_within(kode, user_area(user))


def ensure_in_area(user, kode: str | None) -> None:
    """Refuse a write that would place a record outside the user's area."""
    if not in_area(user, kode):
        office = getattr(getattr(user, "office", None), "name", None) or _("tidak ada")
        raise PermissionDenied(
            _("Wilayah %(kode)s berada di luar wilayah kerja Anda (%(office)s).")
            % {"kode": kode or "-", "office": office}
        )


class ScopedViewMixin:
    """For staff pages (ListView, DetailView, UpdateView…): out-of-area objects answer 404."""

    def get_queryset(self):
        return super().get_queryset().for_user(self.request.user)


class ScopedAdminMixin:
    """For ModelAdmin: lists and change pages show only the user's area; saves are checked."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def save_model(self, request, obj, form, change):
        ensure_in_area(request.user, getattr(obj, f"{obj.scope_field}_id"))
        super().save_model(request, obj, form, change)


def shown_identifier(user, value, *, full_perm: str) -> str:
    """How a NIK / No. KK / account number looks to ``user``: whole for users who may change the
    record, masked for read-only roles (UU 27/2022). API fields and staff pages both ask here."""
    if value and (user is None or not user.has_perm(full_perm)):
        return mask_identity_number(value)
    return value or ""
