"""The finance documents of a run: Daftar Nominatif (XLSX, PDF), bank transfer file (CSV with
control totals), summary per funding source, yearly realisation. Totals are summed from the
lines themselves, and amounts in words come from dinsos.money."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound

from dinsos.money import MONTH_NAMES, format_rupiah, format_tanggal, rupiah_in_words
from dinsos.tabular import XLSX_CONTENT_TYPE, csv_stream, safe_cell, xlsx_file
from dinsos.validators import mask_nik
from incentives import selectors
from incentives.choices import LineKind
from incentives.models import PayoutRun

TITLE = "DAFTAR NOMINATIF PENERIMA INSENTIF DAN DANA OPERASIONAL PSKS"
ROMAN = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
HEADER = ["No", "Nama", "NIK", "Komponen / jenis", "Periode", "Bank", "No. Rekening",
          "Bruto (Rp)", "PPh 21 (Rp)", "Neto (Rp)", "Tanda tangan"]
#: Relative widths of the PDF columns (they fill the width between the margins).
PDF_WIDTHS = [0.9, 3.9, 2.7, 3.6, 1.4, 2.6, 2.6, 2.2, 1.8, 2.2, 2.2]


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


def kind_label(line) -> str:
    """The line's component, and what kind of line it is when not a regular one."""
    label = str(line.get_component_display())
    return label if line.kind == LineKind.REGULAR else f"{label} — {line.get_kind_display()}"


def _line_cells(number: int, line) -> list:
    return [number, line.worker.name, mask_nik(line.worker.nik), kind_label(line),
            f"{line.period:%m/%Y}", line.bank_name, line.account_number, line.gross_amount,
            line.tax_amount, line.net_amount, ""]


@dataclass
class Subtotal:
    label: str
    count: int = 0
    gross: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    net: Decimal = Decimal(0)

    def add(self, group) -> None:
        self.count += len(group.lines)
        self.gross += group.gross
        self.tax += group.tax
        self.net += group.net


def nominatif_data(run: PayoutRun) -> dict:
    """Everything the Daftar Nominatif prints, summed from the payable lines themselves."""
    groups = selectors.nominatif(run)
    kab_kota: dict[str, Subtotal] = {}
    total = Subtotal("JUMLAH SELURUHNYA")
    for group in groups:
        kab_kota.setdefault(group.kab_kota, Subtotal(f"Jumlah {group.kab_kota_name}")).add(group)
        total.add(group)
    office = selectors.province_office()
    day = document_date(run)
    return {"groups": groups, "kab_kota": kab_kota, "total": total, "gross": total.gross,
            "tax": total.tax, "net": total.net, "count": total.count,
            "words": rupiah_in_words(total.net), "office": office, "period": period_label(run),
            "number": document_number(run), "date": day,
            "place_date": f"Serang, {format_tanggal(day)}",
            "program": settings.NOMINATIF_PROGRAM,
            "kode_rekening": settings.NOMINATIF_KODE_REKENING,
            "status": run.get_status_display()}


def heading_lines(data: dict) -> list[str]:
    return [TITLE, f"Periode {data['period']}",
            f"Nomor: {data['number']} — Tanggal: {format_tanggal(data['date'])}",
            f"Program: {data['program']} — Kode rekening: {data['kode_rekening']}"]


def sign_off(office, place_date: str) -> list[tuple[str, str]]:
    return [("Mengetahui,", place_date),
            ("Kepala Dinas Sosial Provinsi Banten", "Bendahara Pengeluaran"),
            ("", ""), ("", ""),
            (office.head_name or "(nama)", office.treasurer_name or "(nama)"),
            (f"NIP {office.head_nip or '-'}", f"NIP {office.treasurer_nip or '-'}")]


# --- XLSX -------------------------------------------------------------------------------------

XLSX_HEADER = ["No", "Kab/Kota", "Peran", "Nama", "NIK", "Komponen / jenis", "Periode", "Bank",
               "No. Rekening", "Bruto (Rp)", "PPh 21 (Rp)", "Neto (Rp)", "Keterangan"]
RUPIAH_FORMAT = '"Rp"#,##0;-"Rp"#,##0'
MONEY_COLUMNS = (9, 10, 11)  # 0-based: bruto, PPh 21, neto


def _xlsx_rows(data: dict):
    """(kind, cells) of the sheet body: line, subtotal, total, text."""
    number = 0
    groups = data["groups"]
    for index, group in enumerate(groups):
        for line in group.lines:
            number += 1
            yield "line", [number, group.kab_kota_name, group.role_name, line.worker.name,
                           mask_nik(line.worker.nik), kind_label(line), f"{line.period:%m/%Y}",
                           line.bank_name, line.account_number, line.gross_amount,
                           line.tax_amount, line.net_amount, line.note]
        yield "subtotal", ["", "", "", f"Jumlah {group.kab_kota_name} — {group.role_name}", "",
                           f"{len(group.lines)} baris", "", "", "", group.gross, group.tax,
                           group.net, ""]
        last_of_kab_kota = index + 1 == len(groups) or groups[index + 1].kab_kota != group.kab_kota
        if last_of_kab_kota:
            sub = data["kab_kota"][group.kab_kota]
            yield "subtotal", ["", "", "", sub.label, "", f"{sub.count} baris", "", "", "",
                               sub.gross, sub.tax, sub.net, ""]
    total = data["total"]
    yield "total", ["", "", "", total.label, "", f"{total.count} baris", "", "", "",
                    total.gross, total.tax, total.net, ""]
    yield "text", ["", "", "", f"Terbilang: {data['words']}"]


def nominatif_xlsx(run: PayoutRun) -> io.BytesIO:
    """The Daftar Nominatif as a spreadsheet: one table (header frozen and repeated on printed
    pages), amounts as numbers in Rupiah format, subtotals per kab/kota × role and per kab/kota,
    the grand total and the sign-off; landscape, fitted to the page width. Written in
    openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    data = nominatif_data(run)
    rows = list(_xlsx_rows(data))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Daftar Nominatif")
    widths = [len(h) for h in XLSX_HEADER]
    for _kind, cells in rows:
        for i, value in enumerate(cells):
            text = format_rupiah(value) if isinstance(value, Decimal) else str(value or "")
            if _kind != "text":
                widths[i] = max(widths[i], len(text))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, 80)
    heading = heading_lines(data)
    header_row = len(heading) + 2
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = (Worksheet.PAPERSIZE_A4
                                  if settings.NOMINATIF_PAPER.upper() == "A4"
                                  else Worksheet.PAPERSIZE_FOLIO)  # F4 = folio 8,5 × 13 in
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    for margin in ("left", "right", "top", "bottom"):
        setattr(sheet.page_margins, margin, 0.6)  # inches ≈ 1,5 cm

    bold = Font(bold=True)

    def cell(value, *, font=None, money=False, fill=None):
        item = WriteOnlyCell(sheet, value=safe_cell(value))
        if font:
            item.font = font
        if money:
            item.number_format = RUPIAH_FORMAT
        if fill:
            item.fill = fill
        return item

    sheet.append([cell(heading[0], font=Font(bold=True, size=13))])
    for text in heading[1:]:
        sheet.append([text])
    sheet.append([])
    grey = PatternFill("solid", fgColor="DDDDDD")
    header = []
    for title in XLSX_HEADER:
        item = cell(title, font=bold, fill=grey)
        item.alignment = Alignment(wrap_text=True, vertical="center")
        header.append(item)
    sheet.append(header)
    for kind, cells in rows:
        font = bold if kind in ("subtotal", "total") else None
        sheet.append([cell(v, font=font, money=i in MONEY_COLUMNS) for i, v in enumerate(cells)])
    sheet.append([])
    for left, right in sign_off(data["office"], data["place_date"]):
        sheet.append(["", "", "", left, "", "", "", "", "", right])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


# --- PDF --------------------------------------------------------------------------------------

def _page_size():
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm

    return landscape({"A4": A4, "F4": (215 * mm, 330 * mm)}.get(
        settings.NOMINATIF_PAPER.upper(), A4))


PDF_MARGIN_CM = 1.5
PDF_ROWS_PER_TABLE = 400  # a long group is split into tables of this many rows


def _numbered_canvas(footer: str):
    """A canvas that holds each page until the end, then writes "Halaman x dari y" (two
    passes over the page states, the usual reportlab recipe)."""
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas as pdfcanvas

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                width, _height = self._pagesize
                self.setFont("Helvetica", 7.5)
                margin = PDF_MARGIN_CM * cm
                self.drawString(margin, margin + 4, footer)
                self.drawRightString(width - margin, margin + 4,
                                     f"Halaman {self._pageNumber} dari {total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def _pdf_story(data: dict, width: float):
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        HRFlowable,
        KeepTogether,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    base = ParagraphStyle("cell", fontName="Helvetica", fontSize=7.5, leading=9)
    right = ParagraphStyle("money", parent=base, alignment=TA_RIGHT)
    bold = ParagraphStyle("bold", parent=base, fontName="Helvetica-Bold")
    bold_right = ParagraphStyle("bold_money", parent=bold, alignment=TA_RIGHT)
    head = ParagraphStyle("head", parent=bold, alignment=TA_CENTER)
    centre = ParagraphStyle("centre", parent=base, alignment=TA_CENTER, fontSize=10, leading=13)
    title = ParagraphStyle("title", parent=centre, fontName="Helvetica-Bold", fontSize=11,
                           leading=14)
    scale = width / sum(PDF_WIDTHS)
    widths = [w * scale for w in PDF_WIDTHS]
    office = data["office"]

    def p(text, style=base):
        return Paragraph(escape(str(text)), style)

    def money(value, style=right):
        return Paragraph(format_rupiah(value).replace("Rp", ""), style)

    # the letterhead (kop surat) and the document heading
    yield Paragraph("PEMERINTAH PROVINSI BANTEN", title)
    yield Paragraph(escape(office.name.upper()), ParagraphStyle(
        "office", parent=title, fontSize=13, leading=16))
    if office.address:
        yield Paragraph(escape(office.address), centre)
    yield HRFlowable(width="100%", thickness=1.5, color=colors.black, spaceBefore=3,
                     spaceAfter=6)
    for index, text in enumerate(heading_lines(data)):
        yield Paragraph(escape(text), title if index == 0 else centre)
    yield Spacer(1, 0.3 * cm)

    style = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.Color(0.88, 0.88, 0.88)),
        ("SPAN", (0, 0), (-1, 0)),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ])
    header = [Paragraph(h, head) for h in HEADER]
    number = 0
    groups = data["groups"]
    for index, group in enumerate(groups):
        caption = [p(f"{group.kab_kota_name} — {group.role_name}", bold)] + [""] * 10
        chunks = [group.lines[i:i + PDF_ROWS_PER_TABLE]
                  for i in range(0, len(group.lines), PDF_ROWS_PER_TABLE)] or [[]]
        for chunk_index, chunk in enumerate(chunks):
            rows = [caption, header]
            for line in chunk:
                number += 1
                rows.append([p(number, right), p(line.worker.name), p(mask_nik(line.worker.nik)),
                             p(kind_label(line)), p(f"{line.period:%m/%Y}"), p(line.bank_name),
                             p(line.account_number), money(line.gross_amount),
                             money(line.tax_amount), money(line.net_amount), ""])
            subtotals = []
            if chunk_index + 1 == len(chunks):
                subtotals.append((f"Jumlah {group.kab_kota_name} — {group.role_name} "
                                  f"({len(group.lines)} baris)", group))
                if index + 1 == len(groups) or groups[index + 1].kab_kota != group.kab_kota:
                    sub = data["kab_kota"][group.kab_kota]
                    subtotals.append((f"{sub.label} ({sub.count} baris)", sub))
            for label, sub in subtotals:
                rows.append(["", p(label, bold), "", "", "", "", "", money(sub.gross, bold_right),
                             money(sub.tax, bold_right), money(sub.net, bold_right), ""])
            table = Table(rows, colWidths=widths, repeatRows=2)
            table_style = TableStyle(style.getCommands())
            for row in range(len(rows) - len(subtotals), len(rows)):
                table_style.add("SPAN", (1, row), (6, row))
            table.setStyle(table_style)
            yield table
            yield Spacer(1, 0.25 * cm)

    total = data["total"]
    grand = Table([["", p(f"{total.label} ({total.count} baris)", bold), "", "", "", "", "",
                    money(total.gross, bold_right), money(total.tax, bold_right),
                    money(total.net, bold_right), ""]], colWidths=widths)
    grand.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black), ("SPAN", (1, 0), (6, 0)),
        ("BACKGROUND", (0, 0), (-1, -1), colors.Color(0.88, 0.88, 0.88)),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    sign = Table([[p(left, centre), p(right_text, centre)]
                  for left, right_text in sign_off(office, data["place_date"])],
                 colWidths=[width / 2, width / 2])
    sign.setStyle(TableStyle([("TOPPADDING", (0, 2), (-1, 3), 12)]))
    yield KeepTogether([
        grand, Spacer(1, 0.2 * cm),
        p(f"Terbilang: {data['words']}", ParagraphStyle("words", parent=base, fontSize=9,
                                                        leading=11, fontName="Helvetica-Oblique")),
        Spacer(1, 0.5 * cm), sign,
    ])


def nominatif_pdf(run: PayoutRun, out=None):
    """The Daftar Nominatif, fit to sign: landscape A4 or F4 (NOMINATIF_PAPER), 1,5 cm margins,
    letterhead, number and date, programme and kode rekening, wrapping cells, the header row
    repeated on every page, subtotals per kab/kota × role and per kab/kota, the grand total with
    the line count and the amount in words kept together with the sign-off block, "Halaman x
    dari y". Written into ``out`` (a file object; default a new BytesIO, returned rewound)."""
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate

    data = nominatif_data(run)
    buffer = out if out is not None else io.BytesIO()
    pagesize = _page_size()
    margin = PDF_MARGIN_CM * cm
    doc = SimpleDocTemplate(buffer, pagesize=pagesize, leftMargin=margin, rightMargin=margin,
                            topMargin=margin, bottomMargin=margin + 0.6 * cm,
                            title=f"{TITLE} {data['period']}", author=data["office"].name)
    footer = f"{TITLE} — {data['period']} — Nomor {data['number']}"
    doc.build(list(_pdf_story(data, pagesize[0] - 2 * margin)),
              canvasmaker=_numbered_canvas(footer))
    if out is None:
        buffer.seek(0)
    return buffer


def bank_file(run: PayoutRun) -> tuple[str, int, Decimal]:
    """CSV for the bank: account, holder, amount, description; a last line with the control
    totals (number of transfers, sum). Returns (text, count, total)."""
    rows = selectors.bank_transfer_lines(run)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rekening", "nama_pemilik", "jumlah", "keterangan"])
    total = Decimal(0)
    for row in rows:
        amount = row["amount"]
        total += amount
        writer.writerow([row["account_number"], safe_cell(row["account_holder"]),
                         f"{amount:.0f}", f"Insentif/operasional PSKS {run.period:%m-%Y}"])
    writer.writerow(["TOTAL", len(rows), f"{total:.0f}", "kontrol: jumlah transfer, jumlah Rp"])
    return out.getvalue(), len(rows), total


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
    rows = [[r["component"], r["funding_source"], r["ceiling"], r["paid"], r["remaining"]]
            for r in selectors.realisation(year)]
    return ["komponen", "sumber_dana", "pagu", "realisasi", "sisa"], rows


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


def write_document(run: PayoutRun, kind: str, out) -> tuple[str, str, dict]:
    """Write one document of a run into the binary file ``out``; returns (filename, content
    type, control totals). The one place that knows how each kind is made."""
    if kind not in REPORT_KINDS:
        raise unknown_kind(kind)
    stem, fmt = kind.split("-")
    filename = f"{FILE_STEMS[stem]}-{run.period:%Y-%m}.{fmt}"
    control = {}
    if kind == "nominatif-xlsx":
        out.write(nominatif_xlsx(run).getvalue())
    elif kind == "nominatif-pdf":
        nominatif_pdf(run, out=out)
    elif kind == "bank-csv":
        text, count, total = bank_file(run)
        out.write(text.encode())
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


def report_response(run: PayoutRun, kind: str):
    """One document of a run made in the request (the admin's download)."""
    buffer = io.BytesIO()
    filename, content_type, control = write_document(run, kind, buffer)
    buffer.seek(0)
    return control_headers(FileResponse(buffer, as_attachment=True, filename=filename,
                                        content_type=content_type), control)
