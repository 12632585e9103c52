import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from dinsos.admin_base import DinsosModelAdmin, json_table, show_number
from dinsos.choices import FundingSource
from dinsos.money import format_bulan, format_rupiah, format_tanggal
from dinsos.scoping import can
from incentives import services
from incentives.choices import Component, HoldReason, LineStatus
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate
from incentives.reports import kinds_for_run
from incentives.views import document_download


def _label(choices, value) -> str:
    """A code stored in a run's JSON summary, shown by its label."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "—")


def _money(value) -> str:
    return format_rupiah(str(value)) if value not in (None, "") else "—"


def _day(iso) -> str:
    try:
        return format_tanggal(datetime.date.fromisoformat(iso))
    except (TypeError, ValueError):
        return str(iso or "—")


def _month(text) -> str:
    try:
        return format_bulan(datetime.date.fromisoformat(f"{text}-01"))
    except (TypeError, ValueError):
        return str(text or "—")


def _span(pair) -> str:
    first, last = (list(pair) + [None, None])[:2]
    return f"{_day(first)} – {_day(last) if last else _('sekarang')}"


def _line_link(pk) -> str:
    url = reverse("admin:incentives_payoutline_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, _("baris #%(pk)s") % {"pk": pk})


def _run_link(pk) -> str:
    url = reverse("admin:incentives_payoutrun_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, _("perhitungan #%(pk)s") % {"pk": pk})


def _parts_table(parts) -> str:
    return format_html(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
        _("tarif"), _("berlaku"), _("hari aktif"), _("dasar periode"), _("jumlah"),
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                         ((p.get("rate") or "—", _span([p.get("from"), p.get("to")]),
                           p.get("days", "—"), _money(p.get("base")), _money(p.get("amount")))
                          for p in parts)))


#: What each key of a line's explanation means, in the order shown: (label, how to show it).
EXPLANATION_KEYS = {
    "rate": (_("tarif"), str),
    "legal_basis": (_("dasar hukum"), str),
    "decrees": (_("SK penugasan"), lambda v: ", ".join(map(str, v)) or "—"),
    "periods": (_("masa tugas"), lambda v: format_html_join("", "<div>{}</div>",
                                                            ((_span(p),) for p in v))),
    "window": (_("periode yang dihitung"), _span),
    "parts": (_("rincian per tarif"), _parts_table),
    "tax_rule": (_("PPh 21"), str),
    "hold_reasons": (_("alasan ditahan"),
                     lambda v: "; ".join(_label(HoldReason, r) for r in v) or _("tidak ada")),
    "arrears_of": (_("rapel dari"), _line_link),
    "corrects": (_("mengoreksi"), _line_link),
    "reason": (_("alasan"), str),
    "recovers": (_("memotong"), _line_link),
    "carried_from_run": (_("saldo negatif dari"), _run_link),
    "carried_period": (_("periode saldo negatif"), _month),
    "balance": (_("saldo baris dapat dibayar"), _money),
    "carried": (_("dibawa ke pembayaran berikutnya"), _money),
    # a ``sisa_tahunan`` line (services._rest_lines, payout_sql.insert_rests)
    "remainder_of": (_("sisa dari baris"), _line_link),
    "base": (_("dasar periode sekarang"), _money),
    "days": (_("hari aktif"), str),
    "owed": (_("terutang sekarang"), _money),
    "paid": (_("sudah dibayar"), _money),
    "paid_by_hand": (_("di antaranya dengan penyesuaian"), _money),
    "amount": (_("jumlah"), lambda v: v if str(v).startswith(("Rp", "-Rp")) else _money(v)),
    "rule": (_("aturan"), str),
}


def explanation_table(explanation: dict) -> str:
    """A payout line's explanation (``incentives.calculations`` and the services write it as
    JSON) as an Indonesian table: rate parts, days, dates and Rupiah amounts."""
    return json_table(explanation, EXPLANATION_KEYS)


@admin.register(Rate)
class RateAdmin(DinsosModelAdmin):
    list_display = ["role", "component", "amount", "unit", "schedule", "funding_source",
                    "paid_by_province", "requires_report", "withhold_tax", "valid_from",
                    "valid_to"]
    list_filter = ["role", "component", "funding_source", "paid_by_province"]
    readonly_fields = ["valid_to"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # a rate is closed by the next one, never removed

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in form.cleaned_data}
        obj.pk = services.rate_create(actor=request.user, **fields).pk


@admin.register(BudgetCeiling)
class BudgetCeilingAdmin(DinsosModelAdmin):
    list_display = ["year", "component", "funding_source", "amount", "legal_basis"]
    list_filter = ["year", "component", "funding_source"]

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in services.CEILING_FIELDS}
        obj.pk = services.ceiling_save(actor=request.user, ceiling=obj if change else None,
                                       **fields).pk

    def delete_model(self, request, obj):
        services.ceiling_delete(actor=request.user, ceiling=obj)


@admin.register(PayoutRun)
class PayoutRunAdmin(DinsosModelAdmin):
    list_display = ["bulan", "status", "lines_payable", "net_payable", "ceiling_exceeded",
                    "computed_by", "verified_by", "approved_by"]
    list_filter = ["status", "ceiling_exceeded"]
    readonly_fields = ["bulan", "status", "computed_by", "computed_at", "verified_by",
                       "verified_at", "approved_by", "approved_at", "paid_at", "paid_reference",
                       "cancelled_by", "cancelled_at", "cancel_reason", "ceiling_exceeded",
                       "ceiling_table", "ceiling_override_by", "ceiling_override_reason",
                       "summary_table", "downloads", "lines", "reports_sent_at", "stale_since",
                       "stale_reason"]
    # the totals and the pagu first, then the maker-checker trail
    fields = ["bulan", "status", "stale_since", "stale_reason", "summary_table", "ceiling_table",
              "ceiling_exceeded",
              "ceiling_override_by", "ceiling_override_reason", "downloads", "lines",
              "computed_by",
              "computed_at", "verified_by", "verified_at", "approved_by", "approved_at",
              "paid_at", "paid_reference", "cancelled_by", "cancelled_at", "cancel_reason",
              "reports_sent_at"]
    actions = ["verify", "approve"]

    def has_add_permission(self, request):
        return False  # runs are computed (API, command, scheduled task)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("periode"), ordering="period")
    def bulan(self, obj):
        """A run pays a month: ``Oktober 2026``, not its first day."""
        return format_bulan(obj.period)

    @admin.display(description=_("baris dibayar"))
    def lines_payable(self, obj):
        return show_number(obj.summary.get("payable"), "angka")

    @admin.display(description=_("neto dibayar"))
    def net_payable(self, obj):
        value = obj.summary.get("net_payable")
        return format_rupiah(value) if value is not None else "—"

    @admin.display(description=_("ringkasan"))
    def summary_table(self, obj):
        rows = obj.summary.get("by_component_source", [])
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("komponen"), _("sumber dana"), _("status"), _("baris"), _("neto"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                             "</tr>", ((_label(Component, r["component"]),
                                        _label(FundingSource, r["funding_source"]),
                                        _label(LineStatus, r["status"]),
                                        show_number(r["lines"], "angka"),
                                        format_rupiah(r["net"])) for r in rows)))

    @admin.display(description=_("rincian pagu"))
    def ceiling_table(self, obj):
        rows = obj.ceiling_details or []
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "{}</table>", _("komponen"), _("sumber dana"), _("pagu"), _("sudah terpakai"),
            _("perhitungan ini"), _("melampaui"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                             "<td>{}</td></tr>", ((
                                 _label(Component, r.get("component")),
                                 _label(FundingSource, r.get("funding_source")),
                                 _money(r.get("ceiling")), _money(r.get("spent")),
                                 _money(r.get("this_run")),
                                 _("ya") if r.get("exceeded") else _("tidak")) for r in rows)))

    @admin.display(description=_("baris"))
    def lines(self, obj):
        """The lines are listed (paginated, filterable) elsewhere, not inline (350 lines made
        this page 57,000 px tall)."""
        count = obj.lines.count()
        return format_html(
            '<a href="{}?run__id__exact={}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:incentives_payoutline_changelist"), obj.pk,
            _("%(n)d baris pembayaran") % {"n": count},
            reverse("incentives:run-detail", args=[obj.pk]), _("halaman perhitungan"))

    @admin.display(description=_("unduh"))
    def downloads(self, obj):
        return format_html_join(" · ", '<a href="{}">{}</a>', (
            (reverse("admin:incentives_payoutrun_report", args=[obj.pk, kind]), label)
            for kind, label in kinds_for_run(obj).items()))

    def get_urls(self):
        return [path("<int:pk>/laporan/<str:kind>/", self.admin_site.admin_view(self.report_view),
                     name="incentives_payoutrun_report"), *super().get_urls()]

    def report_view(self, request, pk, kind):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return document_download(request, get_object_or_404(self.get_queryset(request), pk=pk),
                                 kind, back_url=reverse("admin:incentives_payoutrun_change",
                                                        args=[pk]))

    def _each(self, request, queryset, func, done_message):
        for run in queryset:
            try:
                func(actor=request.user, run=run)
                self.message_user(request, done_message % {"run": format_bulan(run.period)})
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{run}: {text}", messages.ERROR)

    def has_verify_permission(self, request):
        return can(request.user, "verify_run", PayoutRun)

    def has_approve_permission(self, request):
        return can(request.user, "approve_run", PayoutRun)

    @admin.action(description=_("Verifikasi (Keuangan)"), permissions=["verify"])
    def verify(self, request, queryset):
        self._each(request, queryset, services.run_verify, _("Perhitungan %(run)s diverifikasi."))

    @admin.action(description=_("Setujui (Pimpinan)"), permissions=["approve"])
    def approve(self, request, queryset):
        self._each(request, queryset, services.run_approve, _("Perhitungan %(run)s disetujui."))


@admin.register(PayoutLine)
class PayoutLineAdmin(DinsosModelAdmin):
    """Every line can be shown to an auditor: the explanation says why this amount."""

    list_display = ["worker", "run", "kind", "role", "component", "bulan", "gross_amount",
                    "net_amount", "status", "hold_reason"]
    list_filter = ["status", "kind", "component", "role", "hold_reason", "run"]
    search_fields = ["=worker__nik", "worker__name"]
    list_select_related = ["worker", "run"]
    log_access = True  # the worker's account number (whole for Keuangan)

    def get_readonly_fields(self, request, obj=None):
        return [("bulan" if f.name == "period" else f.name) for f in self.model._meta.fields
                if f.name != "explanation"] + ["why"]

    @admin.display(description=_("periode yang dibayar"), ordering="period")
    def bulan(self, obj):
        """A line pays a month: ``Oktober 2026``, not its first day."""
        return format_bulan(obj.period)

    exclude = ["explanation", "period"]  # the period is shown as its month (``bulan``)

    @admin.display(description=_("mengapa nilai ini"))
    def why(self, obj):
        return explanation_table(obj.explanation)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
