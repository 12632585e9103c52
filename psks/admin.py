from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from dinsos.admin_base import (
    DinsosModelAdmin,
    ReadOnlyInline,
    ScopedModelAdmin,
    TabularInline,
    wilayah_filters,
)
from dinsos.forms import BulanField
from psks import services
from psks.models import (
    ActivityReport,
    Assignment,
    Bank,
    BankAccount,
    BoardMember,
    Institution,
    Meeting,
    Worker,
)


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["role", "area", "decree_number", "start_date", "end_date", "funding_source"]


class BankAccountInline(ReadOnlyInline):
    model = BankAccount
    fields = ["bank", "account_number", "holder_name", "created_by", "verified_by",
              "effective_from"]


class ReportInline(ReadOnlyInline):
    model = ActivityReport
    fields = ["period", "status", "meetings_attended", "households_validated", "pmks_identified"]


class BoardMemberInline(TabularInline):
    model = BoardMember
    extra = 1


@admin.register(Worker)
class WorkerAdmin(ScopedModelAdmin):
    log_access = True
    list_display = ["name", "nik", "sex", "desa", "status", "phone"]
    list_filter = [*wilayah_filters("desa"), "assignments__role", "status", "education"]
    search_fields = ["=nik", "name", "phone"]
    list_select_related = ["desa"]
    autocomplete_fields = ["desa"]
    inlines = [AssignmentInline, BankAccountInline, ReportInline]
    # changed only by worker_set_status (dated, with a reason; a stop ends the assignments)
    readonly_fields = list(services.STATUS_FIELDS)

    def save_via_service(self, request, obj, form, change):
        if change:  # the changed fields, on the stored worker (a stop meanwhile is kept)
            services.worker_update(actor=request.user, worker=obj, **self.changed_fields(form))
            return
        services.worker_save(actor=request.user, worker=obj)


@admin.register(Assignment)
class AssignmentAdmin(ScopedModelAdmin):
    list_display = ["worker", "role", "area", "decree_number", "start_date", "end_date",
                    "funding_source"]
    list_filter = [*wilayah_filters("area"), "role", "funding_source"]
    search_fields = ["=worker__nik", "worker__name", "decree_number"]
    list_select_related = ["worker", "area"]
    autocomplete_fields = ["worker", "area"]
    fixed_on_change = ("worker", "role", "end_reason")

    def save_via_service(self, request, obj, form, change):
        if change:
            services.assignment_update(actor=request.user, assignment=self.stored(obj),
                                       **self.changed_fields(form))
            return
        created = services.assignment_create(
            actor=request.user, worker=obj.worker, role=obj.role, area=obj.area,
            decree_number=obj.decree_number, decree_date=obj.decree_date,
            decree_office=obj.decree_office, start_date=obj.start_date, end_date=obj.end_date,
            funding_source=obj.funding_source)
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False  # assignments end; their history stays


@admin.register(Bank)
class BankAdmin(DinsosModelAdmin):
    list_display = ["name", "code", "active"]


@admin.register(BankAccount)
class BankAccountAdmin(ScopedModelAdmin):
    log_access = True
    list_display = ["worker", "bank", "account_number", "holder_name", "created_by",
                    "verified_by", "effective_from"]
    list_filter = [("verified_at", admin.EmptyFieldListFilter), "bank"]
    search_fields = ["=worker__nik", "worker__name", "=account_number"]
    list_select_related = ["worker", "bank", "created_by", "verified_by"]
    autocomplete_fields = ["worker"]
    fields = ["worker", "bank", "account_number", "holder_name"]
    actions = ["verify"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_via_service(self, request, obj, form, change):
        created = services.bank_account_add(actor=request.user, worker=obj.worker, bank=obj.bank,
                                            account_number=obj.account_number,
                                            holder_name=obj.holder_name)
        obj.pk, obj.created_by = created.pk, created.created_by

    @admin.action(description=_("Verifikasi rekening (bukan oleh pencatatnya)"),
                  permissions=["view"])
    def verify(self, request, queryset):
        if not self.has_change_permission(request):
            raise PermissionDenied
        self.each_through_service(request, queryset, lambda account: (
            services.bank_account_verify(actor=request.user, account=account)),
            done=_("%(n)d rekening diverifikasi."))


@admin.register(Institution)
class InstitutionAdmin(ScopedModelAdmin):
    list_display = ["name", "type", "desa", "accreditation", "status"]
    list_filter = [*wilayah_filters("desa"), "type", "status", "accreditation"]
    search_fields = ["name", "registration_number"]
    list_select_related = ["desa"]
    autocomplete_fields = ["desa"]
    inlines = [BoardMemberInline]

    def save_via_service(self, request, obj, form, change):
        if change:
            services.institution_update(actor=request.user, institution=obj,
                                        **self.changed_fields(form))
            return
        services.institution_save(actor=request.user, institution=obj)


@admin.register(ActivityReport)
class ActivityReportAdmin(ScopedModelAdmin):
    list_display = ["worker", "period", "status", "meetings_attended", "households_validated",
                    "pmks_identified", "reviewed_by"]
    list_filter = ["status", "period"]
    search_fields = ["=worker__nik", "worker__name"]
    list_select_related = ["worker", "reviewed_by"]
    autocomplete_fields = ["worker"]
    readonly_fields = ["status", "submitted_at", "submitted_by", "reviewed_by", "reviewed_at",
                       "rejection_reason"]
    fixed_on_change = ("worker", "period")  # another month is another report
    actions = ["submit", "accept"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "period":  # a month: 11/2026, November 2026 or any day of it
            return BulanField(label=capfirst(db_field.verbose_name), any_day=True,
                              help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_via_service(self, request, obj, form, change):
        if change:  # the changed figures, on the stored report (its status asked now)
            services.report_update(actor=request.user, report=obj, **{
                name: value for name, value in self.changed_fields(form).items()
                if name in services.REPORT_FIELDS})
            return
        data = {f: getattr(obj, f) for f in services.REPORT_FIELDS}
        created = services.report_create(actor=request.user, worker=obj.worker,
                                         period=obj.period, **data)
        obj.pk = created.pk

    def _run(self, request, queryset, func, done):
        for report in queryset:
            try:
                func(actor=request.user, report=report)
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{report}: {text}", messages.ERROR)
            else:
                self.message_user(request, f"{report}: {done}", messages.SUCCESS)

    @admin.action(description=_("Ajukan"), permissions=["change"])
    def submit(self, request, queryset):
        self._run(request, queryset, services.report_submit, _("diajukan untuk diperiksa."))

    @admin.action(description=_("Terima laporan"), permissions=["change"])
    def accept(self, request, queryset):
        self._run(request, queryset, services.report_accept, _("diterima."))


@admin.register(Meeting)
class MeetingAdmin(ScopedModelAdmin):
    list_display = ["kecamatan", "date", "type", "agenda"]
    list_filter = ["type", "date"]
    search_fields = ["kecamatan__nama", "agenda"]
    list_select_related = ["kecamatan"]
    autocomplete_fields = ["kecamatan", "attendees"]

    def save_via_service(self, request, obj, form, change):
        attendees = form.cleaned_data.get("attendees", [])
        if change:  # the changed fields, on the stored meeting
            fields = self.changed_fields(form)
            fields.pop("attendees", None)
            services.meeting_update(actor=request.user, meeting=obj, attendees=attendees,
                                    **fields)
            return
        services.meeting_save(actor=request.user, meeting=obj, attendees=attendees)

    def delete_via_service(self, request, obj):
        services.meeting_delete(actor=request.user, meeting=obj)

    def save_related(self, request, form, formsets, change):
        form.save_m2m = lambda: None  # attendees were set (and checked) by the service
        super().save_related(request, form, formsets, change)
