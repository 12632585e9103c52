"""Import of workers with their assignment and bank account (psks.importing, kind
"psks_tenaga"): good rows, rejected rows with row number, column and reason, dry run, a second
import of the same file, and unverified imported accounts."""

import csv
import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from dinsos import importing
from psks import selectors
from psks.importing import COLUMNS, KIND
from psks.models import Assignment, BankAccount, Worker
from tests.factories import WorkerFactory
from tests.psks.factories import DESA_CIMANGGU, KEC_CIMANGGU, assign, office

pytestmark = pytest.mark.django_db

D = datetime.date
HEADER = [c.name for c in COLUMNS]
ROLES = ("tksk, pendamping_pkh, pendamping_jamsosratu, psm, tagana, pekerja_sosial, "
         "penyuluh_sosial, wpks")
OUT_OF_AREA = "Wilayah 36.02.01.2002 berada di luar wilayah kerja Anda ({office})."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def row(**values) -> dict:
    """A good row: a TKSK of Kec. Sumur with a Bank Banten account."""
    base = {
        "nik": "3601011708850003", "nama": "Dede Kurnia", "jenis_kelamin": "L",
        "tanggal_lahir": "1985-08-17", "pendidikan": "s1", "telepon": "081234567890",
        "alamat": "Kp. Sumur", "kode_desa": "36.01.01.2001", "npwp": "", "peran": "tksk",
        "kode_wilayah_tugas": "36.01.01", "nomor_sk": "460/123/Dinsos/2025",
        "tanggal_sk": "2025-01-02", "mulai": "2025-01-02", "selesai": "2029-12-31",
        "sumber_dana": "apbd_provinsi", "bank": "bank_banten", "nomor_rekening": "0012345678",
        "nama_pemilik_rekening": "Dede Kurnia",
    }
    base.update(values)
    return base


NO_ASSIGNMENT = dict.fromkeys(["peran", "kode_wilayah_tugas", "nomor_sk", "tanggal_sk", "mulai",
                               "selesai", "sumber_dana"], "")
NO_ACCOUNT = dict.fromkeys(["bank", "nomor_rekening", "nama_pemilik_rekening"], "")


def person(n: int, **values) -> dict:
    """Another valid person (born 1 January 1980 + n days, man), no assignment, no account."""
    born = D(1980, 1, 1) + datetime.timedelta(days=n)
    return row(**{"nik": f"360101{born:%d%m%y}{n:04d}", "nama": f"Orang {n}",
                  "tanggal_lahir": born.isoformat(), **NO_ASSIGNMENT, **NO_ACCOUNT, **values})


GOOD = [
    # row 2: worker + TKSK + account
    row(),
    # row 3: a woman, PSM of a desa without end date, dates written dd-mm-yyyy, BJB account
    row(nik="3601015903900004", nama="Siti Aminah", jenis_kelamin="P",
        tanggal_lahir="19-03-1990", pendidikan="SMA", kode_desa="36.01.01.2002",
        npwp="3601015903900004", peran="psm", kode_wilayah_tugas="36.01.01.2002",
        nomor_sk="460/7/2024", tanggal_sk="02/01/2024", mulai="02-01-2024", selesai="",
        sumber_dana="apbd_kab_kota", bank="BJB", nomor_rekening="0098765432",
        nama_pemilik_rekening="Siti  Aminah"),
    # row 4: worker only
    person(4, kode_desa=DESA_CIMANGGU),
]
BAD = [
    # row 5: bad NIK
    person(5, nik="360101170885"),
    # row 6: NIK and birth date disagree
    person(6, tanggal_lahir="1980-01-08"),
    # row 7: unknown role
    person(7, peran="ketua_rt", kode_wilayah_tugas="36.01.01", nomor_sk="1",
           tanggal_sk="2025-01-02", mulai="2025-01-02", sumber_dana="apbd_provinsi"),
    # row 8: Cimanggu already has a TKSK (made before the import)
    person(8, peran="tksk", kode_wilayah_tugas=KEC_CIMANGGU, nomor_sk="2",
           tanggal_sk="2026-01-02", mulai="2026-01-02", selesai="2030-12-31",
           sumber_dana="apbd_provinsi"),
    # row 9: Sumur was taken by row 2 of the same file
    person(9, peran="tksk", kode_wilayah_tugas="36.01.01", nomor_sk="3",
           tanggal_sk="2026-01-02", mulai="2026-01-02", selesai="2026-12-31",
           sumber_dana="apbd_provinsi"),
    # row 10: a TKSK decree longer than 5 years
    person(10, peran="tksk", kode_wilayah_tugas="36.01.03", nomor_sk="4",
           tanggal_sk="2025-01-02", mulai="2025-01-02", selesai="2030-01-02",
           sumber_dana="apbd_provinsi"),
    # row 11: unknown bank
    person(11, bank="bank_gaib", nomor_rekening="0011111111", nama_pemilik_rekening="Orang 11"),
    # row 12: assignment columns partly missing
    person(12, peran="psm", kode_wilayah_tugas="36.01.01.2001", mulai="2025-01-01",
           sumber_dana="swadaya"),
    # row 13: desa outside the operator's kabupaten
    person(13, nik="3602010201800013", kode_desa="36.02.01.2002"),
    # row 14: account columns partly missing
    person(14, bank="bri"),
]
ROWS = GOOD + BAD


def expected_errors(pandeglang_office: str) -> list[dict]:
    return [
        {"row": 5, "column": "nik", "message": "NIK harus terdiri dari tepat 16 angka."},
        {"row": 6, "column": "nik", "message": (
            "tanggal lahir di NIK (digit 7–12: 070180, berarti 07-01-80) tidak sama dengan "
            "kolom tanggal_lahir (08-01-1980)")},
        {"row": 7, "column": "peran", "message": (
            f"nilai 'ketua_rt' tidak dikenal; pilihan: {ROLES}")},
        {"row": 8, "column": "kode_wilayah_tugas", "message": (
            "Kecamatan ini sudah memiliki TKSK Ujang Cimanggu pada 2 Januari 2025 – "
            "31 Desember 2029; satu "
            "kecamatan hanya satu TKSK.")},
        {"row": 9, "column": "kode_wilayah_tugas", "message": (
            "Kecamatan ini sudah memiliki TKSK Dede Kurnia pada 2 Januari 2025 – "
            "31 Desember 2029; satu "
            "kecamatan hanya satu TKSK.")},
        {"row": 10, "column": "selesai", "message": (
            "SK TKSK berlaku paling lama 5 tahun (sampai sebelum 2 Januari 2030); perpanjangan "
            "dibuat sebagai penugasan baru.")},
        {"row": 11, "column": "bank", "message": "kode bank 'bank_gaib' tidak dikenal"},
        {"row": 12, "column": "nomor_sk", "message": "wajib diisi bila peran diisi"},
        {"row": 12, "column": "tanggal_sk", "message": "wajib diisi bila peran diisi"},
        # every problem of a row at once: the NIK (02-01-80) disagrees with 14-01-1980 too
        {"row": 13, "column": "nik", "message": (
            "tanggal lahir di NIK (digit 7–12: 020180, berarti 02-01-80) tidak sama dengan "
            "kolom tanggal_lahir (14-01-1980)")},
        {"row": 13, "column": "kode_desa", "message": OUT_OF_AREA.format(office=pandeglang_office)},
        {"row": 14, "column": "nomor_rekening", "message": "wajib diisi bila rekening diisi"},
        {"row": 14, "column": "nama_pemilik_rekening",
         "message": "wajib diisi bila rekening diisi"},
    ]


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(c, "") for c in header])
    return out.getvalue().encode()


def run_import(actor, content: bytes, *, dry_run=False, name="tenaga.csv"):
    batch = importing.import_submit(actor=actor, kind=KIND,
                                    upload=SimpleUploadedFile(name, content), dry_run=dry_run,
                                    run_now=True)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def cimanggu_tksk(province_operator):
    return assign(province_operator, WorkerFactory(name="Ujang Cimanggu", desa_id=DESA_CIMANGGU),
                  area=KEC_CIMANGGU)


def psks_log_entries() -> int:
    return LogEntry.objects.filter(content_type__app_label="psks").count()


# --- good and bad rows --------------------------------------------------------------------------


def test_import_saves_good_rows_and_reports_bad_ones(pandeglang_operator, cimanggu_tksk):
    batch = run_import(pandeglang_operator, csv_bytes(ROWS))
    assert batch.status == "diimpor"
    assert batch.totals == {"rows": 13, "accepted": 3, "rejected": 10, "tenaga_baru": 3,
                            "penugasan_baru": 2, "rekening_baru_perlu_verifikasi": 2}
    assert batch.message == "3 baris diterima, 10 ditolak."
    assert batch.errors == expected_errors(office("36.01").name)

    # only the good rows are stored (plus the TKSK of Cimanggu made before)
    assert sorted(Worker.objects.values_list("name", flat=True)) == [
        "Dede Kurnia", "Orang 4", "Siti Aminah", "Ujang Cimanggu"]
    dede = Worker.objects.get(nik="3601011708850003")
    assert (dede.sex, dede.birth_date, dede.education, dede.phone, dede.desa_id) == (
        "L", D(1985, 8, 17), "s1", "081234567890", "36.01.01.2001")
    tksk = dede.assignments.get()
    assert (tksk.role, tksk.area_id, tksk.decree_number, tksk.decree_date, tksk.start_date,
            tksk.end_date, tksk.funding_source, tksk.decree_office) == (
        "tksk", "36.01.01", "460/123/Dinsos/2025", D(2025, 1, 2), D(2025, 1, 2),
        D(2029, 12, 31), "apbd_provinsi", office("36.01"))
    siti = Worker.objects.get(nik="3601015903900004")
    assert (siti.sex, siti.birth_date, siti.education, siti.npwp) == (
        "P", D(1990, 3, 19), "sma", "3601015903900004")
    psm = siti.assignments.get()
    assert (psm.role, psm.area_id, psm.decree_date, psm.start_date, psm.end_date,
            psm.funding_source) == ("psm", "36.01.01.2002", D(2024, 1, 2), D(2024, 1, 2), None,
                                    "apbd_kab_kota")
    assert list(BankAccount.objects.order_by("worker__name").values_list(
        "worker__name", "bank__code", "account_number", "holder_name")) == [
        ("Dede Kurnia", "bank_banten", "0012345678", "Dede Kurnia"),
        ("Siti Aminah", "bjb", "0098765432", "Siti Aminah"),
    ]
    assert not Worker.objects.get(name="Orang 4").assignments.exists()
    # a rejected row leaves nothing behind, even the parts that were valid
    assert not Worker.objects.filter(name__in=[f"Orang {n}" for n in range(5, 15)]).exists()
    assert Assignment.objects.count() == 3


def test_imported_accounts_are_unverified(pandeglang_operator):
    run_import(pandeglang_operator, csv_bytes(GOOD))
    accounts = BankAccount.objects.all()
    assert accounts.count() == 2
    for account in accounts:
        assert (account.verified_by, account.verified_at, account.effective_from,
                account.created_by) == (None, None, None, pandeglang_operator)
        assert selectors.bank_account_in_force(worker_id=account.worker_id,
                                               on=D(2030, 1, 1)) is None


def test_dry_run_writes_nothing(pandeglang_operator, cimanggu_tksk):
    before = psks_log_entries()
    batch = run_import(pandeglang_operator, csv_bytes(ROWS), dry_run=True)
    assert batch.status == "diperiksa"
    assert batch.totals == {"rows": 13, "accepted": 3, "rejected": 10, "tenaga_baru": 3,
                            "penugasan_baru": 2, "rekening_baru_perlu_verifikasi": 2}
    assert batch.errors == expected_errors(office("36.01").name)
    assert list(Worker.objects.values_list("name", flat=True)) == ["Ujang Cimanggu"]
    assert Assignment.objects.count() == 1
    assert not BankAccount.objects.exists()
    assert psks_log_entries() == before


def test_importing_the_same_file_again_changes_nothing(pandeglang_operator, cimanggu_tksk):
    content = csv_bytes(ROWS)
    run_import(pandeglang_operator, content)
    counts = (Worker.objects.count(), Assignment.objects.count(), BankAccount.objects.count())
    before = psks_log_entries()

    again = run_import(pandeglang_operator, content)
    assert again.totals == {"rows": 13, "accepted": 3, "rejected": 10, "tenaga_tetap": 3,
                            "penugasan_tetap": 2, "rekening_tetap": 2}
    assert again.errors == expected_errors(office("36.01").name)
    assert (Worker.objects.count(), Assignment.objects.count(),
            BankAccount.objects.count()) == counts == (4, 3, 2)
    assert psks_log_entries() == before  # nothing was written


def test_changed_rows_update_and_a_new_account_waits_for_verification(pandeglang_operator):
    run_import(pandeglang_operator, csv_bytes(GOOD))
    changed = [row(telepon="089999999999", selesai="2028-12-31", bank="bri",
                   nomor_rekening="5555555555")]
    batch = run_import(pandeglang_operator, csv_bytes(changed))
    assert batch.totals == {"rows": 1, "accepted": 1, "rejected": 0, "tenaga_diubah": 1,
                            "penugasan_diubah": 1, "rekening_baru_perlu_verifikasi": 1}
    dede = Worker.objects.get(nik="3601011708850003")
    assert dede.phone == "089999999999"
    assert dede.assignments.get().end_date == D(2028, 12, 31)
    assert list(dede.bank_accounts.order_by("id").values_list("bank__code", "account_number",
                                                               "verified_at")) == [
        ("bank_banten", "0012345678", None), ("bri", "5555555555", None)]


def test_province_operator_imports_anywhere_with_the_province_as_issuer(province_operator):
    lebak = row(nik="3602011708850003", kode_desa="36.02.01.2002",
                kode_wilayah_tugas="36.02.01")
    batch = run_import(province_operator, csv_bytes([lebak]))
    assert batch.totals["accepted"] == 1, batch.errors
    assert Assignment.objects.get().decree_office == office("36")


def test_template_example_row_imports(province_operator, api_as):
    response = api_as(province_operator).get(f"/api/v1/imports/template/{KIND}/",
                                             {"fmt": "csv"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == HEADER
    batch = run_import(province_operator, content)
    assert (batch.totals["accepted"], batch.errors) == (1, [])


def test_upload_through_the_api(pandeglang_operator, api_as,
                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(pandeglang_operator).post("/api/v1/imports/", {
            "kind": KIND, "file": SimpleUploadedFile("tenaga.csv", csv_bytes(GOOD)),
            "dry_run": "false"}, format="multipart")
    assert response.status_code == 202
    assert Worker.objects.count() == 3


# --- gaps found ---------------------------------------------------------------------------------


def test_out_of_area_desa_is_reported_on_its_column(pandeglang_operator):
    batch = run_import(pandeglang_operator, csv_bytes([BAD[-2]]))
    assert [(e["row"], e["column"]) for e in batch.errors] == [(2, "nik"), (2, "kode_desa")]


def test_assignment_without_role_is_rejected(pandeglang_operator):
    partial_row = person(20, kode_wilayah_tugas="36.01.01", nomor_sk="460/9/2025",
                         tanggal_sk="2025-01-02", mulai="2025-01-02", selesai="2029-12-31",
                         sumber_dana="apbd_provinsi")
    batch = run_import(pandeglang_operator, csv_bytes([partial_row]))
    assert batch.totals["rejected"] == 1
    assert batch.errors[0]["column"] == "peran"


def test_reimport_with_a_formatted_npwp_changes_nothing(pandeglang_operator):
    content = csv_bytes([row(npwp="01.234.567.8-901.000")])
    run_import(pandeglang_operator, content)
    assert Worker.objects.get().npwp == "012345678901000"
    again = run_import(pandeglang_operator, content)
    assert again.totals.get("tenaga_tetap") == 1
    assert "tenaga_diubah" not in again.totals


def test_tksk_without_end_date_is_reported_on_selesai(pandeglang_operator):
    batch = run_import(pandeglang_operator, csv_bytes([row(selesai="")]))
    assert batch.errors == [{"row": 2, "column": "selesai", "message": (
        "Penugasan TKSK wajib memiliki tanggal selesai (SK paling lama 5 tahun).")}]


def test_tksk_without_end_date_is_rejected(pandeglang_operator):
    batch = run_import(pandeglang_operator, csv_bytes([row(selesai="")]))
    assert batch.totals["rejected"] == 1
    assert not Worker.objects.exists()


# --- files as Excel makes them (issue #13: the worker import shares the reader) ---------------


def xlsx_bytes(rows, header=HEADER) -> bytes:
    """Ints and floats become number cells, as Excel saves them (15 significant digits)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    for values in rows:
        workbook.active.append([values.get(c, "") for c in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_identity_numbers_in_number_cells_are_refused(pandeglang_operator):
    batch = run_import(pandeglang_operator, xlsx_bytes([
        row(nik=3601011708850000),  # Excel saved 3601011708850003 as …0000
        person(30, npwp=12345678901000.0, nomor_rekening=12345678, bank="bri",
               nama_pemilik_rekening="Orang 30"),
    ]), name="tenaga.xlsx")
    assert [(e["row"], e["column"]) for e in batch.errors] == [
        (2, "nik"), (3, "npwp"), (3, "nomor_rekening")]
    assert batch.errors[0]["message"].startswith(
        "NIK tersimpan sebagai ANGKA di Excel (3601011708850000), bukan teks: Excel membulatkan "
        "angka lebih dari 15 digit")
    assert batch.errors[2]["message"].startswith(
        "Nomor rekening tersimpan sebagai ANGKA di Excel (12345678)")
    assert not Worker.objects.exists()


def test_dates_sex_labels_and_headers_as_staff_type_them(pandeglang_operator):
    header = ["NIK", "Nama Lengkap", "JK", "Tgl Lahir", *HEADER[4:]]
    values = row(nik="'3601 0117 0885 0003", nama="Dede Kurnia", jenis_kelamin="LK",
                 tanggal_lahir="17 Agustus 1985", tanggal_sk="2 Jan 2025", mulai="02.01.2025",
                 selesai="31/12/29")
    content = io.StringIO()
    csv.writer(content).writerows([header, [values[c] for c in HEADER]])
    batch = run_import(pandeglang_operator, content.getvalue().encode())
    assert batch.errors == []
    worker = Worker.objects.get()
    assert (worker.nik, worker.sex, worker.birth_date) == ("3601011708850003", "L",
                                                           D(1985, 8, 17))
    assignment = Assignment.objects.get()
    assert (assignment.decree_date, assignment.start_date, assignment.end_date) == (
        D(2025, 1, 2), D(2025, 1, 2), D(2029, 12, 31))


def test_a_worker_name_typed_in_capitals_keeps_its_stored_spelling(pandeglang_operator):
    run_import(pandeglang_operator, csv_bytes([row()]))
    again = run_import(pandeglang_operator, csv_bytes([row(nama="DEDE KURNIA")]))
    assert again.totals.get("tenaga_tetap") == 1
    assert Worker.objects.get().name == "Dede Kurnia"


def test_every_problem_of_a_worker_row_is_reported_at_once(pandeglang_operator):
    batch = run_import(pandeglang_operator, csv_bytes([
        row(tanggal_lahir="31-02-1985", jenis_kelamin="P", npwp="123")]))
    assert batch.errors == [
        {"row": 2, "column": "tanggal_lahir",
         "message": "tanggal '31-02-1985' tidak ada: Februari 1985 hanya 28 hari"},
        {"row": 2, "column": "nik", "message": (
            "jenis kelamin di NIK (digit 7–8: 17, berarti laki-laki; perempuan: tanggal + 40) "
            "tidak sama dengan kolom jenis_kelamin (perempuan)")},
        {"row": 2, "column": "npwp", "message": (
            "NPWP harus terdiri dari 15 angka (format lama, mis. 01.234.567.8-901.000) atau 16 "
            "angka (format baru).")},
    ]


def test_another_workers_name_under_a_stored_nik_is_held_for_review(pandeglang_operator):
    """An NIK Excel rounded (or mistyped) onto another worker's: held, never applied; a spelling
    variant of the stored name (the duplicate finder's folding) still updates."""
    run_import(pandeglang_operator, csv_bytes([row()]))
    clash = run_import(pandeglang_operator, csv_bytes([
        row(nama="Budi Lain", telepon="089999999999")]))
    assert clash.totals["rejected"] == 0 and clash.totals["ditahan"] == 1
    assert clash.totals["accepted"] == 0
    [held] = clash.errors
    assert held["held"] is True and held["row"] == 2 and held["column"] == "nama"
    assert "Dede Kurnia" in held["message"] and "Budi Lain" in held["message"]
    dede = Worker.objects.get()
    assert (dede.name, dede.phone) == ("Dede Kurnia", row()["telepon"])
    variant = run_import(pandeglang_operator, csv_bytes([row(nama="Dede Kurniaa")]))
    assert variant.totals.get("tenaga_diubah") == 1
    assert Worker.objects.get().name == "Dede Kurniaa"


def test_a_masked_error_report_hides_numbers_quoted_in_its_messages(pandeglang_operator,
                                                                     make_user):
    """Found by a review: the masked report masked the identifier columns, but a message quoted
    an account typed as an Excel number whole ("… (9876543210)") and a NIK's digits 7–12 (with
    the mask's first six and last two, 14 of 16 digits)."""
    from dinsos import roles
    from tests.helpers import client_for

    batch = run_import(pandeglang_operator, xlsx_bytes([
        person(30, npwp=123456789012345, nomor_rekening=9876543210, bank="bri",
               nama_pemilik_rekening="Orang 30"),
        row(nik="3601011708850003", tanggal_lahir="1985-08-18"),
    ]), name="tenaga.xlsx")
    url = f"/impor/{batch.pk}/laporan.csv"
    masked = b"".join(client_for(make_user(roles.AUDITOR)).get(url).streaming_content)
    text = masked.decode("utf-8-sig")
    assert "9876543210" not in text and "170885" not in text
    assert "123456789012345" not in text
    whole = b"".join(client_for(pandeglang_operator).get(url).streaming_content).decode()
    assert "9876543210" in whole and "170885" in whole


QUOTED_ACCOUNT, QUOTED_NPWP = "9876543210", "123456789012345"


@pytest.fixture
def quoting_batch(pandeglang_operator):
    """A PSKS import whose messages quote an account number and an NPWP typed as Excel
    numbers, and a NIK whose birth date disagrees (digits 7-12 quoted)."""
    return run_import(pandeglang_operator, xlsx_bytes([
        person(30, npwp=int(QUOTED_NPWP), nomor_rekening=int(QUOTED_ACCOUNT), bank="bri",
               nama_pemilik_rekening="Orang 30"),
        row(nik="3601011708850003", tanggal_lahir="1985-08-18"),
    ]), name="tenaga.xlsx")


def _import_result(door, user, batch, api_as):
    from tests.helpers import client_for

    if door == "page":
        return client_for(user).get(f"/impor/{batch.pk}/")
    return api_as(user).get(f"/api/v1/imports/{batch.pk}/")


@pytest.mark.parametrize("door", ["page", "api"])
def test_import_result_shows_quoted_account_and_npwp_masked_to_auditor(
        door, quoting_batch, pandeglang_operator, make_user, api_as):
    """Personal-data audit (December 2026): the staff page /impor/<id>/ and GET
    /api/v1/imports/<id>/ gave ``batch.errors`` messages as stored, so an Auditor (a masked
    role) read the whole account number and NPWP (and a NIK's birth-date digits) the masked
    report download hides; both ask ``importing.errors_as_seen`` now. The uploader still
    reads them whole."""
    from dinsos import roles

    response = _import_result(door, make_user(roles.AUDITOR), quoting_batch, api_as)
    assert response.status_code == 200
    text = response.content.decode()
    assert QUOTED_ACCOUNT not in text, "whole account number shown to the Auditor"
    assert QUOTED_NPWP not in text, "whole NPWP shown to the Auditor"
    assert "170885" not in text
    own = _import_result(door, pandeglang_operator, quoting_batch, api_as).content.decode()
    assert QUOTED_ACCOUNT in own and QUOTED_NPWP in own


def test_import_admin_page_shows_quoted_account_whole_to_auditor(quoting_batch, make_user):
    """Personal-data audit (December 2026): the admin's import batch page
    (``ImportBatchAdmin.error_table``) printed the stored messages as they are, so the Auditor
    read the whole account number and NPWP; it now shows ``importing.errors_as_seen``."""
    from dinsos import roles
    from tests.helpers import client_for

    auditor = make_user(roles.AUDITOR)
    page = client_for(auditor).get(f"/admin/dinsos/importbatch/{quoting_batch.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    leaked = QUOTED_ACCOUNT in text
    assert not leaked, "whole account number on the admin page for the Auditor"
    leaked = QUOTED_NPWP in text
    assert not leaked, "whole NPWP on the admin page for the Auditor"


# --- the import audit of December 2026 ----------------------------------------------------------


def test_another_districts_worker_is_answered_as_any_existing_nik(pandeglang_operator):
    """A Lebak worker's NIK in a Pandeglang file: the rows were held with the Lebak worker's
    name ("NIK ini terdaftar atas nama 'Ridwan Sopian'") or refused naming its desa in
    column "-". Now the generic refusal of any registration, on the NIK's column."""
    lebak = WorkerFactory(name="Ridwan Sopian", desa_id="36.02.01.2002",
                          birth_date=D(1980, 12, 9))
    born = {"tanggal_lahir": "09-12-1980", "nik": lebak.nik}
    batch = run_import(pandeglang_operator, csv_bytes([
        person(1, nama="Orang Pandeglang", **born),
        person(2, nama="Ridwan Sopian", alamat="Kp. Cilangkahan", **born),
        person(3, nama="Ridwan Sopian", bank="bri", nomor_rekening="1111222233",
               nama_pemilik_rekening="Ridwan Sopian", **born),
    ]), dry_run=True)
    assert batch.totals["rejected"] == 3 and batch.totals.get("ditahan", 0) == 0
    assert [(e["row"], e["column"], e["message"]) for e in batch.errors] == [
        (n, "nik", "Tenaga PSKS dengan NIK telah ada.") for n in (2, 3, 4)]
    lebak.refresh_from_db()
    assert lebak.address == "" and not BankAccount.objects.exists()


@pytest.mark.parametrize(("column", "text", "limit"), [
    ("nama", "Dede " + "Kurnia " * 25, 150),
    ("telepon", "0812 3456 7890 / 0813 1111 2222 (WA)", 20),
    ("alamat", "Kp. Sukamaju " * 30, 255),
    ("nomor_sk", "460/" + "X" * 300, 100),
    ("nama_pemilik_rekening", "Pemilik " * 25, 150),
])
def test_a_cell_longer_than_its_field_is_refused_by_the_row_parser(column, text, limit,
                                                                    pandeglang_operator):
    """The same length check as the PMKS import, from the model fields, before any service."""
    batch = run_import(pandeglang_operator, csv_bytes([row(**{column: text})]))
    assert batch.totals["rejected"] == 1
    assert {"row": 2, "column": column,
            "message": f"paling banyak {limit} karakter; sel ini berisi {len(text.strip())} "
                       "karakter"} in batch.errors
    assert not Worker.objects.exists()
