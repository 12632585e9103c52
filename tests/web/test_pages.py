"""Staff pages (issue #12): each test drives a page through the Django test client, the way a
browser posts it, and checks what the service did and what the page shows."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from dinsos import roles
from dinsos.validators import mask_nik
from incentives import services as payouts
from incentives.models import BudgetCeiling, PayoutRun
from pmks import services as registry
from pmks.models import Category, DuplicateCandidate, Person
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    HouseholdFactory,
    WorkerFactory,
    named,
)
from tests.helpers import client_for, reads, version_in
from tests.incentives.factories import OCT, tksk

pytestmark = pytest.mark.django_db
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")




# --- registry search --------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["M. Rizky", "Moch Rizky", "Muhamad Rizki", "muhammad rizky",
                                   "Rizki"])
def test_search_folds_name_variants(pandeglang_operator, typed):
    rizky = named("M. Rizky")
    named("Siti Aminah")
    page = client_for(pandeglang_operator).get(reverse("pmks:person-list"), {"q": typed})
    assert [p.pk for p in page.context["page"].object_list] == [rizky.pk]


def test_search_by_nik_prefix_for_operators_not_for_the_auditor(pandeglang_operator, auditor):
    person = named("Budi Santoso")
    prefix = person.nik[:10]
    found = client_for(pandeglang_operator).get(reverse("pmks:person-list"), {"q": prefix})
    assert [p.pk for p in found.context["page"].object_list] == [person.pk]
    assert person.nik in found.content.decode()
    hidden = client_for(auditor).get(reverse("pmks:person-list"), {"q": prefix})
    assert list(hidden.context["page"].object_list) == []
    whole = client_for(auditor).get(reverse("pmks:person-list"), {"q": person.nik})
    html = whole.content.decode()
    # the row shows the NIK masked (only the search box repeats what the auditor typed)
    assert "Budi Santoso" in html and mask_nik(person.nik) in html
    assert html.count(person.nik) == 1


def _spaced(number: str, sep: str) -> str:
    return sep.join(number[i:i + 4] for i in range(0, 16, 4))


@pytest.mark.parametrize("sep", [" ", ".", "-"])
def test_a_nik_typed_in_groups_finds_its_person(pandeglang_operator, sep):
    """Found in a browser walk: "3601 0141 0190 0017", as it is read aloud or printed on a
    card, found no one (the box wanted the bare digits)."""
    person = named("Budi Santoso")
    named("Siti Aminah")
    page = client_for(pandeglang_operator).get(reverse("pmks:person-list"),
                                               {"q": _spaced(person.nik, sep)})
    assert [p.pk for p in page.context["page"].object_list] == [person.pk]


def test_a_nik_excel_rounded_finds_no_one(pandeglang_operator):
    """"3.60101E+15" (a NIK Excel has rounded) was read as a name and found unrelated people."""
    for name in ("Budi Santoso", "Siti Aminah", "Eneng", "Entin Sumarni"):
        named(name)
    page = client_for(pandeglang_operator).get(reverse("pmks:person-list"), {"q": "3.60101E+15"})
    assert list(page.context["page"].object_list) == []


def test_a_no_kk_and_a_workers_nik_typed_in_groups_are_found(pandeglang_operator, api_as):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    HouseholdFactory(desa_id=DESA_PANDEGLANG)
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    WorkerFactory(desa_id=DESA_PANDEGLANG)
    client = api_as(pandeglang_operator)
    found = client.get("/api/v1/pmks/households/", {"q": _spaced(household.no_kk, " ")}).json()
    assert [h["id"] for h in found["results"]] == [household.pk]
    found = client.get("/api/v1/psks/workers/", {"q": _spaced(worker.nik, ".")}).json()
    assert [w["id"] for w in found["results"]] == [worker.pk]


def test_search_stays_in_the_operators_area(lebak_operator):
    named("M. Rizky")  # Pandeglang
    page = client_for(lebak_operator).get(reverse("pmks:person-list"), {"q": "Rizky"})
    assert list(page.context["page"].object_list) == []


# --- registration and cases -------------------------------------------------------------------

PERSON_POST = {"nik": "3601011708800001", "name": "Budi Santoso", "birth_place": "Pandeglang",
               "birth_date": "1980-08-17", "sex": "L", "desa": DESA_PANDEGLANG,
               "disability": "tidak", "schooling": "sd", "occupation": "Petani"}


def test_register_a_person(pandeglang_operator):
    response = client_for(pandeglang_operator).post(reverse("pmks:person-create"), PERSON_POST)
    person = Person.objects.get(nik=PERSON_POST["nik"])
    assert response.status_code == 302
    assert response["Location"] == reverse("pmks:person-detail", args=[person.pk])


def test_registration_errors_stand_next_to_their_field(pandeglang_operator):
    post = {**PERSON_POST, "birth_date": "1981-08-17"}  # the NIK says 17-08-80
    response = client_for(pandeglang_operator).post(reverse("pmks:person-create"), post)
    assert response.status_code == 400
    form = response.context["form"]
    assert "nik" in form.errors or "birth_date" in form.errors
    assert not Person.objects.exists()


def test_a_refused_form_names_every_field_and_its_error_at_the_top(pandeglang_operator):
    """Errors stand next to their fields, and a summary above the form names each field by its
    label, with its error, linked to the field (a long form's errors are not off-screen)."""
    post = {**PERSON_POST, "name": "", "birth_date": "31/02/1980"}
    response = client_for(pandeglang_operator).post(reverse("pmks:person-create"), post)
    assert response.status_code == 400
    summary = re.search(r'<div class="error-summary" role="alert">(.*?)</div>',
                        response.content.decode(), re.S).group(1)
    items = re.findall(r'<li><a href="#(id_\w+)">([^<]+)</a>: ([^<]+)</li>', summary)
    assert [(anchor, label) for anchor, label, _ in items] == [
        ("id_name", "Nama"), ("id_birth_date", "Tanggal lahir")]
    assert items[0][2] == "Bidang ini harus diisi."
    assert items[1][2].startswith("tanggal tidak dikenali")  # the label is not said twice


def test_registration_offers_only_desa_of_the_area(lebak_operator):
    response = client_for(lebak_operator).post(reverse("pmks:person-create"), PERSON_POST)
    assert response.status_code == 400
    assert "desa" in response.context["form"].errors
    assert not Person.objects.exists()


def _case(person, actor):
    return registry.case_open(actor=actor, person=person,
                              category=Category.objects.get(slug="lanjut-usia-terlantar"),
                              identified_on=datetime.date(2026, 11, 2), source="tksk")


def test_case_moves_to_dirujuk_only_with_a_reason(pandeglang_operator):
    person = named("Mak Icih")
    case = _case(person, pandeglang_operator)
    client = client_for(pandeglang_operator)
    page = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    url = reverse("pmks:case-transition", args=[person.pk, case.pk, "dirujuk"])
    assert url in page  # a button for every allowed transition
    prefix = f"c{case.pk}-dirujuk"
    version = version_in(page, url)
    refused = client.post(url, {f"{prefix}-status": "dirujuk", f"{prefix}-reason": "",
                                "if_match": version})
    assert refused.status_code == 400
    assert "Alasan wajib diisi" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "teridentifikasi"
    done = client.post(url, {f"{prefix}-status": "dirujuk",
                             f"{prefix}-reason": "Dirujuk ke panti werdha", "if_match": version})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "dirujuk"
    assert case.transitions.last().reason == "Dirujuk ke panti werdha"


def test_person_of_another_area_is_not_found(lebak_operator, pandeglang_operator):
    person = named("Mak Icih")
    case = _case(person, pandeglang_operator)
    client = client_for(lebak_operator)
    assert client.get(reverse("pmks:person-detail", args=[person.pk])).status_code == 404
    url = reverse("pmks:case-transition", args=[person.pk, case.pk, "dirujuk"])
    assert client.post(url, {}).status_code == 404


def test_person_page_history_is_readable_indonesian(pandeglang_operator):
    fields = {**PERSON_POST, "birth_date": datetime.date(1980, 8, 17)}
    fields["desa_id"] = fields.pop("desa")
    person = registry.person_register(actor=pandeglang_operator, **fields)
    registry.person_update(actor=pandeglang_operator, person=person, schooling="smp")
    html = client_for(pandeglang_operator).get(
        reverse("pmks:person-detail", args=[person.pk])).content.decode()
    assert "Pendidikan: SD/sederajat → SMP/sederajat" in html.replace("&gt;", ">")
    assert "Belum ada riwayat" not in html


def test_auditor_sees_masked_identifiers_on_the_person_page(auditor):
    person = named("Budi Santoso", desa_id=DESA_LEBAK)
    html = client_for(auditor).get(reverse("pmks:person-detail", args=[person.pk])
                                   ).content.decode()
    assert person.nik not in html and person.nik[:6] in html


def test_duplicates_side_by_side_and_merge(pandeglang_operator):
    a, b = named("M. Rizky"), named("Muhammad Rizky")
    pair = DuplicateCandidate.objects.create(person_a=a, person_b=b, score=90, reasons=[])
    client = client_for(pandeglang_operator)
    page = client.get(reverse("pmks:duplicate-detail", args=[pair.pk]))
    assert [r["name"] for r in page.context["rows"]][:2] == ["nik", "name"]
    response = client.post(reverse("pmks:duplicate-detail", args=[pair.pk]),
                           {"decision": "b", "if_match": version_in(page.content.decode())})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.merged_into_id == b.pk


# --- payouts ----------------------------------------------------------------------------------

@pytest.fixture
def computed_run(make_user):
    tksk()
    maker = make_user(roles.KEUANGAN)
    return payouts.run_compute(actor=maker, period=OCT)


def test_the_run_page_tells_who_takes_the_next_step(make_user):
    """Found in a browser walk: the finance officer who computed a run saw no "Verifikasi"
    button and no word why; the reason appeared only on the refused step's own URL, with an
    English term. Now the run page says what the run waits for and, to whoever made it, why
    someone else must take the step."""
    tksk()
    maker, checker, pimpinan = (make_user(roles.KEUANGAN), make_user(roles.KEUANGAN),
                                make_user(roles.PIMPINAN))
    run = payouts.run_compute(actor=maker, period=OCT)
    page = reverse("incentives:run-detail", args=[run.pk])
    verify = reverse("incentives:run-action", args=[run.pk, "verifikasi"])

    def seen(user):
        html = client_for(user).get(page).content.decode()
        note = re.search(r'data-testid="run-next-step">([^<]*)<', html)
        return (note[1] if note else None), verify in html

    assert seen(maker) == ("Menunggu verifikasi oleh petugas Keuangan lain: Anda menghitung "
                           "atau menambah penyesuaian pada perhitungan ini, jadi pemeriksanya "
                           "harus orang lain (pemisahan tugas).", False)
    assert seen(checker) == (None, True)  # the button, nothing to explain
    assert seen(pimpinan) == ("Menunggu verifikasi Keuangan.", False)
    # the step's own page, opened by its URL, tells the same and offers no button
    refused = client_for(maker).get(verify).content.decode()
    assert "pemisahan tugas" in refused and "if_match" not in refused  # no step form
    payouts.run_verify(actor=checker, run=run)
    assert seen(checker) == ("Menunggu persetujuan Pimpinan.", False)
    assert seen(maker) == ("Menunggu persetujuan Pimpinan.", False)
    assert seen(pimpinan)[0] is None


def test_verify_and_approve_over_the_pagu_with_a_reason(make_user):
    BudgetCeiling.objects.create(year=2026, component="insentif",
                                 funding_source="apbd_provinsi", amount=1)
    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    keuangan, pimpinan = make_user(roles.KEUANGAN), make_user(roles.PIMPINAN)
    verify = reverse("incentives:run-action", args=[run.pk, "verifikasi"])
    confirm = client_for(keuangan).get(verify)
    assert "Rp1.000.000" in confirm.content.decode()  # the totals before confirming
    assert client_for(keuangan).post(verify, {"if_match": version_in(
        confirm.content.decode())}).status_code == 302
    approve = reverse("incentives:run-action", args=[run.pk, "setujui"])
    client = client_for(pimpinan)
    page = client.get(approve).content.decode()
    assert "melampaui pagu" in page
    version = version_in(page)
    refused = client.post(approve, {"override_reason": "", "if_match": version})
    assert refused.status_code == 400
    assert "override_reason" in refused.context["form"].errors
    assert client.post(approve, {"override_reason": "SK Gubernur perubahan",
                                 "if_match": version}).status_code == 302
    run.refresh_from_db()
    assert (run.status, run.ceiling_override_reason) == ("disetujui", "SK Gubernur perubahan")


def test_run_page_starts_with_the_summary_and_names_reports_in_indonesian(computed_run,
                                                                          make_user):
    html = client_for(make_user(roles.KEUANGAN)).get(
        reverse("incentives:run-detail", args=[computed_run.pk])).content.decode()
    assert html.index("Neto dibayarkan") < html.index("Semua baris")
    assert "Daftar Nominatif (PDF, DRAF — belum disetujui)" in html
    assert "1000000,00" not in html and "Rp1.000.000" in html


def test_compute_from_the_page_runs_the_task_and_follows_it(make_user,
                                                            django_capture_on_commit_callbacks):
    tksk()
    client = client_for(make_user(roles.KEUANGAN))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("incentives:run-list"), {"period": "2026-10"})
    assert response.status_code == 302
    run = PayoutRun.objects.get(period=OCT)
    assert run.status == "dihitung"
    follow = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert follow["HX-Redirect"] == reverse("incentives:run-detail", args=[run.pk])


def test_compute_of_a_bad_month_is_an_error_on_the_field(make_user):
    response = client_for(make_user(roles.KEUANGAN)).post(reverse("incentives:run-list"),
                                                          {"period": "2026-13"})
    assert response.status_code == 400
    assert "period" in response.context["form"].errors


def test_payout_pages_are_province_only(computed_run, pandeglang_operator):
    client = client_for(pandeglang_operator)
    assert client.get(reverse("incentives:run-list")).status_code == 404
    assert client.get(reverse("incentives:run-detail", args=[computed_run.pk])).status_code == 404


# --- imports ----------------------------------------------------------------------------------

def test_import_upload_progress_and_rejected_rows(province_operator, settings, tmp_path,
                                                   django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    from dinsos.importing import IMPORTERS

    header = ",".join(c.name for c in IMPORTERS["pmks_keluarga"].columns)
    content = f"{header}\n" + ",".join(["123"] * len(header.split(","))) + "\n"
    client = client_for(province_operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports"), {
            "kind": "pmks_keluarga", "dry_run": "on",
            "file": SimpleUploadedFile("keluarga.csv", content.encode())})
    assert response.status_code == 302
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert 'id="import-status"' in html and "<html" not in html
    assert "hx-trigger" not in html  # finished: polling stops
    assert "Baris ditolak" in html and "no_kk" in html
    report = client.get(reverse("import-report", args=[partial.context["batch"].pk, "csv"]))
    assert b"kesalahan" in b"".join(report.streaming_content)


def test_import_of_an_unknown_format_is_an_error_on_the_file_field(province_operator, settings,
                                                                    tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client_for(province_operator).post(reverse("imports"), {
        "kind": "pmks_keluarga", "file": SimpleUploadedFile("a.pdf", b"%PDF")})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


# --- beranda ----------------------------------------------------------------------------------

def test_beranda_of_a_kab_kota_operator_counts_only_its_area(pandeglang_operator):
    named("Warga Pandeglang")
    named("Warga Lebak", desa_id=DESA_LEBAK)
    page = client_for(pandeglang_operator).get("/")
    figures = {f.label: f.value for p in page.context["panels"] for f in p.figures}
    assert figures["Orang terdaftar"] == 1
    assert reverse("incentives:run-list") not in page.content.decode()  # province-only menu


def test_beranda_tells_keuangan_and_pimpinan_what_waits(computed_run, make_user):
    keuangan = make_user(roles.KEUANGAN)
    page = client_for(keuangan).get("/")
    assert [(w.label, w.count) for w in page.context["waiting"]] == [
        ("Perhitungan untuk diverifikasi", 1)]
    assert 'data-chart="chart-payouts-month"' in page.content.decode()
    payouts.run_verify(actor=keuangan, run=computed_run)
    page = client_for(make_user(roles.PIMPINAN)).get("/")
    assert ("Perhitungan untuk disetujui", 1) in [(w.label, w.count)
                                                  for w in page.context["waiting"]]


def test_the_payouts_chart_tells_paid_from_on_the_way(make_user):
    """Found in a browser walk: the chart "Dibayarkan (neto)" showed a run that was only
    computed. A computed run is on its way; only a run marked paid is paid."""
    tksk()
    keuangan, checker, pimpinan = (make_user(roles.KEUANGAN), make_user(roles.KEUANGAN),
                                   make_user(roles.PIMPINAN))
    october = payouts.run_compute(actor=keuangan, period=OCT)
    net = int(october.lines.aggregate(s=Sum("net_amount"))["s"])
    assert net > 0

    def chart():
        with time_machine.travel(datetime.datetime(2026, 12, 1, 9, tzinfo=JAKARTA), tick=False):
            page = client_for(keuangan).get("/")
        found = [c for p in page.context["panels"] for c in p.charts
                 if c.key == "chart-payouts-month"]
        return {d["label"]: d["data"][9] for d in found[0].datasets}  # October

    assert chart() == {"Dibayar (neto)": 0,
                       "Dalam proses: dihitung sampai disetujui (neto)": net,
                       "Pagu per bulan (1/12)": 0}
    payouts.run_verify(actor=checker, run=october)
    payouts.run_approve(actor=pimpinan, run=october)
    payouts.run_mark_paid(actor=keuangan, run=october, reference="SP2D 001/2026")
    assert chart() == {"Dibayar (neto)": net,
                       "Dalam proses: dihitung sampai disetujui (neto)": 0,
                       "Pagu per bulan (1/12)": 0}


def test_every_chart_of_the_beranda_has_its_data(province_operator):
    named("Warga Pandeglang")
    html = client_for(province_operator).get("/").content.decode()
    for key in ("chart-cases-status", "chart-cases-category", "chart-tksk-coverage"):
        assert f'data-chart="{key}"' in html and f'id="{key}"' in html


# --- workforce --------------------------------------------------------------------------------

def test_worker_list_shows_role_area_and_status(pandeglang_operator):
    worker = tksk(name="Asep Saepudin")
    page = client_for(pandeglang_operator).get(reverse("psks:worker-list"), {"role": "tksk"})
    html = page.content.decode()
    assert [w.pk for w in page.context["page"].object_list] == [worker.pk]
    assert "TKSK" in html and worker.assignments.get().area.nama in html and "Aktif" in html


def test_coverage_lists_kecamatan_without_tksk_and_downloads_xlsx(pandeglang_operator):
    worker = tksk()
    covered = worker.assignments.get().area_id
    client = client_for(pandeglang_operator)
    page = client.get(reverse("psks:coverage"), {"kurang": "tksk", "bulan": "2026-11"})
    codes = [k.kode for k in page.context["rows"]]
    assert covered not in codes and codes and all(c.startswith("36.01.") for c in codes)
    xlsx = client.get(reverse("psks:coverage"), {"kurang": "tksk", "bulan": "2026-11",
                                                 "fmt": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    typed = client.get(reverse("psks:coverage"), {"kurang": "tksk", "bulan": "11/2026"})
    assert [k.kode for k in typed.context["rows"]] == codes


def test_coverage_month_is_typed_day_first_text_and_a_bad_one_is_named(pandeglang_operator):
    """The month was an <input type=month> (named in the browser's language: "November 2026"
    in an English Chromium) and a bad one answered 404."""
    client = client_for(pandeglang_operator)
    page = client.get(reverse("psks:coverage"))
    html = page.content.decode()
    assert 'type="month"' not in html
    assert f'value="{timezone.localdate():%m/%Y}"' in html and 'placeholder="bb/tttt"' in html
    bad = client.get(reverse("psks:coverage"), {"bulan": "2026-99"})
    assert bad.status_code == 400
    assert "Bulan: bulan tidak dikenali" in bad.content.decode()
    assert bad.context["rows"] == []
    wrong_choice = client.get(reverse("psks:coverage"), {"kurang": "apa"})
    assert wrong_choice.status_code == 400 and "Tampilkan" in wrong_choice.content.decode()


# --- opening a page of personal data is a read in the audit trail ------------------------------


def test_person_search_page_writes_one_access_entry_naming_the_persons_shown(
        pandeglang_operator):
    """Personal-data audit (December 2026): P5 — the staff search /pmks/?q=… lists persons
    with their NIK whole (for an operator) but wrote no ACCESS entry (the API list and the
    admin changelist do). Now one entry per page naming the rows shown; the form before a
    search shows nobody and writes none."""
    found = [named("Siti Aminah"), named("Siti Rohmah")]
    client = client_for(pandeglang_operator)
    assert client.get("/pmks/").status_code == 200
    assert reads(Person) == []
    page = client.get("/pmks/", {"q": "Siti"})
    assert page.status_code == 200
    assert found[0].nik in page.content.decode()
    (entry,) = reads(Person)
    assert entry.actor == pandeglang_operator and entry.additional_data["read"] == "daftar"
    assert sorted(entry.additional_data["rows"]) == sorted(str(p.pk) for p in found), (
        "the search page showed NIKs without an ACCESS entry")


def test_worker_list_page_writes_an_access_entry(pandeglang_operator):
    """Personal-data audit (December 2026): P5 — the workforce page /psks/ lists workers
    with their NIK whole (for an operator) but wrote no ACCESS entry."""
    from psks.models import Worker

    worker = WorkerFactory()
    page = client_for(pandeglang_operator).get("/psks/")
    assert page.status_code == 200
    assert worker.nik in page.content.decode()
    assert [e.additional_data["rows"] for e in reads(Worker)] == [[str(worker.pk)]], (
        "the worker page showed NIKs without an ACCESS entry")


def test_duplicate_pair_page_writes_an_access_entry_for_each_person(pandeglang_operator):
    """Personal-data audit (December 2026): P5 — /pmks/duplikat/<id>/ shows both persons
    side by side (NIK whole for an operator, birth date, household) and wrote no ACCESS entry
    for either; now each person's history shows the read, as the person page does."""
    a, b = named("Siti Aminah"), named("Siti Aminah")
    pair = DuplicateCandidate.objects.create(person_a=a, person_b=b, score=90,
                                             reasons=["nama_sama"])
    page = client_for(pandeglang_operator).get(f"/pmks/duplikat/{pair.pk}/")
    assert page.status_code == 200
    assert a.nik in page.content.decode() and b.nik in page.content.decode()
    assert sorted(e.object_pk for e in reads(Person)) == sorted([str(a.pk), str(b.pk)]), (
        "a duplicate pair page showed two NIKs without an ACCESS entry")


def test_every_table_wrap_is_drawn_by_the_one_tag():
    """The accessibility audit: a ``<div class="table-wrap">`` written by hand scrolled sideways
    with no way in for the keyboard (no tabindex, no role, no name). The templates now draw
    every such wrapper with ``{% table_wrap label %}`` (dinsos_format), which adds them; a new
    hand-written wrapper fails here."""
    from pathlib import Path

    from django.conf import settings

    written = [str(path) for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
               if "table-wrap" in path.read_text(encoding="utf-8")]
    assert written == [], "use {% table_wrap label %} … {% endtable_wrap %}"
    from django.template import Context, Template
    html = Template('{% load dinsos_format %}{% table_wrap title %}<table></table>'
                    '{% endtable_wrap %}').render(Context({"title": "Tabel <uji>"}))
    assert html == ('<div class="table-wrap" tabindex="0" role="region" '
                    'aria-label="Tabel &lt;uji&gt;"><table></table></div>')
