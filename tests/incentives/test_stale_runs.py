"""A run computed but not yet verified, then a rate that changes its amounts: the run is marked
stale (API, run page, admin) and is neither verified nor approved until it is recomputed —
finance verified, and the head of office approved, amounts of the old rate. A rate that does not
change a run's amounts leaves it alone; a rate starting inside a verified or approved month is
refused (a verified run that a rate changes otherwise goes back to dihitung, stale:
test_rates_review.py)."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incentives import services
from incentives.models import PayoutRun
from tests.incentives.factories import tksk

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
OCT, NOV = D(2026, 10, 1), D(2026, 11, 1)
INSENTIF = {"role": "tksk", "component": "insentif", "unit": "per_bulan", "schedule": "bulanan",
            "funding_source": "apbd_provinsi", "requires_report": True}


def raise_incentive(actor, valid_from, amount="1500000"):
    return services.rate_create(actor=actor, amount=RP(amount), valid_from=valid_from,
                                legal_basis="Pergub uji kenaikan insentif", **INSENTIF)


def insentif(run, worker):
    return run.lines.get(worker=worker, component="insentif").gross_amount


def test_a_run_computed_before_a_rate_is_recomputed_before_it_is_verified(
        keuangan, keuangan_b, pimpinan):
    """November 2026 computed at Rp1.000.000 a month; then a Pergub pays Rp1.500.000 from 16
    November. Verifying it paid 1.000.000: refused now, naming the rate, until the month is
    recomputed: 15/30 × 1.000.000 + 15/30 × 1.500.000 = 500.000 + 750.000 = Rp1.250.000."""
    worker = tksk(reports=(NOV,))
    run = services.run_compute(actor=keuangan, period=NOV)
    assert insentif(run, worker) == RP("1000000")
    raise_incentive(keuangan, D(2026, 11, 16))
    with pytest.raises(ValidationError) as error:
        services.run_verify(actor=keuangan_b, run=run)
    message = error.value.message_dict["stale"][0]
    assert "2026-11" in message and "perlu dihitung ulang: tarif" in message
    assert "Hitung ulang" in message
    assert "16 November 2026" in message and "Rp1.500.000" in message
    run.refresh_from_db()
    assert run.status == "dihitung" and run.is_stale

    run = services.run_compute(actor=keuangan, period=NOV)
    assert not run.is_stale and run.stale_reason == ""
    assert insentif(run, worker) == RP("1250000")
    run = services.run_verify(actor=keuangan_b, run=run)
    assert services.run_approve(actor=pimpinan, run=run).status == "disetujui"


def test_only_the_runs_whose_amounts_change_are_marked(keuangan):
    """October and November computed; a rate from 16 November changes November only (October's
    month is outside it), and a rate of another component changes nothing of the incentive."""
    tksk(reports=(OCT, NOV))
    october = services.run_compute(actor=keuangan, period=OCT)
    november = services.run_compute(actor=keuangan, period=NOV)
    raise_incentive(keuangan, D(2026, 11, 16))
    october.refresh_from_db(), november.refresh_from_db()
    assert (october.is_stale, november.is_stale) == (False, True)
    assert "Rp1.500.000" in november.stale_reason


def test_a_rate_after_the_month_that_changes_a_once_a_year_amount_marks_it(keuangan):
    """The operational money is Rp1.200.000 a year paid once, in March (from 1 January 2026);
    March 2026 is computed: 1.200.000 × 365/365. A rate of Rp2.400.000 from 1 July 2026 closes
    it on 30 June; the March window is the year, so March pays each rate for its days:
    (1.200.000 × 181 + 2.400.000 × 184) / 365 = 658.800.000/365 = 1.804.931,51 → Rp1.804.932.
    The rate starts after March, yet March is stale."""
    worker = tksk(reports=())
    terms = {"role": "tksk", "component": "operasional", "unit": "per_tahun",
             "schedule": "sekali", "schedule_month": 3, "funding_source": "apbd_provinsi",
             "legal_basis": "Pergub uji sekali bayar"}
    services.rate_create(actor=keuangan, amount=RP("1200000"), valid_from=D(2026, 1, 1), **terms)
    march = services.run_compute(actor=keuangan, period=D(2026, 3, 1))
    assert march.lines.get(worker=worker, component="operasional").gross_amount == RP("1200000")
    services.rate_create(actor=keuangan, amount=RP("2400000"), valid_from=D(2026, 7, 1), **terms)
    march.refresh_from_db()
    assert march.is_stale
    march = services.run_compute(actor=keuangan, period=D(2026, 3, 1))
    assert march.lines.get(worker=worker, component="operasional").gross_amount == RP("1804932")


def test_a_verified_run_refuses_a_rate_inside_its_month(keuangan, keuangan_b):
    """Verified (not yet approved) November: a rate from 16 November is refused on
    ``valid_from`` naming the month; the verified run is never stale."""
    tksk(reports=(NOV,))
    run = services.run_verify(actor=keuangan_b,
                              run=services.run_compute(actor=keuangan, period=NOV))
    with pytest.raises(ValidationError) as error:
        raise_incentive(keuangan, D(2026, 11, 16))
    assert "11-2026" in error.value.message_dict["valid_from"][0]
    run.refresh_from_db()
    assert not run.is_stale


def test_the_api_and_the_run_page_show_a_stale_run_and_refuse_its_verification(
        api_as, client, keuangan, keuangan_b):
    tksk(reports=(NOV,))
    run = services.run_compute(actor=keuangan, period=NOV)
    body = {"amount": "1500000", "valid_from": "2026-11-16", "legal_basis": "Pergub uji",
            **INSENTIF}
    assert api_as(keuangan).post("/api/v1/incentives/rates/", body,
                                 format="json").status_code == 201
    checker = api_as(keuangan_b)
    got = checker.get(f"/api/v1/incentives/runs/{run.pk}/").json()
    assert got["stale"] is True and got["stale_since"]
    assert "16 November 2026" in got["stale_reason"]
    refused = checker.post(f"/api/v1/incentives/runs/{run.pk}/verify/")
    assert refused.status_code == 400
    assert "Hitung ulang" in refused.json()["errors"]["stale"][0]

    client.force_login(keuangan_b)
    page = client.get(reverse("incentives:run-detail", args=[run.pk])).content.decode()
    assert 'data-testid="run-stale"' in page and "16 November 2026" in page
    assert reverse("incentives:run-action", args=[run.pk, "verifikasi"]) not in page
    assert "hitung ulang bulan ini" in page
    listing = client.get(reverse("incentives:run-list")).content.decode()
    assert "hitung ulang: tarif berubah" in listing
    assert PayoutRun.objects.get(pk=run.pk).status == "dihitung"
