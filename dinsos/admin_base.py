"""Base classes for every app's admin: district scoping, service-backed saves and the audit
history link, so each ModelAdmin only declares what it shows."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from dinsos.models import Wilayah
from dinsos.pagination import BoundedPaginator
from dinsos.scoping import ALL, in_area, user_area

IDENTIFIER_LENGTH = 16  # NIK, No. KK and the new NPWP


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


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows related records without adding, editing or deleting them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [f.name for f in self.model._meta.fields]


class DinsosModelAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    """Every change page links to the record's audit history. The changelist counts with a
    bounded COUNT (dinsos/pagination.py) and never counts the whole table a second time.

    Search: a term of 16 digits is a NIK or No. KK, looked up by exact equality on each
    ``"=field"`` of ``search_fields`` (one indexed query each) — not ``UPPER(nik) = …`` OR-ed
    with a name LIKE, which reads the whole table."""

    show_auditlog_history_link = True
    list_per_page = 50
    paginator = BoundedPaginator
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        exact_fields = [f[1:] for f in self.get_search_fields(request) if f.startswith("=")]
        if not (exact_fields and term.isdigit() and len(term) == IDENTIFIER_LENGTH):
            return super().get_search_results(request, queryset, search_term)
        found: set = set()
        for field in exact_fields:
            found.update(queryset.filter(**{field: term}).values_list("pk", flat=True))
        return queryset.filter(pk__in=found), False

    def auditlog_history_view(self, request, object_id, extra_context=None):
        """A missing or out-of-area id answers 404, like the change page's lookup."""
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404(_("Data tidak ditemukan."))
        return super().auditlog_history_view(request, object_id, extra_context)


class ScopedModelAdmin(DinsosModelAdmin):
    """Lists and change pages show only the user's area; wilayah choices are narrowed to it;
    a record can't be put outside it. Subclasses save through a service by overriding
    ``save_via_service(request, obj, form, change)``."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        area = user_area(request.user)
        if db_field.related_model is Wilayah and field is not None and area is not ALL:
            field.queryset = field.queryset.within(area) if area else field.queryset.none()
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        scope_field = self.model.scope_field
        if "__" in scope_field:
            return form
        user = request.user

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
