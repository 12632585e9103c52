"""Jamsosratu eligibility and targeting rules of DOMAIN.md, found missing by a domain audit
(December 2026): who may be a pregnant or post-natal mother, the five targeted years, whole
rupiah in a cycle."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jamsosratu import services
from jamsosratu.models import Cycle, EnrolmentMember
from tests.factories import DESA_PANDEGLANG, cycle_with_tranches
from tests.jamsosratu.factories import ADULT, TODDLER, VISIT, enrol, household, tksk_of

pytestmark = pytest.mark.django_db
D = datetime.date


def test_a_man_is_never_a_pregnant_or_post_natal_mother(province_operator):
    """DOMAIN.md: "Eligible households have a pregnant or post-natal mother, a child under five,
    a school child ... or an elderly member". The staff page offers "hamil/nifas" only for women
    (jamsosratu.forms), but the service behind the API takes any member: a household of two
    adult men becomes eligible because one is recorded as pregnant."""
    cycle = cycle_with_tranches(2026)
    hh = household(DESA_PANDEGLANG, [
        {"name": "Ujang", "birth_date": ADULT, "sex": "L"},
        {"name": "Asep", "birth_date": D(1990, 5, 5), "sex": "L", "relationship": "lainnya"},
    ])
    man = hh.people[1]
    enrolment = services.enrolment_propose(actor=province_operator, household=hh, cycle=cycle,
                                           account_number="0098123456")
    with pytest.raises(ValidationError) as refused:
        services.verification_record(
            actor=province_operator, enrolment=enrolment, verifier=tksk_of("36.01.01"),
            visit_date=VISIT, result="sesuai", pregnant_person_ids=[man.pk])
    assert list(refused.value.message_dict) == ["pregnant_persons"]
    assert not EnrolmentMember.objects.filter(
        enrolment=enrolment, person=man, condition="hamil_nifas").exists()
    # a member stored as pregnant before the rule is not carried on by the next refresh
    EnrolmentMember.objects.create(enrolment=enrolment, person=man, condition="hamil_nifas")
    services.enrolment_members_refresh(enrolment=enrolment)
    assert not EnrolmentMember.objects.filter(person=man, condition="hamil_nifas").exists()


def test_a_year_targeted_then_excluded_still_counts_towards_the_five_years(province_operator):
    """DOMAIN.md: "targeted for up to 5 years"; README: "a household is a target (decreed:
    ditetapkan, aktif or graduasi) in at most Cycle.max_targeted_years cycle years". A household
    decreed and active in 2021 that was later excluded (dikeluarkan) in that year was still a
    target that year; _targeted_years counts only the enrolments' current status, so the
    excluded year vanishes and a sixth year is granted."""
    hh = household(DESA_PANDEGLANG, [ADULT, TODDLER])
    for year in (2021, 2022, 2023, 2024, 2025):
        cycle = cycle_with_tranches(year)
        enrol(province_operator, hh, cycle, "aktif")
    first = hh.jamsosratu_enrolments.get(cycle__year=2021)
    services.enrolment_transition(actor=province_operator, enrolment=first,
                                  to_status="dikeluarkan", reason="Mampu")
    sixth = cycle_with_tranches(2026)
    with pytest.raises(ValidationError):
        services.enrolment_propose(actor=province_operator, household=hh, cycle=sixth,
                                   account_number="0098123456")


def test_a_cycles_benefit_and_pagu_are_whole_rupiah():
    """DOMAIN.md: "Money is Rupiah: whole rupiah in practice"; README: "money inputs (rates,
    pagu, corrections) are whole rupiah: 1000000.5 is refused, in Indonesian on the field".
    Rate and BudgetCeiling carry validate_whole_rupiah; Jamsosratu's Cycle.benefit_amount and
    Cycle.budget_ceiling (typed in the admin) do not: 1.750.000,50 is stored and the tranche
    split (split_rupiah → round_rupiah) then pays Rp1.750.001 a year."""
    cycle = Cycle(year=2030, name="Jamsosratu 2030", legal_basis="Pergub uji",
                  benefit_amount=Decimal("1750000.50"), budget_ceiling=Decimal("87500000.50"),
                  qualifying_conditions=["balita"])
    with pytest.raises(ValidationError) as refused:
        cycle.full_clean()
    assert {"benefit_amount", "budget_ceiling"} <= set(refused.value.message_dict)


# Review: The bulk proposal from the registry counts a decreed-then-excluded year as the
#    single proposal does: the household is skipped, the bulk is not refused by it.
def test_propose_from_registry_skips_a_household_whose_five_years_include_an_excluded_one(
        province_operator):
    from jamsosratu import services as jamsosratu_services
    from tests.factories import cycle_with_tranches
    from tests.jamsosratu.factories import ADULT, TODDLER, enrol, household

    hh = household(DESA_PANDEGLANG, [ADULT, TODDLER])
    other = household(DESA_PANDEGLANG, [ADULT, TODDLER])
    for year in (2021, 2022, 2023, 2024, 2025):
        enrol(province_operator, hh, cycle_with_tranches(year), "aktif")
    first = hh.jamsosratu_enrolments.get(cycle__year=2021)
    jamsosratu_services.enrolment_transition(actor=province_operator, enrolment=first,
                                             to_status="dikeluarkan", reason="Mampu")
    sixth = cycle_with_tranches(2026)
    created = jamsosratu_services.enrolments_propose_from_registry(
        actor=province_operator, cycle=sixth, max_decile=4)
    assert set(sixth.enrolments.values_list("household_id", flat=True)) >= {other.pk}
    assert not sixth.enrolments.filter(household=hh).exists()
    assert created >= 1
