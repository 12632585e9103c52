"""A yearly rate's rest (``sisa_tahunan``) across the year's end, and a rest already paid by hand.

- The rest of a window of one year is paid in the next run computed also when that run is in
  the next year (January): the rates of the year before that ended alone are looked for too.
- A hand-made correction (``penyesuaian``) of the window's own payment — linked to the
  approved line by ``corrects`` — that already paid the rest, or part of it, is counted: the
  ``sisa_tahunan`` line pays only what is still owed, never a negative amount, never twice.
  Each first-level correction (of the line or its arrears partner) counts with its own
  corrections, clamped at zero on its own: a correction that lowered the payment neither
  raises the rest nor re-opens a rest paid by hand in another correction.

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
from django.core.exceptions import ValidationError
from django.db.models import Sum

from incentives import services
from incentives.models import PayoutLine, PayoutRun
from tests.helpers import postgres_only
from tests.incentives.factories import approve, pendamping, tksk, verified_account

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


# --- a rest already paid by hand ---------------------------------------------------------------
#
# June approved at the plain part (83.333), then Rp100.000 a month from 1 July
# (test_rates_review.py): June owes 83.335, the rest is Rp2 (5 × 83.333 + 83.335 = 500.000).

JUNE, JULY, AUGUST, SEPTEMBER = D(2026, 6, 1), D(2026, 7, 1), D(2026, 8, 1), D(2026, 9, 1)
MONTHLY_FROM_JULY = {**MONTHLY_FROM_DECEMBER, "valid_from": JULY}


def june_approved_then_july_rate(keuangan, keuangan_b, pimpinan, *workers):
    for period in (D(2026, 5, 1), JUNE):
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    return services.run_compute(actor=keuangan, period=JULY)


def june_line(worker):
    return PayoutLine.objects.get(worker=worker, component="operasional", kind="reguler",
                                  period=JUNE)


def by_hand(keuangan, run, line, amount):
    return services.adjustment_add(actor=keuangan, run=run, corrects=line, amount=RP(amount),
                                   reason="Sisa tarif tahunan Juni dibayar manual")


def test_a_rest_paid_by_hand_is_not_paid_again(keuangan, keuangan_b, pimpinan):
    """The Rp2 added by hand to July as a correction of June's line: July recomputed has no
    ``sisa_tahunan`` line (83.335 − (83.333 + 2) = 0), nor August after July's approval —
    June's operasional is 83.335 in all, once."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    assert july.lines.get(worker=worker, kind="sisa_tahunan").gross_amount == RP("2")
    by_hand(keuangan, july, june_line(worker), "2")
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.lines.filter(kind="sisa_tahunan").exists()
    approve(july, verifier=keuangan_b, approver=pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    assert not august.lines.filter(kind="sisa_tahunan").exists()
    assert PayoutLine.objects.filter(worker=worker, component="operasional",
                                     period=JUNE).aggregate(s=Sum("gross_amount"))["s"] == RP(
        "83335")


def test_a_rest_paid_in_part_by_hand_pays_what_is_still_owed(keuangan, keuangan_b, pimpinan):
    """Rp1 of the Rp2 paid by hand: the rest line pays 83.335 − (83.333 + 1) = Rp1, and says
    so (paid 83.334, of which 1 by hand)."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    by_hand(keuangan, july, june_line(worker), "1")
    july = services.run_compute(actor=keuangan, period=JULY)
    rest = july.lines.get(worker=worker, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.net_amount) == (RP("1"), RP("1"))
    assert (rest.explanation["owed"], rest.explanation["paid"],
            rest.explanation["paid_by_hand"]) == ("83335", "83334", "1")
    assert "Rp83.334" in rest.note


def test_a_correction_of_a_correction_counts_and_a_negative_one_never_raises_the_rest(
        keuangan, keuangan_b, pimpinan):
    """Corrections of the window's payment count as one sum, corrections of corrections
    included: +5 then −4 (its correction) paid 1 by hand → rest 83.335 − 83.334 = Rp1. A
    payment corrected downwards by hand (−10.000: fewer days, say) is not paid back by the
    rest: the rest stays what the line alone leaves, Rp2, never 83.335 − 73.333 = 10.002."""
    chained = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    lowered = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    plus = by_hand(keuangan, july, june_line(chained), "5")
    services.adjustment_add(actor=keuangan, run=july, corrects=june_line(lowered),
                            amount=RP("-10000"), reason="Hari aktif Juni dikoreksi")
    july = services.run_compute(actor=keuangan, period=JULY)
    approve(july, verifier=keuangan_b, approver=pimpinan)
    assert july.lines.get(worker=lowered, kind="sisa_tahunan").gross_amount == RP("2")
    assert not july.lines.filter(worker=chained, kind="sisa_tahunan").exists()  # 5 ≥ 2
    # the +5 corrected by −4 in August: 1 by hand now — but July already decided (no rest
    # line): the rest is looked for again only where none was made
    august = services.run_compute(actor=keuangan, period=AUGUST)
    services.adjustment_add(actor=keuangan, run=august, corrects=plus, amount=RP("-4"),
                            reason="Koreksi penyesuaian")
    august = services.run_compute(actor=keuangan, period=AUGUST)
    rest = august.lines.get(worker=chained, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.explanation["paid_by_hand"]) == (RP("1"), "1")
    assert not august.lines.filter(worker=lowered, kind="sisa_tahunan").exists()


def test_a_downward_correction_does_not_reopen_a_rest_paid_by_hand(
        keuangan, keuangan_b, pimpinan):
    """Each first-level correction (of June's line) is clamped at zero on its own, with its
    own corrections: June's Rp2 rest paid by hand (+2), then June's payment lowered by −10.000
    (fewer days) — the −10.000 does not cancel the +2 (not max(0, 2 − 10.000) = 0 by hand):
    July recomputed still has no ``sisa_tahunan`` line, June's Rp2 is paid once, by hand."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    by_hand(keuangan, july, june_line(worker), "2")
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.lines.filter(kind="sisa_tahunan").exists()  # the hand paid it
    services.adjustment_add(actor=keuangan, run=july, corrects=june_line(worker),
                            amount=RP("-10000"), reason="Hari aktif Juni dikoreksi")
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.lines.filter(kind="sisa_tahunan").exists()  # not paid a second time
    approve(july, verifier=keuangan_b, approver=pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    assert not august.lines.filter(kind="sisa_tahunan").exists()
    assert PayoutLine.objects.filter(worker=worker, component="operasional", period=JUNE,
                                     gross_amount__gt=0).exclude(kind="reguler").aggregate(
        s=Sum("gross_amount"))["s"] == RP("2")  # the rest, by hand only


def test_a_downward_correction_does_not_reopen_a_rest_paid_in_part_by_hand(
        keuangan, keuangan_b, pimpinan):
    """Rp1 of the Rp2 by hand, and June lowered by −10.000: the rest line pays the Rp1 still
    owed (83.335 − (83.333 + 1)), not Rp2 — and says 1 was paid by hand."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    by_hand(keuangan, july, june_line(worker), "1")
    services.adjustment_add(actor=keuangan, run=july, corrects=june_line(worker),
                            amount=RP("-10000"), reason="Hari aktif Juni dikoreksi")
    july = services.run_compute(actor=keuangan, period=JULY)
    rest = july.lines.get(worker=worker, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.explanation["paid"], rest.explanation["paid_by_hand"]) == (
        RP("1"), "83334", "1")


def july_held_paid_as_arrears_then_august_rate(keuangan, keuangan_b, pimpinan):
    """The arrears partner as a first-level correction's target: a TKSK without a verified
    account, leaving on 31 July (May–July held), a pendamping Jamsosratu (August has lines);
    May–July approved, the account verified, August approved with the arrears of May–July;
    then Rp100.000 a month from 1 August — July owes 83.335, paid 83.333: the rest is Rp2,
    looked for in September. Returns the worker, July's held line and its arrears line."""
    worker = tksk(account=False, end=D(2026, 7, 31), reports=(D(2026, 5, 1), JUNE, JULY))
    pendamping("pendamping_jamsosratu", reports=(AUGUST, SEPTEMBER))
    for period in (D(2026, 5, 1), JUNE, JULY):
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)
    verified_account(worker)
    approve(services.run_compute(actor=keuangan, period=AUGUST),
            verifier=keuangan_b, approver=pimpinan)
    services.rate_create(actor=keuangan, **{**MONTHLY_FROM_JULY, "valid_from": AUGUST})
    held = PayoutLine.objects.get(worker=worker, component="operasional", kind="reguler",
                                  period=JULY)
    assert (held.status, held.gross_amount) == ("ditahan", RP("83333"))
    return worker, held, PayoutLine.objects.get(arrears_of=held)


def test_a_downward_correction_of_the_line_does_not_reopen_a_rest_paid_on_its_arrears(
        keuangan, keuangan_b, pimpinan):
    """July's Rp2 rest paid by hand as a correction of its arrears line (+2), and July's held
    line lowered by −10.000: two first-level corrections, each clamped on its own — no
    ``sisa_tahunan`` line in September (without them it pays Rp2)."""
    worker, held, arrears = july_held_paid_as_arrears_then_august_rate(
        keuangan, keuangan_b, pimpinan)
    september = services.run_compute(actor=keuangan, period=SEPTEMBER)
    assert september.lines.get(worker=worker, kind="sisa_tahunan").gross_amount == RP("2")
    by_hand(keuangan, september, arrears, "2")
    services.adjustment_add(actor=keuangan, run=september, corrects=held,
                            amount=RP("-10000"), reason="Hari aktif Juli dikoreksi")
    september = services.run_compute(actor=keuangan, period=SEPTEMBER)
    assert not september.lines.filter(worker=worker, kind="sisa_tahunan").exists()


@postgres_only
def test_set_based_clamps_the_arrears_partners_corrections_like_python(
        monkeypatch, keuangan, keuangan_b, pimpinan):
    """The same on both paths: +2 on the arrears line and −10.000 on the held line — no rest
    line (each branch clamped on its own), the same lines set-based and in Python."""
    from tests.incentives.test_set_based import both_paths

    worker, held, arrears = july_held_paid_as_arrears_then_august_rate(
        keuangan, keuangan_b, pimpinan)
    september = services.run_compute(actor=keuangan, period=SEPTEMBER)
    by_hand(keuangan, september, arrears, "2")
    services.adjustment_add(actor=keuangan, run=september, corrects=held,
                            amount=RP("-10000"), reason="Hari aktif Juli dikoreksi")
    run, set_based, python = both_paths(monkeypatch, keuangan, SEPTEMBER)
    assert set_based == python
    assert not run.lines.filter(worker=worker, kind="sisa_tahunan").exists()


def test_a_correction_of_another_month_or_worker_is_not_the_rest(keuangan, keuangan_b, pimpinan):
    """Only a correction of the window's own payment (``corrects`` → June's line, or below
    it) counts: Rp2 added to the worker's May line, or to another TKSK's June line, leaves
    the worker's rest at Rp2."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY))
    other = tksk(reports=(D(2026, 5, 1), JUNE, JULY))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    may_line = PayoutLine.objects.get(worker=worker, component="operasional", kind="reguler",
                                      period=D(2026, 5, 1))
    by_hand(keuangan, july, may_line, "2")
    by_hand(keuangan, july, june_line(other), "2")
    july = services.run_compute(actor=keuangan, period=JULY)
    assert july.lines.get(worker=worker, kind="sisa_tahunan").gross_amount == RP("2")
    assert not july.lines.filter(worker=other, kind="sisa_tahunan").exists()


def test_a_rest_of_the_year_before_paid_by_hand_in_january_is_not_paid_in_february(
        keuangan, keuangan_b, pimpinan):
    """The year's end and the hand together, as the office would have paid November's Rp4
    while the rest was not looked for across the year: Rp3 by hand in January leaves a rest
    of 83.337 − (83.333 + 3) = Rp1; Rp1 more by hand leaves 83.337 − 83.337 = 0 — no line in
    January nor in February, and November's operasional is 83.337 in all, once."""
    leaver, november_line = year_end(keuangan, keuangan_b, pimpinan)
    january = services.run_compute(actor=keuangan, period=JAN)
    by_hand(keuangan, january, november_line, "3")
    january = services.run_compute(actor=keuangan, period=JAN)
    rest = january.lines.get(worker=leaver, kind="sisa_tahunan")
    assert rest.gross_amount == RP("1")  # 83.337 − (83.333 + 3)
    by_hand(keuangan, january, november_line, "1")
    january = services.run_compute(actor=keuangan, period=JAN)
    assert not january.lines.filter(kind="sisa_tahunan").exists()  # 83.337 − 83.337
    approve(january, verifier=keuangan_b, approver=pimpinan)
    february = services.run_compute(actor=keuangan, period=FEB)
    assert not february.lines.filter(kind="sisa_tahunan").exists()
    assert PayoutLine.objects.filter(worker=leaver, component="operasional").aggregate(
        s=Sum("gross_amount"))["s"] == NOVEMBER_OWES


@postgres_only
def test_set_based_counts_the_rest_paid_by_hand_like_python(
        monkeypatch, keuangan, keuangan_b, pimpinan):
    """Both paths alike: paid in full by hand (no line), in part (Rp1), lowered by hand (Rp2),
    paid by hand and lowered by another correction (+2 and −10.000: no line, each branch
    clamped on its own), a correction of a correction (+5 − 4 → Rp1), another month's
    correction (Rp2), none (Rp2)."""
    from tests.incentives.test_set_based import both_paths

    full, part, lowered, reopened, chained, may, plain = (
        tksk(reports=(D(2026, 5, 1), JUNE, JULY)) for _ in range(7))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    by_hand(keuangan, july, june_line(full), "2")
    by_hand(keuangan, july, june_line(part), "1")
    by_hand(keuangan, july, june_line(lowered), "-10000")
    by_hand(keuangan, july, june_line(reopened), "2")
    by_hand(keuangan, july, june_line(reopened), "-10000")
    may_line = PayoutLine.objects.get(worker=may, component="operasional", kind="reguler",
                                      period=D(2026, 5, 1))
    by_hand(keuangan, july, may_line, "2")
    # a correction of a correction needs the first in an approved run: June's +5 in July,
    # July approved, its −4 in August
    plus = by_hand(keuangan, july, june_line(chained), "5")
    approve(services.run_compute(actor=keuangan, period=JULY), verifier=keuangan_b,
            approver=pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    services.adjustment_add(actor=keuangan, run=august, corrects=plus, amount=RP("-4"),
                            reason="Koreksi penyesuaian")
    july = PayoutRun.objects.get(period=JULY)
    assert {(line.worker_id, line.gross_amount)
            for line in july.lines.filter(kind="sisa_tahunan")} == {
        (part.pk, RP("1")), (lowered.pk, RP("2")), (may.pk, RP("2")), (plain.pk, RP("2"))}
    run, set_based, python = both_paths(monkeypatch, keuangan, AUGUST)
    assert set_based == python
    assert {(line.worker_id, line.gross_amount)
            for line in run.lines.filter(kind="sisa_tahunan")} == {(chained.pk, RP("1"))}


def test_the_rest_line_explains_itself_in_indonesian(keuangan, keuangan_b, pimpinan):
    """The admin's explanation of a rest paid in part by hand: owed 83.335, paid 83.334 of
    which Rp1 by hand — under Indonesian labels, not the JSON keys."""
    from incentives.admin import explanation_table

    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    by_hand(keuangan, july, june_line(worker), "1")
    july = services.run_compute(actor=keuangan, period=JULY)
    table = explanation_table(july.lines.get(worker=worker, kind="sisa_tahunan").explanation)
    for label, amount in (("terutang sekarang", "Rp83.335"), ("sudah dibayar", "Rp83.334"),
                          ("di antaranya dengan penyesuaian", "Rp1")):
        assert f'<th scope="row">{label}</th><td>{amount}</td>' in table
    assert "paid_by_hand" not in table and "paid by hand" not in table


def test_a_correction_added_after_the_rest_was_computed_sends_the_run_to_be_recomputed(
        keuangan, keuangan_b, pimpinan):
    """July was computed with June's Rp2 rest; then Rp2 is added by hand to July as a correction
    of June's line. Verified and approved as it stood, July would pay the Rp2 twice (the rest
    and the correction): the run is stale until recomputed, and the recompute drops the rest
    (83.335 − (83.333 + 2) = 0). A verified run is sent back to ``dihitung``."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    assert july.lines.get(worker=worker, kind="sisa_tahunan").gross_amount == RP("2")
    by_hand(keuangan, july, june_line(worker), "2")
    july.refresh_from_db()
    assert july.is_stale and "2026-06" in july.stale_reason
    with pytest.raises(ValidationError) as refused:
        services.run_verify(actor=keuangan_b, run=july)
    assert "perlu dihitung ulang" in str(refused.value.message_dict["stale"])
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.is_stale
    assert not july.lines.filter(kind="sisa_tahunan").exists()
    approve(july, verifier=keuangan_b, approver=pimpinan)
    assert PayoutLine.objects.filter(worker=worker, component="operasional", period=JUNE,
                                     run__status="disetujui").aggregate(
        s=Sum("gross_amount"))["s"] == RP("83335")  # 83.333 + 2, once


def test_a_correction_after_the_rest_sends_a_verified_run_back(keuangan, keuangan_b, pimpinan):
    """The rest is in July (verified); the correction goes into another open run (August):
    July goes back to ``dihitung`` and must be recomputed."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    services.run_verify(actor=keuangan_b, run=july)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    by_hand(keuangan, august, june_line(worker), "2")
    july.refresh_from_db()
    assert (july.status, july.is_stale, july.verified_by) == ("dihitung", True, None)
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.lines.filter(worker=worker, kind="sisa_tahunan").exists()


def test_a_run_whose_correction_an_approved_rest_counted_is_not_cancelled(
        keuangan, keuangan_b, pimpinan):
    """Review of 2 December 2026: Rp1 added by hand to August (open) as a correction of June's
    line; July recomputed pays the rest 83.335 − (83.333 + 1) = Rp1 and is approved. Cancelling
    August deleted the Rp1 and left July's rest short for good (one rest per window): June
    paid 83.334. The cancel is now refused, naming the rest; the Rp1 stays."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    july = june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    by_hand(keuangan, august, june_line(worker), "1")
    july = services.run_compute(actor=keuangan, period=JULY)
    assert july.lines.get(worker=worker, kind="sisa_tahunan").gross_amount == RP("1")
    approve(july, verifier=keuangan_b, approver=pimpinan)
    with pytest.raises(ValidationError) as refused:
        services.run_cancel(actor=keuangan, run=august, reason="salah hitung")
    message = str(refused.value.message_dict["status"])
    assert "2026-06" in message and "2026-07" in message and "sisa tarif tahunan" in message
    august.refresh_from_db()
    assert august.status == "dihitung"
    approve(august, verifier=keuangan_b, approver=pimpinan)
    assert PayoutLine.objects.filter(
        worker=worker, component="operasional", period=JUNE,
        run__status="disetujui").aggregate(s=Sum("gross_amount"))["s"] == RP("83335")


def test_cancelling_a_correction_an_open_rest_counted_sends_that_run_to_be_recomputed(
        keuangan, keuangan_b, pimpinan):
    """The same, July not yet approved: August's cancel marks July stale; recomputed, its rest
    is the whole Rp2 again (83.335 − 83.333), paid once."""
    worker = tksk(reports=(D(2026, 5, 1), JUNE, JULY, AUGUST))
    june_approved_then_july_rate(keuangan, keuangan_b, pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    by_hand(keuangan, august, june_line(worker), "1")
    july = services.run_compute(actor=keuangan, period=JULY)
    services.run_cancel(actor=keuangan, run=august, reason="salah hitung")
    july.refresh_from_db()
    assert july.is_stale and "dibatalkan" in july.stale_reason
    july = services.run_compute(actor=keuangan, period=JULY)
    assert july.lines.get(worker=worker, kind="sisa_tahunan").gross_amount == RP("2")
    approve(july, verifier=keuangan_b, approver=pimpinan)
    assert PayoutLine.objects.filter(
        worker=worker, component="operasional", period=JUNE,
        run__status="disetujui").aggregate(s=Sum("gross_amount"))["s"] == RP("83335")
