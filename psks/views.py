"""Staff pages of the workforce: the worker list with role, area and status, and the coverage
of the kecamatan (without a TKSK, without a rakor) with its XLSX. Thin: parse, one selector,
render."""

from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.generic import TemplateView

from dinsos.pages import StaffPage
from dinsos.tabular import table_response
from psks import selectors
from psks.filters import WorkerFilterSet


class WorkerListView(StaffPage, TemplateView):
    permission_required = ("psks.view_worker",)
    template_name = "psks/worker_list.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        workers = selectors.worker_list_on_duty(user=self.request.user, filters=self.request.GET,
                                                on=today)
        return super().get_context_data(
            filter=WorkerFilterSet(self.request.GET), today=today,
            page=Paginator(workers, 50).get_page(self.request.GET.get("page")), **kwargs)


MISSING = {"": _lazy("Semua kecamatan"), "tksk": _lazy("Tanpa TKSK"), "rakor": _lazy("Tanpa rakor")}


class CoverageView(StaffPage, TemplateView):
    permission_required = ("psks.view_worker",)
    template_name = "psks/coverage.html"

    def get(self, request, *args, **kwargs):
        today = timezone.localdate()
        try:
            month = selectors.Month.parse(request.GET.get("bulan") or f"{today:%Y-%m}")
        except ValueError:
            raise Http404 from None
        missing = request.GET.get("kurang", "")
        if missing not in MISSING:
            raise Http404
        rows = selectors.coverage_rows(user=request.user, month=month, missing=missing)
        if request.GET.get("fmt") == "xlsx":
            header = [_("kode"), _("kecamatan"), _("kabupaten/kota"), _("TKSK"),
                      _("rakor bulan ini")]
            data = ([k.kode, k.nama, k.induk.nama, k.tksk_name or "", k.rakor_count or 0]
                    for k in rows)
            return table_response(header, data, fmt="xlsx",
                                  filename=f"cakupan-kecamatan-{month.first:%Y-%m}")
        return self.render_to_response(self.get_context_data(
            rows=rows, month=month, missing=missing, choices=MISSING, **kwargs))
