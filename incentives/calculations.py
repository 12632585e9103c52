"""Pure money rules of the payouts: Decimal in, Decimal out; no ORM, no clock.

Policy (documented once, here):
- Monthly amounts are prorated by calendar days: ``amount × days_active / days_in_month``,
  rounded once with ``dinsos.money.round_rupiah`` (half-up to whole rupiah).
- A yearly amount is split into whole-rupiah parts with ``split_rupiah`` (each part rounded
  down, the remainder in the last part), so a full year sums exactly to the yearly amount:
  monthly = 12 parts paid in every month, quarterly = 4 parts paid in March, June, September and
  December, once = the whole amount in the scheduled month. A part is prorated by the calendar
  days the worker was active in the window it pays for (the month, the quarter or the year).
- PPh 21 for non-employees (PMK 168/2023), only where a rate says so: the Pasal 17 first-band
  rate (5 %) on 50 % of gross, 20 % higher without NPWP. Incentives here stay far inside the
  first band (Rp60 juta a year), so the band is not accumulated across the year.
"""

import calendar
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from dinsos.money import round_rupiah, split_rupiah, to_decimal

QUARTER_END_MONTHS = (3, 6, 9, 12)


@dataclass(frozen=True)
class TaxRule:
    rate: Decimal = Decimal("0.05")
    base_share: Decimal = Decimal("0.5")
    without_npwp_factor: Decimal = Decimal("1.2")


PPH21_NON_EMPLOYEE = TaxRule()


@dataclass(frozen=True)
class Window:
    first: datetime.date
    last: datetime.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def month_window(year: int, month: int) -> Window:
    return Window(datetime.date(year, month, 1),
                  datetime.date(year, month, calendar.monthrange(year, month)[1]))


def quarter_window(year: int, month: int) -> Window:
    end_month = QUARTER_END_MONTHS[(month - 1) // 3]
    return Window(datetime.date(year, end_month - 2, 1), month_window(year, end_month).last)


def year_window(year: int) -> Window:
    return Window(datetime.date(year, 1, 1), datetime.date(year, 12, 31))


Period = tuple[datetime.date, datetime.date | None]


def days_active(window: Window, periods: Iterable[Period]) -> int:
    """Calendar days of ``window`` covered by any of the (start, end-or-None) periods."""
    covered: set[int] = set()
    for start, end in periods:
        first = max(start, window.first)
        last = min(end or window.last, window.last)
        if first <= last:
            covered.update(range(first.toordinal(), last.toordinal() + 1))
    return len(covered)


def prorate(amount, days: int, total_days: int) -> Decimal:
    if days <= 0:
        return Decimal(0)
    if days >= total_days:
        return round_rupiah(amount)
    return round_rupiah(to_decimal(amount) * days / total_days)


def yearly_part(yearly_amount, schedule: str, month: int, schedule_month: int | None
                ) -> Decimal | None:
    """The part of a yearly amount due in ``month``; None when nothing is due that month."""
    if schedule == "bulanan":
        return split_rupiah(yearly_amount, 12)[month - 1]
    if schedule == "triwulanan":
        if month not in QUARTER_END_MONTHS:
            return None
        return split_rupiah(yearly_amount, 4)[QUARTER_END_MONTHS.index(month)]
    if schedule == "sekali":
        return round_rupiah(yearly_amount) if month == schedule_month else None
    raise ValueError(f"unknown schedule {schedule!r}")


def schedule_window(schedule: str, year: int, month: int) -> Window:
    return {"bulanan": month_window, "triwulanan": quarter_window}.get(
        schedule, lambda y, m: year_window(y))(year, month)


def pph21(gross, *, has_npwp: bool, rule: TaxRule = PPH21_NON_EMPLOYEE) -> Decimal:
    tax = to_decimal(gross) * rule.base_share * rule.rate
    if not has_npwp:
        tax *= rule.without_npwp_factor
    return round_rupiah(tax)


@dataclass(frozen=True)
class RateTerms:
    amount: Decimal
    unit: str  # per_bulan | per_tahun
    schedule: str = "bulanan"
    schedule_month: int | None = None
    withhold_tax: bool = False


@dataclass(frozen=True)
class LineCalc:
    gross: Decimal
    tax: Decimal
    net: Decimal
    days_active: int
    days_in_window: int
    base_amount: Decimal  # the amount before proration
    schedule_rule: str
    explanation: dict = field(default_factory=dict)

    @property
    def factor(self) -> Decimal:
        return (Decimal(self.days_active) / Decimal(self.days_in_window)).quantize(
            Decimal("0.0001"))


def compute_line(terms: RateTerms, *, year: int, month: int,
                 periods: Iterable[Period],
                 has_npwp: bool) -> LineCalc | None:
    """What one worker earns for one rate in one month; None when nothing is due."""
    periods = list(periods)
    if terms.unit == "per_bulan":
        window = month_window(year, month)
        base = round_rupiah(terms.amount)
        rule = "bulanan: tarif × hari aktif / hari dalam bulan"
    else:
        part = yearly_part(terms.amount, terms.schedule, month, terms.schedule_month)
        if part is None:
            return None
        window = schedule_window(terms.schedule, year, month)
        base = part
        rule = {
            "bulanan": "tahunan dibagi 12 (sisa di Desember) × hari aktif / hari dalam bulan",
            "triwulanan": "tahunan dibagi 4 (sisa di Desember) × hari aktif / hari triwulan",
            "sekali": "tahunan sekali bayar × hari aktif / hari dalam tahun",
        }[terms.schedule]
    days = days_active(window, periods)
    if days == 0:
        return None
    gross = prorate(base, days, window.days)
    tax = pph21(gross, has_npwp=has_npwp) if terms.withhold_tax else Decimal(0)
    return LineCalc(
        gross=gross, tax=tax, net=gross - tax, days_active=days, days_in_window=window.days,
        base_amount=base, schedule_rule=rule,
        explanation={
            "window": [window.first.isoformat(), window.last.isoformat()],
            "periods": [[s.isoformat(), e.isoformat() if e else None] for s, e in periods],
            "tax_rule": (f"PPh 21 bukan pegawai: {PPH21_NON_EMPLOYEE.rate:%} × "
                         f"{PPH21_NON_EMPLOYEE.base_share:%} bruto"
                         + ("" if has_npwp else " × 120% (tanpa NPWP)"))
            if terms.withhold_tax else "tidak dipotong",
        },
    )
