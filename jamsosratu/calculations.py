"""Pure rules of Jamsosratu: eligibility, tranche amounts, commitment outcomes, transitions."""

import datetime
from collections.abc import Sequence
from decimal import Decimal

from dinsos.money import round_rupiah, split_rupiah

SCHOOL_LEVELS = {"sd", "smp", "sma"}
#: The smallest positive unmet ratio a rule can state (``ConditionRule.min_unmet_ratio`` has 4
#: decimal places): a household with any unmet commitment counts at least this much.
SOME_UNMET = Decimal("0.0001")

TRANSITIONS: dict[str, set[str]] = {
    "calon": {"terverifikasi", "dikeluarkan"},
    "terverifikasi": {"ditetapkan", "dikeluarkan"},
    "ditetapkan": {"aktif", "dikeluarkan"},
    "aktif": {"graduasi", "dikeluarkan"},
    "graduasi": set(),
    "dikeluarkan": set(),
}
COUNTED_IN_QUOTA = ("ditetapkan", "aktif", "graduasi")


def targeting_limit_reached(targeted_years, year: int, limit: int) -> bool:
    """A household is targeted for at most ``limit`` years (Pergub: up to 5): the distinct
    cycle years in which it was decreed (ditetapkan, aktif, graduasi), the cycle ``year``
    itself not counted, must stay below the limit for it to be targeted in ``year``."""
    return len(set(targeted_years) - {year}) >= limit


def transition_allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, set())


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def member_conditions(*, birth_date: datetime.date, sex: str, schooling: str, pregnant: bool,
                      on: datetime.date, qualifying: Sequence[str], child_max_age: int,
                      school_max_age: int, elderly_min_age: int, alive: bool = True) -> list[str]:
    """The qualifying conditions of one member on a reference date, limited to the ones the
    cycle counts. A pregnant or post-natal mother is a woman (``sex`` "P"). A school child is
    under ``school_max_age``, 6 and over, in SD–SMA or with no schooling recorded — a child of 5
    already in SD too (a younger one "in school" is a typing error, not a pupil)."""
    if not alive:
        return []
    age = age_on(birth_date, on)
    found = []
    if pregnant and sex == "P":
        found.append("hamil_nifas")
    if age < child_max_age:
        found.append("balita")
    if age < school_max_age and age >= (5 if schooling == "sd" else 6) and (
            schooling in SCHOOL_LEVELS or not schooling):
        found.append("anak_sekolah")
    if age >= elderly_min_age:
        found.append("lansia")
    return [c for c in found if c in qualifying]


def tranche_amounts(benefit, shares: Sequence) -> list[Decimal]:
    """The year's benefit split by the tranches' weights, whole rupiah, summing exactly."""
    return split_rupiah(benefit, list(shares))


def commitment_outcome(*, met: int, unmet: int, rules: Sequence[tuple[Decimal, str, Decimal]]
                       ) -> tuple[str, Decimal, Decimal]:
    """(outcome, factor paid, unmet ratio). ``rules`` are (min_unmet_ratio, outcome,
    reduction_share); the rule with the highest minimum not above the ratio applies. With no
    commitment recorded the ratio is 0 (nothing unmet); with any unmet commitment it is at least
    ``SOME_UNMET``, so a rule starting there catches every household with one unmet, however
    many it met."""
    total = met + unmet
    ratio = max(Decimal(unmet) / Decimal(total), SOME_UNMET) if unmet else Decimal(0)
    chosen = None
    for minimum, outcome, reduction in sorted(rules, key=lambda r: r[0]):
        if Decimal(minimum) <= ratio:
            chosen = (outcome, Decimal(reduction))
    if chosen is None:
        return "penuh", Decimal(1), ratio
    outcome, reduction = chosen
    if outcome == "ditangguhkan":
        return outcome, Decimal(0), ratio
    if outcome == "dikurangi":
        return outcome, Decimal(1) - reduction, ratio
    return "penuh", Decimal(1), ratio


def payment_amount(tranche_amount, factor: Decimal) -> Decimal:
    return round_rupiah(Decimal(tranche_amount) * factor)
