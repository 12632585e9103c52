"""Staff pages of the payouts: runs by month, compute with progress, the run page (summary
and pagu first, held lines, paginated lines) and the workflow steps with a confirmation that
shows the totals. Province roles only, like the API. Thin: parse, one service or selector,
render."""

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from dinsos.pages import REFUSALS, IfMatchPage, StaffPage, form_errors_from
from dinsos.pagination import BoundedPaginator
from incentives import reports, selectors, services
from incentives.choices import RunStatus
from incentives.filters import PayoutLineFilterSet
from incentives.forms import ApproveForm, CancelForm, ComputeForm, MarkPaidForm, VerifyForm
from incentives.models import RunDocument


class RunListView(StaffPage, TemplateView):
    permission_required = ("incentives.view_payoutrun",)
    province_only = True
    template_name = "incentives/run_list.html"
    writes_without_version = ("asks for a month to be computed: a new run, refused by the "
                              "service while one is open")

    def get_context_data(self, form=None, **kwargs):
        can_compute = self.request.user.has_perm("incentives.add_payoutrun")
        return super().get_context_data(
            runs=selectors.run_list(user=self.request.user)[:36],
            form=form or (ComputeForm(initial={"period": f"{timezone.localdate():%Y-%m}"})
                          if can_compute else None), **kwargs)

    def post(self, request):
        form = ComputeForm(request.POST)
        if form.is_valid():
            period = form.cleaned_data["period"]
            # before the request: a worker (or an eager task) may finish before we redirect
            since = timezone.now()
            try:
                services.run_compute_request(actor=request.user, period=period)
            except REFUSALS as exc:
                form_errors_from(form, exc)
            else:
                query = urlencode({"sejak": since.isoformat()})
                return redirect(reverse("incentives:run-progress", args=[f"{period:%Y-%m}"])
                                + f"?{query}")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class RunProgressView(StaffPage, TemplateView):
    """Polled by htmx until the worker has computed the month, then on to the run page."""

    permission_required = ("incentives.view_payoutrun",)
    province_only = True
    template_name = "incentives/run_progress.html"

    def get(self, request, period):
        try:
            since = timezone.datetime.fromisoformat(request.GET.get("sejak", ""))
            month = timezone.datetime.strptime(period, "%Y-%m").date()
        except ValueError:
            raise Http404 from None
        run = selectors.run_computed_since(user=request.user, period=month, since=since)
        if run is not None:
            url = reverse("incentives:run-detail", args=[run.pk])
            if request.htmx:
                return HttpResponse(headers={"HX-Redirect": url})
            return redirect(url)
        return self.render_to_response(self.get_context_data(period=month))


class RunDetailView(StaffPage, TemplateView):
    permission_required = ("incentives.view_payoutrun",)
    province_only = True
    template_name = "incentives/run_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        run = selectors.run_get(user=user, pk=kwargs["pk"])
        lines = PayoutLineFilterSet(self.request.GET, selectors.line_list(user=user, run_id=run.pk)
                                    ).qs.order_by("area_id", "worker__name", "component", "id")
        return super().get_context_data(
            run=run, overview=selectors.run_overview(run),
            held=selectors.held_lines(user=user, run=run),
            page=BoundedPaginator(lines, 50).get_page(self.request.GET.get("page")),
            actions=_allowed_actions(user, run), next_step=selectors.run_next_step(
                user=user, run=run), reports=reports.kinds_for(user, run), **kwargs)


ACTIONS = {
    # action: (permission, statuses it applies to, form, button label)
    "verifikasi": ("incentives.verify_run", (RunStatus.DIHITUNG,), VerifyForm, _lazy("Verifikasi")),
    "setujui": ("incentives.approve_run", (RunStatus.DIVERIFIKASI,), ApproveForm, _lazy("Setujui")),
    "dibayar": ("incentives.mark_paid_run", (RunStatus.DISETUJUI,), MarkPaidForm,
                _lazy("Tandai dibayar")),
    "batalkan": ("incentives.change_payoutrun",
                 (RunStatus.DRAF, RunStatus.DIHITUNG, RunStatus.DIVERIFIKASI), CancelForm,
                 _lazy("Batalkan")),
}


def _allowed_actions(user, run) -> list[tuple[str, str]]:
    """The buttons: permission and status, and no verify/approve for whoever made the run."""
    return [(name, label) for name, (perm, statuses, _form, label) in ACTIONS.items()
            if user.has_perm(perm) and run.status in statuses
            and (name not in selectors.RUN_STEPS
                 or selectors.runs_for_step(user=user, step=name).filter(pk=run.pk).exists())]


class RunActionView(IfMatchPage, StaffPage, TemplateView):
    """GET: the confirmation with the totals and the pagu; POST: the step, by its service."""

    permission_required = ("incentives.view_payoutrun",)
    province_only = True
    template_name = "incentives/run_action.html"

    def _form(self, run, action, data=None):
        form_class = ACTIONS[action][2]
        if form_class is ApproveForm:
            return ApproveForm(data, exceeded=run.ceiling_exceeded)
        return form_class(data)

    def dispatch(self, request, *args, **kwargs):
        if kwargs["action"] not in ACTIONS:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, form=None, **kwargs):
        run = selectors.run_get(user=self.request.user, pk=kwargs["pk"])
        action = kwargs["action"]
        allowed = any(name == action for name, _label in _allowed_actions(self.request.user, run))
        return super().get_context_data(
            run=run, overview=selectors.run_overview(run), action_label=ACTIONS[action][3],
            form=form or self._form(run, action), allowed=allowed,
            next_step="" if allowed else selectors.run_next_step(user=self.request.user, run=run),
            **kwargs)

    def post(self, request, pk, action):
        run = selectors.run_get(user=request.user, pk=pk)
        form = self._form(run, action, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    self.check_if_match(run)
                    if action == "verifikasi":
                        services.run_verify(actor=request.user, run=run)
                    elif action == "setujui":
                        services.run_approve(actor=request.user, run=run,
                                             override_reason=data.get("override_reason", ""))
                    elif action == "dibayar":
                        services.run_mark_paid(actor=request.user, run=run,
                                               reference=data["reference"])
                    else:
                        services.run_cancel(actor=request.user, run=run, reason=data["reason"])
            except REFUSALS as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(step)s: tersimpan.") % {"step": ACTIONS[action][3]})
                return redirect("incentives:run-detail", pk=run.pk)
        return self.render_to_response(self.get_context_data(pk=pk, action=action, form=form),
                                       status=400)


def document_download(request, run, kind: str, *, back_url: str):
    """A finance document of the run: the stored file when the Celery task has made it;
    until then 202 and a page that asks again (htmx, or a refresh without JavaScript) and
    starts the download when it is ready. Nothing is rendered inside the request."""
    if kind not in reports.REPORT_KINDS:
        raise Http404
    try:
        document = services.document_request(actor=request.user, run=run, kind=kind)
    except reports.NotApproved as exc:
        return render(request, "incentives/run_document_refused.html",
                      {"run": run, "label": reports.REPORT_LABELS[kind], "reason": str(exc),
                       "back_url": back_url}, status=409)
    if document.status == RunDocument.Status.READY:
        if request.htmx:
            return HttpResponse(headers={"HX-Redirect": request.get_full_path()})
        return reports.control_headers(
            FileResponse(document.file.open("rb"), as_attachment=True,
                         filename=document.filename, content_type=document.content_type),
            document.control)
    return render(request, "incentives/run_document.html",
                  {"run": run, "document": document, "label": reports.REPORT_LABELS[kind],
                   "back_url": back_url}, status=202)


class RunReportView(StaffPage, View):
    permission_required = ("incentives.view_payoutrun",)
    province_only = True

    def get(self, request, pk, kind):
        run = selectors.run_get(user=request.user, pk=pk)
        return document_download(request, run, kind,
                                 back_url=reverse("incentives:run-detail", args=[run.pk]))
