"""Corrections: what is taken back from a payment never exceeds what it paid (audit)."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from incentives import services
from incentives.choices import HoldReason
from incentives.models import PayoutLine
from psks.models import Assignment
from tests.incentives.factories import accept_reports, approve, tksk

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
SEP, OCT, NOV = D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1)


def test_a_correction_of_a_correction_cannot_take_the_payment_below_zero(keuangan, keuangan_b,
                                                                        pimpinan):
    """September's incentive 1.000.000 is topped up by +500.000 (approved in October):
    1.500.000 was paid for September, and November may take back at most that, whichever line
    of the payment it corrects. The limit counted only corrections of the corrected line itself:
    -1.500.000 of the original and then -500.000 of the top-up were both accepted."""
    worker = tksk(name="Asep", reports=(SEP, OCT, NOV))
    sep_run = approve(services.run_compute(actor=keuangan, period=SEP), verifier=keuangan_b,
                      approver=pimpinan)
    line = sep_run.lines.get(worker=worker, component="insentif")
    assert line.gross_amount == RP(1000000)
    october = services.run_compute(actor=keuangan, period=OCT)
    top_up = services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                     amount=RP(500000), reason="kurang bayar")
    approve(october, verifier=keuangan_b, approver=pimpinan)
    november = services.run_compute(actor=keuangan, period=NOV)
    services.adjustment_add(actor=keuangan, run=november, corrects=line,
                            amount=RP(-1500000), reason="lebih bayar")
    with pytest.raises(ValidationError) as error:
        services.adjustment_add(actor=keuangan, run=november, corrects=top_up,
                                amount=RP(-500000), reason="lebih bayar (koreksi penyesuaian)")
    assert "melebihi" in error.value.message_dict["amount"][0]
    paid_for_september = PayoutLine.objects.filter(
        worker=worker, component="insentif", period=SEP).aggregate(s=Sum("gross_amount"))["s"]
    assert paid_for_september == 0


def test_a_correction_of_a_correction_counts_the_whole_payment_from_below(
        keuangan, keuangan_b, pimpinan):
    """The other way round: -500.000 of the top-up first, then the original may lose at most
    1.000.000 more (not 1.500.000)."""
    worker = tksk(name="Asep", reports=(SEP, OCT, NOV))
    sep_run = approve(services.run_compute(actor=keuangan, period=SEP), verifier=keuangan_b,
                      approver=pimpinan)
    line = sep_run.lines.get(worker=worker, component="insentif")
    october = services.run_compute(actor=keuangan, period=OCT)
    top_up = services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                     amount=RP(500000), reason="kurang bayar")
    approve(october, verifier=keuangan_b, approver=pimpinan)
    november = services.run_compute(actor=keuangan, period=NOV)
    services.adjustment_add(actor=keuangan, run=november, corrects=top_up,
                            amount=RP(-500000), reason="lebih bayar")
    with pytest.raises(ValidationError):
        services.adjustment_add(actor=keuangan, run=november, corrects=line,
                                amount=RP(-1000001), reason="lebih bayar")
    services.adjustment_add(actor=keuangan, run=november, corrects=line,
                            amount=RP(-1000000), reason="lebih bayar")
    assert PayoutLine.objects.filter(worker=worker, component="insentif", period=SEP).aggregate(
        s=Sum("gross_amount"))["s"] == 0


def test_a_saldo_minus_line_is_not_a_payment_to_correct(keuangan, keuangan_b, pimpinan):
    """The leaver was overpaid 1.083.333 in September; October nets it against 349.463 and
    carries 733.870 (saldo_minus, approved); November recovers it (potongan). The saldo_minus
    line paid no one: a correction of it would recover the same 733.870 twice. Only regular,
    arrears and adjustment lines are corrected."""
    leaver = tksk(name="Berhenti", reports=(SEP, OCT))
    sep_run = approve(services.run_compute(actor=keuangan, period=SEP), verifier=keuangan_b,
                      approver=pimpinan)
    Assignment.objects.filter(worker=leaver).update(end_date=D(2026, 10, 10))
    october = services.run_compute(actor=keuangan, period=OCT)
    for line in sep_run.lines.filter(worker=leaver):
        services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                amount=-line.gross_amount, reason="tidak bertugas September")
    carried = october.lines.get(kind="saldo_minus")
    assert carried.gross_amount == RP(733870)
    approve(october, verifier=keuangan_b, approver=pimpinan)
    Assignment.objects.filter(worker=leaver).update(end_date=D(2029, 12, 31))
    accept_reports(leaver, NOV)
    november = services.run_compute(actor=keuangan, period=NOV)
    recovery = november.lines.get(kind="potongan")
    assert recovery.net_amount == RP(-733870)
    with pytest.raises(ValidationError) as error:
        services.adjustment_add(actor=keuangan, run=november, corrects=carried,
                                amount=RP(-733870), reason="koreksi saldo")
    assert ("reguler, rapel, sisa tarif tahunan atau penyesuaian"
            in error.value.message_dict["corrects"][0])
    assert not PayoutLine.objects.filter(corrects=carried).exists()


def test_a_held_line_never_paid_is_not_recovered_from_other_months(keuangan, keuangan_b,
                                                                   pimpinan):
    """September's incentive (1.000.000) is held: the report was never accepted, nothing was
    paid. A -1.000.000 correction of it in October was accepted as payable, cutting October's
    transfer for a month that paid nothing. Refused now, naming ``corrects``; once the arrears
    line pays September, September can be corrected."""
    worker = tksk(name="Tertahan", reports=(OCT, NOV))  # no accepted September report
    sep_run = approve(services.run_compute(actor=keuangan, period=SEP), verifier=keuangan_b,
                      approver=pimpinan)
    held = sep_run.lines.get(worker=worker, component="insentif")
    assert held.status == "ditahan" and held.hold_reason == HoldReason.REPORT
    october = services.run_compute(actor=keuangan, period=OCT)
    with pytest.raises(ValidationError) as error:
        services.adjustment_add(actor=keuangan, run=october, corrects=held,
                                amount=RP(-1000000), reason="lebih bayar")
    assert "belum dibayarkan" in error.value.message_dict["corrects"][0]
    assert not PayoutLine.objects.filter(corrects=held).exists()
    approve(october, verifier=keuangan_b, approver=pimpinan)
    accept_reports(worker, SEP)
    november = services.run_compute(actor=keuangan, period=NOV)
    assert november.lines.get(worker=worker, component="insentif", kind="rapel").gross_amount \
        == RP(1000000)
    services.adjustment_add(actor=keuangan, run=november, corrects=held,
                            amount=RP(-1000000), reason="lebih bayar")
