"""The yearly rest against a hand correction made at the same moment (review of 2 December
2026, PostgreSQL): July's run is being computed — its rest line written, not yet committed —
while Rp2 is added by hand to August as a correction of June's line. Before, the correction
took neither the computation's lock nor July's run, found no committed rest to mark stale, and
July's rest (which had not seen the correction) paid the Rp2 again. Now the correction waits
for the computation (``_serialise_computations``, the lock order of ``run_compute``) and then
marks July stale."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from incentives import services
from incentives.models import PayoutLine, PayoutRun
from tests.helpers import postgres_only
from tests.incentives.factories import approve, grant, tksk
from tests.incentives.test_yearly_rests import AUGUST, JULY, JUNE, MONTHLY_FROM_JULY, june_line
from tests.races import Held, Thread, wait_for_lock_waiter

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
D = datetime.date


@pytest.fixture
def keuangan(keuangan):
    return grant(keuangan, "add_rate")


def test_a_correction_while_the_rest_is_computed_is_paid_once(keuangan, keuangan_b, pimpinan):
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    for period in (D(2026, 5, 1), JUNE):
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)  # open, no rest in it
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    line = june_line(worker)
    computing = Held(lambda: services.run_compute(actor=keuangan, period=JULY)).start()
    correcting = Thread(lambda: services.adjustment_add(
        actor=keuangan, run=august, corrects=line, amount=Decimal("2"),
        reason="Sisa tarif tahunan Juni dibayar manual")).start()
    wait_for_lock_waiter(correcting)  # the correction waits for the computation
    computing.release()
    correcting.join()
    computing.join()
    assert computing.error is None and correcting.error is None, (
        computing.error, correcting.error)
    july = PayoutRun.objects.get(period=JULY)
    assert july.is_stale  # its rest did not see the correction: recomputed before verified
    july = services.run_compute(actor=keuangan, period=JULY)
    rest = july.lines.filter(worker=worker, kind="sisa_tahunan").aggregate(
        s=Sum("gross_amount"))["s"] or 0
    by_hand = PayoutLine.objects.filter(corrects=line).aggregate(s=Sum("gross_amount"))["s"]
    # June owes 83.335 and paid 83.333: the Rp2 once — by hand here, so no rest
    assert (rest, by_hand) == (0, Decimal("2"))
