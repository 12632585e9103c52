"""Money rules of the payment list and the bank file, each found by the money audit of
December 2026 (a failing test first): no Rp0 transfer, no household without a qualifying
member paid, the year's split frozen once paid, the account sent is the current one, the
list and the file agree, a failed transfer can be sent again, the pagu is asked."""

import datetime
from decimal import Decimal

import pytest

from jamsosratu import banking, services
from jamsosratu.models import Payment
from tests.factories import (
    DESA_PANDEGLANG_2,
    cycle_with_tranches,
)
from tests.jamsosratu.factories import (
    ADULT,
    PUPIL,
    TODDLER,
    enrol,
    household,
    record_commitments,
    tksk_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def test_no_rp0_transfer_is_sent_to_the_bank(cycle, province_operator):
    """A rule reducing the tahap by 100 % gives Rp0: the payment is suspended with a reason
    and the bank file holds no transfer of 0 (audit 16)."""
    cycle.condition_rules.filter(outcome="dikurangi").update(reduction_share=Decimal(1))
    enrolment = enrol(province_operator, household(members=(ADULT, TODDLER, PUPIL)), cycle,
                      "aktif")
    first = cycle.tranches.get(number=1)
    record_commitments(province_operator, enrolment, first, ["terpenuhi", "tidak_terpenuhi"])
    services.payments_generate(tranche=first)
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    assert payment.amount == 0
    assert payment.status == "ditangguhkan"
    assert payment.failure_reason
    text, count, total = banking.transfer_file(first)
    assert (count, total) == (0, 0), text


def _suspended_for_no_member(enrolment, tranche):
    payment = Payment.objects.get(enrolment=enrolment, tranche=tranche)
    assert (payment.status, payment.amount) == ("ditangguhkan", 0)
    assert "anggota yang memenuhi syarat" in payment.failure_reason
    return payment


def test_a_household_that_moved_away_is_not_paid_the_next_tahap(cycle, province_operator):
    """The whole household moved out of Banten (findings applied): tahap 2 is suspended with
    its reason, not sent (audit 8)."""
    hh = household()
    enrolment = enrol(province_operator, hh, cycle, "aktif")
    assert enrolment.members.count() == 1  # the toddler
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    visit = services.verification_record(
        actor=province_operator, enrolment=enrolment, verifier=tksk_of(enrolment.desa_id[:8]),
        visit_date=datetime.date(2026, 7, 1), result="tidak_sesuai",
        notes="Seluruh keluarga pindah ke luar provinsi",
        findings=[{"person": person.pk, "finding": "pindah"} for person in hh.people])
    services.verification_apply_findings(actor=province_operator, verification=visit)
    second = cycle.tranches.get(number=2)
    services.payments_generate(tranche=second)
    _suspended_for_no_member(enrolment, second)
    assert banking.transfer_totals(second) == (0, 0)


def test_a_member_gone_since_the_last_refresh_is_not_counted(cycle, province_operator):
    """The stored member list is not the authority: a toddler moved to another KK through the
    registry (no verification) leaves the household without a qualifying member."""
    from pmks import services as pmks_services

    hh = household()
    enrolment = enrol(province_operator, hh, cycle, "aktif")
    pmks_services.person_update(actor=province_operator, person=hh.people[1], household=None,
                                relationship="")
    assert enrolment.members.count() == 1  # stored, not refreshed
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    _suspended_for_no_member(enrolment, first)
    assert enrolment.members.count() == 0  # refreshed by the list


def test_one_child_registered_twice_does_not_keep_paying_two_households(cycle,
                                                                        province_operator):
    """A toddler registered in two KK, both households active on that child; the duplicate is
    merged into A's record: B is suspended at tahap 2, A is paid (audit 9)."""
    from pmks import services as pmks_services

    child = {"birth_date": TODDLER, "name": "Rafa Aditya", "sex": "L"}
    a = household(members=(ADULT, dict(child)))
    b = household(DESA_PANDEGLANG_2, members=(datetime.date(1987, 3, 3), dict(child)))
    first_household = enrol(province_operator, a, cycle, "aktif")
    second_household = enrol(province_operator, b, cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    pmks_services.person_merge(actor=province_operator, kept=a.people[1], merged=b.people[1],
                               reason="Anak yang sama tercatat di dua KK")
    tranche = cycle.tranches.get(number=2)
    services.payments_generate(tranche=tranche)
    _suspended_for_no_member(second_household, tranche)
    assert Payment.objects.get(enrolment=first_household, tranche=tranche).status == (
        "dijadwalkan")
    assert banking.transfer_totals(tranche) == (1, Decimal(875000))
