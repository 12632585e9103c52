from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from dinsos.admin_base import (
    DinsosModelAdmin,
    LabelledRowsFormSet,
    ReadOnlyInline,
    ScopedModelAdmin,
    TabularInline,
    json_table,
    show_number,
)
from jamsosratu import selectors, services
from jamsosratu.choices import EnrolmentStatus, JobKind, MemberCondition, Outcome
from jamsosratu.models import (
    Commitment,
    Companion,
    ConditionRule,
    Cycle,
    Enrolment,
    EnrolmentMember,
    EnrolmentTransition,
    Payment,
    Quota,
    Tranche,
    Verification,
    VerificationFinding,
)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _percent(value) -> str:
    share = (Decimal(str(value)) * 100).quantize(Decimal("0.01")).normalize()
    return f"{show_number(share, 'angka')} %"


#: A payment's explanation (``services``: the tranche's amount and the commitments' outcome).
PAYMENT_EXPLANATION = {
    "benefit": (_("manfaat per RTS per tahun"), lambda v: show_number(Decimal(v), "rupiah")),
    "tranche_amount": (_("nilai tahap"), lambda v: show_number(Decimal(v), "rupiah")),
    "met": (_("komitmen terpenuhi"), lambda v: show_number(v, "angka")),
    "unmet": (_("komitmen tidak terpenuhi"), lambda v: show_number(v, "angka")),
    "unmet_ratio": (_("rasio tidak terpenuhi"), _percent),
    "factor": (_("faktor pembayaran"), _percent),
    "rule": (_("hasil komitmen"), lambda v: _label(Outcome, v)),
}


class TrancheFormSet(LabelledRowsFormSet):
    """Once the cycle has payments, no tahap is added, removed or reweighted
    (``services.cycle_terms_check``)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        proposed = [(form.cleaned_data["number"], form.cleaned_data["share"])
                    for form in self.forms
                    if form.cleaned_data and not form.cleaned_data.get("DELETE")
                    and (form.instance.pk or form.has_changed())]
        try:
            services.cycle_terms_check(cycle=self.instance, tranches=proposed)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["share"]) from None


class TrancheInline(TabularInline):
    model = Tranche
    formset = TrancheFormSet
    # Pimpinan's decision to go over the pagu is recorded by its service only
    readonly_fields = ["over_budget_reason", "over_budget_by", "over_budget_at"]


class QuotaInline(TabularInline):
    model = Quota


class RuleInline(TabularInline):
    model = ConditionRule


@admin.register(Cycle)
class CycleAdmin(DinsosModelAdmin):
    list_display = ["year", "name", "benefit_amount", "budget_ceiling", "max_caseload"]
    inlines = [TrancheInline, QuotaInline, RuleInline]
    actions = ["generate_first_open_tranche"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The qualifying conditions are chosen by their labels, not typed as JSON codes."""
        if db_field.name == "qualifying_conditions":
            return forms.TypedMultipleChoiceField(
                label=capfirst(db_field.verbose_name), choices=MemberCondition.choices,
                widget=forms.CheckboxSelectMultiple, required=False)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CycleForm(form):
            def clean(self):
                cleaned = super().clean()
                terms = {}
                if "benefit_amount" in self.changed_data and cleaned.get("benefit_amount"):
                    terms["benefit_amount"] = cleaned["benefit_amount"]
                if "budget_ceiling" in self.changed_data and "budget_ceiling" in cleaned:
                    terms["budget_ceiling"] = cleaned["budget_ceiling"]
                if terms:
                    try:  # in the admin's transaction: the locks hold until the save
                        services.cycle_terms_check(cycle=self.instance, **terms)
                    except ValidationError as exc:
                        self.add_error(None, exc)
                return cleaned

        return CycleForm

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fields = ["kondisi" if f == "qualifying_conditions" else f for f in fields]
        return fields

    @admin.display(description=_("kondisi anggota yang memenuhi syarat"))
    def kondisi(self, obj):
        return ", ".join(_label(MemberCondition, c) for c in obj.qualifying_conditions) or "—"

    @admin.action(description=_("Buat daftar penyaluran tahap berikutnya yang belum dibuat"),
                  permissions=["change"])
    def generate_first_open_tranche(self, request, queryset):
        """Queues the job (a Celery task) and links to the page that follows it."""
        for cycle in queryset:
            tranche = cycle.tranches.exclude(payments__isnull=False).order_by("number").first()
            if tranche is None:
                self.message_user(request, _("%(c)s: semua tahap sudah dibuat.") % {"c": cycle})
                continue
            try:
                job = services.tranche_job_start(actor=request.user, tranche=tranche,
                                                 kind=JobKind.PENYALURAN)
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{tranche}: {text}", messages.ERROR)
                continue
            self.message_user(request, format_html(
                '{}: {} <a href="{}">{}</a>', tranche, _("sedang dibuat."),
                reverse("jamsosratu:job-detail", args=[job.pk]), _("Ikuti prosesnya")))


class MemberInline(ReadOnlyInline):
    model = EnrolmentMember

    def get_queryset(self, request):
        # the members the user may see: none registered in another kab/kota
        return super().get_queryset(request).filter(selectors.member_shown(request.user))


class TransitionInline(ReadOnlyInline):
    model = EnrolmentTransition


class CompanionInline(ReadOnlyInline):
    model = Companion


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["tranche", "amount", "outcome", "status", "paid_on", "reference"]


@admin.register(Enrolment)
class EnrolmentAdmin(ScopedModelAdmin):
    # the account and whether another user confirmed it are in the list, so the bulk
    # "Verifikasi rekening" is asked of accounts the checker sees (masked to the roles that
    # may not change them); the account makes the list and the change page audited reads
    list_display = ["household", "cycle", "desa", "status", "decile", "channel",
                    "account_number", "account_verified_at"]
    list_filter = ["cycle", "status", "channel",
                   ("account_verified_at", admin.EmptyFieldListFilter)]
    log_access = True
    search_fields = ["=household__no_kk", "read_head_name"]
    list_select_related = ["household", "cycle", "desa"]

    def get_queryset(self, request):
        # the head's name only where the head is inside the user's area: the search finds
        # no person of another kab/kota by name (``selectors.head_name``)
        return super().get_queryset(request).annotate(
            read_head_name=selectors.head_name(request.user))
    raw_id_fields = ["household"]
    readonly_fields = ["status", "decree_number", "exit_reason", "decile", "desa",
                       "account_recorded_by", "account_verified_by", "account_verified_at"]
    inlines = [MemberInline, CompanionInline, TransitionInline, PaymentInline]

    def get_readonly_fields(self, request, obj=None):
        # The beneficiary and the year of an enrolment never change; a different household
        # is a new enrolment (verified, within quota).
        return [*self.readonly_fields, "household", "cycle"] if obj else self.readonly_fields
    actions = ["verify_status", "activate", "verify_account"]

    def save_via_service(self, request, obj, form, change):
        if change:
            services.enrolment_update(actor=request.user, enrolment=self.stored(obj),
                                      **self.changed_fields(form))
            return
        created = services.enrolment_propose(actor=request.user, household=obj.household,
                                             cycle=obj.cycle, source=obj.source,
                                             channel=obj.channel,
                                             account_number=obj.account_number)
        obj.pk, obj.desa_id = created.pk, created.desa_id

    def _move(self, request, queryset, to_status):
        self.each_through_service(request, queryset, lambda enrolment: (
            services.enrolment_transition(actor=request.user, enrolment=enrolment,
                                          to_status=to_status)))

    @admin.action(description=_("Tandai terverifikasi"))
    def verify_status(self, request, queryset):
        self._move(request, queryset, EnrolmentStatus.TERVERIFIKASI)

    @admin.action(description=_("Aktifkan (sudah ditetapkan)"))
    def activate(self, request, queryset):
        self._move(request, queryset, EnrolmentStatus.AKTIF)

    @admin.action(description=_("Verifikasi rekening (empat mata)"), permissions=["change"])
    def verify_account(self, request, queryset):
        self.each_through_service(request, queryset, lambda enrolment: (
            services.enrolment_account_verify(actor=request.user, enrolment=enrolment)),
            done=_("%(n)d rekening diverifikasi."))


class FindingInline(ReadOnlyInline):
    model = VerificationFinding

    def get_queryset(self, request):
        # none about a person registered in another kab/kota now
        return super().get_queryset(request).filter(selectors.finding_shown(request.user))


@admin.register(Verification)
class VerificationAdmin(ScopedModelAdmin):
    list_display = ["enrolment", "verifier", "visit_date", "result", "recorded_by"]
    list_filter = ["result", "visit_date"]
    list_select_related = ["enrolment__household", "enrolment__cycle", "verifier",
                           "recorded_by"]
    inlines = [FindingInline]

    def has_add_permission(self, request):
        return False  # recorded through the API / field app with findings

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Commitment)
class CommitmentAdmin(ScopedModelAdmin):
    list_display = ["member", "tranche", "kind", "status", "recorded_by"]
    list_filter = ["tranche__cycle", "tranche", "kind", "status"]
    list_select_related = ["member__person", "tranche__cycle", "recorded_by"]

    def get_queryset(self, request):
        # a commitment names its member (``str``): only of members the user may see, so
        # the list, its filters and the change page leave out a member of another kab/kota
        return super().get_queryset(request).filter(
            selectors.member_shown(request.user, "member"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ScopedModelAdmin):
    list_display = ["enrolment", "tranche", "amount", "outcome", "channel", "status", "paid_on",
                    "reference"]
    exclude = ["explanation"]
    log_access = True  # the account number, whole for the roles that may change payments

    @admin.display(description=_("penjelasan"))
    def penjelasan(self, obj):
        return json_table(obj.explanation, PAYMENT_EXPLANATION)

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "penjelasan"]
    list_filter = ["tranche__cycle", "tranche", "status", "outcome", "channel"]
    search_fields = ["=enrolment__household__no_kk", "reference", "=account_number"]
    list_select_related = ["enrolment__household", "enrolment__cycle", "tranche__cycle"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
