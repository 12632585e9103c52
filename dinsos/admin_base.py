"""Base classes for every app's admin. ``PolicyAdminMixin`` makes the admin ask the access
policy (``dinsos.scoping``) on every surface: changelists, change/history/audit-log pages,
search, actions and custom views show only the user's rows; foreign-key, many-to-many,
raw-id and autocomplete choices are restricted the same way (an out-of-area id is refused like
a missing one and never labelled); add/change/delete follow ``can`` (province-only data is
read-only or hidden for kab/kota roles); identifiers are masked for roles that may not change
the record; reads of personal data (``log_access``) are written to the audit trail. Each
ModelAdmin only declares what it shows."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, get_fields_from_path, unquote
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.contrib.admin.widgets import ForeignKeyRawIdWidget, ManyToManyRawIdWidget
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from dinsos import audit
from dinsos import selectors as kernel_selectors
from dinsos.forms import (
    AdminTanggalWidget,
    ModelForm,
    RupiahField,
    TanggalField,
    with_blank_choices,
)
from dinsos.models import Wilayah
from dinsos.money import format_rupiah
from dinsos.pagination import COUNT_CAP, BoundedPaginator, table_rows_estimate
from dinsos.scoping import (
    ALL,
    IDENTIFIER_FIELDS,
    ProvinceOnly,
    can,
    in_area,
    mask,
    ordering_as_seen,
    province_only,
    restrict,
    scope_fields,
    sees_identifiers,
    user_area,
)
from dinsos.validators import validate_whole_rupiah

IDENTIFIER_LENGTH = 16  # NIK, No. KK and the new NPWP
#: Dates typed day first (hh/bb/tttt) whatever the browser's language, refused naming the field.
DATE_OVERRIDES = {models.DateField: {"form_class": TanggalField, "widget": AdminTanggalWidget}}


class KabKotaFilter(admin.SimpleListFilter):
    """Kab/kota of a record from its wilayah code (a prefix filter on the key, no join).
    Subclass with ``field`` set to the path of the record's wilayah."""

    title = _("kabupaten/kota")
    parameter_name = "kab_kota"
    field = "desa"

    def lookups(self, request, model_admin):
        return [(w.kode, w.nama) for w in Wilayah.objects.kab_kota()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.field}__kode__startswith": f"{self.value()}."})
        return queryset


class KecamatanFilter(KabKotaFilter):
    """Offered once a kab/kota is chosen."""

    title = _("kecamatan")
    parameter_name = "kecamatan"

    def lookups(self, request, model_admin):
        kab_kota = request.GET.get("kab_kota")
        if not kab_kota:
            return []
        return [(w.kode, w.nama) for w in Wilayah.objects.filter(induk_id=kab_kota)]


def wilayah_filters(field: str) -> list:
    """The kab/kota and kecamatan filters for a record whose wilayah is at ``field``."""
    return [type(f"KabKotaFilter_{field}", (KabKotaFilter,), {"field": field}),
            type(f"KecamatanFilter_{field}", (KecamatanFilter,), {"field": field})]


class RawIdLabelMixin:
    """The label next to a raw-id input names the object only when the user may see it."""

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def label_and_url_for_value(self, value):
        visible = restrict(self.rel.model._default_manager.all(), self.user)
        try:
            found = visible.filter(**{self.rel.get_related_field().name: value}).first()
        except (ValueError, TypeError):
            return "", ""
        if found is None:
            return "", ""
        label, url = super().label_and_url_for_value(value)
        if hasattr(found, "label_for"):  # e.g. a household by its head, its No. KK as the
            label = found.label_for(self.user)  # user may see it
        return label, url


class ScopedRawIdWidget(RawIdLabelMixin, ForeignKeyRawIdWidget):
    pass


class ScopedManyRawIdWidget(RawIdLabelMixin, ManyToManyRawIdWidget):
    pass


def narrowed(queryset, user):
    """Choices for a related-object field: the user's rows (wilayah: inside its area)."""
    if queryset.model is Wilayah:
        area = user_area(user)
        if area is ALL:
            return queryset
        return queryset.within(area) if area else queryset.none()
    return restrict(queryset, user)


def masked_lookup(model, lookup: str, user) -> bool:
    """Is ``lookup`` (``nik__startswith``, ``worker__nik__regex``…) anything but equality on
    an identifier ``user`` sees masked?"""
    parts = lookup.split("__")
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if field.is_relation and field.related_model is not None:
            model = field.related_model
            continue
        rest = parts[index + 1:]
        if isinstance(field, models.JSONField):  # a stored record's keys (a merge's snapshot)
            keys = [i for i, key in enumerate(rest) if key in IDENTIFIER_FIELDS]
            return bool(keys) and rest[keys[0] + 1:] not in ([], ["exact"]) and (
                not sees_identifiers(user, model))
        return (field.name in IDENTIFIER_FIELDS and rest not in ([], ["exact"])
                and not sees_identifiers(user, model))
    return False


#: Whole numbers that are codes, not counts: never grouped (2026, not 2.026).
NOT_COUNTS = frozenset({"year", "txid", "object_id", "merged_into", "status_code"})


def number_kind(field) -> str | None:
    """How the admin shows a number field: ``"rupiah"`` (money, the house's
    ``DecimalField(max_digits=15, decimal_places=2)``) as Rp1.500.000, ``"angka"`` (counts,
    shares) grouped the Indonesian way as 6.250 or 0,9667, None for keys and codes."""
    if field.primary_key or field.is_relation or field.name in NOT_COUNTS:
        return None
    if isinstance(field, models.DecimalField):
        is_money = field.decimal_places == 2 and field.max_digits >= 15
        return "rupiah" if is_money else "angka"
    if isinstance(field, models.IntegerField | models.FloatField):
        return "angka"
    return None


def show_number(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rupiah":
        return format_rupiah(value if not isinstance(value, float) else str(value))
    return number_format(value, force_grouping=True)


def json_table(data: dict, keys: dict) -> str:
    """A JSON detail of a record (a payment's or a payout line's explanation) as a table of
    Indonesian labels: ``keys`` maps each key, in the order shown, to ``(label, show)``; empty
    values are left out, a key not in ``keys`` is shown as it is, last."""
    if not data:
        return "—"
    rows = [(label, show(data[key])) for key, (label, show) in keys.items()
            if key in data and data[key] not in (None, "", [])]
    rows += [(key.replace("_", " "), str(value)) for key, value in data.items()
             if key not in keys]
    return format_html('<table class="penjelasan">{}</table>', format_html_join(
        "", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows))


class ReadableNumbersMixin:
    """Counts and amounts in list columns, read-only fields and inlines read ``6.250`` and
    ``Rp1.500.000`` (the staff pages' ``angka`` and ``rupiah``), never ``1000000,00``; years
    stay ``2026``. Each number field is shown through a ``<name>_angka`` display that sorts
    like the field. A money input (a decimal field that asks whole rupiah) is the staff pages'
    ``RupiahField``: ``3.500.000.000`` is typed and shown as Indonesians write it — Django's
    decimal input refused it as "more than 2 decimal places"."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if (isinstance(db_field, models.DecimalField)
                and validate_whole_rupiah in db_field.validators):
            kwargs.setdefault("form_class", RupiahField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _number_fields(self) -> dict:
        kinds = {}
        for field in self.model._meta.concrete_fields:
            kind = number_kind(field)
            if kind:
                kinds[field.name] = kind
        return kinds

    def _readable(self, names, only=None):
        numbers = self._number_fields()
        keep = set(getattr(self, "list_editable", ()) or ())
        keep |= set(getattr(self, "list_display_links", None) or ())
        return [f"{n}_angka" if isinstance(n, str) and n in numbers and n not in keep
                and (only is None or n in only) else n for n in names]

    def __getattr__(self, name):
        field = name.removesuffix("_angka")
        if name.endswith("_angka") and field != name:
            kind = self._number_fields().get(field)
            if kind:
                def display(obj):
                    return show_number(getattr(obj, field), kind)

                display.short_description = self.model._meta.get_field(field).verbose_name
                display.admin_order_field = field
                return display
        return super().__getattr__(name)

    def _with_numbers(self, readonly) -> list:
        """Read-only names plus their ``_angka`` displays (the form still leaves them out)."""
        readonly = list(readonly)
        numbers = [f"{n}_angka" for n in readonly if n in self._number_fields()]
        return [*readonly, *(n for n in numbers if n not in readonly)]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # A change page shown read-only leaves every field out of its form: all its numbers can
        # be shown readable (an inline's form does not, so it marks them read-only instead).
        view_only = (isinstance(self, admin.ModelAdmin) and obj is not None
                     and not self.has_change_permission(request, obj))
        readonly = set(self.get_readonly_fields(request, obj))
        only = None if view_only else {n for n in readonly if f"{n}_angka" in readonly}
        return list(dict.fromkeys(self._readable(fields, only=only)))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            # shown, not edited: its numbers read like the rest (an inline's too)
            readonly += [n for n in self._number_fields() if n not in readonly]
        return self._with_numbers(readonly)


class IdentifierMaskMixin:
    """NIK, No. KK, NPWP and account numbers are shown masked (list columns, read-only fields,
    inlines) to users who may not change the record."""

    def _identifiers(self):
        return {f.name for f in self.model._meta.fields if f.name in IDENTIFIER_FIELDS}

    def _masked_names(self, request, names):
        identifiers = self._identifiers()
        if not identifiers or sees_identifiers(request.user, self.model):
            return list(names)
        return [f"{name}_masked" if name in identifiers else name for name in names]

    def __getattr__(self, name):
        field = name.removesuffix("_masked")
        if name.endswith("_masked") and field in IDENTIFIER_FIELDS:
            def display(obj):
                return mask(field, getattr(obj, field)) or "—"

            display.short_description = self.model._meta.get_field(field).verbose_name
            return display
        raise AttributeError(name)

    def get_fields(self, request, obj=None):
        return list(dict.fromkeys(self._masked_names(request, super().get_fields(request, obj))))

    def get_readonly_fields(self, request, obj=None):
        readonly = self._masked_names(request, super().get_readonly_fields(request, obj))
        masked = [n for n in self._masked_names(request, self._identifiers())
                  if n.endswith("_masked")]
        return [*readonly, *(n for n in masked if n not in readonly)]


class LabelledRowsFormSet(BaseInlineFormSet):
    """A tabular inline draws each row's inputs under a column header, with no ``<label for>``:
    a screen reader announced "edit text" for each (axe 'label', critical). Every input of a
    row is named by its column and its row: "Nama, baris 2"."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = _("baris baru") if index is None else _("baris %(n)s") % {"n": index + 1}
        for field in form.fields.values():
            if field.label and not field.widget.is_hidden:
                # a related field's wrapper shares the class's attrs: name its row's own widget
                widget = getattr(field.widget, "widget", field.widget)
                widget.attrs["aria-label"] = f"{field.label}, {row}"


class TabularInline(ReadableNumbersMixin, IdentifierMaskMixin, admin.TabularInline):
    """An inline that asks the access policy: its rows, its actions, its choices."""

    extra = 0
    form = ModelForm
    formset = LabelledRowsFormSet
    formfield_overrides = DATE_OVERRIDES

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user)

    def has_view_permission(self, request, obj=None):
        return can(request.user, "view", self.model) or can(request.user, "change", self.model)

    def has_add_permission(self, request, obj=None):
        return can(request.user, "add", self.model)

    def has_change_permission(self, request, obj=None):
        return can(request.user, "change", self.model)

    def has_delete_permission(self, request, obj=None):
        return can(request.user, "delete", self.model)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None:
            field.queryset = narrowed(field.queryset, request.user)
        return field


class ReadOnlyInline(TabularInline):
    """An inline that shows related records without adding, editing or deleting them."""

    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        names = self.fields or [f.name for f in self.model._meta.fields]
        return self._with_numbers(self._masked_names(request, names))


def lists_identifiers(inline_admin_formset) -> bool:
    """Whether an inline on a change page shows an identifier of its rows (NIK, No. KK, NPWP,
    account number), whole or masked: its rows are then a read of personal data (UU 27/2022),
    whichever inline it is — decided here, not declared by each."""
    names = {name.removesuffix("_masked") for name in
             flatten_fieldsets(inline_admin_formset.fieldsets) if isinstance(name, str)}
    model_fields = {f.name for f in inline_admin_formset.opts.model._meta.fields}
    return bool(names & model_fields & set(IDENTIFIER_FIELDS))


class PolicyAdminMixin(ReadableNumbersMixin, IdentifierMaskMixin):
    """The access policy for any ModelAdmin (see the module docstring)."""

    #: Personal data (UU 27/2022): change pages and changelist pages are audited reads.
    log_access = False
    formfield_overrides = DATE_OVERRIDES

    def get_form(self, request, obj=None, **kwargs):
        return with_blank_choices(super().get_form(request, obj, **kwargs))

    def get_queryset(self, request):
        return restrict(super().get_queryset(request), request.user)

    def each_through_service(self, request, queryset, call, done: str = "") -> int:
        """An action's one service ``call(record)`` for each selected record: a refusal is an
        error message naming the record, the others go on; ``done`` (``%(n)d``) tells how
        many went through. Returns that number."""
        count = 0
        for record in queryset:
            try:
                call(record)
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{record}: {text}", messages.ERROR)
            else:
                count += 1
        if count and done:
            self.message_user(request, done % {"n": count})
        return count

    def has_view_permission(self, request, obj=None):
        return can(request.user, "view", self.model) or can(request.user, "change", self.model)

    def has_add_permission(self, request, *args):
        return can(request.user, "add", self.model)

    def has_change_permission(self, request, obj=None):
        return can(request.user, "change", self.model)

    def has_delete_permission(self, request, obj=None):
        return can(request.user, "delete", self.model)

    def get_actions(self, request):
        """An action that declares no permissions needs "change"."""
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            return actions
        return {name: action for name, action in actions.items()
                if getattr(action[0], "allowed_permissions", None)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedRawIdWidget(db_field.remote_field, self.admin_site,
                                                 using=kwargs.get("using"), user=request.user)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None:
            field.queryset = narrowed(field.queryset, request.user)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.raw_id_fields:
            kwargs["widget"] = ScopedManyRawIdWidget(db_field.remote_field, self.admin_site,
                                                     using=kwargs.get("using"),
                                                     user=request.user)
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None:
            field.queryset = narrowed(field.queryset, request.user)
        return field

    def lookup_allowed(self, lookup, value, request=None):
        """A masked identifier (NIK, No. KK, NPWP, account number) is found only by the whole
        number: a prefix, range or pattern in the list's URL (``?nik__startswith=3601036``)
        would tell its hidden digits one by one by the rows it leaves."""
        if request is not None and masked_lookup(self.model, lookup, request.user):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        """The admin's autocomplete (a form's search-as-you-type choices) offers what the
        form field itself offers: for a wilayah, only the user's area (``narrowed``)."""
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            queryset = narrowed(queryset, request.user)
        return super().get_search_results(request, queryset, search_term)

    def get_list_display(self, request):
        return self._readable(self._masked_names(request, super().get_list_display(request)))

    def get_ordering(self, request):
        """The list's default order (the admin's ``ordering``, else the model's) without the
        identifiers the user sees masked (``Household``: ``no_kk``): the order of masked
        numbers tells what the mask hides (``scoping.ordering_as_seen``)."""
        ordering = super().get_ordering(request)
        default = list(ordering or self.model._meta.ordering)
        shown = ordering_as_seen(request.user, self.model, default)
        return shown if shown != default else ordering

    def get_list_filter(self, request):
        """A filter on an area-bound related object offers only the objects the user's rows
        refer to. One on reference data (no area, not province-only: the PPKS categories, the
        service types, banks, cycles) offers all of it, as the policy lets everyone see it: reading
        which ones the rows refer to is a DISTINCT over the whole changelist (a million
        persons' cases), on every page of it."""
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and (
                    field := get_fields_from_path(self.model, entry)[-1]).is_relation:
                reference = (not scope_fields(field.related_model)
                             and province_only(field.related_model) in (None, ProvinceOnly.WRITE))
                entry = (entry, admin.RelatedFieldListFilter if reference
                         else admin.RelatedOnlyFieldListFilter)
            filters.append(entry)
        return filters

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if self.log_access and changelist is not None:
            audit.log_read(self.model, what="daftar", query=request.GET.dict(),
                           pks=[obj.pk for obj in changelist.result_list])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The record's read (``log_access``), and ONE read per inline that lists identifiers
        (a household's members with their NIK, a worker's account numbers: ``lists_identifiers``)
        naming the rows it lists, as the API's and the staff page's ``read_lists``."""
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method != "GET" or response.status_code != 200:
            return response
        if self.log_access:
            audit.log_access(self.get_object(request, object_id))
        for inline in getattr(response, "context_data", {}).get("inline_admin_formsets", ()):
            rows = [form.instance.pk for form in inline.formset.initial_forms]
            if rows and lists_identifiers(inline):
                audit.log_read(inline.opts.model, what="daftar", pks=rows)
        return response


class ReadableHistoryMixin:
    """A record's history page (Django's and auditlog's) is its audit trail, readable."""

    auditlog_history_per_page = 25

    def auditlog_history_view(self, request, object_id, extra_context=None):
        """The record's audit trail, readable (the person page's formatter,
        ``dinsos.selectors.describe_entries``). A missing or out-of-area id answers 404, like
        the change page's lookup. Django's own history page shows the same."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("Data tidak ditemukan."))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        entries = (audit.entries_for(obj)
                   .select_related("actor", "content_type").order_by("-timestamp", "-id"))
        page = self.get_paginator(request, entries, self.auditlog_history_per_page).get_page(
            request.GET.get(PAGE_VAR, 1))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Riwayat: %s") % obj,
            "subtitle": None,
            "module_name": str(capfirst(self.model._meta.verbose_name_plural)),
            "object": obj,
            "opts": self.model._meta,
            "page": page,
            "rows": kernel_selectors.describe_entries(page.object_list, user=request.user,
                                                      obj=obj),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/dinsos/riwayat.html", context)

    def history_view(self, request, object_id, extra_context=None):
        return self.auditlog_history_view(request, object_id, extra_context)


def leading_index_fields(model) -> set[str]:
    """The concrete, non-relation fields that lead a B-tree index of ``model``'s table (the
    primary key, unique and ``db_index`` fields, the first field of ``Meta.indexes`` and of
    unique constraints)."""
    found = {model._meta.pk.name}
    for field in model._meta.concrete_fields:
        if (field.unique or field.db_index) and not field.is_relation:
            found.add(field.name)
    for index in model._meta.indexes:
        if index.fields and not getattr(index, "opclasses", ()):
            found.add(index.fields[0].lstrip("-"))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            found.add(constraint.fields[0])
    relations = {f.name for f in model._meta.concrete_fields if f.is_relation}
    return found - relations


def _order_field(model_admin, name) -> str | None:
    """The model field a changelist column orders by (None: not by a field of the model)."""
    model = model_admin.model
    if isinstance(name, str):
        try:
            return model._meta.get_field(name).name
        except FieldDoesNotExist:
            pass
    attr = name if callable(name) else (getattr(model_admin, name, None)
                                        or getattr(model, name, None))
    order = getattr(attr, "admin_order_field", None)
    if not isinstance(order, str):
        return None
    order = order.lstrip("-")
    return None if "__" in order else order


class DinsosModelAdmin(PolicyAdminMixin, ReadableHistoryMixin, AuditlogHistoryAdminMixin,
                       admin.ModelAdmin):
    """Every change page links to the record's audit history. The changelist counts with a
    bounded COUNT (dinsos/pagination.py) and never counts the whole table a second time.

    Search: a term of 16 digits is a NIK or No. KK, looked up by exact equality on each
    ``"=field"`` of ``search_fields`` (one indexed query each) — not ``UPPER(nik) = …`` OR-ed
    with a name LIKE, which reads the whole table; a term without digits is looked up in the
    other fields only (the ``"=field"`` identifiers are digits).

    Sorting: see ``get_sortable_by``."""

    show_auditlog_history_link = True
    list_per_page = 50
    paginator = BoundedPaginator
    show_full_result_count = False

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if getattr(request, "_search_words", False):
            return [f for f in fields if not f.startswith("=")]
        return fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        exact_fields = [f[1:] for f in self.get_search_fields(request) if f.startswith("=")]
        if exact_fields and term and not any(c.isdigit() for c in term):
            # words equal no identifier (digits only): searched without the "=" fields, whose
            # OR (and join: ``=household__no_kk``) keeps the name's trigram index unused
            if len(exact_fields) == len(self.get_search_fields(request)):
                return queryset.none(), False
            request._search_words = True
            try:
                return super().get_search_results(request, queryset, search_term)
            finally:
                del request._search_words
        if not (exact_fields and term.isdigit() and len(term) == IDENTIFIER_LENGTH):
            return super().get_search_results(request, queryset, search_term)
        found: set = set()
        for field in exact_fields:
            found.update(queryset.filter(**{field: term}).values_list("pk", flat=True))
        return queryset.filter(pk__in=found), False

    def get_changelist(self, request, **kwargs):
        return SortableByChangeList

    def get_sortable_by(self, request):
        """On a table of more than COUNT_CAP rows, the columns an index can order: a page is
        then read off the index (``?o=`` on an unindexed column of a million persons sorts them
        all for every page). Columns ordered through a relation (the related model's ordering:
        a join) or by an unindexed field are shown there, not sortable. A smaller table sorts
        by every column, as Django does."""
        sortable = super().get_sortable_by(request)
        if (table_rows_estimate(self.model) or 0) <= COUNT_CAP:
            return sortable
        indexed = leading_index_fields(self.model)
        return [name for name in sortable if _order_field(self, name) in indexed]

    @admin.display(description=_("riwayat"))
    def auditlog_link(self, obj):
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_auditlog", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Lihat"))


class SortableByChangeList(ChangeList):
    """A changelist that sorts only by the columns it offers (``sortable_by``): Django reads
    ``?o=`` for every column, so a bookmarked or hand-made sort by a column hidden from sorting
    on a big table (``DinsosModelAdmin.get_sortable_by``) still sorted a million rows."""

    def get_ordering_field(self, field_name):
        if field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)


class ScopedModelAdmin(DinsosModelAdmin):
    """For area-bound records: the record can't be put outside the user's area. Saves go
    through a service: subclasses override ``save_via_service(request, obj, form, change)``;
    on a change they pass the stored record and only the changed fields
    (``changed_fields``), so the service's rules decide what may change. Fields a service
    never changes are listed in ``fixed_on_change`` and shown read-only.

    Deletes too: a record is removed only where the subclass names its service
    (``delete_via_service(request, obj)``, the same one the API's DELETE calls); without one
    the admin offers no delete (a paid payment, a verification, a case end through their own
    services, never disappear); what still refers to a record keeps it, as the admin's
    confirmation page shows. There is no bulk delete: each record is deleted on its own page,
    under its service's rules."""

    fixed_on_change: tuple[str, ...] = ()
    delete_via_service = None  # a method ``(self, request, obj)`` where the record may go

    def has_delete_permission(self, request, obj=None):
        return self.delete_via_service is not None and super().has_delete_permission(
            request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        self.delete_via_service(request, obj)

    def delete_queryset(self, request, queryset):  # never offered (no bulk delete)
        raise PermissionDenied

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [f for f in self.fixed_on_change if f not in readonly]
        return readonly

    @staticmethod
    def stored(obj):
        """The record as stored, without the form's unsaved changes."""
        return type(obj)._default_manager.get(pk=obj.pk)

    @staticmethod
    def changed_fields(form) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data
                if name in form.cleaned_data}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        direct = [f for f in scope_fields(self.model) if "__" not in f]
        if not direct:
            return form
        scope_field, user = direct[0], request.user

        class ScopedForm(form):
            def clean(self):
                cleaned = super().clean()
                wilayah = cleaned.get(scope_field)
                if wilayah is not None and not in_area(user, wilayah.kode):
                    self.add_error(scope_field, _("Wilayah ini di luar wilayah kerja Anda."))
                return cleaned

        return ScopedForm

    def save_model(self, request, obj, form, change):
        # The model's clean() already ran in the form, so the service's checks pass unless the
        # data changed meanwhile; a refusal then surfaces as the service raises it.
        self.save_via_service(request, obj, form, change)

    def save_via_service(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
