"""Issue #12 point 5: the Jamsosratu staff pages — cycles with quota use per kab/kota and
tranches, the enrolment workflow, the verification visit on a phone, tranche work as jobs the
page follows (payment list, bank result per line), the bank file with its control totals and
coverage — per role and area; bad input is an Indonesian error on its field, never a 500."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dinsos import roles
from dinsos.validators import mask_nik
from jamsosratu import banking, services
from jamsosratu.models import Enrolment, Payment, TrancheJob, Verification
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, WorkerFactory, cycle_with_tranches
from tests.helpers import client_for
from tests.jamsosratu.factories import (
    ADULT,
    KEC_MALINGPING,
    TODDLER,
    enrol,
    household,
    tksk_of,
    worker_with_role,
)

pytestmark = pytest.mark.django_db



def html(response) -> str:
    return response.content.decode()


def version(enrolment) -> dict:
    """The version a write form carries (dinsos.pages.IfMatchPage)."""
    from dinsos.versions import combined_version

    return {"if_match": combined_version([Enrolment.objects.get(pk=enrolment.pk)])}


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"), quota=2)


def named_household(desa, name, members=(ADULT, TODDLER)):
    return household(desa, [{"birth_date": members[0], "name": name, "sex": "P"},
                            *members[1:]])


# --- cycle page -------------------------------------------------------------------------------

def test_cycle_page_shows_quota_use_per_kab_kota_and_tranches(cycle, province_operator):
    enrol(province_operator, household(DESA_PANDEGLANG), cycle, "ditetapkan")
    enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    enrol(province_operator, household(DESA_LEBAK), cycle, "calon")
    response = client_for(province_operator).get(
        reverse("jamsosratu:cycle-detail", args=[2026]))
    assert response.status_code == 200
    page = html(response)
    assert "<title>Jamsosratu 2026 · Jamsosratu · Dinas Sosial Provinsi Banten</title>" in page
    quotas = {q["kode"]: (q["quota"], q["used"], q["full"], q["proposed"])
              for q in response.context["quotas"]}
    assert quotas["36.01"] == (2, 2, True, 2)  # ditetapkan + aktif count against the quota
    assert quotas["36.02"] == (2, 0, False, 1)
    assert len(quotas) == 8
    assert "penuh" in page and "Kabupaten Lebak" in page
    assert "Tahap 1 · Rp875.000 per RTS · rencana Mei 2026" in page
    assert "Tahap 2 · Rp875.000 per RTS · rencana Oktober 2026" in page


def test_a_kab_kota_operator_sees_only_its_own_quota(cycle, province_operator,
                                                     pandeglang_operator):
    enrol(province_operator, household(DESA_LEBAK), cycle, "ditetapkan")
    response = client_for(pandeglang_operator).get(
        reverse("jamsosratu:cycle-detail", args=[2026]))
    assert [q["kode"] for q in response.context["quotas"]] == ["36.01"]
    page = html(response)
    assert "Kabupaten Lebak" not in page
    assert "Buat daftar penyaluran" not in page and "Berkas bank" not in page


@pytest.mark.parametrize("role", roles.ROLE_NAMES)
def test_every_role_opens_the_jamsosratu_pages_and_the_menu_leads_there(cycle, make_user, role):
    client = client_for(make_user(role, "36.01" if role in roles.DISTRICT_ROLES else "36"))
    home = html(client.get("/"))
    assert f'href="{reverse("jamsosratu:cycle-list")}"' in home
    assert "Kepesertaan Jamsosratu" in home  # Beranda: enrolment and realisation per kab/kota
    for name in ("cycle-detail", "enrolment-list", "coverage"):
        assert client.get(reverse(f"jamsosratu:{name}", args=[2026])).status_code == 200
    listing = html(client.get(reverse("jamsosratu:cycle-list")))
    assert "<title>Jamsosratu · Dinas Sosial Provinsi Banten</title>" in listing
    page = html(client.get(reverse("jamsosratu:cycle-detail", args=[2026])))
    may_work = role in (roles.ADMIN, roles.OPERATOR_PROVINSI)
    assert ("Buat daftar penyaluran" in page) is may_work


def test_unknown_cycle_or_level_is_not_found_never_an_error(cycle, province_operator):
    client = client_for(province_operator)
    assert client.get(reverse("jamsosratu:cycle-detail", args=[1999])).status_code == 404
    assert client.get(reverse("jamsosratu:coverage", args=[2026]),
                      {"tingkat": "desa"}).status_code == 404
    assert client.get(reverse("jamsosratu:enrolment-list", args=[2026]),
                      {"page": "x", "status": "bukan", "wilayah": "36.99"}).status_code == 200


# --- enrolment workflow -----------------------------------------------------------------------

def test_enrolment_list_searches_by_name_and_status_within_the_area(cycle, province_operator,
                                                                    pandeglang_operator):
    siti = enrol(province_operator, named_household(DESA_PANDEGLANG, "Siti Aminah"), cycle)
    enrol(province_operator, named_household(DESA_PANDEGLANG, "Rohmah"), cycle, "aktif")
    enrol(province_operator, named_household(DESA_LEBAK, "Siti Lebak"), cycle)
    url = reverse("jamsosratu:enrolment-list", args=[2026])
    client = client_for(pandeglang_operator)
    found = client.get(url, {"q": "siti"}).context["page"].object_list
    assert [e.pk for e in found] == [siti.pk]
    assert [e.status for e in client.get(url, {"status": "aktif"}).context["page"]] == ["aktif"]
    no_kk = siti.household.no_kk
    assert [e.pk for e in client.get(url, {"q": no_kk}).context["page"]] == [siti.pk]
    assert "Siti Lebak" not in html(client.get(url))


def test_auditor_cannot_search_by_no_kk_and_sees_it_masked(cycle, province_operator, auditor):
    siti = enrol(province_operator, named_household(DESA_PANDEGLANG, "Siti Aminah"), cycle)
    client = client_for(auditor)
    url = reverse("jamsosratu:enrolment-list", args=[2026])
    assert list(client.get(url, {"q": siti.household.no_kk}).context["page"]) == []
    page = html(client.get(reverse("jamsosratu:enrolment-detail", args=[siti.pk])))
    assert siti.household.no_kk not in page and siti.household.no_kk[:6] in page
    assert "Ubah ke:" not in page and "Catat verifikasi" not in page


def test_opening_an_enrolment_writes_an_access_entry(cycle, province_operator,
                                                    pandeglang_operator):
    """Personal-data audit (December 2026): P5, found with it — the enrolment page shows the
    household's No. KK and account number whole to an operator but wrote no ACCESS entry
    (only the person page logged among staff pages); now it is logged in the enrolment's
    history (``dinsos.pages.ReadLoggedPage``)."""
    from tests.helpers import reads

    siti = enrol(province_operator, named_household(DESA_PANDEGLANG, "Siti Aminah"), cycle)
    page = client_for(pandeglang_operator).get(
        reverse("jamsosratu:enrolment-detail", args=[siti.pk]))
    assert siti.household.no_kk in html(page)
    assert [(e.object_pk, e.actor) for e in reads(Enrolment)] == [
        (str(siti.pk), pandeglang_operator)]


def test_every_allowed_transition_is_a_button_and_exit_needs_a_reason(cycle, province_operator,
                                                                     pandeglang_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    client = client_for(pandeglang_operator)
    page = html(client.get(reverse("jamsosratu:enrolment-detail", args=[enrolment.pk])))
    assert "Ubah ke: Terverifikasi" in page and "Ubah ke: Dikeluarkan" in page
    assert "Ubah ke: Aktif" not in page
    url = reverse("jamsosratu:enrolment-transition", args=[enrolment.pk, "dikeluarkan"])
    refused = client.post(url, {f"e{enrolment.pk}-dikeluarkan-reason": ""})
    assert refused.status_code == 400
    bound = next(f for f in refused.context["forms"] if f.target == "dikeluarkan")
    assert bound.errors == {"reason": ["Alasan dikeluarkan wajib diisi."]}
    done = client.post(url, {f"e{enrolment.pk}-dikeluarkan-reason": "Pindah ke luar Banten",
                             **version(enrolment)})
    assert done.status_code == 302
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.exit_reason) == ("dikeluarkan", "Pindah ke luar Banten")
    assert enrolment.transitions.last().actor == pandeglang_operator


def test_the_services_refusal_stands_by_the_form(cycle, province_operator, pandeglang_operator):
    unverified = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    client = client_for(pandeglang_operator)
    url = reverse("jamsosratu:enrolment-transition", args=[unverified.pk, "terverifikasi"])
    refused = client.post(url, version(unverified))
    assert refused.status_code == 400
    bound = next(f for f in refused.context["forms"] if f.target == "terverifikasi")
    assert bound.non_field_errors() == [
        "Belum ada verifikasi by name by address dengan hasil sesuai."]
    verified = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "terverifikasi")
    url = reverse("jamsosratu:enrolment-transition", args=[verified.pk, "ditetapkan"])
    refused = client.post(url, {f"e{verified.pk}-ditetapkan-decree_number": " ",
                                **version(verified)})
    bound = next(f for f in refused.context["forms"] if f.target == "ditetapkan")
    assert bound.errors == {"decree_number": ["Nomor SK penetapan wajib diisi."]}
    assert client.post(url, {f"e{verified.pk}-ditetapkan-decree_number": "SK 460/2026",
                             **version(verified)}).status_code == 302
    assert Enrolment.objects.get(pk=verified.pk).decree_number == "SK 460/2026"


def test_another_districts_enrolment_is_not_found_and_cannot_be_moved(cycle, province_operator,
                                                                      lebak_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    client = client_for(lebak_operator)
    assert client.get(reverse("jamsosratu:enrolment-detail",
                              args=[enrolment.pk])).status_code == 404
    assert client.post(reverse("jamsosratu:enrolment-transition",
                               args=[enrolment.pk, "dikeluarkan"]),
                       {f"e{enrolment.pk}-dikeluarkan-reason": "x"}).status_code == 404
    assert client.post(reverse("jamsosratu:verification-create", args=[enrolment.pk]),
                       {}).status_code == 404
    assert Enrolment.objects.get(pk=enrolment.pk).status == "calon"


def test_an_unknown_target_status_is_not_found(cycle, province_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    assert client_for(province_operator).post(reverse(
        "jamsosratu:enrolment-transition", args=[enrolment.pk, "hilang"])).status_code == 404


# --- verification on a phone ------------------------------------------------------------------

def test_verification_offers_the_kecamatans_workers_and_records_findings(
        cycle, province_operator, pandeglang_operator):
    hh = household(DESA_PANDEGLANG, [{"birth_date": ADULT, "sex": "P"}, TODDLER])
    enrolment = enrol(province_operator, hh, cycle)
    tksk = tksk_of(DESA_PANDEGLANG[:8])
    elsewhere = worker_with_role(KEC_MALINGPING, "tksk", desa=DESA_LEBAK)
    client = client_for(pandeglang_operator)
    url = reverse("jamsosratu:verification-create", args=[enrolment.pk])
    form = client.get(url).context["form"]
    assert list(form.fields["verifier"].queryset) == [tksk]
    mother, toddler = hh.people
    response = client.post(url, {
        "verifier": tksk.pk, "visit_date": "2026-11-20", "result": "sesuai",
        "notes": "Rumah sesuai", f"temuan_{toddler.pk}": "pindah", f"hamil_{mother.pk}": "on",
        **version(enrolment)})
    assert response.status_code == 302, response.context["form"].errors
    visit = Verification.objects.get(enrolment=enrolment)
    assert (visit.verifier, visit.recorded_by, visit.result) == (tksk, pandeglang_operator,
                                                                 "sesuai")
    assert [(f.person, f.finding) for f in visit.findings.all()] == [(toddler, "pindah")]
    assert enrolment.members.filter(person=mother, condition="hamil_nifas").exists()
    # a worker of another kecamatan is refused on the field
    refused = client.post(url, {"verifier": elsewhere.pk, "visit_date": "2026-11-20",
                                "result": "sesuai"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["verifier"] == [
        "Verifikator ini tidak bertugas di kecamatan rumah tangga ini pada tanggal kunjungan."]


def test_namesakes_among_the_verifiers_are_told_apart(cycle, province_operator,
                                                     pandeglang_operator):
    """Found in a browser walk: two workers named "Agus Hermawan" (the kecamatan's TKSK and a
    desa's pendamping) were offered as two identical "Agus Hermawan"."""
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    tksk = worker_with_role(DESA_PANDEGLANG[:8], "tksk",
                            worker=WorkerFactory(name="Agus Hermawan", desa_id=DESA_PANDEGLANG))
    pendamping = worker_with_role(DESA_PANDEGLANG, "pendamping_jamsosratu",
                                  worker=WorkerFactory(name="Agus Hermawan",
                                                       desa_id=DESA_PANDEGLANG))
    page = client_for(pandeglang_operator).get(
        reverse("jamsosratu:verification-create", args=[enrolment.pk]))
    choices = dict(list(page.context["form"].fields["verifier"].choices)[1:])
    assert choices == {
        tksk.pk: f"Agus Hermawan — Tenaga Kesejahteraan Sosial Kecamatan (TKSK) Kecamatan "
                 f"Sumur · NIK {mask_nik(tksk.nik)}",
        pendamping.pk: f"Agus Hermawan — Pendamping Jamsosratu Desa Sumberjaya · NIK "
                       f"{mask_nik(pendamping.nik)}"}
    assert all(label in html(page) for label in choices.values())


def test_verification_errors_stand_next_to_their_fields(cycle, province_operator,
                                                        pandeglang_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    tksk = tksk_of(DESA_PANDEGLANG[:8])
    client = client_for(pandeglang_operator)
    url = reverse("jamsosratu:verification-create", args=[enrolment.pk])
    empty = client.post(url, {})
    assert empty.status_code == 400
    assert empty.context["form"].errors == {
        "verifier": ["Pilih verifikator."], "visit_date": ["Isi tanggal kunjungan."],
        "result": ["Pilih hasil verifikasi."]}
    # the phone form's summary names each field and links to an input that is on the page
    page = html(empty)
    links = re.findall(r'<li><a href="#(\w+)">([^<]+)</a>: ', page.split('error-summary')[1])
    assert [label for _id, label in links] == ["Verifikator (TKSK/pendamping)",
                                                "Tanggal kunjungan", "Hasil"]
    assert all(f'id="{anchor}"' in page for anchor, _label in links)
    bad_date = client.post(url, {"verifier": tksk.pk, "visit_date": "31-31-2026",
                                 "result": "sesuai"})
    assert bad_date.context["form"].errors == {
        "visit_date": ["Tanggal kunjungan: tanggal tidak dikenali. Tulis hari/bulan/tahun, "
                       "misalnya 17/08/2026."]}
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)  # Banten's tomorrow
    future = client.post(url, {"verifier": tksk.pk, "visit_date": tomorrow.isoformat(),
                               "result": "sesuai", **version(enrolment)})
    assert future.status_code == 400
    assert future.context["form"].errors == {"visit_date": [
        f"Tanggal kunjungan {tomorrow:%d-%m-%Y} ada di masa depan; hari ini "
        f"{timezone.localdate():%d-%m-%Y}."]}
    page = html(future)
    assert 'aria-invalid="true"' in page and "Tanggal kunjungan" in page
    assert not Verification.objects.exists()


def test_the_verification_page_is_for_roles_that_record_it(cycle, province_operator, make_user):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    url = reverse("jamsosratu:verification-create", args=[enrolment.pk])
    assert client_for(make_user(roles.KEUANGAN)).get(url).status_code == 403
    assert client_for(make_user(roles.AUDITOR)).get(url).status_code == 403
    assert client_for(province_operator).get(url).status_code == 200


# --- tranche work: payment list as a job ------------------------------------------------------

@pytest.fixture
def actives(cycle, province_operator):
    return [enrol(province_operator, household(desa), cycle, "aktif")
            for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG, DESA_LEBAK)]


def test_payment_list_is_made_by_a_job_the_page_follows(cycle, actives, province_operator,
                                                        django_capture_on_commit_callbacks):
    client = client_for(province_operator)
    url = reverse("jamsosratu:tranche-generate", args=[2026, 1])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url)
    job = TrancheJob.objects.get()
    assert response["Location"] == reverse("jamsosratu:job-detail", args=[job.pk])
    assert len(queued) == 1 and Payment.objects.count() == 0  # nothing done in the request
    waiting = html(client.get(response["Location"], HTTP_HX_REQUEST="true"))
    assert 'hx-trigger="every 1s"' in waiting and "Dalam antrean" in waiting
    again = client.post(url, follow=True)
    assert "Tahap ini sedang diproses; tunggu sampai proses itu selesai." in html(again)
    assert TrancheJob.objects.count() == 1

    queued[0]()  # the worker
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.totals) == ("selesai", 3, 3, {"created": 3})
    done = html(client.get(response["Location"], HTTP_HX_REQUEST="true"))
    assert "hx-trigger" not in done and "3 penyaluran dibuat." in done
    assert Payment.objects.filter(tranche__number=1).count() == 3


def test_payments_are_made_in_chunks_with_progress(cycle, actives, province_operator):
    enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    enrol(province_operator, household("36.03.01.1001"), cycle, "aktif")
    seen = []
    created = services.payments_generate(tranche=cycle.tranches.get(number=1),
                                         progress=lambda done, total: seen.append((done, total)),
                                         chunk_size=2)
    assert created == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert services.payments_generate(tranche=cycle.tranches.get(number=1)) == 0


def test_tranche_work_is_for_province_staff_who_manage_payments(cycle, actives, make_user,
                                                               pandeglang_operator):
    for name in ("tranche-generate", "bank-result", "bank-file"):
        url = reverse(f"jamsosratu:{name}", args=[2026, 1])
        assert client_for(pandeglang_operator).post(url).status_code == 404, name
        assert client_for(make_user(roles.KEUANGAN)).get(url).status_code == 403, name
        assert client_for(make_user(roles.AUDITOR)).get(url).status_code == 403, name
    assert not TrancheJob.objects.exists()


# --- bank file and bank result ----------------------------------------------------------------

@pytest.fixture
def scheduled(cycle, actives):
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    return list(Payment.objects.order_by("pk"))


def test_bank_file_with_its_control_totals_on_the_page(cycle, scheduled, province_operator):
    client = client_for(province_operator)
    page = html(client.get(reverse("jamsosratu:cycle-detail", args=[2026])))
    assert "3 baris</strong>, total <strong>Rp2.625.000</strong>" in page
    response = client.get(reverse("jamsosratu:bank-file", args=[2026, 1]))
    assert re.fullmatch(r'attachment; filename="jamsosratu-2026-tahap-1-kiriman-\d{8}-\d{6}\.csv"',
                        response["Content-Disposition"])
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 5 and lines[-1].startswith("TOTAL,3,,2625000")
    # handed out: the next file carries nothing, the kiriman is listed with its copy
    page = html(client.get(reverse("jamsosratu:cycle-detail", args=[2026])))
    assert "0 baris</strong>, total <strong>Rp0</strong>" in page
    copy_link = re.search(r'href="([^"]*\?salinan=[^"]*)"', page)[1]
    copy = client.get(copy_link)
    copied = b"".join(copy.streaming_content).decode().splitlines()
    assert copied[1:-1] == lines[1:-1]
    assert copied[-1].startswith('TOTAL,3,,2625000,"SALINAN kiriman')
    assert copy["Content-Disposition"].endswith('-salinan.csv"')
    bad = client.get(reverse("jamsosratu:bank-file", args=[2026, 1]), {"salinan": "kemarin"})
    assert bad.status_code == 302  # back to the cycle page with the Indonesian message


def result_file(rows) -> bytes:
    header = "id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan"
    return "\n".join([header, *(",".join(str(c) for c in row) for row in rows)]).encode()


def upload(client, content, name="hasil.csv"):
    return client.post(reverse("jamsosratu:bank-result", args=[2026, 1]),
                       {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


def test_bank_result_upload_shows_every_line_and_is_idempotent(
        cycle, scheduled, province_operator, settings, tmp_path,
        django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    ok, failed, wrong = scheduled
    banking.transfer_file(cycle.tranches.get(number=1))  # handed to the bank
    content = result_file([
        [ok.pk, ok.account_number, "875000", "berhasil", "BB-1", "2026-06-15", ""],
        [failed.pk, failed.account_number, "875.000", "gagal", "", "", "Rekening tutup"],
        [wrong.pk, wrong.account_number, "870000", "berhasil", "BB-3", "2026-06-15", ""],
    ])
    client = client_for(province_operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, content)
    assert response.status_code == 302
    job = TrancheJob.objects.get()
    page = client.get(response["Location"])
    assert [(line["row"], line["outcome"]) for line in page.context["page"]] == [
        (2, "disalurkan"), (3, "gagal"), (4, "ditolak")]
    text = html(page)
    assert page.context["page"][2]["detail"] == (
        "jumlah Rp870.000 tidak sama dengan yang dikirim (Rp875.000)")
    assert "Sudah tercatat" not in text and job.totals["rejected"] == 1
    rejected_only = client.get(response["Location"], {"tampil": "ditolak"})
    assert [line["row"] for line in rejected_only.context["page"]] == [4]
    assert Payment.objects.get(pk=ok.pk).status == "disalurkan"

    with django_capture_on_commit_callbacks(execute=True):
        again = upload(client, content)
    second = client.get(again["Location"])
    assert [line["outcome"] for line in second.context["page"]] == [
        "sudah_tercatat", "sudah_tercatat", "ditolak"]
    assert Payment.objects.get(pk=ok.pk).reference == "BB-1"


def test_a_bad_bank_file_is_an_error_on_the_file_field(cycle, scheduled, province_operator,
                                                      settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(province_operator)
    missing = client.post(reverse("jamsosratu:bank-result", args=[2026, 1]), {})
    assert missing.status_code == 400
    assert missing.context["form"].errors == {"file": ["Pilih berkas hasil bank."]}
    wrong_kind = upload(client, b"apa saja", name="hasil.txt")
    assert wrong_kind.status_code == 400
    assert list(wrong_kind.context["form"].errors) == ["file"]
    assert not TrancheJob.objects.exists()


def test_a_file_without_the_columns_is_refused_at_upload(
        cycle, scheduled, province_operator, settings, tmp_path,
        django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(province_operator)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = upload(client, b"id_penyaluran,rekening\n1,2\n")
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "file": ["Kolom wajib tidak ada: jumlah, status, referensi."]}
    assert not TrancheJob.objects.exists() and not queued


def test_job_pages_are_province_only(cycle, scheduled, province_operator, pandeglang_operator):
    job = TrancheJob.objects.create(tranche=cycle.tranches.get(number=1), kind="penyaluran",
                                    requested_by=province_operator)
    url = reverse("jamsosratu:job-detail", args=[job.pk])
    assert client_for(pandeglang_operator).get(url).status_code == 404
    assert client_for(province_operator).get(url).status_code == 200


# --- coverage ---------------------------------------------------------------------------------

def test_coverage_per_kab_kota_and_kecamatan_with_the_xlsx(cycle, scheduled, province_operator,
                                                           pandeglang_operator):
    client = client_for(province_operator)
    page = client.get(reverse("jamsosratu:coverage", args=[2026]))
    assert [r["kode"] for r in page.context["rows"]] == [
        "36.01", "36.02", "36.03", "36.04", "36.71", "36.72", "36.73", "36.74"]
    assert "kumulatif" in html(page)
    assert "/api/v1/jamsosratu/coverage/?cycle=2026&amp;level=kab_kota&amp;fmt=xlsx" in html(page)
    xlsx = client.get("/api/v1/jamsosratu/coverage/",
                      {"cycle": 2026, "level": "kab_kota", "fmt": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    own = client_for(pandeglang_operator).get(reverse("jamsosratu:coverage", args=[2026]),
                                              {"tingkat": "kecamatan"})
    assert [r["kode"] for r in own.context["rows"]] == ["36.01.01"]


# --- Beranda ----------------------------------------------------------------------------------

def test_beranda_shows_enrolment_and_realisation_per_kab_kota_of_the_users_area(
        cycle, scheduled, province_operator, pandeglang_operator):
    def jamsosratu_panel(user):
        response = client_for(user).get("/")
        return next(p for p in response.context["panels"] if p.title == "Jamsosratu 2026")

    province = jamsosratu_panel(province_operator)
    charts = {c.title: c for c in province.charts}
    enrolment = charts["Kepesertaan Jamsosratu 2026 per kab/kota"]
    # every kab/kota with a quota, also one without enrolments yet (three were left out)
    assert enrolment.labels[:3] == ["Kabupaten Pandeglang", "Kabupaten Lebak",
                                    "Kabupaten Tangerang"]
    assert len(enrolment.labels) == 8
    assert enrolment.datasets[0]["data"] == [2, 1, 0, 0, 0, 0, 0, 0]  # active households
    assert "Realisasi penyaluran 2026 per kab/kota" in charts
    own = jamsosratu_panel(pandeglang_operator)
    assert [c.labels for c in own.charts] == [["Kabupaten Pandeglang"]] * 2
    calon = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    waiting = jamsosratu_panel(pandeglang_operator).waiting
    assert [(w.label, w.count) for w in waiting] == [
        ("Calon peserta Jamsosratu menunggu verifikasi", 1)]
    assert waiting[0].url == reverse("jamsosratu:enrolment-list", args=[2026]) + "?status=calon"
    assert calon.status == "calon"


def test_a_visits_findings_are_carried_into_the_registry(cycle, province_operator,
                                                         pandeglang_operator, auditor):
    hh = household(DESA_PANDEGLANG, [ADULT, TODDLER])
    enrolment = enrol(province_operator, hh, cycle)
    _head, toddler = hh.people
    visit = services.verification_record(
        actor=province_operator, enrolment=enrolment, verifier=tksk_of(DESA_PANDEGLANG[:8]),
        visit_date=datetime.date(2026, 11, 20), result="sesuai",
        findings=[{"person": toddler.pk, "finding": "meninggal"}])
    url = reverse("jamsosratu:verification-apply", args=[visit.pk])
    page = html(client_for(pandeglang_operator).get(
        reverse("jamsosratu:enrolment-detail", args=[enrolment.pk])))
    assert "Terapkan temuan ke registri" in page
    assert client_for(auditor).post(url).status_code == 403
    response = client_for(pandeglang_operator).post(url, follow=True)
    assert "1 temuan diterapkan ke registri." in html(response)
    toddler.refresh_from_db()
    assert (toddler.life_status, toddler.life_status_date) == ("meninggal",
                                                               datetime.date(2026, 11, 20))
