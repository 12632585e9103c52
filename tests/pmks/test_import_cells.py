"""Cells of a data officer's spreadsheet that the import used to misread (the import audit of
December 2026, /tmp/aud-imp-report): each is refused on its row and column with an Indonesian
reason — or read as the cell shows it — the same way on both paths (row by row, and COPY on
PostgreSQL) and both lanes of the COPY path."""

import datetime
import io
import zipfile

import pytest

from dinsos.tabular import TableError
from pmks.models import Household, Person
from tests.pmks.test_import import KK_1, KK_2, NIK_HEAD, row
from tests.pmks.test_import_excel import csv_bytes, run, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]


def errors(batch) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for error in batch.errors:
        found.setdefault(error["row"], []).append((error["column"], error["message"]))
    return found


# --- over-long text cells ---------------------------------------------------------------------

LONG = {
    "rt": ("RT 001", 3),
    "alamat": ("Kp. Sumur " + "x" * 353, 255),
    "nama": ("Budi " + "Santoso " * 21 + "Jaya", 150),
    "tempat_lahir": ("P" * 101, 100),
    "pekerjaan": ("Buruh " * 17, 100),
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
def test_a_cell_longer_than_its_field_is_refused_on_its_column(fmt, dry_run,
                                                               pandeglang_operator):
    """A cell longer than its field (RT "RT 001" for three characters): the dry run said
    "accepted" and the real import on PostgreSQL failed the whole batch with "current
    transaction is aborted"; SQLite stored it."""
    rows = [row(nik="", nama=f"Orang {column}", tanggal_lahir="1950-01-01", hubungan="famili",
                **{column: text}) if column != "nama" else
            row(nik="", tanggal_lahir="1950-01-01", hubungan="famili", nama=text)
            for column, (text, _limit) in LONG.items()]
    rows = [row()] + [{**r, "no_kk": KK_2} for r in rows]  # a good row, then the long ones
    content = xlsx(rows) if fmt == "xlsx" else csv_bytes(rows)
    batch = run(pandeglang_operator, content, f"keluarga.{fmt}", dry_run=dry_run)
    assert batch.status == ("diperiksa" if dry_run else "diimpor"), batch.message
    assert batch.totals["rejected"] == len(LONG)
    found = errors(batch)
    for number, (column, (text, limit)) in enumerate(LONG.items(), start=3):
        assert (column, f"paling banyak {limit} karakter; sel ini berisi {len(text.strip())} "
                        "karakter") in found[number], found
    if not dry_run:
        assert Person.objects.get().nik == NIK_HEAD
        assert list(Household.objects.values_list("no_kk", flat=True)) == [KK_1]


# --- formulas, Excel errors, hidden sheets and rows ------------------------------------------

FORMULA = ("berisi rumus tanpa nilai; salin sebagai nilai (Salin, lalu Tempel Spesial > Nilai) "
           "atau buka dan simpan berkasnya di Excel")


def test_a_formula_without_a_stored_value_is_refused_not_read_as_empty(pandeglang_operator):
    """A NIK cell =TEXT(…) written by a program has no stored value: it read as empty and a
    second "Budi Santoso" without NIK was stored in his household."""
    assert run(pandeglang_operator, xlsx([row()])).status == "diimpor"
    batch = run(pandeglang_operator, xlsx([
        row(nik=f'=TEXT({NIK_HEAD},"0")'),
        row(nik="", nama='=PROPER("siti")', hubungan="pasangan", jenis_kelamin="P"),
    ]))
    assert batch.totals["rejected"] == 2, batch.errors
    found = errors(batch)
    assert ("nik", FORMULA) in found[2]
    assert ("nama", FORMULA) in found[3]
    assert list(Person.objects.values_list("nik", flat=True)) == [NIK_HEAD]


def test_a_formula_with_its_stored_value_is_read_as_the_value(pandeglang_operator):
    """A workbook saved by Excel keeps each formula's value: that value is read (this one
    held before the fix too; it keeps the check from refusing every formula)."""
    def cached(workbook):
        sheet = workbook.active
        sheet["N2"] = '=PROPER("budi santoso")'

    content = xlsx([row()], prepare=cached)
    # Excel would store <v>Budi Santoso</v>; put it there as Excel does
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<f>PROPER("budi santoso")</f><v></v>',
                                    b'<f>PROPER("budi santoso")</f><v>Budi Santoso</v>')
                data = data.replace(b'<c r="N2">', b'<c r="N2" t="str">')
            target.writestr(item, data)
    batch = run(pandeglang_operator, out.getvalue())
    assert batch.status == "diimpor" and batch.totals["rejected"] == 0, batch.errors
    assert Person.objects.get().name == "Budi Santoso"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_excel_error_cell_is_refused_on_its_column(fmt, pandeglang_operator):
    """#N/A, #VALUE!, #REF!… (a failed formula) were stored as text."""
    rows = [row(tempat_lahir="#N/A", pekerjaan="#VALUE!"),
            row(no_kk=KK_2, nik="", nama="Alamat Galat", alamat="#REF!", rt="#DIV/0!",
                tanggal_lahir="1950-01-01")]
    batch = run(pandeglang_operator, xlsx(rows) if fmt == "xlsx" else csv_bytes(rows),
                f"keluarga.{fmt}")
    assert batch.totals["rejected"] == 2
    found = errors(batch)

    def galat(v):
        return (f"sel berisi galat Excel {v} (rumusnya gagal dihitung); perbaiki rumusnya atau "
                "ketik nilainya")

    assert ("tempat_lahir", galat("#N/A")) in found[2]
    assert ("pekerjaan", galat("#VALUE!")) in found[2]
    assert ("alamat", galat("#REF!")) in found[3] and ("rt", galat("#DIV/0!")) in found[3]
    assert not Person.objects.exists()


def test_a_hidden_sheet_is_not_read_and_is_named(pandeglang_operator):
    """The hidden first sheet (old data) was imported instead of the visible one."""
    def sheets(workbook):
        old = workbook.create_sheet("lama", 0)
        old.append(list(row()))
        old.append(list(row(nama="Data Lama").values()))
        old.sheet_state = "hidden"
        workbook.active = 1

    batch = run(pandeglang_operator, xlsx([row()], prepare=sheets))
    assert batch.status == "diimpor", batch.message
    assert Person.objects.get().name == "Budi Santoso"
    assert ("Lembar tersembunyi tidak dibaca: 'lama'. Tampilkan lembarnya (Unhide) bila "
            "datanya harus diimpor.") in batch.message


def test_a_hidden_row_is_refused_and_named(pandeglang_operator):
    """A hidden row was imported without a word: it is refused, saying it is hidden."""
    def hide(workbook):
        workbook.active.row_dimensions[3].hidden = True

    batch = run(pandeglang_operator, xlsx([
        row(), row(nik="", nama="Tersembunyi", tanggal_lahir="1950-01-01", hubungan="famili"),
    ], prepare=hide))
    assert batch.totals["rejected"] == 1
    assert errors(batch)[3] == [("baris", "baris ini tersembunyi di Excel dan tidak diimpor; "
                                          "tampilkan (Unhide) dan periksa isinya, atau hapus "
                                          "barisnya")]
    assert Person.objects.get().nik == NIK_HEAD


# --- CSV files: unclosed quotes, UTF-16, tabs -------------------------------------------------


def test_a_quote_never_closed_refuses_the_file_naming_its_line(pandeglang_operator):
    """Row 3's address opened a quote it never closed: rows 4–6 vanished into one cell and the
    batch counted 2 rows of 5."""
    good = csv_bytes([row(), row(no_kk=KK_2, nik="", nama="Mak Icih", tanggal_lahir="1950-01-01",
                                 alamat="Kp. Lama")]).decode()
    lines = good.splitlines()
    broken = [*lines[:2], lines[2].replace("Kp. Lama", '"Kp. Lama RT 2'),
              *(lines[2].replace("Mak Icih", f"Orang {n}") for n in range(3))]
    batch = run(pandeglang_operator, "\r\n".join(broken).encode() + b"\r\n", "a.csv")
    assert batch.status == "gagal"
    assert batch.message == (
        "Berkas CSV tidak dapat dibaca: tanda kutip (\") di baris 3 tidak ditutup, sehingga "
        "baris-baris sesudahnya terbaca sebagai satu sel. Tutup atau hapus tanda kutip itu, "
        "lalu unggah lagi. Tidak ada data yang disimpan.")
    assert not Person.objects.exists()


def test_a_line_break_inside_a_quoted_cell_is_still_read(pandeglang_operator):
    batch = run(pandeglang_operator, csv_bytes([row(alamat="Kp. Sumur\nRT 01, RW 02")]), "a.csv")
    assert batch.status == "diimpor", batch.message
    assert Household.objects.get().address == "Kp. Sumur\nRT 01, RW 02"


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-16", ","), ("utf-16", "\t"), ("utf-8", "\t"), ("utf-16-be", "\t")])
def test_utf16_and_tab_delimited_files_are_read(encoding, delimiter, pandeglang_operator):
    """Excel's "Unicode Text" (UTF-16 with a byte order mark, tabs) was read as Windows-1252
    ("n_o_k_k"), a tab-delimited file as one glued column."""
    text = csv_bytes([row(nama="Dédé Sunarya")]).decode().replace(",", delimiter)
    content = text.encode(encoding)
    if encoding == "utf-16-be":
        content = b"\xfe\xff" + content
    batch = run(pandeglang_operator, content, "a.csv")
    assert batch.status == "diimpor", batch.message
    assert batch.totals["rejected"] == 0, batch.errors
    assert Person.objects.get().name == "Dédé Sunarya"


def test_a_broken_utf16_file_names_utf16(pandeglang_operator):
    content = "no_kk,nama".encode("utf-16") + b"\x00\xd8"  # a lone surrogate half
    with pytest.raises(TableError, match="berpengodean UTF-16"):  # at upload: nothing stored
        run(pandeglang_operator, content, "a.csv")


# --- stray characters in NIK and No. KK; dates as exports write them ---------------------------

NIK_PARTS = (NIK_HEAD[:4], NIK_HEAD[4:])


@pytest.mark.parametrize(("column", "cell", "message"), [
    ("nik", "3601-0117-0880-0001",
     "NIK hanya berisi angka 0–9, tetapi sel ini berisi '-'; hapus karakter itu"),
    ("no_kk", "3601-0112-0416-0001",
     "NO. KK hanya berisi angka 0–9, tetapi sel ini berisi '-'; hapus karakter itu"),
    ("nik", "\u200d".join(NIK_PARTS), "NIK berisi karakter tak terlihat U+200D (ZERO WIDTH "
                                      "JOINER); hapus karakter itu (ketik ulang nomornya)"),
    ("nik", "\u200c".join(NIK_PARTS), "NIK berisi karakter tak terlihat U+200C (ZERO WIDTH "
                                      "NON-JOINER); hapus karakter itu (ketik ulang nomornya)"),
    ("nik", "\u2060".join(NIK_PARTS), "NIK berisi karakter tak terlihat U+2060 (WORD JOINER); "
                                      "hapus karakter itu (ketik ulang nomornya)"),
    ("nik", "\ufeff".join(NIK_PARTS), "NIK berisi karakter tak terlihat U+FEFF (ZERO WIDTH "
                                      "NO-BREAK SPACE); hapus karakter itu (ketik ulang "
                                      "nomornya)"),
    ("nik", NIK_HEAD.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
     "NIK berisi angka bukan 0–9: '３' (U+FF13, FULLWIDTH DIGIT THREE); ketik ulang nomornya "
     "dengan angka biasa"),
    ("nik", NIK_HEAD[:15] + "\u0661", "NIK berisi angka bukan 0–9: '\u0661' (U+0661, "
                                      "ARABIC-INDIC DIGIT ONE); ketik ulang nomornya dengan "
                                      "angka biasa"),
], ids=["dash", "kk-dash", "zwj", "zwnj", "word-joiner", "bom", "full-width", "arabic-indic"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_stray_character_in_an_identity_number_is_named(column, cell, message, fmt,
                                                          pandeglang_operator):
    """The cell shows 16 digits; the answer was "NIK harus terdiri dari tepat 16 angka"."""
    rows = [row(**{column: cell})]
    batch = run(pandeglang_operator, xlsx(rows) if fmt == "xlsx" else csv_bytes(rows),
                f"keluarga.{fmt}")
    assert errors(batch) == {2: [(column, message)]}


@pytest.mark.parametrize("text", ["1980-08-17T00:00:00", "1980-08-17 00:00", "17-08-1980 00:00:00",
                                  "17/08/1980 00:00", "17-08-1980 0:00"])
def test_a_date_with_a_midnight_time_is_read(text, pandeglang_operator):
    """Exports write a date with its midnight time; these were refused as unknown dates."""
    batch = run(pandeglang_operator, csv_bytes([row(tanggal_lahir=text)]), "a.csv")
    assert batch.totals["rejected"] == 0, batch.errors
    assert Person.objects.get().birth_date == datetime.date(1980, 8, 17)


def test_a_date_with_another_time_is_still_refused(pandeglang_operator):
    batch = run(pandeglang_operator, csv_bytes([row(tanggal_lahir="17-08-1980 13:45")]), "a.csv")
    assert batch.totals["rejected"] == 1


@pytest.mark.parametrize(("serial", "day"), [
    (1, datetime.date(1900, 1, 1)), (2, datetime.date(1900, 1, 2)),
    (59, datetime.date(1900, 2, 28)), (61, datetime.date(1900, 3, 1)),
    (29353, datetime.date(1980, 5, 12))])
def test_excel_serials_before_march_1900_are_the_day_excel_shows(serial, day,
                                                                 pandeglang_operator):
    """Excel counts a 29 February 1900 that never was: serials before 61 were one day early
    (59 read 27-02-1900, 2 read 01-01-1900)."""
    batch = run(pandeglang_operator, xlsx([row(nik="", tanggal_lahir=serial)]))
    assert batch.totals["rejected"] == 0, batch.errors
    assert Person.objects.get().birth_date == day


def test_excel_serial_60_is_a_day_that_does_not_exist(pandeglang_operator):
    batch = run(pandeglang_operator, xlsx([row(nik="", tanggal_lahir=60)]))
    assert errors(batch) == {2: [("tanggal_lahir", "angka 60 di kolom tanggal adalah 29-02-1900 "
                                                   "Excel, tanggal yang tidak ada (1900 bukan "
                                                   "tahun kabisat); tulis tanggal yang benar")]}


def test_a_quoted_address_over_two_lines_with_many_commas_is_read():
    """Review: a file with only a few columns and a quoted address whose second line has as
    many commas as the header ("RT 01, RW 02, Kel. …") was refused as an unclosed quote."""
    from dinsos.tabular import read_table

    content = (b'no_kk,nama,alamat\r\n'
               b'3601010101010001,Siti,"Jl. Mawar No. 5\r\nRT 01, RW 02, Kel. Sukamaju"\r\n'
               b'3601010101010002,Budi,Kp. Lama\r\n')
    rows = [row.values for row in read_table(io.BytesIO(content), "a.csv",
                                              required=["no_kk", "nama", "alamat"])]
    assert [r["alamat"] for r in rows] == ["Jl. Mawar No. 5\r\nRT 01, RW 02, Kel. Sukamaju",
                                           "Kp. Lama"]
