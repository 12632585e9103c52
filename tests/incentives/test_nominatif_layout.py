"""The Daftar Nominatif fit to sign (issue #10 point 11): the PDF is rendered and measured with
pdfplumber — no two words overlap, nothing lies outside the 1,5 cm margins, the header row is on
every page, "Halaman x dari y", subtotals, the grand total with its line count and the sign-off
on one page — and the XLSX has fitted columns, a frozen header, Rupiah-formatted numbers, a
landscape fit-to-width print setup and totals equal to its lines. The run has long names and
bank names, arrears, corrections and a negative balance carried forward."""

import datetime
import io
import re
from decimal import Decimal

import pdfplumber
import pytest
from openpyxl import load_workbook

from dinsos.models import Office
from incentives import reports, selectors, services
from incentives.models import PayoutLine
from psks.models import Assignment
from tests.incentives.factories import approve, tksk, verified_account

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
SEP, OCT = D(2026, 9, 1), D(2026, 10, 1)
CM = 72 / 2.54
LONG_NAME = "Raden Ajeng Siti Nurhasanah Kusumawardhani binti Haji Abdurrahman Wahid"
LONG_BANK = "Bank Pembangunan Daerah Jawa Barat dan Banten Syariah (Bank BJB Syariah)"


@pytest.fixture
def office(db):
    office = Office.objects.get(wilayah_id="36")
    office.head_name, office.head_nip = "Drs. H. Kepala Dinas, M.Si.", "196801011990031001"
    office.treasurer_name, office.treasurer_nip = "Bendahara Pengeluaran, S.E.", \
        "197502022000032002"
    office.address = "Jl. Syech Nawawi Al-Bantani, Kawasan Pusat Pemerintahan Provinsi Banten"
    office.save()
    return office


@pytest.fixture
def hard_run(office, keuangan, keuangan_b, pimpinan):
    """October 2026: 40 TKSK in two kab/kota and two pendamping Jamsosratu, arrears for a TKSK
    whose account came late, a correction, and a leaver with a negative balance."""
    from tests.incentives.factories import pendamping

    workers = [tksk(name=f"{LONG_NAME} {i}" if i % 7 == 0 else f"TKSK Nomor {i}",
                    kab_kota="36.01" if i < 25 else "36.02", reports=(SEP, OCT))
               for i in range(40)]
    pendamping("pendamping_jamsosratu", name="Dewi Pendamping", reports=(SEP, OCT))
    late = tksk(name="Rapel Terlambat", account=False, reports=(SEP, OCT))
    september = approve(services.run_compute(actor=keuangan, period=SEP), verifier=keuangan_b,
                        approver=pimpinan)
    verified_account(late)
    leaver = workers[3]
    Assignment.objects.filter(worker=leaver).update(end_date=D(2026, 10, 5))
    october = services.run_compute(actor=keuangan, period=OCT)
    for line in september.lines.filter(worker=leaver):
        services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                amount=-line.gross_amount, reason="tidak bertugas")
    services.adjustment_add(actor=keuangan, run=october,
                            corrects=september.lines.get(worker=workers[1],
                                                         component="insentif"),
                            amount=RP("125000"), reason="kurang bayar")
    PayoutLine.objects.filter(run=october, worker__in=workers[::5]).update(bank_name=LONG_BANK)
    return approve(october, verifier=keuangan_b, approver=pimpinan)


def overlaps(a, b, tolerance=0.5) -> bool:
    return (a["x0"] < b["x1"] - tolerance and b["x0"] < a["x1"] - tolerance
            and a["top"] < b["bottom"] - tolerance and b["top"] < a["bottom"] - tolerance)


@pytest.mark.parametrize("paper", ["A4", "F4"])
def test_nominatif_pdf_fits_the_page_without_overlaps(hard_run, settings, paper):
    settings.NOMINATIF_PAPER = paper
    data = reports.nominatif_data(hard_run)
    with pdfplumber.open(reports.nominatif_pdf(hard_run)) as pdf:
        pages = pdf.pages
        assert len(pages) >= 3
        width, height = pages[0].width, pages[0].height
        assert width > height  # landscape
        expected = {"A4": (29.7, 21.0), "F4": (33.0, 21.5)}[paper]
        assert (round(width / CM, 1), round(height / CM, 1)) == expected
        texts = []
        for number, page in enumerate(pages, start=1):
            words = page.extract_words()
            text = page.extract_text()
            texts.append(text)
            for word in words:  # inside the 1,5 cm margins
                assert word["x0"] >= 1.5 * CM - 0.5 and word["x1"] <= width - 1.5 * CM + 0.5, word
                assert word["top"] >= 1.5 * CM - 0.5, word
                assert word["bottom"] <= height - 1.5 * CM + 0.5, word
            for rect in page.rects + page.lines:  # the table too
                assert rect["x0"] >= 1.5 * CM - 1 and rect["x1"] <= width - 1.5 * CM + 1, rect
            clashes = [(a["text"], b["text"]) for i, a in enumerate(words)
                       for b in words[i + 1:] if overlaps(a, b)]
            assert clashes == [], f"page {number}: {clashes[:5]}"
            assert f"Halaman {number} dari {len(pages)}" in text
            if "Tanda tangan" in text or number < len(pages):  # a page with lines of the table
                assert "No. Rekening" in text and "Neto (Rp)" in text  # the header repeated
    first = texts[0]
    assert "PEMERINTAH PROVINSI BANTEN" in first and "DINAS SOSIAL" in first.upper()
    assert data["number"] in first.replace("\n", " ")
    assert reports.format_tanggal(hard_run.approved_at) in first
    assert "Kode rekening: 5.1.05.05.01.0001" in first and "Program:" in first
    everything = " ".join("\n".join(texts).split())
    assert "Jumlah Kabupaten Pandeglang — Tenaga Kesejahteraan Sosial Kecamatan" in everything \
        or "Jumlah Kabupaten Pandeglang" in everything
    # the balancing line is labelled as such (its words wrap within the cell)
    assert all(word in everything.split() for word in ("Saldo", "negatif", "dibawa",
                                                         "berikutnya"))
    assert "Rapel" in everything and "Penyesuaian" in everything
    # the grand total, its line count, the words and the whole sign-off on one page
    (last,) = [t for t in texts if "JUMLAH SELURUHNYA" in t]
    net = reports.format_rupiah(data["net"]).replace("Rp", "")
    assert f"JUMLAH SELURUHNYA ({data['count']} baris)" in last and net in last
    for needed in ("Terbilang", "Mengetahui,", "Kepala Dinas Sosial Provinsi Banten",
                   "Bendahara Pengeluaran", "NIP 196801011990031001",
                   "NIP 197502022000032002"):
        assert needed in last
    payable = sum(line.net_amount for line in hard_run.lines.filter(status="dibayarkan"))
    assert data["net"] == payable == RP(hard_run.summary["net_payable"])
    assert data["count"] == hard_run.lines.filter(status="dibayarkan").count()


def test_nominatif_xlsx_is_ready_to_print_and_adds_up(hard_run):
    book = load_workbook(reports.nominatif_xlsx(hard_run))
    sheet = book["Daftar Nominatif"]
    header_row = next(row[0].row for row in sheet.iter_rows() if row[0].value == "No")
    assert sheet.freeze_panes == f"A{header_row + 1}"
    assert sheet.print_title_rows == f"${header_row}:${header_row}"
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKLM"}
    assert len(set(widths.values())) > 5  # fitted to the content, not all alike
    assert widths["D"] >= len(LONG_NAME)  # the longest name fits
    lines, total = [], None
    for row in sheet.iter_rows(min_row=header_row + 1):
        if isinstance(row[0].value, int):
            lines.append(row)
        if row[3].value == "JUMLAH SELURUHNYA":
            total = row
    for row in lines:
        for cell in row[9:12]:
            assert isinstance(cell.value, int | float) and "Rp" in cell.number_format
    assert total is not None
    neto = sum(RP(str(row[11].value)) for row in lines)
    assert RP(str(total[11].value)) == neto == RP(hard_run.summary["net_payable"])
    assert total[5].value == f"{len(lines)} baris"


def test_nominatif_pdf_streams_into_a_file(hard_run, tmp_path):
    target = tmp_path / "nominatif.pdf"
    with target.open("wb") as out:
        reports.nominatif_pdf(hard_run, out=out)
    with pdfplumber.open(io.BytesIO(target.read_bytes())) as pdf:
        assert "JUMLAH SELURUHNYA" in pdf.pages[-1].extract_text()


PAGE_ROW = re.compile(r"^Jumlah (halaman ini|s\.d\. halaman ini|pindahan dari halaman "
                      r"sebelumnya) \((\d+) baris\) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+)$", re.M)


def test_every_page_has_its_totals_carried_to_the_grand_total(hard_run):
    """Found by the figures audit: no per-page totals. Every page with lines ends with
    "Jumlah halaman ini" (its lines) and "Jumlah s.d. halaman ini" (all lines so far); the
    next page starts with "Jumlah pindahan dari halaman sebelumnya"; the last running total
    is the run's total."""
    data = reports.nominatif_data(hard_run)
    nets = [line.net_amount for line in selectors.nominatif_lines(hard_run)]
    number_column = reports.NominatifPdf(hard_run, data).x[1]
    with pdfplumber.open(reports.nominatif_pdf(hard_run)) as pdf:
        pages = [(page.extract_text(), [int(w["text"]) for w in page.extract_words()
                                        if w["x1"] <= number_column + 0.5
                                        and w["text"].isdigit()])
                 for page in pdf.pages]
    assert len(pages) >= 3

    def amounts(row):
        return (int(row[0]), *(RP(value.replace(".", "")) for value in row[1:]))

    carried, with_totals = (0, RP(0), RP(0), RP(0)), 0
    for index, (text, numbers) in enumerate(pages):
        rows = {kind: amounts(rest) for kind, *rest in PAGE_ROW.findall(text)}
        if not numbers:  # only the closing (grand total and sign-off) on a page of its own
            assert index == len(pages) - 1 and "halaman ini" not in rows
            continue
        with_totals += 1
        if index:
            assert rows["pindahan dari halaman sebelumnya"] == carried, index
        page = rows["halaman ini"]
        assert page[0] == len(numbers) and page[3] == sum(nets[n - 1] for n in numbers)
        carried = tuple(a + b for a, b in zip(carried, page, strict=True))
        assert rows["s.d. halaman ini"] == carried, index
    assert with_totals >= 3
    assert carried == (data["count"], data["gross"], data["tax"], data["net"])
    assert data["net"] == RP(hard_run.summary["net_payable"])


def test_a_worker_with_corrections_shows_what_the_worker_receives(hard_run):
    """Found by the figures audit: a worker with several lines and a "saldo negatif dibawa"
    line had no total of its own: the officer could not see the worker receives nothing this
    month. After the worker's lines, when they are not all regular: what the worker receives,
    Rp0 said so."""
    nothing = ("Jumlah diterima TKSK Nomor 3 — Rp0, tidak ada transfer bulan ini (saldo "
               "negatif dibawa ke periode berikutnya)")
    with pdfplumber.open(reports.nominatif_pdf(hard_run)) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert f"{nothing} (5 baris) 0 0 0" in text
    assert "Jumlah diterima TKSK Nomor 1 (3 baris) 1.208.333 0 1.208.333" in text
    assert "Jumlah diterima TKSK Nomor 2" not in text  # regular lines only: no row of its own
    book = load_workbook(reports.nominatif_xlsx(hard_run))
    rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
    (row,) = [r for r in rows if r[3] == nothing]
    assert (row[5], row[9], row[10], row[11]) == ("5 baris", 0, 0, 0)
    (row,) = [r for r in rows if r[3] == "Jumlah diterima Rapel Terlambat"]
    assert (row[5], row[11]) == ("4 baris", 2166666)
    total = next(r for r in rows if r[3] == "JUMLAH SELURUHNYA")
    assert RP(str(total[11])) == sum(RP(str(r[11])) for r in rows if isinstance(r[0], int))


def test_jumlah_diterima_is_the_whole_run_when_a_worker_s_lines_span_two_kab_kota(
        keuangan, keuangan_b, pimpinan, office):
    """Found by the money audit: a TKSK of Kab. Pandeglang (to 30 September) is TKSK of Kab.
    Lebak from 1 October. September (Pandeglang, 1.083.333) is reversed in October (the
    corrections keep September's area); October's regular lines (Lebak) are 1.083.333: one
    transfer of Rp0. The worker's row was closed at every kab/kota × role group, so the
    Nominatif printed "Jumlah diterima …" -Rp1.083.333 under Pandeglang and no Rp0. Now one row,
    after the worker's last line, with what the whole run pays him — in the PDF and the XLSX."""
    from tests.factories import AssignmentFactory
    from tests.incentives.factories import free_desa

    worker = tksk(name="Asep Pindah", kab_kota="36.01", end=D(2026, 9, 30), reports=(SEP, OCT))
    AssignmentFactory(worker=worker, role="tksk", area_id=free_desa("36.02"),
                      start_date=OCT, end_date=D(2029, 12, 31))
    september = approve(services.run_compute(actor=keuangan, period=SEP), verifier=keuangan_b,
                        approver=pimpinan)
    october = services.run_compute(actor=keuangan, period=OCT)
    for line in september.lines.filter(worker=worker):
        services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                amount=-line.gross_amount, reason="dibayar di kab/kota lama")
    receives = sum((line.net_amount for line in october.lines.filter(
        worker=worker, status="dibayarkan")), RP(0))
    assert receives == 0
    data = reports.nominatif_data(october)
    events = list(reports.nominatif_body(october, data))
    printed = [(event[1].label, event[1].count, event[1].net) for event in events
               if event[0] == "worker"]
    nothing = "Jumlah diterima Asep Pindah — Rp0, tidak ada transfer bulan ini"
    assert printed == [(nothing, 4, RP(0))]
    kinds = [event[0] for event in events]
    last_line = max(i for i, event in enumerate(events)
                    if event[0] == "line" and event[2].worker_id == worker.pk)
    assert kinds[last_line + 1] == "worker"
    with pdfplumber.open(reports.nominatif_pdf(october)) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert f"{nothing} (4 baris) 0 0 0" in text
    assert "-1.083.333" not in text.split("Jumlah diterima")[1].split("\n")[0]
    rows = [tuple(r) for r in load_workbook(reports.nominatif_xlsx(october)).active.iter_rows(
        values_only=True)]
    assert [(r[5], r[11]) for r in rows if str(r[3] or "").startswith("Jumlah diterima")] == [
        ("4 baris", 0)]
