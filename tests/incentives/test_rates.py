"""Rates whose unit or schedule changes, and rates entered after the months they would cover
were paid (audit): each rate pays its own days once, and a paid month never changes."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from incentives import services
from incentives.models import PayoutLine, Rate
from tests.helpers import postgres_only
from tests.incentives.factories import approve, tksk

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
JULY = D(2026, 7, 1)
MONTHS = [D(2026, m, 1) for m in range(1, 13)]


def operational(worker, year=2026):
    return PayoutLine.objects.filter(worker=worker, component="operasional", period__year=year)


def test_a_yearly_rate_replaced_by_a_monthly_one_mid_month_pays_each_for_its_days(keuangan):
    """The TKSK operational money, Rp1.000.000 a year paid monthly (83.333 a month), is paid as
    Rp100.000 a month from 16 July 2026: July pays 15 days of the yearly rate and 16 days of the
    monthly rate. It paid 535.484: the older rate's part took its *yearly* amount as a monthly
    base. The yearly rate ends there, so July's part of it is what its share of the year still
    owes: 1.000.000 × (6/12 + 15/372) = 540.322,58 → 540.323, minus January–June 6 × 83.333 =
    499.998, rest 40.325, for 15 of 31 days a base of 40.325 × 31/15 = 83.338,33 → 83.338; July
    (83.338 × 15 + 100.000 × 16) / 31 = 2.850.070/31 = 91.937,74 → 91.938 (with the plain
    part 83.333 it was 91.935 and the yearly rate Rp3 short)."""
    worker = tksk(reports=(JULY,))
    services.rate_create(actor=keuangan, role="tksk", component="operasional",
                         amount=RP("100000"), unit="per_bulan", schedule="bulanan",
                         funding_source="apbd_provinsi", valid_from=D(2026, 7, 16),
                         legal_basis="Pergub uji 2026 (operasional bulanan)")
    run = services.run_compute(actor=keuangan, period=JULY)
    line = run.lines.get(worker=worker, component="operasional")
    assert line.gross_amount == RP("91938"), line.explanation["parts"]


def test_a_yearly_rate_ending_mid_year_pays_its_share_in_its_last_month(keuangan):
    """The TKSK operational money, Rp1.000.000 a year paid monthly, is paid as Rp100.000 a
    month from 1 July 2026. June was computed before the Pergub (83.333) and is stale; computed
    again it pays the yearly rate's rest: its share 1.000.000 × 6/12 = 500.000 minus January–May
    5 × 83.333 = 416.665 gives June 83.335, so January–June sum to 500.000 (they summed to
    499.998: Rp2 never paid)."""
    worker = tksk(reports=tuple(MONTHS))
    june = services.run_compute(actor=keuangan, period=D(2026, 6, 1))
    assert june.lines.get(worker=worker, component="operasional").gross_amount == RP("83333")
    services.rate_create(actor=keuangan, role="tksk", component="operasional",
                         amount=RP("100000"), unit="per_bulan", schedule="bulanan",
                         funding_source="apbd_provinsi", valid_from=JULY,
                         legal_basis="Pergub uji 2026 (operasional bulanan)")
    june.refresh_from_db()
    assert june.is_stale
    for period in MONTHS[:7]:
        services.run_compute(actor=keuangan, period=period)
    paid = [line.gross_amount for line in operational(worker).order_by("period")]
    assert paid == [RP("83333")] * 5 + [RP("83335"), RP("100000")]
    assert sum(paid[:6]) == RP("500000")


def test_a_monthly_rate_replaced_by_a_yearly_one_mid_month_pays_each_for_its_days(keuangan):
    """The TKSK incentive Rp1.000.000 a month is replaced from 16 July 2026 by Rp12.000.000 a
    year paid monthly (1.000.000 a month): July pays (1.000.000 × 15 + 1.000.000 × 16) / 31 =
    1.000.000. It paid 556.451 (the monthly rate taken as a twelfth of its amount)."""
    worker = tksk(reports=(JULY,))
    services.rate_create(actor=keuangan, role="tksk", component="insentif",
                         amount=RP("12000000"), unit="per_tahun", schedule="bulanan",
                         funding_source="apbd_provinsi", valid_from=D(2026, 7, 16),
                         legal_basis="Pergub uji 2026 (insentif tahunan)")
    run = services.run_compute(actor=keuangan, period=JULY)
    line = run.lines.get(worker=worker, component="insentif")
    assert line.gross_amount == RP("1000000"), line.explanation["parts"]


def test_a_yearly_amount_changing_schedule_starts_with_a_year(keuangan, keuangan_b, pimpinan):
    """The operational money, Rp1.000.000 a year paid monthly, paid January–June 2026; from
    1 July a rate pays Rp2.000.000 a year once, in December. The once-a-year window is the whole
    year: December paid the January–June days again at the old rate's whole amount (the year
    2.004.108). A change of schedule is refused unless it starts at the start of both windows —
    1 January for a once-a-year amount — naming ``valid_from``; the months paid keep their
    money. From 1 January 2027 it is accepted: 2026 pays the old 1.000.000 exactly, January
    2027 the new 2.000.000."""
    worker = tksk(reports=(*MONTHS, D(2027, 1, 1)))
    for period in MONTHS[:6]:
        approve(services.run_compute(actor=keuangan, period=period), verifier=keuangan_b,
                approver=pimpinan)
    terms = {"role": "tksk", "component": "operasional", "amount": RP("2000000"),
             "unit": "per_tahun", "schedule": "sekali", "schedule_month": 1,
             "funding_source": "apbd_provinsi", "legal_basis": "Pergub uji (sekali bayar)"}
    with pytest.raises(ValidationError) as error:
        services.rate_create(actor=keuangan, valid_from=D(2026, 7, 1), **terms)
    assert "01-01-2026" in error.value.message_dict["valid_from"][0]
    services.rate_create(actor=keuangan, valid_from=D(2027, 1, 1), **terms)
    for period in [*MONTHS[6:], D(2027, 1, 1)]:
        services.run_compute(actor=keuangan, period=period)
    assert operational(worker).aggregate(s=Sum("gross_amount"))["s"] == RP("1000000")
    assert [line.gross_amount for line in operational(worker).order_by("period")][:6] == (
        [RP("83333")] * 6)
    assert operational(worker, 2027).get().gross_amount == RP("2000000")


def test_a_rate_never_starts_inside_a_month_already_verified_or_approved(
        keuangan, keuangan_b, pimpinan):
    """January–October 2026 are approved at Rp1.000.000 a year (83.333 a month); in November a
    Pergub raising it to Rp2.000.000 from 1 July was accepted back-dated: December's last part
    subtracted what the months would have paid at the new table, not what they paid (the year
    1.166.668: neither 1.000.000 nor 1.500.000). Refused now, naming ``valid_from``; the paid
    months keep their money. A rate from 1 November (not yet verified) is accepted, and
    December pays what the year still owes: 10/12 × 1.000.000 + 2/12 × 2.000.000 = 1.166.667
    in all."""
    worker = tksk(reports=tuple(MONTHS))
    for period in MONTHS[:10]:
        approve(services.run_compute(actor=keuangan, period=period), verifier=keuangan_b,
                approver=pimpinan)
    terms = {"role": "tksk", "component": "operasional", "amount": RP("2000000"),
             "unit": "per_tahun", "schedule": "bulanan", "funding_source": "apbd_provinsi",
             "legal_basis": "Pergub uji 2026"}
    with pytest.raises(ValidationError) as error:
        services.rate_create(actor=keuangan, valid_from=D(2026, 7, 1), **terms)
    assert "10-2026" in error.value.message_dict["valid_from"][0]
    with pytest.raises(ValidationError):
        services.rate_create(actor=keuangan, valid_from=D(2026, 10, 31), **terms)
    services.rate_create(actor=keuangan, valid_from=D(2026, 11, 1), **terms)
    for period in MONTHS[10:]:
        services.run_compute(actor=keuangan, period=period)
    paid = [line.gross_amount for line in operational(worker).order_by("period")]
    assert paid[:10] == [RP("83333")] * 10
    assert paid[10:] == [RP("166666"), RP("166671")]
    assert sum(paid) == RP("1166667")


def test_a_once_a_year_amount_pays_each_rate_of_the_year_for_its_days(
        keuangan, keuangan_b, pimpinan):
    """Rp1.200.000 a year paid once in March from 1 January 2026, and a Pergub of Rp2.400.000
    from 1 July 2026 entered before March is computed. The March window is the year and March
    pays the year's days the assignment covers, after March too: (1.200.000 × 181 + 2.400.000 ×
    184) / 365 = 658.800.000/365 = 1.804.931,51 → 1.804.932. It paid 1.200.000 × 181/365 =
    595.068: the July rate, starting after the paying month, was left out of the run and its
    184 days of 2026 were paid by nobody. Once March is approved, a rate inside its window (the
    year) is refused on ``valid_from``."""
    worker = tksk(reports=())
    terms = {"role": "tksk", "component": "operasional", "unit": "per_tahun",
             "schedule": "sekali", "schedule_month": 3, "funding_source": "apbd_provinsi",
             "legal_basis": "Pergub uji sekali bayar"}
    services.rate_create(actor=keuangan, amount=RP("1200000"), valid_from=D(2026, 1, 1), **terms)
    services.rate_create(actor=keuangan, amount=RP("2400000"), valid_from=JULY, **terms)
    march = services.run_compute(actor=keuangan, period=D(2026, 3, 1))
    line = march.lines.get(worker=worker, component="operasional")
    assert line.gross_amount == RP("1804932"), line.explanation["parts"]
    assert [(p["from"], p["to"], p["days"]) for p in line.explanation["parts"]] == [
        ("2026-01-01", "2026-06-30", 181), ("2026-07-01", "2026-12-31", 184)]
    approve(march, verifier=keuangan_b, approver=pimpinan)
    with pytest.raises(ValidationError) as error:
        services.rate_create(actor=keuangan, amount=RP("3000000"), valid_from=D(2026, 10, 1),
                             **terms)
    assert "03-2026" in error.value.message_dict["valid_from"][0]


@postgres_only
def test_the_database_refuses_overlapping_rates_written_past_the_service(keuangan):
    """The seeded TKSK incentive (Rp1.000.000 a month from 1 January 2015, open-ended): a raw
    write that bypasses ``rate_create`` (shell, script, data migration) with another rate of
    the same role × component × funding source in force on some of its days is refused by the
    database, whether it starts later, ends inside it or covers a single day; another funding
    source, or a rate after the old one was closed, is accepted."""
    terms = {"role": "tksk", "component": "insentif", "unit": "per_bulan", "schedule": "bulanan",
             "funding_source": "apbd_provinsi", "legal_basis": "tulis langsung"}
    for valid_from, valid_to in ((D(2026, 7, 1), None), (D(2014, 1, 1), D(2015, 1, 1)),
                                 (D(2020, 5, 5), D(2020, 5, 5))):
        with pytest.raises(IntegrityError, match="incentives_rate_no_overlap"), \
                transaction.atomic():
            Rate.objects.create(amount=RP("1"), valid_from=valid_from, valid_to=valid_to,
                                **terms)
    Rate.objects.create(amount=RP("1"), valid_from=D(2026, 7, 1),
                        **{**terms, "funding_source": "apbn"})
    Rate.objects.filter(role="tksk", component="insentif", funding_source="apbd_provinsi",
                        valid_to__isnull=True).update(valid_to=D(2026, 6, 30))
    Rate.objects.create(amount=RP("1"), valid_from=D(2026, 7, 1), **terms)
    # the service refuses the same on every database, naming the field
    with pytest.raises(ValidationError) as error:
        services.rate_create(actor=keuangan, amount=RP("2"), valid_from=D(2026, 7, 1), **terms)
    assert "valid_from" in error.value.message_dict
