"""Reads of the payouts (scoped lines, runs, report data)."""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, Substr
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from dinsos.choices import FundingSource
from dinsos.dashboard import Chart, Panel, Waiting, cached_rows
from dinsos.models import Office, Wilayah
from dinsos.money import MONTH_NAMES
from dinsos.scoping import ALL, user_area
from incentives.calculations import month_window
from incentives.choices import Component, LineKind, LineStatus, RunStatus
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate
from psks.choices import Role
from psks.models import Assignment

ZERO = Decimal(0)


def run_list(*, user):
    return PayoutRun.objects.select_related("computed_by", "verified_by", "approved_by")


def line_list(*, user, run_id: int | None = None):
    """Lines the user may read: province roles all, a kab/kota operator those of its area."""
    qs = PayoutLine.objects.for_user(user).select_related("worker", "area", "run")
    return qs.filter(run_id=run_id) if run_id is not None else qs


def run_status_list(*, user, filters=None):
    """The runs covering the lines the user may read, with the status of each run and the
    counts and payable total of those lines only (a kab/kota operator never sees another
    area's numbers)."""
    from incentives.filters import RunStatusFilterSet

    runs = RunStatusFilterSet(filters or {}, PayoutRun.objects.all()).qs
    payable = Q(status=LineStatus.PAYABLE)
    return (PayoutLine.objects.for_user(user).filter(run__in=runs)
            .values("run_id").order_by("-run__period", "-run_id")
            .annotate(run_period=F("run__period"), run_status=F("run__status"),
                      computed_at=F("run__computed_at"), verified_at=F("run__verified_at"),
                      approved_at=F("run__approved_at"), paid_at=F("run__paid_at"),
                      lines=Count("id"), payable=Count("id", filter=payable),
                      held=Count("id", filter=Q(status=LineStatus.HELD)),
                      net_payable=Coalesce(Sum("net_amount", filter=payable), ZERO)))


def rate_list():
    return Rate.objects.all()


@dataclass
class NominatifGroup:
    """One kab/kota × role of the Daftar Nominatif, with its totals summed by the database."""

    kab_kota: str
    kab_kota_name: str
    role: str
    role_name: str
    count: int
    gross: Decimal
    tax: Decimal
    net: Decimal


NOMINATIF_FIELDS = ("kab_kota", "role", "worker_id", "worker__name", "worker__nik", "component",
                    "kind",
                    "period", "bank_name", "account_number", "gross_amount", "tax_amount",
                    "net_amount", "note")


def _payable_by_kab_kota(run: PayoutRun):
    return run.lines.filter(status=LineStatus.PAYABLE).annotate(
        kab_kota=Substr("area_id", 1, 5))


def nominatif_groups(run: PayoutRun) -> list[NominatifGroup]:
    """The groups of the Daftar Nominatif (kab/kota × role) with count and totals: one
    GROUP BY, whatever the number of lines."""
    names = dict(Wilayah.objects.kab_kota().values_list("kode", "nama"))
    role_names = dict(Role.choices)
    rows = (_payable_by_kab_kota(run).values("kab_kota", "role")
            .annotate(n=Count("id"), gross=Coalesce(Sum("gross_amount"), ZERO),
                      tax=Coalesce(Sum("tax_amount"), ZERO), net=Coalesce(Sum("net_amount"), ZERO))
            .order_by("kab_kota", "role"))
    return [NominatifGroup(r["kab_kota"], names.get(r["kab_kota"], r["kab_kota"]), r["role"],
                           str(role_names.get(r["role"], r["role"])), r["n"], r["gross"],
                           r["tax"], r["net"]) for r in rows]


WORKER_TOTAL_FIELDS = ("worker_lines", "worker_place", "worker_gross", "worker_tax",
                       "worker_net", "worker_special", "worker_carried")


def nominatif_lines(run: PayoutRun, *, chunk_size: int = 2000):
    """The payable lines of the Daftar Nominatif as named tuples (NOMINATIF_FIELDS), in the
    order of the groups (kab/kota, role), then desa, name (a worker's lines together),
    component, period — streamed from
    a server-side cursor, never all in memory. Each line also carries its worker's totals over
    the whole run (window functions: ``worker_lines``, ``worker_gross``/``_tax``/``_net``,
    whether any line is not regular or is a carried balance) and its place among the worker's
    lines in this order (``worker_place``): a worker whose lines fall in two kab/kota × role
    groups is one transfer, whose total the document prints once, after his last line."""
    from django.db.models import Case, Max, Value, When, Window
    from django.db.models.functions import RowNumber

    worker = [F("worker_id")]

    def flag(condition):
        return Window(Max(Case(When(condition, then=Value(1)), default=Value(0))),
                      partition_by=worker)

    return (_payable_by_kab_kota(run)
            .annotate(
                worker_lines=Window(Count("id"), partition_by=worker),
                worker_place=Window(RowNumber(), partition_by=worker, order_by=[
                    Substr("area_id", 1, 5), "role", "area_id", "component", "period", "id"]),
                worker_gross=Window(Sum("gross_amount"), partition_by=worker),
                worker_tax=Window(Sum("tax_amount"), partition_by=worker),
                worker_net=Window(Sum("net_amount"), partition_by=worker),
                worker_special=flag(~Q(kind=LineKind.REGULAR)),
                worker_carried=flag(Q(kind=LineKind.CARRIED)))
            .order_by("kab_kota", "role", "area_id", "worker__name", "worker_id", "component",
                      "period", "id")
            .values_list(*NOMINATIF_FIELDS, *WORKER_TOTAL_FIELDS, named=True)
            .iterator(chunk_size=chunk_size))


def nominatif_widths(run: PayoutRun) -> dict:
    """The longest text of each free-text column and the largest amount (for fitted columns
    without reading the lines first)."""
    from django.db.models import Max, Min
    from django.db.models.functions import Length

    payable = run.lines.filter(status=LineStatus.PAYABLE)
    widths = payable.aggregate(
        name=Max(Length("worker__name")), bank=Max(Length("bank_name")),
        account=Max(Length("account_number")), note=Max(Length("note")),
        max_gross=Max("gross_amount"), min_gross=Min("gross_amount"),
        max_tax=Max("tax_amount"), min_tax=Min("tax_amount"),
        max_net=Max("net_amount"), min_net=Min("net_amount"))
    widths["kinds"] = list(payable.values_list("component", "kind").distinct().order_by())
    return widths


def bank_transfer_lines(run: PayoutRun):
    """One transfer per account (with its bank's code and name): lines of one worker paid to one
    account are summed. A negative
    balance never reaches this point (services carry it forward with a balancing line), so the
    transfers add up to the payable lines; a zero balance is not a transfer. A queryset: stream
    it with ``.iterator()``."""
    rows = (run.lines.filter(status=LineStatus.PAYABLE)
            .values("account_number", "account_holder", "bank_name", "worker__name",
                    bank_code=F("bank_account__bank__code"))
            .annotate(amount=Coalesce(Sum("net_amount"), ZERO), n=Count("id"))
            .filter(amount__gt=0)
            .order_by("bank_name", "account_holder", "account_number"))
    return rows


def funding_summary(run: PayoutRun) -> list[dict]:
    rows = (run.lines.values("funding_source", "component", "status")
            .annotate(n=Count("id"), gross=Coalesce(Sum("gross_amount"), ZERO),
                      tax=Coalesce(Sum("tax_amount"), ZERO), net=Coalesce(Sum("net_amount"), ZERO))
            .order_by("funding_source", "component", "status"))
    return list(rows)


def not_province_paid(run: PayoutRun) -> list[dict]:
    """For information: amounts paid by others (e.g. Kemensos/APBN for pendamping PKH) to the
    workers active this month, at the rates in force — never paid by the province."""
    window = month_window(run.period.year, run.period.month)
    month_first, month_last = window.first, window.last
    rates = Rate.objects.filter(paid_by_province=False, valid_from__lte=month_last).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=month_first))
    out = []
    for rate in rates:
        workers = (Assignment.objects.filter(role=rate.role, start_date__lte=month_last)
                   .filter(Q(end_date__isnull=True) | Q(end_date__gte=month_first))
                   .values("worker").distinct().count())
        out.append({"rate": rate, "workers": workers, "yearly_total": rate.amount * workers})
    return out


def realisation(year: int) -> list[dict]:
    """Pagu vs realisation per component and funding source. Realised is what was paid (runs
    marked paid: the SP2D is out), as finance books it; approved runs not yet paid are
    committed, in their own figure, and the remaining pagu is what neither took (the same
    sum the approval checks the pagu with)."""
    paid, approved = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    for row in (PayoutLine.objects.filter(status=LineStatus.PAYABLE, run__period__year=year,
                                          run__status__in=[RunStatus.DISETUJUI, RunStatus.DIBAYAR])
                .values("component", "funding_source", "run__status")
                .annotate(total=Coalesce(Sum("gross_amount"), ZERO)).order_by()):
        key = (row["component"], row["funding_source"])
        (paid if row["run__status"] == RunStatus.DIBAYAR else approved)[key] += row["total"]
    ceilings = {(c.component, c.funding_source): c.amount
                for c in BudgetCeiling.objects.filter(year=year)}
    keys = sorted(set(paid) | set(approved) | set(ceilings))
    components, sources = dict(Component.choices), dict(FundingSource.choices)
    return [{"component": components.get(k[0], k[0]), "funding_source": sources.get(k[1], k[1]),
             "ceiling": ceilings.get(k), "paid": paid[k], "approved": approved[k],
             "remaining": (None if ceilings.get(k) is None
                           else ceilings[k] - paid[k] - approved[k])}
            for k in keys]


def province_office() -> Office:
    return Office.objects.get(wilayah_id="36")


# --- staff pages ------------------------------------------------------------------------------

def run_get(*, user, pk) -> PayoutRun:
    return get_object_or_404(run_list(user=user), pk=pk)


def made_by(user) -> Q:
    """Runs ``user`` computed or added a correction to. Maker-checker: the services refuse
    such a user the verification and the approval (``services._makers``), so Beranda's
    "Menunggu Anda" and the run page's buttons leave these runs out for that user."""
    corrected = PayoutLine.objects.filter(run=OuterRef("pk"), kind=LineKind.ADJUSTMENT,
                                          created_by=user)
    return Q(computed_by=user) | Q(Exists(corrected))


RUN_STEPS = {
    # step: (permission, the status it applies to)
    "verifikasi": ("incentives.verify_run", RunStatus.DIHITUNG),
    "setujui": ("incentives.approve_run", RunStatus.DIVERIFIKASI),
    "dibayar": ("incentives.mark_paid_run", RunStatus.DISETUJUI),
}


def runs_for_step(*, user, step: str):
    """The runs waiting for ``step`` (verifikasi, setujui, dibayar) that this user may take:
    its permission, the run's status, and maker-checker."""
    perm, status = RUN_STEPS[step]
    if not user.has_perm(perm):
        return PayoutRun.objects.none()
    runs = PayoutRun.objects.filter(status=status, stale_since__isnull=True)
    if step == "verifikasi":
        runs = runs.exclude(made_by(user))
    elif step == "setujui":
        runs = runs.exclude(made_by(user)).exclude(verified_by=user)
    return runs


STEP_WAITING = {
    "verifikasi": (_lazy("Menunggu verifikasi Keuangan."),
                   _lazy("Menunggu verifikasi oleh petugas Keuangan lain: Anda menghitung atau "
                         "menambah penyesuaian pada perhitungan ini, jadi pemeriksanya harus "
                         "orang lain (pemisahan tugas).")),
    "setujui": (_lazy("Menunggu persetujuan Pimpinan."),
                _lazy("Menunggu persetujuan Pimpinan lain: Anda ikut menghitung, menambah "
                      "penyesuaian atau memverifikasi perhitungan ini (pemisahan tugas).")),
    "dibayar": (_lazy("Disetujui; menunggu Keuangan mencatat pembayaran (SP2D)."),
                _lazy("Disetujui; menunggu Keuangan mencatat pembayaran (SP2D).")),
}


STALE_WAITING = _lazy("Tarif berubah sesudah perhitungan ini dihitung: hitung ulang bulan ini "
                      "dahulu (halaman Pembayaran insentif); sebelum itu perhitungan tidak "
                      "dapat diverifikasi atau disetujui.")


def run_next_step(*, user, run: PayoutRun) -> str:
    """What the run waits for, and who may take it — told, not only shown by a missing
    button: a finance officer who computed the run sees why someone else must verify it."""
    if run.is_stale and run.status in (RunStatus.DIHITUNG, RunStatus.DIVERIFIKASI):
        return STALE_WAITING
    for step, (_perm, status) in RUN_STEPS.items():
        if run.status == status:
            mine = runs_for_step(user=user, step=step).filter(pk=run.pk).exists()
            if mine:
                return ""  # the button is there
            general, excluded = STEP_WAITING[step]
            return excluded if user.has_perm(RUN_STEPS[step][0]) else general
    return ""


def run_overview(run: PayoutRun) -> dict:
    """The top of the run page and of every confirmation: totals, per component and funding
    source (labels, not codes), and each pagu with what this run adds to what is spent."""
    summary = run.summary or {}
    components, sources, statuses = (dict(Component.choices), dict(FundingSource.choices),
                                     dict(LineStatus.choices))
    by_source = [{**row, "component": components.get(row["component"], row["component"]),
                  "funding_source": sources.get(row["funding_source"], row["funding_source"]),
                  "status": statuses.get(row["status"], row["status"]),
                  "held": row["status"] == LineStatus.HELD}
                 for row in summary.get("by_component_source", [])]
    ceilings = []
    for row in run.ceiling_details or []:
        ceiling, spent, this = (Decimal(row["ceiling"]), Decimal(row["spent"]),
                                Decimal(row["this_run"]))
        ceilings.append({
            "component": components.get(row["component"], row["component"]),
            "funding_source": sources.get(row["funding_source"], row["funding_source"]),
            "ceiling": ceiling, "spent": spent, "this_run": this, "after": spent + this,
            "remaining": ceiling - spent - this, "exceeded": row["exceeded"],
            "percent": min(100, int((spent + this) * 100 / ceiling)) if ceiling else 100,
        })
    return {
        "lines": summary.get("lines", 0), "payable": summary.get("payable", 0),
        "held": summary.get("held", 0),
        "gross": Decimal(summary.get("gross_payable", "0")),
        "tax": Decimal(summary.get("tax_payable", "0")),
        "net": Decimal(summary.get("net_payable", "0")),
        "by_source": by_source, "ceilings": ceilings,
    }


def held_lines(*, user, run: PayoutRun, limit: int = 20):
    return (line_list(user=user, run_id=run.pk).filter(status=LineStatus.HELD)
            .order_by("area_id", "worker__name")[:limit])


def dashboard(*, user):
    """Payouts per month of this year against the monthly share of the pagu (province roles);
    runs waiting for this user's step."""
    if not user.has_perm("incentives.view_payoutline"):
        return None
    year = timezone.localdate().year
    # paid: the runs marked paid; on the way: computed, verified or approved, not yet paid
    lines = line_list(user=user).filter(status=LineStatus.PAYABLE, run__period__year=year,
                                        run__status__in=RunStatus.with_lines())
    per_month = {month: (paid, on_the_way) for month, paid, on_the_way in cached_rows(
        lines.values_list("run__period__month")
        .annotate(paid=Coalesce(Sum("net_amount", filter=Q(run__status=RunStatus.DIBAYAR)),
                                ZERO),
                  on_the_way=Coalesce(Sum("net_amount", filter=~Q(
                      run__status=RunStatus.DIBAYAR)), ZERO))
        .order_by(), rows_of=lines)}
    months = list(range(1, 13))
    datasets = [{"label": _("Dibayar (neto)"),
                 "data": [int(per_month.get(m, (0, 0))[0]) for m in months]},
                {"label": _("Dalam proses: dihitung sampai disetujui (neto)"),
                 "data": [int(per_month.get(m, (0, 0))[1]) for m in months]}]
    province = user_area(user) is ALL
    if province:
        pagu = BudgetCeiling.objects.filter(year=year, funding_source=FundingSource.APBD_PROVINSI
                                            ).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
        datasets.append({"label": _("Pagu per bulan (1/12)"),
                         "data": [int(pagu / 12)] * 12})
    chart = Chart("chart-payouts-month", _("Pembayaran insentif per bulan %(year)s")
                  % {"year": year}, "bar", [MONTH_NAMES[m][:3] for m in months], datasets,
                  money=True)
    waiting = []
    if province:
        steps = [("verifikasi", _("Perhitungan untuk diverifikasi")),
                 ("setujui", _("Perhitungan untuk disetujui")),
                 ("dibayar", _("Perhitungan disetujui, belum dicatat dibayar"))]
        for step, label in steps:
            n = runs_for_step(user=user, step=step).count()
            if n:
                waiting.append(Waiting(label, n, reverse("incentives:run-list")))
    return Panel(_("Insentif dan dana operasional"), charts=[chart], waiting=waiting)


def run_computed_since(*, user, period, since):
    """The month's run once the worker has computed it after ``since`` (else None)."""
    return run_list(user=user).filter(period=period.replace(day=1), computed_at__gte=since,
                                      status=RunStatus.DIHITUNG).first()
