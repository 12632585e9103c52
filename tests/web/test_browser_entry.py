"""What a browser walk of the staff pages found (twelfth session), proven in chromium: an
officer finds a person by a NIK typed in groups and records a service whose value is typed
as Indonesians write Rupiah; the Keuangan who computed a run is told why someone else must
verify it (the button used to vanish without a word)."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from dinsos import roles
from incentives import services as payouts
from pmks import services as registry
from pmks.models import Category, Service
from tests.factories import DESA_PANDEGLANG, PersonFactory
from tests.incentives.factories import OCT, tksk

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_officer_finds_a_grouped_nik_and_types_a_rupiah_value(open_page,
                                                                   pandeglang_operator):
    person = PersonFactory(desa_id=DESA_PANDEGLANG, name="Siti Aminah")
    case = registry.case_open(actor=pandeglang_operator, person=person,
                              category=Category.objects.get(slug="lanjut-usia-terlantar"),
                              identified_on=datetime.date(2026, 11, 2), source="tksk")
    registry.case_transition(actor=pandeglang_operator, case=case, to_status="terverifikasi",
                             reason="Dikunjungi TKSK")
    grouped = " ".join(person.nik[i:i + 4] for i in range(0, 16, 4))

    page = open_page(pandeglang_operator, width=390)
    page.get_by_role("link", name="Registri PMKS").click()
    page.get_by_label("Cari nama atau NIK").fill(grouped)
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Siti Aminah").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Siti Aminah")

    page.get_by_text("Catat layanan").click()
    form = page.locator(f"form[action$='/kasus/{case.pk}/layanan/']")
    form.get_by_label("Jenis layanan").select_option(index=1)
    form.get_by_label("Tanggal mulai").fill("20/11/2026")
    form.get_by_label("Nilai (Rp)").fill("1.500.000")
    form.get_by_label("Sumber dana").select_option("apbd_provinsi")
    form.get_by_label("Pemberi layanan (lembaga lain)").fill("LKS Mekar Sari")
    form.get_by_role("button", name="Simpan layanan").click()
    expect(page.get_by_test_id(f"status-{case.pk}")).to_have_text("Dalam penanganan")
    assert Service.objects.get(case=case).value_amount == Decimal("1500000")


def test_the_keuangan_who_computed_a_run_is_told_who_verifies_it(open_page, make_user):
    tksk()
    maker = make_user(roles.KEUANGAN, username="keuangan_penghitung")
    run = payouts.run_compute(actor=maker, period=OCT)

    page = open_page(maker)
    page.goto(f"/incentives/perhitungan/{run.pk}/")
    expect(page.get_by_test_id("run-next-step")).to_have_text(
        "Menunggu verifikasi oleh petugas Keuangan lain: Anda menghitung atau menambah "
        "penyesuaian pada perhitungan ini, jadi pemeriksanya harus orang lain (pemisahan tugas).")
    expect(page.get_by_role("link", name="Verifikasi")).to_have_count(0)
