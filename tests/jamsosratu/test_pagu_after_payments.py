"""The cycle's pagu once payments exist: it may be raised (or removed), never lowered below
what the cycle has committed — its scheduled and paid payments, the use ``_check_pagu``
counts (a failed or suspended payment is not in it). Before, the admin saved any pagu: a pagu
below the money already scheduled made every later list and reschedule refused while the
cycle stood over its own pagu with nobody having decided it."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.test import Client

from dinsos import roles
from jamsosratu import banking, services
from jamsosratu.models import Cycle, Payment
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.jamsosratu.factories import enrol, household
from tests.jamsosratu.test_admin import _FormFields

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(db, province_operator):
    """Tahap 1 made for two households (Rp1.750.000); one transfer failed: Rp875.000 is
    committed (scheduled), the failed Rp875.000 is not. Pagu Rp3.500.000."""
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"))
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(3500000))
    cycle.refresh_from_db()
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    banking.transfer_file(cycle.tranches.get(number=1))  # handed to the bank
    failed = Payment.objects.order_by("pk").first()
    banking.bank_result_import(
        actor=province_operator, tranche=failed.tranche, filename="hasil.csv",
        fileobj=io.BytesIO(f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
                           f"{failed.pk},{failed.account_number},875000,gagal,,,Ditutup\n"
                           .encode()))
    assert Payment.objects.get(pk=failed.pk).status == "gagal"
    return cycle


@pytest.mark.parametrize("pagu", ["875000", "875001", "1000000000", None])
def test_the_pagu_may_stay_at_or_above_what_is_committed(cycle, pagu):
    services.cycle_terms_check(cycle=cycle, budget_ceiling=None if pagu is None
                               else Decimal(pagu))


def test_the_pagu_is_not_lowered_below_what_is_committed(cycle):
    with pytest.raises(ValidationError) as refused:
        services.cycle_terms_check(cycle=cycle, budget_ceiling=Decimal(874999))
    assert refused.value.message_dict["budget_ceiling"] == [
        "Pagu tidak dapat diturunkan menjadi Rp874.999: penyaluran siklus 2026 yang sudah "
        "dijadwalkan atau disalurkan berjumlah Rp875.000 (penyaluran gagal atau ditangguhkan "
        "tidak dihitung)."]


def test_a_pagu_raised_while_pimpinan_keeps_the_use_above_it_is_accepted(province_operator,
                                                                         make_user):
    """Pimpinan let tahap 2 take the cycle to Rp3.500.000 over a Rp1.750.000 pagu; the APBD-P
    raises the pagu to Rp3.000.000, still below the use. A raise is accepted (review of
    2 December 2026: refused as "cannot be lowered to Rp3.000.000"); only a pagu below both
    the current one and what is committed is refused."""
    cycle = cycle_with_tranches(2027, "1750000", ("1", "1"))
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(1750000))
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    second = cycle.tranches.get(number=2)
    services.tranche_over_budget_allow(actor=make_user(roles.PIMPINAN), tranche=second,
                                       reason="Tambahan sasaran, Pergub perubahan")
    services.payments_generate(tranche=second)
    cycle = Cycle.objects.get(pk=cycle.pk)
    assert Payment.objects.filter(tranche__cycle=cycle).aggregate(
        total=Sum("amount"))["total"] == Decimal(3500000)
    for pagu in ("3000000", "1750000", "3500000"):  # raised, kept, raised to the use
        services.cycle_terms_check(cycle=cycle, budget_ceiling=Decimal(pagu))
    with pytest.raises(ValidationError) as refused:  # lowered, and below the use
        services.cycle_terms_check(cycle=cycle, budget_ceiling=Decimal(1749999))
    assert refused.value.message_dict["budget_ceiling"][0].startswith(
        "Pagu tidak dapat diturunkan menjadi Rp1.749.999: penyaluran siklus 2027 yang sudah "
        "dijadwalkan atau disalurkan berjumlah Rp3.500.000")


def _change_form(client, cycle) -> tuple[str, dict]:
    url = f"/admin/jamsosratu/cycle/{cycle.pk}/change/"
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    data = {k: v for k, v in parser.values.items() if "__prefix__" not in k}
    data["qualifying_conditions"] = cycle.qualifying_conditions
    return url, data


def test_the_admin_refuses_a_pagu_below_the_committed_amount_and_takes_a_higher_one(
        cycle, make_user):
    client = Client()
    client.force_login(make_user(roles.ADMIN))
    url, data = _change_form(client, cycle)
    response = client.post(url, {**data, "budget_ceiling": "500000"})
    assert response.status_code == 200
    assert ("Pagu tidak dapat diturunkan menjadi Rp500.000: penyaluran siklus 2026 yang sudah "
            "dijadwalkan atau disalurkan berjumlah Rp875.000") in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.budget_ceiling == Decimal(3500000)

    assert client.post(url, {**data, "budget_ceiling": "875000"}).status_code == 302
    cycle.refresh_from_db()
    assert cycle.budget_ceiling == Decimal(875000)  # exactly the committed amount: lowered
    assert client.post(url, {**data, "budget_ceiling": "5000000"}).status_code == 302
    cycle.refresh_from_db()
    assert cycle.budget_ceiling == Decimal(5000000)


def test_the_api_has_no_door_to_change_a_cycle(cycle, province_operator, api_as, make_user):
    for user in (province_operator, make_user(roles.ADMIN)):
        answer = api_as(user).patch("/api/v1/jamsosratu/cycles/2026/",
                                    {"budget_ceiling": "1"}, format="json")
        assert answer.status_code == 405
    cycle.refresh_from_db()
    assert cycle.budget_ceiling == Decimal(3500000)


def test_the_admin_takes_the_pagu_as_indonesians_write_it(cycle, make_user):
    """The admin's money inputs are the staff pages' RupiahField (the helper of the pagu
    doors found "500.000" refused as "more than 2 decimal places"): the form shows the pagu
    as 3.500.000 and takes 5.000.000.000 or Rp 6.000.000,00; 1.5 is refused, not rounded."""
    client = Client()
    client.force_login(make_user(roles.ADMIN))
    url, data = _change_form(client, cycle)
    assert data["budget_ceiling"] == "3.500.000"
    assert data["benefit_amount"] == "1.750.000"
    assert client.post(url, {**data, "budget_ceiling": "5.000.000.000"}).status_code == 302
    cycle.refresh_from_db()
    assert (cycle.budget_ceiling, cycle.benefit_amount) == (Decimal(5000000000),
                                                            Decimal(1750000))
    assert client.post(url, {**data, "budget_ceiling": "Rp 6.000.000,00"}).status_code == 302
    cycle.refresh_from_db()
    assert cycle.budget_ceiling == Decimal(6000000)
    refused = client.post(url, {**data, "budget_ceiling": "1.5"})
    assert refused.status_code == 200
    cycle.refresh_from_db()
    assert cycle.budget_ceiling == Decimal(6000000)
