"""Payouts: two writers at once (PostgreSQL). One writer's transaction is held open at the
moment its work is done; the other runs into (or past) it; then the first commits. These FAIL
on the audited code."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Q, Sum

from incentives import services
from incentives.models import PayoutLine, PayoutRun, Rate
from tests.helpers import postgres_only
from tests.incentives.factories import approve, grant, tksk
from tests.races import Held, Thread, wait_for_lock_waiter

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

D = datetime.date
RP = Decimal
SEP, OCT, NOV = D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1)


@pytest.fixture
def keuangan(keuangan):
    """The conftest's Keuangan A, who may also add rates."""
    return grant(keuangan, "add_rate")


def tksk_rate(actor, valid_from, amount):
    return services.rate_create(
        actor=actor, role="tksk", component="insentif", amount=RP(amount), unit="per_bulan",
        schedule="bulanan", funding_source="apbd_provinsi", requires_report=True,
        valid_from=valid_from, legal_basis=f"Pergub (uji) {valid_from:%Y-%m}")


def test_two_new_rates_at_once_leave_two_rates_in_force(keuangan):
    """Rule: rates are effective-dated; "a new rate closes the previous one" (``rate_create``
    locks the rate in force and closes it the day before). Two new TKSK rates entered at once
    (from January and from March 2027): the second waits for the first's lock on the old rate,
    then finds the old one already closed and never sees the first's new rate — which stays
    open-ended. From March both are in force: two TKSK incentive rates for the same days."""
    first = Held(lambda: tksk_rate(keuangan, D(2027, 1, 1), "1250000")).start()
    second = Thread(lambda: tksk_rate(keuangan, D(2027, 3, 1), "1500000")).start()
    wait_for_lock_waiter(second)  # SELECT … FOR UPDATE of the rate in force
    first.release()
    second.join()

    assert second.error is None, second.error
    in_force = list(Rate.objects.filter(role="tksk", component="insentif",
                                        funding_source="apbd_provinsi",
                                        valid_from__lte=D(2027, 3, 15))
                    .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=D(2027, 3, 15)))
                    .values_list("amount", "valid_from", "valid_to"))
    assert len(in_force) == 1, f"rates in force on 15 March 2027: {in_force}"


def test_two_corrections_of_one_line_in_two_open_runs_take_it_below_zero(
        keuangan, keuangan_b, pimpinan):
    """Rule: "a correction never takes a line below zero (a negative adjustment is at most the
    line's gross minus its earlier corrections)". ``adjustment_add`` locks only the run the
    correction goes into: October's and November's runs are both open (computed, waiting for
    Keuangan), and a correction of September's Rp1.000.000 line entered into each at once
    reads no earlier correction in either — Rp2.000.000 is recovered from a Rp1.000.000
    payment."""
    worker = tksk(name="Asep", reports=(SEP, OCT, NOV))
    september = approve(services.run_compute(actor=keuangan, period=SEP),
                        verifier=keuangan_b, approver=pimpinan)
    october = services.run_compute(actor=keuangan, period=OCT)
    november = services.run_compute(actor=keuangan, period=NOV)
    line = PayoutLine.objects.get(run=september, worker=worker, component="insentif")
    assert line.gross_amount == RP("1000000")

    def correct(run):
        return lambda: services.adjustment_add(actor=keuangan, run=run, corrects=line,
                                               amount=RP("-1000000"), reason="Lebih bayar")

    in_october = Held(correct(october)).start()
    in_november = Thread(correct(november)).start()
    wait_for_lock_waiter(in_november)  # the corrected line's row lock October's holds
    in_october.release()
    in_november.join()

    corrected = PayoutLine.objects.filter(corrects=line).aggregate(s=Sum("gross_amount"))["s"]
    assert line.gross_amount + corrected >= 0, (
        f"line of {line.gross_amount} corrected by {corrected} "
        f"(errors: {in_october.error!r}, {in_november.error!r})")
    assert in_october.error is None, in_october.error
    assert "amount" in in_november.error.message_dict, in_november.error


def test_a_rate_entered_while_a_month_is_computed_marks_the_run_it_did_not_see(keuangan):
    """Rule: a computed run whose amounts a new rate changes is marked stale and recomputed
    before it is verified. November is being computed (its run row new, not yet committed)
    while a rate from 16 November is entered: ``rate_create`` waits for the computation lock,
    then finds the committed run computed at 1.000.000 and marks it. Without the lock it saw
    no run at all and November went to finance unmarked at the old rate."""
    tksk(name="Asep", reports=(NOV,))
    computing = Held(lambda: services.run_compute(actor=keuangan, period=NOV)).start()
    rate = Thread(lambda: tksk_rate(keuangan, D(2026, 11, 16), "1500000")).start()
    wait_for_lock_waiter(rate)  # pg_advisory_xact_lock: the computation's
    computing.release()
    computing.join(), rate.join()
    assert rate.error is None, rate.error
    run = PayoutRun.objects.get(period=NOV)
    assert run.is_stale and "16 November 2026" in run.stale_reason


def test_a_rate_entered_while_its_month_is_verified_is_refused(keuangan, keuangan_b):
    """Rule: a rate never starts inside a month already verified. November's verification is
    held open while a rate from 16 November is entered: ``rate_create`` waits for the run's
    lock, then sees November verified and refuses the rate on ``valid_from``. Reading the runs
    unlocked, it found November only computed, accepted the rate and marked a run that was
    being verified — verified at the old rate with a rate inside its month."""
    tksk(name="Asep", reports=(NOV,))
    run = services.run_compute(actor=keuangan, period=NOV)
    verifying = Held(lambda: services.run_verify(actor=keuangan_b, run=run)).start()
    rate = Thread(lambda: tksk_rate(keuangan, D(2026, 11, 16), "1500000")).start()
    wait_for_lock_waiter(rate)  # SELECT … FOR UPDATE of the open runs
    verifying.release()
    verifying.join(), rate.join()
    assert rate.error is not None and "11-2026" in str(rate.error), rate.error
    run.refresh_from_db()
    assert (run.status, run.is_stale) == ("diverifikasi", False)
    assert not Rate.objects.filter(valid_from=D(2026, 11, 16)).exists()
