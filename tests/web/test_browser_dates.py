"""Day-first dates in an English Chromium (issue #12 point 8): an ``<input type="date">`` was
drawn ``mm/dd/yyyy`` there. The dates are text inputs shown and read ``hh/bb/tttt`` in the
staff pages and the admin, and no page asks for a missing /favicon.ico."""

import datetime

import pytest
from playwright.sync_api import expect

from dinsos import roles
from pmks.models import Case, Person
from tests.factories import DESA_PANDEGLANG
from tests.web.conftest import FAILURES

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
SHOTS = FAILURES.parent / "browser-shots"  # kept for a person to look at


def test_dates_are_typed_and_shown_day_first_in_an_english_browser(open_page,
                                                                   pandeglang_operator,
                                                                   make_user):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(pandeglang_operator, locale="en-US")
    failed = []  # a GET that fails (the icon, a script); a refused form answers 400 on purpose

    def watch(response):
        if response.status >= 400 and response.request.method == "GET":
            failed.append(response.url)

    page.on("response", watch)
    page.goto("/pmks/orang/baru/")
    birth = page.get_by_label("Tanggal lahir")
    expect(birth).to_have_attribute("type", "text")
    expect(birth).to_have_attribute("placeholder", "hh/bb/tttt")
    page.get_by_label("NIK").fill("3601015708800001")
    page.get_by_label("Nama").fill("Siti Aminah")
    birth.fill("17/08/1980")
    page.get_by_label("Jenis kelamin").select_option("P")
    page.get_by_label("Desa/kelurahan domisili").select_option(DESA_PANDEGLANG)
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Siti Aminah")
    assert Person.objects.get(nik="3601015708800001").birth_date == datetime.date(1980, 8, 17)

    page.get_by_text("Catat kasus baru").click()
    page.get_by_label("Kategori PPKS").select_option(label="24. Fakir Miskin")
    page.get_by_label("Sumber").select_option("tksk")
    page.get_by_label("Tanggal teridentifikasi").fill("11/30/2026")  # month first: refused
    page.get_by_role("button", name="Catat kasus").click()
    # next to the field, and in the summary above the form (naming the field once)
    expect(page.locator(".field .errorlist").get_by_text(
        "Tanggal teridentifikasi: tanggal tidak dikenali.")).to_be_visible()
    expect(page.locator(".error-summary li")).to_contain_text(
        "Tanggal teridentifikasi: tanggal tidak dikenali.")
    page.screenshot(path=str(SHOTS / "staff-case-date-refused-en-US.png"), full_page=True)
    page.get_by_label("Tanggal teridentifikasi").fill("02/11/2026")
    page.get_by_role("button", name="Catat kasus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Siti Aminah")
    # the refused page had the same heading: wait for the case the POST made
    expect(page.get_by_text("Ubah ke: Dirujuk")).to_be_visible()
    case = Case.objects.get(person__nik="3601015708800001")
    assert case.identified_on == datetime.date(2026, 11, 2)

    admin_page = open_page(make_user(roles.ADMIN, is_superuser=True), locale="en-US")
    admin_page.on("response", watch)
    admin_page.goto(f"/admin/pmks/person/{case.person_id}/change/")
    shown = admin_page.locator("input[name=birth_date]")
    expect(shown).to_have_value("17/08/1980")
    expect(shown).to_have_attribute("placeholder", "hh/bb/tttt")
    admin_page.screenshot(path=str(SHOTS / "admin-person-date-en-US.png"))
    admin_page.wait_for_load_state("networkidle")
    assert failed == []
