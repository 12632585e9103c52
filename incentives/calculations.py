"""Pure money rules of the payouts: Decimal in, Decimal out; no ORM, no clock.

Policy (documented once, here):
- Monthly amounts are prorated by calendar days: ``amount × days_active / days_in_month``,
  rounded once with ``dinsos.money.round_rupiah`` (half-up to whole rupiah).
- A yearly amount is split into whole-rupiah parts with ``split_rupiah`` (each part rounded
  down, the remainder in the last part), so a full year sums exactly to the yearly amount:
  monthly = 12 parts paid in every month, quarterly = 4 parts paid in March, June, September and
  December, once = the whole amount in the scheduled month. A part is prorated by the calendar
  days the worker was active in the window it pays for (the month, the quarter or the year).
- A rate that changes inside a window applies to its own days: every rate in force during the
  window contributes ``its part × its active days / days in window``, each at its own unit (a
  monthly rate its amount, a yearly one paid monthly its twelfth: rates of different units meet
  only in a month — ``services.rate_create`` starts any other change of unit or schedule at the
  start of both windows, a quarter or a year); the parts are summed
  exactly (``Σ part × days``, an integer, divided once by the days of the window) and rounded
  once, and the line's explanation lists each part (rate, dates, days, amount; the part
  amounts are split in proportion to ``part × days`` so that they add up to the line).
  A yearly rate that changes during the year is owed for its share of the year: December's
  (the fourth quarter's) part is what the year's rates, each for its own days, still leave
  after the months before (:func:`last_part_base`), so the year sums exactly. A yearly rate
  paid monthly or quarterly that ends inside the year and is not continued the next day by a
  rate of the same unit and schedule (followed by a monthly rate, by a gap, or by nothing)
  pays in its own last window of the year what its share of the year still owes
  (:func:`rest_part_base`): its months sum to its rounded share, not to the parts rounded
  down (up to Rp11 short).
- The same rules run set-based on PostgreSQL (``incentives.payout_sql``): the plan of each
  component (window, rate parts, bases) comes from :func:`plan_component`, and the SQL only
  counts days, multiplies, divides once and rounds half-up in integers; a test compares the
  two line by line.
- Whoever was active for part of a paying window (a leaver in January, a quarter paid in
  March) is paid for those days in the run of the paying month, for every schedule.
- A period is a calendar month (written ``YYYY-MM``, read by ``dinsos.periods.parse_month``);
  months after the current one are never computed.
- A correction never takes a payment below zero: a negative adjustment is at most what the
  payment paid — its first line (a held line and the arrears line that paid it are one payment;
  nothing while it is held) and every correction below it, corrections of corrections
  included — minus what earlier corrections took back. Balancing lines (saldo negatif,
  potongan) are no payment and are not corrected.
- PPh 21 for non-employees (PMK 168/2023), only where a rate says so: the Pasal 17 first-band
  rate (5 %) on 50 % of gross, 20 % higher without NPWP. Incentives here stay far inside the
  first band (Rp60 juta a year), so the band is not accumulated across the year. A correction's
  tax is the tax of the corrected line's new gross minus what was withheld on it already, so
  corrections in pieces sum to the tax of the total (:func:`correction_tax`).
"""

import calendar
import datetime
import math
from collections.abc import Iterable, Sequence
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


def _overlap_days(rate, window: Window) -> int:
    first = max(window.first, rate.valid_from or window.first)
    last = min(window.last, rate.valid_to or window.last)
    return max((last - first).days + 1, 0)


def last_part_base(rates: Sequence, year: int) -> Decimal:
    """The base of the last (governing) rate in the year's last window (December, or the fourth
    quarter) of a monthly or quarterly yearly amount: what the year still owes a worker active
    all year. The year owes each rate its share of the year — ``amount / parts`` for every
    window, times the days of the window the rate was in force — summed exactly and rounded
    once; the windows before the last paid ``yearly_part`` (rounded down) of the rate(s) in
    force. So a rate changed at a month's (quarter's) start sums exactly: 1.000.000 a year to 30
    June and 2.000.000 from 1 July pay 1.500.000. The rates counted are the trailing ones
    (oldest first in ``rates``) of the governing rate's unit and schedule, each taking over
    the day after the one before; a change of unit or schedule, or a gap, starts the count
    again (the rate before it settled its own share in its last window,
    :func:`rest_part_base`). A rate that changes inside December itself is exact to a
    rupiah or so (the base is rounded)."""
    governing = rates[-1]
    counted = [governing]
    for rate in reversed(rates[:-1]):
        if not continues(rate, counted[0]):
            break
        counted.insert(0, rate)
    windows = _part_windows(governing.schedule, year)
    parts = len(windows)
    # Σ amount × days / (parts × window days), exact: over the windows' common denominator
    common = parts * math.lcm(*(w.days for w in windows))
    owed = sum((to_decimal(rate.amount) * _overlap_days(rate, w) * (common // (parts * w.days))
                for w in windows for rate in counted), Decimal(0))
    plain = {id(rate): split_rupiah(rate.amount, parts)[0] for rate in counted}
    paid = sum((round_rupiah(sum((plain[id(rate)] * _overlap_days(rate, w) for rate in counted),
                                 Decimal(0)) / w.days) for w in windows[:-1]), Decimal(0))
    last = windows[-1]
    days = _overlap_days(governing, last)
    if days == 0:
        return plain[id(governing)]
    others = sum((plain[id(rate)] * _overlap_days(rate, last) for rate in counted[:-1]),
                 Decimal(0))
    rest = round_rupiah(owed / common) - paid
    return rest if days == last.days else round_rupiah((rest * last.days - others) / days)


def continues(rate, after) -> bool:
    """``after`` takes over from ``rate`` the next day at the same unit and schedule."""
    return (after is not None and rate.valid_to is not None and after.valid_from is not None
            and after.valid_from == rate.valid_to + datetime.timedelta(days=1)
            and (after.unit, after.schedule) == (rate.unit, rate.schedule))


def _ends_alone(rate, after, window: Window, year: int) -> bool:
    """Does this yearly rate paid in parts (monthly or quarterly) end inside ``window``, before
    the year's end, with no rate of its unit and schedule taking over the next day (``after``,
    the next rate among those given, or ``rate.continued`` when the next starts later)?"""
    return (rate.unit == "per_tahun" and rate.schedule in ("bulanan", "triwulanan")
            and rate.valid_to is not None and window.first <= rate.valid_to <= window.last
            and rate.valid_to < year_window(year).last
            and not (continues(rate, after) if after is not None else rate.continued))


def _part_windows(schedule: str, year: int) -> list[Window]:
    return ([month_window(year, m) for m in range(1, 13)] if schedule == "bulanan"
            else [quarter_window(year, m) for m in QUARTER_END_MONTHS])


def rest_part_base(rate, year: int) -> Decimal:
    """The base of a yearly rate paid monthly or quarterly in its last window of ``year`` when
    it ends inside the year alone (:func:`_ends_alone`): what its share of the year still owes
    a worker active all its days. The share is ``amount / parts`` for every window times the
    days of the window the rate was in force, summed exactly and rounded once; the windows
    before paid the part rounded down (``split_rupiah``), each for its days. So the months of
    Rp1.000.000 a year to 30 June pay 5 × 83.333 + 83.335 = 500.000, its half of the year,
    where six plain parts paid 499.998. A last window the rate holds only in part takes the
    rest per day of its days (exact to a rupiah or so, as in :func:`last_part_base`)."""
    windows = _part_windows(rate.schedule, year)
    parts = len(windows)
    common = parts * math.lcm(*(w.days for w in windows))
    owed = round_rupiah(sum((to_decimal(rate.amount) * _overlap_days(rate, w)
                             * (common // (parts * w.days)) for w in windows),
                            Decimal(0)) / common)
    plain = split_rupiah(rate.amount, parts)[0]
    last = next(i for i, w in enumerate(windows) if w.first <= rate.valid_to <= w.last)
    paid = sum((round_rupiah(plain * _overlap_days(rate, w) / w.days) for w in windows[:last]),
               Decimal(0))
    rest = owed - paid
    days = _overlap_days(rate, windows[last])
    return rest if days == windows[last].days else round_rupiah(rest * windows[last].days / days)


def schedule_window(schedule: str, year: int, month: int) -> Window:
    return {"bulanan": month_window, "triwulanan": quarter_window}.get(
        schedule, lambda y, m: year_window(y))(year, month)


def window_start(unit: str, schedule: str, day: datetime.date) -> datetime.date:
    """The first day of the paying window of a rate of ``unit`` and ``schedule`` that holds
    ``day``: the month for a monthly amount and a yearly one paid monthly, the quarter for a
    quarterly one, 1 January for a once-a-year one."""
    if unit == "per_bulan":
        return day.replace(day=1)
    return schedule_window(schedule, day.year, day.month).first


def pace(unit: str, schedule: str, schedule_month: int | None) -> tuple:
    """How a rate is paid, as far as its windows go: monthly (a monthly amount, or a yearly one
    paid in twelve parts — they meet in a month, each for its days), quarterly, or once a year
    in a given month."""
    if unit == "per_bulan" or schedule == "bulanan":
        return ("bulanan",)
    return (schedule, schedule_month) if schedule == "sekali" else (schedule,)


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
    valid_from: datetime.date | None = None  # None: in force since ever
    valid_to: datetime.date | None = None  # None: open-ended
    label: str = ""
    #: a rate of the same unit and schedule starts the day after this one ends (it may start
    #: after the month computed, so the caller says so): December settles this rate's share
    #: with it (:func:`last_part_base`); otherwise this rate's own last window does
    continued: bool = False

    @classmethod
    def of(cls, rate, *, continued: bool = False) -> "RateTerms":
        """The terms of a stored rate (anything with the rate's attributes)."""
        return cls(rate.amount, rate.unit, rate.schedule, rate.schedule_month,
                   rate.withhold_tax, rate.valid_from, rate.valid_to, str(rate), continued)


@dataclass(frozen=True)
class LineCalc:
    gross: Decimal
    tax: Decimal
    net: Decimal
    days_active: int
    days_in_window: int
    base_amount: Decimal  # the amount before proration (of the rate in force at the end)
    schedule_rule: str
    explanation: dict = field(default_factory=dict)

    @property
    def factor(self) -> Decimal:
        return (Decimal(self.days_active) / Decimal(self.days_in_window)).quantize(
            Decimal("0.0001"))


SCHEDULE_RULES = {
    "bulanan": "tahunan dibagi 12 (sisa di Desember) × hari aktif / hari dalam bulan",
    "triwulanan": "tahunan dibagi 4 (sisa di Desember) × hari aktif / hari triwulan",
    "sekali": "tahunan sekali bayar × hari aktif / hari dalam tahun",
}
MONTHLY_RULE = "bulanan: tarif × hari aktif / hari dalam bulan"


def tax_rule_text(withhold_tax: bool, has_npwp: bool) -> str:
    """How a line's PPh 21 was found, as its explanation says it."""
    if not withhold_tax:
        return "tidak dipotong"
    return (f"PPh 21 bukan pegawai: {PPH21_NON_EMPLOYEE.rate:%} × "
            f"{PPH21_NON_EMPLOYEE.base_share:%} bruto"
            + ("" if has_npwp else " × 120% (tanpa NPWP)"))


@dataclass(frozen=True)
class PlanPart:
    """One rate's share of a paying window: the days from ``first`` to ``last`` (inclusive) are
    paid at ``base`` (whole rupiah for the whole window) — for the days the worker was active."""

    rate: RateTerms
    first: datetime.date
    last: datetime.date
    base: Decimal


@dataclass(frozen=True)
class ComponentPlan:
    """What a component pays in a month before anybody's days are known: the window, the rule,
    the governing rate and every rate's part of the window (oldest first)."""

    governing: RateTerms
    window: Window
    rule: str
    base_amount: Decimal
    parts: tuple[PlanPart, ...]


def plan_component(terms: RateTerms | Sequence[RateTerms], *, year: int, month: int
                   ) -> ComponentPlan | None:
    """The window and the rate parts of one role × component in one month; None when nothing
    is due this month (a quarterly part outside the quarter's last month, a yearly part outside
    its month). ``terms`` as for :func:`compute_line`."""
    rates = [terms] if isinstance(terms, RateTerms) else sorted(
        terms, key=lambda r: r.valid_from or datetime.date.min)
    governing = rates[-1]
    if governing.unit == "per_bulan":
        window = month_window(year, month)
        rule = MONTHLY_RULE
        closing = False
    else:
        if yearly_part(governing.amount, governing.schedule, month,
                       governing.schedule_month) is None:
            return None
        window = schedule_window(governing.schedule, year, month)
        rule = SCHEDULE_RULES[governing.schedule]
        closing = governing.schedule != "sekali" and month == 12
    successor = {id(rate): after for rate, after in zip(rates, rates[1:], strict=False)}

    def base_of(rate):
        if rate.unit == "per_bulan":
            return round_rupiah(rate.amount)
        if closing and rate is governing:  # December: the year's rest of the governing chain
            return last_part_base(rates, year)
        if _ends_alone(rate, successor.get(id(rate)), window, year):
            return rest_part_base(rate, year)
        if governing.unit == "per_bulan":  # a yearly rate paid monthly before a monthly one
            return yearly_part(rate.amount, "bulanan", 1, None)
        if closing:  # December: a rate before the governing one, its plain part
            return yearly_part(rate.amount, governing.schedule, 1, None)
        return yearly_part(rate.amount, governing.schedule, month, governing.schedule_month)
    parts = []
    for rate in rates:
        first = max(window.first, rate.valid_from or window.first)
        last = min(window.last, rate.valid_to or window.last)
        if first <= last:
            parts.append(PlanPart(rate, first, last, base_of(rate)))
    return ComponentPlan(governing, window, rule, base_of(governing), tuple(parts))


def line_of_plan(plan: ComponentPlan, part_days: Sequence[int], *,
                 periods: Sequence[Period], has_npwp: bool) -> LineCalc | None:
    """The line of a plan given the worker's active days in each part (in the plan's order);
    None when no day of the window was active.

    The amount is exact: ``Σ base × days`` (whole rupiah × days, an integer) divided once by
    the days of the window and rounded once (half-up); the parts of the explanation split that
    amount in proportion to ``base × days`` (rounded down, the remainder to the last)."""
    paid = [(part, days) for part, days in zip(plan.parts, part_days, strict=True) if days]
    days = sum(d for _p, d in paid)
    if days == 0:
        return None
    weights = [part.base * part_days for part, part_days in paid]
    gross = round_rupiah(sum(weights, Decimal(0)) / plan.window.days)
    part_amounts = (split_rupiah(gross, weights) if any(weights)
                    else [Decimal(0)] * len(paid))
    governing = plan.governing
    tax = pph21(gross, has_npwp=has_npwp) if governing.withhold_tax else Decimal(0)
    window = plan.window
    return LineCalc(
        gross=gross, tax=tax, net=gross - tax, days_active=days, days_in_window=window.days,
        base_amount=plan.base_amount, schedule_rule=plan.rule,
        explanation={
            "window": [window.first.isoformat(), window.last.isoformat()],
            "periods": [[s.isoformat(), e.isoformat() if e else None] for s, e in periods],
            "parts": [{"rate": part.rate.label, "from": part.first.isoformat(),
                       "to": part.last.isoformat(), "days": part_days, "base": str(part.base),
                       "amount": str(amount)}
                      for (part, part_days), amount in zip(paid, part_amounts, strict=True)],
            "tax_rule": tax_rule_text(governing.withhold_tax, has_npwp),
        },
    )


def compute_line(terms: RateTerms | Sequence[RateTerms], *, year: int, month: int,
                 periods: Iterable[Period], has_npwp: bool) -> LineCalc | None:
    """What one worker earns for one role × component in one month; None when nothing is due.

    ``terms`` is the rate, or every rate of the component in force at some time of the window
    (in any order); the latest one decides the unit, the schedule and the tax. Each rate is paid
    for the active days of the window it was in force."""
    plan = plan_component(terms, year=year, month=month)
    if plan is None:
        return None
    periods = list(periods)
    part_days = [days_active(Window(part.first, part.last), periods) for part in plan.parts]
    return line_of_plan(plan, part_days, periods=periods, has_npwp=has_npwp)


# --- periods, corrections and balances ---------------------------------------------------------

def is_future_period(period: datetime.date, today: datetime.date) -> bool:
    """A month after the current one is not computed (nobody has worked it yet)."""
    return period.replace(day=1) > today.replace(day=1)


def adjustment_limit(line_gross, earlier_adjustments) -> Decimal:
    """How far (as a positive number) a payment may still be corrected downwards: what it paid
    and its earlier corrections leave. The services pass what the payment paid in all (the
    first line once — a held line and the arrears line that paid it are one payment — and every
    correction below it). A correction below ``-limit`` is refused."""
    return max(to_decimal(line_gross) + to_decimal(earlier_adjustments), Decimal(0))


def correction_tax(gross_before, tax_before, correction, *, has_npwp: bool) -> Decimal:
    """PPh 21 of a correction of a line that withheld it: the tax of the line's gross after
    the correction minus the tax already withheld on the line and its earlier corrections. The
    pieces of a correction thus sum exactly to the tax of the total (1.000.000 reversed in three
    pieces leaves no tax on a zero gross)."""
    after = to_decimal(gross_before) + to_decimal(correction)
    return pph21(after, has_npwp=has_npwp) - to_decimal(tax_before)


def taxed_with_npwp(gross, tax, *, default: bool) -> bool:
    """Was a line's PPh 21 withheld as for a worker with an NPWP? Read from the line's own
    amounts (the two rates give different taxes on any gross that is taxed at all), so a
    correction keeps the line's rate when the worker's NPWP changed since; ``default`` when the
    amounts cannot tell (no tax)."""
    if pph21(gross, has_npwp=True) == to_decimal(tax) != pph21(gross, has_npwp=False):
        return True
    if pph21(gross, has_npwp=False) == to_decimal(tax) != pph21(gross, has_npwp=True):
        return False
    return default


def carry_forward(balance) -> Decimal:
    """A worker's negative balance in a run is carried forward: the amount (positive) that a
    balancing line adds so that nothing negative is paid; 0 when the balance is not negative."""
    balance = to_decimal(balance)
    return -balance if balance < 0 else Decimal(0)
