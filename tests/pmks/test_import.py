"""Import of households and members from CSV/XLSX (pmks.importing) through the API and the
kernel pipeline (dinsos.importing): dry run, row errors, idempotence, reports, templates,
scoping and constant memory."""

import csv
import datetime
import io
import time
import tracemalloc

import openpyxl
import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from dinsos import audit, importing
from dinsos.models import ImportBatch
from dinsos.validators import build_nik, build_no_kk
from pmks.importing import COLUMNS, households_import
from pmks.models import Household, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2
from tests.helpers import ids

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]

IMPORTS = "/api/v1/imports/"
HEADER = [c.name for c in COLUMNS]
KK_1 = "3601011204160001"
KK_2 = "3601011204160002"
KK_3 = "3601011204160003"
NIK_HEAD = "3601011708800001"  # man, 17-08-1980
NIK_WIFE = "3601015903850002"  # woman, 19-03-1985
NIK_CHILD = "3601010102100003"  # boy, 01-02-2010


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def row(**values) -> dict:
    base = {
        "no_kk": KK_1, "alamat": "Kp. Sumur RT 01", "rt": "001", "rw": "002",
        "kode_desa": DESA_PANDEGLANG, "desil": "1", "lantai": "tanah", "dinding": "bambu",
        "sumber_air": "sumur_terlindung", "penerangan": "pln_450", "bahan_bakar": "kayu",
        "jamban": "bersama", "nik": NIK_HEAD, "nama": "Budi Santoso",
        "tempat_lahir": "Pandeglang", "tanggal_lahir": "1980-08-17", "jenis_kelamin": "L",
        "hubungan": "kepala", "disabilitas": "tidak", "pendidikan": "sd",
        "pekerjaan": "Buruh tani", "status_kawin": "", "penyakit_kronis": "", "aset": "",
        "program": "",
    }
    base.update(values)
    return base


def family_rows() -> list[dict]:
    """Two households: KK_1 with three members (head first), KK_2 with one member without NIK."""
    return [
        row(),
        row(nik=NIK_WIFE, nama="Siti Aminah", tanggal_lahir="19-03-1985", jenis_kelamin="P",
            hubungan="pasangan", pekerjaan="Mengurus rumah tangga"),
        row(nik=NIK_CHILD, nama="M. Rizky", tanggal_lahir="01/02/2010", hubungan="anak",
            pendidikan="smp", pekerjaan=""),
        row(no_kk=KK_2, alamat="Kp. Kertajaya", kode_desa=DESA_PANDEGLANG_2, desil="",
            lantai="", nik="", nama="Mak Icih", tanggal_lahir="1950-01-01",
            jenis_kelamin="Perempuan", hubungan="kepala", disabilitas="fisik",
            pendidikan="tidak_sekolah", pekerjaan=""),
    ]


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(c, "") for c in header])
    return out.getvalue().encode()


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(c, "") for c in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, *, name="keluarga.csv", dry_run=False, capture=None):
    data = {"kind": "pmks_keluarga", "file": SimpleUploadedFile(name, content),
            "dry_run": "true" if dry_run else "false"}
    with capture(execute=True):
        response = client.post(IMPORTS, data, format="multipart")
        assert response.status_code == 202, response.content
        # answered before the task runs (it is queued on commit)
        assert response.json()["status"] == "antre"
        assert response.json()["dry_run"] is dry_run
    return ImportBatch.objects.get(pk=response.json()["id"])


def submit(actor, content: bytes, *, name="keluarga.csv", dry_run=False, capture=None):
    with capture(execute=True):
        batch = importing.import_submit(actor=actor, kind="pmks_keluarga",
                                        upload=SimpleUploadedFile(name, content),
                                        dry_run=dry_run)
    batch.refresh_from_db()
    return batch


def trail(obj, *, after=0) -> list[tuple[int, list[str]]]:
    """(action, changed fields) of each audit entry of ``obj`` newer than entry ``after``, as
    the person page's history reads them — one entry per row (row path) or per chunk (COPY
    path)."""
    found = []
    for entry in audit.entries_for(obj).filter(pk__gt=after or 0).order_by("pk"):
        action, changes = audit.entry_changes(entry, obj)
        found.append((action, sorted(changes) if action == LogEntry.Action.UPDATE else []))
    return found


def table(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [["" if v is None else str(v) for v in r]
            for r in workbook.worksheets[0].iter_rows(values_only=True)]


# --- good files -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_upload_through_the_api_saves_households_and_members(
    fmt, pandeglang_operator, api_as, django_capture_on_commit_callbacks, import_path
):
    content = csv_bytes(family_rows()) if fmt == "csv" else xlsx_bytes(family_rows())
    batch = upload(api_as(pandeglang_operator), content, name=f"keluarga.{fmt}",
                   capture=django_capture_on_commit_callbacks)
    assert batch.status == "diimpor"
    assert batch.errors == []
    assert batch.totals == {"rows": 4, "accepted": 4, "rejected": 0, "keluarga_baru": 2,
                            "keluarga_diubah": 0, "orang_baru": 4, "orang_diubah": 0}
    assert batch.message == "4 baris diterima, 0 ditolak."
    assert batch.area_id == "36.01"
    assert batch.created_by == pandeglang_operator

    first = Household.objects.get(no_kk=KK_1)
    assert (first.address, first.rt, first.rw, first.desa_id, first.decile) == (
        "Kp. Sumur RT 01", "001", "002", DESA_PANDEGLANG, 1)
    assert (first.floor, first.wall, first.water_source, first.lighting, first.cooking_fuel,
            first.toilet) == ("tanah", "bambu", "sumur_terlindung", "pln_450", "kayu",
                              "bersama")
    assert first.head.nik == NIK_HEAD
    assert sorted(first.members.values_list("nik", "name", "birth_date", "sex",
                                            "relationship")) == [
        (NIK_CHILD, "M. Rizky", datetime.date(2010, 2, 1), "L", "anak"),
        (NIK_HEAD, "Budi Santoso", datetime.date(1980, 8, 17), "L", "kepala"),
        (NIK_WIFE, "Siti Aminah", datetime.date(1985, 3, 19), "P", "pasangan"),
    ]
    wife = Person.objects.get(nik=NIK_WIFE)
    assert (wife.desa_id, wife.name_key, wife.occupation, wife.birth_place) == (
        DESA_PANDEGLANG, "sitiaminah", "Mengurus rumah tangga", "Pandeglang")
    second = Household.objects.get(no_kk=KK_2)
    assert (second.decile, second.floor, second.desa_id) == (None, "", DESA_PANDEGLANG_2)
    icih = second.members.get()
    assert (icih.nik, icih.tanpa_nik, icih.sex, icih.disability, icih.desa_id) == (
        None, True, "P", "fisik", DESA_PANDEGLANG_2)
    assert second.head_id == icih.pk
    # the writes are in the audit trail, by the uploader, and each record's history has them:
    # 2 households and 4 persons created; the row path then sets each household's head, the
    # COPY path writes a new household with its head
    entries = LogEntry.objects.filter(additional_data__import_batch=batch.pk)
    assert set(entries.values_list("actor_id", flat=True)) == {pandeglang_operator.pk}
    for person in Person.objects.all():
        assert [action for action, _fields in trail(person)] == [LogEntry.Action.CREATE]
    for household in (first, second):
        assert trail(household) == [(LogEntry.Action.CREATE, [])] + (
            [(LogEntry.Action.UPDATE, ["head"])] if import_path == "rows" else [])


def test_submit_and_eager_task(province_operator, django_capture_on_commit_callbacks):
    batch = submit(province_operator, csv_bytes(family_rows()),
                   capture=django_capture_on_commit_callbacks)
    assert batch.status == "diimpor"
    assert batch.area_id == "36"
    assert (Household.objects.count(), Person.objects.count()) == (2, 4)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_dry_run_changes_nothing_but_reports(
    fmt, pandeglang_operator, api_as, django_capture_on_commit_callbacks
):
    rows = [*family_rows(), row(nik="123", nama="Salah NIK", no_kk=KK_3)]
    content = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows)
    logs = LogEntry.objects.count()
    batch = upload(api_as(pandeglang_operator), content, name=f"uji.{fmt}", dry_run=True,
                   capture=django_capture_on_commit_callbacks)
    assert batch.status == "diperiksa"
    assert batch.dry_run is True
    assert batch.totals == {"rows": 5, "accepted": 4, "rejected": 1, "keluarga_baru": 2,
                            "keluarga_diubah": 0, "orang_baru": 4, "orang_diubah": 0}
    assert batch.errors == [
        {"row": 6, "column": "nik", "message": "NIK harus terdiri dari tepat 16 angka."}
    ]
    assert not Household.objects.exists()
    assert not Person.objects.exists()
    assert LogEntry.objects.count() == logs


def test_semicolon_csv_is_read(pandeglang_operator, django_capture_on_commit_callbacks):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for values in family_rows():
        writer.writerow([values[c] for c in HEADER])
    content = ("\ufeff" + out.getvalue()).encode()
    batch = submit(pandeglang_operator, content, capture=django_capture_on_commit_callbacks)
    assert batch.totals["orang_baru"] == 4


# --- bad rows ---------------------------------------------------------------------------------

BAD_ROWS = [
    # (row values, [(column, message)])
    (row(no_kk="360101120416001", nik=""), [
        ("no_kk", "Nomor KK harus terdiri dari tepat 16 angka.")]),
    (row(no_kk="3601011204160011", nik="36010117088000A1"), [
        ("nik", "NIK harus terdiri dari tepat 16 angka.")]),
    (row(no_kk="3601011204160012", nik="3601011808800012"), [
        ("nik", "tanggal lahir di NIK (digit 7–12: 180880, berarti 18-08-80) tidak sama dengan "
                "kolom tanggal_lahir (17-08-1980)")]),
    (row(no_kk="3601011204160013", nik="3601011708800013", jenis_kelamin="P"), [
        ("nik", "jenis kelamin di NIK (digit 7–8: 17, berarti laki-laki; perempuan: tanggal + 40) "
                "tidak sama dengan kolom jenis_kelamin (perempuan)")]),
    (row(no_kk="3601011204160014", nik="", kode_desa="36.01.01.2999"), [
        ("kode_desa", "kode desa/kelurahan '36.01.01.2999' tidak dikenal atau di luar wilayah "
                      "kerja Anda")]),
    (row(no_kk="3602011204160015", nik="", kode_desa=DESA_LEBAK), [
        ("kode_desa", f"kode desa/kelurahan '{DESA_LEBAK}' tidak dikenal atau di luar wilayah "
                      "kerja Anda")]),
    (row(no_kk="3601011204160016", nik="", nama=" "), [("nama", "wajib diisi")]),
    (row(no_kk="3601011204160017", nik="", alamat="", jenis_kelamin=""), [
        ("alamat", "wajib diisi"), ("jenis_kelamin", "wajib diisi")]),
    (row(no_kk="3601011204160018", nik="", tanggal_lahir="31-02-1980"), [
        ("tanggal_lahir", "tanggal '31-02-1980' tidak ada: Februari 1980 hanya 29 hari")]),
    (row(no_kk="3601011204160019", nik="", desil="11"), [
        ("desil", "desil harus 1 sampai 10")]),
    (row(no_kk="3601011204160020", nik="", jenis_kelamin="X"), [
        ("jenis_kelamin", "nilai 'X' tidak dikenal; pilihan: L, P")]),
    (row(no_kk="3601011204160021", nik="", lantai="marmer"), [
        ("lantai", "nilai 'marmer' tidak dikenal; pilihan: tanah, bambu_kayu, semen, keramik")]),
    # same No. KK as row 2 with another address and decile
    (row(nik=NIK_WIFE, nama="Siti Aminah", tanggal_lahir="1985-03-19", jenis_kelamin="P",
         hubungan="pasangan", alamat="Kp. Lain", desil="2"), [
        ("alamat", "berbeda dengan baris 2 untuk No. KK yang sama"),
        ("desil", "berbeda dengan baris 2 untuk No. KK yang sama")]),
    # the NIK of row 2 again
    (row(no_kk=KK_3, nama="Budi Santoso (dobel)"), [("nik", "NIK sama dengan baris 2")]),
]


def bad_file_rows():
    return [row(), *(values for values, _problems in BAD_ROWS), row(
        no_kk=KK_2, nik=NIK_WIFE, nama="Siti Aminah", tanggal_lahir="1985-03-19",
        jenis_kelamin="P", hubungan="kepala")]


def expected_errors():
    return [
        {"row": number, "column": column, "message": message}
        for number, (_values, problems) in enumerate(BAD_ROWS, start=3)
        for column, message in problems
    ]


def test_bad_rows_are_reported_precisely_and_good_rows_saved(
    pandeglang_operator, api_as, django_capture_on_commit_callbacks
):
    batch = upload(api_as(pandeglang_operator), csv_bytes(bad_file_rows()),
                   capture=django_capture_on_commit_callbacks)
    assert batch.status == "diimpor"
    assert sorted(batch.errors, key=lambda e: (e["row"], e["column"])) == expected_errors()
    rows = len(BAD_ROWS) + 2
    assert batch.totals == {"rows": rows, "accepted": 2, "rejected": len(BAD_ROWS),
                            "keluarga_baru": 2, "keluarga_diubah": 0, "orang_baru": 2,
                            "orang_diubah": 0}
    assert batch.message == f"2 baris diterima, {len(BAD_ROWS)} ditolak."
    assert sorted(Household.objects.values_list("no_kk", flat=True)) == [KK_1, KK_2]
    assert sorted(Person.objects.values_list("nik", flat=True)) == [NIK_HEAD, NIK_WIFE]
    assert Household.objects.get(no_kk=KK_1).address == "Kp. Sumur RT 01"


def test_bad_rows_in_xlsx(pandeglang_operator, django_capture_on_commit_callbacks):
    batch = submit(pandeglang_operator, xlsx_bytes(bad_file_rows()), name="keluarga.xlsx",
                   capture=django_capture_on_commit_callbacks)
    assert sorted(batch.errors, key=lambda e: (e["row"], e["column"])) == expected_errors()


def test_empty_rows_keep_the_spreadsheet_numbering(
    pandeglang_operator, django_capture_on_commit_callbacks
):
    content = csv_bytes([row(), {}, {}, row(no_kk=KK_2, nik="", desil="0")])
    batch = submit(pandeglang_operator, content, capture=django_capture_on_commit_callbacks)
    assert batch.totals["rows"] == 2
    assert batch.errors == [{"row": 5, "column": "desil", "message": "desil harus 1 sampai 10"}]


def test_decile_that_is_not_a_number_has_an_indonesian_reason(
    pandeglang_operator, django_capture_on_commit_callbacks
):
    batch = submit(pandeglang_operator, csv_bytes([row(desil="satu")]),
                   capture=django_capture_on_commit_callbacks)
    assert batch.errors == [{"row": 2, "column": "desil", "message": "desil harus 1 sampai 10"}]


def test_duplicate_nik_across_chunks_is_reported(province_operator):
    rows = [row(), row(no_kk=KK_2, nama="Budi Santoso Lain", hubungan="famili")]
    report = households_import(actor=province_operator, fileobj=io.BytesIO(csv_bytes(rows)),
                               filename="x.csv", dry_run=False, chunk_size=1)
    assert report.errors == [{"row": 3, "column": "nik", "message": "NIK sama dengan baris 2"}]
    assert Person.objects.get(nik=NIK_HEAD).household.no_kk == KK_1


def test_rows_of_a_kk_or_nik_registered_in_another_district_are_refused(
    pandeglang_operator, lebak_operator, django_capture_on_commit_callbacks
):
    lebak_kk, lebak_nik = "3602011204160001", "3602011708800001"
    submit(lebak_operator, csv_bytes([row(no_kk=lebak_kk, nik=lebak_nik, kode_desa=DESA_LEBAK)]),
           capture=django_capture_on_commit_callbacks)
    batch = submit(pandeglang_operator, csv_bytes([
        row(no_kk=lebak_kk, nik=""),
        row(no_kk=KK_1, nik=lebak_nik),
    ]), capture=django_capture_on_commit_callbacks)
    # The same answer as registering that NIK / No. KK through the API: nothing says where.
    assert batch.errors == [
        {"row": 2, "column": "no_kk", "message": "Keluarga dengan No. KK telah ada."},
        {"row": 3, "column": "nik", "message": "Orang dengan NIK telah ada."},
    ]
    assert "wilayah lain" not in str(batch.errors)
    assert Household.objects.get(no_kk=lebak_kk).desa_id == DESA_LEBAK
    assert Person.objects.get(nik=lebak_nik).household.no_kk == lebak_kk
    assert not Household.objects.filter(no_kk=KK_1).exists()


# --- idempotence ------------------------------------------------------------------------------


def test_reimport_of_the_same_file_changes_nothing(
    pandeglang_operator, api_as, django_capture_on_commit_callbacks
):
    client = api_as(pandeglang_operator)
    content = csv_bytes(family_rows())
    upload(client, content, capture=django_capture_on_commit_callbacks)
    households = list(Household.objects.order_by("pk").values())
    persons = list(Person.objects.order_by("pk").values())
    logs = LogEntry.objects.count()

    batch = upload(client, content, capture=django_capture_on_commit_callbacks)

    assert batch.totals == {"rows": 4, "accepted": 4, "rejected": 0, "keluarga_baru": 0,
                            "keluarga_diubah": 0, "keluarga_tetap": 2, "orang_baru": 0,
                            "orang_diubah": 0, "orang_tetap": 4}
    assert list(Household.objects.order_by("pk").values()) == households
    assert list(Person.objects.order_by("pk").values()) == persons
    assert LogEntry.objects.count() == logs


def test_a_changed_row_updates_only_that_person(
    pandeglang_operator, django_capture_on_commit_callbacks
):
    submit(pandeglang_operator, csv_bytes(family_rows()),
           capture=django_capture_on_commit_callbacks)
    before = {p.pk: p for p in Person.objects.all()}
    logs = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    rows = family_rows()
    rows[1]["pekerjaan"] = "Pedagang"
    rows[3]["pendidikan"] = "sd"  # the member without NIK, found by household, name and date

    batch = submit(pandeglang_operator, csv_bytes(rows),
                   capture=django_capture_on_commit_callbacks)

    assert batch.totals == {"rows": 4, "accepted": 4, "rejected": 0, "keluarga_baru": 0,
                            "keluarga_diubah": 0, "keluarga_tetap": 2, "orang_baru": 0,
                            "orang_diubah": 2, "orang_tetap": 2}
    after = {p.pk: p for p in Person.objects.all()}
    assert set(after) == set(before)
    changed = {pk for pk in after if after[pk].updated_at != before[pk].updated_at
               or after[pk].occupation != before[pk].occupation
               or after[pk].schooling != before[pk].schooling}
    wife, icih = Person.objects.get(nik=NIK_WIFE), Person.objects.get(name="Mak Icih")
    assert changed == {wife.pk, icih.pk}
    assert (wife.occupation, icih.schooling) == ("Pedagang", "sd")
    assert {p.pk: trail(p, after=logs) for p in Person.objects.all() if trail(p, after=logs)} == {
        wife.pk: [(LogEntry.Action.UPDATE, ["occupation"])],
        icih.pk: [(LogEntry.Action.UPDATE, ["schooling"])],
    }
    assert [h for h in Household.objects.all() if trail(h, after=logs)] == []


def test_a_changed_household_is_updated_once(
    pandeglang_operator, django_capture_on_commit_callbacks
):
    submit(pandeglang_operator, csv_bytes(family_rows()),
           capture=django_capture_on_commit_callbacks)
    rows = family_rows()
    for values in rows[:3]:
        values["desil"] = "3"
    batch = submit(pandeglang_operator, csv_bytes(rows),
                   capture=django_capture_on_commit_callbacks)
    assert batch.totals["keluarga_diubah"] == 1
    assert batch.totals["keluarga_tetap"] == 1
    assert batch.totals["orang_tetap"] == 4
    assert Household.objects.get(no_kk=KK_1).decile == 3


# --- reports and templates --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_error_report_has_the_original_columns_and_kesalahan(
    fmt, pandeglang_operator, api_as, django_capture_on_commit_callbacks
):
    client = api_as(pandeglang_operator)
    rows = [row(), row(no_kk=KK_2, nik="", desil="11", jenis_kelamin="X"),
            row(no_kk=KK_3, nik="", alamat="=HYPERLINK(\"http://x\")")]
    batch = submit(pandeglang_operator, csv_bytes(rows),
                   capture=django_capture_on_commit_callbacks)
    response = client.get(f"{IMPORTS}{batch.pk}/report/", {"fmt": fmt})
    assert response.status_code == 200
    assert f"hasil-impor-{batch.pk}.{fmt}" in response["Content-Disposition"]
    got = table(response)
    # the row number first: the messages cite "baris N" (a header below a title is not row 1)
    assert got[0] == ["baris", *HEADER, "kesalahan"]
    assert len(got) == 4
    assert [r[0] for r in got[1:]] == ["2", "3", "4"]
    assert got[1][1:-1] == [rows[0][c] for c in HEADER]
    assert got[1][-1] == ""
    assert got[2][1 + HEADER.index("desil")] == "11"
    assert got[2][-1] == ("desil: desil harus 1 sampai 10; jenis_kelamin: nilai 'X' tidak "
                          "dikenal; pilihan: L, P")
    # CSV keeps the guard apostrophe; XLSX writes a string cell (never a formula) without it
    guarded = "'" if fmt == "csv" else ""
    assert got[3][1 + HEADER.index("alamat")] == guarded + "=HYPERLINK(\"http://x\")"
    assert got[3][-1] == ""


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_download(fmt, pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).get(f"{IMPORTS}template/pmks_keluarga/",
                                               {"fmt": fmt})
    assert response.status_code == 200
    assert f"templat-pmks_keluarga.{fmt}" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    example = [c.example for c in COLUMNS]
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(content.decode("utf-8-sig")))) == [HEADER, example]
        return
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Data", "Petunjuk"]
    data = [list(r) for r in workbook["Data"].iter_rows(values_only=True)]
    assert data == [HEADER, example]
    guide = [list(r) for r in workbook["Petunjuk"].iter_rows(values_only=True)]
    assert guide[0] == ["kolom", "wajib", "keterangan"]
    assert [g[0] for g in guide[1:len(HEADER) + 1]] == HEADER
    assert guide[1] == ["no_kk", "ya", "No. KK, 16 digit, kolom bertipe Teks"]
    assert guide[3][:2] == ["rt", "tidak"]
    # how to type NIK and dates
    instructions = " ".join(str(g[0]) for g in guide[len(HEADER) + 1:] if g and g[0])
    assert "format kolomnya sebagai Teks SEBELUM mengetik" in instructions
    assert "Excel menyimpan angka hanya 15 digit" in instructions
    assert "Tanggal: hari dulu, lalu bulan, lalu tahun" in instructions
    assert "80 = 1980, 05 = 2005" in instructions


def test_template_of_an_unknown_kind_is_404(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).get(f"{IMPORTS}template/tidak_ada/", {"fmt": "csv"})
    assert response.status_code == 404


def test_the_template_imports_cleanly(pandeglang_operator, api_as,
                                      django_capture_on_commit_callbacks):
    client = api_as(pandeglang_operator)
    template = client.get(f"{IMPORTS}template/pmks_keluarga/", {"fmt": "xlsx"})
    batch = submit(pandeglang_operator, b"".join(template.streaming_content),
                   name="templat.xlsx", capture=django_capture_on_commit_callbacks)
    assert batch.errors == []
    assert batch.totals["orang_baru"] == 1


# --- whole-file failures ----------------------------------------------------------------------


def test_missing_required_column_fails_the_batch(
    pandeglang_operator, api_as, django_capture_on_commit_callbacks
):
    header = [c for c in HEADER if c not in ("nama", "jenis_kelamin")]
    batch = upload(api_as(pandeglang_operator), csv_bytes(family_rows(), header=header),
                   capture=django_capture_on_commit_callbacks)
    assert batch.status == "gagal"
    assert batch.message == ("Kolom wajib tidak ada: nama, jenis_kelamin. Tidak ada data yang "
                             "disimpan.")
    assert (batch.totals, batch.errors) == ({}, [])
    assert not Household.objects.exists()


def test_empty_file_fails_the_batch(pandeglang_operator, django_capture_on_commit_callbacks):
    batch = submit(pandeglang_operator, b"", capture=django_capture_on_commit_callbacks)
    assert batch.status == "gagal"
    assert batch.message == ("Berkas kosong: baris pertama harus berisi nama kolom. Tidak ada "
                             "data yang disimpan.")


def test_unknown_file_type_is_refused_before_storing(pandeglang_operator):
    from dinsos.tabular import TableError

    with pytest.raises(TableError, match="Format berkas tidak dikenal: gunakan .csv atau .xlsx."):
        importing.import_submit(actor=pandeglang_operator, kind="pmks_keluarga",
                                upload=SimpleUploadedFile("data.txt", b"x"), dry_run=True)
    assert not ImportBatch.objects.exists()


def test_unknown_file_type_is_refused_at_upload(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(
        IMPORTS, {"kind": "pmks_keluarga", "file": SimpleUploadedFile("data.txt", b"x"),
                  "dry_run": "true"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "file": ["Format berkas tidak dikenal: gunakan .csv atau .xlsx."]
    }
    assert not ImportBatch.objects.exists()


def test_csv_saved_by_excel_in_windows_1252_is_read(pandeglang_operator):
    content = csv_bytes([row(alamat="Kp. Citeureup Désa")]).decode().encode("cp1252")
    batch = ImportBatch.objects.create(
        kind="pmks_keluarga", filename="ansi.csv", sha256="0" * 64, dry_run=False,
        area_id="36.01", created_by=pandeglang_operator,
        file=SimpleUploadedFile("ansi.csv", content),
    )
    importing.import_run(batch)
    assert batch.status == "diimpor"
    assert Household.objects.get().address == "Kp. Citeureup Désa"


def test_an_unexpected_error_fails_the_batch_instead_of_leaving_it_running(
        pandeglang_operator, monkeypatch, caplog):
    """The exception's text (English, table names: "insert or update on table …") went to the
    uploader; it goes to the log, and the batch says to ask the admin naming its number."""
    batch = ImportBatch.objects.create(
        kind="pmks_keluarga", filename="a.csv", sha256="0" * 64, dry_run=False,
        area_id="36.01", created_by=pandeglang_operator,
        file=SimpleUploadedFile("a.csv", csv_bytes([row()])),
    )
    importer = importing.IMPORTERS["pmks_keluarga"]

    def boom(**kwargs):
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(importer, "run", boom)
    importing.import_run(batch)
    batch.refresh_from_db()
    assert batch.status == "gagal"
    assert batch.message == ("Kesalahan sistem saat mengimpor; tidak ada data yang disimpan. "
                             f"Hubungi admin dan sebutkan nomor impor {batch.pk}.")
    assert f"import batch {batch.pk} failed" in caplog.text and "disk penuh" in caplog.text


def test_auditor_cannot_upload(auditor, api_as):
    response = api_as(auditor).post(
        IMPORTS, {"kind": "pmks_keluarga", "file": SimpleUploadedFile("a.csv", b"no_kk\n"),
                  "dry_run": "true"}, format="multipart")
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


# --- scoping of import batches ----------------------------------------------------------------


def test_batches_of_another_district_are_404_and_not_listed(
    pandeglang_operator, lebak_operator, province_operator, api_as,
    django_capture_on_commit_callbacks
):
    own = submit(pandeglang_operator, csv_bytes(family_rows()),
                 capture=django_capture_on_commit_callbacks)
    other = submit(lebak_operator, csv_bytes([row(no_kk="3602011204160001",
                                                  nik="3602011708800001",
                                                  kode_desa=DESA_LEBAK)]),
                   capture=django_capture_on_commit_callbacks)
    client = api_as(pandeglang_operator)
    assert ids(client.get(IMPORTS)) == {own.pk}
    assert client.get(f"{IMPORTS}{own.pk}/").status_code == 200
    assert client.get(f"{IMPORTS}{other.pk}/").status_code == 404
    assert client.get(f"{IMPORTS}{other.pk}/report/", {"fmt": "csv"}).status_code == 404
    assert ids(api_as(lebak_operator).get(IMPORTS)) == {other.pk}
    assert ids(api_as(province_operator).get(IMPORTS)) == {own.pk, other.pk}


# --- constant memory --------------------------------------------------------------------------


def write_big_csv(path, n_rows: int, *, offset: int) -> None:
    """n_rows persons, 4 per household, valid and distinct No. KK and NIK (offset keeps files
    apart). Only the required columns and "hubungan" are filled, to keep the test quick."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(offset, offset + n_rows):
            kk = i // 4
            sex = "L" if i % 2 == 0 else "P"
            born = datetime.date(1950, 1, 1) + datetime.timedelta(days=i % 20000)
            values = {
                "no_kk": build_no_kk("36.01.01", datetime.date(2015, 1, 1)
                                     + datetime.timedelta(days=kk // 9000), kk % 9000 + 1),
                "alamat": f"Kp. Uji {kk}", "kode_desa": DESA_PANDEGLANG,
                "nik": build_nik("36.01.01", born, sex, i // 20000 + 1),
                "nama": f"Warga Uji {i}", "tanggal_lahir": born.isoformat(),
                "jenis_kelamin": sex, "hubungan": "kepala" if i % 4 == 0 else "",
            }
            writer.writerow([values.get(c, "") for c in HEADER])


def measure(actor, path) -> tuple[int, float, object]:
    """Peak of traced memory above the start, CPU seconds, and the report of one import."""
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    cpu = time.process_time()
    with path.open("rb") as fileobj:
        report = households_import(actor=actor, fileobj=fileobj, filename=path.name,
                                   dry_run=False)
    return (tracemalloc.get_traced_memory()[1] - start, time.process_time() - cpu, report)


@pytest.mark.bench
def test_memory_stays_flat_with_file_size(province_operator, tmp_path, monkeypatch):
    # chunks of 2,000 rows on both paths, so the small file is one chunk and the big one ten:
    # memory is bounded by a chunk, not by the file (with the COPY path's 25,000-row chunks
    # both files were one chunk, and the test compared a chunk of 20,000 rows with one of 2,000)
    from pmks import importing

    monkeypatch.setattr(importing, "COPY_CHUNK_SIZE", 2_000)
    small, big = tmp_path / "kecil.csv", tmp_path / "besar.csv"
    write_big_csv(small, 2_000, offset=0)
    write_big_csv(big, 20_000, offset=100_000)
    warm = tmp_path / "pemanasan.csv"
    write_big_csv(warm, 8, offset=500_000)
    tracemalloc.start()
    try:
        measure(province_operator, warm)  # lazy imports and caches
        small_peak, small_cpu, small_report = measure(province_operator, small)
        big_peak, big_cpu, big_report = measure(province_operator, big)
    finally:
        tracemalloc.stop()
    assert (small_report.rows, small_report.rejected) == (2_000, 0)
    assert (big_report.rows, big_report.rejected) == (20_000, 0)
    assert big_report.counts == {"keluarga_baru": 5_000, "keluarga_diubah": 0,
                                 "orang_baru": 20_000, "orang_diubah": 0}
    assert Person.objects.filter(name__startswith="Warga Uji").count() == 22_008
    assert Household.objects.count() == 5_500 + 2
    assert big_peak < 3 * small_peak, (small_peak, big_peak)
    # and time grows about linearly (10x the rows, about 11x the CPU), not quadratically; CPU
    # time, so a busy machine does not matter (wall time: about 50 s on SQLite, tracemalloc on)
    assert big_cpu < 20 * small_cpu, (small_cpu, big_cpu)


def test_a_record_the_import_changes_gets_a_new_version(pandeglang_operator):
    """The API's ETag / If-Match and the staff pages' versions read ``updated_at``: a household
    or person the import changes must move it, or a client holding the old version would
    overwrite the import's change unawares (the row path wrote the fields only)."""
    from dinsos.versions import current_version

    def run(rows):
        households_import(actor=pandeglang_operator, fileobj=io.BytesIO(csv_bytes(rows)),
                          filename="keluarga.csv", dry_run=False)
        household, person = Household.objects.get(no_kk=KK_1), Person.objects.get(nik=NIK_HEAD)
        return current_version(household), current_version(person)

    first = run([row()])
    assert run([row()]) == first  # nothing changed: the same versions
    household_version, person_version = run([row(alamat="Kp. Baru", pekerjaan="Pedagang")])
    assert household_version != first[0] and person_version != first[1]


@pytest.mark.parametrize("chunk_size", [None, 1, 2])
def test_each_household_is_counted_once_whatever_the_chunks(pandeglang_operator, chunk_size):
    """The report counts a household once per file, in the chunk of its first accepted row: a
    household whose rows span two chunks was counted in each (chunks of 2: KK_1 new in the
    first, then 'unchanged' in the second — 4 households in a file of 2)."""
    wife = row(nik=NIK_WIFE, nama="Ani", tanggal_lahir="1985-03-19", jenis_kelamin="P",
               hubungan="pasangan")
    child = row(nik=NIK_CHILD, nama="Ujang", tanggal_lahir="2010-02-01", hubungan="anak")
    other = row(no_kk=KK_2, alamat="Kp. Dua", nik="", nama="Neng", tanggal_lahir="2011-05-06",
                jenis_kelamin="P")
    rows = [row(), wife, child, other, {**other, "nama": "Enok"}]

    def run():
        report = households_import(actor=pandeglang_operator,
                                   fileobj=io.BytesIO(csv_bytes(rows)), filename="keluarga.csv",
                                   dry_run=False, chunk_size=chunk_size)
        return {k: v for k, v in report.counts.items() if k.startswith("keluarga")}

    assert run() == {"keluarga_baru": 2, "keluarga_diubah": 0}
    assert run() == {"keluarga_baru": 0, "keluarga_diubah": 0, "keluarga_tetap": 2}
    rows[:3] = [{**r, "alamat": "Kp. Baru"} for r in rows[:3]]  # KK_1 moves
    assert run() == {"keluarga_baru": 0, "keluarga_diubah": 1, "keluarga_tetap": 1}


def test_a_person_without_nik_twice_in_one_household_is_rejected_the_second_time(
        pandeglang_operator):
    """The import finds a person without NIK by No. KK, name key and birth date: two such rows
    in a file would both be that one person (the row path applied both in turn, the COPY path
    one of them), so the second is rejected, as a NIK twice is."""
    icih = row(nik="", nama="Mak Icih", tanggal_lahir="1950-01-01", hubungan="famili")
    rows = [row(), icih, {**icih, "nama": "MAK ICIH", "pekerjaan": "Guru"},
            {**icih, "nama": "Mak Iyah"}, {**icih, "no_kk": KK_2, "alamat": "Kp. Dua"}]
    report = households_import(actor=pandeglang_operator, fileobj=io.BytesIO(csv_bytes(rows)),
                               filename="keluarga.csv", dry_run=False)
    assert [(e["row"], e["column"]) for e in report.errors] == [(4, "nama")]
    assert "baris 3" in report.errors[0]["message"]
    assert sorted(Person.objects.filter(nik__isnull=True).values_list(
        "name", "occupation", "household__no_kk")) == [
        ("Mak Icih", "Buruh tani", KK_1), ("Mak Icih", "Buruh tani", KK_2),
        ("Mak Iyah", "Buruh tani", KK_1)]


def test_a_cell_too_long_for_the_reader_refuses_the_file_with_its_row(pandeglang_operator):
    """Python's csv module reads no cell over 131,072 characters: the import failed with a bare
    ``_csv.Error`` (a batch then said "Kesalahan sistem"); it is a file error naming the row."""
    from dinsos.tabular import TableError

    rows = [row(), {**row(nik=NIK_WIFE, nama="Ani", tanggal_lahir="1985-03-19",
                          jenis_kelamin="P", hubungan="pasangan"), "catatan": "x" * 140_000}]
    with pytest.raises(TableError, match="baris 3: sel lebih panjang dari 131.072 karakter"):
        households_import(actor=pandeglang_operator, filename="keluarga.csv", dry_run=False,
                          fileobj=io.BytesIO(csv_bytes(rows, header=[*HEADER, "catatan"])))
    assert not Person.objects.exists()


TEXT_COLUMNS = {"pmks_keluarga": {"no_kk", "nik"},
                "psks_tenaga": {"nik", "telepon", "npwp", "nomor_rekening"}}


@pytest.mark.parametrize("kind", sorted(importing.IMPORTERS))  # every importer has its line
@pytest.mark.parametrize("surface", ["page", "admin", "api"])
def test_the_templates_long_number_columns_are_text(kind, surface, province_operator):
    """Found in a browser walk: the template's instructions say "format the NIK and No. KK
    columns as Text before typing", yet every column was General, so a NIK typed into the
    template became 3.60101E+15. Now those columns (and a phone or account number, whose
    leading 0 Excel drops) are Text, the example cell and the column itself."""
    from django.urls import reverse

    from tests.helpers import client_for

    client = client_for(province_operator)
    url = {"page": reverse("import-template", args=[kind, "xlsx"]),
           "admin": reverse("admin:dinsos_importbatch_template", args=[kind, "xlsx"]),
           "api": f"{IMPORTS}template/{kind}/?fmt=xlsx"}[surface]
    response = client.get(url)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))["Data"]
    header = [c.value for c in sheet[1]]
    assert header == [c.name for c in importing.IMPORTERS[kind].columns]
    text = set()
    for index, name in enumerate(header, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        if sheet.column_dimensions[letter].number_format == "@":
            assert sheet.cell(row=2, column=index).number_format == "@"
            text.add(name)
    assert text == TEXT_COLUMNS[kind]


# found by a deep schemathesis run: desil "²" gave the row error "invalid literal for int()"
def test_import_superscript_decile_reason_is_indonesian(pandeglang_operator, settings, tmp_path,
                                                        django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    batch = submit(pandeglang_operator, csv_bytes([row(desil="²")]),
                   capture=django_capture_on_commit_callbacks)
    assert batch.errors == [{"row": 2, "column": "desil", "message": "desil harus 1 sampai 10"}]


#: Every route that serves an import's error report, and how to ask it for a batch.
REPORT_ROUTES = {
    "import-report": lambda pk: f"/impor/{pk}/laporan.csv",
    "admin:dinsos_importbatch_report": lambda pk: f"/admin/dinsos/importbatch/{pk}/laporan.csv",
    "importbatch-report": lambda pk: f"{IMPORTS}{pk}/report/?fmt=csv",
}


def test_every_import_report_route_is_declared():
    from tests.helpers import named_routes

    found = {name.split(":")[-1] if name.startswith("dinsos-api") else name
             for route, name in named_routes()
             if ("impor" in route or "importbatch" in name) and "report" in name}
    assert found == set(REPORT_ROUTES)


@pytest.mark.parametrize("route", sorted(REPORT_ROUTES))
def test_the_error_report_masks_identifiers_for_a_masked_role_and_is_an_audited_read(
        route, pandeglang_operator, make_user, django_capture_on_commit_callbacks):
    """Found by an isolation review: the Auditor, Pimpinan and Keuangan read the uploaded NIK
    and No. KK whole in the error report, and the download wrote no ACCESS entry."""
    from dinsos import roles
    from dinsos.validators import mask_nik
    from tests.helpers import client_for

    rows = [row(), row(no_kk=KK_2, nik=NIK_WIFE, nama="Siti Aminah", tanggal_lahir="19-03-1985",
                        jenis_kelamin="P", desil="11")]
    batch = submit(pandeglang_operator, csv_bytes(rows),
                   capture=django_capture_on_commit_callbacks)
    url = REPORT_ROUTES[route](batch.pk)
    accesses = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    before = accesses.count()
    masked = client_for(make_user(roles.AUDITOR)).get(url)
    assert masked.status_code == 200
    text = b"".join(masked.streaming_content).decode("utf-8-sig")
    for value in (KK_1, KK_2, NIK_HEAD, NIK_WIFE):
        assert value not in text and mask_nik(value) in text, route
    assert "desil harus 1 sampai 10" in text
    assert accesses.count() == before + 1
    assert accesses.latest("pk").additional_data["query"] == {"batch": str(batch.pk),
                                                              "masked": "True"}
    whole = b"".join(client_for(pandeglang_operator).get(url).streaming_content).decode()
    assert KK_2 in whole and NIK_WIFE in whole


# --- status perkawinan and penyakit kronis/menahun ----------------------------------------------

PERSON_KEEPS = ("marital_status", "chronic_illness")


def keeps(*names) -> dict:
    """{name: (marital status, chronic illness)} of the named persons."""
    return {name: tuple(Person.objects.filter(name=name).values_list(*PERSON_KEEPS).get())
            for name in names}


def test_status_kawin_reads_siak_codes_and_labels_and_penyakit_kronis_its_labels(
        pandeglang_operator, django_capture_on_commit_callbacks):
    """SIAK exports the marital status as its code (1–4) or its label, in capitals or not,
    under its own header STATUS_KAWIN; the illnesses are read by value or by the form's
    label. An empty cell is not known."""
    rows = family_rows()
    for values, status, illness in zip(rows, ["2", "KAWIN", "Belum Kawin", "4"],
                                       ["Hipertensi (darah tinggi)", "tidak", "", "TBC"],
                                       strict=True):
        values.update({"STATUS_KAWIN": status, "penyakit_kronis": illness})
    rows.append(row(no_kk=KK_3, nik="", nama="Dudung", tanggal_lahir="1960-05-05",
                    STATUS_KAWIN="3", penyakit_kronis="kencing manis"))
    rows.append(row(no_kk=KK_3, nik="", nama="Euis", tanggal_lahir="1962-06-06",
                    jenis_kelamin="P", hubungan="famili", STATUS_KAWIN="Cerai Mati",
                    penyakit_kronis="Stroke"))
    rows.append(row(no_kk=KK_3, nik="", nama="Ujang", tanggal_lahir="1990-07-07",
                    hubungan="anak", STATUS_KAWIN="1", penyakit_kronis="lainnya"))
    header = ["STATUS_KAWIN" if c == "status_kawin" else c for c in HEADER]
    batch = submit(pandeglang_operator, csv_bytes(rows, header=header),
                   capture=django_capture_on_commit_callbacks)
    assert batch.errors == []
    assert batch.totals["orang_baru"] == 7
    assert keeps("Budi Santoso", "Siti Aminah", "M. Rizky", "Mak Icih", "Dudung", "Euis",
                 "Ujang") == {
        "Budi Santoso": ("kawin", "hipertensi"), "Siti Aminah": ("kawin", "tidak"),
        "M. Rizky": ("belum_kawin", ""), "Mak Icih": ("cerai_mati", "tbc"),
        "Dudung": ("cerai_hidup", "diabetes"), "Euis": ("cerai_mati", "stroke"),
        "Ujang": ("belum_kawin", "lainnya"),
    }


def test_an_unknown_status_kawin_or_penyakit_kronis_is_a_row_error(
        pandeglang_operator, django_capture_on_commit_callbacks):
    rows = family_rows()
    rows[1]["status_kawin"] = "duda"
    rows[2]["penyakit_kronis"] = "flu"
    rows[3]["status_kawin"] = "5"
    batch = submit(pandeglang_operator, csv_bytes(rows),
                   capture=django_capture_on_commit_callbacks)
    choices = "belum_kawin, kawin, cerai_hidup, cerai_mati"
    assert sorted(batch.errors, key=lambda e: (e["row"], e["column"])) == [
        {"row": 3, "column": "status_kawin",
         "message": f"nilai 'duda' tidak dikenal; pilihan: {choices}"},
        {"row": 4, "column": "penyakit_kronis",
         "message": "nilai 'flu' tidak dikenal; pilihan: tidak, hipertensi, rematik, asma, "
                    "jantung, diabetes, tbc, stroke, kanker, lainnya"},
        {"row": 5, "column": "status_kawin",
         "message": f"nilai '5' tidak dikenal; pilihan: {choices}"},
    ]
    assert batch.totals["rejected"] == 3
    assert list(Person.objects.values_list("name", flat=True)) == ["Budi Santoso"]


def test_a_file_without_the_new_columns_keeps_what_the_persons_hold(
        pandeglang_operator, django_capture_on_commit_callbacks):
    """A file made before status_kawin and penyakit_kronis were columns still imports, and
    changes nothing of them; a new person gets them blank (not known)."""
    rows = family_rows()
    rows[0].update(status_kawin="2", penyakit_kronis="hipertensi")
    rows[3].update(status_kawin="4", penyakit_kronis="rematik")  # the member without NIK
    submit(pandeglang_operator, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    old_header = [c for c in HEADER if c not in ("status_kawin", "penyakit_kronis")]
    rows = family_rows()
    rows[0]["pekerjaan"] = "Petani"  # only this person changes
    rows.append(row(no_kk=KK_3, nik="", nama="Dudung", tanggal_lahir="1960-05-05"))

    for _ in range(2):  # and once again: still nothing more
        batch = submit(pandeglang_operator, csv_bytes(rows, header=old_header),
                       capture=django_capture_on_commit_callbacks)
        assert batch.errors == []
        assert keeps("Budi Santoso", "Mak Icih", "Siti Aminah", "Dudung") == {
            "Budi Santoso": ("kawin", "hipertensi"), "Mak Icih": ("cerai_mati", "rematik"),
            "Siti Aminah": ("", ""), "Dudung": ("", ""),
        }
    assert Person.objects.get(nik=NIK_HEAD).occupation == "Petani"
    assert batch.totals["orang_tetap"] == 5
    # the columns again, empty: not known any more (a file without them is not one with
    # them empty, on either lane — nor by the rows' fingerprints)
    rows[0].update(status_kawin="", penyakit_kronis="")
    submit(pandeglang_operator, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    assert keeps("Budi Santoso", "Mak Icih") == {"Budi Santoso": ("", ""),
                                                 "Mak Icih": ("", "")}


def test_a_re_import_that_changes_only_status_kawin_updates_the_person(
        pandeglang_operator, django_capture_on_commit_callbacks):
    rows = family_rows()
    rows[0]["status_kawin"] = "2"
    rows[3].update(status_kawin="2", penyakit_kronis="asma")
    submit(pandeglang_operator, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    logs = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    rows[0]["status_kawin"] = "Cerai Mati"
    rows[3]["status_kawin"] = ""  # an empty cell: not known (the stored one is cleared)

    batch = submit(pandeglang_operator, csv_bytes(rows),
                   capture=django_capture_on_commit_callbacks)

    assert batch.totals == {"rows": 4, "accepted": 4, "rejected": 0, "keluarga_baru": 0,
                            "keluarga_diubah": 0, "keluarga_tetap": 2, "orang_baru": 0,
                            "orang_diubah": 2, "orang_tetap": 2}
    head, icih = Person.objects.get(nik=NIK_HEAD), Person.objects.get(name="Mak Icih")
    assert (head.marital_status, icih.marital_status, icih.chronic_illness) == (
        "cerai_mati", "", "asma")
    assert {p.pk: trail(p, after=logs) for p in Person.objects.all() if trail(p, after=logs)} == {
        head.pk: [(LogEntry.Action.UPDATE, ["marital_status"])],
        icih.pk: [(LogEntry.Action.UPDATE, ["marital_status"])],
    }


# --- columns a file leaves out --------------------------------------------------------------

#: a district's own export: the required columns and the NIK, none of the optional ones
SIAK_HEADER = ["no_kk", "alamat", "kode_desa", "nik", "nama", "tanggal_lahir", "jenis_kelamin"]
HOUSING = ("rt", "rw", "decile", "floor", "wall", "water_source", "lighting", "cooking_fuel",
           "toilet")
PERSONAL = ("birth_place", "relationship", "disability", "schooling", "occupation")


def held() -> tuple[dict, dict]:
    """What the households ({No. KK: housing, head}) and persons ({NIK or name: fields})
    hold."""
    households = {h.no_kk: (*(getattr(h, f) for f in HOUSING), h.head and h.head.name)
                  for h in Household.objects.select_related("head")}
    persons = {p.nik or p.name: tuple(getattr(p, f) for f in PERSONAL)
               for p in Person.objects.all()}
    return households, persons


@pytest.mark.parametrize("chunk_size", [1, 1000])
def test_a_file_without_the_optional_columns_keeps_what_households_and_persons_hold(
        pandeglang_operator, chunk_size):
    """A district's own export may carry only the required columns and the NIK. Imported over
    the registry it must change nothing of what it does not carry — the housing, the desil,
    the relationship to the head (and so the head), the disability, the schooling, the
    occupation — where an empty cell would clear them; a household or person it adds gets
    them blank (disabilitas 'tidak', no head). The rows of one No. KK still agree when a chunk
    ends between them (``chunk_size=1``: the second row finds the household the first wrote)."""
    rows = family_rows()
    rows[3].update(rt="007", rw="008", desil="3", lantai="keramik")
    households_import(actor=pandeglang_operator, fileobj=io.BytesIO(csv_bytes(rows)),
                      filename="keluarga.csv", dry_run=False)
    households, persons = held()
    assert households[KK_1] == ("001", "002", 1, "tanah", "bambu", "sumur_terlindung",
                                "pln_450", "kayu", "bersama", "Budi Santoso")
    rows = family_rows()
    rows.insert(2, row(nik=build_nik("36.01.01", datetime.date(2012, 5, 6), "P", 9),
                       nama="Adik Baru", tanggal_lahir="2012-05-06", jenis_kelamin="P"))
    rows.append(row(no_kk=KK_3, alamat="Kp. Baru", nik="", nama="Keluarga Baru",
                    tanggal_lahir="1970-01-01"))
    rows.append(row(no_kk=KK_3, alamat="Kp. Baru", nik="", nama="Anak Keluarga Baru",
                    tanggal_lahir="2000-01-01"))

    for _ in range(2):  # and again: nothing more
        report = households_import(actor=pandeglang_operator,
                                   fileobj=io.BytesIO(csv_bytes(rows, header=SIAK_HEADER)),
                                   filename="keluarga.csv", dry_run=False, chunk_size=chunk_size)
        assert report.errors == []
        assert held() == (
            {**households, KK_3: ("", "", None, "", "", "", "", "", "", None)},
            {**persons,
             build_nik("36.01.01", datetime.date(2012, 5, 6), "P", 9): ("", "", "tidak", "", ""),
             "Keluarga Baru": ("", "", "tidak", "", ""),
             "Anak Keluarga Baru": ("", "", "tidak", "", "")})
    assert report.totals()["orang_tetap"] == 7  # the second time, every person


def test_the_template_says_an_optional_column_may_be_left_out():
    _header, _example, guide = importing.template_rows("pmks_keluarga")
    lines = [line[0] for line in guide if len(line) == 1]
    assert any("boleh tidak ada di berkas" in line and "tetap" in line for line in lines)


def test_a_row_without_nik_finds_the_registered_person_and_keeps_the_nik(pandeglang_operator):
    """A file without the NIK column (or with the NIK cell left empty) names persons already
    registered with a NIK: each row finds its person by No. KK, name and birth date and
    updates it, keeping the stored NIK — not a second person without NIK beside the first
    (which made every registered member of the file a duplicate, and a kepala twice, so the
    head's row was refused)."""
    households_import(actor=pandeglang_operator, fileobj=io.BytesIO(csv_bytes(family_rows())),
                      filename="keluarga.csv", dry_run=False)
    ids_before = dict(Person.objects.values_list("name", "pk"))
    rows = family_rows()
    rows[1]["pekerjaan"] = "Pedagang"
    header = [c for c in HEADER if c != "nik"]

    report = households_import(actor=pandeglang_operator,
                               fileobj=io.BytesIO(csv_bytes(rows, header=header)),
                               filename="keluarga.csv", dry_run=False)

    assert report.errors == []
    assert (report.totals()["orang_baru"], report.totals()["orang_diubah"]) == (0, 1)
    assert dict(Person.objects.values_list("name", "pk")) == ids_before
    assert dict(Person.objects.values_list("name", "nik")) == {
        "Budi Santoso": NIK_HEAD, "Siti Aminah": NIK_WIFE, "M. Rizky": NIK_CHILD,
        "Mak Icih": None}
    assert Person.objects.get(nik=NIK_WIFE).occupation == "Pedagang"
    # an empty NIK cell in a file that has the column: the same
    rows[2].update(nik="", pendidikan="sma")
    report = households_import(actor=pandeglang_operator, fileobj=io.BytesIO(csv_bytes(rows)),
                               filename="keluarga.csv", dry_run=False)
    assert report.errors == [] and Person.objects.count() == 4
    assert Person.objects.get(nik=NIK_CHILD).schooling == "sma"
