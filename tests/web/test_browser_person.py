"""An operator's day on a person's file in chromium (issue #12): change the person's data
(an error next to its field first), then record a service on the verified case."""

import datetime

import pytest
from playwright.sync_api import expect

from pmks import calculations
from pmks import services as registry
from pmks.models import Category, Person, Service
from tests.factories import DESA_PANDEGLANG, PersonFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_operator_changes_a_person_and_records_a_service(open_page, pandeglang_operator):
    person = PersonFactory(name="Mak Icih", name_key=calculations.name_key("Mak Icih"),
                           desa_id=DESA_PANDEGLANG, sex="P",
                           birth_date=datetime.date(1950, 3, 4))
    case = registry.case_open(actor=pandeglang_operator, person=person,
                              category=Category.objects.get(slug="lanjut-usia-terlantar"),
                              identified_on=datetime.date(2026, 11, 2), source="tksk")
    registry.case_transition(actor=pandeglang_operator, case=case, to_status="terverifikasi",
                             reason="Dikunjungi TKSK")
    page = open_page(pandeglang_operator, width=390)
    page.goto(f"/pmks/orang/{person.pk}/")
    page.get_by_role("link", name="Ubah data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ubah data orang")
    page.get_by_label("Nama").fill("")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator(".field", has=page.get_by_label("Nama")).locator(".errorlist")
           ).to_be_visible()
    page.get_by_label("Nama").fill("Mak Icih Suhendar")
    page.get_by_label("Pekerjaan").fill("Pedagang")
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mak Icih Suhendar")
    expect(page.get_by_text("Data orang disimpan.")).to_be_visible()
    assert Person.objects.get(pk=person.pk).occupation == "Pedagang"

    page.get_by_text("Catat layanan").click()
    page.get_by_label("Jenis layanan").select_option(index=1)
    page.get_by_label("Tanggal mulai").fill("20/11/2026")
    page.get_by_label("Sumber dana").select_option("apbd_provinsi")
    page.get_by_label("Pemberi layanan (lembaga lain)").fill("LKS Mekar Sari")
    page.get_by_role("button", name="Simpan layanan").click()
    expect(page.get_by_test_id(f"status-{case.pk}")).to_have_text("Dalam penanganan")
    assert Service.objects.get(case=case).provider_name == "LKS Mekar Sari"
