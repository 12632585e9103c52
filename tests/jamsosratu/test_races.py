"""Jamsosratu: two writers at once (PostgreSQL). One writer's transaction is held open at the
moment its work is done; the other runs into (or past) it; then the first commits. These FAIL
on the audited code."""

import threading

import pytest
from django.core.exceptions import ValidationError

from jamsosratu import services
from jamsosratu.models import Commitment, Cycle, Enrolment, Payment, Verification
from tests.factories import DESA_PANDEGLANG, cycle_with_tranches
from tests.helpers import postgres_only
from tests.jamsosratu.factories import ADULT, TODDLER, VISIT, enrol, household, tksk_of
from tests.races import Held, Thread, wait_for_lock_waiter

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def test_a_commitment_recorded_while_the_payment_list_is_made_is_never_applied(
        cycle, province_operator):
    """Rule: a tranche's payment follows the commitments recorded for it, and once the payment
    exists a commitment can no longer change ("Penyaluran tahap ini sudah dibuat; komitmen
    tidak dapat diubah."). ``commitment_record`` asks whether the payment exists without a
    lock the job respects: recorded while the tranche job is committing, it waits only at its
    commit (the deferred foreign-key check on the tranche row the job holds) and then goes
    in — an unmet health visit stands recorded for a tranche whose payment was made in full
    (Rp875.000 instead of 25 % less)."""
    active = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    toddler = active.members.get(condition="balita")

    job = Held(lambda: services.payments_generate(tranche=first)).start()
    record = Thread(lambda: services.commitment_record(
        actor=province_operator, member=toddler, tranche=first, kind="kesehatan",
        status="tidak_terpenuhi")).start()
    wait_for_lock_waiter(record)  # its COMMIT (the deferred foreign-key check on the
    #                               tranche) waits for the tranche row the job locked
    job.release()
    record.join()
    assert isinstance(record.error, ValidationError), record.error  # the payment was made

    payment = Payment.objects.get(enrolment=active, tranche=first)
    unmet = Commitment.objects.filter(member__enrolment=active, tranche=first,
                                      status="tidak_terpenuhi").count()
    assert (unmet, payment.explanation["unmet"]) == (payment.explanation["unmet"], unmet), (
        f"payment {payment.amount} ({payment.outcome}) made with unmet="
        f"{payment.explanation['unmet']}; unmet commitments recorded: {unmet}")


def test_two_cycles_decreed_at_once_exceed_the_targeting_limit(province_operator):
    """Rule: a household is a target (decreed) in at most ``Cycle.max_targeted_years`` cycle
    years (Pergub: 5), "refused again at the decree". The decree locks only its own
    enrolment and its own cycle's quota row: two decrees of one household in two cycles
    (2025 and 2026, limit 1 here to keep the test small) each count the other's as not
    decreed and both pass."""
    old = cycle_with_tranches(2025, "1750000", ("1", "1"))
    new = cycle_with_tranches(2026, "1750000", ("1", "1"))
    Cycle.objects.filter(pk__in=[old.pk, new.pk]).update(max_targeted_years=1)
    old.refresh_from_db()
    new.refresh_from_db()
    hh = household(DESA_PANDEGLANG)
    first = enrol(province_operator, hh, old, "terverifikasi")
    second = enrol(province_operator, hh, new, "terverifikasi")

    decree_2025 = Held(lambda: services.enrolment_transition(
        actor=province_operator, enrolment=first, to_status="ditetapkan",
        decree_number="SK 2025/1")).start()
    decree_2026 = Thread(lambda: services.enrolment_transition(
        actor=province_operator, enrolment=second, to_status="ditetapkan",
        decree_number="SK 2026/1")).start()
    wait_for_lock_waiter(decree_2026)  # the household's row lock the first decree holds
    decree_2025.release()
    decree_2026.join()

    decreed = sorted(Enrolment.objects.filter(household=hh, status="ditetapkan")
                     .values_list("cycle__year", flat=True))
    assert len(decreed) <= 1, f"decreed in {decreed} with a limit of 1 year"
    assert isinstance(decree_2026.error, ValidationError), decree_2026.error
    assert "household" in decree_2026.error.message_dict


def test_a_household_excluded_while_its_payment_is_marked_paid_turns_the_payment_suspended(
        cycle, province_operator):
    """Rule: a payment recorded as paid (disalurkan, with its date and bank reference) stays
    paid; excluding a participant suspends only its *scheduled* payments. The exclusion reads
    its scheduled payments without locking them and then saves each one: a payment the bank
    result job (or ``payment_mark``) marks paid in between is overwritten to ``ditangguhkan`` —
    the money has left the bank, the record says it was suspended, and finance's totals and
    the next bank file disagree with the bank."""
    import datetime

    active = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    payment = Payment.objects.get(enrolment=active, tranche=first)

    paid = Held(lambda: services.payment_mark(
        actor=province_operator, payment=payment, status="disalurkan",
        paid_on=datetime.date(2026, 6, 15), reference="BB-2026-0001")).start()
    exclude = Thread(lambda: services.enrolment_transition(
        actor=province_operator, enrolment=active, to_status="dikeluarkan",
        reason="Pindah ke luar provinsi")).start()
    wait_for_lock_waiter(exclude)  # its UPDATE of the payment waits for the marking
    paid.release()
    exclude.join()
    assert exclude.error is None, exclude.error

    payment.refresh_from_db()
    assert (payment.status, payment.reference) == ("disalurkan", "BB-2026-0001"), (
        f"paid payment now {payment.status} ({payment.failure_reason})")


def test_a_household_excluded_while_the_payment_list_is_made_gets_no_scheduled_payment(
        cycle, province_operator):
    """Rule: the payment list is made for active participants only. A transition locks its
    enrolment with its cycle row (``select_related`` under ``FOR UPDATE``), and the job's
    tranche lock takes the cycle row too: the job waits for an exclusion being committed and
    then reads the enrolment as excluded — no scheduled payment the bank file would pay."""
    active = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)

    exclude = Held(lambda: services.enrolment_transition(
        actor=province_operator, enrolment=active, to_status="dikeluarkan",
        reason="Pindah ke luar provinsi")).start()
    job = Thread(lambda: services.payments_generate(tranche=first)).start()
    wait_for_lock_waiter(job)  # the enrolment's row lock the exclusion holds
    exclude.release()
    job.join()

    assert job.error is None, job.error
    assert not Payment.objects.filter(enrolment=active, tranche=first,
                                      status="dijadwalkan").exists()


def test_applying_findings_and_a_decree_at_once_do_not_deadlock(province_operator, monkeypatch):
    """Found by the review of the race fixes: a verification's findings lock the household
    (``person_update``) and then refresh the enrolment's members (key share on the
    enrolment); a decree locked the enrolment and then the household (targeting limit):
    a deadlock, one officer answered 503. Now the decree locks the household first."""
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"))
    hh = household(DESA_PANDEGLANG, members=(ADULT, ADULT, TODDLER))
    enrolment = enrol(province_operator, hh, cycle, "terverifikasi")
    moved = hh.people[1]
    services.verification_record(
        actor=province_operator, enrolment=enrolment, verifier=tksk_of(enrolment.desa_id[:8]),
        visit_date=VISIT, result="sesuai", findings=[{"person": moved.pk, "finding": "pindah"}])
    verification = Verification.objects.filter(enrolment=enrolment).latest("id")

    household_locked, go = threading.Event(), threading.Event()
    original_refresh = services.enrolment_members_refresh

    def refresh_after_pause(**kwargs):
        if threading.current_thread().name == "findings":
            household_locked.set()  # person_update has run: the household row is locked
            assert go.wait(30)
        return original_refresh(**kwargs)

    monkeypatch.setattr(services, "enrolment_members_refresh", refresh_after_pause)

    findings = Thread(lambda: services.verification_apply_findings(
        actor=province_operator, verification=verification), name="findings").start()
    assert household_locked.wait(30)
    decree = Thread(lambda: services.enrolment_transition(
        actor=province_operator, enrolment=enrolment, to_status="ditetapkan",
        decree_number="SK 1"), name="decree").start()
    wait_for_lock_waiter(decree)  # decree holds the enrolment, waits for the household
    go.set()
    findings.join()
    decree.join()
    assert (findings.error, decree.error) == (None, None)


def test_two_tahap_lists_of_one_cycle_at_once_do_not_pass_the_pagu_together(
        cycle, province_operator):
    """Rule (money audit, pagu): a tahap's list that would take the cycle's scheduled and paid
    total over its pagu is refused. Each list alone is within the pagu (Rp1.750.000 of
    Rp2.624.999); made at once, each chunk counts the other's payments under the cycle's row
    lock: the second waits for the first, then sees Rp3.500.000 and is refused."""
    from decimal import Decimal

    for _n in range(2):
        enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal("2624999"))
    first, second = cycle.tranches.get(number=1), cycle.tranches.get(number=2)

    job = Held(lambda: services.payments_generate(tranche=first)).start()
    other = Thread(lambda: services.payments_generate(tranche=second)).start()
    wait_for_lock_waiter(other)  # the cycle row the first list holds
    job.release()
    other.join()
    assert isinstance(other.error, ValidationError), other.error
    assert "budget_ceiling" in other.error.message_dict
    assert (Payment.objects.filter(tranche=first).count(),
            Payment.objects.filter(tranche=second).count()) == (2, 0)


def test_the_pagu_lowered_while_a_list_is_made_counts_that_list(cycle, province_operator):
    """Rule: the pagu is never lowered below what the cycle has committed. The admin lowers
    it to Rp1.000.000 while tahap 1's list (Rp1.750.000, within the old pagu) is committing:
    the check waits for the list's tahap and cycle rows, then counts its payments and is
    refused — never a pagu below the money already scheduled."""
    from decimal import Decimal

    from django.db import transaction

    for _n in range(2):
        enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(3500000))
    first = cycle.tranches.get(number=1)

    def lower():  # the admin's change form: check and save in one transaction
        with transaction.atomic():
            services.cycle_terms_check(cycle=cycle, budget_ceiling=Decimal(1000000))
            Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(1000000))

    job = Held(lambda: services.payments_generate(tranche=first)).start()
    admin = Thread(lower).start()
    wait_for_lock_waiter(admin)  # the tahap row the list holds
    job.release()
    admin.join()
    assert isinstance(admin.error, ValidationError), admin.error
    assert "Rp1.750.000" in admin.error.message_dict["budget_ceiling"][0]
    assert Cycle.objects.get(pk=cycle.pk).budget_ceiling == Decimal(3500000)
