"""Reading and writing tables (CSV and XLSX), streaming, for every import and export.

Reading
    ``check_upload`` refuses a file before any work starts: its size, its number of rows and,
    for XLSX, the uncompressed size and number of cells (a zip bomb of empty rows or one huge
    shared string is refused from the zip directory and one streamed pass over the sheet XML).
    ``read_table`` then reads row by row (csv module; openpyxl in read-only mode), so memory
    does not grow with the file. The encoding of a CSV is decided for the whole file (UTF-8,
    else Windows-1252 as Excel's plain "CSV (Comma delimited)" writes it) before the first row.
    The header row is looked for in the first rows of each sheet; header variants (``No. KK``,
    ``NOMOR KK``…) map to the importer's column names; columns, sheets and rows that are not
    read are reported (``Table.notes``), never dropped silently. Number cells are kept apart
    (``TableRow.numbers``) so an importer can refuse an identity number Excel has rounded.

Writing
    Exports stream CSV and write XLSX in openpyxl's write-only mode. XLSX text cells are written
    as strings (never formulas), so they round-trip; in CSV a text starting with = + - @ tab CR
    gets a guard apostrophe (OWASP "CSV injection"), which reading strips again. Characters XML
    cannot hold (control characters) are shown as U+FFFD instead of failing the export.
"""

import codecs
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from tempfile import SpooledTemporaryFile

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from dinsos.templatetags.dinsos_format import angka

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
HEADER_SCAN_ROWS = 20  # how far down each sheet the header row is looked for
INSTRUCTION_SHEETS = {"petunjuk"}  # the template's own instructions sheet is not data
_CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # OLE2: .xls, or an encrypted .xlsx
_ZIP_MAGIC = b"PK\x03\x04"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: the control characters a cell may not hold (all of C0 but tab, line feed and carriage
#: return, which a cell with line breaks legitimately has): PostgreSQL text and jsonb hold no
#: NUL, and none of them is anything a person typed
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, missing columns, too big)."""


@dataclass
class TableRow:
    number: int  # as a spreadsheet shows it (the header is row 1 when it is the first row)
    values: dict[str, str]
    cells: list
    numbers: dict[str, float] = field(default_factory=dict)  # columns whose cell was a number
    #: the workbook counts date serials from 1 January 1904 (Excel for Mac's old default)
    date_1904: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)  # found by the reader


def safe_cell(value):
    """The CSV formula guard: a leading apostrophe before = + - @ tab CR."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _unguard(text: str) -> str:
    """Remove the guard apostrophe ``safe_cell`` adds, so exported files import unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return _unguard(str(value).strip()).strip()


def _csv_text(value: str) -> str:
    """A CSV cell's text: no spaces around it, and no guard apostrophe — nor the tab or
    carriage return a guard kept (``'\tx`` reads ``x``, as every importer strips its cells)."""
    text = value.strip()
    return _unguard(text).strip() if text[:1] == "'" else text


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def table_format(filename: str) -> str:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".ods"):
        raise TableError(_("Berkas .ods (LibreOffice/OpenOffice Calc) tidak dapat dibaca: "
                           "Simpan Sebagai \"Buku Kerja Excel (.xlsx)\" atau CSV, lalu unggah "
                           "berkas itu."))
    if name.endswith(".xls"):
        raise TableError(_("Berkas .xls (Excel 97–2003) tidak dapat dibaca: buka di Excel, pilih "
                           "Simpan Sebagai \"Buku Kerja Excel (.xlsx)\" atau \"CSV UTF-8\", "
                           "lalu unggah berkas itu."))
    raise TableError(_("Format berkas tidak dikenal: gunakan .csv atau .xlsx."))


def header_key(text) -> str:
    """A header cell as a column name: lower case, words joined by "_" ("No. KK" → "no_kk")."""
    return "_".join(re.findall(r"[0-9a-z]+", _cell_text(text).lower()))


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# --- limits (before any work) -----------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_rows: int
    max_uncompressed_bytes: int
    max_cells: int


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _too_big(what: str, limit: str) -> TableError:
    return TableError(_("Berkas terlalu besar: %(what)s melebihi batas %(limit)s. Bagi data "
                        "menjadi beberapa berkas.") % {"what": what, "limit": limit})


def _mb(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB").replace(".", ",")


def _check_xlsx(fileobj, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile:
        raise TableError(_("Berkas XLSX rusak atau bukan berkas Excel.")) from None
    with archive:
        names = archive.namelist()
        if "[Content_Types].xml" not in names:
            if "mimetype" in names and archive.read("mimetype").startswith(
                    b"application/vnd.oasis.opendocument"):
                raise TableError(_("Berkas ini berformat ODS (LibreOffice/OpenOffice Calc) "
                                   "walaupun bernama .xlsx: buka di LibreOffice atau Excel, "
                                   "Simpan Sebagai \"Buku Kerja Excel (.xlsx)\", lalu unggah "
                                   "lagi."))
            raise TableError(_("Berkas XLSX rusak atau bukan berkas Excel."))
        entries = archive.infolist()
        if sum(e.file_size for e in entries) > limits.max_uncompressed_bytes:
            raise _too_big(_("ukuran isi XLSX setelah dibuka"),
                           _mb(limits.max_uncompressed_bytes))
        for entry in entries:
            if not entry.filename.startswith("xl/worksheets/") or not entry.filename.endswith(
                    ".xml"):
                continue
            rows = cells = 0
            tail = b""
            with archive.open(entry) as stream:
                for chunk in iter(lambda s=stream: s.read(1024 * 1024), b""):
                    data = tail + chunk
                    # count whole tags only; keep the last bytes for a tag cut by the chunk
                    cut = max(0, len(data) - 16)
                    rows += len(_ROW_TAG.findall(data, 0, cut))
                    cells += len(_CELL_TAG.findall(data, 0, cut))
                    tail = data[cut:]
                    if rows > limits.max_rows + HEADER_SCAN_ROWS:
                        raise _too_big(_("jumlah baris"), f"{limits.max_rows:,}".replace(",", "."))
                    if cells > limits.max_cells:
                        raise _too_big(_("jumlah sel"), f"{limits.max_cells:,}".replace(",", "."))
    fileobj.seek(0)


def check_upload(fileobj, filename: str, *, size: int, limits: Limits) -> str:
    """Refuse a file that is too big or of an unknown kind, before anything is stored or read.
    Returns the format ("csv" or "xlsx")."""
    fmt = table_format(filename)
    if size > limits.max_bytes:
        raise _too_big(_("ukuran berkas %(size)s") % {"size": _mb(size)}, _mb(limits.max_bytes))
    if fmt == "xlsx":
        _xlsx_kind(fileobj)
        _check_xlsx(fileobj, limits)
    else:
        _encoding(fileobj)
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fileobj.read(1024 * 1024), b""))
        fileobj.seek(0)
        if lines > limits.max_rows + HEADER_SCAN_ROWS:
            raise _too_big(_("jumlah baris"), f"{limits.max_rows:,}".replace(",", "."))
    return fmt


def count_rows(fileobj, filename: str) -> int:
    """About how many data rows a file holds (lines or sheet rows, less one header), counted
    in one streamed pass before an import runs, for its progress ("x dari y baris")."""
    rows = 0
    if table_format(filename) == "xlsx":
        with zipfile.ZipFile(fileobj) as archive:
            for entry in archive.infolist():
                if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(
                        ".xml"):
                    tail = b""
                    with archive.open(entry) as stream:
                        for chunk in iter(lambda s=stream: s.read(1024 * 1024), b""):
                            data = tail + chunk
                            cut = max(0, len(data) - 16)
                            rows += len(_ROW_TAG.findall(data, 0, cut))
                            tail = data[cut:]
                    rows += len(_ROW_TAG.findall(tail))
    else:
        last = b""
        for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
            rows += chunk.count(b"\n")
            last = chunk
        rows += bool(last) and not last.endswith(b"\n")
    fileobj.seek(0)
    return max(rows - 1, 0)


def _xlsx_kind(fileobj) -> None:
    """Say what a file named .xlsx really is when it is not a zip (protected, or an old .xls)."""
    head = fileobj.read(8)
    fileobj.seek(0)
    if head.startswith(_ZIP_MAGIC):
        return
    if head == _CFB_MAGIC:
        marker = "EncryptionInfo".encode("utf-16-le")
        found, tail = False, b""
        for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
            if marker in tail + chunk:
                found = True
                break
            tail = chunk[-len(marker):]
        fileobj.seek(0)
        if found:
            raise TableError(_("Berkas XLSX dilindungi kata sandi dan tidak dapat dibaca. Buka di "
                               "Excel, hapus kata sandinya (File > Info > Lindungi Buku Kerja > "
                               "Enkripsi dengan Kata Sandi, kosongkan), simpan, lalu unggah "
                               "lagi."))
        raise TableError(_("Berkas ini berformat .xls (Excel 97–2003) walaupun bernama .xlsx: buka "
                           "di Excel, Simpan Sebagai \"Buku Kerja Excel (.xlsx)\", lalu unggah "
                           "lagi."))
    raise TableError(_("Berkas XLSX rusak atau bukan berkas Excel."))


# --- reading ----------------------------------------------------------------------------------

def _encoding(fileobj) -> str:
    """The encoding of the whole file: UTF-16 when it begins with a UTF-16 byte order mark
    (Excel's "Unicode Text"), UTF-8 (with or without BOM) when every byte decodes as UTF-8,
    else the Windows code page Excel uses for "CSV (Comma delimited)". Decided from the whole
    file, never from a sample, so a file is never half read."""
    head = fileobj.read(2)
    fileobj.seek(0)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):  # Excel's "Teks Unicode" (UTF-16)
        decoder = codecs.getincrementaldecoder("utf-16")()
        try:
            for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise TableError(_("Berkas CSV tidak dapat dibaca: berkas ini berpengodean UTF-16 "
                               "(\"Teks Unicode\" Excel) tetapi isinya rusak. Simpan ulang dari "
                               "Excel sebagai \"CSV UTF-8\".")) from None
        finally:
            fileobj.seek(0)
        return "utf-16"
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            fileobj.seek(0)
        return encoding
    raise TableError(_("Berkas CSV tidak dapat dibaca: pengodean karakternya bukan UTF-8 maupun "
                       "Windows-1252. Simpan ulang dari Excel sebagai \"CSV UTF-8\"."))


csv.register_dialect("excel-semicolon", delimiter=";")
#: the delimiters a CSV may use, each with its dialect; the header line's most frequent wins
#: (a tie: the comma)
DIALECTS = {",": "excel", ";": "excel-semicolon", "\t": "excel-tab"}


def csv_delimiter(first_line: str) -> str:
    """The delimiter of a CSV from its header line: comma, semicolon (Excel with Indonesian
    regional settings) or tab (Excel's "Unicode Text" / "Text (Tab delimited)")."""
    return max(DIALECTS, key=first_line.count)


def _csv_rows(fileobj, encoding: str) -> Iterator[list]:
    """The rows of a CSV. A quote that opens a cell and is never closed makes the csv module
    read every following line into that one cell, silently: a cell holding a line break
    followed by a line with a whole row's delimiters (as many as the header, two at least), in
    a row that lacks cells (the swallowed lines took the rest of its row), is such a cell, and
    the file is refused naming the line where the quote opened. A quoted address over two
    lines with many commas in a row of the header's width is read as the cell it is. (A quote
    left open in the last column swallows into that cell, which its length check refuses.)
    Only a row that spans lines is looked at (the reader's line count), so a plain row costs
    one comparison."""
    text = io.TextIOWrapper(fileobj, encoding=encoding, newline="")
    first = text.readline()
    delimiter = csv_delimiter(first)
    heading = list(csv.reader(io.StringIO(first), dialect=DIALECTS[delimiter]))
    yield from heading
    header = heading[0] if heading else []
    reader = csv.reader(text, dialect=DIALECTS[delimiter])
    enough = max(2, first.count(delimiter))  # a whole row's delimiters
    line = 0  # the lines read so far after the header line
    for cells in reader:
        if reader.line_num - line > 1 and len(cells) < len(header):
            for cell in cells:
                if any(part.count(delimiter) >= enough for part in cell.splitlines()[1:]):
                    raise TableError(_(
                        "Berkas CSV tidak dapat dibaca: tanda kutip (\") di baris %(n)d tidak "
                        "ditutup, sehingga baris-baris sesudahnya terbaca sebagai satu sel. "
                        "Tutup atau hapus tanda kutip itu, lalu unggah lagi.") % {"n": line + 2})
        line = reader.line_num
        yield cells


#: what Excel shows in a cell whose formula failed (openpyxl.cell.cell.ERROR_CODES and the
#: newer ones); an XLSX stores them as error cells, a CSV export as this text
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


@dataclass
class SheetMarks:
    """What the values of a read-only sheet do not show: the cells holding a formula without a
    stored value (a workbook written by a program, never opened and saved in Excel: openpyxl
    reads them as empty) and the hidden rows. {row: [column index]} and {row}."""

    formulas: dict[int, list[int]] = field(default_factory=dict)
    hidden: set[int] = field(default_factory=set)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _sheet_marks(archive, path: str | None) -> SheetMarks:
    """One streamed pass over the sheet's XML, only when it holds a formula or a hidden row
    (a byte search first, over the same stream ``check_upload`` already read): memory grows
    with the marks, never with the sheet."""
    marks = SheetMarks()
    if archive is None or not path:
        return marks
    path = path.lstrip("/")
    found, tail = False, b""
    with archive.open(path) as stream:
        for chunk in iter(lambda s=stream: s.read(1024 * 1024), b""):
            data = tail + chunk
            if b"<f" in data or b":f>" in data or b" hidden=" in data:
                found = True
                break
            tail = data[-16:]
    if not found:
        return marks
    from xml.etree.ElementTree import iterparse

    row_number, column, sheet_data = 0, -1, None
    with archive.open(path) as stream:
        for event, element in iterparse(stream, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if event == "start":
                if tag == "sheetData":
                    sheet_data = element
                elif tag == "row":
                    row_number = int(element.get("r") or row_number + 1)
                    column = -1
                    if element.get("hidden") in ("1", "true"):
                        marks.hidden.add(row_number)
                elif tag == "c":
                    ref = _CELL_REF.fullmatch(element.get("r") or "")
                    column = _column_index(ref.group(1)) if ref else column + 1
                continue
            if tag == "c":
                formula = value = None
                for child in element:
                    name = child.tag.rpartition("}")[2]
                    if name == "f":
                        formula = child
                    elif name in ("v", "is"):
                        value = child
                # a formula whose stored value is missing; an empty one only counts when the
                # cell is not a text result (Excel stores "" from a formula as t="str", <v/>)
                if formula is not None and (value is None or (
                        not (value.text or "").strip() and len(value) == 0
                        and element.get("t") not in ("str", "s", "inlineStr"))):
                    marks.formulas.setdefault(row_number, []).append(column)
                element.clear()
            elif tag == "row" and sheet_data is not None:
                sheet_data.clear()  # the rows read so far: nothing is kept of them
    return marks


def _open_sheets(fileobj, fmt: str, encoding: str | None):
    """(workbook or None, [(sheet title or None, rows iterator, sheet XML path)], titles of
    the hidden sheets, which are not read)."""
    if fmt == "csv":
        return None, [(None, _csv_rows(fileobj, encoding), None)], []
    from openpyxl import load_workbook

    _xlsx_kind(fileobj)
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise TableError(_("Berkas XLSX tidak dapat dibaca: isinya rusak atau bukan buku kerja "
                           "Excel. Buka di Excel, simpan sebagai \"Buku Kerja Excel (.xlsx)\", "
                           "lalu unggah lagi.")) from exc
    sheets, hidden = [], []
    for sheet in workbook.worksheets:
        if getattr(sheet, "sheet_state", "visible") != "visible":
            hidden.append(sheet.title)
            continue
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # the stored dimension may be wrong; read what is there
        sheets.append((sheet.title, sheet.iter_rows(values_only=True),
                       getattr(sheet, "_worksheet_path", None)))
    return workbook, sheets, hidden


def _filled(cells) -> bool:
    return any(_cell_text(c) for c in cells)


class Table:
    """The data rows of one sheet of a CSV/XLSX file (iterate it once), and ``notes`` on what
    was not read. The header row is the first row, among the first ``HEADER_SCAN_ROWS`` of each
    sheet in order, that holds every required column."""

    def __init__(self, fileobj, filename: str, *, required: Iterable[str],
                 known: Iterable[str] | None = None, aliases: dict[str, str] | None = None):
        self.required = list(required)
        self.aliases = aliases or {}
        self.known = None if known is None else set(known)  # the importer's columns
        self.notes: list[str] = []
        fmt = table_format(filename)
        #: a CSV's encoding, for the whole file (None: an XLSX)
        self.encoding = _encoding(fileobj) if fmt == "csv" else None
        self._workbook, sheets, hidden = _open_sheets(fileobj, fmt, self.encoding)
        self.marks = SheetMarks()
        if hidden:
            self.notes.append(_("Lembar tersembunyi tidak dibaca: %(sheets)s. Tampilkan "
                                "lembarnya (Unhide) bila datanya harus diimpor.")
                              % {"sheets": ", ".join(f"'{t}'" for t in hidden)})
        try:
            self._find_header(sheets, known)
        except BaseException:
            self.close()
            raise

    def _names(self, cells) -> list[str]:
        keys = [header_key(c) for c in cells]
        return [self.aliases.get(k, k) for k in keys]

    def _find_header(self, sheets, known) -> None:
        first_header, first_at_top = None, False
        for index, (title, rows, _path) in enumerate(sheets):
            buffered = []
            for number, cells in enumerate(rows, start=1):
                cells = list(cells)
                buffered.append(cells)
                names = self._names(cells)
                if _filled(cells) and first_header is None:
                    first_header, first_at_top = names, (index, number) == (0, 1)
                if _filled(cells) and all(c in names for c in self.required):
                    self._use(title, index, number, names, rows, sheets, known,
                              above=any(_filled(c) for c in buffered[:-1]))
                    return
                if number >= HEADER_SCAN_ROWS:
                    break
        if first_header is None:
            raise TableError(_("Berkas kosong: baris pertama harus berisi nama kolom."))
        missing = [c for c in self.required if c not in first_header]
        message = _("Kolom wajib tidak ada: %(cols)s.") % {"cols": ", ".join(missing)}
        if not first_at_top or len(missing) == len(self.required):
            message += " " + _(
                "Baris judul kolom (%(all)s) harus ada di baris pertama lembar pertama; tidak "
                "ditemukan di %(n)d baris pertama lembar mana pun (baris pertama berisi: "
                "%(found)s).") % {"all": ", ".join(self.required), "n": HEADER_SCAN_ROWS,
                                  "found": ", ".join(n for n in first_header if n) or "-"}
        raise TableError(message)

    def _use(self, title, index, number, names, rows, sheets, known, *, above) -> None:
        self.header_row, self.sheet = number, title
        self.header = names
        self._rows = rows
        if self._workbook is not None:
            self.marks = _sheet_marks(getattr(self._workbook, "_archive", None),
                                      sheets[index][2])
        where = _("lembar '%(sheet)s'") % {"sheet": title} if title else _("berkas")
        if index > 0:
            self.notes.append(_("Data dibaca dari %(where)s: lembar pertama tidak berisi judul "
                                "kolom.") % {"where": where})
        if number > 1 and above:
            self.notes.append(_("Judul kolom ada di baris %(n)d %(where)s; baris di atasnya tidak "
                                "dibaca.") % {"n": number, "where": where})
        seen = set()
        for name in names:
            if name and name in seen:
                self.notes.append(_("Kolom '%(c)s' ada dua kali; hanya yang pertama dibaca.")
                                  % {"c": name})
            seen.add(name)
        if known is not None:
            unknown = [n for n in names if n and n not in set(known)]
            if unknown:
                self.notes.append(_("Kolom tidak dikenal, tidak dibaca: %(cols)s.")
                                  % {"cols": ", ".join(unknown)})
        for other_title, other_rows, _path in sheets[index + 1:]:
            if other_title and other_title.lower() in INSTRUCTION_SHEETS:
                continue
            for n, cells in enumerate(other_rows, start=1):
                if _filled(cells):
                    self.notes.append(_("Lembar '%(other)s' berisi data tetapi tidak dibaca: "
                                        "hanya %(where)s yang diimpor.")
                                      % {"other": other_title, "where": where})
                    break
                if n >= HEADER_SCAN_ROWS:
                    break

    def __iter__(self) -> Iterator[TableRow]:
        positions: dict[str, int] = {}
        for i, name in enumerate(self.header):
            if name:
                positions.setdefault(name, i)
        named = list(positions.items())
        # the cells the importer reads (an unknown column is not: nothing of it is stored)
        read = {i for name, i in positions.items() if self.known is None or name in self.known}
        width = len(self.header)
        unnamed = [i for i, name in enumerate(self.header) if not name]
        text_only = self._workbook is None  # CSV: every cell is already text
        date_1904 = not text_only and self._workbook.epoch.year == 1904  # CALENDAR_MAC_1904
        marks = self.marks
        number = self.header_row
        try:
            for number, cells in enumerate(self._rows, start=self.header_row + 1):
                if text_only:  # the same texts as _cell_text gives, without its type checks
                    texts = [_csv_text(c) for c in cells]
                    numbers = {}
                else:
                    cells = list(cells)
                    texts = [_cell_text(c) for c in cells]
                    numbers = {name: cells[i] for name, i in named
                               if i < len(cells) and _is_number(cells[i])}
                formulas = marks.formulas.get(number) if marks.formulas else None
                if not any(texts) and not formulas:
                    continue
                count = len(texts)
                controlled = ()
                if CONTROL_CHARACTERS.search("".join(texts)):  # rare: one search a row
                    controlled = [i for i, text in enumerate(texts)
                                  if i in read and CONTROL_CHARACTERS.search(text)]
                    texts = [CONTROL_CHARACTERS.sub("", text).strip() for text in texts]
                values = {name: texts[i] if i < count else "" for name, i in named}
                problems = [
                    (_("kolom %(letter)s") % {"letter": _column_letter(i)},
                     _("sel berisi '%(v)s' tetapi kolomnya tidak berjudul (judul sel digabung "
                       "dengan kolom sebelahnya?); beri kolom ini judulnya sendiri")
                     % {"v": texts[i]})
                    for i in [*(i for i in unnamed if i < count), *range(width, count)]
                    if texts[i]
                ]
                if not EXCEL_ERRORS.isdisjoint(texts):
                    problems += [(name, _("sel berisi galat Excel %(v)s (rumusnya gagal "
                                          "dihitung); perbaiki rumusnya atau ketik nilainya")
                                  % {"v": texts[i]})
                                 for name, i in named if i < count and texts[i] in EXCEL_ERRORS]
                if controlled:  # never echoed: the message and the value go without them
                    problems += [(self.header[i], _(
                        "sel berisi karakter kendali (mis. NUL) yang tidak dapat disimpan; "
                        "hapus karakter itu dari sel (salin ulang teksnya) lalu impor lagi"))
                        for i in controlled]
                if formulas:
                    problems += [((self.header[i] if i < width else "")
                                  or _("kolom %(letter)s") % {"letter": _column_letter(i)},
                                  _("berisi rumus tanpa nilai; salin sebagai nilai (Salin, lalu "
                                    "Tempel Spesial > Nilai) atau buka dan simpan berkasnya di "
                                    "Excel"))
                                 for i in formulas]
                if number in marks.hidden:
                    problems.append((_("baris"), _("baris ini tersembunyi di Excel dan tidak "
                                                   "diimpor; tampilkan (Unhide) dan periksa "
                                                   "isinya, atau hapus barisnya")))
                yield TableRow(number=number, values=values, cells=list(cells),
                               numbers=numbers, problems=problems, date_1904=date_1904)
        except UnicodeDecodeError as exc:  # the whole file was checked; only a changed file
            raise TableError(_("Berkas CSV tidak dapat dibaca (pengodean karakter).")) from exc
        except csv.Error as exc:  # a cell longer than the csv module reads (131,072 characters)
            raise TableError(_("Berkas CSV tidak dapat dibaca di baris %(n)d: sel lebih panjang "
                               "dari %(limit)s karakter atau tanda kutip tidak tertutup.")
                             % {"n": number + 1, "limit": angka(csv.field_size_limit())}
                             ) from exc
        finally:
            self.close()

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None


def read_table(fileobj, filename: str, *, required: Iterable[str],
               known: Iterable[str] | None = None,
               aliases: dict[str, str] | None = None) -> Table:
    """The data rows of a CSV/XLSX file as dicts keyed by column names (header cells through
    ``header_key`` and ``aliases``). Fully empty rows are skipped (they keep their numbers).
    Raises TableError at once when no header row holds every required column; ``known``
    columns are the importer's (any other named column is reported in ``Table.notes``)."""
    return Table(fileobj, filename, required=required, known=known, aliases=aliases)


class SeenKeys:
    """Keys already seen in one import (NIK, No. KK…) with the row that had them first, kept in
    a private temporary on-disk SQLite database, so spotting duplicates across a large file
    needs no memory that grows with the file."""

    def __init__(self):
        import sqlite3

        self._db = sqlite3.connect("")  # "" = a temporary database on disk, removed on close
        self._db.execute("CREATE TABLE seen (kind TEXT, key TEXT, row INTEGER, payload TEXT, "
                         "PRIMARY KEY (kind, key)) WITHOUT ROWID")

    def first(self, kind: str, key: str, row: int, payload: str = "") -> tuple[int, str] | None:
        """Record ``key``; if it was seen before, return (row, payload) of the first time."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?)",
                                  (kind, key, row, payload))
        if cursor.rowcount == 1:
            return None
        return self._db.execute("SELECT row, payload FROM seen WHERE kind = ? AND key = ?",
                                (kind, key)).fetchone()

    def close(self) -> None:
        self._db.close()


# --- writing ----------------------------------------------------------------------------------

class _Echo:
    def write(self, value):
        return value


def _plain_value(value):
    if isinstance(value, Decimal):
        return value if value != value.to_integral() else int(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return ""
    return value if isinstance(value, (int, float)) else str(value)


def _export_value(value):
    """A value for a CSV cell (formula guard included)."""
    return safe_cell(_plain_value(value))


def xlsx_cell(sheet, value):
    """A write-only XLSX cell: text is always a string cell (never a formula, so no guard is
    needed and the text round-trips) with characters XML cannot hold shown as U+FFFD."""
    from openpyxl.cell import WriteOnlyCell

    value = _plain_value(value)
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value)
    cell = WriteOnlyCell(sheet, _ILLEGAL_XML.sub("\ufffd", value))
    cell.data_type = "s"
    return cell


def csv_stream(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # BOM: Excel opens UTF-8 correctly
    for row in rows:
        yield writer.writerow([_export_value(v) for v in row])


def xlsx_file(header: list[str], rows: Iterable[Iterable], *, title: str = "Data",
              extra_sheets: dict[str, list[list]] | None = None, text_columns=frozenset()):
    """``text_columns``: indexes of columns formatted as Text (``@``), the whole column — so
    what staff type or paste there later stays text too."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for index in text_columns:
        column = sheet.column_dimensions[get_column_letter(index + 1)]
        column.number_format, column.width = "@", 20
    sheet.append([xlsx_cell(sheet, v) for v in header])
    for row in rows:
        cells = [xlsx_cell(sheet, v) for v in row]
        for index in text_columns:
            cells[index].number_format = "@"
        sheet.append(cells)
    for name, sheet_rows in (extra_sheets or {}).items():
        extra = workbook.create_sheet(title=name[:31])
        for row in sheet_rows:
            extra.append([xlsx_cell(extra, v) for v in row])
    buffer = SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - closed by FileResponse
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def table_response(header: list[str], rows: Iterable[Iterable], *, fmt: str, filename: str,
                   extra_sheets: dict[str, list[list]] | None = None,
                   text_columns=frozenset()):
    """A download of a table. CSV streams; XLSX is written to a spooled temporary file."""
    if fmt not in FORMATS:
        raise TableError(_("Format ekspor harus csv atau xlsx."))
    if fmt == "csv":
        response = StreamingHttpResponse(csv_stream(header, rows),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    return FileResponse(xlsx_file(header, rows, extra_sheets=extra_sheets,
                                  text_columns=text_columns), as_attachment=True,
                        filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE)
