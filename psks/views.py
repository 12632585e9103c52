"""Staff pages of the workforce: the worker list with role, area and status, the coverage of
the kecamatan (without a TKSK, without a rakor) with its XLSX, and the review queue of the
monthly activity reports. Thin: parse, one selector or service, render."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from dinsos.money import format_bulan
from dinsos.pages import (
    REFUSALS,
    IfMatchPage,
    ReadLoggedPage,
    StaffPage,
    StaleVersion,
    form_errors_from,
    notify_refusal,
)
from dinsos.pagination import BoundedPaginator
from dinsos.tabular import table_response
from psks import selectors, services
from psks.choices import ReportStatus
from psks.filters import WorkerFilterSet
from psks.forms import CoverageForm, ReportReturnForm
from psks.models import ActivityReport, Worker


class WorkerListView(ReadLoggedPage, StaffPage, TemplateView):
    """The workers with their duty today, NIK whole for the roles that see it (logged)."""

    permission_required = ("psks.view_worker",)
    template_name = "psks/worker_list.html"
    read_model = Worker

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        workers = selectors.worker_list_on_duty(user=self.request.user, filters=self.request.GET,
                                                on=today)
        return super().get_context_data(
            filter=WorkerFilterSet(self.request.GET), today=today,
            page=BoundedPaginator(workers, 50).get_page(self.request.GET.get("page")), **kwargs)


class CoverageView(StaffPage, TemplateView):
    permission_required = ("psks.view_worker",)
    template_name = "psks/coverage.html"

    def get(self, request, *args, **kwargs):
        data = request.GET.copy()
        data.setdefault("bulan", f"{timezone.localdate():%Y-%m}")
        form = CoverageForm(data)
        if not form.is_valid():  # the errors next to the fields, nothing listed
            return self.render_to_response(self.get_context_data(form=form, rows=[], **kwargs),
                                           status=400)
        month = selectors.Month.of(form.cleaned_data["bulan"] or timezone.localdate())
        missing = form.cleaned_data["kurang"]
        rows = selectors.coverage_rows(user=request.user, month=month, missing=missing)
        if request.GET.get("fmt") == "xlsx":
            header = [_("kode"), _("kecamatan"), _("kabupaten/kota"), _("TKSK"),
                      _("rakor bulan ini")]
            data = ([k.kode, k.nama, k.induk.nama, k.tksk_name or "", k.rakor_count or 0]
                    for k in rows)
            return table_response(header, data, fmt="xlsx",
                                  filename=f"cakupan-kecamatan-{month.first:%Y-%m}")
        return self.render_to_response(self.get_context_data(
            form=form, rows=rows, month=month, missing=missing, **kwargs))


class ReportQueueView(StaffPage, TemplateView):
    """Monthly reports of the user's area waiting for review (other statuses by ``?status=``)."""

    permission_required = ("psks.view_activityreport",)
    template_name = "psks/report_queue.html"

    def get_context_data(self, **kwargs):
        status = self.request.GET.get("status") or ReportStatus.DIAJUKAN
        if status not in ReportStatus.values:
            raise Http404
        reports = selectors.report_queue(user=self.request.user, status=status)
        return super().get_context_data(
            status=status, statuses=ReportStatus.choices,
            page=BoundedPaginator(reports, 50).get_page(self.request.GET.get("page")), **kwargs)


class ReportDetailView(ReadLoggedPage, StaffPage, TemplateView):
    """One report; a reviewer of its area accepts it or returns it with a reason. It names
    the worker with the NIK (whole for the roles that see it): a read of the worker, logged."""

    permission_required = ("psks.view_activityreport",)
    template_name = "psks/report_detail.html"

    def read_records(self, context):
        return [context["report"].worker]

    def get_context_data(self, return_form=None, **kwargs):
        user = self.request.user
        report = selectors.report_get(user=user, pk=kwargs["pk"])
        reviewable = (report.status == ReportStatus.DIAJUKAN
                      and user.has_perm("psks.change_activityreport"))
        return super().get_context_data(
            report=report, reviewable=reviewable,
            own_submission=report.submitted_by_id == user.pk,
            verbose={f.name: f.verbose_name for f in ActivityReport._meta.fields},
            return_form=return_form or (ReportReturnForm() if reviewable else None), **kwargs)


class ReportReviewView(IfMatchPage, ReportDetailView):
    """POST ``terima`` (accept) or ``kembalikan`` (return with a reason); back to the queue."""

    permission_required = ("psks.change_activityreport",)
    ACTIONS = ("terima", "kembalikan")

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise Http404
        report = selectors.report_get(user=request.user, pk=pk)
        label = f"{report.worker.name} ({format_bulan(report.period)})"
        if action == "terima":
            try:
                with transaction.atomic():
                    self.check_if_match(report)
                    services.report_accept(actor=request.user, report=report)
            except StaleVersion as exc:  # the page again, the message next to its forms
                form = ReportReturnForm()
                form_errors_from(form, exc)
                return self.render_to_response(self.get_context_data(pk=pk, return_form=form))
            except REFUSALS as exc:
                notify_refusal(request, exc)
                return redirect("psks:report-detail", pk=pk)
            messages.success(request, _("Laporan %(report)s diterima.") % {"report": label})
            return redirect("psks:report-queue")
        form = ReportReturnForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.check_if_match(report)
                    services.report_reject(actor=request.user, report=report,
                                           reason=form.cleaned_data["reason"])
            except REFUSALS as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Laporan %(report)s dikembalikan kepada tenaga.")
                                 % {"report": label})
                return redirect("psks:report-queue")
        return self.render_to_response(self.get_context_data(pk=pk, return_form=form),
                                       status=400)
