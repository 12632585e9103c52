"""A Jamsosratu day in chromium on a phone-width screen (390 px), issue #12 point 5: open the
cycle, enter a verification on the phone page and move the enrolment, make a tranche's payment
list and watch the job finish, download the bank file and check its control line against the
page, upload the bank's result with one bad line and read the per-line result. A screenshot of
every open page is kept on failure (tests/web/conftest.py)."""

import csv
import io

import pytest
from playwright.sync_api import expect

from dinsos import roles
from jamsosratu import services
from jamsosratu.models import Enrolment, Payment, TrancheJob
from tests.factories import DESA_PANDEGLANG, cycle_with_tranches
from tests.jamsosratu.factories import ADULT, TODDLER, enrol, household, tksk_of

PHONE = 390

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE, page.url


def operator_verifies_and_moves_an_enrolment(open_page, operator, enrolment, tksk):
    page = open_page(operator, width=PHONE)
    page.get_by_role("navigation", name="Navigasi utama").get_by_role(
        "link", name="Jamsosratu").click()
    expect(page).to_have_title("Jamsosratu · Dinas Sosial Provinsi Banten")
    page.get_by_role("link", name="2026", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jamsosratu 2026")
    expect(page.get_by_test_id("terpakai-36.01")).to_have_text("2")
    fits_the_phone(page)

    page.get_by_role("link", name="Peserta", exact=True).first.click()
    page.get_by_label("Nama kepala keluarga atau No. KK").fill("Siti")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Siti Aminah").click()
    expect(page.get_by_test_id("enrolment-status")).to_have_text("Calon (diusulkan)")
    fits_the_phone(page)

    # moving on without a verification: the service's refusal stands by the button
    page.get_by_text("Ubah ke: Terverifikasi").click()
    page.get_by_role("button", name="Simpan: Terverifikasi").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Belum ada verifikasi by name by address dengan hasil sesuai.")

    page.get_by_role("link", name="Catat verifikasi kunjungan").click()
    expect(page).to_have_title("Verifikasi Siti Aminah · Dinas Sosial Provinsi Banten")
    fits_the_phone(page)
    page.get_by_role("button", name="Simpan verifikasi").click()  # nothing filled in
    expect(page.locator(".field .errorlist").get_by_text("Pilih verifikator.")).to_be_visible()
    expect(page.locator(".field .errorlist").get_by_text("Pilih hasil verifikasi.")).to_be_visible()
    page.get_by_label("Verifikator (TKSK/pendamping)").select_option(value=str(tksk.pk))
    page.get_by_label("Tanggal kunjungan").fill("2026-11-20")
    page.get_by_label("Sesuai", exact=True).check()
    page.get_by_label("Siti Aminah hamil/nifas").check()
    page.get_by_label("Catatan").fill("Rumah sesuai alamat, tiga penghuni.")
    page.get_by_role("button", name="Simpan verifikasi").click()
    expect(page.get_by_text("Verifikasi tersimpan.")).to_be_visible()
    expect(page.get_by_text("Siti Aminah — Ibu hamil/nifas")).to_be_visible()

    page.get_by_text("Ubah ke: Terverifikasi").click()
    page.get_by_role("button", name="Simpan: Terverifikasi").click()
    expect(page.get_by_test_id("enrolment-status")).to_have_text("Terverifikasi")
    fits_the_phone(page)
    assert Enrolment.objects.get(pk=enrolment.pk).status == "terverifikasi"


def province_makes_the_payment_list_and_settles_it_with_the_bank(open_page, province,
                                                                 monkeypatch, tmp_path):
    from jamsosratu import tasks

    queued = []
    monkeypatch.setattr(tasks.run_tranche_job, "delay_on_commit", queued.append)
    page = open_page(province, width=PHONE)
    page.goto("/jamsosratu/siklus/2026/")
    tranche = page.locator("#tahap-1")
    tranche.get_by_role("button", name="Buat daftar penyaluran").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Dalam antrean")
    fits_the_phone(page)
    assert Payment.objects.count() == 0  # nothing is made in the request
    services.tranche_job_run(job_id=queued[0])  # the worker; the page follows by htmx
    expect(page.get_by_test_id("job-status")).to_have_text("Selesai")
    expect(page.get_by_test_id("job-message")).to_have_text("3 penyaluran dibuat.")
    monkeypatch.undo()  # from here on the worker runs at once (eager)

    page.get_by_role("link", name="Jamsosratu 2026").click()
    expect(page.get_by_test_id("kontrol-1")).to_contain_text("3 baris, total Rp2.625.000")
    with page.expect_download() as download:
        page.locator("#tahap-1").get_by_role("link", name="Unduh berkas bank (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0] == ["id_penyaluran", "rekening", "nama", "jumlah", "keterangan"]
    assert rows[-1][:4] == ["TOTAL", "3", "", "2625000"]

    result = tmp_path / "hasil-bank.csv"
    lines = [["id_penyaluran", "rekening", "jumlah", "status", "referensi", "tanggal",
              "keterangan"]]
    for n, (pk, account, _name, amount, _note) in enumerate(rows[1:-1], start=1):
        lines.append([pk, account, amount if n < 3 else "870000", "berhasil", f"BB-{n}",
                      "2026-11-28", ""])
    with result.open("w", newline="") as out:
        csv.writer(out).writerows(lines)
    page.locator("#tahap-1").get_by_role("link", name="Unggah hasil bank").click()
    # measure the new page, not the one being left (CI once read a document mid-navigation)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Unggah hasil bank: tahap 1 (2026)")
    fits_the_phone(page)
    page.get_by_label("Berkas hasil bank (CSV atau XLSX)").set_input_files(str(result))
    page.get_by_role("button", name="Unggah dan terapkan").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Selesai")
    expect(page.get_by_test_id("rejected")).to_have_text("1")
    expect(page.get_by_test_id("baris-2")).to_contain_text("Disalurkan")
    bad = page.get_by_test_id("baris-4")
    expect(bad).to_contain_text("Ditolak")
    expect(bad).to_contain_text("jumlah Rp870.000 tidak sama dengan yang dikirim (Rp875.000)")
    fits_the_phone(page)
    assert Payment.objects.filter(status="disalurkan").count() == 2
    assert TrancheJob.objects.filter(status="selesai").count() == 2


def test_a_jamsosratu_day_on_a_phone(open_page, make_user, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    province = make_user(roles.OPERATOR_PROVINSI)
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=5)
    for _n in range(2):
        enrol(province, household(DESA_PANDEGLANG), cycle, "aktif")
    enrol(province, household("36.02.01.2002"), cycle, "aktif")
    siti = household(DESA_PANDEGLANG, [{"birth_date": ADULT, "name": "Siti Aminah",
                                        "sex": "P"}, TODDLER])
    enrolment = enrol(province, siti, cycle)
    tksk = tksk_of(DESA_PANDEGLANG[:8])

    operator_verifies_and_moves_an_enrolment(
        open_page, make_user(roles.OPERATOR_KAB_KOTA, "36.01"), enrolment, tksk)
    province_makes_the_payment_list_and_settles_it_with_the_bank(open_page, province,
                                                                 monkeypatch, tmp_path)


# --- the money doors of the pages: Jadwalkan ulang, Pimpinan over the pagu -------------------

def officer_schedules_a_failed_transfer_again(open_page, province, payment, shot):
    page = open_page(province, width=PHONE)
    page.goto("/jamsosratu/siklus/2026/")
    page.locator("#tahap-1").get_by_role("link", name="1 penyaluran gagal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Penyaluran gagal: tahap 1 (2026)")
    row = page.get_by_test_id(f"gagal-{payment.pk}")
    expect(row).to_contain_text("Siti Aminah")
    expect(row).to_contain_text("Rekening tidak aktif")
    fits_the_phone(page)
    shot(page, "1-penyaluran-gagal")
    row.get_by_role("button", name="Jadwalkan ulang").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Penyaluran Siti Aminah (Rp875.000) dijadwalkan ulang; saluran: Rekening Bank Banten.")
    expect(page.get_by_test_id("status-tahap")).to_contain_text(
        "Dijadwalkan: 2 rumah tangga, Rp1.750.000")
    expect(page.get_by_text("Tidak ada penyaluran gagal pada tahap ini.")).to_be_visible()
    fits_the_phone(page)
    shot(page, "2-dijadwalkan-ulang")
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"

    # tahap 2 would take the cycle over its pagu: refused on the page, waiting for Pimpinan
    page.get_by_role("link", name="← Jamsosratu 2026").click()
    page.locator("#tahap-2").get_by_role("button", name="Buat daftar penyaluran").click()
    expect(page.get_by_role("status")).to_contain_text("melampaui pagu Rp1.750.000")
    expect(page.get_by_test_id("menunggu-pimpinan-2")).to_contain_text(
        "Menunggu keputusan Pimpinan")
    expect(page.get_by_text("Catat alasan melampaui pagu", exact=True)).to_have_count(0)
    shot(page, "3-menunggu-pimpinan")


def pimpinan_decides_to_go_over_the_pagu(open_page, pimpinan, shot):
    page = open_page(pimpinan, width=PHONE)
    page.goto("/jamsosratu/siklus/2026/")
    waiting = page.get_by_test_id("menunggu-pimpinan-2")
    waiting.get_by_text("Catat alasan melampaui pagu", exact=True).click()
    waiting.get_by_role("button", name="Izinkan melampaui pagu").click()  # no reason
    expect(page.get_by_test_id("menunggu-pimpinan-2").locator(".errorlist")).to_contain_text(
        "Tuliskan alasan penyaluran melampaui pagu.")
    fits_the_phone(page)
    shot(page, "4-alasan-kosong")
    waiting = page.get_by_test_id("menunggu-pimpinan-2")
    waiting.get_by_label("Alasan melampaui pagu").fill("Tambahan sasaran sesuai Pergub perubahan")
    waiting.get_by_role("button", name="Izinkan melampaui pagu").click()
    expect(page.get_by_role("status")).to_contain_text("Alasan melampaui pagu tahap 2 tercatat")
    expect(page.get_by_test_id("melampaui-pagu-2")).to_contain_text(
        "Tambahan sasaran sesuai Pergub perubahan")
    expect(page.get_by_test_id("menunggu-pimpinan-2")).to_have_count(0)
    fits_the_phone(page)
    shot(page, "5-diizinkan-pimpinan")


def test_a_failed_transfer_scheduled_again_and_pimpinan_over_the_pagu(open_page, make_user):
    """The money doors at 390 px: the officer follows the tahap's failed transfer from the
    cycle page and schedules it again; the next tahap's list is refused for the pagu and
    Pimpinan records the reason on the cycle page (an empty one is refused first)."""
    money_doors(open_page, make_user, shot=lambda page, name: None)


def money_doors(open_page, make_user, *, shot):
    """The walk; ``shot(page, name)`` is called at each new state of the pages."""
    from decimal import Decimal

    from jamsosratu import banking
    from jamsosratu.models import Cycle

    province = make_user(roles.OPERATOR_PROVINSI)
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=5)
    siti = household(DESA_PANDEGLANG, [{"birth_date": ADULT, "name": "Siti Aminah",
                                        "sex": "P"}, TODDLER])
    enrolment = enrol(province, siti, cycle, "aktif")
    enrol(province, household("36.02.01.2002"), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    banking.transfer_file(cycle.tranches.get(number=1))  # handed to the bank
    payment = Payment.objects.get(enrolment=enrolment)
    banking.bank_result_import(actor=province, tranche=payment.tranche, filename="hasil.csv",
                               fileobj=io.BytesIO(
                                   "id_penyaluran,rekening,jumlah,status,referensi,tanggal,"
                                   f"keterangan\n{payment.pk},{payment.account_number},875000,"
                                   "gagal,,,Rekening tidak aktif\n".encode()))
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(1750000))

    officer_schedules_a_failed_transfer_again(open_page, province, payment, shot)
    pimpinan_decides_to_go_over_the_pagu(open_page, make_user(roles.PIMPINAN), shot)
