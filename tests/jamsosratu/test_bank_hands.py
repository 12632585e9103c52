"""A payment in the bank's hands (handed out in a transfer file, ``Payment.sent_at``) is never
handed out again, is settled by the bank's result, and an old result cannot undo what was done
since. Found by the report-only audit of 2 December 2026 (a failing test each): a second
download, or the file made after a jadwalkan ulang, carried every payment still waiting for
its result again (a double transfer); an old result file uploaded again failed a rescheduled
transfer once more; a district could mark a transfer in the bank's hands failed by hand, after
which the province could send it again."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jamsosratu import banking, services
from jamsosratu.models import Payment
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.helpers import postgres_only
from tests.jamsosratu.factories import account_checker, enrol, household
from tests.races import Held, Thread, wait_for_lock_waiter


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def _result(actor, tranche, lines):
    text = "id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n" + "".join(
        f"{p.pk},{p.account_number},875000,{status},,,{note}\n" for p, status, note in lines)
    return banking.bank_result_import(actor=actor, tranche=tranche, filename="hasil.csv",
                                      fileobj=io.BytesIO(text.encode()))


@pytest.mark.django_db
def test_the_file_after_a_reschedule_carries_only_what_was_not_sent(cycle, province_operator):
    a = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    b = enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    assert banking.transfer_file(first)[1:] == (2, Decimal(1750000))  # both in the bank's hands
    pay_a = Payment.objects.get(enrolment=a, tranche=first)
    # the bank reports A failed (closed account); B's result has not come yet
    _result(province_operator, first, [(pay_a, "gagal", "Rekening ditutup")])
    services.enrolment_update(actor=province_operator, enrolment=a,
                              account_number="0098765432101")
    services.enrolment_account_verify(actor=account_checker(), enrolment=a)
    services.payment_reschedule(actor=province_operator, payment=pay_a)
    text, count, total = banking.transfer_file(first)
    sent_again = [line.split(",")[0] for line in text.splitlines()[1:-1]]
    # A's second transfer only: B, already in the bank's hands, is not transferred twice
    assert sent_again == [f"{pay_a.pk}-2"]
    assert Payment.objects.get(enrolment=b, tranche=first).status == "dijadwalkan"
    assert (count, total) == (1, Decimal(875000))
    assert [d["count"] for d in banking.dispatches(first)] == [1, 1]  # B's kiriman, A's


@pytest.mark.django_db
def test_a_second_download_hands_out_nothing_again(cycle, province_operator, api_as):
    enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    url = "/api/v1/jamsosratu/cycles/2026/tranches/1/bank-file/"
    client = api_as(province_operator)
    assert client.get(url)["X-Control-Count"] == "1"
    assert client.get(url)["X-Control-Count"] == "0"


@pytest.mark.django_db
def test_a_district_does_not_mark_failed_a_transfer_in_the_banks_hands(
        cycle, province_operator, pandeglang_operator, api_as):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    banking.transfer_file(first)
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    assert payment.sent_at is not None
    with pytest.raises(ValidationError) as refused:
        services.payment_mark(actor=pandeglang_operator, payment=payment, status="gagal",
                              failure_reason="Tidak diambil")
    assert "hasil bank" in refused.value.message_dict["status"][0]
    response = api_as(pandeglang_operator).post(
        f"/api/v1/jamsosratu/payments/{payment.pk}/mark/",
        {"status": "gagal", "failure_reason": "Tidak diambil"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"
    # the province, which holds the bank's answer, still may (a letter from the bank)
    services.payment_mark(actor=province_operator, payment=payment, status="gagal",
                          failure_reason="Surat Bank Banten: rekening pasif")
    assert Payment.objects.get(pk=payment.pk).status == "gagal"


@pytest.mark.django_db
def test_the_same_bank_result_again_does_not_undo_a_reschedule(cycle, province_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    banking.transfer_file(first)  # kiriman 1
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    old_result = [(payment, "gagal", "Gangguan sistem")]
    _result(province_operator, first, old_result)
    services.payment_reschedule(actor=province_operator, payment=payment)  # same account
    report = _result(province_operator, first, old_result)  # the old file, uploaded again
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"
    assert report.totals() == {"rows": 1, "accepted": 1, "rejected": 0, "sudah_tercatat": 1}

    # review of 2 December: once sent again (kiriman 2), the old file must not fail it either
    text, count, _total = banking.transfer_file(first)
    assert count == 1 and text.splitlines()[1].startswith(f"{payment.pk}-2,")
    report = _result(province_operator, first, old_result)
    assert report.totals() == {"rows": 1, "accepted": 1, "rejected": 0, "sudah_tercatat": 1}
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"
    # the bank's answer to kiriman 2 echoes its line id and settles it
    line = (f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
            f"{payment.pk}-2,{payment.account_number},875000,berhasil,BB-9,2026-06-20,\n")
    banking.bank_result_import(actor=province_operator, tranche=first, filename="h2.csv",
                               fileobj=io.BytesIO(line.encode()))
    assert Payment.objects.get(pk=payment.pk).status == "disalurkan"
    for unknown in (f"{payment.pk}-3", f"{payment.pk}-0", f"{payment.pk}-x"):
        bad = line.replace(f"{payment.pk}-2,", f"{unknown},").replace("BB-9", "BB-10")
        report = banking.bank_result_import(actor=province_operator, tranche=first,
                                            filename="h3.csv", fileobj=io.BytesIO(bad.encode()))
        assert [e["column"] for e in report.errors] == ["id_penyaluran"], unknown


@pytest.mark.django_db
def test_a_result_for_a_payment_never_handed_out_is_refused(cycle, province_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    report = _result(province_operator, first, [(payment, "gagal", "Rekening ditutup")])
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"
    assert [e["column"] for e in report.errors] == ["id_penyaluran"]
    assert "belum dikirim ke bank" in report.errors[0]["message"]


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_users_downloading_at_once_get_files_with_no_line_in_common(cycle,
                                                                         province_operator):
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)

    held = Held(lambda: banking.transfer_file(first)).start()  # marked, not yet committed
    other = Thread(lambda: banking.transfer_file(first), name="second download").start()
    wait_for_lock_waiter(other)
    held.release()
    other.join()
    assert other.error is None, other.error
    assert held.result[1] == 2
    assert other.result[1:] == (0, Decimal(0))


@pytest.mark.django_db
def test_the_banks_success_for_an_earlier_attempt_is_put_before_the_officer(
        cycle, province_operator):
    """A transfer the province marked failed by hand (a letter from the bank) and sent again:
    the bank's later result says the FIRST attempt was paid after all. Counted as "already
    recorded" it hid a household paid twice; it is refused on its line, naming both attempts."""
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    banking.transfer_file(first)
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    services.payment_mark(actor=province_operator, payment=payment, status="gagal",
                          failure_reason="Surat Bank Banten: rekening pasif")
    services.payment_reschedule(actor=province_operator, payment=payment)
    banking.transfer_file(first)  # attempt 2 in the bank's hands
    line = (f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
            f"{payment.pk},{payment.account_number},875000,berhasil,BB-1,2026-06-20,\n")
    report = banking.bank_result_import(actor=province_operator, tranche=first,
                                        filename="hasil.csv", fileobj=io.BytesIO(line.encode()))
    assert [e["column"] for e in report.errors] == ["status"]
    assert "pengiriman ke-1 berhasil" in report.errors[0]["message"]
    assert "ke-2" in report.errors[0]["message"]
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"
