"""The bank's result file of a tranche as the job page and the API show it: a transfer the bank
failed shows the bank's reason, account numbers in a refused line's detail are shown as the
access policy says (whole to who may change payments, masked to the read-only roles), and a
file whose header lacks a required column is refused in the request (page and API alike),
with nothing stored or queued."""

import datetime
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from dinsos import roles
from jamsosratu import banking, services
from jamsosratu.models import Payment, TrancheJob
from tests.dinsos.test_schema_truth import _schema, _validate
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.helpers import client_for
from tests.jamsosratu.factories import enrol, household

pytestmark = pytest.mark.django_db

API = "/api/v1/jamsosratu"
HEADER = ["id_penyaluran", "rekening", "jumlah", "status", "referensi", "tanggal", "keterangan"]
MISSING = "Kolom wajib tidak ada: jumlah, status, referensi."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


@pytest.fixture
def payments(cycle, province_operator):
    for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    banking.transfer_file(cycle.tranches.get(number=1))  # handed to the bank
    return list(Payment.objects.order_by("pk"))


def csv_file(rows, header=HEADER, name="hasil.csv") -> SimpleUploadedFile:
    text = "\n".join(",".join(str(c) for c in row) for row in [header, *rows])
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")



def upload_on_the_page(user, upload, capture):
    with capture(execute=True) as queued:
        response = client_for(user).post(reverse("jamsosratu:bank-result", args=[2026, 1]),
                                         {"file": upload})
    return response, queued


def lines(payments):
    ok, failed, wrong = payments
    return [[ok.pk, ok.account_number, "875000", "berhasil", "BB-1", "2026-06-15", ""],
            [failed.pk, failed.account_number, "875000", "gagal", "", "", "rekening tidak aktif"],
            [wrong.pk, "999999999999", "875000", "berhasil", "BB-3", "2026-06-15", ""]]


@pytest.fixture
def job(payments, province_operator, django_capture_on_commit_callbacks):
    response, _ = upload_on_the_page(province_operator, csv_file(lines(payments)),
                                     django_capture_on_commit_callbacks)
    assert response.status_code == 302, response.content[:500]
    job = TrancheJob.objects.get()
    assert job.status == "selesai", job.message
    return job


def row_text(page, row: int) -> str:
    """The text of one line of the job page's table."""
    html = page.content.decode()
    start = html.index(f'data-testid="baris-{row}"')
    return html[start:html.index("</tr>", start)]


# --- a failed transfer shows the bank's reason ------------------------------------------------

def test_a_line_the_bank_failed_shows_the_banks_reason(job, payments, province_operator, api_as):
    page = client_for(province_operator).get(reverse("jamsosratu:job-detail", args=[job.pk]))
    assert "rekening tidak aktif" in row_text(page, 3) and "—" not in row_text(page, 3)
    api_lines = api_as(province_operator).get(f"{API}/jobs/{job.pk}/").json()["lines"]
    assert api_lines[1] == {"row": 3, "id": str(payments[1].pk), "outcome": "gagal",
                            "detail": "rekening tidak aktif"}
    assert Payment.objects.get(pk=payments[1].pk).failure_reason == "rekening tidak aktif"


def test_a_failed_line_without_a_reason_shows_what_the_payment_records(
        payments, province_operator, django_capture_on_commit_callbacks):
    failed = payments[1]
    upload_on_the_page(province_operator, csv_file([[failed.pk, failed.account_number, "875000",
                                                     "gagal", "", "", ""]]),
                       django_capture_on_commit_callbacks)
    assert TrancheJob.objects.get().lines[0]["detail"] == "gagal menurut bank"


# --- account numbers in a refused line, as the access policy says ------------------------------

@pytest.mark.parametrize("role, whole", [
    (roles.OPERATOR_PROVINSI, True),  # may change payments: whole (README "Who may do what")
    (roles.ADMIN, True),
    (roles.KEUANGAN, False),  # read-only roles: masked
    (roles.PIMPINAN, False),
    (roles.AUDITOR, False),
])
def test_account_numbers_in_a_refused_line_follow_the_masking_policy(
        role, whole, job, payments, make_user, api_as):
    sent = payments[2].account_number
    viewer = make_user(role)
    shown = (f"rekening 999999999999 tidak sama dengan yang dikirim ({sent})" if whole else
             f"rekening ********9999 tidak sama dengan yang dikirim (********{sent[-4:]})")
    page = client_for(viewer).get(reverse("jamsosratu:job-detail", args=[job.pk]))
    assert page.status_code == 200
    assert shown in row_text(page, 4)
    api_line = api_as(viewer).get(f"{API}/jobs/{job.pk}/").json()["lines"][2]
    assert (api_line["outcome"], api_line["detail"]) == ("ditolak", shown)
    if not whole:
        for text in (page.content.decode(), str(api_line)):
            assert "999999999999" not in text and sent not in text


# --- the header is checked in the request -----------------------------------------------------

def xlsx_file(header, name="hasil.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.active.append(header)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def not_a_workbook() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("isi.txt", "bukan buku kerja")
    return SimpleUploadedFile("hasil.xlsx", buffer.getvalue())


@pytest.mark.parametrize("make_upload, message", [
    (lambda: csv_file([[1, "2"]], header=["id_penyaluran", "rekening"]), MISSING),
    (lambda: xlsx_file(["id_penyaluran", "rekening", "tanggal"]), MISSING),
    (not_a_workbook, "Berkas XLSX rusak atau bukan berkas Excel"),
])
def test_the_page_refuses_a_file_without_the_columns_at_upload(
        make_upload, message, payments, province_operator, django_capture_on_commit_callbacks):
    response, queued = upload_on_the_page(province_operator, make_upload(),
                                          django_capture_on_commit_callbacks)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["file"] and errors["file"][0].startswith(message)
    html = response.content.decode()
    field = html[html.index('<div class="field">'):html.index('name="file"')]
    assert message in field  # next to the file field
    assert not TrancheJob.objects.exists() and not queued


@pytest.mark.parametrize("make_upload, message", [
    (lambda: csv_file([[1, "2"]], header=["id_penyaluran", "rekening"]), MISSING),
    (lambda: xlsx_file(["id_penyaluran", "rekening", "tanggal"]), MISSING),
    (not_a_workbook, "Berkas XLSX rusak atau bukan berkas Excel"),
])
def test_the_api_answers_400_naming_the_field_and_the_missing_columns(
        make_upload, message, cycle, payments, province_operator, api_as,
        django_capture_on_commit_callbacks):
    client = api_as(province_operator)
    schema = _schema(client)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(f"{API}/payments/bank-result/", {
            "tranche": cycle.tranches.get(number=1).pk, "file": make_upload()},
            format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    _validate(schema, "/api/v1/jamsosratu/payments/bank-result/", "post", 400, body)
    assert body["detail"] == "Data tidak valid. Periksa kolom yang disebut di 'errors'."
    assert list(body["errors"]) == ["file"] and body["errors"]["file"][0].startswith(message)
    assert not TrancheJob.objects.exists() and not queued


def test_a_checked_file_is_stored_whole_and_applied(payments, province_operator, settings,
                                                    django_capture_on_commit_callbacks):
    """The header check reads the upload, in memory or on disk, without using it up."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the upload goes to a temporary file
    upload = csv_file(lines(payments))
    content = upload.read()
    upload.seek(0)
    response, _ = upload_on_the_page(province_operator, upload,
                                     django_capture_on_commit_callbacks)
    job = TrancheJob.objects.get()
    assert response.status_code == 302 and job.status == "selesai", job.message
    with job.file.open("rb") as stored:
        assert stored.read() == content
    assert [line["outcome"] for line in job.lines] == ["disalurkan", "gagal", "ditolak"]


# found by a deep schemathesis run: one line's id_penyaluran "²" failed the whole job with
# Python's English "invalid literal for int()"
def test_bank_result_superscript_id_refuses_only_its_line(payments, province_operator,
                                                          django_capture_on_commit_callbacks):
    from jamsosratu.models import Payment, TrancheJob

    rows = [["²", "123", "875000", "berhasil", "BB-0", "2026-06-15", ""], *lines(payments)]
    upload_on_the_page(province_operator, csv_file(rows), django_capture_on_commit_callbacks)
    job = TrancheJob.objects.get()
    assert job.status == "selesai", job.message
    assert Payment.objects.get(pk=payments[0].pk).status == "disalurkan"


# --- the transfer date: day first or ISO, never in the future; amounts in Rupiah ---------------

DECEMBER_1 = datetime.datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_a_transfer_dated_in_the_future_is_refused_a_day_first_date_is_read(
        payments, province_operator, django_capture_on_commit_callbacks):
    """Found in a browser walk on 1 December 2026: a line dated 2027-01-15 was marked
    "Disalurkan", a line dated 30-11-2026 was refused ("tanggal harus TTTT-BB-HH"), and a
    wrong amount read "jumlah 8750000 … (875000)"."""
    ok, day_first, wrong = payments
    with time_machine.travel(DECEMBER_1, tick=False):
        upload_on_the_page(province_operator, csv_file([
            [ok.pk, ok.account_number, "875000", "berhasil", "BB-1", "2027-01-15", ""],
            [day_first.pk, day_first.account_number, "875000", "berhasil", "BB-2", "30-11-2026",
             ""],
            [wrong.pk, wrong.account_number, "8750000", "berhasil", "BB-3", "2026-11-30", ""]]),
            django_capture_on_commit_callbacks)
    job = TrancheJob.objects.get()
    assert [(line["row"], line["outcome"], line.get("detail", "")) for line in job.lines] == [
        (2, "ditolak", "kolom tanggal: Tanggal salur 15-01-2027 ada di masa depan; hari ini "
                       "01-12-2026."),
        (3, "disalurkan", ""),
        (4, "ditolak", "jumlah Rp8.750.000 tidak sama dengan yang dikirim (Rp875.000)")]
    assert Payment.objects.get(pk=ok.pk).status == "dijadwalkan"
    assert Payment.objects.get(pk=day_first.pk).paid_on == datetime.date(2026, 11, 30)


def test_a_payment_is_not_marked_paid_on_a_day_still_to_come(payments, province_operator,
                                                            api_as):
    """The same rule in the service behind the API's mark (and any full_clean: the admin)."""
    payment = payments[0]
    with (time_machine.travel(DECEMBER_1, tick=False),
          pytest.raises(ValidationError) as refused):
        services.payment_mark(actor=province_operator, payment=payment, status="disalurkan",
                              paid_on=datetime.date(2027, 1, 15), reference="BB-1")
    assert refused.value.message_dict == {"paid_on": [
        "Tanggal salur 15-01-2027 ada di masa depan; hari ini 01-12-2026."]}
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1E+30", "8.75E+05", "-875000"])
def test_an_amount_that_is_no_plain_number_is_refused_on_its_line(
        amount, payments, province_operator, django_capture_on_commit_callbacks):
    """Security audit (December 2026): ``jumlah`` was read by ``Decimal`` alone, which takes
    "NaN", "Infinity" and "1E+30"; the line's message then failed to format it and the whole
    job failed with "Kesalahan sistem": the good lines after it were never applied, and the
    same file failed again. Now such an amount is refused on its own line."""
    odd, good, _ = payments
    rows = [[odd.pk, odd.account_number, amount, "berhasil", "BB-1", "2026-06-15", ""],
            [good.pk, good.account_number, "875000", "berhasil", "BB-2", "2026-06-15", ""]]
    upload_on_the_page(province_operator, csv_file(rows), django_capture_on_commit_callbacks)
    job = TrancheJob.objects.get()
    odd.refresh_from_db()
    good.refresh_from_db()
    assert (job.status, odd.status, good.status) == ("selesai", "dijadwalkan", "disalurkan")
    assert f"jumlah '{amount}' bukan angka" in str(job.lines[0])
