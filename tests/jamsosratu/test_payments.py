"""Payments (penyaluran): the tranche's list for every active enrolment with amounts that add
up exactly to the yearly benefit, safe to run twice and concurrently, the Bank Banten transfer
file with its control line, the bank's result file (service and API) and marking by hand."""

import csv
import datetime
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from dinsos import roles
from jamsosratu import banking, services
from jamsosratu.models import Enrolment, Payment, TrancheJob
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, cycle_with_tranches
from tests.helpers import lock_waited, postgres_only
from tests.jamsosratu.factories import ADULT, TODDLER, enrol, household

D = datetime.date
PAID_ON = D(2026, 6, 15)


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750001", ("1", "1"))


@pytest.fixture
def actives(cycle, province_operator):
    return [enrol(province_operator, household(desa), cycle, "aktif")
            for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG_2, DESA_LEBAK)]


def tranche(cycle, number):
    return cycle.tranches.get(number=number)


# --- generating a tranche's list --------------------------------------------------------------

@pytest.mark.django_db
def test_one_payment_per_active_enrolment_with_the_tranche_amount(cycle, actives,
                                                                  province_operator):
    for status in ("calon", "terverifikasi", "ditetapkan", "graduasi", "dikeluarkan"):
        enrol(province_operator, household(), cycle, status)
    pos = enrol(province_operator, household(), cycle, "aktif", channel="pos")

    assert services.payments_generate(tranche=tranche(cycle, 1)) == 4
    assert services.payments_generate(tranche=tranche(cycle, 2)) == 4
    rows = Payment.objects.order_by("enrolment", "tranche__number")
    assert {p.enrolment_id for p in rows} == {e.pk for e in [*actives, pos]}
    for enrolment in [*actives, pos]:
        first, second = (p for p in rows if p.enrolment_id == enrolment.pk)
        assert (first.tranche_amount, second.tranche_amount) == (Decimal(875000),
                                                                 Decimal(875001))
        assert first.amount + second.amount == Decimal(1750001)
        for payment in (first, second):
            assert (payment.desa_id, payment.channel, payment.account_number, payment.status,
                    payment.outcome) == (enrolment.desa_id, enrolment.channel,
                                         enrolment.account_number, "dijadwalkan", "penuh")
    assert Payment.objects.get(enrolment=pos, tranche__number=1).account_number == ""


@pytest.mark.django_db
def test_odd_benefits_in_uneven_tranches_add_up(province_operator):
    cycle = cycle_with_tranches(2026, "1655000", ("1", "2"))
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    for number in (1, 2):
        services.payments_generate(tranche=tranche(cycle, number))
    assert list(Payment.objects.filter(enrolment=enrolment).order_by("tranche__number")
                .values_list("amount", flat=True)) == [Decimal(551666), Decimal(1103334)]


@pytest.mark.django_db
def test_running_twice_creates_nothing_the_second_time(cycle, actives, province_operator):
    first = tranche(cycle, 1)
    assert services.payments_generate(tranche=first) == 3
    stamps = dict(Payment.objects.values_list("pk", "updated_at"))
    assert services.payments_generate(tranche=first) == 0
    assert dict(Payment.objects.values_list("pk", "updated_at")) == stamps
    # an enrolment activated later is added on the next run, alone
    late = enrol(province_operator, household(), cycle, "aktif")
    assert services.payments_generate(tranche=first) == 1
    assert Payment.objects.filter(tranche=first).count() == 4
    assert Payment.objects.get(tranche=first, enrolment=late).amount == Decimal(875000)


@pytest.mark.django_db
def test_the_database_refuses_a_second_payment_for_an_enrolment_and_tranche(cycle, actives):
    first = tranche(cycle, 1)
    services.payments_generate(tranche=first)
    existing = Payment.objects.filter(tranche=first).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(enrolment=existing.enrolment, tranche=first,
                               desa_id=existing.desa_id, tranche_amount=875000, amount=875000,
                               outcome="penuh", channel="bank_banten", status="dijadwalkan")
    assert Payment.objects.filter(tranche=first).count() == 3


def _race(calls) -> list:
    """Run the calls in threads released together by a barrier; each closes its connection."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_runs_make_exactly_one_payment_per_enrolment(province_operator):
    cycle = cycle_with_tranches(2026, "1750001", ("1", "1"))
    enrolments = [enrol(province_operator, household(desa), cycle, "aktif")
                  for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG_2, DESA_LEBAK) * 4]
    for number in (1, 2):  # two rounds
        first = tranche(cycle, number)
        _race([lambda t=first: services.payments_generate(tranche=t)] * 2)
        assert Payment.objects.filter(tranche=first).count() == len(enrolments)
        assert set(Payment.objects.filter(tranche=first).values_list(
            "enrolment", flat=True)) == {e.pk for e in enrolments}


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_runs_report_only_the_rows_they_created(province_operator):
    cycle = cycle_with_tranches(2026, "1750001", ("1", "1"))
    for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG_2, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    first = tranche(cycle, 1)
    generated, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def holder():  # generates, then keeps its transaction open until the other run waits
        try:
            with transaction.atomic():
                results["first"] = services.payments_generate(tranche=first)
                generated.set()
                release.wait(timeout=20)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            generated.set()
            connection.close()

    def second():
        try:
            generated.wait(timeout=20)
            results["second"] = services.payments_generate(tranche=first)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        generated.wait(timeout=20)
        assert lock_waited(), "the second run never waited for the first"
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert Payment.objects.filter(tranche=first).count() == 3
    assert results == {"first": 3, "second": 0}


# --- the Bank Banten transfer file ------------------------------------------------------------

@pytest.fixture
def scheduled(cycle, actives, province_operator):
    """Tranche 1 of the three active households (Rp875.000 each) plus a POS household and a
    suspended one, which are not in the bank's file."""
    enrol(province_operator, household(), cycle, "aktif", channel="pos")
    suspended = enrol(province_operator, household(), cycle, "aktif")
    first = tranche(cycle, 1)
    member = suspended.members.get()
    services.commitment_record(actor=province_operator, member=member, tranche=first,
                               kind="kesehatan", status="tidak_terpenuhi")
    services.payments_generate(tranche=first)
    return {e.pk: Payment.objects.get(enrolment=e, tranche=first) for e in actives}


@pytest.fixture
def sent(cycle, scheduled):
    """The scheduled payments, handed to the bank in the tranche's transfer file."""
    banking.transfer_file(tranche(cycle, 1))
    return scheduled


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def body(response) -> str:
    """A download's text: the transfer file streams."""
    return (b"".join(response.streaming_content) if response.streaming
            else response.content).decode()


@pytest.mark.django_db
def test_transfer_file_lists_scheduled_bank_payments_with_a_control_line(cycle, actives,
                                                                         scheduled):
    text, count, total = banking.transfer_file(tranche(cycle, 1))
    rows = read_csv(text)
    assert rows[0] == ["id_penyaluran", "rekening", "nama", "jumlah", "keterangan"]
    expected = sorted(scheduled.values(), key=lambda p: (p.desa_id, p.pk))
    assert rows[1:-1] == [
        [str(p.pk), p.account_number, p.enrolment.household.head.name, "875000",
         "Jamsosratu 2026 tahap 1"] for p in expected]
    assert rows[-1] == ["TOTAL", "3", "", "2625000", "kontrol: jumlah baris, jumlah Rp"]
    assert (count, total) == (3, Decimal(2625000))


FORMULA = "=cmd|'/c calc'!A1"  # 17 characters: it fitted the 20-character field


@pytest.mark.django_db
def test_an_account_number_is_digits_on_every_door(cycle, pandeglang_operator, api_as):
    """Security audit (December 2026): the Jamsosratu account number had no rule, so a kab/kota
    operator could store a spreadsheet formula as the account the province sends to Bank
    Banten (the PSKS accounts were digits only). Now the same rule holds for both."""
    response = api_as(pandeglang_operator).post("/api/v1/jamsosratu/enrolments/", {
        "household": household(DESA_PANDEGLANG_2, [ADULT, TODDLER], decile=1).pk,
        "cycle": 2026, "source": "Musdes", "channel": "bank_banten",
        "account_number": FORMULA}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "account_number": ["Nomor rekening harus 6–20 angka saja."]}
    assert not Enrolment.objects.exists()


@pytest.mark.django_db
def test_the_transfer_file_guards_an_account_cell_stored_before_the_rule(cycle, scheduled):
    """An account stored before the rule (a formula) reaches the transfer file as text: the
    cell gets the CSV guard apostrophe, as the name cell always had, so the treasurer's Excel
    does not run it."""
    payment = next(iter(scheduled.values()))
    Payment.objects.filter(pk=payment.pk).update(account_number=FORMULA)
    rows = read_csv(banking.transfer_file(tranche(cycle, 1))[0])
    assert [row[1] for row in rows if row[0] == str(payment.pk)] == ["'" + FORMULA]


@pytest.mark.django_db
def test_transfer_file_through_the_api(cycle, scheduled, province_operator,
                                       pandeglang_operator, api_as):
    url = "/api/v1/jamsosratu/cycles/2026/tranches/1/bank-file/"
    client = api_as(province_operator)
    assert client.head(url)["X-Control-Count"] == "3"  # what the next file carries
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Control-Count"] == "3"
    assert response["X-Control-Total"] == "2625000"
    assert 'filename="jamsosratu-2026-tahap-1-kiriman-' in response["Content-Disposition"]
    lines = read_csv(body(response))
    assert lines[-1][:4] == ["TOTAL", "3", "", "2625000"]
    assert api_as(pandeglang_operator).get(url).status_code == 403
    # handed out: a second download sends nothing again; the copy writes the same lines
    assert client.get(url)["X-Control-Count"] == "0"
    copy = client.get(url, {"salinan": response["X-Kiriman"]})
    assert (copy["X-Control-Count"], copy["X-Kiriman"]) == ("3", response["X-Kiriman"])
    copied = read_csv(body(copy))
    assert copied[1:-1] == lines[1:-1]
    assert copied[-1][4].startswith("SALINAN kiriman")
    refused = client.get(url, {"salinan": "kemarin"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["salinan"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN])
def test_masked_roles_download_whole_account_numbers_of_the_transfer_file(
        role, scheduled, make_user, api_as):
    """Personal-data audit (December 2026): the transfer file through the API asked only
    ``view_cycle`` (reference data every role reads) and a province office, so Auditor,
    Keuangan and Pimpinan (Jamsosratu payments: "read, masked") downloaded every household's
    whole account number; the staff page asks ``jamsosratu.change_payment``, and so does the
    API now (``requires("change", "jamsosratu.Payment")``): 403."""
    response = api_as(make_user(role)).get("/api/v1/jamsosratu/cycles/2026/tranches/1/bank-file/")
    text = body(response) if response.status_code == 200 else ""
    leaked = [p.account_number for p in scheduled.values() if p.account_number in text]
    assert not leaked, f"{role}: HTTP {response.status_code}, whole account numbers served"
    assert response.status_code == 403


@pytest.mark.django_db
def test_each_transfer_file_handed_out_writes_an_access_entry(cycle, scheduled,
                                                              province_operator, api_as):
    """Personal-data audit (December 2026): P6 — the transfer file lists every scheduled
    household's head by name with the whole account number, yet neither the API nor the staff
    page wrote an ACCESS entry (the incentives' finance documents do). Both doors make it with
    ``banking.transfer_download``, which now writes one entry naming the tranche, with the user
    who downloads it (also for the page's streamed download)."""
    from django.urls import reverse

    from tests.helpers import client_for, reads

    response = api_as(province_operator).get(
        "/api/v1/jamsosratu/cycles/2026/tranches/1/bank-file/")
    assert response.status_code == 200
    assert reads(Payment), "whole account numbers and names served without an ACCESS entry"
    (entry,) = reads(Payment)
    assert (entry.actor, entry.additional_data["read"]) == (province_operator, "berkas bank")
    assert entry.additional_data["query"] == {"tahun": "2026", "tahap": "1"}
    page = client_for(province_operator).get(reverse("jamsosratu:bank-file", args=[2026, 1]),
                                             {"salinan": response["X-Kiriman"]})
    assert page.status_code == 200
    assert scheduled[next(iter(scheduled))].account_number in b"".join(
        page.streaming_content).decode()
    assert [(e.actor, e.additional_data["source"]) for e in reads(Payment)] == [
        (province_operator, "api"), (province_operator, "web")], (
        "whole account numbers and names served without an ACCESS entry")


@pytest.mark.django_db
def test_an_excluded_household_is_not_sent_to_the_bank(cycle, actives, scheduled,
                                                       province_operator):
    excluded = actives[0]
    services.enrolment_transition(actor=province_operator, enrolment=excluded,
                                  to_status="dikeluarkan", reason="Data ganda (fiktif)")
    text, count, total = banking.transfer_file(tranche(cycle, 1))
    assert str(scheduled[excluded.pk].pk) not in [row[0] for row in read_csv(text)]
    assert (count, total) == (2, Decimal(1_750_000))


# --- the bank's result file -------------------------------------------------------------------

def result_file(lines) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id_penyaluran", "rekening", "jumlah", "status", "referensi", "tanggal",
                     "keterangan"])
    writer.writerows(lines)
    return out.getvalue().encode()


@pytest.fixture
def bank_result(actives, scheduled):
    ok, failed, wrong = (scheduled[e.pk] for e in actives)
    return result_file([
        [ok.pk, ok.account_number, "875000", "berhasil", "BB-2026-0001", "2026-06-15", ""],
        [failed.pk, failed.account_number, "875000", "gagal", "", "", "Rekening tidak aktif"],
        [wrong.pk, wrong.account_number, "875001", "berhasil", "BB-2026-0003", "2026-06-15", ""],
        [wrong.pk, "0000000000", "875000", "berhasil", "BB-2026-0003", "2026-06-15", ""],
        ["999999", "0000000000", "875000", "berhasil", "BB-X", "2026-06-15", ""],
        ["TOTAL", "5", "", "4375001", ""],
    ])


def expected_errors(wrong):
    return [
        {"row": 4, "column": "jumlah",
         "message": "jumlah Rp875.001 tidak sama dengan yang dikirim (Rp875.000)"},
        {"row": 5, "column": "rekening",
         "message": f"rekening 0000000000 tidak sama dengan yang dikirim "
                    f"({wrong.account_number})"},
        {"row": 6, "column": "id_penyaluran",
         "message": "penyaluran '999999' tidak ada pada tahap ini"},
    ]


def statuses(scheduled):
    return {pk: Payment.objects.filter(enrolment=pk).values_list(
        "status", "paid_on", "reference", "failure_reason").get() for pk in scheduled}


@pytest.mark.django_db
def test_bank_result_import_marks_payments_and_refuses_mismatches(
        cycle, actives, scheduled, sent, bank_result, province_operator):
    ok, failed, wrong = actives
    report = banking.bank_result_import(actor=province_operator, tranche=tranche(cycle, 1),
                                        fileobj=io.BytesIO(bank_result), filename="hasil.csv")
    assert report.totals() == {"rows": 5, "accepted": 2, "rejected": 3, "disalurkan": 1,
                               "gagal": 1}
    assert report.errors == expected_errors(scheduled[wrong.pk])
    assert statuses(scheduled) == {
        ok.pk: ("disalurkan", PAID_ON, "BB-2026-0001", ""),
        failed.pk: ("gagal", None, "", "Rekening tidak aktif"),
        wrong.pk: ("dijadwalkan", None, "", ""),
    }

    # the same file again: recorded lines are counted as such and nothing changes
    stamps = dict(Payment.objects.values_list("pk", "updated_at"))
    again = banking.bank_result_import(actor=province_operator, tranche=tranche(cycle, 1),
                                       fileobj=io.BytesIO(bank_result), filename="hasil.csv")
    assert again.totals() == {"rows": 5, "accepted": 2, "rejected": 3, "sudah_tercatat": 2}
    assert again.errors == report.errors
    assert dict(Payment.objects.values_list("pk", "updated_at")) == stamps


@pytest.mark.django_db
def test_a_second_success_with_another_reference_is_refused(cycle, actives, scheduled, sent,
                                                            province_operator):
    payment = scheduled[actives[0].pk]
    line = [payment.pk, payment.account_number, "875000", "berhasil", "BB-1", "2026-06-15", ""]
    banking.bank_result_import(actor=province_operator, tranche=tranche(cycle, 1),
                               fileobj=io.BytesIO(result_file([line])), filename="a.csv")
    report = banking.bank_result_import(
        actor=province_operator, tranche=tranche(cycle, 1),
        fileobj=io.BytesIO(result_file([[*line[:4], "BB-2", *line[5:]]])), filename="b.csv")
    assert report.errors == [{"row": 2, "column": "referensi",
                              "message": "sudah disalurkan dengan referensi BB-1"}]
    assert Payment.objects.get(pk=payment.pk).reference == "BB-1"


@pytest.mark.django_db
def test_a_line_of_another_tranche_is_refused(cycle, actives, scheduled, province_operator):
    payment = scheduled[actives[0].pk]
    report = banking.bank_result_import(
        actor=province_operator, tranche=tranche(cycle, 2), filename="hasil.csv",
        fileobj=io.BytesIO(result_file([[payment.pk, payment.account_number, "875000",
                                         "berhasil", "BB-1", "2026-06-15", ""]])))
    assert report.errors[0]["column"] == "id_penyaluran"
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"


BANK_RESULT = "/api/v1/jamsosratu/payments/bank-result/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db
def test_bank_result_through_the_api(cycle, actives, scheduled, sent, bank_result,
                                     province_operator, api_as, media,
                                     django_capture_on_commit_callbacks):
    """202 with the job's status URL; the job (a Celery task) applies the file."""
    client = api_as(province_operator)

    def post():
        upload = SimpleUploadedFile("hasil-bank.csv", bank_result, content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(BANK_RESULT, {"tranche": tranche(cycle, 1).pk,
                                                 "file": upload}, format="multipart")
        assert response.status_code == 202, response.content
        return client.get(response["Location"]).json()

    job = post()
    assert job["totals"] == {"rows": 5, "accepted": 2, "rejected": 3, "disalurkan": 1,
                             "gagal": 1}
    wrong = scheduled[actives[2].pk]
    assert [(line["row"], line["outcome"], line["detail"]) for line in job["lines"]] == [
        (2, "disalurkan", ""), (3, "gagal", "Rekening tidak aktif"),
        (4, "ditolak", "jumlah Rp875.001 tidak sama dengan yang dikirim (Rp875.000)"),
        (5, "ditolak", f"rekening 0000000000 tidak sama dengan yang dikirim "
                       f"({wrong.account_number})"),
        (6, "ditolak", "penyaluran '999999' tidak ada pada tahap ini")]
    assert Payment.objects.get(pk=scheduled[actives[0].pk].pk).status == "disalurkan"
    assert post()["totals"] == {"rows": 5, "accepted": 2, "rejected": 3, "sudah_tercatat": 2}


@pytest.mark.django_db
def test_bank_result_api_is_for_the_province_and_checks_the_file(
        cycle, scheduled, bank_result, province_operator, pandeglang_operator, api_as, media,
        django_capture_on_commit_callbacks):
    def post(user, name, content):
        upload = SimpleUploadedFile(name, content, content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            return api_as(user).post(BANK_RESULT, {"tranche": tranche(cycle, 1).pk,
                                                   "file": upload}, format="multipart")

    assert post(pandeglang_operator, "hasil.csv", bank_result).status_code == 403
    response = post(province_operator, "hasil.txt", bank_result)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["file"]
    response = post(province_operator, "hasil.csv", b"id_penyaluran,rekening\n1,2\n")
    assert response.status_code == 400  # the header is read in the request: nothing queued
    assert response.json()["errors"] == {
        "file": ["Kolom wajib tidak ada: jumlah, status, referensi."]}
    assert not TrancheJob.objects.exists()
    assert set(Payment.objects.values_list("status", flat=True)) == {"dijadwalkan",
                                                                     "ditangguhkan"}


# --- marking by hand --------------------------------------------------------------------------

@pytest.fixture
def payment(cycle, actives):
    services.payments_generate(tranche=tranche(cycle, 1))
    return Payment.objects.filter(tranche__number=1).order_by("id").first()


def mark(actor, payment, status, **kwargs):
    return services.payment_mark(actor=actor, payment=payment, status=status, **kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "kwargs", "message"), [
    ("disalurkan", {}, "Tanggal dan referensi penyaluran wajib diisi."),
    ("disalurkan", {"paid_on": PAID_ON}, "Tanggal dan referensi penyaluran wajib diisi."),
    ("disalurkan", {"paid_on": PAID_ON, "reference": "  "},
     "Tanggal dan referensi penyaluran wajib diisi."),
    ("disalurkan", {"reference": "BB-1"}, "Tanggal dan referensi penyaluran wajib diisi."),
    ("gagal", {}, "Alasan gagal wajib diisi."),
    ("gagal", {"failure_reason": " "}, "Alasan gagal wajib diisi."),
    ("ditangguhkan", {"failure_reason": "x"}, "Status harus disalurkan atau gagal."),
    ("dijadwalkan", {}, "Status harus disalurkan atau gagal."),
])
def test_marking_needs_date_and_reference_or_a_reason(payment, province_operator, status,
                                                      kwargs, message):
    with pytest.raises(ValidationError) as exc_info:
        mark(province_operator, payment, status, **kwargs)
    assert exc_info.value.messages == [message]
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"


@pytest.mark.django_db
def test_marking_paid_and_failed(cycle, payment, province_operator):
    paid = mark(province_operator, payment, "disalurkan", paid_on=PAID_ON, reference=" BB-9 ")
    assert (paid.status, paid.paid_on, paid.reference) == ("disalurkan", PAID_ON, "BB-9")
    with pytest.raises(ValidationError) as exc_info:
        mark(province_operator, payment, "gagal", failure_reason="salah")
    assert exc_info.value.messages == ["Penyaluran berstatus Disalurkan tidak dapat diubah."]
    other = Payment.objects.exclude(pk=payment.pk).filter(tranche__number=1).first()
    failed = mark(province_operator, other, "gagal", failure_reason=" Rekening ditutup ")
    assert (failed.status, failed.failure_reason, failed.paid_on) == (
        "gagal", "Rekening ditutup", None)


@pytest.mark.django_db
def test_a_district_operator_marks_only_its_own_payments(cycle, actives, lebak_operator,
                                                         pandeglang_operator):
    from django.core.exceptions import PermissionDenied

    services.payments_generate(tranche=tranche(cycle, 1))
    lebak = Payment.objects.get(desa_id=DESA_LEBAK)
    with pytest.raises(PermissionDenied):
        mark(pandeglang_operator, lebak, "disalurkan", paid_on=PAID_ON, reference="BB-1")
    assert mark(lebak_operator, lebak, "disalurkan", paid_on=PAID_ON,
                reference="BB-1").status == "disalurkan"


@pytest.mark.django_db
def test_mark_through_the_api(cycle, payment, province_operator, api_as):
    client = api_as(province_operator)
    url = f"/api/v1/jamsosratu/payments/{payment.pk}/mark/"
    response = client.post(url, {"status": "disalurkan", "paid_on": "2026-06-15"},
                           format="json")
    assert response.status_code == 400
    response = client.post(url, {"status": "disalurkan", "paid_on": "2026-06-15",
                                 "reference": "BB-7"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reference"]) == ("disalurkan", "BB-7")
    assert Enrolment.objects.filter(payments__status="disalurkan").count() == 1


@pytest.mark.django_db
def test_household_members_qualify_for_the_bank_file_fixture(cycle, province_operator):
    """Guard for the fixtures above: the default household qualifies with its toddler."""
    hh = household(DESA_PANDEGLANG, [ADULT, TODDLER])
    enrolment = enrol(province_operator, hh, cycle, "aktif")
    assert list(enrolment.members.values_list("condition", flat=True)) == ["balita"]
