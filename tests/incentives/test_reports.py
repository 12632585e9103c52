"""The finance documents of an approved run (incentives/reports.py): Daftar Nominatif as XLSX
and PDF, the bank transfer CSV with its control line, the funding-source summary, the yearly
realisation (pagu vs paid), and emailing them to finance once."""

import csv
import datetime
import io
from decimal import Decimal

import pdfplumber
import pytest
from django.core import mail
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dinsos.models import Office
from dinsos.money import format_tanggal, rupiah_in_words
from dinsos.validators import mask_nik
from incentives import reports, services, tasks
from incentives.models import BudgetCeiling, PayoutLine
from tests.incentives.factories import (
    OCT,
    approve,
    pendamping,
    tksk,
    unverified_account,
    verified_account,
    verify_account,
)

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
NOV = D(2026, 11, 1)
HEAD = ("Dr. H. Kepala Contoh, M.Si.", "196801011990031001")
TREASURER = ("Siti Bendahara, S.E.", "197502022000032002")
FINANCE = ["keuangan@dinsos.test", "bendahara@dinsos.test"]
TKSK = "Tenaga Kesejahteraan Sosial Kecamatan (TKSK)"


@pytest.fixture
def office(db):
    office = Office.objects.get(wilayah_id="36")
    office.head_name, office.head_nip = HEAD
    office.treasurer_name, office.treasurer_nip = TREASURER
    office.save()
    return office


@pytest.fixture
def workers(db):
    held = tksk(name="Eko Held", account=False)
    unverified_account(held)
    return {
        "ahmad": tksk(name="Ahmad Fauzi"),
        "budi": tksk(name="Budi Santoso"),
        "cecep": tksk(name="Cecep Lebak", kab_kota="36.02"),
        "dewi": pendamping("pendamping_jamsosratu", name="Dewi Jamsosratu"),
        "pkh": pendamping("pendamping_pkh", name="Fajar PKH"),  # nothing due in October
        "held": held,
    }


@pytest.fixture
def approved_run(workers, office, keuangan, keuangan_b, pimpinan):
    run = services.run_compute(actor=keuangan, period=OCT)
    return approve(run, verifier=keuangan_b, approver=pimpinan)


@pytest.fixture
def single_run(office, keuangan, keuangan_b, pimpinan):
    """One TKSK, a full October: 1.000.000 + 83.333 = 1.083.333."""
    tksk(name="Ahmad Fauzi")
    return approve(services.run_compute(actor=keuangan, period=OCT), verifier=keuangan_b,
                   approver=pimpinan)


def payable(run, **filters):
    return PayoutLine.objects.filter(run=run, status="dibayarkan", **filters)


def total(run, field="net_amount", **filters) -> Decimal:
    return sum((getattr(line, field) for line in payable(run, **filters)), RP(0))


def sheet_rows(run) -> list[tuple]:
    book = load_workbook(reports.nominatif_xlsx(run))
    assert book.sheetnames == ["Daftar Nominatif"]
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


def row_starting(rows, *cells) -> tuple:
    (row,) = [r for r in rows if r[:len(cells)] == cells]
    return row


# --- Daftar Nominatif (XLSX) ------------------------------------------------------------------

def test_nominatif_xlsx_groups_by_kab_kota_and_role(approved_run, workers):
    rows = sheet_rows(approved_run)
    assert rows[3][0] == "DAFTAR NOMINATIF PENERIMA INSENTIF DAN DANA OPERASIONAL PSKS"
    assert rows[4][0] == "Periode Oktober 2026"
    lines = [r for r in rows if isinstance(r[0], int)]
    # sorted by kab/kota code, then role code; numbered through the document
    assert [(r[0], r[1], r[2], r[3], r[5], r[6], r[9], r[10], r[11]) for r in lines] == [
        (1, "Kabupaten Pandeglang", "Pendamping Jamsosratu", "Dewi Jamsosratu",
         "Insentif bulanan", "10/2026", 1500000, 0, 1500000),
        (2, "Kabupaten Pandeglang", "Pendamping Jamsosratu", "Dewi Jamsosratu",
         "Dana operasional tahunan", "10/2026", 166666, 0, 166666),
        (3, "Kabupaten Pandeglang", TKSK, "Ahmad Fauzi", "Insentif bulanan", "10/2026", 1000000,
         0, 1000000),
        (4, "Kabupaten Pandeglang", TKSK, "Ahmad Fauzi", "Dana operasional tahunan", "10/2026",
         83333, 0, 83333),
        (5, "Kabupaten Pandeglang", TKSK, "Budi Santoso", "Insentif bulanan", "10/2026",
         1000000, 0, 1000000),
        (6, "Kabupaten Pandeglang", TKSK, "Budi Santoso", "Dana operasional tahunan", "10/2026",
         83333, 0, 83333),
        (7, "Kabupaten Lebak", TKSK, "Cecep Lebak", "Insentif bulanan", "10/2026", 1000000, 0,
         1000000),
        (8, "Kabupaten Lebak", TKSK, "Cecep Lebak", "Dana operasional tahunan", "10/2026", 83333,
         0, 83333),
    ]
    account = workers["ahmad"].bank_accounts.get()
    assert lines[2][7:9] == ("Bank Banten", account.account_number)
    # subtotals per kab/kota × role (1.666.666; 2 × 1.083.333; 1.083.333) and per kab/kota
    sums = [(r[3], r[5], r[9], r[10], r[11]) for r in rows
            if isinstance(r[3], str) and r[3].startswith("Jumlah ")]
    assert sums == [
        ("Jumlah Kabupaten Pandeglang — Pendamping Jamsosratu", "2 baris", 1666666, 0, 1666666),
        (f"Jumlah Kabupaten Pandeglang — {TKSK}", "4 baris", 2166666, 0, 2166666),
        ("Jumlah Kabupaten Pandeglang", "6 baris", 3833332, 0, 3833332),
        (f"Jumlah Kabupaten Lebak — {TKSK}", "2 baris", 1083333, 0, 1083333),
        ("Jumlah Kabupaten Lebak", "2 baris", 1083333, 0, 1083333),
    ]
    assert "Eko Held" not in {r[3] for r in rows}  # held lines are not in the list


def test_nominatif_xlsx_has_the_kop_surat_above_the_title(approved_run, office):
    """Found by the figures audit: the XLSX had no letterhead (the PDF has)."""
    Office.objects.filter(pk=office.pk).update(address="Jl. Syech Nawawi Al-Bantani, Serang")
    rows = [r[0] for r in sheet_rows(approved_run)[:7]]
    assert rows == ["PEMERINTAH PROVINSI BANTEN", office.name.upper(),
                    "Jl. Syech Nawawi Al-Bantani, Serang", None, reports.TITLE,
                    "Periode Oktober 2026", f"Nomor: {reports.document_number(approved_run)} — "
                    f"Tanggal: {format_tanggal(timezone.localdate(approved_run.approved_at))}"]


def test_nominatif_xlsx_masks_nik(approved_run, workers):
    rows = sheet_rows(approved_run)
    text = " ".join(str(cell) for row in rows for cell in row if cell is not None)
    for key in ("ahmad", "budi", "cecep", "dewi"):
        nik = workers[key].nik
        assert nik not in text
        masked = mask_nik(nik)
        assert masked == nik[:6] + "********" + nik[-2:]
        assert [r[4] for r in rows if r[3] == workers[key].name] == [masked, masked]


def test_nominatif_xlsx_totals_words_and_sign_off(approved_run):
    rows = sheet_rows(approved_run)
    grand = row_starting(rows, None, None, None, "JUMLAH SELURUHNYA")
    gross, tax, net = total(approved_run, "gross_amount"), total(approved_run, "tax_amount"), \
        total(approved_run)
    assert (grand[9], grand[10], grand[11]) == (gross, tax, net) == (4916665, 0, 4916665)
    assert grand[5] == "8 baris"
    words = row_starting(rows, None, None, None, f"Terbilang: {rupiah_in_words(net)}")
    assert words[3] == ("Terbilang: empat juta sembilan ratus enam belas ribu enam ratus enam "
                        "puluh lima rupiah")
    sign = rows[rows.index(words) + 2:]
    approved = timezone.localdate(approved_run.approved_at)
    assert (sign[0][3], sign[0][9]) == ("Mengetahui,", f"Serang, {format_tanggal(approved)}")
    assert (sign[1][3], sign[1][9]) == ("Kepala Dinas Sosial Provinsi Banten",
                                        "Bendahara Pengeluaran")
    assert (sign[4][3], sign[4][9]) == (HEAD[0], TREASURER[0])
    assert (sign[5][3], sign[5][9]) == (f"NIP {HEAD[1]}", f"NIP {TREASURER[1]}")


def test_nominatif_xlsx_keeps_texts_xml_cannot_hold_as_they_are(office, keuangan, keuangan_b,
                                                                pimpinan):
    """The sheet XML is written by hand: markup characters, a control character, spaces at the
    ends and a formula-like text come back as text (the control character as U+FFFD, the
    formula with the guard apostrophe every export adds)."""
    odd = tksk(name=" Siti & <Dewi> \"Hj.\"\x01 ")
    formula = tksk(name="=HYPERLINK(1)")
    run = approve(services.run_compute(actor=keuangan, period=OCT), verifier=keuangan_b,
                  approver=pimpinan)
    PayoutLine.objects.filter(run=run, worker=odd).update(bank_name="Bank <BJB> & Co",
                                                          note="catatan\x0b")
    rows = sheet_rows(run)
    odd_rows = [r for r in rows if isinstance(r[0], int) and r[4] == mask_nik(odd.nik)]
    assert {(r[3], r[7], r[12]) for r in odd_rows} == {
        (" Siti & <Dewi> \"Hj.\"\ufffd ", "Bank <BJB> & Co", "catatan\ufffd")}
    assert [r[3] for r in rows if isinstance(r[0], int) and r[4] == mask_nik(formula.nik)] \
        == ["'=HYPERLINK(1)"] * 2


def test_nominatif_total_in_words_for_a_known_total(single_run):
    rows = sheet_rows(single_run)
    grand = row_starting(rows, None, None, None, "JUMLAH SELURUHNYA")
    assert grand[11] == 1083333
    assert row_starting(rows, None, None, None, "Terbilang: satu juta delapan puluh tiga ribu "
                                                "tiga ratus tiga puluh tiga rupiah")
    data = reports.nominatif_data(single_run)
    assert (data["count"], data["gross"], data["net"]) == (2, RP("1083333"), RP("1083333"))
    assert data["words"] == rupiah_in_words(RP("1083333"))


def test_nominatif_without_names_in_the_office_prints_placeholders(single_run, office):
    Office.objects.filter(pk=office.pk).update(head_name="", head_nip="", treasurer_name="",
                                               treasurer_nip="")
    rows = sheet_rows(single_run)
    assert ("(nama)", "NIP -") == (rows[-2][3], rows[-1][3]) == (rows[-2][9], rows[-1][9])


# --- PDF --------------------------------------------------------------------------------------

def upright(page):
    """The page without a draft's diagonal watermark (its letters are not upright)."""
    return page.filter(lambda obj: obj.get("matrix", (1, 0))[1] == 0)


def pdf_pages(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [upright(page).extract_text() for page in pdf.pages]


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_pages(data))


def test_nominatif_pdf_is_a_pdf_with_totals_and_sign_off(approved_run, workers):
    data = reports.nominatif_pdf(approved_run).getvalue()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Kepala Dinas Sosial Provinsi Banten" in text
    assert "Bendahara Pengeluaran" in text
    assert f"NIP {HEAD[1]}" in text and f"NIP {TREASURER[1]}" in text
    assert "JUMLAH SELURUHNYA (8 baris) 4.916.665 0 4.916.665" in text
    assert "empat juta sembilan ratus enam belas ribu" in text
    assert "Ahmad Fauzi" in text and "Eko Held" not in text
    nik = workers["ahmad"].nik
    assert mask_nik(nik) in text and nik not in text


# --- a run not approved: a draft --------------------------------------------------------------

@pytest.fixture
def verified_run(workers, office, keuangan, keuangan_b):
    return services.run_verify(actor=keuangan_b,
                               run=services.run_compute(actor=keuangan, period=OCT))


def test_nominatif_pdf_of_a_run_not_approved_is_a_draft(verified_run):
    data = reports.nominatif_pdf(verified_run).getvalue()
    pages = pdf_pages(data)
    for text in pages:  # the mark on every page, in the banner and the footer
        assert text.count(reports.DRAFT_MARK) >= 2, text
        assert "status: Diverifikasi Keuangan" in text
    with pdfplumber.open(io.BytesIO(data)) as pdf:  # and the diagonal watermark
        for page in pdf.pages:
            assert "".join(c["text"] for c in page.chars if c["matrix"][1]) == "DRAF"
    text = "\n".join(pages)
    assert "JUMLAH SELURUHNYA (8 baris) 4.916.665 0 4.916.665" in text
    assert "belum disetujui Pimpinan; tanpa nomor dan tanggal dokumen" in text
    for final in ("Nomor", reports.document_number(verified_run), "Mengetahui",
                  "Kepala Dinas Sosial Provinsi Banten", "Bendahara Pengeluaran", "NIP",
                  HEAD[0], TREASURER[0]):
        assert final not in text, final


def test_nominatif_xlsx_of_a_run_not_approved_is_a_draft(verified_run):
    book = load_workbook(reports.nominatif_xlsx(verified_run))
    assert book.sheetnames == ["DRAF Daftar Nominatif"]
    rows = [tuple(row) for row in book.active.iter_rows(values_only=True)]
    assert rows[0][0] == reports.DRAFT_MARK  # above the title
    assert reports.TITLE in [r[0] for r in rows]
    cells = {str(c) for r in rows for c in r if c is not None}
    assert "JUMLAH SELURUHNYA" in cells and reports.DRAFT_MARK in [r[3] for r in rows[-2:]]
    assert not any(final in cell for cell in cells for final in (
        "Nomor:", "Mengetahui", "Kepala Dinas Sosial Provinsi Banten", "Bendahara", "NIP",
        HEAD[0], TREASURER[0]))
    filename, _type, _control = reports.write_document(verified_run, "nominatif-xlsx",
                                                       io.BytesIO())
    assert filename == "daftar-nominatif-2026-10-DRAF.xlsx"


def test_nominatif_of_an_approved_run_is_not_marked_draft(approved_run):
    assert reports.DRAFT_MARK not in pdf_text(reports.nominatif_pdf(approved_run).getvalue())
    assert reports.DRAFT_MARK not in {r[0] for r in sheet_rows(approved_run)}
    filename, _type, _control = reports.write_document(approved_run, "nominatif-pdf",
                                                       io.BytesIO())
    assert filename == "daftar-nominatif-2026-10.pdf"


# --- bank file --------------------------------------------------------------------------------

def test_bank_csv_one_row_per_account_with_control_line(approved_run, workers):
    text, count, csv_total = reports.bank_file(approved_run)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["rekening", "nama_pemilik", "jumlah", "keterangan", "kode_bank",
                       "nama_bank"]
    body, control = rows[1:-1], rows[-1]
    assert {(r[4], r[5]) for r in body} == {("bank_banten", "Bank Banten")}
    expected = {}
    for key in ("ahmad", "budi", "cecep", "dewi"):
        worker = workers[key]
        number = worker.bank_accounts.get().account_number
        expected[number] = (worker.name, str(int(total(approved_run, worker=worker))))
    assert {r[0]: (r[1], r[2]) for r in body} == expected
    assert len(body) == len(expected) == 4  # one transfer per account, not per line
    assert expected[workers["dewi"].bank_accounts.get().account_number][1] == "1666666"
    assert {r[3] for r in body} == {"Insentif/operasional PSKS 10-2026"}
    # control line: number of transfers and their sum = the net of the payable lines
    assert control[:3] == ["TOTAL", "4", "4916665"]
    assert (count, csv_total) == (4, RP("4916665")) == (len(body), total(approved_run))
    assert sum(int(r[2]) for r in body) == int(control[2])


def test_bank_csv_sums_lines_of_one_account_including_arrears(keuangan, keuangan_b, pimpinan,
                                                             office):
    worker = tksk(name="Rapel Contoh", account=False, reports=(OCT, NOV))
    account = unverified_account(worker)
    approve(services.run_compute(actor=keuangan, period=OCT), verifier=keuangan_b,
            approver=pimpinan)
    verify_account(account)
    november = approve(services.run_compute(actor=keuangan, period=NOV), verifier=keuangan_b,
                       approver=pimpinan)
    text, count, csv_total = reports.bank_file(november)
    rows = list(csv.reader(io.StringIO(text)))
    # November 1.083.333 + October arrears 1.083.333 = 2.166.666, one transfer
    assert rows[1][:3] == [account.account_number, "Rapel Contoh", "2166666"]
    assert rows[-1][:3] == ["TOTAL", "1", "2166666"]
    assert (count, csv_total) == (1, RP("2166666"))
    listed = [(r[5], r[6], r[11]) for r in sheet_rows(november) if isinstance(r[0], int)]
    assert listed == [
        ("Insentif bulanan — Rapel (tunggakan)", "10/2026", 1000000),
        ("Insentif bulanan", "11/2026", 1000000),
        ("Dana operasional tahunan — Rapel (tunggakan)", "10/2026", 83333),
        ("Dana operasional tahunan", "11/2026", 83333),
    ]


def test_bank_csv_has_no_transfer_of_zero_or_less(keuangan, keuangan_b, pimpinan, office):
    from psks.models import Assignment

    worker = tksk(name="Sudah Berhenti", reports=(D(2026, 9, 1),))
    september = approve(services.run_compute(actor=keuangan, period=D(2026, 9, 1)),
                        verifier=keuangan_b, approver=pimpinan)
    Assignment.objects.filter(worker=worker).update(end_date=D(2026, 9, 30))
    tksk(name="Masih Aktif")
    october = services.run_compute(actor=keuangan, period=OCT)
    services.adjustment_add(actor=keuangan, run=october,
                            corrects=september.lines.get(component="insentif"),
                            amount=RP("-100000"), reason="Lebih bayar September")
    text, count, csv_total = reports.bank_file(october)
    body = list(csv.reader(io.StringIO(text)))[1:-1]
    assert all(int(row[2]) > 0 for row in body)
    assert (count, csv_total) == (1, RP("1083333"))


def test_bank_csv_names_the_bank_of_each_transfer(keuangan, keuangan_b, pimpinan, office):
    """Found by the figures audit: the transfers go to several banks, the rows were sorted by
    bank, but the bank was not written."""
    from psks.models import Bank

    banks = {code: Bank.objects.get(code=code) for code in ("bjb", "bni", "bri", "bsi",
                                                             "bank_banten")}
    for code, bank in banks.items():
        worker = tksk(name=f"Tenaga {code}", account=False)
        verified_account(worker, bank=bank)
    odd = verified_account(tksk(name="=cmd|' /C calc'!A0", account=False), bank=banks["bjb"],
                           holder_name="=cmd|' /C calc'!A0")
    Bank.objects.filter(pk=banks["bjb"].pk).update(name="+Bank BJB")  # a formula-like name
    run = approve(services.run_compute(actor=keuangan, period=OCT), verifier=keuangan_b,
                  approver=pimpinan)
    PayoutLine.objects.filter(run=run, bank_account__bank=banks["bjb"]).update(
        bank_name="+Bank BJB")
    text, count, csv_total = reports.bank_file(run)
    rows = list(csv.reader(io.StringIO(text)))
    body, control = rows[1:-1], rows[-1]
    assert [(r[4], r[5]) for r in body] == [
        ("bjb", "'+Bank BJB"), ("bjb", "'+Bank BJB"), ("bank_banten", "Bank Banten"),
        ("bni", "Bank Negara Indonesia (BNI)"), ("bri", "Bank Rakyat Indonesia (BRI)"),
        ("bsi", "Bank Syariah Indonesia (BSI)")]
    assert {r[0]: r[4] for r in body}[odd.account_number] == "bjb"
    assert {r[1] for r in body if r[0] == odd.account_number} == {"'=cmd|' /C calc'!A0"}
    assert control[:3] == ["TOTAL", "6", str(6 * 1083333)] and count == 6
    assert csv_total == sum(RP(r[2]) for r in body) == total(run)


# --- funding-source summary and realisation ---------------------------------------------------

def test_funding_source_summary(approved_run):
    header, rows = reports.funding_summary_rows(approved_run)
    assert header == ["sumber_dana", "komponen", "status", "jumlah_baris", "bruto", "pph21",
                      "neto", "informasi_per_tahun"]
    money = [None if v is None else RP(v) for r in rows for v in r[4:]]
    assert [[*r[:4], *money[i * 4:i * 4 + 4]] for i, r in enumerate(rows)] == [
        # 3 TKSK × 1.000.000 + 1.500.000 (Jamsosratu)
        ["APBD Provinsi", "Insentif bulanan", "Dapat dibayar", 4, RP("4500000"), 0,
         RP("4500000"), None],
        ["APBD Provinsi", "Insentif bulanan", "Ditahan", 1, RP("1000000"), 0, RP("1000000"),
         None],
        # 3 × 83.333 + 166.666
        ["APBD Provinsi", "Dana operasional tahunan", "Dapat dibayar", 4, RP("416665"), 0,
         RP("416665"), None],
        ["APBD Provinsi", "Dana operasional tahunan", "Ditahan", 1, RP("83333"), 0,
         RP("83333"), None],
        # what the province pays: the payable lines only = the run's summary
        ["JUMLAH DIBAYAR PROVINSI", "", "Dapat dibayar", 8, RP("4916665"), 0, RP("4916665"),
         None],
        [None] * 8,
        [reports.INFO_SECTION, "", "", "", None, None, None, None],
        # for information: Kemensos pays pendamping PKH Rp1.500.000 a year, not the province;
        # in its own column, never in neto nor in a total
        ["APBN", "Dana operasional tahunan Pendamping PKH", "informasi", 1, None, None, None,
         RP("1500000")],
    ]
    assert RP(approved_run.summary["net_payable"]) == RP("4916665")


def test_yearly_realisation_pagu_vs_paid(approved_run, keuangan):
    """Found by the figures audit: "realisasi" counted approved runs not yet paid. Realised is
    what was paid; approved and unpaid is its own column; the remaining pagu takes both."""
    for component, source, amount in [("insentif", "apbd_provinsi", "60000000"),
                                      ("operasional", "apbd_provinsi", "5000000"),
                                      ("operasional", "apbn", "1500000")]:
        BudgetCeiling.objects.create(year=2026, component=component, funding_source=source,
                                     amount=RP(amount))
    services.run_compute(actor=keuangan, period=NOV)  # computed, not approved: not counted
    header, rows = reports.realisation_rows(2026)
    assert header == ["komponen", "sumber_dana", "pagu", "realisasi_dibayar",
                      "disetujui_belum_dibayar", "sisa_pagu"]

    def figures():
        return [(str(c), str(s), RP(p), RP(r), RP(a), RP(x))
                for c, s, p, r, a, x in reports.realisation_rows(2026)[1]]

    # October approved, not paid: nothing realised yet, committed in its own column
    assert figures() == [
        ("Insentif bulanan", "APBD Provinsi", RP("60000000"), 0, RP("4500000"),
         RP("55500000")),
        ("Dana operasional tahunan", "APBD Provinsi", RP("5000000"), 0, RP("416665"),
         RP("4583335")),
        ("Dana operasional tahunan", "APBN", RP("1500000"), 0, 0, RP("1500000")),
    ]
    services.run_mark_paid(actor=keuangan, run=approved_run, reference="SP2D-10")
    assert figures() == [
        ("Insentif bulanan", "APBD Provinsi", RP("60000000"), RP("4500000"), 0,
         RP("55500000")),
        ("Dana operasional tahunan", "APBD Provinsi", RP("5000000"), RP("416665"), 0,
         RP("4583335")),
        ("Dana operasional tahunan", "APBN", RP("1500000"), 0, 0, RP("1500000")),
    ]
    assert reports.realisation_rows(2025)[1] == []


def test_realisation_without_a_ceiling_has_no_remaining(approved_run):
    _header, rows = reports.realisation_rows(2026)
    assert [(str(c), p, RP(r), RP(a), x) for c, _s, p, r, a, x in rows] == [
        ("Insentif bulanan", None, 0, RP("4500000"), None),
        ("Dana operasional tahunan", None, 0, RP("416665"), None),
    ]


# --- emailing finance -------------------------------------------------------------------------

@pytest.fixture
def finance_mail(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the stored documents the e-mail attaches
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.FINANCE_REPORT_EMAILS = FINANCE
    return settings


def test_reports_are_emailed_once(finance_mail, single_run):
    assert mail.outbox == []  # approving in a test transaction queues, never sends
    assert services.run_reports_send(run_id=single_run.pk) is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == FINANCE
    assert message.subject == ("[Dinsos Banten] Daftar nominatif insentif PSKS Oktober 2026")
    assert "Terbilang: satu juta delapan puluh tiga ribu tiga ratus tiga puluh tiga rupiah" \
        in message.body
    assert "neto Rp1.083.333" in message.body
    assert "Berkas bank: 1 transfer, total Rp1.083.333." in message.body
    names = [a[0] for a in message.attachments]
    assert names == ["daftar-nominatif-2026-10.xlsx", "daftar-nominatif-2026-10.pdf",
                     "transfer-bank-2026-10.csv"]
    xlsx, pdf, bank = (a[1] for a in message.attachments)
    assert load_workbook(io.BytesIO(xlsx)).sheetnames == ["Daftar Nominatif"]
    assert pdf.startswith(b"%PDF")
    assert bank.splitlines()[-1].startswith("TOTAL,1,1083333")
    single_run.refresh_from_db()
    assert single_run.reports_sent_at is not None

    assert services.run_reports_send(run_id=single_run.pk) is False
    assert len(mail.outbox) == 1


def test_mailing_the_documents_writes_an_access_entry_naming_the_recipients(finance_mail,
                                                                          single_run):
    """Personal-data audit (December 2026): P6 — ``run_reports_send`` attaches the unmasked
    documents (the bank CSV with whole account numbers, names) and mails them outside the
    system, but wrote no ACCESS entry, while handing the same documents out on a page or the
    API writes ``log_read(PayoutLine, what="dokumen")``. Now one entry per e-mail sent, by the
    system (the task: no actor), naming the run, the documents and the recipients."""
    from tests.helpers import reads

    assert tasks.send_run_reports.delay(single_run.pk).get() is True
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments
    mailed = [e for e in reads(PayoutLine) if e.additional_data["read"] == "surel"]
    assert mailed, "documents with whole account numbers mailed without an ACCESS entry"
    (entry,) = mailed
    assert entry.actor is None
    assert entry.additional_data["source"] == "task:incentives.send_run_reports"
    assert entry.additional_data["query"] == {
        "run": str(single_run.pk), "kind": "nominatif-xlsx, nominatif-pdf, bank-csv",
        "masked": "False", "to": ", ".join(FINANCE)}
    assert services.run_reports_send(run_id=single_run.pk) is False  # nothing sent: no entry
    assert len([e for e in reads(PayoutLine) if e.additional_data["read"] == "surel"]) == 1


def test_the_email_names_the_approver_links_the_run_and_says_its_status(finance_mail,
                                                                     single_run, pimpinan):
    """Found by the figures audit: the approver was named by username, there was no link to the
    run, and a run already paid was said "telah disetujui"."""
    finance_mail.SITE_URL = "https://dinsos.bantenprov.go.id"
    type(pimpinan).objects.filter(pk=pimpinan.pk).update(
        first_name="Dr. H. Kepala", last_name="Contoh, M.Si.", nip="196801011990031001")
    services.run_reports_send(run_id=single_run.pk)
    body = mail.outbox[0].body
    assert body.startswith("Perhitungan 2026-10 telah disetujui oleh Dr. H. Kepala Contoh, "
                           "M.Si. (NIP 196801011990031001).\n")
    assert "pimpinan" not in body
    path = reverse("incentives:run-detail", args=[single_run.pk])
    assert path == f"/incentives/perhitungan/{single_run.pk}/"
    assert f"Halaman perhitungan: https://dinsos.bantenprov.go.id{path}\n" in body


def test_the_email_of_a_run_already_paid_says_it_is_paid(finance_mail, single_run, keuangan):
    paid = services.run_mark_paid(actor=keuangan, run=single_run, reference="SP2D-0001")
    services.run_reports_send(run_id=paid.pk)
    body = mail.outbox[0].body
    assert "telah disetujui" not in body
    assert body.startswith("Perhitungan 2026-10 berstatus Dibayar (disetujui oleh ")


def test_nothing_is_emailed_for_an_unapproved_run_or_without_recipients(settings, finance_mail,
                                                                        keuangan):
    tksk()
    run = services.run_compute(actor=keuangan, period=OCT)
    assert services.run_reports_send(run_id=run.pk) is False
    settings.FINANCE_REPORT_EMAILS = []
    assert services.run_reports_send(run_id=run.pk) is False
    assert mail.outbox == []


def test_approving_queues_the_email_on_commit(finance_mail, django_capture_on_commit_callbacks,
                                              keuangan, keuangan_b, pimpinan, office):
    tksk()
    run = services.run_verify(actor=keuangan_b,
                              run=services.run_compute(actor=keuangan, period=OCT))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.run_approve(actor=pimpinan, run=run)
    assert len(callbacks) == 1 and mail.outbox == []  # queued, not sent before the commit
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert len(mail.outbox) == 1
    run.refresh_from_db()
    assert run.reports_sent_at is not None


def test_approve_then_commit_sends_one_email(finance_mail, django_capture_on_commit_callbacks,
                                             keuangan, keuangan_b, pimpinan, office):
    tksk()
    run = services.run_verify(actor=keuangan_b,
                              run=services.run_compute(actor=keuangan, period=OCT))
    with django_capture_on_commit_callbacks(execute=True):
        services.run_approve(actor=pimpinan, run=run)
    assert len(mail.outbox) == 1
    assert len(mail.outbox[0].attachments) == 3
    assert tasks.send_pending_reports.apply().get() == 0  # already sent
    assert len(mail.outbox) == 1


def test_send_pending_reports_sends_once(finance_mail, single_run):
    assert tasks.send_pending_reports.apply().get() == 1
    assert tasks.send_pending_reports.apply().get() == 0
    assert len(mail.outbox) == 1


def test_the_email_reads_line_by_line_as_finance_reads_it(finance_mail, single_run, pimpinan):
    """The subject and body are templates (incentives/email/), in Indonesian: what a finance
    officer reads, line by line, with amounts in Rupiah and a name as it is written (no HTML
    escaping in a text e-mail)."""
    finance_mail.SITE_URL = "https://dinsos.bantenprov.go.id"
    type(pimpinan).objects.filter(pk=pimpinan.pk).update(
        first_name="Hj. Siti Ma'rifah", last_name="& Rekan", nip="197002021995032002")
    rendered = []
    template_rendered.connect(lambda sender, template, **kw: rendered.append(template.name),
                              weak=False, dispatch_uid="finance-mail")
    try:
        services.run_reports_send(run_id=single_run.pk)
    finally:
        template_rendered.disconnect(dispatch_uid="finance-mail")
    assert {"incentives/email/run_reports_subject.txt",
            "incentives/email/run_reports_body.txt"} <= set(rendered)
    message = mail.outbox[0]
    assert message.subject == "[Dinsos Banten] Daftar nominatif insentif PSKS Oktober 2026"
    assert message.body.splitlines() == [
        "Perhitungan 2026-10 telah disetujui oleh Hj. Siti Ma'rifah & Rekan "
        "(NIP 197002021995032002).",
        f"Halaman perhitungan: https://dinsos.bantenprov.go.id/incentives/perhitungan/"
        f"{single_run.pk}/",
        "Jumlah baris dibayar: 2",
        "Bruto Rp1.083.333, PPh 21 Rp0, neto Rp1.083.333",
        "Terbilang: satu juta delapan puluh tiga ribu tiga ratus tiga puluh tiga rupiah",
        "Berkas bank: 1 transfer, total Rp1.083.333.",
    ]
    assert message.body.endswith(".\n")
    assert len(message.attachments) == 3
