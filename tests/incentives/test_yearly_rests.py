"""A yearly rate's rest (``sisa_tahunan``) across the year's end, and a rest already paid by hand.

- The rest of a window of one year is paid in the next run computed also when that run is in
  the next year (January): the rates of the year before that ended alone are looked for too.
- A hand-made correction (``penyesuaian``) of the window's own payment — linked to the
  approved line by ``corrects`` — that already paid the rest, or part of it, is counted: the
  ``sisa_tahunan`` line pays only what is still owed, never a negative amount, never twice.

The scenario of the year's end, through the services' doors: the only TKSK leaves on
30 November 2026; November and December 2026 are approved (December has no TKSK operasional
line: nobody held the role in December); the Pergub that pays TKSK operasional Rp100.000 a
month from 1 December 2026 is entered afterwards (allowed: no verified or approved line of
the kind from December on) — it ends the yearly rate (Rp1.000.000 a year paid monthly) alone
on 30 November, whose November owed its rest. The next run computed is January 2027.
"""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from incentives import services
from incentives.models import PayoutLine
from tests.helpers import postgres_only
from tests.incentives.factories import approve, pendamping, tksk

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
NOV, DEC, JAN, FEB = D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1), D(2027, 2, 1)
MONTHLY_FROM_DECEMBER = {"role": "tksk", "component": "operasional", "amount": RP("100000"),
                         "unit": "per_bulan", "schedule": "bulanan",
                         "funding_source": "apbd_provinsi", "valid_from": DEC,
                         "legal_basis": "Pergub uji 2026 (operasional TKSK bulanan)"}
# November's rest of the yearly rate ending alone on 30 November 2026 (rest_part_base):
#   its share of 2026: 1.000.000 × 11/12 = 916.666,67 → 916.667;
#   January–October paid the plain part 10 × 83.333 = 833.330;
#   November owes 916.667 − 833.330 = 83.337 for the full month; it paid 83.333 → Rp4.
NOVEMBER_OWES, NOVEMBER_PAID, REST = RP("83337"), RP("83333"), RP("4")


def year_end(keuangan, keuangan_b, pimpinan, **worker):
    """The TKSK leaving on 30 November, a pendamping Jamsosratu (so that December has lines),
    November and December approved, then the Pergub from 1 December."""
    leaver = tksk(end=D(2026, 11, 30), reports=(NOV,), **worker)
    pendamping("pendamping_jamsosratu", reports=(NOV, DEC, JAN, FEB))
    november = approve(services.run_compute(actor=keuangan, period=NOV),
                       verifier=keuangan_b, approver=pimpinan)
    approve(services.run_compute(actor=keuangan, period=DEC),
            verifier=keuangan_b, approver=pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_DECEMBER)
    return leaver, november.lines.get(worker=leaver, component="operasional", kind="reguler")


def test_a_rest_of_november_is_paid_in_january_of_the_next_year(keuangan, keuangan_b, pimpinan):
    leaver, november_line = year_end(keuangan, keuangan_b, pimpinan)
    assert november_line.gross_amount == NOVEMBER_PAID
    january = services.run_compute(actor=keuangan, period=JAN)
    rest = january.lines.get(worker=leaver, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.net_amount, rest.period, rest.status, rest.component) == (
        REST, REST, NOV, "dibayarkan", "operasional")
    assert rest.explanation["remainder_of"] == november_line.pk
    assert (rest.explanation["owed"], rest.explanation["paid"]) == ("83337", "83333")
    assert "2026-11" in rest.note
    # only the worker it belongs to: the pendamping Jamsosratu has no rest
    assert list(january.lines.filter(kind="sisa_tahunan").values_list("worker", flat=True)) == [
        leaver.pk]
    # 2026's operasional of the TKSK sums to its share once the rest is in: 83.333 + 4
    assert PayoutLine.objects.filter(worker=leaver, component="operasional").aggregate(
        s=Sum("gross_amount"))["s"] == NOVEMBER_OWES
    # recomputed: still one; February (January approved) does not pay it again
    january = services.run_compute(actor=keuangan, period=JAN)
    assert january.lines.filter(kind="sisa_tahunan").count() == 1
    approve(january, verifier=keuangan_b, approver=pimpinan)
    february = services.run_compute(actor=keuangan, period=FEB)
    assert not february.lines.filter(kind="sisa_tahunan").exists()


def test_a_rest_of_the_year_before_is_looked_for_in_any_run_of_the_next_year(
        keuangan, keuangan_b, pimpinan):
    """Not only January: a January approved before the Pergub was entered leaves the rest to
    February."""
    leaver = tksk(end=D(2026, 11, 30), reports=(NOV,))
    pendamping("pendamping_jamsosratu", reports=(NOV, DEC, JAN, FEB))
    for period in (NOV, DEC, JAN):
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_DECEMBER)
    february = services.run_compute(actor=keuangan, period=FEB)
    rest = february.lines.get(worker=leaver, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.period) == (REST, NOV)


def test_a_rate_ending_on_31_december_leaves_no_rest(keuangan, keuangan_b, pimpinan):
    """A yearly rate ending with the year settles its year in December (its last part is what
    the year still owes): a monthly rate from 1 January 2027 entered after December was
    approved makes no ``sisa_tahunan`` line in January — December paid 1.000.000 − 11 × 83.333
    = 83.337 already."""
    worker = tksk(reports=(DEC,))
    december = approve(services.run_compute(actor=keuangan, period=DEC),
                       verifier=keuangan_b, approver=pimpinan)
    assert december.lines.get(worker=worker, component="operasional").gross_amount == RP(
        "83337")
    services.rate_create(actor=keuangan, **{**MONTHLY_FROM_DECEMBER, "valid_from": JAN})
    january = services.run_compute(actor=keuangan, period=JAN)
    assert not january.lines.filter(kind="sisa_tahunan").exists()


@postgres_only
def test_set_based_pays_the_rest_of_the_year_before_like_python(
        monkeypatch, keuangan, keuangan_b, pimpinan):
    from tests.incentives.test_set_based import both_paths

    leaver, _line = year_end(keuangan, keuangan_b, pimpinan)
    run, set_based, python = both_paths(monkeypatch, keuangan, JAN)
    assert set_based == python
    assert {(line.worker_id, line.gross_amount, line.period)
            for line in run.lines.filter(kind="sisa_tahunan")} == {(leaver.pk, REST, NOV)}
