"""One daily task per role, end to end in chromium (issue #12 point 11), one test each, in the
SQLite and the PostgreSQL pass, in any order and under pytest-xdist.

A live server needs transactional tests: each flushes the database at its end and the next one
restores the reference data that migrations loaded (regions, offices, roles, categories) from
the serialized copy (``serialized_rollback``). That restore used to find nothing after the
first browser test — Playwright's loop made Django hand out fresh connection wrappers without
that copy — so the tasks were squeezed into one test and kept out of the PostgreSQL pass. The
``browser`` fixture (tests/web/conftest.py) now lives for one test only; the last test here
checks the reference data a browser test leaves behind."""

import asyncio

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from playwright.sync_api import expect

from dinsos import roles
from dinsos.models import Office, Wilayah
from incentives import services as payouts
from incentives.models import BudgetCeiling
from pmks import calculations
from pmks.models import Case, Category, Person
from tests.factories import DESA_PANDEGLANG, PersonFactory
from tests.incentives.factories import OCT, tksk

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_operator_registers_a_person_and_refers_a_case(open_page, pandeglang_operator):
    page = open_page(pandeglang_operator)
    page.get_by_role("link", name="Registri PMKS").click()
    page.get_by_role("link", name="Daftarkan orang").click()
    expect(page).to_have_title("Daftarkan orang · Dinas Sosial Provinsi Banten")
    page.get_by_label("NIK").fill("3601015708800001")
    page.get_by_label("Nama").fill("Siti Aminah")
    page.get_by_label("Tanggal lahir").fill("1980-08-17")
    page.get_by_label("Jenis kelamin").select_option("P")
    page.get_by_label("Desa/kelurahan domisili").select_option(DESA_PANDEGLANG)
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Siti Aminah")

    page.get_by_text("Catat kasus baru").click()
    page.get_by_label("Kategori PPKS").select_option(label="24. Fakir Miskin")
    page.get_by_label("Tanggal teridentifikasi").fill("2026-11-02")
    page.get_by_label("Sumber").select_option("tksk")
    page.get_by_role("button", name="Catat kasus").click()
    expect(page.get_by_text("Ubah ke: Dirujuk")).to_be_visible()  # the POST has been answered

    case = Case.objects.get(person__nik="3601015708800001")
    page.get_by_text("Ubah ke: Dirujuk").click()
    page.get_by_role("button", name="Simpan: Dirujuk").click()
    expect(page.get_by_text("Alasan wajib diisi untuk status ini.")).to_be_visible()
    page.locator("details.transition[open]").get_by_role("textbox", name="Alasan").fill(
        "Dirujuk ke Dinas Sosial Kab. Pandeglang")
    page.get_by_role("button", name="Simpan: Dirujuk").click()
    expect(page.get_by_test_id(f"status-{case.pk}")).to_have_text("Dirujuk")
    case.refresh_from_db()
    assert case.status == "dirujuk"


def test_province_operator_imports_a_file_with_errors_and_reads_them(open_page, province_operator,
                                                                      settings, tmp_path):
    from dinsos.importing import IMPORTERS

    settings.MEDIA_ROOT = tmp_path
    header = [c.name for c in IMPORTERS["pmks_keluarga"].columns]
    bad = dict.fromkeys(header, "")
    bad.update(no_kk="12345", nama="Budi", nik="99")
    upload = tmp_path / "keluarga.csv"
    upload.write_text(",".join(header) + "\n" + ",".join(bad[c] for c in header) + "\n")

    page = open_page(province_operator)
    page.get_by_role("link", name="Impor").click()
    page.get_by_label("jenis data").select_option("pmks_keluarga")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Unggah").click()
    expect(page.get_by_role("heading", name="Baris ditolak")).to_be_visible()
    rejected = page.locator("#import-status table")
    expect(rejected).to_contain_text("alamat")
    expect(rejected).to_contain_text("no_kk")
    expect(page.get_by_role("link", name="Unduh laporan kesalahan (XLSX)")).to_be_visible()


def test_keuangan_verifies_and_pimpinan_approves_over_the_pagu(open_page, make_user):
    BudgetCeiling.objects.create(year=2026, component="insentif",
                                 funding_source="apbd_provinsi", amount=500_000)
    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)

    page = open_page(make_user(roles.KEUANGAN, username="keuangan_verifikator"))
    page.get_by_role("link", name="Perhitungan untuk diverifikasi").click()
    page.get_by_role("link", name="Oktober 2026").click()
    page.get_by_role("link", name="Verifikasi").click()
    # the run page being left shows the same totals
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Verifikasi: perhitungan Oktober 2026")
    # the totals before confirming: Rp1.000.000 incentive + 1/12 of the yearly Rp1.000.000
    expect(page.get_by_test_id("net")).to_have_text("Rp1.083.333")
    page.get_by_role("button", name="Verifikasi").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Diverifikasi Keuangan")

    page = open_page(make_user(roles.PIMPINAN))
    page.goto(f"/incentives/perhitungan/{run.pk}/")
    page.get_by_role("link", name="Setujui", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("melampaui pagu")
    page.get_by_role("button", name="Setujui").click()
    expect(page.get_by_text("tuliskan alasan persetujuan")).to_be_visible()
    page.get_by_label("Alasan menyetujui melampaui pagu").fill("Tambahan TKSK, SK Gubernur 2026")
    page.get_by_role("button", name="Setujui").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Disetujui Pimpinan")
    run.refresh_from_db()
    assert run.ceiling_override_reason == "Tambahan TKSK, SK Gubernur 2026"


def test_auditor_sees_masked_identifiers_on_a_phone(open_page, auditor):
    person = PersonFactory(name="Budi Santoso", name_key=calculations.name_key("Budi Santoso"))
    page = open_page(auditor, width=390)
    page.get_by_role("link", name="Registri PMKS").click()
    page.get_by_label("Cari nama atau NIK").fill(person.nik)
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Budi Santoso").click()
    shown = page.get_by_test_id("nik").inner_text()
    assert shown != person.nik and shown.startswith(person.nik[:6]) and "*" in shown
    assert person.nik not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not Person.objects.filter(nik=shown).exists()


def test_pages_stay_indonesian_in_an_english_browser(open_page, make_user):
    page = open_page(make_user(roles.ADMIN, is_superuser=True), locale="en-US")
    assert page.evaluate("navigator.language") == "en-US"
    for path, title in [("/", "Beranda"), ("/pmks/", "Registri PMKS"),
                        ("/admin/", "Administrasi")]:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "id")
        assert title in page.title()
        body = page.locator("body").inner_text()
        assert "Keluar" in body.title() and "Log out" not in body, path
    page.goto("/pmks/orang/baru/")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Bidang ini harus diisi.").first).to_be_visible()


def test_reference_data_is_whole_after_the_browser_tests():
    """Runs after the browser tests of this worker (transactional tests keep file order): the
    restore found the serialized reference data, and no event loop was left behind."""
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    assert hasattr(connection, "_test_serialized_contents")
    assert Wilayah.objects.count() == 1716 and Office.objects.count() == 9
    assert set(Group.objects.values_list("name", flat=True)) >= {
        roles.ADMIN, roles.OPERATOR_PROVINSI, roles.OPERATOR_KAB_KOTA, roles.KEUANGAN,
        roles.PIMPINAN, roles.AUDITOR}
    assert Category.objects.count() == 26
