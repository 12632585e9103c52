"""The finance documents of a run: Daftar Nominatif (XLSX, PDF), bank transfer file (CSV with
control totals), summary per funding source, yearly realisation. Totals are summed from the
lines themselves, and amounts in words come from dinsos.money."""

import csv
import io
from decimal import Decimal

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from rest_framework.exceptions import NotFound

from dinsos.money import format_rupiah, format_tanggal, rupiah_in_words
from dinsos.tabular import safe_cell, table_response
from dinsos.validators import mask_nik
from incentives import selectors
from incentives.models import PayoutRun

TITLE = "DAFTAR NOMINATIF PENERIMA INSENTIF DAN DANA OPERASIONAL"
MONTHS = ["", "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember"]
HEADER = ["No", "Nama", "NIK", "Komponen", "Periode", "Bank", "No. Rekening", "Bruto (Rp)",
          "PPh 21 (Rp)", "Neto (Rp)", "Tanda tangan"]


def period_label(run: PayoutRun) -> str:
    return f"{MONTHS[run.period.month]} {run.period.year}"


def _line_cells(number: int, line) -> list:
    return [number, line.worker.name, mask_nik(line.worker.nik), line.get_component_display()
            + ("" if line.kind == "reguler" else f" ({line.get_kind_display()})"),
            f"{line.period:%m/%Y}", line.bank_name, line.account_number, line.gross_amount,
            line.tax_amount, line.net_amount, ""]


def nominatif_data(run: PayoutRun) -> dict:
    groups = selectors.nominatif(run)
    total_gross = sum((g.gross for g in groups), Decimal(0))
    total_tax = sum((g.tax for g in groups), Decimal(0))
    total_net = sum((g.net for g in groups), Decimal(0))
    office = selectors.province_office()
    return {"groups": groups, "gross": total_gross, "tax": total_tax, "net": total_net,
            "count": sum(len(g.lines) for g in groups), "words": rupiah_in_words(total_net),
            "office": office, "period": period_label(run),
            "place_date": f"Serang, {format_tanggal(timezone.localdate())}"}


def sign_off_rows(office, place_date: str) -> list[list[str]]:
    return [
        ["Mengetahui,", "", "", "", "", "", "", "", place_date],
        ["Kepala Dinas Sosial Provinsi Banten", "", "", "", "", "", "", "",
         "Bendahara Pengeluaran"],
        ["", "", "", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", "", ""],
        [office.head_name or "(nama)", "", "", "", "", "", "", "",
         office.treasurer_name or "(nama)"],
        [f"NIP {office.head_nip or '-'}", "", "", "", "", "", "", "",
         f"NIP {office.treasurer_nip or '-'}"],
    ]


def nominatif_xlsx(run: PayoutRun) -> io.BytesIO:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = nominatif_data(run)
    book = Workbook()
    sheet = book.active
    sheet.title = "Daftar Nominatif"
    bold = Font(bold=True)
    sheet.append([TITLE])
    sheet.append([f"Periode {data['period']}"])
    sheet.append([])
    for group in data["groups"]:
        sheet.append([f"{group.kab_kota_name} — {group.role_name}"])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append(HEADER)
        for i, line in enumerate(group.lines, start=1):
            sheet.append([safe_cell(v) for v in _line_cells(i, line)])
        sheet.append(["", "Jumlah", "", "", "", "", "", group.gross, group.tax, group.net, ""])
        sheet.append([])
    sheet.append(["", "JUMLAH SELURUHNYA", "", "", "", "", "", data["gross"], data["tax"],
                  data["net"], ""])
    sheet.cell(row=sheet.max_row, column=2).font = bold
    sheet.append(["", f"Terbilang: {data['words']}"])
    sheet.append([])
    for row in sign_off_rows(data["office"], data["place_date"]):
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0"
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def nominatif_pdf(run: PayoutRun) -> io.BytesIO:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    data = nominatif_data(run)
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=1.2 * cm,
                            rightMargin=1.2 * cm, topMargin=1.2 * cm, bottomMargin=1.2 * cm,
                            title=f"{TITLE} {data['period']}")
    story = [Paragraph(TITLE, styles["Title"]),
             Paragraph(f"Dinas Sosial Provinsi Banten — Periode {data['period']}",
                       styles["Heading3"])]
    money = format_rupiah
    for group in data["groups"]:
        story.append(Paragraph(f"{group.kab_kota_name} — {group.role_name}", styles["Heading4"]))
        rows = [HEADER] + [
            [*cells[:7], money(cells[7]), money(cells[8]), money(cells[9]), ""]
            for cells in (_line_cells(i, line) for i, line in enumerate(group.lines, start=1))
        ] + [["", "Jumlah", "", "", "", "", "", money(group.gross), money(group.tax),
              money(group.net), ""]]
        table = Table(rows, repeatRows=1, colWidths=[1 * cm, 5 * cm, 3.4 * cm, 3.6 * cm,
                                                     1.6 * cm, 2.8 * cm, 2.8 * cm, 2.4 * cm,
                                                     2 * cm, 2.4 * cm, 2.6 * cm])
        table.setStyle(TableStyle([
            ("FONTSIZE", (0, 0), (-1, -1), 7),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ("ALIGN", (7, 1), (9, -1), "RIGHT"),
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ]))
        story += [table, Spacer(1, 0.3 * cm)]
    story.append(Paragraph(
        f"<b>Jumlah seluruhnya: {data['count']} baris, bruto {money(data['gross'])}, "
        f"PPh 21 {money(data['tax'])}, neto {money(data['net'])}</b>", styles["Normal"]))
    story.append(Paragraph(f"Terbilang: <i>{data['words']}</i>", styles["Normal"]))
    story.append(Spacer(1, 0.8 * cm))
    office = data["office"]
    sign = Table([
        ["Mengetahui,", data["place_date"]],
        ["Kepala Dinas Sosial Provinsi Banten", "Bendahara Pengeluaran"],
        ["", ""], ["", ""],
        [office.head_name or "(nama)", office.treasurer_name or "(nama)"],
        [f"NIP {office.head_nip or '-'}", f"NIP {office.treasurer_nip or '-'}"],
    ], colWidths=[12 * cm, 12 * cm])
    sign.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 9),
                              ("TOPPADDING", (0, 2), (-1, 3), 14)]))
    story.append(sign)
    doc.build(story)
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


def report_response(run: PayoutRun, kind: str):
    """One document of a run, for the API and the admin alike."""
    label = f"{run.period:%Y-%m}"
    if kind == "nominatif-xlsx":
        return FileResponse(nominatif_xlsx(run), as_attachment=True,
                            filename=f"daftar-nominatif-{label}.xlsx")
    if kind == "nominatif-pdf":
        return FileResponse(nominatif_pdf(run), as_attachment=True,
                            filename=f"daftar-nominatif-{label}.pdf",
                            content_type="application/pdf")
    if kind == "bank-csv":
        text, count, total = bank_file(run)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="transfer-bank-{label}.csv"'
        response["X-Control-Count"], response["X-Control-Total"] = str(count), f"{total:.0f}"
        return response
    if kind in ("summary-csv", "summary-xlsx"):
        header, rows = funding_summary_rows(run)
        return table_response(header, rows, fmt=kind.split("-")[1],
                              filename=f"ringkasan-sumber-dana-{label}")
    raise NotFound(f"Laporan '{kind}' tidak dikenal; pilihan: {', '.join(REPORT_KINDS)}.")
