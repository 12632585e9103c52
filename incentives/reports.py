"""The finance documents of a run: Daftar Nominatif (XLSX, PDF), bank transfer file (CSV with
control totals), summary per funding source, yearly realisation. Totals are summed from the
lines themselves, and amounts in words come from dinsos.money."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound

from dinsos.money import MONTH_NAMES, format_rupiah, format_tanggal, rupiah_in_words
from dinsos.scoping import mask, sees_identifiers
from dinsos.tabular import XLSX_CONTENT_TYPE, csv_stream, safe_cell, xlsx_file
from dinsos.validators import mask_nik
from incentives import selectors
from incentives.choices import Component, LineKind, RunStatus
from incentives.models import PayoutLine, PayoutRun

TITLE = "DAFTAR NOMINATIF PENERIMA INSENTIF DAN DANA OPERASIONAL PSKS"
ROMAN = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
HEADER = ["No", "Nama", "NIK", "Komponen / jenis", "Periode", "Bank", "No. Rekening",
          "Bruto (Rp)", "PPh 21 (Rp)", "Neto (Rp)", "Tanda tangan"]
#: Relative widths of the PDF columns (they fill the width between the margins).
PDF_WIDTHS = [0.9, 3.9, 2.7, 3.6, 1.4, 2.6, 2.6, 2.2, 1.8, 2.2, 2.2]


#: What every page and sheet of a Daftar Nominatif of a run not yet approved says.
DRAFT_MARK = "DRAF — belum disetujui, tidak untuk ditandatangani"
#: The statuses whose documents are final: numbered, dated, with the sign-off; bank file.
FINAL_STATUSES = (RunStatus.DISETUJUI, RunStatus.DIBAYAR)


def is_final(run: PayoutRun) -> bool:
    """Approved by the Pimpinan (or paid): the documents are final. Before that the Daftar
    Nominatif is a draft (no number, no date, no sign-off, marked DRAF on every page) and
    there is no bank file."""
    return run.status in FINAL_STATUSES


class NotApproved(Exception):
    """A document the run cannot have yet: the bank file of a run not approved (a 409 on every
    door: the run must be approved first)."""


def check_available(run: PayoutRun, kind: str) -> None:
    """Refuse (NotApproved) the bank transfer file of a run not approved or paid, and every
    document of a cancelled run (its lines are gone; it will never be approved)."""
    if run.status == RunStatus.DIBATALKAN:
        raise NotApproved(gettext(
            "Perhitungan %(period)s dibatalkan; perhitungan yang dibatalkan tidak punya "
            "dokumen.") % {"period": period_label(run)})
    if kind == "bank-csv" and not is_final(run):
        raise NotApproved(gettext(
            "Berkas transfer bank hanya dibuat untuk perhitungan yang sudah disetujui "
            "Pimpinan (atau dibayar); perhitungan %(period)s berstatus %(status)s.")
            % {"period": period_label(run), "status": run.get_status_display()})


def period_label(run: PayoutRun) -> str:
    return f"{MONTH_NAMES[run.period.month]} {run.period.year}"


def document_date(run: PayoutRun):
    """The date of the document: the day it was approved (else verified, else computed) in
    WIB — never the day it is printed."""
    moment = run.approved_at or run.verified_at or run.computed_at or timezone.now()
    return timezone.localdate(moment)


def document_number(run: PayoutRun) -> str:
    day = document_date(run)
    return (f"{settings.NOMINATIF_NUMBER_PREFIX}/{run.pk:04d}/NOM-PSKS/Dinsos/"
            f"{ROMAN[day.month]}/{day.year}")


def kind_label(component: str, kind: str) -> str:
    """The line's component, and what kind of line it is when not a regular one."""
    label = str(Component(component).label)
    return label if kind == LineKind.REGULAR else f"{label} — {LineKind(kind).label}"


@dataclass
class Subtotal:
    label: str
    count: int = 0
    gross: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    net: Decimal = Decimal(0)

    def add(self, group) -> None:
        self.count += group.count
        self.gross += group.gross
        self.tax += group.tax
        self.net += group.net

    def add_line(self, line) -> None:
        self.count += 1
        self.gross += line.gross_amount
        self.tax += line.tax_amount
        self.net += line.net_amount


def worker_total_label(name: str, sub: Subtotal, carried: bool) -> str:
    """What a worker receives this month, said so when it is nothing."""
    label = f"Jumlah diterima {name}"
    if sub.net == 0:
        label += " — Rp0, tidak ada transfer bulan ini"
        if carried:
            label += " (saldo negatif dibawa ke periode berikutnya)"
    return label


def nominatif_data(run: PayoutRun, *, masked: bool = False) -> dict:
    """Everything the Daftar Nominatif prints except its lines (those are streamed by
    ``nominatif_body``): the groups and totals summed by the database from the payable lines.
    ``masked``: the copy for roles that see payout lines masked (account numbers masked)."""
    groups = selectors.nominatif_groups(run)
    kab_kota: dict[str, Subtotal] = {}
    total = Subtotal("JUMLAH SELURUHNYA")
    for group in groups:
        kab_kota.setdefault(group.kab_kota, Subtotal(f"Jumlah {group.kab_kota_name}")).add(group)
        total.add(group)
    office = selectors.province_office()
    day, final = document_date(run), is_final(run)
    return {"groups": groups, "kab_kota": kab_kota, "total": total, "gross": total.gross,
            "tax": total.tax, "net": total.net, "count": total.count,
            "words": rupiah_in_words(total.net), "office": office, "period": period_label(run),
            "final": final, "number": document_number(run) if final else "", "date": day,
            "place_date": f"Serang, {format_tanggal(day)}",
            "program": settings.NOMINATIF_PROGRAM,
            "kode_rekening": settings.NOMINATIF_KODE_REKENING,
            "status": run.get_status_display(), "masked": masked}


class RunChanged(RuntimeError):
    """The lines changed while the document was being made (the task fails; ask again)."""


def nominatif_body(run: PayoutRun, data: dict):
    """The table of the Daftar Nominatif as events, streamed from a server-side cursor:
    ``("group", group)`` when a kab/kota × role begins, ``("line", number, line)``,
    ``("worker", Subtotal)`` after the last line of a worker with several lines not all
    regular (rapel, penyesuaian, saldo negatif, potongan: what the worker receives in the whole
    run — one transfer, also when his lines fall in two groups —, "Rp0" said so),
    ``("subtotal", Subtotal)`` after the group's last line (and the kab/kota's after its last
    group), finally ``("total", Subtotal)``. The subtotals are summed from the streamed
    lines and must equal the database's (else RunChanged): bank file, Nominatif and summary
    agree."""
    groups = {(g.kab_kota, g.role): g for g in data["groups"]}
    total = Subtotal(data["total"].label)
    group = sub = kab = sub_of_kab = None

    def worker_row(line):
        """After a worker's last line in the document (his lines may fall in two groups), what
        he receives in the whole run — when he has several lines, not all regular."""
        if line.worker_place == line.worker_lines > 1 and line.worker_special:
            paid = Subtotal("", line.worker_lines, line.worker_gross, line.worker_tax,
                            line.worker_net)
            paid.label = worker_total_label(line.worker__name, paid, bool(line.worker_carried))
            yield "worker", paid

    def close(next_kab_kota):
        yield "subtotal", sub
        if next_kab_kota != group.kab_kota:
            yield "subtotal", kab

    for number, line in enumerate(selectors.nominatif_lines(run), start=1):
        if group is None or (line.kab_kota, line.role) != (group.kab_kota, group.role):
            if group is not None:
                yield from close(line.kab_kota)
            group = groups.get((line.kab_kota, line.role))
            if group is None:
                raise RunChanged(f"kelompok {line.kab_kota} {line.role}")
            sub = Subtotal(f"Jumlah {group.kab_kota_name} — {group.role_name}")
            if kab is None or sub_of_kab != group.kab_kota:
                kab, sub_of_kab = Subtotal(data["kab_kota"][group.kab_kota].label), group.kab_kota
            yield "group", group
        sub.add_line(line)
        kab.add_line(line)
        total.add_line(line)
        row = worker_row(line)
        if data.get("masked"):
            line = line._replace(account_number=mask("account_number", line.account_number))
        yield "line", number, line
        yield from row
    if group is not None:
        yield from close(None)
    expected = data["total"]
    if (total.count, total.gross, total.net) != (expected.count, expected.gross, expected.net):
        raise RunChanged(f"{total.count} baris {total.net} ≠ {expected.count} baris "
                         f"{expected.net}")
    yield "total", total


def heading_lines(data: dict) -> list[str]:
    """Title, period, number and date (a draft: its status instead), programme."""
    if data["final"]:
        state = f"Nomor: {data['number']} — Tanggal: {format_tanggal(data['date'])}"
    else:
        state = (f"Status: {data['status']} — belum disetujui Pimpinan; tanpa nomor dan "
                 "tanggal dokumen")
    return [TITLE, f"Periode {data['period']}", state,
            f"Program: {data['program']} — Kode rekening: {data['kode_rekening']}"]


def sign_off(office, place_date: str) -> list[tuple[str, str]]:
    return [("Mengetahui,", place_date),
            ("Kepala Dinas Sosial Provinsi Banten", "Bendahara Pengeluaran"),
            ("", ""), ("", ""),
            (office.head_name or "(nama)", office.treasurer_name or "(nama)"),
            (f"NIP {office.head_nip or '-'}", f"NIP {office.treasurer_nip or '-'}")]


def _rupiah(value) -> str:
    """An amount without "Rp" (the column says it): 1.083.333, -733.870."""
    whole = int(value)
    if whole == value:  # the usual case, without format_rupiah's rounding work
        return f"{whole:,}".replace(",", ".")
    return format_rupiah(value).replace("Rp", "")


# --- XLSX -------------------------------------------------------------------------------------

XLSX_HEADER = ["No", "Kab/Kota", "Peran", "Nama", "NIK", "Komponen / jenis", "Periode", "Bank",
               "No. Rekening", "Bruto (Rp)", "PPh 21 (Rp)", "Neto (Rp)", "Keterangan"]
RUPIAH_FORMAT = '"Rp"#,##0;-"Rp"#,##0'
MONEY_COLUMNS = (9, 10, 11)  # 0-based: bruto, PPh 21, neto


def _xlsx_widths(run: PayoutRun, data: dict) -> list[int]:
    """Column widths fitted to the longest content, from one aggregate query (the sheet's
    columns are written before its rows)."""
    found = selectors.nominatif_widths(run)
    groups, total = data["groups"], data["total"]
    labels = ([f"Jumlah {g.kab_kota_name} — {g.role_name}" for g in groups]
              + [sub.label for sub in data["kab_kota"].values()] + [total.label])
    amounts = [value for value in (found["max_gross"], found["min_gross"], found["max_tax"],
                                   found["min_tax"], found["max_net"], found["min_net"],
                                   total.gross, total.tax, total.net) if value is not None]
    money = max((len(format_rupiah(v)) for v in amounts), default=0)
    content = [len(str(total.count)),
               max((len(g.kab_kota_name) for g in groups), default=0),
               max((len(g.role_name) for g in groups), default=0),
               max([found["name"] or 0, *map(len, labels)]),
               len(mask_nik("0" * 16)),
               max([len(f"{total.count} baris"),
                    *(len(kind_label(c, k)) for c, k in found["kinds"])]),
               len("12/2026"), found["bank"] or 0, found["account"] or 0,
               money, money, money, found["note"] or 0]
    return [min(max(len(title), width) + 2, 80) for title, width in zip(XLSX_HEADER, content,
                                                                        strict=True)]


_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_COLUMNS = "ABCDEFGHIJKLM"  # the sheet's 13 columns
_SPREADSHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: The sheet's cell formats (cellXfs), fixed once: s="1" title, "2" header (bold, grey,
#: wrapped), "3" amount, "4" bold, "5" bold amount, "6" the draft mark (bold, red).
_STYLES = (
    f'<styleSheet xmlns="{_SPREADSHEET}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="{money}"/></numFmts>'
    '<fonts count="4"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font><font><b val="1"/><sz val="13"/></font>'
    '<font><b val="1"/></font><font><b val="1"/><sz val="14"/><color rgb="FFC00000"/></font>'
    '</fonts>'
    '<fills count="3"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/>'
    '</fill><fill><patternFill patternType="solid"><fgColor rgb="00DDDDDD"/></patternFill>'
    '</fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"'
    ' applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="2" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
    ' applyFont="1"/>'
    '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
_STATIC_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" '
        'Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PACKAGE_RELATIONSHIPS}/metadata/core-properties" '
        'Target="docProps/core.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
        '</Relationships>'),
}


def _xml_text(value: str) -> str:
    """Text for an XML element: & < > escaped, characters XML cannot hold shown as U+FFFD."""
    if _XML_SPECIAL.search(value) is None:
        return value
    return _XML_SPECIAL.sub(lambda m: _XML_ESCAPES.get(m.group(), "\ufffd"), value)


def _xlsx_text(value, row: int, column: int, style: str = "") -> str:
    """A text cell (an inline string, guarded like every export's text); "" is no cell."""
    if value is None or value == "":
        return ""
    text = _xml_text(safe_cell(str(value)))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return (f'<c r="{_COLUMNS[column]}{row}"{style} t="inlineStr"><is><t{space}>{text}</t>'
            "</is></c>")


def _xlsx_number(value) -> str:
    """An amount as the sheet stores it (15 significant digits are exact)."""
    return f"{float(value):.16g}"


def _xlsx_row(row: int, cells, style: str = "", money_style: str = ' s="3"') -> str:
    """A row of cells: texts, and the amounts (numbers) in the money columns."""
    parts = [f'<row r="{row}">']
    for column, value in enumerate(cells):
        if column in MONEY_COLUMNS and isinstance(value, Decimal | int):
            parts.append(f'<c r="{_COLUMNS[column]}{row}"{money_style}>'
                         f"<v>{_xlsx_number(value)}</v></c>")
        else:
            parts.append(_xlsx_text(value, row, column, style))
    parts.append("</row>")
    return "".join(parts)


def xlsx_heading(data: dict) -> list[tuple[str, str]]:
    """The rows above the sheet's table, as (text, cell format): a draft's mark first, the kop
    surat (as the PDF's letterhead), a blank row, then the title lines."""
    office = data["office"]
    rows = [] if data["final"] else [(DRAFT_MARK, ' s="6"')]
    rows += [("PEMERINTAH PROVINSI BANTEN", ' s="4"'), (office.name.upper(), ' s="1"')]
    if office.address:
        rows.append((office.address, ""))
    title, *rest = heading_lines(data)
    return [*rows, ("", ""), (title, ' s="1"'), *((text, "") for text in rest)]


def sheet_name(data: dict) -> str:
    return "Daftar Nominatif" if data["final"] else "DRAF Daftar Nominatif"


def _xlsx_sheet(run: PayoutRun, data: dict):
    """The sheet XML in pieces: columns, frozen header, rows streamed from the lines, print
    setup."""
    widths = _xlsx_widths(run, data)
    heading = xlsx_heading(data)
    header_row = len(heading) + 2
    paper = "9" if settings.NOMINATIF_PAPER.upper() == "A4" else "14"  # F4 = folio 8,5 × 13 in
    yield (f'<worksheet xmlns="{_SPREADSHEET}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
           f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{header_row}" '
           f'topLeftCell="A{header_row + 1}" activePane="bottomLeft" state="frozen"/>'
           '<selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/><cols>'
           + "".join(f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>'
                     for i, width in enumerate(widths, start=1))
           + "</cols><sheetData>")
    for row, (text, style) in enumerate(heading, start=1):
        yield _xlsx_row(row, [text], style)
    yield f'<row r="{header_row - 1}"></row>'
    yield _xlsx_row(header_row, XLSX_HEADER, ' s="2"')
    row = header_row
    texts: dict = {}  # the repeated texts (kab/kota, role, component, period) escaped once

    def text(value) -> str:
        if value not in texts:
            texts[value] = _xml_text(safe_cell(value))
        return texts[value]

    chunk: list[str] = []
    kab_kota = role = ""
    for event in nominatif_body(run, data):
        row += 1
        kind = event[0]
        if kind == "group":
            kab_kota, role = text(event[1].kab_kota_name), text(event[1].role_name)
            row -= 1
            continue
        if kind != "line":
            sub = event[1]
            chunk.append(_xlsx_row(row, ["", "", "", sub.label, "", f"{sub.count} baris", "",
                                         "", "", sub.gross, sub.tax, sub.net], ' s="4"',
                                   ' s="5"'))
            if kind == "total":
                row += 1
                chunk.append(_xlsx_row(row, ["", "", "",
                                             f"Terbilang: {rupiah_in_words(sub.net)}"]))
            continue
        _kind, number, line = event
        key = (line.component, line.kind)
        if key not in texts:
            texts[key] = _xml_text(kind_label(*key))
        if line.period not in texts:
            texts[line.period] = f"{line.period:%m/%Y}"
        r = str(row)
        chunk.append(
            f'<row r="{r}"><c r="A{r}"><v>{number}</v></c>'
            f'<c r="B{r}" t="inlineStr"><is><t>{kab_kota}</t></is></c>'
            f'<c r="C{r}" t="inlineStr"><is><t>{role}</t></is></c>'
            f"{_xlsx_text(line.worker__name, row, 3)}"
            f'<c r="E{r}" t="inlineStr"><is><t>{mask_nik(line.worker__nik)}</t></is></c>'
            f'<c r="F{r}" t="inlineStr"><is><t>{texts[key]}</t></is></c>'
            f'<c r="G{r}" t="inlineStr"><is><t>{texts[line.period]}</t></is></c>'
            f"{_xlsx_text(line.bank_name, row, 7)}{_xlsx_text(line.account_number, row, 8)}"
            f'<c r="J{r}" s="3"><v>{_xlsx_number(line.gross_amount)}</v></c>'
            f'<c r="K{r}" s="3"><v>{_xlsx_number(line.tax_amount)}</v></c>'
            f'<c r="L{r}" s="3"><v>{_xlsx_number(line.net_amount)}</v></c>'
            f"{_xlsx_text(line.note, row, 12)}</row>")
        if len(chunk) >= 1000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    row += 1
    yield f'<row r="{row}"></row>'
    if not data["final"]:  # a draft is not signed
        yield _xlsx_row(row + 1, ["", "", "", DRAFT_MARK], ' s="6"')
    for left, right in sign_off(data["office"], data["place_date"]) if data["final"] else []:
        row += 1
        yield _xlsx_row(row, ["", "", "", left, "", "", "", "", "", right])
    yield ('</sheetData><printOptions horizontalCentered="1"/>'
           '<pageMargins left="0.6" right="0.6" top="0.6" bottom="0.6" header="0.5" '
           f'footer="0.5"/><pageSetup paperSize="{paper}" orientation="landscape" '
           'fitToWidth="1" fitToHeight="0"/></worksheet>')


def nominatif_xlsx(run: PayoutRun, out=None, *, masked: bool = False):
    """The Daftar Nominatif as a spreadsheet: one table (header frozen and repeated on printed
    pages), amounts as numbers in Rupiah format, subtotals per kab/kota × role and per kab/kota,
    the grand total and the sign-off; landscape, fitted to the page width. The sheet's XML is
    written here, streamed from a server-side cursor into the zip (inline strings, the six
    cell formats fixed once in the styles part), so memory stays flat and no spreadsheet
    library builds a cell object per value; into ``out`` (a binary file; default a new
    BytesIO, returned rewound)."""
    data = nominatif_data(run, masked=masked)
    name, header_row = sheet_name(data), len(xlsx_heading(data)) + 2
    title = _xml_text(f"{TITLE} {data['period']}"
                      + ("" if data["final"] else f" ({DRAFT_MARK})"))
    created = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = {
        **_STATIC_PARTS,
        "docProps/core.xml": (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{title}</dc:title>"
            f"<dc:creator>{_xml_text(data['office'].name)}</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            "</cp:coreProperties>"),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_SPREADSHEET}" xmlns:r="{_RELATIONSHIPS}"><bookViews>'
            f'<workbookView activeTab="0"/></bookViews><sheets><sheet name="{name}" '
            'sheetId="1" r:id="rId1"/></sheets><definedNames><definedName '
            f"name=\"_xlnm.Print_Titles\" localSheetId=\"0\">'{name}'!${header_row}"
            f":${header_row}</definedName></definedNames></workbook>"),
        "xl/styles.xml": _STYLES.replace("{money}", escape(RUPIAH_FORMAT, {'"': "&quot;"})),
    }
    buffer = out if out is not None else io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for path, xml in parts.items():
            book.writestr(path, _XML_HEAD + xml)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_XML_HEAD.encode())
            for piece in _xlsx_sheet(run, data):
                sheet.write(piece.encode())
    if out is None:
        buffer.seek(0)
    return buffer


# --- PDF --------------------------------------------------------------------------------------

def _page_size():
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm

    return landscape({"A4": A4, "F4": (215 * mm, 330 * mm)}.get(
        settings.NOMINATIF_PAPER.upper(), A4))


PDF_MARGIN_CM = 1.5
PDF_FOOTER_CM = 0.6  # the band above the bottom margin that holds the page footer


class _Font:
    """A standard PDF font: text widths from a per-character table (reportlab's pure-Python
    stringWidth is slow) and the text encoded for its WinAnsi encoding."""

    def __init__(self, name: str):
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.name, self._string_width = name, stringWidth
        self._widths: dict[str, float] = {}
        self.ref = ""  # its name inside the PDF, set by the writer

    def width(self, text: str, size: float) -> float:
        widths = self._widths
        try:
            return sum(map(widths.__getitem__, text)) * size / 1000
        except KeyError:
            for char in set(text) - widths.keys():
                widths[char] = self._string_width(char, self.name, 1000)
            return sum(map(widths.__getitem__, text)) * size / 1000

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """Lines of at most ``width`` points, broken at spaces (a word longer than the width
        is broken between letters)."""
        if self.width(text, size) <= width:
            return [text]
        lines, current = [], ""
        for word in text.split():
            candidate = f"{current} {word}" if current else word
            if self.width(candidate, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while self.width(word, size) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and self.width(word[:cut], size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        if current:
            lines.append(current)
        return lines or [""]


_PDF_ESCAPES = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)"})


def _pdf_text(text: str) -> str:
    """A PDF literal string (without the parentheses) in WinAnsi encoding."""
    if text.isascii():
        return text.translate(_PDF_ESCAPES)
    data = text.encode("cp1252", "replace")
    return "".join(chr(b) if 32 <= b < 127 and b not in (40, 41, 92) else f"\\{b:03o}"
                   for b in data)


class NominatifPdf:
    """Draws the Daftar Nominatif page by page on a reportlab canvas. ``flow`` lays out the
    whole document from the streamed lines; run once without a canvas it only counts the
    pages (for "Halaman x dari y"), then again to draw. Memory holds one page at a time (the
    canvas keeps each finished page's drawing operators, not objects per line)."""

    SIZE, LEADING, PAD_X, PAD_Y = 7.5, 9.0, 2.0, 1.5
    BANNER = 18.0  # the height of a draft's banner on top of every page
    BASELINE = 6.6  # from the top of a line of text to its baseline
    GREY, RULE = "0.88 0.88 0.88", "0.5 0.5 0.5"

    def __init__(self, run: PayoutRun, data: dict):
        from reportlab.lib.units import cm

        self.run, self.data, self.cm = run, data, cm
        self.draft = not data["final"]
        self.width_page, self.height_page = _page_size()
        self.margin = PDF_MARGIN_CM * cm
        self.top, self.bottom = self.height_page - self.margin, self.margin + PDF_FOOTER_CM * cm
        if self.draft:  # the banner on top of every page
            self.top -= self.BANNER + 0.2 * cm
        self.width = self.width_page - 2 * self.margin
        scale = self.width / sum(PDF_WIDTHS)
        self.x = [self.margin]
        for w in PDF_WIDTHS:
            self.x.append(self.x[-1] + w * scale)
        self.widths = [b - a - 2 * self.PAD_X for a, b in zip(self.x, self.x[1:], strict=False)]
        self.anchors = [b - self.PAD_X if i in (0, 7, 8, 9) else a + self.PAD_X
                        for i, (a, b) in enumerate(zip(self.x, self.x[1:], strict=False))]
        self.regular, self.bold = _Font("Helvetica"), _Font("Helvetica-Bold")
        self.italic = _Font("Helvetica-Oblique")
        self.footer = (f"{TITLE} — {data['period']} — "
                       + (f"Nomor {data['number']}" if data["final"] else DRAFT_MARK))
        self.canvas, self.pages = None, 0

    # drawing primitives (raw operators: reportlab's drawString costs ~20× more per cell)
    def _op(self, text: str) -> None:
        if self.canvas is not None:
            self.canvas._code.append(text)  # noqa: SLF001 - the canvas's operator list

    def text(self, x, y, text, font, size, align="left") -> None:
        if self.canvas is None or not text:
            return
        if align == "right":
            x -= font.width(text, size)
        elif align == "centre":
            x -= font.width(text, size) / 2
        self._op(f"BT {font.ref} {size:g} Tf {x:.2f} {y:.2f} Td ({_pdf_text(text)}) Tj ET")

    def fill(self, x0, y0, x1, y1, colour) -> str:
        return f"{colour} rg {x0:.2f} {y0:.2f} {x1 - x0:.2f} {y1 - y0:.2f} re f 0 0 0 rg"

    def lines_text(self, x, top, lines, font, size, leading, align="left") -> None:
        for i, line in enumerate(lines):
            self.text(x, top - size - i * leading, line, font, size, align)

    # pages
    def new_page(self) -> None:
        if self.pages:
            self.end_page()
        self.pages += 1
        self.y = self.block_bottom = self.top
        self.rules: list[float] = []  # the top of each table row drawn on the page
        self.runs: list[list] = []  # [edges, top, bottom] of rows with the same column edges
        if self.draft:
            self.draft_banner()

    def draft_banner(self) -> None:
        """A draft's mark across the top of the page, in a red box."""
        top = self.height_page - self.margin
        self._op(f"1 0.92 0.92 rg 0.75 0 0 RG 1 w {self.margin:.2f} {top - self.BANNER:.2f} "
                 f"{self.width:.2f} {self.BANNER:.2f} re B 0.75 0 0 rg")
        self.text(self.margin + self.width / 2, top - self.BANNER + 5.5,
                  f"{DRAFT_MARK} — status: {self.data['status']}", self.bold, 10,
                  "centre")
        self._op("0 0 0 rg 0 0 0 RG 0.3 w")

    def watermark(self) -> None:
        """A draft's diagonal "DRAF" across the page, transparent over the table."""
        canvas = self.canvas
        canvas.saveState()
        canvas.setFillColorRGB(0.75, 0, 0, alpha=0.12)
        canvas.setFont(self.bold.name, 120)
        canvas.translate(self.width_page / 2, self.height_page / 2)
        canvas.rotate(30)
        canvas.drawCentredString(0, -40, "DRAF")
        canvas.restoreState()

    def end_page(self) -> None:
        self.flush_grid()
        if self.canvas is None:
            return
        self._op(f"BT {self.regular.ref} 7.5 Tf {self.margin:.2f} {self.margin + 4:.2f} Td "
                 f"({_pdf_text(self.footer)}) Tj ET")
        self.text(self.width_page - self.margin, self.margin + 4,
                  f"Halaman {self.pages} dari {self.total_pages}", self.regular, 7.5,
                  align="right")
        if self.draft:
            self.watermark()
        self.canvas.showPage()

    # table rows: cells are (text lines, font, anchor x, align); the grid is drawn per page
    # from the row tops and the runs of rows that share their column edges
    def row_height(self, cells) -> float:
        return 2 * self.PAD_Y + self.LEADING * max(len(lines) for lines, *_ in cells)

    def draw_row(self, cells, edges, height, background=None) -> None:
        top = self.y
        self.y = self.block_bottom = bottom = top - height
        if self.canvas is None:
            return
        ops = [self.fill(self.margin, bottom, self.x[-1], top, background)] if background else []
        ops.append("BT")
        baseline, size, leading = top - self.PAD_Y - self.BASELINE, self.SIZE, self.LEADING
        current = None
        for lines, font, anchor, align in cells:
            if font is not current:
                ops.append(f"{font.ref} {size:g} Tf")
                current = font
            for i, text in enumerate(lines):
                if not text:
                    continue
                x = anchor
                if align == "right":
                    x -= font.width(text, size)
                elif align == "centre":
                    x -= font.width(text, size) / 2
                y = baseline - i * leading
                ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm ({_pdf_text(text)}) Tj")
        ops.append("ET")
        self._op(" ".join(ops))
        self.rules.append(top)
        if self.runs and self.runs[-1][0] is edges and self.runs[-1][2] == top:
            self.runs[-1][2] = bottom
        else:
            self.runs.append([edges, top, bottom])

    def flush_grid(self) -> None:
        if self.canvas is not None and self.rules:
            left, right = self.margin, self.x[-1]
            ops = [f"0.3 w {self.RULE} RG"]
            ops += [f"{left:.2f} {y:.2f} m {right:.2f} {y:.2f} l"
                    for y in [*self.rules, self.block_bottom]]
            ops += [f"{self.x[e]:.2f} {top:.2f} m {self.x[e]:.2f} {bottom:.2f} l"
                    for edges, top, bottom in self.runs for e in edges]
            ops.append("S 0 0 0 RG")
            self._op(" ".join(ops))
        self.rules, self.runs = [], []

    # the document
    ALL_EDGES = tuple(range(12))
    CAPTION_EDGES = (0, 11)
    SUBTOTAL_EDGES = (0, 1, 7, 8, 9, 10, 11)
    WRAPPED = (1, 3, 5, 6)  # name, component, bank, account: the columns that may wrap

    def cell(self, text, font=None, align="left", span=(0, 1)):
        font = font or self.regular
        x0, x1 = self.x[span[0]], self.x[span[1]]
        anchor = {"left": x0 + self.PAD_X, "right": x1 - self.PAD_X,
                  "centre": (x0 + x1) / 2}[align]
        return (font.wrap(str(text), self.SIZE, x1 - x0 - 2 * self.PAD_X), font, anchor, align)

    def caption_rows(self, group):
        caption = [self.cell(f"{group.kab_kota_name} — {group.role_name}", self.bold,
                             span=(0, 11))]
        header = [self.cell(title, self.bold, "centre", (i, i + 1))
                  for i, title in enumerate(HEADER)]
        return [(caption, self.CAPTION_EDGES), (header, self.ALL_EDGES)]

    def line_texts(self, number, line, labels) -> list[str]:
        key = (line.component, line.kind)
        if key not in labels:
            labels[key] = kind_label(*key)
        return [str(number), line.worker__name, mask_nik(line.worker__nik), labels[key],
                f"{line.period:%m/%Y}", line.bank_name, line.account_number,
                _rupiah(line.gross_amount), _rupiah(line.tax_amount), _rupiah(line.net_amount),
                ""]

    def line_height(self, line, labels) -> float:
        """The height of a line's row without making its cells (the layout pass)."""
        key = (line.component, line.kind)
        if key not in labels:
            labels[key] = kind_label(*key)
        wrap, size, widths = self.regular.wrap, self.SIZE, self.widths
        most = max(len(wrap(text, size, widths[i])) for i, text in (
            (1, line.worker__name), (3, labels[key]), (5, line.bank_name),
            (6, line.account_number)))
        return 2 * self.PAD_Y + self.LEADING * most

    def line_cells(self, texts):
        font, size, cells = self.regular, self.SIZE, []
        for i, text in enumerate(texts):
            lines = font.wrap(text, size, self.widths[i]) if i in self.WRAPPED else [text]
            cells.append((lines, font, self.anchors[i], "right" if i in (0, 7, 8, 9) else "left"))
        return cells

    def subtotal_cells(self, sub, font=None):
        font = font or self.bold
        return [self.cell(""), self.cell(f"{sub.label} ({sub.count} baris)", font,
                                         span=(1, 7)),
                self.cell(_rupiah(sub.gross), font, "right", (7, 8)),
                self.cell(_rupiah(sub.tax), font, "right", (8, 9)),
                self.cell(_rupiah(sub.net), font, "right", (9, 10)), self.cell("", span=(10, 11))]

    def place(self, cells, edges, background=None, repeat=None, height=None) -> None:
        """A row of the table; on a new page when it does not fit (above the page's totals),
        below the repeated caption and header of its group."""
        height = height or self.row_height(cells)
        if self.y - height < self.bottom + self.PAGE_TOTALS:
            self.break_page(repeat)
        self.draw_row(cells, edges, height, background)

    # the page totals: what the page's lines add up to, and all lines up to it, carried over
    PAGE_TOTALS = 2 * (2 * PAD_Y + LEADING)  # the two rows kept free at the foot of a page

    def count_line(self, line) -> None:
        self.page_sum.add_line(line)
        self.carried.add_line(line)

    def page_totals(self) -> None:
        """"Jumlah halaman ini" and "Jumlah s.d. halaman ini" below the page's last row (once
        a line was listed; the space is kept free by ``place``)."""
        if not self.carried.count:
            return
        for sub in (self.page_sum, self.carried):
            cells = self.subtotal_cells(sub, self.italic)
            self.draw_row(cells, self.SUBTOTAL_EDGES, self.row_height(cells))
        self.page_sum = Subtotal("Jumlah halaman ini")

    def break_page(self, repeat=None) -> None:
        """The page's totals, a new page, the caption and header of the group going on, and
        the total carried from the pages before."""
        self.page_totals()
        self.new_page()
        for caption_cells, caption_edges in repeat or []:
            self.draw_row(caption_cells, caption_edges, self.row_height(caption_cells),
                          self.GREY)
        if self.carried.count:
            carried = Subtotal("Jumlah pindahan dari halaman sebelumnya", self.carried.count,
                               self.carried.gross, self.carried.tax, self.carried.net)
            cells = self.subtotal_cells(carried, self.italic)
            self.draw_row(cells, self.SUBTOTAL_EDGES, self.row_height(cells))

    def letterhead(self) -> None:
        office, cm = self.data["office"], self.cm
        blocks = [("PEMERINTAH PROVINSI BANTEN", self.bold, 11, 14),
                  (office.name.upper(), self.bold, 13, 16)]
        if office.address:
            blocks.append((office.address, self.regular, 10, 13))
        centre = self.margin + self.width / 2
        for text, font, size, leading in blocks:
            lines = font.wrap(text, size, self.width)
            self.lines_text(centre, self.y, lines, font, size, leading, "centre")
            self.y -= leading * len(lines)
        self.y -= 3
        self._op(f"1.5 w {self.margin:.2f} {self.y:.2f} m {self.x[-1]:.2f} {self.y:.2f} l S")
        self.y -= 1.5 + 6
        for index, text in enumerate(heading_lines(self.data)):
            font, size, leading = (self.bold, 11, 14) if index == 0 else (self.regular, 10, 13)
            lines = font.wrap(text, size, self.width)
            self.lines_text(centre, self.y, lines, font, size, leading, "centre")
            self.y -= leading * len(lines)
        self.y -= 0.3 * cm

    def closing(self, total) -> None:
        """The grand total, the amount in words and the sign-off, kept on one page."""
        cm, half = self.cm, self.width / 2
        total_cells = self.subtotal_cells(total)
        words = self.italic.wrap(f"Terbilang: {rupiah_in_words(total.net)}", 9, self.width)
        lines = (sign_off(self.data["office"], self.data["place_date"]) if not self.draft
                 else [(DRAFT_MARK, "")])  # a draft is not signed
        sign = [(self.regular.wrap(left, 10, half - 12), self.regular.wrap(right, 10, half - 12))
                for left, right in lines]
        sign_heights = [15.0 if not (a[0] or b[0]) else 6 + 13 * max(len(a), len(b))
                        for a, b in sign]
        height = (self.row_height(total_cells) + 0.2 * cm + 11 * len(words) + 0.5 * cm
                  + sum(sign_heights))
        self.flush_grid()
        if self.y - height < self.bottom:
            self.new_page()
        row_height = self.row_height(total_cells)
        self.draw_row(total_cells, self.SUBTOTAL_EDGES, row_height, self.GREY)
        self.rules, self.runs = [], []  # the grand total is ruled black, thicker
        self._op("0.6 w 0 0 0 RG " + " ".join(
            f"{self.x[e]:.2f} {self.y:.2f} m {self.x[e]:.2f} {self.y + row_height:.2f} l"
            for e in sorted(self.SUBTOTAL_EDGES))
            + f" {self.margin:.2f} {self.y:.2f} {self.width:.2f} {row_height:.2f} re S"
              " 0.3 w")
        self.y -= 0.2 * cm
        self.lines_text(self.margin, self.y, words, self.italic, 9, 11)
        self.y -= 11 * len(words) + 0.5 * cm
        for (left, right), row_height in zip(sign, sign_heights, strict=True):
            for lines, x in ((left, self.margin + half / 2), (right, self.margin + 1.5 * half)):
                self.lines_text(x, self.y - 3, lines, self.regular, 10, 13, "centre")
            self.y -= row_height

    def flow(self) -> int:
        """Lay out (and, with a canvas, draw) the whole document; the number of pages."""
        self.pages = 0
        self.page_sum, self.carried = (Subtotal("Jumlah halaman ini"),
                                       Subtotal("Jumlah s.d. halaman ini"))
        self.new_page()
        self.letterhead()
        labels: dict[tuple, str] = {}
        repeat = None
        for event in nominatif_body(self.run, self.data):
            kind = event[0]
            if kind == "group":
                repeat = self.caption_rows(event[1])
                first_height = sum(self.row_height(c) for c, _e in repeat) + 2 * self.LEADING
                if self.y - first_height < self.bottom + self.PAGE_TOTALS:
                    self.break_page()
                for cells, edges in repeat:
                    self.draw_row(cells, edges, self.row_height(cells), self.GREY)
            elif kind == "line" and self.canvas is None:
                self.place(None, self.ALL_EDGES, repeat=repeat,
                           height=self.line_height(event[2], labels))
                self.count_line(event[2])
            elif kind == "line":
                self.place(self.line_cells(self.line_texts(event[1], event[2], labels)),
                           self.ALL_EDGES, repeat=repeat)
                self.count_line(event[2])
            elif kind == "subtotal":
                self.place(self.subtotal_cells(event[1]), self.SUBTOTAL_EDGES, repeat=repeat)
            elif kind == "worker":
                self.place(self.subtotal_cells(event[1], self.italic), self.SUBTOTAL_EDGES,
                           repeat=repeat)
            else:
                self.page_totals()  # the last page's: "s.d. halaman ini" is the grand total
                self.flush_grid()
                self.closing(event[1])
        self.end_page()
        return self.pages

    def write(self, out) -> None:
        from reportlab import rl_config
        from reportlab.pdfgen import canvas as pdfcanvas

        self.total_pages = self.flow()  # first pass: the layout only, for "dari y"
        a85, rl_config.useA85 = rl_config.useA85, 0  # binary streams: ASCII85 is slow Python
        try:
            self.canvas = pdfcanvas.Canvas(out, pagesize=(self.width_page, self.height_page),
                                           pageCompression=1)
            self.canvas.setTitle(f"{TITLE} {self.data['period']}")
            self.canvas.setAuthor(self.data["office"].name)
            for font in (self.regular, self.bold, self.italic):
                font.ref = self.canvas._doc.getInternalFontName(font.name)  # noqa: SLF001
            self.flow()
            self.canvas.save()
        finally:
            rl_config.useA85 = a85


def nominatif_pdf(run: PayoutRun, out=None, *, masked: bool = False):
    """The Daftar Nominatif, fit to sign: landscape A4 or F4 (NOMINATIF_PAPER), 1,5 cm margins,
    letterhead, number and date, programme and kode rekening, wrapping cells, the caption and
    header rows repeated on every page, subtotals per kab/kota × role and per kab/kota, the
    grand total with the line count and the amount in words kept together with the sign-off
    block, "Halaman x dari y", the page totals ("Jumlah halaman ini", "Jumlah s.d. halaman
    ini", then "Jumlah pindahan dari halaman sebelumnya" on the next page). Drawn page by
    page from the streamed lines (two passes: the page count, then the drawing) into ``out``
    (a binary file; default a new BytesIO, returned rewound)."""
    buffer = out if out is not None else io.BytesIO()
    NominatifPdf(run, nominatif_data(run, masked=masked)).write(buffer)
    if out is None:
        buffer.seek(0)
    return buffer


BANK_CSV_HEADER = ["rekening", "nama_pemilik", "jumlah", "keterangan", "kode_bank", "nama_bank"]


def write_bank_csv(run: PayoutRun, out) -> tuple[int, Decimal]:
    """CSV for the bank into the text file ``out``: account, holder, amount, description, the
    bank's code and name (the transfers go to several banks, sorted by bank); a last line with
    the control totals (number of transfers, sum). Streamed from a server-side cursor. Returns
    (count, total)."""
    writer = csv.writer(out)
    writer.writerow(BANK_CSV_HEADER)
    count, total = 0, Decimal(0)
    description = f"Insentif/operasional PSKS {run.period:%m-%Y}"
    for row in selectors.bank_transfer_lines(run).iterator(chunk_size=2000):
        amount = row["amount"]
        count, total = count + 1, total + amount
        writer.writerow([row["account_number"], safe_cell(row["account_holder"]),
                         f"{amount:.0f}", description, safe_cell(row["bank_code"] or ""),
                         safe_cell(row["bank_name"])])
    writer.writerow(["TOTAL", count, f"{total:.0f}", "kontrol: jumlah transfer, jumlah Rp"])
    return count, total


def bank_file(run: PayoutRun) -> tuple[str, int, Decimal]:
    """The bank CSV as text (small runs, tests); returns (text, count, total)."""
    out = io.StringIO()
    count, total = write_bank_csv(run, out)
    return out.getvalue(), count, total


INFO_SECTION = "INFORMASI — TIDAK DIBAYAR PROVINSI (TIDAK DIJUMLAHKAN)"


def funding_summary_rows(run: PayoutRun) -> tuple[list[str], list[list]]:
    """The run's lines per funding source × component × status, then one total of what the
    province pays (payable lines only), then — in their own labelled section, in their own
    column and never in a total — the amounts others pay (e.g. APBN for pendamping PKH)."""
    from dinsos.choices import FundingSource
    from incentives.choices import Component, LineStatus

    sources, components = dict(FundingSource.choices), dict(Component.choices)
    statuses = dict(LineStatus.choices)
    rows, paid = [], {"n": 0, "gross": Decimal(0), "tax": Decimal(0), "net": Decimal(0)}
    for r in selectors.funding_summary(run):
        rows.append([str(sources.get(r["funding_source"])), str(components.get(r["component"])),
                     str(statuses.get(r["status"])), r["n"], r["gross"], r["tax"], r["net"],
                     None])
        if r["status"] == LineStatus.PAYABLE:
            for key in paid:
                paid[key] += r[key]
    rows.append(["JUMLAH DIBAYAR PROVINSI", "", str(statuses[LineStatus.PAYABLE]), paid["n"],
                 paid["gross"], paid["tax"], paid["net"], None])
    info = selectors.not_province_paid(run)
    if info:
        rows += [[None] * 8, [INFO_SECTION, "", "", "", None, None, None, None]]
    for item in info:
        rate = item["rate"]
        rows.append([rate.get_funding_source_display(),
                     f"{rate.get_component_display()} {rate.get_role_display()}",
                     "informasi", item["workers"], None, None, None, item["yearly_total"]])
    return ["sumber_dana", "komponen", "status", "jumlah_baris", "bruto", "pph21", "neto",
            "informasi_per_tahun"], rows


def realisation_rows(year: int) -> tuple[list[str], list[list]]:
    """Pagu, realisation (paid runs only), approved but not yet paid, remaining pagu."""
    rows = [[r["component"], r["funding_source"], r["ceiling"], r["paid"], r["approved"],
             r["remaining"]] for r in selectors.realisation(year)]
    return ["komponen", "sumber_dana", "pagu", "realisasi_dibayar", "disetujui_belum_dibayar",
            "sisa_pagu"], rows


REPORT_KINDS = ["nominatif-xlsx", "nominatif-pdf", "bank-csv", "summary-csv", "summary-xlsx"]
#: How the staff pages name them (the codes stay the API's).
REPORT_LABELS = {
    "nominatif-pdf": _("Daftar Nominatif (PDF, untuk ditandatangani)"),
    "nominatif-xlsx": _("Daftar Nominatif (XLSX)"),
    "bank-csv": _("Berkas transfer bank (CSV)"),
    "summary-xlsx": _("Ringkasan per sumber dana (XLSX)"),
    "summary-csv": _("Ringkasan per sumber dana (CSV)"),
}
CONTENT_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8",
                 "xlsx": XLSX_CONTENT_TYPE}
FILE_STEMS = {"nominatif": "daftar-nominatif", "bank": "transfer-bank",
              "summary": "ringkasan-sumber-dana"}


def unknown_kind(kind: str) -> NotFound:
    return NotFound(f"Laporan '{kind[:40]}' tidak dikenal; pilihan: {', '.join(REPORT_KINDS)}.")


def masked_kinds() -> list[str]:
    """The documents that have a copy with account numbers masked (the bank's transfer file
    has none: it is nothing without the whole numbers)."""
    return [kind for kind in REPORT_KINDS if kind != "bank-csv"]


DRAFT_LABELS = {
    "nominatif-pdf": _("Daftar Nominatif (PDF, DRAF — belum disetujui)"),
    "nominatif-xlsx": _("Daftar Nominatif (XLSX, DRAF — belum disetujui)"),
}


def kinds_for_run(run: PayoutRun) -> dict:
    """The documents the run has in its status, with their labels: no bank file before the
    approval, and the Daftar Nominatif named a draft."""
    if run.status == RunStatus.DIBATALKAN:
        return {}
    final = is_final(run)
    return {kind: label if final else DRAFT_LABELS.get(kind, label)
            for kind, label in REPORT_LABELS.items() if final or kind != "bank-csv"}


def kinds_for(user, run: PayoutRun) -> dict:
    """The documents ``user`` may download of the run, with their labels (the run page's
    links)."""
    kinds = REPORT_KINDS if sees_identifiers(user, PayoutLine) else masked_kinds()
    return {kind: label for kind, label in kinds_for_run(run).items() if kind in kinds}


def write_document(run: PayoutRun, kind: str, out, *, masked: bool = False
                   ) -> tuple[str, str, dict]:
    """Write one document of a run into the binary file ``out``; returns (filename, content
    type, control totals). The one place that knows how each kind is made; ``masked``: the
    copy with account numbers masked (never of the bank file)."""
    if kind not in REPORT_KINDS:
        raise unknown_kind(kind)
    if masked and kind not in masked_kinds():
        raise ValueError(f"{kind} has no masked copy")
    check_available(run, kind)
    stem, fmt = kind.split("-")
    draft = "-DRAF" if stem == "nominatif" and not is_final(run) else ""
    filename = f"{FILE_STEMS[stem]}-{run.period:%Y-%m}{draft}.{fmt}"
    control = {}
    if kind == "nominatif-xlsx":
        nominatif_xlsx(run, out=out, masked=masked)
    elif kind == "nominatif-pdf":
        nominatif_pdf(run, out=out, masked=masked)
    elif kind == "bank-csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        count, total = write_bank_csv(run, text)
        text.detach()
        control = {"count": count, "total": f"{total:.0f}"}
    else:
        header, rows = funding_summary_rows(run)
        if fmt == "csv":
            for chunk in csv_stream(header, rows):
                out.write(chunk.encode())
        else:
            out.write(xlsx_file(header, rows).read())
    return filename, CONTENT_TYPES[fmt], control


def control_headers(response, control: dict):
    if control:
        response["X-Control-Count"], response["X-Control-Total"] = (str(control["count"]),
                                                                    control["total"])
    return response
