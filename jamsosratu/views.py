"""Staff pages of Jamsosratu: cycles (quota use per kab/kota, tranches), the enrolment workflow
(a button for every allowed transition, with what the service asks for), the verification visit
on a phone, the tranche work of the province (payment list and bank result as Celery jobs the
page follows, the bank file with its control totals) and coverage. Thin: parse, one service or
selector, render; the access policy is the selectors' and the services'."""

import contextlib
import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from dinsos.money import format_rupiah
from dinsos.pages import (
    REFUSALS,
    ReadLoggedPage,
    RecordFormPage,
    StaffPage,
    TransitionPage,
    notify_refusal,
)
from dinsos.pagination import BoundedPaginator
from dinsos.scoping import ALL, can, user_area
from dinsos.versions import current_versions
from jamsosratu import banking, selectors, services
from jamsosratu.choices import EnrolmentStatus, JobKind
from jamsosratu.forms import (
    BankResultForm,
    EnrolmentTransitionForm,
    OverBudgetForm,
    RescheduleForm,
    VerificationForm,
    transition_forms,
)
from jamsosratu.models import Payment

VIEW = ("jamsosratu.view_enrolment",)


def _may_work_on_payments(user) -> bool:
    return user_area(user) is ALL and can(user, "change", Payment)


class CycleListView(StaffPage, TemplateView):
    permission_required = VIEW
    template_name = "jamsosratu/cycle_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(cycles=selectors.cycle_list(),
                                        current=selectors.current_cycle(), **kwargs)


class CycleDetailView(StaffPage, TemplateView):
    """Quota use per kab/kota of the user's area, the tranches with their payments and (for
    the province) the payment list, the bank file and the bank result of each."""

    permission_required = VIEW
    template_name = "jamsosratu/cycle_detail.html"

    def get_context_data(self, over_budget_form=None, **kwargs):
        user = self.request.user
        cycle = selectors.cycle_get(year=kwargs["year"])
        province = user_area(user) is ALL
        tranches = selectors.tranche_overview(user=user, cycle=cycle)
        may_decide = province and user.has_perm("jamsosratu.override_ceiling")
        for row in tranches:
            if province:
                row["bank"] = banking.transfer_totals(row["tranche"])
                row["awaiting"] = banking.awaiting_account(row["tranche"])
                row["dispatches"] = banking.dispatches(row["tranche"])
            bound = over_budget_form is not None and (
                over_budget_form.tranche.pk == row["tranche"].pk)
            if bound:  # refused: shown with its errors, even if decided meanwhile
                row["decide"] = over_budget_form
            elif may_decide and row["waits_for_pimpinan"]:
                row["decide"] = OverBudgetForm(tranche=row["tranche"])
        return super().get_context_data(
            cycle=cycle, quotas=selectors.quota_use(user=user, cycle=cycle), tranches=tranches,
            budget=selectors.budget_used(user=user, cycle=cycle), province=province,
            may_work=_may_work_on_payments(user),
            if_match_versions=current_versions(
                [row["tranche"] for row in tranches if "decide" in row]), **kwargs)


class TrancheOverBudgetView(RecordFormPage, CycleDetailView):
    """Pimpinan records why a tahap's list may take the cycle over its pagu (the API's
    ``over-budget``, the same service), on the cycle page, for the tahap as the page showed
    it (its version: another Pimpinan's decision meanwhile is not overwritten unseen)."""

    permission_required = ("jamsosratu.override_ceiling",)
    province_only = True
    bound_form_context = "over_budget_form"

    def get_record(self, year, number):
        return selectors.tranche_get(cycle=selectors.cycle_get(year=year), number=number)

    def get_form(self, tranche, year, number):
        return OverBudgetForm(self.request.POST, tranche=tranche)

    def perform(self, tranche, form, year, number):
        services.tranche_over_budget_allow(actor=self.request.user, tranche=tranche,
                                           reason=form.cleaned_data["over_budget_reason"])

    def done(self, tranche, form, year, number):
        messages.success(self.request, _(
            "Alasan melampaui pagu tahap %(n)s tercatat; daftar penyaluran tahap ini dapat "
            "dibuat.") % {"n": number})
        return redirect(reverse("jamsosratu:cycle-detail", args=[year]) + f"#tahap-{number}")


class FailedPaymentsView(ReadLoggedPage, StaffPage, TemplateView):
    """A tahap's failed transfers in the user's area (as the API's payments), with the
    account each went to and the enrolment's current one (whole for the roles that see them:
    opening the page is a read, logged once) and, for the province staff who work on
    payments, a "Jadwalkan ulang" button each (``services.payment_reschedule``)."""

    permission_required = ("jamsosratu.view_payment",)
    template_name = "jamsosratu/failed_payments.html"
    read_model = Payment

    def get_context_data(self, refused=None, **kwargs):
        user = self.request.user
        tranche = selectors.tranche_get(cycle=selectors.cycle_get(year=kwargs["year"]),
                                        number=kwargs["number"])
        page = BoundedPaginator(selectors.failed_payments(user=user, tranche=tranche),
                                50).get_page(self.request.GET.get("page"))
        may_work = _may_work_on_payments(user)
        return super().get_context_data(
            tranche=tranche, page=page, may_work=may_work, refused=refused,
            statuses=selectors.tranche_statuses(user=user, tranche=tranche),
            if_match_versions=current_versions(page.object_list) if may_work else {},
            **kwargs)


class PaymentRescheduleView(RecordFormPage, FailedPaymentsView):
    """POST "Jadwalkan ulang" of one failed transfer as the page showed it (its version);
    back to the tahap's failed transfers, or the page again with the service's refusal
    beside the payment."""

    permission_required = ("jamsosratu.change_payment",)
    province_only = True
    bound_form_context = "refused"

    def get_record(self, year, number, pk):
        tranche = selectors.tranche_get(cycle=selectors.cycle_get(year=year), number=number)
        self.record = get_object_or_404(selectors.payment_list(user=self.request.user)
                                        .select_related("enrolment__household")
                                        .annotate(head_name=selectors.head_name(
                                            self.request.user, "enrolment__household__head")),
                                        tranche=tranche, pk=pk)
        return self.record

    def get_context_data(self, **kwargs):
        # a refusal names the payment, which may have left the list (scheduled meanwhile)
        return super().get_context_data(refused_payment=getattr(self, "record", None),
                                         **kwargs)

    def get_form(self, payment, year, number, pk):
        return RescheduleForm(self.request.POST)

    def perform(self, payment, form, year, number, pk):
        self.payment = services.payment_reschedule(actor=self.request.user, payment=payment)

    def done(self, payment, form, year, number, pk):
        messages.success(self.request, _(
            "Penyaluran %(name)s (%(amount)s) dijadwalkan ulang; saluran: %(channel)s.") % {
                "name": payment.head_name or payment.enrolment.household,
                "amount": format_rupiah(payment.amount),
                "channel": self.payment.get_channel_display()})
        return redirect("jamsosratu:failed-payments", year=year, number=number)


class CoverageView(StaffPage, TemplateView):
    permission_required = VIEW
    template_name = "jamsosratu/coverage.html"
    LEVELS = {"kab_kota": _lazy("per kabupaten/kota"), "kecamatan": _lazy("per kecamatan")}

    def get_context_data(self, **kwargs):
        user = self.request.user
        cycle = selectors.cycle_get(year=kwargs["year"])
        level = self.request.GET.get("tingkat") or "kab_kota"
        if level not in self.LEVELS:
            raise Http404
        rows = selectors.coverage(user=user, cycle=cycle, level=level)
        numbers = [t.number for t in cycle.tranches.order_by("number")]
        for row in rows:
            row["paid"] = [(n, row["paid_per_tranche"].get(n, {}).get("amount", 0))
                           for n in numbers]
        return super().get_context_data(
            cycle=cycle, level=level, levels=self.LEVELS, rows=rows, numbers=numbers,
            budget=selectors.budget_used(user=user, cycle=cycle),
            caseloads=selectors.caseloads(user=user, cycle=cycle), **kwargs)


class EnrolmentListView(StaffPage, TemplateView):
    permission_required = VIEW
    template_name = "jamsosratu/enrolment_list.html"

    def get_context_data(self, **kwargs):
        cycle = selectors.cycle_get(year=kwargs["year"])
        filterset, enrolments = selectors.enrolment_search(user=self.request.user, cycle=cycle,
                                                           filters=self.request.GET)
        return super().get_context_data(
            cycle=cycle, filter=filterset, statuses=EnrolmentStatus.choices,
            page=BoundedPaginator(enrolments, 25).get_page(self.request.GET.get("page")), **kwargs)


class EnrolmentDetailView(ReadLoggedPage, StaffPage, TemplateView):
    """The enrolment with its No. KK and account number (whole for the roles that see them):
    opening it is a read, logged."""

    permission_required = VIEW
    template_name = "jamsosratu/enrolment_detail.html"

    def read_records(self, context):
        return [context["enrolment"]]

    def get_context_data(self, bound=None, **kwargs):
        user = self.request.user
        enrolment = selectors.enrolment_get(user=user, pk=kwargs["pk"])
        final = enrolment.status in (EnrolmentStatus.GRADUASI, EnrolmentStatus.DIKELUARKAN)
        return super().get_context_data(
            enrolment=enrolment,
            forms=(transition_forms(enrolment, bound=bound)
                   if user.has_perm("jamsosratu.change_enrolment") else []),
            may_verify=user.has_perm("jamsosratu.add_verification") and not final,
            may_verify_account=(user.has_perm("jamsosratu.change_enrolment")
                                and enrolment.account_number
                                and not enrolment.account_is_verified
                                and enrolment.account_recorded_by_id != user.pk),
            may_apply=user.has_perms(ApplyFindingsView.permission_required),
            payments=selectors.payment_list(user=user).filter(enrolment=enrolment)
            .order_by("tranche__number"), **kwargs)


class EnrolmentTransitionView(TransitionPage, EnrolmentDetailView):
    """POST one transition (with its reason or decree number) of the enrolment as the page
    showed it (its version); back to the enrolment page."""

    permission_required = ("jamsosratu.change_enrolment",)
    targets = tuple(EnrolmentStatus.values)

    def get_record(self, pk, target):
        return selectors.enrolment_get(user=self.request.user, pk=pk)

    def get_form(self, enrolment, pk, target):
        return EnrolmentTransitionForm(self.request.POST, enrolment=enrolment, target=target)

    def perform(self, enrolment, form, pk, target):
        services.enrolment_transition(
            actor=self.request.user, enrolment=enrolment, to_status=target,
            reason=form.cleaned_data["reason"],
            decree_number=form.cleaned_data.get("decree_number", ""))

    def done(self, enrolment, form, pk, target):
        messages.success(self.request, _("Status diubah menjadi %(s)s.") % {"s": form.target_label})
        return redirect("jamsosratu:enrolment-detail", pk=pk)


class EnrolmentAccountVerifyView(RecordFormPage, EnrolmentDetailView):
    """POST the second pair of eyes on the account the page showed (its version: an account
    changed since the page was opened is not verified unseen); back to the enrolment page."""

    permission_required = ("jamsosratu.change_enrolment",)
    bound_form_context = "account_form"

    def get_record(self, pk):
        return selectors.enrolment_get(user=self.request.user, pk=pk)

    def get_form(self, enrolment, pk):
        return forms.Form(self.request.POST)

    def perform(self, enrolment, form, pk):
        services.enrolment_account_verify(actor=self.request.user, enrolment=enrolment)

    def done(self, enrolment, form, pk):
        messages.success(self.request, _("Rekening diverifikasi; penyaluran ke rekening ini "
                                         "masuk berkas bank berikutnya."))
        return redirect("jamsosratu:enrolment-detail", pk=pk)


#: how far back the verification page offers verifiers before a visit day is given
VISIT_LOOKBACK_DAYS = 90


class VerificationCreateView(RecordFormPage, StaffPage, TemplateView):
    """The visit by name by address, entered on a phone: verifier of the household's kecamatan,
    date, result, findings per member, pregnancy, photo — for the enrolment as the page showed
    it (moved or excluded meanwhile: refused, to be looked at again)."""

    permission_required = ("jamsosratu.add_verification",)
    template_name = "jamsosratu/verification_form.html"

    def _form(self, enrolment, data=None, files=None):
        """The verifiers offered: those on duty on the visit day a POST names (a visit is
        often entered days later, by then a decree may have ended), else on any day of the
        last ``VISIT_LOOKBACK_DAYS``."""
        until = timezone.localdate()
        since = until - datetime.timedelta(days=VISIT_LOOKBACK_DAYS)
        with contextlib.suppress(ValidationError):  # no visit day yet, or an invalid one
            since = until = VerificationForm.base_fields["visit_date"].clean(
                (data or {}).get("visit_date"))
        members = selectors.household_members(user=self.request.user, enrolment=enrolment)
        return VerificationForm(
            data, files, members=members,
            verifiers=selectors.verifier_choices(enrolment=enrolment, since=since, until=until))

    def get_context_data(self, form=None, **kwargs):
        enrolment = selectors.enrolment_get(user=self.request.user, pk=kwargs["pk"])
        return super().get_context_data(enrolment=enrolment,
                                        form=form or self._form(enrolment), **kwargs)

    def get_record(self, pk):
        return selectors.enrolment_get(user=self.request.user, pk=pk)

    def get_form(self, enrolment, pk):
        return self._form(enrolment, self.request.POST, self.request.FILES)

    def perform(self, enrolment, form, pk):
        services.verification_record(actor=self.request.user, enrolment=enrolment,
                                     **form.service_arguments())

    def done(self, enrolment, form, pk):
        messages.success(self.request, _("Verifikasi tersimpan."))
        return redirect("jamsosratu:enrolment-detail", pk=pk)


class ApplyFindingsView(StaffPage, View):
    """Carry a visit's findings (died, moved, not in the KK) into the registry."""

    permission_required = ("jamsosratu.change_verification", "pmks.change_person")
    writes_without_version = ("applies only the findings not applied yet (each once); posting "
                              "twice changes nothing more")

    def get(self, request, pk):
        verification = selectors.verification_get(user=request.user, pk=pk)
        return redirect("jamsosratu:enrolment-detail", pk=verification.enrolment_id)

    def post(self, request, pk):
        verification = selectors.verification_get(user=request.user, pk=pk)
        try:
            applied = services.verification_apply_findings(actor=request.user,
                                                           verification=verification)
        except REFUSALS as exc:
            notify_refusal(request, exc)
        else:
            messages.success(request, _("%(n)d temuan diterapkan ke registri.") % {"n": applied})
        return redirect(reverse("jamsosratu:enrolment-detail", args=[verification.enrolment_id])
                        + "#verifikasi")


class TrancheWork(StaffPage):
    """The province's work on a tranche (payment list, bank file, bank result)."""

    permission_required = ("jamsosratu.change_payment",)
    province_only = True

    def tranche(self, year, number):
        return selectors.tranche_get(cycle=selectors.cycle_get(year=year), number=number)


class TrancheGenerateView(TrancheWork, View):
    writes_without_version = ("queues a job: one unfinished job per tranche is a database "
                              "constraint, and making the list again only completes it")

    def post(self, request, year, number):
        tranche = self.tranche(year, number)
        try:
            job = services.tranche_job_start(actor=request.user, tranche=tranche,
                                             kind=JobKind.PENYALURAN)
        except REFUSALS as exc:
            notify_refusal(request, exc)
            return redirect("jamsosratu:cycle-detail", year=year)
        return redirect("jamsosratu:job-detail", pk=job.pk)


class BankFileView(TrancheWork, View):
    """The transfer file, streamed; the page shows its control line before the download."""

    def get(self, request, year, number):
        tranche = self.tranche(year, number)
        try:
            copy_of = (banking.parse_dispatch(request.GET["salinan"])
                       if "salinan" in request.GET else None)
        except ValidationError as exc:
            notify_refusal(request, exc)
            return redirect("jamsosratu:cycle-detail", year=year)
        out = banking.transfer_download(tranche, copy_of=copy_of,
                                        hand_out=request.method != "HEAD")
        response = FileResponse(out.body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{out.name}"'
        return response


class BankResultView(RecordFormPage, TrancheWork, TemplateView):
    """Upload the bank's result file of a tranche: the file is checked (kind, size, columns)
    and a job queued, which the job page follows."""

    template_name = "jamsosratu/bank_result.html"
    writes_without_version = ("a new upload: each line is checked against its payment under "
                              "a row lock, and a line already applied is counted, not changed")

    def get_context_data(self, form=None, **kwargs):
        tranche = self.tranche(kwargs["year"], kwargs["number"])
        return super().get_context_data(
            tranche=tranche, form=form or BankResultForm(),
            columns=banking.RESULT_COLUMNS, bank=banking.transfer_totals(tranche), **kwargs)

    def get_record(self, year, number):
        return self.tranche(year, number)

    def get_form(self, tranche, year, number):
        return BankResultForm(self.request.POST, self.request.FILES)

    def perform(self, tranche, form, year, number):
        self.job = services.tranche_job_start(actor=self.request.user, tranche=tranche,
                                              kind=JobKind.HASIL_BANK,
                                              upload=form.cleaned_data["file"])

    def done(self, tranche, form, year, number):
        return redirect("jamsosratu:job-detail", pk=self.job.pk)


class JobDetailView(ReadLoggedPage, StaffPage, TemplateView):
    """A tranche job: polled by htmx while it runs (done of total), then its result — for a
    bank result every line and what became of it."""

    permission_required = ("jamsosratu.view_payment",)
    province_only = True
    template_name = "jamsosratu/job_detail.html"

    def get_template_names(self):
        return ["jamsosratu/_job_status.html"] if self.request.htmx else [self.template_name]

    def read_lists(self, context):
        return [(Payment, "hasil bank", banking.payments_shown(context["page"].object_list))]

    def get_context_data(self, **kwargs):
        job = selectors.job_get(user=self.request.user, pk=kwargs["pk"])
        lines = job.lines
        shown = self.request.GET.get("tampil", "")
        if shown == "ditolak":
            lines = [line for line in lines if line["outcome"] == "ditolak"]
        page = Paginator(lines, 100).get_page(self.request.GET.get("page"))
        page.object_list = banking.lines_as_seen(self.request.user, page.object_list)
        return super().get_context_data(
            job=job, shown=shown, outcomes=banking.OUTCOME_LABELS, page=page, **kwargs)
