import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dinsos.admin_base import (
    DinsosModelAdmin,
    ReadOnlyInline,
    ScopedModelAdmin,
    wilayah_filters,
)
from dinsos.forms import ModelForm
from dinsos.nik_region import region_name_for_nik
from dinsos.scoping import data_as_seen, sees_identifiers, user_area
from pmks import selectors, services
from pmks.choices import CaseStatus
from pmks.models import (
    Asset,
    Case,
    CaseTransition,
    Category,
    DuplicateCandidate,
    Household,
    Person,
    PersonMerge,
    Program,
    Service,
    ServiceType,
)


class PersonInline(ReadOnlyInline):
    model = Person
    fk_name = "household"
    fields = ["nik", "name", "birth_date", "sex", "relationship", "life_status"]


class CaseInline(ReadOnlyInline):
    model = Case
    fk_name = "person"
    fields = ["category", "identified_on", "source", "status"]


class ServiceInline(ReadOnlyInline):
    model = Service
    fields = ["service_type", "pillar", "start_date", "end_date", "value_amount",
              "funding_source"]
    show_change_link = False


class TransitionInline(ReadOnlyInline):
    model = CaseTransition
    fields = ["from_status", "to_status", "reason", "actor", "at"]
    show_change_link = False


class DecileFilter(admin.SimpleListFilter):
    """Desil 1–10 (the field's validators), not Django's list of the values present: a
    DISTINCT over every household (100 ms at 300,000) on every page of the list."""

    title = _("desil DTSEN")
    parameter_name = "decile"

    def lookups(self, request, model_admin):
        return [(str(n), str(n)) for n in range(1, 11)]

    def queryset(self, request, queryset):
        if self.value() in {str(n) for n in range(1, 11)}:
            return queryset.filter(decile=int(self.value()))
        return queryset


class HouseholdAdminForm(ModelForm):
    """The household's DTKS lists as checkbox groups (their own through tables keep Django's
    admin from offering them): written by the service, not by the form."""

    assets = forms.ModelMultipleChoiceField(
        Asset.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Aset"))
    programs = forms.ModelMultipleChoiceField(
        Program.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        label=_("Program bantuan"))

    class Meta:
        model = Household
        fields = ["no_kk", "address", "rt", "rw", "desa", "head", "decile", "floor", "wall",
                  "water_source", "lighting", "cooking_fuel", "toilet", "assets", "programs"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in services.HOUSEHOLD_LISTS:
                self.initial.setdefault(name, list(getattr(self.instance, name).all()))


@admin.register(Household)
class HouseholdAdmin(ScopedModelAdmin):
    log_access = True
    form = HouseholdAdminForm
    list_display = ["no_kk", "head_name", "address", "desa", "decile"]
    list_filter = [*wilayah_filters("desa"), DecileFilter, "assets", "programs"]
    # the head's name as the selectors read it (``household_names``): only a head the user may
    # see is shown or found
    search_fields = ["=no_kk", "read_head_name", "address"]
    list_select_related = ["desa"]
    autocomplete_fields = ["desa"]
    raw_id_fields = ["head"]
    inlines = [PersonInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            **selectors.household_names(user_area(request.user)))

    @admin.display(description=_("kepala keluarga"), ordering="read_head_name")
    def head_name(self, obj):
        """Empty ("—") for a head registered outside the user's area: the changelist's rows
        carry the scoped name (``get_queryset``); a row without it names no one."""
        return selectors.head_name(obj, user=None)

    def save_via_service(self, request, obj, form, change):
        if change:  # the form's changes, onto the stored row (another writer's kept)
            services.household_update(actor=request.user, household=obj,
                                      **self.changed_fields(form))
            return
        services.household_save(actor=request.user, household=obj,
                                **{name: form.cleaned_data.get(name)
                                   for name in services.HOUSEHOLD_LISTS})

    def save_related(self, request, form, formsets, change):
        form.save_m2m = lambda: None  # the lists were written (and checked) by the service
        super().save_related(request, form, formsets, change)

    def delete_via_service(self, request, obj):
        services.household_delete(actor=request.user, household=obj)


@admin.register(Person)
class PersonAdmin(ScopedModelAdmin):
    log_access = True
    list_display = ["name", "nik", "birth_date", "sex", "desa", "life_status"]
    list_filter = [*wilayah_filters("desa"), "sex", "life_status", "disability",
                   "marital_status", "chronic_illness", "cases__category", "cases__status"]
    search_fields = ["=nik", "name", "=household__no_kk"]
    list_select_related = ["desa"]
    autocomplete_fields = ["desa"]
    raw_id_fields = ["household"]
    readonly_fields = ["nik_region", "merged_into"]
    inlines = [CaseInline]

    @admin.display(description=_("wilayah penerbitan NIK"))
    def nik_region(self, obj):
        return region_name_for_nik(obj.nik) if obj and obj.nik else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(merged_into__isnull=True)

    def save_via_service(self, request, obj, form, change):
        if change:  # the form's changes, onto the stored row (a merge meanwhile is refused)
            services.person_update(actor=request.user, person=obj, **self.changed_fields(form))
            return
        services.person_save(actor=request.user, person=obj)

    def delete_via_service(self, request, obj):
        services.person_delete(actor=request.user, person=obj)


@admin.register(Category)
class CategoryAdmin(DinsosModelAdmin):
    list_display = ["number", "name", "household_level", "minimum_service"]
    list_filter = ["minimum_service", "household_level"]
    search_fields = ["name", "slug"]


@admin.register(Asset)
class AssetAdmin(DinsosModelAdmin):
    list_display = ["order", "name", "code"]
    search_fields = ["name", "code"]


@admin.register(Program)
class ProgramAdmin(DinsosModelAdmin):
    list_display = ["order", "name", "code"]
    search_fields = ["name", "code"]


@admin.register(ServiceType)
class ServiceTypeAdmin(DinsosModelAdmin):
    list_display = ["name", "pillar", "code", "active"]
    list_filter = ["pillar", "active"]
    search_fields = ["name", "code"]


@admin.register(Case)
class CaseAdmin(ScopedModelAdmin):
    list_display = ["__str__", "category", "identified_on", "source", "status", "desa"]
    list_filter = [*wilayah_filters("desa"), "category", "status", "source",
                   "services__pillar"]
    search_fields = ["=person__nik", "person__name", "=household__no_kk"]
    list_select_related = ["category", "person", "household", "desa"]
    raw_id_fields = ["person", "household"]
    readonly_fields = ["status", "close_reason", "desa"]
    fixed_on_change = ("person", "household", "category", "source")
    inlines = [ServiceInline, TransitionInline]
    actions = ["mark_verified", "mark_in_progress", "mark_done"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CaseForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.instance.viewer = request.user  # whom Case.clean's refusal is for

        return CaseForm

    def save_via_service(self, request, obj, form, change):
        if change:
            services.case_update(actor=request.user, case=self.stored(obj),
                                 **self.changed_fields(form))
            return
        created = services.case_open(
            actor=request.user, person=obj.person, household=obj.household,
            category=obj.category, identified_on=obj.identified_on, source=obj.source,
            source_note=obj.source_note, description=obj.description,
        )
        obj.pk, obj.desa_id = created.pk, created.desa_id

    def _transition(self, request, queryset, to_status):
        done = 0
        for case in queryset:
            try:
                services.case_transition(actor=request.user, case=case, to_status=to_status,
                                         reason=str(_("Diubah melalui admin.")))
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{case}: {'; '.join(exc.messages)}", messages.ERROR)
        if done:
            self.message_user(request, _("%(n)d kasus diperbarui.") % {"n": done})

    @admin.action(description=_("Tandai terverifikasi"))
    def mark_verified(self, request, queryset):
        self._transition(request, queryset, CaseStatus.TERVERIFIKASI)

    @admin.action(description=_("Mulai penanganan"))
    def mark_in_progress(self, request, queryset):
        self._transition(request, queryset, CaseStatus.DALAM_PENANGANAN)

    @admin.action(description=_("Tandai selesai"))
    def mark_done(self, request, queryset):
        self._transition(request, queryset, CaseStatus.SELESAI)


@admin.register(Service)
class ServiceAdmin(ScopedModelAdmin):
    list_display = ["service_type", "pillar", "case", "start_date", "value_amount",
                    "funding_source"]
    list_filter = [*wilayah_filters("case__desa"), "pillar", "service_type", "funding_source"]
    search_fields = ["=case__person__nik", "case__person__name"]
    list_select_related = ["service_type", "case__category", "case__person", "case__household"]
    raw_id_fields = ["case"]
    fixed_on_change = ("case", "service_type")

    def save_via_service(self, request, obj, form, change):
        if change:
            services.service_update(actor=request.user, service=self.stored(obj),
                                    **self.changed_fields(form))
            return
        created = services.service_record(
            actor=request.user, case=obj.case, service_type=obj.service_type,
            start_date=obj.start_date, end_date=obj.end_date, value_amount=obj.value_amount,
            funding_source=obj.funding_source, provider_office=obj.provider_office,
            provider_name=obj.provider_name, note=obj.note,
        )
        obj.pk, obj.pillar = created.pk, created.pillar

    def delete_via_service(self, request, obj):
        services.service_delete(actor=request.user, service=obj)


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ScopedModelAdmin):
    list_display = ["person_a", "person_b", "score", "status", "found_at"]
    list_filter = ["status"]
    list_select_related = ["person_a", "person_b"]
    readonly_fields = ["person_a", "person_b", "score", "reasons", "found_at", "reviewed_by",
                       "reviewed_at", "status"]
    actions = ["dismiss", "merge_keep_a"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Bukan duplikat"))
    def dismiss(self, request, queryset):
        for candidate in queryset:
            services.duplicate_dismiss(actor=request.user, candidate=candidate)

    @admin.action(description=_("Gabungkan (pertahankan orang pertama)"))
    def merge_keep_a(self, request, queryset):
        for candidate in queryset.select_related("person_a", "person_b"):
            try:
                services.person_merge(actor=request.user, kept=candidate.person_a,
                                      merged=candidate.person_b,
                                      reason=str(_("Digabung melalui admin.")))
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)


@admin.register(PersonMerge)
class PersonMergeAdmin(DinsosModelAdmin):
    """A merge and the merged person as it was (``snapshot``: its NIK, birth date,
    household…): an audited read, the snapshot's identifiers masked for the roles that see
    persons masked (``scoping.data_as_seen``)."""

    list_display = ["kept", "merged", "actor", "at"]
    readonly_fields = ["kept", "merged", "actor", "at", "reason", "snapshot"]
    log_access = True

    def _masks_snapshot(self, request) -> bool:
        return not sees_identifiers(request.user, Person)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self._masks_snapshot(request):
            return fields
        return ["snapshot_masked" if name == "snapshot" else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))  # "snapshot" stays out of
        if self._masks_snapshot(request):                          # any form
            readonly.append("snapshot_masked")
        return readonly

    @admin.display(description=_("data sebelum digabung"))
    def snapshot_masked(self, obj):
        # shown instead of ``snapshot`` only to users who see persons masked (get_fields):
        # no user here, so the policy masks
        return json.dumps(data_as_seen(None, Person, obj.snapshot or {}), ensure_ascii=False)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of a merge is its history (and what an unmerge would read)
