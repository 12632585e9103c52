"""Review of the Jamsosratu money fixes (0473c07..288447b): doors that bypass the new rules."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from jamsosratu import banking, services
from jamsosratu.models import Cycle, Payment
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.jamsosratu.factories import enrol, household

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def _fail(actor, payment):
    banking.transfer_file(payment.tranche)  # handed to the bank
    result = (f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
              f"{payment.pk},{payment.account_number},875000,gagal,,,Rekening tidak aktif\n")
    banking.bank_result_import(actor=actor, tranche=payment.tranche,
                               fileobj=io.BytesIO(result.encode()), filename="hasil.csv")
    payment.refresh_from_db()
    assert payment.status == "gagal"


def test_reschedule_does_not_take_the_cycle_over_its_pagu_without_pimpinan(
        cycle, province_operator):
    """Expected: a failed payment put back to ``dijadwalkan`` (payment_reschedule) is asked
    against the pagu like the list (``_check_pagu``) — refused with ``budget_ceiling`` unless
    Pimpinan recorded a reason. Now: the failed payment left the pagu's use (only dijadwalkan/
    disalurkan count), tahap 2 used the room it freed, and the reschedule puts the cycle
    Rp875.000 over its pagu with nobody deciding."""
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(2625000))
    cycle.refresh_from_db()
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)  # 1.750.000
    failed = Payment.objects.filter(tranche=first).first()
    _fail(province_operator, failed)  # 875.000 in use
    services.payments_generate(tranche=cycle.tranches.get(number=2))  # 2.625.000 = pagu
    with pytest.raises(ValidationError) as refused:
        services.payment_reschedule(actor=province_operator, payment=failed)
    assert "budget_ceiling" in refused.value.message_dict
    used = Payment.objects.filter(tranche__cycle=cycle, status__in=(
        "dijadwalkan", "disalurkan")).aggregate(s=Sum("amount"))["s"]
    assert used <= cycle.budget_ceiling


def test_a_channel_change_reaches_the_scheduled_unsent_payments(cycle, province_operator):
    """Expected: the household moves from Bank Banten to PT Pos (account cleared) after the
    list was made and before the file: its scheduled unsent payment follows the enrolment's
    channel (not in the Bank Banten file) — as ``payment_reschedule`` copies channel and
    account. Now: ``enrolment_update`` copies only ``account_number`` to the payments, so the
    payment stays channel ``bank_banten`` with an EMPTY account and goes to the bank file as
    a transfer of Rp875.000 to no account."""
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    services.enrolment_update(actor=province_operator, enrolment=enrolment, channel="pos",
                              account_number="")
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    text, count, _total = banking.transfer_file(first)
    assert (payment.channel, count) == ("pos", 0), text


def test_a_head_request_of_the_bank_file_does_not_mark_payments_sent(
        cycle, province_operator, api_as):
    """Expected: only a handed-out file (GET) marks its payments sent; a HEAD request
    (a link checker, a download manager's probe, a browser preflight of the link) hands out
    nothing, so the payment stays unsent — an exclusion still suspends it and a corrected
    account still reaches it. Now: DRF (and Django's View) route HEAD to the GET handler,
    ``transfer_download`` runs and stamps ``sent_at`` on every scheduled payment of the tahap."""
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    response = api_as(province_operator).head(
        "/api/v1/jamsosratu/cycles/2026/tranches/1/bank-file/")
    assert response.status_code in (200, 405)
    assert Payment.objects.get(enrolment=enrolment, tranche=first).sent_at is None

