"""Payouts: two writers at once (PostgreSQL). One writer's transaction is held open at the
moment its work is done; the other runs into (or past) it; then the first commits. These FAIL
on the audited code."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Q, Sum

from incentives import services
from incentives.models import PayoutLine, Rate
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
