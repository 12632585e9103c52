"""The program years reported in the press (DOMAIN.md), as data."""

from decimal import Decimal

KAB_KOTA = ["36.01", "36.02", "36.03", "36.04", "36.71", "36.72", "36.73", "36.74"]
#: The commitment rule: none unmet → full; some (any unmet at all) → 25 % less; all → suspended.
#: "Some" starts at the smallest ratio a rule can store (``calculations.SOME_UNMET``).
RULES = [  # min unmet ratio, outcome, reduction
    (Decimal("0"), "penuh", Decimal("0")),
    (Decimal("0.0001"), "dikurangi", Decimal("0.25")),
    (Decimal("1"), "ditangguhkan", Decimal("1")),
]
ALL_CONDITIONS = ["hamil_nifas", "balita", "anak_sekolah", "lansia"]

CYCLES = [
    {"year": 2017, "name": "Jamsosratu 2017",
     "legal_basis": "Pergub Banten 2/2013 jo. 5/2014; Juklak Pergub 16/2015",
     "benefit_amount": Decimal("2250000"), "budget_ceiling": Decimal("108000000000"),
     "total_quota": 48000, "tranches": [(1, Decimal("1"), 4), (2, Decimal("1"), 8),
                                        (3, Decimal("1"), 11)]},
    {"year": 2018, "name": "Jamsosratu 2018",
     "legal_basis": "Pergub Banten 2/2013 jo. 5/2014; Juklak Pergub 16/2015",
     "benefit_amount": Decimal("1655000"), "budget_ceiling": Decimal("50000000000"),
     "total_quota": 30000, "tranches": [(1, Decimal("1"), 5), (2, Decimal("1"), 10)]},
    {"year": 2019, "name": "Jamsosratu 2019",
     "legal_basis": "Pergub Banten 10/2019 jo. 15/2019",
     "benefit_amount": Decimal("1750000"), "budget_ceiling": Decimal("87500000000"),
     "total_quota": 50000, "tranches": [(1, Decimal("1"), 6), (2, Decimal("1"), 11)]},
]
