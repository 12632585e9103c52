"""Reads of the payouts (scoped lines, runs, report data)."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from dinsos.choices import FundingSource
from dinsos.models import Office, Wilayah
from incentives.calculations import month_window
from incentives.choices import Component, LineStatus, RunStatus
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
class Group:
    kab_kota: str
    kab_kota_name: str
    role: str
    role_name: str
    lines: list = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return sum((line.gross_amount for line in self.lines), ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((line.tax_amount for line in self.lines), ZERO)

    @property
    def net(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), ZERO)


def nominatif(run: PayoutRun) -> list[Group]:
    """Payable lines grouped by kab/kota and role (two queries)."""
    names = dict(Wilayah.objects.kab_kota().values_list("kode", "nama"))
    role_names = dict(Role.choices)
    groups: dict[tuple, Group] = {}
    lines = (run.lines.filter(status=LineStatus.PAYABLE).select_related("worker")
             .order_by("area_id", "role", "worker__name", "component", "period", "id"))
    for line in lines:
        key = (line.area_id[:5], line.role)
        if key not in groups:
            groups[key] = Group(key[0], names.get(key[0], key[0]), line.role,
                                str(role_names.get(line.role, line.role)))
        groups[key].lines.append(line)
    return [groups[k] for k in sorted(groups)]


def bank_transfer_lines(run: PayoutRun):
    """One transfer per account: lines of one worker paid to one account are summed. A negative
    balance never reaches this point (services carry it forward with a balancing line), so the
    transfers add up to the payable lines; a zero balance is not a transfer."""
    rows = (run.lines.filter(status=LineStatus.PAYABLE)
            .values("account_number", "account_holder", "bank_name", "worker__name")
            .annotate(amount=Coalesce(Sum("net_amount"), ZERO), n=Count("id"))
            .filter(amount__gt=0)
            .order_by("bank_name", "account_holder", "account_number"))
    return list(rows)


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
    """Pagu vs paid (payable lines of approved or paid runs) per component and funding source."""
    paid = defaultdict(lambda: ZERO)
    for row in (PayoutLine.objects.filter(status=LineStatus.PAYABLE, run__period__year=year,
                                          run__status__in=[RunStatus.DISETUJUI, RunStatus.DIBAYAR])
                .values("component", "funding_source")
                .annotate(total=Coalesce(Sum("gross_amount"), ZERO))):
        paid[(row["component"], row["funding_source"])] = row["total"]
    ceilings = {(c.component, c.funding_source): c.amount
                for c in BudgetCeiling.objects.filter(year=year)}
    keys = sorted(set(paid) | set(ceilings))
    components, sources = dict(Component.choices), dict(FundingSource.choices)
    return [{"component": components.get(k[0], k[0]), "funding_source": sources.get(k[1], k[1]),
             "ceiling": ceilings.get(k), "paid": paid[k],
             "remaining": None if ceilings.get(k) is None else ceilings[k] - paid[k]}
            for k in keys]


def province_office() -> Office:
    return Office.objects.get(wilayah_id="36")
