"""What walking the pages as every demo account found still wrong after issue #12 was built,
each pinned by a test through the Django test client (the way a browser posts it)."""

import pytest
from django.urls import reverse

from dinsos import roles
from incentives import services as payouts
from tests.helpers import client_for
from tests.incentives.factories import OCT, tksk

pytestmark = pytest.mark.django_db


def waiting(user) -> list[tuple[str, int]]:
    return [(w.label, w.count) for w in client_for(user).get("/").context["waiting"]]


def test_maker_checker_keeps_a_run_out_of_its_makers_queue_and_buttons(make_user):
    """The Keuangan who computed a run may not verify it (the service refuses): Beranda did
    count it as waiting for that user, and the run page showed a Verifikasi button."""
    tksk()
    maker = make_user(roles.KEUANGAN)
    run = payouts.run_compute(actor=maker, period=OCT)
    detail = reverse("incentives:run-detail", args=[run.pk])
    verify = reverse("incentives:run-action", args=[run.pk, "verifikasi"])

    assert ("Perhitungan untuk diverifikasi", 1) not in waiting(maker)
    page = client_for(maker).get(detail)
    assert [name for name, _label in page.context["actions"]] == ["batalkan"]
    assert verify not in page.content.decode()

    checker = make_user(roles.KEUANGAN)
    assert ("Perhitungan untuk diverifikasi", 1) in waiting(checker)
    page = client_for(checker).get(detail)
    assert [name for name, _label in page.context["actions"]] == ["verifikasi", "batalkan"]

    payouts.run_verify(actor=checker, run=run)
    approver = make_user(roles.PIMPINAN)
    assert ("Perhitungan untuk disetujui", 1) in waiting(approver)
    page = client_for(approver).get(detail)
    assert [name for name, _label in page.context["actions"]] == ["setujui"]


def test_the_search_hint_tells_masked_roles_the_nik_must_be_whole(pandeglang_operator, auditor):
    """The hint promised a NIK prefix to every role, but roles that see NIKs masked may only
    search the whole number (a prefix finds nothing for them, by design)."""
    operator = client_for(pandeglang_operator).get(reverse("pmks:person-list")).content.decode()
    assert "NIK boleh awalannya saja" in operator
    masked = client_for(auditor).get(reverse("pmks:person-list")).content.decode()
    assert "NIK boleh awalannya saja" not in masked and "NIK harus lengkap 16 angka" in masked


def test_beranda_writes_counts_the_indonesian_way(province_operator, monkeypatch):
    """Beranda showed "6119 Orang terdaftar" and "6250" in its chart tables."""
    from dinsos import dashboard

    panel = dashboard.Panel("Uji", figures=[dashboard.Figure("Orang terdaftar", 6119),
                                            dashboard.Figure("Kecamatan", "150 / 155")],
                            charts=[dashboard.Chart("chart-uji", "Uji", "bar", ["Pandeglang"],
                                                    [{"label": "Kuota", "data": [6250]}])])
    monkeypatch.setattr(dashboard, "collect", lambda user: [panel])
    html = client_for(province_operator).get("/").content.decode()
    assert "6.119" in html and "6119" not in html
    assert "150 / 155" in html
    assert '<td class="num">6.250</td>' in html


def test_import_page_label_counts_and_progress_before_the_first_chunk(province_operator,
                                                                      settings, tmp_path):
    """The upload form said "jenis data:" in lower case; the result showed "6002" and
    "6000 baris diterima"; on SQLite (make run) the running batch said "0 dari 6.002 baris"
    until it ended, as its count is written in the import's own transaction."""
    from django.core.files.base import ContentFile

    from dinsos.importing import ImportReport
    from dinsos.models import ImportBatch

    settings.MEDIA_ROOT = tmp_path
    client = client_for(province_operator)
    assert "Jenis data" in client.get(reverse("imports")).content.decode()
    batch = ImportBatch.objects.create(
        kind="pmks_keluarga", file=ContentFile(b"x", name="k.csv"), filename="k.csv",
        area_id="36", created_by=province_operator, status=ImportBatch.Status.RUNNING,
        rows_total=6002, rows_done=0)
    running = client.get(reverse("import-detail", args=[batch.pk])).content.decode()
    assert "0 dari" not in running and "6.002 baris" in running

    report = ImportReport(rows=6002)
    report.rejected = 2
    batch.status, batch.totals = ImportBatch.Status.IMPORTED, report.totals()
    batch.message, batch.rows_done = report.message(), 6002
    batch.save()
    done = client.get(reverse("import-detail", args=[batch.pk])).content.decode()
    assert "6.000 baris diterima, 2 ditolak." in done
    assert '<span class="value">6.002</span>' in done and "6002" not in done


def test_duplicate_pair_shows_the_no_kk_as_the_person_page_does_and_the_merge_stays_in_riwayat(
        pandeglang_operator, auditor):
    """The comparison showed the No. KK masked to an operator who sees it whole on the person
    page; after the merge the kept person's "Riwayat" said nothing about it."""
    from dinsos.validators import mask_no_kk
    from pmks import calculations
    from pmks.models import DuplicateCandidate
    from tests.factories import HouseholdFactory, PersonFactory
    from tests.helpers import version_in

    household = HouseholdFactory()
    kept = PersonFactory(name="Muhammad Rizky", name_key=calculations.name_key("Muhammad Rizky"),
                         household=household, relationship="anak")
    other = PersonFactory(name="Moch. Rizki", name_key=calculations.name_key("Moch. Rizki"))
    pair = DuplicateCandidate.objects.create(person_a=kept, person_b=other, score=95, reasons=[])
    url = reverse("pmks:duplicate-detail", args=[pair.pk])
    client = client_for(pandeglang_operator)
    page = client.get(url).content.decode()
    assert f"KK {household.no_kk}" in page
    assert f"KK {mask_no_kk(household.no_kk)}" in client_for(auditor).get(url).content.decode()

    client.post(url, {"decision": "a", "reason": "NIK B salah ketik",
                      "if_match": version_in(page)})
    riwayat = client.get(reverse("pmks:person-detail", args=[kept.pk])).content.decode()
    assert 'data ganda "Moch. Rizki" digabungkan ke orang ini' in riwayat
    assert "NIK B salah ketik" in riwayat


def test_error_pages_are_indonesian_with_the_menu(make_user, rf):
    """A page a role may not open answered Django's bare English "403 Forbidden" (no menu);
    404 and 500 were Django's English pages too."""
    from django.views.defaults import server_error

    client = client_for(make_user(roles.KEUANGAN))
    forbidden = client.get(reverse("pmks:person-create"))
    assert forbidden.status_code == 403
    html = forbidden.content.decode()
    assert "Akses ditolak" in html and "Forbidden" not in html and 'lang="id"' in html
    assert 'href="/pmks/"' in html  # the menu is there
    missing = client.get(reverse("pmks:person-detail", args=[987654]))
    assert missing.status_code == 404 and "Halaman tidak ditemukan" in missing.content.decode()
    broken = server_error(rf.get("/"))
    assert broken.status_code == 500 and "Terjadi kesalahan di server" in broken.content.decode()
    refused = client.get(reverse("admin:pmks_person_changelist"), {"nik__startswith": "3601"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "Permintaan tidak dapat diproses" in html
    assert "Bad Request" not in html and 'href="/pmks/"' in html


def test_a_missing_page_is_the_indonesian_page_under_debug_too(make_user, settings):
    """``make run`` runs with DEBUG on: a mistyped or out-of-reach address gave Django's English
    technical page listing every URL of the system (found by a browser walk)."""
    settings.DEBUG = True
    client = client_for(make_user(roles.OPERATOR_KAB_KOTA, "36.01"))
    for url in ("/tidak-ada/", reverse("pmks:person-detail", args=[987654])):
        missing = client.get(url)
        html = missing.content.decode()
        assert missing.status_code == 404 and "Halaman tidak ditemukan" in html, url
        assert "URLconf" not in html and 'lang="id"' in html
    api = client.get("/api/v1/pmks/persons/987654/")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    refused = client_for(make_user(roles.AUDITOR)).get(reverse("admin:pmks_person_changelist"),
                                                       {"nik__startswith": "3601"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "Permintaan tidak dapat diproses" in html
    assert "DisallowedModelAdminLookup" not in html


def test_a_refused_form_keeps_its_page_and_input_under_debug(make_user, settings):
    """The Indonesian 400 page under DEBUG replaced every 400 HTML answer, also a form refused
    with its errors: in ``make run`` an officer's typed registration was gone behind "Permintaan
    tidak dapat diproses" (found in the browser). Only Django's own answers are replaced."""
    settings.DEBUG = True
    client = client_for(make_user(roles.OPERATOR_KAB_KOTA, "36.01"))
    refused = client.post(reverse("pmks:person-create"),
                          {"name": "Siti Aminah", "birth_date": "31/02/1980"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "Permintaan tidak dapat diproses" not in html
    assert 'value="Siti Aminah"' in html and 'class="error-summary"' in html
