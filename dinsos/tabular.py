"""Reading and writing tables (CSV and XLSX), streaming, for every import and export.

Imports read row by row (csv module; openpyxl in read-only mode), so memory does not grow with
the file. Exports stream CSV and write XLSX in openpyxl's write-only mode. Every text cell that
a spreadsheet would take for a formula (= + - @ tab CR) is prefixed with an apostrophe (OWASP
"CSV injection").
"""

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from tempfile import SpooledTemporaryFile

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, missing columns)."""


@dataclass
class TableRow:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]
    cells: list


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip()


def table_format(filename: str) -> str:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    raise TableError(_("Format berkas tidak dikenal: gunakan .csv atau .xlsx."))


def _normalise_header(cells) -> list[str]:
    return [_cell_text(c).lower().replace(" ", "_") for c in cells]


def _encoding(fileobj) -> str:
    """UTF-8 (with or without BOM) when the start of the file decodes as UTF-8, else the
    Windows code page Excel uses for "CSV (Comma delimited)"."""
    head = fileobj.read(65536)
    fileobj.seek(0)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the 64 KiB boundary
            return "cp1252"
    return "utf-8-sig"


def _csv_rows(fileobj) -> Iterator[list]:
    text = io.TextIOWrapper(fileobj, encoding=_encoding(fileobj), newline="")
    try:
        first = text.readline()
        dialect = "excel-semicolon" if first.count(";") > first.count(",") else "excel"
        yield from csv.reader(io.StringIO(first), dialect=dialect)
        yield from csv.reader(text, dialect=dialect)
    except UnicodeDecodeError as exc:
        raise TableError(_("Berkas CSV tidak dapat dibaca (pengodean karakter campuran). "
                           "Simpan ulang dari Excel sebagai \"CSV UTF-8\".")) from exc


def _xlsx_rows(fileobj) -> Iterator[tuple]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise TableError(_("Berkas XLSX tidak dapat dibaca: %(error)s") % {"error": exc}) from exc
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


csv.register_dialect("excel-semicolon", delimiter=";")


def read_table(fileobj, filename: str, *, required: Iterable[str]) -> Iterator[TableRow]:
    """Yield the data rows of a CSV/XLSX file as dicts keyed by normalised header names.
    Fully empty rows are skipped (they keep their numbers). Raises TableError before the first
    row when required columns are missing."""
    fmt = table_format(filename)
    rows = _csv_rows(fileobj) if fmt == "csv" else _xlsx_rows(fileobj)
    try:
        header = _normalise_header(next(rows))
    except StopIteration:
        raise TableError(_("Berkas kosong: baris pertama harus berisi nama kolom.")) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(_("Kolom wajib tidak ada: %(cols)s.") % {"cols": ", ".join(missing)})
    for number, cells in enumerate(rows, start=2):
        cells = list(cells)
        if not any(_cell_text(c) for c in cells):
            continue
        values = {name: _cell_text(cells[i]) if i < len(cells) else ""
                  for i, name in enumerate(header) if name}
        yield TableRow(number=number, values=values, cells=cells)


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


def _export_value(value):
    if isinstance(value, Decimal):
        return value if value != value.to_integral() else int(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return ""
    return safe_cell(value if isinstance(value, (int, float)) else str(value))


def csv_stream(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # BOM: Excel opens UTF-8 correctly
    for row in rows:
        yield writer.writerow([_export_value(v) for v in row])


def xlsx_file(header: list[str], rows: Iterable[Iterable], *, title: str = "Data",
              extra_sheets: dict[str, list[list]] | None = None):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([_export_value(v) for v in row])
    for name, sheet_rows in (extra_sheets or {}).items():
        extra = workbook.create_sheet(title=name[:31])
        for row in sheet_rows:
            extra.append([_export_value(v) for v in row])
    buffer = SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - closed by FileResponse
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def table_response(header: list[str], rows: Iterable[Iterable], *, fmt: str, filename: str,
                   extra_sheets: dict[str, list[list]] | None = None):
    """A download of a table. CSV streams; XLSX is written to a spooled temporary file."""
    if fmt not in FORMATS:
        raise TableError(_("Format ekspor harus csv atau xlsx."))
    if fmt == "csv":
        response = StreamingHttpResponse(csv_stream(header, rows),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    return FileResponse(xlsx_file(header, rows, extra_sheets=extra_sheets), as_attachment=True,
                        filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE)
