"""The pure money rules of incentives/calculations.py (no database). Every expected value is
computed by hand in the comment next to it; the policy is the module docstring: monthly amounts
prorated by calendar days and rounded once half-up, yearly amounts split into whole-rupiah parts
with the remainder in the last part, PPh 21 for non-employees = 5 % × 50 % of gross (2.5 %),
× 120 % without NPWP (3 %)."""

import datetime
from decimal import Decimal

import pytest

from incentives import calculations as calc
from incentives.calculations import RateTerms, Window

D = datetime.date
RP = Decimal


def monthly(amount="1000000", tax=False) -> RateTerms:
    return RateTerms(RP(amount), "per_bulan", withhold_tax=tax)


def yearly(amount="1000000", schedule="bulanan", month=None, tax=False) -> RateTerms:
    return RateTerms(RP(amount), "per_tahun", schedule, month, tax)


def line(terms, year, month, periods, npwp=True):
    return calc.compute_line(terms, year=year, month=month, periods=periods, has_npwp=npwp)


# --- monthly amounts: full and partial months of 28, 29, 30 and 31 days -------------------------

@pytest.mark.parametrize(("year", "month", "start", "end", "days", "in_month", "gross"), [
    # full month: 1.000.000 × 31/31 = 1.000.000
    (2026, 10, D(2025, 1, 2), D(2029, 12, 31), 31, 31, "1000000"),
    # full February 2026: 28/28 = 1.000.000
    (2026, 2, D(2025, 1, 2), None, 28, 28, "1000000"),
    # Feb 2026 (28 days) from the 16th: 16..28 = 13 days; 13.000.000/28 = 464.285,71 → 464.286
    (2026, 2, D(2026, 2, 16), None, 13, 28, "464286"),
    # Feb 2024 (29 days, leap) from the 16th: 16..29 = 14 days; 14.000.000/29 = 482.758,62
    # → 482.759
    (2024, 2, D(2024, 2, 16), None, 14, 29, "482759"),
    # April 2026 (30 days) from the 16th: 16..30 = 15 days; 15.000.000/30 = 500.000
    (2026, 4, D(2026, 4, 16), None, 15, 30, "500000"),
    # October 2026 (31 days) from the 16th: 16..31 = 16 days; 16.000.000/31 = 516.129,03
    # → 516.129
    (2026, 10, D(2026, 10, 16), None, 16, 31, "516129"),
    # October 2026 until the 10th: 10 days; 10.000.000/31 = 322.580,65 → 322.581
    (2026, 10, D(2025, 1, 2), D(2026, 10, 10), 10, 31, "322581"),
    # November 2026 (30) until the 20th: 20.000.000/30 = 666.666,67 → 666.667
    (2026, 11, D(2025, 1, 2), D(2026, 11, 20), 20, 30, "666667"),
    # one day of February 2026: 1.000.000/28 = 35.714,29 → 35.714
    (2026, 2, D(2026, 2, 28), D(2026, 2, 28), 1, 28, "35714"),
])
def test_monthly_incentive_is_prorated_by_calendar_days(year, month, start, end, days, in_month,
                                                        gross):
    result = line(monthly(), year, month, [(start, end)])
    assert (result.gross, result.tax, result.net) == (RP(gross), 0, RP(gross))
    assert (result.days_active, result.days_in_window) == (days, in_month)
    assert result.base_amount == RP("1000000")
    assert result.schedule_rule == "bulanan: tarif × hari aktif / hari dalam bulan"


@pytest.mark.parametrize(("amount", "start", "gross"), [
    # Pendamping Jamsosratu from 16 Oct 2026: 1.500.000 × 16/31 = 24.000.000/31 = 774.193,55
    # → 774.194
    ("1500000", D(2026, 10, 16), "774194"),
    # exactly half a rupiah goes up: 1.000.001 × 15/30 (April from the 16th) = 500.000,5
    # → 500.001
    ("1000001", D(2026, 4, 16), "500001"),
    # 999.999 × 15/30 = 499.999,5 → 500.000
    ("999999", D(2026, 4, 16), "500000"),
])
def test_monthly_rounding_is_half_up_once(amount, start, gross):
    year, month = start.year, start.month
    assert line(monthly(amount), year, month, [(start, None)]).gross == RP(gross)


@pytest.mark.parametrize(("days", "in_window", "factor"), [
    (31, 31, "1.0000"),
    (13, 28, "0.4643"),  # 0,464285… → 0,4643
    (16, 31, "0.5161"),  # 0,516129… → 0,5161
    (15, 30, "0.5000"),
])
def test_factor_is_days_over_window_to_four_places(days, in_window, factor):
    result = calc.LineCalc(gross=RP(0), tax=RP(0), net=RP(0), days_active=days,
                           days_in_window=in_window, base_amount=RP(0), schedule_rule="")
    assert result.factor == RP(factor)


# --- yearly amounts: parts summing exactly to the year -----------------------------------------

@pytest.mark.parametrize(("amount", "schedule", "month_of_once", "parts"), [
    # 1.000.000 / 12 = 83.333,33: eleven × 83.333 = 916.663, December 1.000.000 − 916.663 =
    # 83.337
    ("1000000", "bulanan", None, ["83333"] * 11 + ["83337"]),
    # 2.000.000 / 12 = 166.666,67: eleven × 166.666 = 1.833.326, December 166.674
    ("2000000", "bulanan", None, ["166666"] * 11 + ["166674"]),
    # 1.000.001 / 12 = 83.333,42: eleven × 83.333 = 916.663, December 83.338
    ("1000001", "bulanan", None, ["83333"] * 11 + ["83338"]),
    # 2.000.000 / 4 = 500.000 in March, June, September and December; nothing otherwise
    ("2000000", "triwulanan", None,
     [None, None, "500000", None, None, "500000", None, None, "500000", None, None, "500000"]),
    # 1.000.001 / 4 = 250.000,25: 3 × 250.000, December 250.001
    ("1000001", "triwulanan", None,
     [None, None, "250000", None, None, "250000", None, None, "250000", None, None, "250001"]),
    # 1.500.000 / 4 = 375.000
    ("1500000", "triwulanan", None,
     [None, None, "375000", None, None, "375000", None, None, "375000", None, None, "375000"]),
    # once, in June: the whole amount
    ("1000000", "sekali", 6, [None] * 5 + ["1000000"] + [None] * 6),
    ("1000001", "sekali", 12, [None] * 11 + ["1000001"]),
])
def test_yearly_parts_per_month_sum_exactly_to_the_year(amount, schedule, month_of_once, parts):
    got = [calc.yearly_part(RP(amount), schedule, month, month_of_once) for month in range(1, 13)]
    assert got == [None if p is None else RP(p) for p in parts]
    assert sum(p for p in got if p is not None) == RP(amount)


def test_unknown_schedule_is_an_error():
    with pytest.raises(ValueError, match="unknown schedule"):
        calc.yearly_part(RP("1000000"), "mingguan", 1, None)


@pytest.mark.parametrize("schedule", ["bulanan", "triwulanan"])
@pytest.mark.parametrize("amount", ["1000000", "2000000", "1000001", "1234567"])
def test_full_year_of_compute_line_sums_to_the_yearly_amount(schedule, amount):
    periods = [(D(2025, 1, 2), D(2029, 12, 31))]
    results = [line(yearly(amount, schedule), 2026, month, periods) for month in range(1, 13)]
    assert sum(r.gross for r in results if r is not None) == RP(amount)


def _changed(old, new, schedule, last_day_of_old):
    """Yearly ``old`` until ``last_day_of_old`` (2026), ``new`` from the next day."""
    return [RateTerms(RP(old), "per_tahun", schedule, valid_from=D(2015, 1, 1),
                      valid_to=last_day_of_old),
            RateTerms(RP(new), "per_tahun", schedule,
                      valid_from=last_day_of_old + datetime.timedelta(days=1))]


@pytest.mark.parametrize(("rates", "parts", "year_total"), [
    # 1.000.000/yr to 30 June, 2.000.000/yr from 1 July: 1.000.000 × 6/12 + 2.000.000 × 6/12 =
    # 1.500.000 = six × 83.333 (499.998) + five × 166.666 (833.330) + December 166.672
    (_changed("1000000", "2000000", "bulanan", D(2026, 6, 30)),
     ["83333"] * 6 + ["166666"] * 5 + ["166672"], "1500000"),
    # quarterly: 1.000.000 × 2/4 + 2.000.001 × 2/4 = 1.500.000,5 → 1.500.001 =
    # 250.000 × 2 + 500.000 + fourth quarter 500.001
    (_changed("1000000", "2000001", "triwulanan", D(2026, 6, 30)),
     ["250000", "250000", "500000", "500001"], "1500001"),
    # changed on 16 June: 1.000.000 × (5 + 15/30)/12 + 2.000.000 × (15/30 + 6)/12 =
    # 458.333,33 + 1.083.333,33 = 1.541.666,67 → 1.541.667; June (83.333 × 15 + 166.666 × 15)
    # / 30 = 124.999,5 → 125.000; December 1.541.667 − 1.375.000 + 5 = 166.672
    (_changed("1000000", "2000000", "bulanan", D(2026, 6, 15)),
     ["83333"] * 5 + ["125000"] + ["166666"] * 5 + ["166672"], "1541667"),
    # lowered from 1 April: 2.000.000 × 3/12 + 1.200.000 × 9/12 = 500.000 + 900.000 = 1.400.000
    # = three × 166.666 (499.998) + eight × 100.000 + December 100.002
    (_changed("2000000", "1200000", "bulanan", D(2026, 3, 31)),
     ["166666"] * 3 + ["100000"] * 8 + ["100002"], "1400000"),
])
def test_a_yearly_rate_changed_during_the_year_pays_each_rate_its_share_of_the_year(
        rates, parts, year_total):
    got = [result.gross for month in range(1, 13)
           if (result := line(rates, 2026, month, [(D(2020, 1, 1), None)])) is not None]
    assert got == [RP(p) for p in parts]
    assert sum(got) == RP(year_total)


def _ends(amount, schedule, last_day, then=None, *, continued=False):
    """Yearly ``amount`` (2015 –) until ``last_day`` (2026), then ``then`` (a rate from the next
    day) or nothing."""
    rates = [RateTerms(RP(amount), "per_tahun", schedule, valid_from=D(2015, 1, 1),
                       valid_to=last_day, continued=continued)]
    if then is not None:
        rates.append(RateTerms(RP(then), "per_bulan",
                               valid_from=last_day + datetime.timedelta(days=1)))
    return rates


@pytest.mark.parametrize(("rates", "parts", "own_total"), [
    # 1.000.007/yr paid monthly to 30 November, then 100.000 a month: the plain part is
    # 1.000.007/12 = 83.333,92 → 83.333; its share of the year is 1.000.007 × 11/12 =
    # 916.673,08 → 916.673; January–October paid 10 × 83.333 = 833.330, so November pays
    # 916.673 − 833.330 = 83.343 (it paid 83.333: the year Rp10 short)
    (("1000007", "bulanan", D(2026, 11, 30), "100000"),
     ["83333"] * 10 + ["83343", "100000"], "916673"),
    # 1.000.000/yr to 30 June, then 100.000 a month: 1.000.000 × 6/12 = 500.000; January–May
    # 5 × 83.333 = 416.665; June 500.000 − 416.665 = 83.335 (it paid 83.333: 499.998)
    (("1000000", "bulanan", D(2026, 6, 30), "100000"),
     ["83333"] * 5 + ["83335"] + ["100000"] * 6, "500000"),
    # 1.000.003/yr paid quarterly to 30 June, nothing after (the component ends): the plain
    # quarter 1.000.003/4 = 250.000,75 → 250.000; the share 1.000.003 × 2/4 = 500.001,5 →
    # 500.002; the second quarter 500.002 − 250.000 = 250.002 (it paid 250.000: 500.000)
    (("1000003", "triwulanan", D(2026, 6, 30)), ["250000", "250002"], "500002"),
    # 1.000.000/yr to 15 July, nothing after: the share 1.000.000 × (6/12 + 15/(12 × 31)) =
    # 500.000 + 40.322,58 = 540.322,58 → 540.323; January–June 6 × 83.333 = 499.998, rest
    # 40.325; July's base for its 15 of 31 days 40.325 × 31/15 = 83.338,33 → 83.338, July
    # 83.338 × 15/31 = 40.324,84 → 40.325 (it paid 83.333 × 15/31 = 40.322: 540.320)
    (("1000000", "bulanan", D(2026, 7, 15)), ["83333"] * 6 + ["40325"], "540323"),
])
def test_a_yearly_rate_ending_inside_the_year_alone_pays_its_rest_in_its_last_window(
        rates, parts, own_total):
    rates = _ends(*rates)
    got = [result.gross for month in range(1, 13)
           if (result := line(rates, 2026, month, [(D(2020, 1, 1), None)])) is not None]
    assert got == [RP(p) for p in parts]
    # the windows up to the rate's end are its own (the monthly rate starts the next month)
    own = len(parts) - (12 - rates[0].valid_to.month if len(rates) > 1 else 0)
    assert sum(got[:own]) == RP(own_total)


def test_a_yearly_rate_continued_the_next_day_at_its_pace_is_settled_in_december():
    """The same rate to 30 June, continued from 1 July by a yearly rate paid monthly that the
    caller knows of (it starts after the month computed): June pays the plain part 83.333, as
    December settles the year with the successor (:func:`last_part_base`)."""
    rates = _ends("1000000", "bulanan", D(2026, 6, 30), continued=True)
    got = [line(rates, 2026, month, [(D(2020, 1, 1), None)]).gross for month in range(1, 7)]
    assert got == [RP("83333")] * 6


@pytest.mark.parametrize(("terms", "year", "month", "periods", "gross", "days", "window"), [
    # TKSK operational from 16 Oct 2026: 83.333 × 16/31 = 1.333.328/31 = 43.010,58 → 43.011
    (yearly(), 2026, 10, [(D(2026, 10, 16), None)], "43011", 16, 31),
    # …and in December: 83.337 × 16/31 = 1.333.392/31 = 43.012,65 → 43.013
    (yearly(), 2026, 12, [(D(2026, 12, 16), None)], "43013", 16, 31),
    # PKH quarterly, Q4 2026 = 1 Oct..31 Dec = 92 days, active from 1 Nov = 61 days:
    # 500.000 × 61/92 = 30.500.000/92 = 331.521,74 → 331.522
    (yearly("2000000", "triwulanan"), 2026, 12, [(D(2026, 11, 1), None)], "331522", 61, 92),
    # Q1 2024 (leap) = 31 + 29 + 31 = 91 days, fully active: 500.000
    (yearly("2000000", "triwulanan"), 2024, 3, [(D(2020, 1, 1), None)], "500000", 91, 91),
    # Q1 2026 = 90 days, active from 15 Feb = 14 + 31 = 45 days: 500.000 × 45/90 = 250.000
    (yearly("2000000", "triwulanan"), 2026, 3, [(D(2026, 2, 15), None)], "250000", 45, 90),
    # once in June 2026, prorated over the year (365), active from 1 April = 275 days:
    # 1.000.000 × 275/365 = 753.424,66 → 753.425
    (yearly("1000000", "sekali", 6), 2026, 6, [(D(2026, 4, 1), None)], "753425", 275, 365),
    # once in 2024 (366 days), active from 1 July = 184 days: 1.000.000 × 184/366 = 502.732,24
    # → 502.732
    (yearly("1000000", "sekali", 6), 2024, 6, [(D(2024, 7, 1), None)], "502732", 184, 366),
])
def test_yearly_part_is_prorated_over_its_window(terms, year, month, periods, gross, days,
                                                 window):
    result = line(terms, year, month, periods)
    assert (result.gross, result.days_active, result.days_in_window) == (RP(gross), days, window)


def test_schedule_rules_are_explained():
    periods = [(D(2025, 1, 2), None)]
    assert line(yearly(), 2026, 10, periods).schedule_rule == (
        "tahunan dibagi 12 (sisa di Desember) × hari aktif / hari dalam bulan")
    assert line(yearly(schedule="triwulanan"), 2026, 12, periods).schedule_rule == (
        "tahunan dibagi 4 (sisa di Desember) × hari aktif / hari triwulan")
    assert line(yearly(schedule="sekali", month=6), 2026, 6, periods).schedule_rule == (
        "tahunan sekali bayar × hari aktif / hari dalam tahun")


# --- days active ---------------------------------------------------------------------------

OCTOBER = Window(D(2026, 10, 1), D(2026, 10, 31))


@pytest.mark.parametrize(("periods", "days"), [
    ([(D(2020, 1, 1), None)], 31),
    # two assignments in one month with a gap: 1..10 (10 days) + 21..31 (11 days) = 21
    ([(D(2026, 10, 1), D(2026, 10, 10)), (D(2026, 10, 21), D(2026, 10, 31))], 21),
    # overlapping assignments count each day once: 1..20 = 20
    ([(D(2026, 10, 1), D(2026, 10, 15)), (D(2026, 10, 10), D(2026, 10, 20))], 20),
    # an old SK ending on the 5th (5 days) and a new one from the 20th, open-ended (12 days)
    ([(D(2025, 1, 2), D(2026, 10, 5)), (D(2026, 10, 20), None)], 17),
    ([(D(2026, 10, 31), D(2026, 10, 31))], 1),
    ([(D(2026, 11, 1), None)], 0),  # starts after the month
    ([(D(2025, 1, 1), D(2026, 9, 30))], 0),  # ended before the month
    ([], 0),
])
def test_days_active(periods, days):
    assert calc.days_active(OCTOBER, periods) == days


def test_two_assignments_with_a_gap_are_paid_for_the_days_covered():
    periods = [(D(2026, 10, 1), D(2026, 10, 10)), (D(2026, 10, 21), D(2029, 12, 31))]
    result = line(monthly(), 2026, 10, periods)
    # 1.000.000 × 21/31 = 677.419,35 → 677.419
    assert (result.gross, result.days_active, result.factor) == (RP("677419"), 21, RP("0.6774"))
    assert result.explanation["periods"] == [["2026-10-01", "2026-10-10"],
                                             ["2026-10-21", "2029-12-31"]]
    assert result.explanation["window"] == ["2026-10-01", "2026-10-31"]


def test_windows():
    assert calc.month_window(2024, 2) == Window(D(2024, 2, 1), D(2024, 2, 29))
    assert calc.quarter_window(2026, 11) == Window(D(2026, 10, 1), D(2026, 12, 31))
    assert calc.quarter_window(2026, 1).days == 90
    assert calc.year_window(2024).days == 366
    assert calc.schedule_window("sekali", 2026, 6) == calc.year_window(2026)


# --- PPh 21 --------------------------------------------------------------------------------

@pytest.mark.parametrize(("gross", "with_npwp", "without_npwp"), [
    # 1.000.000 × 2,5 % = 25.000; × 3 % = 30.000
    ("1000000", "25000", "30000"),
    # 1.500.000 × 2,5 % = 37.500; × 3 % = 45.000
    ("1500000", "37500", "45000"),
    # 464.286 × 2,5 % = 11.607,15 → 11.607; × 3 % = 13.928,58 → 13.929
    ("464286", "11607", "13929"),
    # 83.333 × 2,5 % = 2.083,325 → 2.083; × 3 % = 2.499,99 → 2.500
    ("83333", "2083", "2500"),
    # 100.020 × 2,5 % = 2.500,5 → 2.501 (half up); × 3 % = 3.000,6 → 3.001
    ("100020", "2501", "3001"),
    ("0", "0", "0"),
])
def test_pph21_non_employee(gross, with_npwp, without_npwp):
    assert calc.pph21(RP(gross), has_npwp=True) == RP(with_npwp)
    assert calc.pph21(RP(gross), has_npwp=False) == RP(without_npwp)


@pytest.mark.parametrize(("npwp", "tax", "net", "rule"), [
    (True, "25000", "975000", "PPh 21 bukan pegawai: 5% × 50% bruto"),
    (False, "30000", "970000", "PPh 21 bukan pegawai: 5% × 50% bruto × 120% (tanpa NPWP)"),
])
def test_compute_line_withholds_tax_when_the_rate_says_so(npwp, tax, net, rule):
    result = line(monthly(tax=True), 2026, 10, [(D(2025, 1, 2), None)], npwp=npwp)
    assert (result.gross, result.tax, result.net) == (RP("1000000"), RP(tax), RP(net))
    assert result.explanation["tax_rule"] == rule


def test_no_tax_withheld_by_default():
    result = line(monthly(), 2026, 10, [(D(2025, 1, 2), None)], npwp=False)
    assert (result.tax, result.net) == (0, RP("1000000"))
    assert result.explanation["tax_rule"] == "tidak dipotong"


# --- nothing due ---------------------------------------------------------------------------

@pytest.mark.parametrize(("terms", "month", "periods"), [
    (monthly(), 10, [(D(2026, 11, 1), None)]),  # not yet active
    (monthly(), 10, [(D(2025, 1, 2), D(2026, 9, 30))]),  # already ended
    (monthly(), 10, []),
    (yearly(), 10, [(D(2026, 11, 1), None)]),
    (yearly(schedule="triwulanan"), 10, [(D(2020, 1, 1), None)]),  # not a quarter end
    (yearly(schedule="triwulanan"), 12, [(D(2025, 1, 1), D(2026, 9, 30))]),  # not in Q4
    (yearly(schedule="sekali", month=6), 10, [(D(2020, 1, 1), None)]),  # not the month
    (yearly(schedule="sekali", month=6), 6, [(D(2027, 1, 1), None)]),  # not in the year
])
def test_compute_line_returns_none_when_nothing_is_due(terms, month, periods):
    assert line(terms, 2026, month, periods) is None


@pytest.mark.parametrize(("gross", "tax", "correction", "npwp", "expected"), [
    # 1.000.000 taxed 25.000, reversed in three pieces: 666.667 → 16.667 (−8.333),
    # 333.334 → 8.333 (−8.334), 0 → 0 (−8.333): −25.000 in all
    ("1000000", "25000", "-333333", True, "-8333"),
    ("666667", "16667", "-333333", True, "-8334"),
    ("333334", "8333", "-333334", True, "-8333"),
    # without NPWP (3 %): 1.000.000 taxed 30.000, −1 → 999.999 × 3 % = 29.999,97 → 30.000: 0
    ("1000000", "30000", "-1", False, "0"),
    # a positive correction: 1.000.000 + 100.001 = 1.100.001 → 27.500,03 → 27.500: +2.500
    ("1000000", "25000", "100001", True, "2500"),
])
def test_a_corrections_tax_is_the_new_total_tax_minus_what_was_withheld(gross, tax, correction,
                                                                       npwp, expected):
    assert calc.correction_tax(RP(gross), RP(tax), RP(correction), has_npwp=npwp) == RP(expected)
