"""The pure rules of Jamsosratu (no database): qualifying member conditions, the status
machine, tranche amounts that add up exactly to the yearly benefit, and the commitment rule."""

import datetime
from decimal import Decimal

import pytest

from jamsosratu import calculations, reference
from jamsosratu.choices import EnrolmentStatus

D = datetime.date
ON = D(2026, 1, 1)  # reference date of the 2026 cycle
ALL = ["hamil_nifas", "balita", "anak_sekolah", "lansia"]


def conditions(birth_date, schooling="", pregnant=False, qualifying=ALL, alive=True, sex="P",
               **ages):
    limits = {"child_max_age": 5, "school_max_age": 21, "elderly_min_age": 60, **ages}
    return calculations.member_conditions(birth_date=birth_date, sex=sex, schooling=schooling,
                                          pregnant=pregnant, on=ON, qualifying=qualifying,
                                          alive=alive, **limits)


@pytest.mark.parametrize(("birth_date", "schooling", "pregnant", "expected"), [
    # pregnant / post-natal mother
    (D(1995, 5, 5), "sma", True, ["hamil_nifas"]),
    (D(1995, 5, 5), "sma", False, []),
    # under five
    (D(2025, 12, 31), "", False, ["balita"]),  # 0 years
    (D(2021, 1, 2), "", False, ["balita"]),  # 4, turns 5 the next day
    (D(2021, 1, 1), "", False, []),  # 5 today: no longer balita, not yet school age
    (D(2021, 1, 1), "tidak_sekolah", False, []),
    # school child 6–20 in SD/SMP/SMA or with unknown schooling
    (D(2019, 12, 31), "", False, ["anak_sekolah"]),  # 6, schooling unknown
    (D(2019, 12, 31), "sd", False, ["anak_sekolah"]),
    (D(2020, 6, 1), "sd", False, ["anak_sekolah"]),  # 5 and already in SD (domain audit)
    (D(2020, 6, 1), "", False, []),  # 5, schooling unknown: not yet of school age
    (D(2020, 6, 1), "smp", False, []),  # 5 "in SMP", 3 "in SMA", 1 "in SD": typing errors,
    (D(2022, 6, 1), "sma", False, ["balita"]),  # not pupils (review of the change above)
    (D(2024, 6, 1), "sd", False, ["balita"]),
    (D(2013, 3, 3), "smp", False, ["anak_sekolah"]),  # 12
    (D(2009, 9, 9), "sma", False, ["anak_sekolah"]),  # 16
    (D(2005, 1, 2), "sma", False, ["anak_sekolah"]),  # 20
    (D(2014, 7, 9), "tidak_sekolah", False, []),  # 11, not in school
    (D(2006, 6, 6), "diploma", False, []),  # 19 in higher education
    (D(2008, 2, 2), "sma", True, ["hamil_nifas", "anak_sekolah"]),  # 17, pregnant pupil
    # 21 and over: not a school child, whatever the registry says
    (D(2005, 1, 1), "sma", False, []),  # 21 today
    (D(2005, 1, 1), "", False, []),
    (D(1996, 4, 4), "", False, []),  # 29
    # elderly from 60
    (D(1966, 1, 1), "", False, ["lansia"]),  # 60 today
    (D(1966, 1, 2), "", False, []),  # 59
    (D(1940, 8, 17), "tidak_sekolah", False, ["lansia"]),
])
def test_member_conditions(birth_date, schooling, pregnant, expected):
    assert conditions(birth_date, schooling, pregnant) == expected


def test_a_man_is_never_a_pregnant_or_post_natal_mother():
    assert conditions(D(1990, 5, 5), "", True, sex="L") == []


@pytest.mark.parametrize(("birth_date", "schooling", "pregnant", "qualifying", "expected"), [
    (D(1995, 5, 5), "", True, ["balita", "anak_sekolah", "lansia"], []),
    (D(2023, 6, 1), "", False, ["hamil_nifas", "anak_sekolah", "lansia"], []),
    (D(2014, 7, 9), "sd", False, ["lansia"], []),
    (D(1950, 1, 1), "", False, ["balita"], []),
    (D(2008, 2, 2), "sma", True, ["anak_sekolah"], ["anak_sekolah"]),
    (D(2008, 2, 2), "sma", True, ["hamil_nifas"], ["hamil_nifas"]),
    (D(2008, 2, 2), "sma", True, [], []),
])
def test_only_the_conditions_the_cycle_counts(birth_date, schooling, pregnant, qualifying,
                                              expected):
    assert conditions(birth_date, schooling, pregnant, qualifying=qualifying) == expected


@pytest.mark.parametrize(("birth_date", "pregnant"), [
    (D(2023, 6, 1), False), (D(2014, 7, 9), False), (D(1950, 1, 1), False),
    (D(1995, 5, 5), True),
])
def test_a_dead_member_has_no_condition(birth_date, pregnant):
    assert conditions(birth_date, "sd", pregnant, alive=False) == []


@pytest.mark.parametrize(("birth_date", "ages", "expected"), [
    (D(2020, 6, 1), {"child_max_age": 6}, ["balita"]),  # 5 under a "below 6" cycle
    (D(2007, 6, 1), {"school_max_age": 18}, []),  # 18 under a "below 18" cycle
    (D(1970, 6, 1), {"elderly_min_age": 55}, ["lansia"]),  # 55
])
def test_age_limits_come_from_the_cycle(birth_date, ages, expected):
    assert conditions(birth_date, "", **ages) == expected


@pytest.mark.parametrize(("birth_date", "on", "age"), [
    (D(2020, 2, 29), D(2021, 2, 28), 0),
    (D(2020, 2, 29), D(2021, 3, 1), 1),
    (D(1966, 1, 1), D(2026, 1, 1), 60),
    (D(1966, 1, 2), D(2026, 1, 1), 59),
])
def test_age_on(birth_date, on, age):
    assert calculations.age_on(birth_date, on) == age


# --- status machine ---------------------------------------------------------------------------

ALLOWED = {
    ("calon", "terverifikasi"), ("calon", "dikeluarkan"),
    ("terverifikasi", "ditetapkan"), ("terverifikasi", "dikeluarkan"),
    ("ditetapkan", "aktif"), ("ditetapkan", "dikeluarkan"),
    ("aktif", "graduasi"), ("aktif", "dikeluarkan"),
}
PAIRS = [(a, b) for a in EnrolmentStatus.values for b in EnrolmentStatus.values]


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
def test_allowed_transitions(from_status, to_status):
    assert calculations.transition_allowed(from_status, to_status)


@pytest.mark.parametrize(("from_status", "to_status"), [
    ("calon", "ditetapkan"),  # no skipping the verification
    ("calon", "aktif"),
    ("terverifikasi", "aktif"),  # no skipping the decree
    ("ditetapkan", "graduasi"),
    ("aktif", "ditetapkan"),  # no going back
    ("aktif", "calon"),
    ("graduasi", "aktif"),  # final states
    ("graduasi", "dikeluarkan"),
    ("dikeluarkan", "calon"),
    ("dikeluarkan", "aktif"),
    ("aktif", "aktif"),  # no self transitions
    ("calon", "calon"),
    ("calon", "hilang"),  # unknown statuses
    ("hilang", "calon"),
])
def test_refused_transitions(from_status, to_status):
    assert not calculations.transition_allowed(from_status, to_status)


def test_the_transition_table_is_exactly_the_allowed_set():
    assert {p for p in PAIRS if calculations.transition_allowed(*p)} == ALLOWED


# --- tranche amounts --------------------------------------------------------------------------

@pytest.mark.parametrize(("benefit", "shares", "expected"), [
    ("1750001", ["1", "1"], ["875000", "875001"]),
    ("1750000", ["1", "1"], ["875000", "875000"]),  # 2019: two tahap
    ("2250000", ["1", "1", "1"], ["750000", "750000", "750000"]),  # 2017: three tahap
    ("2250001", ["1", "1", "1"], ["750000", "750000", "750001"]),
    ("2250002", ["1", "1", "1"], ["750000", "750000", "750002"]),
    ("1655000", ["1", "2"], ["551666", "1103334"]),  # 2018 with weights 1:2
    ("1655000", ["1", "1"], ["827500", "827500"]),
    ("1000000", ["0.25", "0.25", "0.5"], ["250000", "250000", "500000"]),
    ("999999", ["3", "1"], ["749999", "250000"]),
])
def test_tranche_amounts_are_whole_rupiah_summing_to_the_benefit(benefit, shares, expected):
    amounts = calculations.tranche_amounts(Decimal(benefit), [Decimal(s) for s in shares])
    assert amounts == [Decimal(e) for e in expected]
    assert sum(amounts) == Decimal(benefit)
    assert all(a == a.to_integral_value() for a in amounts)


# --- commitment rule --------------------------------------------------------------------------

@pytest.mark.parametrize(("met", "unmet", "outcome", "factor", "ratio"), [
    (0, 0, "penuh", "1", "0"),  # no commitment recorded: nothing unmet
    (4, 0, "penuh", "1", "0"),
    (3, 1, "dikurangi", "0.75", "0.25"),  # 1 of 4 unmet: 25% less
    (1, 1, "dikurangi", "0.75", "0.5"),
    (1, 3, "dikurangi", "0.75", "0.75"),
    (99, 1, "dikurangi", "0.75", "0.01"),
    (0, 1, "ditangguhkan", "0", "1"),  # all unmet: suspended
    (0, 4, "ditangguhkan", "0", "1"),
])
def test_commitment_outcome(met, unmet, outcome, factor, ratio):
    assert calculations.commitment_outcome(met=met, unmet=unmet, rules=reference.RULES) == (
        outcome, Decimal(factor), Decimal(ratio))


@pytest.mark.parametrize(("met", "unmet"), [(100, 1), (9_999, 1), (20_000, 1), (1, 1)])
def test_any_unmet_commitment_is_some_unmet_and_pays_25_percent_less(met, unmet):
    """"Some unmet" has no lower bound: 1 unmet of 101 (1 %) or of 20,001 is 25 % less."""
    outcome, factor, ratio = calculations.commitment_outcome(met=met, unmet=unmet,
                                                             rules=reference.RULES)
    assert (outcome, factor) == ("dikurangi", Decimal("0.75"))
    assert calculations.payment_amount(Decimal(875000), factor) == Decimal(656250)
    assert ratio >= calculations.SOME_UNMET


def test_commitment_outcome_without_rules_pays_in_full():
    assert calculations.commitment_outcome(met=0, unmet=3, rules=[]) == (
        "penuh", Decimal(1), Decimal(1))


def test_the_rule_with_the_highest_minimum_not_above_the_ratio_applies():
    rules = [(Decimal("0.5"), "dikurangi", Decimal("0.5")), (Decimal("0"), "penuh", Decimal(0)),
             (Decimal("0.2"), "dikurangi", Decimal("0.1"))]
    outcome = calculations.commitment_outcome
    assert outcome(met=9, unmet=1, rules=rules)[:2] == ("penuh", Decimal(1))  # 0.1
    assert outcome(met=3, unmet=1, rules=rules)[:2] == ("dikurangi", Decimal("0.9"))  # 0.25
    assert outcome(met=1, unmet=1, rules=rules)[:2] == ("dikurangi", Decimal("0.5"))  # 0.5


@pytest.mark.parametrize(("tranche_amount", "factor", "paid"), [
    ("875000", "1", "875000"),
    ("875000", "0.75", "656250"),
    ("875001", "0.75", "656251"),  # 656250.75 rounds half up
    ("551666", "0.75", "413750"),  # 413749.5 rounds half up
    ("875001", "0", "0"),
])
def test_payment_amount_is_whole_rupiah(tranche_amount, factor, paid):
    assert calculations.payment_amount(Decimal(tranche_amount), Decimal(factor)) == Decimal(paid)


@pytest.mark.parametrize(("years", "year", "limit", "reached"), [
    ([], 2026, 5, False),
    ([2021, 2022, 2023, 2024], 2026, 5, False),
    ([2021, 2022, 2023, 2024, 2025], 2026, 5, True),
    ([2022, 2023, 2024, 2025, 2026], 2026, 5, False),  # the cycle itself is not counted
    ([2024, 2024, 2025], 2026, 3, False),  # a year counts once
    ([2023, 2024, 2025], 2026, 3, True),
])
def test_targeting_limit(years, year, limit, reached):
    assert calculations.targeting_limit_reached(years, year, limit) is reached
