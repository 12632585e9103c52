"""Daily tasks the first browser tests left out (issue #12 point 11), found by walking the pages
as every demo account: Keuangan computes a month, cancels it and records a payment; a kab/kota
operator decides a duplicate pair side by side. Chromium with an English locale, like the rest
(tests/web/conftest.py); in both CI passes."""

import pytest
from playwright.sync_api import expect

from dinsos import roles
from incentives import services as payouts
from incentives.models import PayoutRun
from pmks import calculations
from pmks.models import DuplicateCandidate, Person
from tests.factories import PersonFactory
from tests.incentives.factories import OCT, tksk

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_keuangan_computes_cancels_and_marks_a_run_paid(open_page, make_user):
    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    payouts.run_verify(actor=make_user(roles.KEUANGAN), run=run)
    payouts.run_approve(actor=make_user(roles.PIMPINAN), run=run, override_reason="uji")
    keuangan = make_user(roles.KEUANGAN, username="bendahara")

    page = open_page(keuangan)
    # Beranda's charts count the Indonesian way in an English browser
    assert page.evaluate("Object.values(Chart.instances).length") > 0
    assert page.evaluate("Object.values(Chart.instances).every(c => c.options.locale === 'id-ID')")
    page.get_by_role("link", name="Pembayaran insentif").click()
    page.get_by_label("Bulan").fill("2026-11")
    page.get_by_role("button", name="Hitung").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("November 2026")
    expect(page.get_by_test_id("run-status")).to_have_text("Dihitung")
    # maker-checker: who computed it gets no Verifikasi button
    expect(page.get_by_role("link", name="Verifikasi")).to_have_count(0)
    page.get_by_role("link", name="Batalkan").click()
    page.get_by_role("button", name="Batalkan").click()
    expect(page.get_by_text("Bidang ini harus diisi.")).to_be_visible()
    page.get_by_label("Alasan").fill("Laporan TKSK belum lengkap")
    page.get_by_role("button", name="Batalkan").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Dibatalkan")

    page.goto(f"/incentives/perhitungan/{run.pk}/")
    page.get_by_role("link", name="Tandai dibayar").click()
    page.get_by_label("Referensi pembayaran").fill("SP2D 900/123/2026")
    page.get_by_role("button", name="Tandai dibayar").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Dibayar")
    assert PayoutRun.objects.get(pk=run.pk).status == "dibayar"
    assert PayoutRun.objects.get(period__month=11).cancelled_by == keuangan


def test_operator_decides_a_duplicate_pair_side_by_side(open_page, pandeglang_operator):
    kept, other = (PersonFactory(name=n, name_key=calculations.name_key(n))
                   for n in ("Muhammad Rizky", "Moch. Rizki"))
    DuplicateCandidate.objects.create(person_a=kept, person_b=other, score=95, reasons=[])

    page = open_page(pandeglang_operator, width=390)
    expect(page.get_by_role("link", name="Pasangan data ganda untuk diputuskan")).to_be_visible()
    page.get_by_role("link", name="Pasangan data ganda untuk diputuskan").click()
    page.get_by_role("link", name="Bandingkan").click()
    expect(page.get_by_role("columnheader", name="A: Muhammad Rizky")).to_be_visible()
    expect(page.get_by_role("columnheader", name="B: Moch. Rizki")).to_be_visible()
    page.get_by_label("Pertahankan data kiri (A)").check()
    page.get_by_label("Catatan").fill("NIK B salah ketik")
    page.get_by_role("button", name="Simpan keputusan").click()
    expect(page.get_by_text("Keputusan disimpan.")).to_be_visible()
    assert Person.objects.get(pk=other.pk).merged_into_id == kept.pk

    page.goto(f"/pmks/orang/{kept.pk}/")
    expect(page.get_by_test_id("merges")).to_contain_text('"Moch. Rizki" digabungkan')
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
