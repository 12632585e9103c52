"""The review of the payout-rate changes (findings 3 and 4): a yearly rate ended by a rate of
another pace after its last month was verified or approved.

- 3: January–June approved at 83.333, then Rp100.000/month from 1 July: the yearly rate now
  ends alone in June and owed its rest (83.335) there, but June never changes — the Rp2 is paid
  once, as a ``sisa_tahunan`` line, in the next run computed;
- 4: a verified (not approved) June whose amounts the new rate changes goes back to
  ``dihitung``, marked stale, and is recomputed and verified again — never approved at the
  amounts of the old rate."""

import datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from incentives import services
from incentives.models import PayoutLine, PayoutRun
from tests.incentives.factories import approve, tksk

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
JULY, AUGUST = D(2026, 7, 1), D(2026, 8, 1)
MONTHS = [D(2026, m, 1) for m in range(1, 13)]
MONTHLY_FROM_JULY = {"role": "tksk", "component": "operasional", "amount": RP("100000"),
                     "unit": "per_bulan", "schedule": "bulanan",
                     "funding_source": "apbd_provinsi", "valid_from": JULY,
                     "legal_basis": "Pergub uji 2026 (operasional bulanan)"}


def operasional(worker, **filters):
    return (PayoutLine.objects.filter(worker=worker, component="operasional", **filters)
            .aggregate(s=Sum("gross_amount"))["s"])


def first_half_approved(keuangan, keuangan_b, pimpinan):
    for period in MONTHS[:6]:  # January–June computed, verified and approved at 83.333
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)


# --- finding 3 ---------------------------------------------------------------------------------

def test_a_yearly_rate_ended_after_its_last_month_was_verified_still_pays_its_share(
        keuangan, keuangan_b, pimpinan):
    """The yearly rate's months sum to its share also when the monthly rate that ends it is
    entered after its last month was approved (June paid, then July's Pergub)."""
    worker = tksk(reports=tuple(MONTHS))
    first_half_approved(keuangan, keuangan_b, pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    services.run_compute(actor=keuangan, period=JULY)
    # the yearly rate's half of the year (1.000.000 × 181/365 … its six months: 500.000) and
    # July's monthly 100.000; June's approved 83.333 stays, the Rp2 comes in July
    assert operasional(worker, period__year=2026, period__lte=JULY) == RP("600000")


def test_the_rest_is_a_line_of_its_own_paid_once_across_recomputes_and_months(
        keuangan, keuangan_b, pimpinan):
    """The Rp2 is one ``sisa_tahunan`` line of the July run for June (5 × 83.333 + 83.335 =
    500.000, the yearly rate's half year), explained; July recomputed keeps one; August, with
    July approved, does not pay it again."""
    worker = tksk(reports=tuple(MONTHS))
    first_half_approved(keuangan, keuangan_b, pimpinan)
    june = PayoutRun.objects.get(period=MONTHS[5])
    june_line = june.lines.get(worker=worker, component="operasional")
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    july = services.run_compute(actor=keuangan, period=JULY)
    july = services.run_compute(actor=keuangan, period=JULY)  # a recompute: still one
    rest = july.lines.get(worker=worker, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.net_amount, rest.period, rest.status) == (
        RP("2"), RP("2"), MONTHS[5], "dibayarkan")
    assert rest.explanation["owed"] == "83335" and rest.explanation["paid"] == "83333"
    assert rest.explanation["remainder_of"] == june_line.pk
    assert "sisa tarif tahunan" in rest.note.lower() and "2026-06" in rest.note
    assert july.lines.get(worker=worker, kind="reguler",
                          component="operasional").gross_amount == RP("100000")
    approve(july, verifier=keuangan_b, approver=pimpinan)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    assert not august.lines.filter(kind="sisa_tahunan").exists()
    assert operasional(worker, period__year=2026, period__lte=AUGUST) == RP("700000")
    june.refresh_from_db()
    assert june_line.gross_amount == june.lines.get(pk=june_line.pk).gross_amount  # untouched


def test_a_june_computed_after_the_rate_pays_the_rest_itself_and_no_line_follows(
        keuangan, keuangan_b, pimpinan):
    """The order the rule was written for: the rate entered before June is computed — June
    pays 83.335 and July has no ``sisa_tahunan`` line."""
    worker = tksk(reports=tuple(MONTHS))
    for period in MONTHS[:5]:
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    approve(services.run_compute(actor=keuangan, period=MONTHS[5]),
            verifier=keuangan_b, approver=pimpinan)
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.lines.filter(kind="sisa_tahunan").exists()
    assert operasional(worker, period__year=2026, period__lte=JULY) == RP("600000")


def test_the_database_refuses_a_second_rest_line_for_one_window(
        keuangan, keuangan_b, pimpinan):
    worker = tksk(reports=tuple(MONTHS))
    first_half_approved(keuangan, keuangan_b, pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    july = services.run_compute(actor=keuangan, period=JULY)
    rest = july.lines.get(worker=worker, kind="sisa_tahunan")
    rest.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        rest.save()


# --- finding 4 ---------------------------------------------------------------------------------

def test_a_verified_run_whose_amounts_a_new_rate_changes_is_not_approved_unseen(
        keuangan, keuangan_b, pimpinan):
    """A rate that changes what a verified run would pay is refused, or the run is marked
    stale (recomputed before approval) — never approved at amounts a recompute would not give."""
    worker = tksk(reports=tuple(MONTHS))
    june = services.run_verify(actor=keuangan_b,
                               run=services.run_compute(actor=keuangan, period=MONTHS[5]))
    assert june.lines.get(worker=worker, component="operasional").gross_amount == RP("83333")
    try:
        services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    except ValidationError:
        return  # refused: June keeps its amounts and the yearly rate its December
    june.refresh_from_db()
    # the yearly rate now ends alone in June, whose recompute pays its rest (83.335)
    assert june.is_stale


def test_the_verified_run_goes_back_to_computed_is_recomputed_and_verified_again(
        keuangan, keuangan_b, pimpinan):
    """Verified June, then July's monthly rate: June is back at ``dihitung`` (verification
    cleared, an audit entry saying why), approving it is refused, verifying it is refused until
    the normal door recomputes it at 83.335; then verified and approved — and July has no
    ``sisa_tahunan`` line, June paid the rest itself."""
    worker = tksk(reports=tuple(MONTHS))
    for period in MONTHS[:5]:
        approve(services.run_compute(actor=keuangan, period=period),
                verifier=keuangan_b, approver=pimpinan)
    june = services.run_verify(actor=keuangan_b,
                               run=services.run_compute(actor=keuangan, period=MONTHS[5]))
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    june.refresh_from_db()
    assert (june.status, june.verified_by_id, june.verified_at) == ("dihitung", None, None)
    assert june.is_stale and "1 Juli 2026" in june.stale_reason
    entry = LogEntry.objects.get_for_object(june).order_by("-pk").first()
    assert entry.additional_data["sent_back"]["verified_by"] == keuangan_b.pk
    assert entry.actor_id == keuangan.pk
    with pytest.raises(ValidationError):
        services.run_approve(actor=pimpinan, run=june)
    with pytest.raises(ValidationError) as error:
        services.run_verify(actor=keuangan_b, run=june)
    assert "Hitung ulang" in error.value.message_dict["stale"][0]
    june = services.run_compute(actor=keuangan, period=MONTHS[5])
    assert june.lines.get(worker=worker, component="operasional").gross_amount == RP("83335")
    approve(june, verifier=keuangan_b, approver=pimpinan)
    july = services.run_compute(actor=keuangan, period=JULY)
    assert not july.lines.filter(kind="sisa_tahunan").exists()
    assert operasional(worker, period__year=2026, period__lte=JULY) == RP("600000")


def test_a_held_rest_is_paid_as_arrears_once_the_account_is_verified(
        keuangan, keuangan_b, pimpinan):
    """No verified account: June's 83.333 was held and the July rest (Rp2) is held too; once
    the account is verified, August pays both as arrears — 500.000 for the half year."""
    from tests.incentives.factories import verified_account

    worker = tksk(account=False, reports=tuple(MONTHS))
    first_half_approved(keuangan, keuangan_b, pimpinan)
    services.rate_create(actor=keuangan, **MONTHLY_FROM_JULY)
    july = services.run_compute(actor=keuangan, period=JULY)
    rest = july.lines.get(worker=worker, kind="sisa_tahunan")
    assert (rest.gross_amount, rest.status, rest.hold_reason) == (
        RP("2"), "ditahan", "tanpa_rekening")
    approve(july, verifier=keuangan_b, approver=pimpinan)
    verified_account(worker)
    august = services.run_compute(actor=keuangan, period=AUGUST)
    arrears = august.lines.get(worker=worker, kind="rapel", arrears_of=rest)
    assert arrears.gross_amount == RP("2")
    assert not august.lines.filter(kind="sisa_tahunan").exists()
    yearly = PayoutLine.objects.filter(worker=worker, component="operasional",
                                       period__lte=MONTHS[5], kind__in=("rapel",))
    assert yearly.aggregate(s=Sum("gross_amount"))["s"] == RP("500000")
