"""Imports of files made the way Excel and district staff make them (issue #13): number cells
holding identity numbers, Windows-1252 text after the first 64 KiB, Indonesian dates, KK/SIAK
labels and headers, merged cells, title rows, second sheets, guard apostrophes; and the rows
an import holds back instead of overwriting another person."""

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from dinsos import importing
from dinsos.tabular import csv_stream, xlsx_file
from dinsos.validators import build_nik, build_no_kk
from pmks import importing as pmks_importing
from pmks.models import Household, Person
from pmks.staging import Stage
from tests.factories import DESA_PANDEGLANG
from tests.pmks.test_import import HEADER, KK_1, KK_2, NIK_HEAD, row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]

NIK_ANI = "3601014803540120"  # woman, 08-03-1954 — Excel's rounding of …0123 and of …0124
ANI = {"nik": NIK_ANI, "nama": "Ani Korban", "tanggal_lahir": "08-03-1954",
       "jenis_kelamin": "P", "hubungan": "kepala"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def xlsx(rows, header=HEADER, *, prepare=None) -> bytes:
    """An XLSX as Excel saves it: ints and floats become number cells (Excel keeps 15
    significant digits: 3601014803540123 is saved as 3601014803540120)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(c, "") for c in header])
    if prepare:
        prepare(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADER, *, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(c, "") for c in header])
    return out.getvalue().encode(encoding)


def run(actor, content: bytes, name="keluarga.xlsx", *, dry_run=False):
    batch = importing.import_submit(actor=actor, kind="pmks_keluarga",
                                    upload=SimpleUploadedFile(name, content), dry_run=dry_run,
                                    run_now=True)
    batch.refresh_from_db()
    return batch


# --- 1–3: identity numbers Excel has rounded --------------------------------------------------

NUMBER_CELL = ("NIK tersimpan sebagai ANGKA di Excel ({v}), bukan teks: Excel membulatkan angka "
               "lebih dari 15 digit dan membuang nol di depan, jadi nomornya mungkin sudah "
               "berubah. Format kolom nik sebagai Teks, lalu ketik ulang nomornya dari dokumen "
               "aslinya.")


@pytest.mark.parametrize("cell", [3601014803540120, 3.60101480354012e15],
                         ids=["integer", "float"])
def test_a_nik_in_a_number_cell_is_refused_and_overwrites_nobody(cell, pandeglang_operator):
    run(pandeglang_operator, csv_bytes([row(**ANI)]), "ani.csv")
    # Budi Lain's true NIK 3601014803540124, typed into a number cell: Excel saved …0120
    batch = run(pandeglang_operator, xlsx([row(no_kk=KK_2, nik=cell, nama="Budi Lain",
                                               tanggal_lahir="08-03-1954", jenis_kelamin="P")]))
    assert batch.errors == [{"row": 2, "column": "nik",
                             "message": NUMBER_CELL.format(v="3601014803540120")}]
    assert batch.totals["accepted"] == 0
    assert batch.message == "0 baris diterima, 1 ditolak."
    assert Person.objects.get(nik=NIK_ANI).name == "Ani Korban"
    assert not Household.objects.filter(no_kk=KK_2).exists()


def test_a_no_kk_in_a_number_cell_is_refused(pandeglang_operator):
    batch = run(pandeglang_operator, xlsx([row(no_kk=3601011103140450, nik="")]))
    assert batch.errors == [{"row": 2, "column": "no_kk", "message": (
        "NO. KK tersimpan sebagai ANGKA di Excel (3601011103140450), bukan teks: Excel "
        "membulatkan angka lebih dari 15 digit dan membuang nol di depan, jadi nomornya mungkin "
        "sudah berubah. Format kolom no_kk sebagai Teks, lalu ketik ulang nomornya dari dokumen "
        "aslinya.")}]
    assert not Household.objects.exists()


def test_another_persons_name_under_a_stored_nik_is_held_for_review(pandeglang_operator):
    run(pandeglang_operator, csv_bytes([row(**ANI)]), "ani.csv")
    batch = run(pandeglang_operator, csv_bytes([row(**{**ANI, "nama": "Budi Lain"})]), "b.csv")
    assert batch.status == "diimpor"
    assert batch.errors == [{"row": 2, "column": "nama", "held": True, "message": (
        "Diduga identitas tertukar: NIK ini terdaftar atas nama 'Ani Korban', bukan 'Budi Lain'. "
        "Baris tidak diterapkan; periksa NIK di KTP/KK (angka NIK yang dibulatkan Excel atau "
        "salah ketik membuat dua orang ber-NIK sama), lalu perbaiki data orang itu satu per "
        "satu.")}]
    assert batch.totals == {"rows": 1, "accepted": 0, "rejected": 0, "ditahan": 1,
                            "keluarga_baru": 0, "keluarga_diubah": 0, "orang_baru": 0,
                            "orang_diubah": 0}
    assert batch.message == ("0 baris diterima, 0 ditolak. 1 baris ditahan untuk diperiksa "
                             "(diduga identitas tertukar); lihat daftar kesalahan.")
    assert Person.objects.get(nik=NIK_ANI).name == "Ani Korban"


def test_spelling_variants_are_applied_and_case_only_changes_keep_the_stored_spelling(
        pandeglang_operator):
    run(pandeglang_operator, csv_bytes([row(**ANI), row(nik=NIK_HEAD, hubungan="famili",
                                                        nama="Muhammad Budi")]), "a.csv")
    batch = run(pandeglang_operator, csv_bytes([
        row(**{**ANI, "nama": "ANI KORBAN"}),  # typed in capitals
        row(nik=NIK_HEAD, hubungan="famili", nama="M. Budi"),  # a variant the finder folds
    ]), "b.csv")
    assert batch.errors == []
    assert (batch.totals["orang_tetap"], batch.totals["orang_diubah"]) == (1, 1)
    assert Person.objects.get(nik=NIK_ANI).name == "Ani Korban"
    assert Person.objects.get(nik=NIK_HEAD).name == "M. Budi"


# --- 4: the encoding of the whole file, all or nothing ----------------------------------------


def many_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        born = datetime.date(1960, 1, 1) + datetime.timedelta(days=i)
        rows.append(row(no_kk=build_no_kk("36.01.01", datetime.date(2015, 1, 1), i // 4 + 1),
                        nik=build_nik("36.01.01", born, "L", 1), nama=f"Warga {i}",
                        tanggal_lahir=born.isoformat(),
                        hubungan="kepala" if i % 4 == 0 else "anak"))
    return rows


def test_windows_1252_after_the_first_64_kib_is_read_as_one_encoding(pandeglang_operator):
    rows = many_rows(1506)
    rows[1500]["nama"] = "Dédé Sunarya"  # row 1502 of the sheet
    content = csv_bytes(rows, encoding="cp1252")
    assert content.index("é".encode("cp1252")) > 64 * 1024
    batch = run(pandeglang_operator, content, "ansi.csv")
    assert batch.status == "diimpor", batch.message
    assert batch.totals["orang_baru"] == 1506
    assert Person.objects.filter(name="Dédé Sunarya").exists()


def test_a_batch_that_fails_half_way_stores_nothing(pandeglang_operator, monkeypatch):
    calls = []

    def fail_on_the_second_chunk(persons):
        calls.append(len(persons))
        if len(calls) == 2:
            raise RuntimeError("disk penuh")

    monkeypatch.setattr(pmks_importing, "CHUNK_SIZE", 2)
    monkeypatch.setattr(pmks_importing.households_import, "__kwdefaults__",
                        {"chunk_size": 2})
    monkeypatch.setattr(pmks_importing, "persons_after_save", fail_on_the_second_chunk)
    monkeypatch.setattr(Stage, "_heads", lambda stage: fail_on_the_second_chunk([1, 2]))
    batch = run(pandeglang_operator, csv_bytes(many_rows(4)), "a.csv")
    assert calls == [2, 2]
    assert batch.status == "gagal"
    assert batch.message == ("Kesalahan sistem saat mengimpor; tidak ada data yang disimpan. "
                             f"Hubungi admin dan sebutkan nomor impor {batch.pk}.")
    assert (Household.objects.count(), Person.objects.count()) == (0, 0)


# --- 5: dates as staff type them --------------------------------------------------------------

DATES = [
    ("12 Mei 1980", datetime.date(1980, 5, 12)),
    ("17 Agustus 1945", datetime.date(1945, 8, 17)),
    ("1 Des 1999", datetime.date(1999, 12, 1)),
    ("03-Agu-80", datetime.date(1980, 8, 3)),
    ("12.05.1980", datetime.date(1980, 5, 12)),
    ("12/05/80", datetime.date(1980, 5, 12)),
    ("05/12/05", datetime.date(2005, 12, 5)),
    ("1980-05-12", datetime.date(1980, 5, 12)),
    (29353, datetime.date(1980, 5, 12)),  # an Excel serial number in a number cell
    (datetime.datetime(1975, 1, 31), datetime.date(1975, 1, 31)),  # a date cell
]


def test_indonesian_dates_and_excel_serials_are_read_day_first(pandeglang_operator):
    rows = [row(nik="", nama=f"Orang {chr(65 + i)}", tanggal_lahir=text, hubungan="famili")
            for i, (text, _date) in enumerate(DATES)]
    batch = run(pandeglang_operator, xlsx(rows))
    assert batch.errors == []
    stored = dict(Person.objects.values_list("name", "birth_date"))
    assert stored == {f"Orang {chr(65 + i)}": date for i, (_text, date) in enumerate(DATES)}


BAD_DATES = [
    ("29/02/1999", "tanggal '29/02/1999' tidak ada: Februari 1999 hanya 28 hari"),
    ("31/02/1980", "tanggal '31/02/1980' tidak ada: Februari 1980 hanya 29 hari"),
    ("12/13/1980", "tanggal '12/13/1980' tidak ada: bulan 13 tidak ada (hari ditulis lebih "
                   "dulu, lalu bulan)"),
    ("01-01-2099", "tanggal lahir 01-01-2099 ada di masa depan"),
    ("31 Des 1899", "tanggal lahir 31-12-1899 sebelum tahun 1900"),
    ("kemarin", "tanggal 'kemarin' tidak dikenal; tulis hari-bulan-tahun, mis. 17-08-1980 atau "
                "17 Agustus 1980"),
]


def test_impossible_future_and_old_birth_dates_are_refused_with_the_reason(pandeglang_operator):
    rows = [row(nik="", nama=f"Orang {chr(65 + i)}", tanggal_lahir=text, hubungan="famili")
            for i, (text, _m) in enumerate(BAD_DATES)]
    batch = run(pandeglang_operator, csv_bytes(rows), "tanggal.csv")
    assert batch.errors == [{"row": i, "column": "tanggal_lahir", "message": message}
                            for i, (_t, message) in enumerate(BAD_DATES, start=2)]


def test_a_birth_on_the_offices_today_is_not_in_the_future_whatever_the_process_clock(
        pandeglang_operator):
    """Today is Banten's day (TIME_ZONE, WIB), not the process clock's: at 18:30 UTC on
    1 December it is already 2 December in Pandeglang, and a baby born that day is accepted on
    both lanes (the NIK's year: tests/dinsos/test_validators.py)."""
    baby = row(nik=build_nik("360101", datetime.date(2026, 12, 2), "P", 9), nama="Bayi Baru",
               tanggal_lahir="02-12-2026", jenis_kelamin="P", hubungan="anak")
    with time_machine.travel(datetime.datetime(2026, 12, 1, 18, 30, tzinfo=ZoneInfo("UTC")),
                             tick=False):
        assert datetime.date.today() == datetime.date(2026, 12, 1)  # the process: still the 1st
        batch = run(pandeglang_operator, csv_bytes([row(), baby]), "bayi.csv")
    assert batch.errors == []
    assert Person.objects.get(name="Bayi Baru").birth_date == datetime.date(2026, 12, 2)


# --- 6: labels and headers as printed on a KK or a SIAK export --------------------------------

SIAK_HEADER = {"no_kk": "No. KK", "nama": "Nama Lengkap", "tanggal_lahir": "Tgl Lahir",
               "jenis_kelamin": "JK", "hubungan": "SHDK", "kode_desa": "Kode Desa/Kelurahan",
               "tempat_lahir": "TMPT_LHR"}


@pytest.mark.parametrize("language", ["id", "en"])
def test_kk_and_siak_labels_and_headers_are_understood_in_any_ui_language(
        language, pandeglang_operator):
    values = [("LK", "1", "L", "kepala"), ("Wanita", "Istri", "P", "pasangan"),
              ("laki laki", "4", "L", "anak"), ("PR", "Anak", "P", "anak"),
              ("Pria", "Suami", "L", "pasangan"), ("2", "9", "P", "famili"),
              ("1", "10", "L", "lainnya"), ("Perempuan", "Famili Lain", "P", "famili")]
    rows = [row(nik="", nama=f"Orang {chr(65 + i)}", jenis_kelamin=sex, hubungan=relation)
            for i, (sex, relation, _s, _r) in enumerate(values)]
    header = [SIAK_HEADER.get(c, c.upper()) for c in HEADER]
    content = io.StringIO()
    writer = csv.writer(content)
    writer.writerow(header)
    for values_row in rows:
        writer.writerow([values_row[c] for c in HEADER])
    with translation.override(language):
        batch = run(pandeglang_operator, content.getvalue().encode(), "siak.csv")
    assert batch.errors == []
    assert batch.message == "8 baris diterima, 0 ditolak."
    stored = {p.name: (p.sex, p.relationship) for p in Person.objects.all()}
    assert stored == {f"Orang {chr(65 + i)}": (s, r) for i, (_x, _y, s, r) in enumerate(values)}


@pytest.mark.parametrize("no_kk_header", ["No. KK", "Nomor KK", "NIK KK"])
def test_no_kk_header_variants(no_kk_header, pandeglang_operator):
    header = [no_kk_header if c == "no_kk" else c for c in HEADER]
    content = io.StringIO()
    csv.writer(content).writerows([header, [row(nik="")[c] for c in HEADER]])
    batch = run(pandeglang_operator, content.getvalue().encode(), "kk.csv")
    assert batch.errors == []
    assert Household.objects.get().no_kk == KK_1


# --- 7: messages that lead to the fix ---------------------------------------------------------


def test_apostrophes_spaces_and_dots_in_nik_and_no_kk_are_removed(pandeglang_operator):
    batch = run(pandeglang_operator, csv_bytes([
        row(nik="'3601 0117.0880 0001", no_kk=" 3601.0112.0416.0001 ")]), "a.csv")
    assert batch.errors == []
    assert Person.objects.get().nik == NIK_HEAD
    assert Household.objects.get().no_kk == KK_1


def test_a_nik_excel_wrote_in_scientific_notation_says_so(pandeglang_operator):
    text = run(pandeglang_operator, csv_bytes([row(nik="3.60101E+15")]), "a.csv")
    number = run(pandeglang_operator, xlsx([row(nik=3.60101e15)]))
    assert text.errors == [{"row": 2, "column": "nik", "message": (
        "NIK '3.60101E+15' sudah diubah Excel menjadi angka (notasi ilmiah) dan digitnya hilang. "
        "Format kolom nik sebagai Teks, lalu ketik ulang nomornya dari dokumen aslinya.")}]
    assert number.errors == [{"row": 2, "column": "nik",
                              "message": NUMBER_CELL.format(v="3601010000000000")}]


def test_a_merged_title_row_above_the_header_is_skipped_and_said(pandeglang_operator):
    def title(workbook):
        sheet = workbook.active
        sheet.insert_rows(1, amount=2)
        sheet["A1"] = "DATA PMKS DESA SUMBERJAYA 2026"
        sheet.merge_cells("A1:U1")

    batch = run(pandeglang_operator, xlsx([row()], prepare=title))
    assert batch.errors == []
    assert batch.totals["orang_baru"] == 1
    assert batch.message == ("1 baris diterima, 0 ditolak. Judul kolom ada di baris 3 lembar "
                             "'Sheet1'; baris di atasnya tidak dibaca.")


def test_data_on_the_second_sheet_is_found_and_said(pandeglang_operator):
    def move(workbook):
        data = workbook.active
        cover = workbook.create_sheet("Keterangan", 0)
        cover.append(["Daftar keluarga Kec. Sumur, disusun oleh TKSK"])
        workbook.active = 0
        assert data.title == "Sheet1"

    batch = run(pandeglang_operator, xlsx([row()], prepare=move))
    assert batch.totals["orang_baru"] == 1
    assert batch.message == ("1 baris diterima, 0 ditolak. Data dibaca dari lembar 'Sheet1': "
                             "lembar pertama tidak berisi judul kolom.")


def test_a_header_nowhere_says_where_it_must_be(pandeglang_operator):
    def bury(workbook):
        workbook.active.insert_rows(1, amount=25)
        workbook.active["A1"] = "DATA PMKS"

    batch = run(pandeglang_operator, xlsx([row()], prepare=bury))
    assert batch.status == "gagal"
    assert batch.message == (
        "Kolom wajib tidak ada: no_kk, alamat, kode_desa, nama, tanggal_lahir, jenis_kelamin. "
        "Baris judul kolom (no_kk, alamat, kode_desa, nama, tanggal_lahir, jenis_kelamin) harus "
        "ada di baris pertama lembar pertama; tidak ditemukan di 20 baris pertama lembar mana "
        "pun (baris pertama berisi: data_pmks). Tidak ada data yang disimpan.")


def test_every_problem_of_a_row_is_reported_at_once(pandeglang_operator):
    batch = run(pandeglang_operator, csv_bytes([
        # the date cannot be read, yet the NIK is still checked against the sex
        row(tanggal_lahir="17/8/19800", jenis_kelamin="P", desil="12"),
    ]), "a.csv")
    assert batch.errors == [
        {"row": 2, "column": "desil", "message": "desil harus 1 sampai 10"},
        {"row": 2, "column": "tanggal_lahir", "message": (
            "tanggal '17/8/19800' tidak dikenal; tulis hari-bulan-tahun, mis. 17-08-1980 atau "
            "17 Agustus 1980")},
        {"row": 2, "column": "nik", "message": (
            "jenis kelamin di NIK (digit 7–8: 17, berarti laki-laki; perempuan: tanggal + 40) "
            "tidak sama dengan kolom jenis_kelamin (perempuan)")},
    ]


# --- 8: nothing dropped silently --------------------------------------------------------------


def test_a_value_under_a_merged_header_cell_is_not_dropped(pandeglang_operator):
    header = [*HEADER[:3], None, *HEADER[3:]]  # "rt" merged over C1:D1, so D1 is empty

    def merge(workbook):
        workbook.active.merge_cells("C1:D1")

    values = row(nik="")
    cells = [*[values[c] for c in HEADER[:3]], "007", *[values[c] for c in HEADER[3:]]]
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    workbook.active.append(cells)
    merge(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = run(pandeglang_operator, buffer.getvalue())
    assert batch.errors == [{"row": 2, "column": "kolom D", "message": (
        "sel berisi '007' tetapi kolomnya tidak berjudul (judul sel digabung dengan kolom "
        "sebelahnya?); beri kolom ini judulnya sendiri")}]
    assert not Person.objects.exists()


def test_extra_columns_and_sheets_are_reported(pandeglang_operator):
    def extra_sheet(workbook):
        second = workbook.create_sheet("Desa Lain")
        second.append(HEADER)
        second.append([row(no_kk=KK_2)[c] for c in HEADER])
        workbook.create_sheet("Petunjuk").append(["instruksi templat, tidak dilaporkan"])

    header = [*HEADER, "catatan petugas", "No HP"]
    batch = run(pandeglang_operator, xlsx([{**row(), "catatan petugas": "x"}], header,
                                          prepare=extra_sheet))
    assert batch.totals["orang_baru"] == 1
    assert batch.message == (
        "1 baris diterima, 0 ditolak. Kolom tidak dikenal, tidak dibaca: catatan_petugas, no_hp. "
        "Lembar 'Desa Lain' berisi data tetapi tidak dibaca: hanya lembar 'Sheet1' yang "
        "diimpor.")


# --- 9: the formula guard round-trips ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_file_imports_unchanged(fmt, pandeglang_operator):
    values = row(nama="-Dede", alamat="=Kp. Sumur", pekerjaan="+62 buruh")
    cells = [[values[c] for c in HEADER]]
    if fmt == "csv":
        content = "".join(csv_stream(HEADER, cells)).encode()
        assert "'-Dede" in content.decode()  # the guard is in the exported CSV
    else:
        content = xlsx_file(HEADER, cells).read()
    batch = run(pandeglang_operator, content, f"ekspor.{fmt}")
    assert batch.errors == []
    person = Person.objects.get()
    assert (person.name, person.occupation, person.household.address) == (
        "-Dede", "+62 buruh", "=Kp. Sumur")
    again = run(pandeglang_operator, content, f"ekspor.{fmt}")
    assert again.totals["orang_tetap"] == 1
    assert person.desa_id == DESA_PANDEGLANG
