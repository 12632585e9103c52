"""The Jamsosratu REST API: cycles, enrolments with transitions (Idempotency-Key), verifications
with findings, commitments, payment lists and their filters, the tranche generation (province
only, on commit), coverage per kab/kota and kecamatan as JSON and XLSX, and constant query
counts for the lists."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dinsos import roles
from jamsosratu.models import (
    Commitment,
    Enrolment,
    EnrolmentTransition,
    Payment,
    TrancheJob,
    Verification,
    VerificationFinding,
)
from pmks.models import Person
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    DESA_PANDEGLANG_2,
    EnrolmentFactory,
    HouseholdFactory,
    PaymentFactory,
    VerificationFactory,
    cycle_with_tranches,
)
from tests.helpers import ids, photo_upload, results
from tests.jamsosratu.factories import (
    ADULT,
    DESA_CIMANGGU,
    DESA_LEBAK_2,
    KEC_CIMANGGU,
    KEC_MALINGPING,
    KEC_SUMUR,
    TODDLER,
    VISIT,
    CommitmentFactory,
    enrol,
    household,
    pendamping_in,
    tksk_of,
)

pytestmark = pytest.mark.django_db

D = datetime.date
API = "/api/v1/jamsosratu"
SK = "SK Gubernur Banten 460/Kep.12-Huk/2026"


@pytest.fixture
def cycle(db):
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=100)
    cycle.budget_ceiling = Decimal(10_000_000)
    cycle.save()
    return cycle


def money(value) -> Decimal:
    """A rupiah amount from JSON, whether a string ("875000.00") or a number."""
    return Decimal(str(value))


# --- cycles -----------------------------------------------------------------------------------

def test_cycles_list_and_detail_by_year(cycle, auditor, api_as):
    cycle_with_tranches(2019, "1750000", ("1", "1"), quota=6250)
    client = api_as(auditor)
    assert [c["year"] for c in results(client.get(f"{API}/cycles/"))] == [2026, 2019]
    body = client.get(f"{API}/cycles/2026/").json()
    assert (body["year"], money(body["benefit_amount"]), money(body["budget_ceiling"]),
            body["max_caseload"], body["qualifying_conditions"]) == (
        2026, Decimal(1750000), Decimal(10_000_000), 200,
        ["hamil_nifas", "balita", "anak_sekolah", "lansia"])
    assert [(t["number"], Decimal(t["share"]), t["planned_month"]) for t in body["tranches"]] == [
        (1, Decimal(1), 5), (2, Decimal(1), 10)]
    assert {q["kab_kota"]: q["quota"] for q in body["quotas"]} == dict.fromkeys(
        ("36.01", "36.02", "36.03", "36.04", "36.71", "36.72", "36.73", "36.74"), 100)
    assert [(Decimal(r["min_unmet_ratio"]), r["outcome"], Decimal(r["reduction_share"]))
            for r in body["condition_rules"]] == [
        (Decimal(0), "penuh", Decimal(0)), (Decimal("0.0001"), "dikurangi", Decimal("0.25")),
        (Decimal(1), "ditangguhkan", Decimal(1))]
    assert client.get(f"{API}/cycles/2030/").status_code == 404


def test_cycles_are_read_only(cycle, province_operator, api_as):
    client = api_as(province_operator)
    assert client.post(f"{API}/cycles/", {"year": 2030}, format="json").status_code == 405
    assert client.delete(f"{API}/cycles/2026/").status_code == 405


# --- enrolments -------------------------------------------------------------------------------

def test_enrolment_create_and_detail(cycle, pandeglang_operator, api_as):
    hh = household(DESA_PANDEGLANG_2, [ADULT, TODDLER], decile=1)
    client = api_as(pandeglang_operator)
    response = client.post(f"{API}/enrolments/", {
        "household": hh.pk, "cycle": 2026, "source": "Musdes", "channel": "bank_banten",
        "account_number": "009812345678", "status": "aktif", "desa": DESA_LEBAK},
        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("household", "cycle", "desa", "status", "source", "decile",
                                 "channel", "account_number")} == {
        "household": hh.pk, "cycle": 2026, "desa": DESA_PANDEGLANG_2, "status": "calon",
        "source": "Musdes", "decile": 1, "channel": "bank_banten",
        "account_number": "009812345678"}
    detail = client.get(f"{API}/enrolments/{body['id']}/").json()
    assert [(m["person"], m["condition"]) for m in detail["members"]] == [
        (hh.people[1].pk, "balita")]
    assert [(t["from_status"], t["to_status"], t["actor"]) for t in detail["transitions"]] == [
        ("", "calon", pandeglang_operator.username)]


def test_enrolment_list_filters(cycle, pandeglang_operator, api_as):
    other_year = cycle_with_tranches(2027, "1750000", ("1", "1"))
    made = {(desa, status, c.year): EnrolmentFactory(
        household=HouseholdFactory(desa_id=desa), cycle=c, status=status).pk
        for desa, status, c in [(DESA_PANDEGLANG, "aktif", cycle),
                                (DESA_CIMANGGU, "calon", cycle),
                                (DESA_PANDEGLANG_2, "aktif", other_year),
                                (DESA_LEBAK, "aktif", cycle)]}
    client = api_as(pandeglang_operator)

    def found(**params):
        return ids(client.get(f"{API}/enrolments/", params))

    assert found() == {v for k, v in made.items() if k[0] != DESA_LEBAK}
    assert found(cycle=2026) == {made[(DESA_PANDEGLANG, "aktif", 2026)],
                                 made[(DESA_CIMANGGU, "calon", 2026)]}
    assert found(status="aktif") == {made[(DESA_PANDEGLANG, "aktif", 2026)],
                                     made[(DESA_PANDEGLANG_2, "aktif", 2027)]}
    assert found(wilayah=KEC_CIMANGGU) == {made[(DESA_CIMANGGU, "calon", 2026)]}
    assert found(wilayah="36.02") == set()


def test_enrolment_create_outside_the_area_is_refused(cycle, pandeglang_operator, api_as):
    hh = household(DESA_LEBAK)
    response = api_as(pandeglang_operator).post(f"{API}/enrolments/",
                                                {"household": hh.pk, "cycle": 2026},
                                                format="json")
    # another district's household is "not found" (400): its existence is not revealed
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["household"]
    assert not Enrolment.objects.exists()


def test_a_second_enrolment_for_the_household_is_refused_in_indonesian(cycle,
                                                                       province_operator,
                                                                       api_as):
    hh = household()
    enrol(province_operator, hh, cycle)
    response = api_as(province_operator).post(f"{API}/enrolments/",
                                              {"household": hh.pk, "cycle": 2026},
                                              format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "household": ["Keluarga ini sudah terdaftar pada siklus 2026."]}


def test_enrolment_transition_with_idempotency_key(cycle, pandeglang_operator, api_as):
    enrolment = enrol(pandeglang_operator, household(), cycle)
    client = api_as(pandeglang_operator)
    url = f"{API}/enrolments/{enrolment.pk}/transition/"

    response = client.post(url, {"status": "terverifikasi"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [
        "Belum ada verifikasi by name by address dengan hasil sesuai."]}

    tksk = tksk_of(KEC_SUMUR)
    client.post(f"{API}/verifications/", {"enrolment": enrolment.pk, "verifier": tksk.pk,
                                          "visit_date": str(VISIT), "result": "sesuai"},
                format="json")
    headers = {"HTTP_IDEMPOTENCY_KEY": "transisi-1"}
    first = client.post(url, {"status": "terverifikasi"}, format="json", **headers)
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "terverifikasi"
    again = client.post(url, {"status": "terverifikasi"}, format="json", **headers)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert EnrolmentTransition.objects.filter(enrolment=enrolment).count() == 2
    reused = client.post(url, {"status": "ditetapkan", "decree_number": SK}, format="json",
                         **headers)
    assert reused.status_code == 422

    response = client.post(url, {"status": "ditetapkan"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"decree_number": ["Nomor SK penetapan wajib diisi."]}
    response = client.post(url, {"status": "ditetapkan", "decree_number": SK}, format="json")
    assert (response.json()["status"], response.json()["decree_number"]) == ("ditetapkan", SK)
    assert [t["to_status"] for t in response.json()["transitions"]] == [
        "calon", "terverifikasi", "ditetapkan"]


def test_enrolment_transition_of_another_district_is_404(cycle, province_operator,
                                                         lebak_operator, api_as):
    enrolment = enrol(province_operator, household(), cycle)
    response = api_as(lebak_operator).post(f"{API}/enrolments/{enrolment.pk}/transition/",
                                           {"status": "dikeluarkan", "reason": "x"},
                                           format="json")
    assert response.status_code == 404
    assert Enrolment.objects.get().status == "calon"


def test_companion_action(cycle, province_operator, api_as):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    worker = pendamping_in(KEC_SUMUR)
    client = api_as(province_operator)
    url = f"{API}/enrolments/{enrolment.pk}/companion/"
    response = client.post(url, {"worker": worker.pk, "start_date": "2026-01-05"},
                           format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"enrolment": enrolment.pk, "worker": worker.pk,
                               "start_date": "2026-01-05"}
    response = client.post(url, {"worker": tksk_of(KEC_SUMUR).pk, "start_date": "2026-02-01"},
                           format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["worker"]


# --- verifications ----------------------------------------------------------------------------

@pytest.fixture
def family_enrolment(cycle, province_operator):
    hh = household(DESA_PANDEGLANG, [
        {"name": "Ujang", "birth_date": ADULT},
        {"name": "Euis", "birth_date": D(1996, 6, 6), "sex": "P", "relationship": "pasangan"},
        {"name": "Dadang", "birth_date": D(1940, 1, 1), "relationship": "orang_tua"}])
    return enrol(province_operator, hh, cycle)


def test_verification_create_with_findings(family_enrolment, pandeglang_operator, api_as):
    ujang, euis, dadang = family_enrolment.household.people
    client = api_as(pandeglang_operator)
    response = client.post(f"{API}/verifications/", {
        "enrolment": family_enrolment.pk, "verifier": tksk_of(KEC_SUMUR).pk,
        "visit_date": "2025-11-10", "result": "sesuai", "notes": "Rumah bilik bambu",
        "findings": [{"person": dadang.pk, "finding": "meninggal", "note": "Wafat 2025"},
                     {"person": None, "finding": "anggota_baru", "note": "Cucu baru"}],
        "pregnant_persons": [euis.pk]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("enrolment", "visit_date", "result", "notes",
                                 "recorded_by")} == {
        "enrolment": family_enrolment.pk, "visit_date": "2025-11-10", "result": "sesuai",
        "notes": "Rumah bilik bambu", "recorded_by": pandeglang_operator.username}
    assert body["findings"] == [
        {"person": dadang.pk, "finding": "meninggal", "note": "Wafat 2025", "applied": False},
        {"person": None, "finding": "anggota_baru", "note": "Cucu baru", "applied": False}]
    assert sorted(family_enrolment.members.values_list("person", "condition")) == sorted([
        (euis.pk, "hamil_nifas"), (dadang.pk, "lansia")])

    url = f"{API}/verifications/{body['id']}/apply-findings/"
    assert client.post(url).json() == {"applied": 1}
    assert client.post(url).json() == {"applied": 0}
    dadang.refresh_from_db()
    assert (dadang.life_status, dadang.life_status_date) == ("meninggal", VISIT)
    assert list(family_enrolment.members.values_list("person", "condition")) == [
        (euis.pk, "hamil_nifas")]


def test_verification_refusals(family_enrolment, province_operator, api_as):
    client = api_as(province_operator)
    stranger = household(DESA_PANDEGLANG, [ADULT]).people[0]
    payload = {"enrolment": family_enrolment.pk, "verifier": tksk_of(KEC_SUMUR).pk,
               "visit_date": "2025-11-10", "result": "sesuai"}
    response = client.post(f"{API}/verifications/", {
        **payload, "findings": [{"person": stranger.pk, "finding": "pindah"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "findings": [f"Orang {stranger.pk} bukan anggota keluarga ini."]}
    response = client.post(f"{API}/verifications/", {
        **payload, "verifier": tksk_of(KEC_CIMANGGU).pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["verifier"]
    response = client.post(f"{API}/verifications/", {
        **payload, "findings": [{"person": None, "finding": "hilang"}]}, format="json")
    assert response.status_code == 400
    assert not Verification.objects.exists()
    assert not VerificationFinding.objects.exists()


def test_verification_photo_upload(family_enrolment, province_operator, api_as, settings,
                                   tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = api_as(province_operator).post(f"{API}/verifications/", {
        "enrolment": family_enrolment.pk, "verifier": tksk_of(KEC_SUMUR).pk,
        "visit_date": "2025-11-10", "result": "sesuai", "photo": photo_upload()},
        format="multipart")
    assert response.status_code == 201, response.content
    assert Verification.objects.get().photo.name.startswith("verifikasi/")


HTML = b"<html><body><script>fetch('/api/v1/me/').then(r=>r.text()).then(alert)</script>"


@pytest.mark.parametrize("upload, message", [
    (lambda: SimpleUploadedFile("rumah.html", HTML, content_type="text/html"),
     "Jenis berkas .html tidak diterima; gunakan .jpg, .jpeg, .png, .webp."),
    (lambda: SimpleUploadedFile("rumah.jpg", HTML, content_type="image/jpeg"),
     "Berkas bukan gambar yang dapat dibaca (JPG, PNG, WEBP)."),
])
def test_a_verification_photo_must_be_a_picture_on_every_door(
        family_enrolment, province_operator, api_as, settings, tmp_path, upload, message):
    """Security audit (December 2026): the photo was a picture on the staff page but any file
    in the API — an HTML page with a script was stored under MEDIA_ROOT and its URL returned
    (stored XSS the day media is served), of any size. The rule is the model field's now, so
    every door asks it: the type, the size, and that Pillow reads it."""
    settings.MEDIA_ROOT = tmp_path
    response = api_as(province_operator).post(f"{API}/verifications/", {
        "enrolment": family_enrolment.pk, "verifier": tksk_of(KEC_SUMUR).pk,
        "visit_date": "2025-11-10", "result": "sesuai", "photo": upload()}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"photo": [message]}
    assert not Verification.objects.exists() and not list(tmp_path.rglob("rumah*"))


# --- conditions (commitments) -----------------------------------------------------------------

def test_condition_create(cycle, pandeglang_operator, lebak_operator, api_as):
    enrolment = enrol(pandeglang_operator, household(), cycle, "aktif")
    member = enrolment.members.get()
    first = cycle.tranches.get(number=1)
    payload = {"member": member.pk, "tranche": first.pk, "kind": "kesehatan",
               "status": "tidak_terpenuhi"}
    response = api_as(pandeglang_operator).post(f"{API}/conditions/", payload, format="json")
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in ("member", "tranche", "kind", "status")} == payload
    assert Commitment.objects.get().recorded_by == pandeglang_operator
    # another district's member is not found (400 on the field), like a missing one
    assert api_as(lebak_operator).post(f"{API}/conditions/", {
        **payload, "kind": "pendidikan"}, format="json").status_code == 400


def test_condition_correction_by_posting_again(cycle, pandeglang_operator, api_as):
    enrolment = enrol(pandeglang_operator, household(), cycle, "aktif")
    payload = {"member": enrolment.members.get().pk, "tranche": cycle.tranches.first().pk,
               "kind": "kesehatan", "status": "tidak_terpenuhi"}
    client = api_as(pandeglang_operator)
    assert client.post(f"{API}/conditions/", payload, format="json").status_code == 201
    response = client.post(f"{API}/conditions/", {**payload, "status": "terpenuhi"},
                           format="json")
    assert response.status_code in (200, 201), response.content
    assert Commitment.objects.get().status == "terpenuhi"


def test_condition_after_the_payment_exists_is_refused(cycle, province_operator, api_as):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    PaymentFactory(enrolment=enrolment, tranche=first)
    response = api_as(province_operator).post(f"{API}/conditions/", {
        "member": enrolment.members.get().pk, "tranche": first.pk, "kind": "kesehatan",
        "status": "terpenuhi"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [
        "Penyaluran tahap ini sudah dibuat; komitmen tidak dapat diubah."]}


# --- payments: list filters and the tranche generation ----------------------------------------

def test_payment_list_filters(cycle, province_operator, api_as):
    other_year = cycle_with_tranches(2027, "1750000", ("1", "1"))

    def payment(desa, cycle_, number, status="dijadwalkan"):
        enrolment = (Enrolment.objects.filter(cycle=cycle_, desa_id=desa).first()
                     or EnrolmentFactory(household=HouseholdFactory(desa_id=desa),
                                         cycle=cycle_, status="aktif"))
        return PaymentFactory(enrolment=enrolment, tranche=cycle_.tranches.get(number=number),
                              status=status, paid_on=D(2026, 6, 1) if status == "disalurkan"
                              else None)

    p1 = payment(DESA_PANDEGLANG, cycle, 1, "disalurkan")
    p2 = payment(DESA_PANDEGLANG, cycle, 2)
    p3 = payment(DESA_CIMANGGU, cycle, 1, "gagal")
    p4 = payment(DESA_LEBAK, cycle, 1, "disalurkan")
    p5 = payment(DESA_PANDEGLANG, other_year, 1)
    client = api_as(province_operator)

    def found(**params):
        return ids(client.get(f"{API}/payments/", params))

    assert found() == {p.pk for p in (p1, p2, p3, p4, p5)}
    assert found(cycle=2026) == {p1.pk, p2.pk, p3.pk, p4.pk}
    assert found(cycle=2026, tranche=1) == {p1.pk, p3.pk, p4.pk}
    assert found(cycle=2026, tranche=2) == {p2.pk}
    assert found(status="disalurkan") == {p1.pk, p4.pk}
    assert found(status=["gagal", "dijadwalkan"]) == {p2.pk, p3.pk, p5.pk}
    assert found(wilayah="36.01") == {p1.pk, p2.pk, p3.pk, p5.pk}
    assert found(wilayah=KEC_CIMANGGU) == {p3.pk}
    assert found(wilayah=DESA_LEBAK) == {p4.pk}
    assert found(cycle=2026, wilayah="36.01.01", tranche=1) == {p1.pk}
    row = next(r for r in results(client.get(f"{API}/payments/", {"cycle": 2027})))
    assert (row["cycle"], row["tranche_number"], money(row["amount"])) == (
        2027, 1, Decimal(875000))


def test_payment_export_is_scoped_and_filtered(cycle, pandeglang_operator, api_as):
    import csv

    mine = PaymentFactory(enrolment=EnrolmentFactory(
        household=HouseholdFactory(desa_id=DESA_PANDEGLANG), cycle=cycle, status="aktif"),
        amount=656250, outcome="dikurangi")
    PaymentFactory(enrolment=EnrolmentFactory(household=HouseholdFactory(desa_id=DESA_LEBAK),
                                              cycle=cycle, status="aktif"))
    response = api_as(pandeglang_operator).get(f"{API}/payments/export/",
                                               {"fmt": "csv", "cycle": 2026})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content)
                                       .decode("utf-8-sig"))))
    assert rows == [
        ["id", "tahun", "tahap", "kode_desa", "nilai", "hasil_komitmen", "status", "referensi"],
        [str(mine.pk), "2026", "1", DESA_PANDEGLANG, "656250", "Dikurangi", "Dijadwalkan", ""]]


def test_tranche_generate_is_province_only_and_runs_on_commit(
        cycle, province_operator, pandeglang_operator, api_as,
        django_capture_on_commit_callbacks):
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    url = f"{API}/cycles/2026/tranches/2/generate/"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_as(pandeglang_operator).post(url)
    assert response.status_code == 403
    assert callbacks == []
    assert not Payment.objects.exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_as(province_operator).post(url)
    assert response.status_code == 202, response.content
    second = cycle.tranches.get(number=2)
    job = TrancheJob.objects.get()
    assert (response.json()["id"], response.json()["tranche"]) == (job.pk, second.pk)
    assert len(callbacks) == 1
    assert list(Payment.objects.values_list("tranche", "amount")) == [
        (second.pk, Decimal(875000))] * 2
    assert api_as(province_operator).get(response["Location"]).json()["totals"] == {
        "created": 2}

    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(province_operator).post(
            f"{API}/cycles/2026/tranches/3/generate/").status_code == 404


# --- coverage ---------------------------------------------------------------------------------

@pytest.fixture
def situation(cycle):
    """Enrolments in every state in two kecamatan of Pandeglang and one of Lebak, with paid,
    failed and scheduled payments in both tranches."""
    first, second = cycle.tranches.order_by("number")

    def enrolment(desa, status, paid=(), failed=()):
        e = EnrolmentFactory(household=HouseholdFactory(desa_id=desa), cycle=cycle,
                             status=status)
        for t in paid:
            PaymentFactory(enrolment=e, tranche=t, status="disalurkan", paid_on=D(2026, 6, 1),
                           reference=f"BB-{e.pk}-{t.number}")
        for t in failed:
            PaymentFactory(enrolment=e, tranche=t, status="gagal", failure_reason="Rekening")
        return e

    enrolment(DESA_PANDEGLANG, "aktif", paid=[first])
    enrolment(DESA_PANDEGLANG, "aktif", failed=[first])
    enrolment(DESA_PANDEGLANG_2, "graduasi", paid=[first])
    enrolment(DESA_PANDEGLANG_2, "ditetapkan")
    enrolment(DESA_PANDEGLANG, "terverifikasi")
    enrolment(DESA_PANDEGLANG, "calon")
    enrolment(DESA_PANDEGLANG, "dikeluarkan")
    enrolment(DESA_CIMANGGU, "aktif", paid=[first, second])
    enrolment(DESA_LEBAK, "aktif", paid=[first])
    enrolment(DESA_LEBAK_2, "calon")
    scheduled = enrolment(DESA_LEBAK_2, "aktif")
    PaymentFactory(enrolment=scheduled, tranche=first)  # dijadwalkan: not paid


def simple(rows):
    return {r["kode"]: {"nama": r["nama"], "quota": r["quota"],
                        **{k: r[k] for k in ("proposed", "verified", "decreed", "active",
                                             "graduated", "excluded")},
                        "paid": {str(n): (v["households"], money(v["amount"]))
                                 for n, v in r["paid_per_tranche"].items()},
                        "paid_total": money(r["paid_total"])}
            for r in rows}


PANDEGLANG = {"nama": "Kabupaten Pandeglang", "quota": 100, "proposed": 8, "verified": 6,
              "decreed": 5, "active": 3, "graduated": 1, "excluded": 1,
              "paid": {"1": (3, Decimal(2_625_000)), "2": (1, Decimal(875_000))},
              "paid_total": Decimal(3_500_000)}
LEBAK = {"nama": "Kabupaten Lebak", "quota": 100, "proposed": 3, "verified": 2, "decreed": 2,
         "active": 2, "graduated": 0, "excluded": 0, "paid": {"1": (1, Decimal(875_000))},
         "paid_total": Decimal(875_000)}


def test_coverage_per_kab_kota(situation, auditor, api_as):
    response = api_as(auditor).get(f"{API}/coverage/", {"cycle": 2026, "level": "kab_kota"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["cycle"], body["level"]) == (2026, "kab_kota")
    rows = simple(body["rows"])
    assert {"36.01": rows.pop("36.01"), "36.02": rows.pop("36.02")} == {
        "36.01": PANDEGLANG, "36.02": LEBAK}
    # every other kab/kota has a quota and no enrolment yet: a row of zeros, not left out
    assert set(rows) == {"36.03", "36.04", "36.71", "36.72", "36.73", "36.74"}
    assert all((r["quota"], r["proposed"], r["active"], r["paid_total"]) == (100, 0, 0, 0)
               for r in rows.values())
    assert {k: money(v) for k, v in body["budget"].items()} == {
        "pagu": Decimal(10_000_000), "used": Decimal(4_375_000),
        "remaining": Decimal(5_625_000)}


def test_coverage_per_kecamatan(situation, province_operator, api_as):
    body = api_as(province_operator).get(f"{API}/coverage/", {"cycle": 2026}).json()
    assert body["level"] == "kecamatan"
    zero = {"graduated": 0, "excluded": 0}
    assert simple(body["rows"]) == {
        KEC_SUMUR: {"nama": "Sumur", "quota": None, "proposed": 7, "verified": 5, "decreed": 4,
                    "active": 2, "graduated": 1, "excluded": 1,
                    "paid": {"1": (2, Decimal(1_750_000))}, "paid_total": Decimal(1_750_000)},
        KEC_CIMANGGU: {"nama": "Cimanggu", "quota": None, "proposed": 1, "verified": 1,
                       "decreed": 1, "active": 1, **zero,
                       "paid": {"1": (1, Decimal(875_000)), "2": (1, Decimal(875_000))},
                       "paid_total": Decimal(1_750_000)},
        KEC_MALINGPING: {"nama": "Malingping", "quota": None, "proposed": 3, "verified": 2,
                         "decreed": 2, "active": 2, **zero,
                         "paid": {"1": (1, Decimal(875_000))}, "paid_total": Decimal(875_000)},
    }


def test_coverage_xlsx_equals_the_json(situation, province_operator, api_as):
    from openpyxl import load_workbook

    client = api_as(province_operator)
    params = {"cycle": 2026, "level": "kab_kota"}
    rows = client.get(f"{API}/coverage/", params).json()["rows"]
    response = client.get(f"{API}/coverage/", {**params, "fmt": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert 'filename="cakupan-jamsosratu-2026-kab_kota.xlsx"' in response[
        "Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    data, budget = workbook.worksheets
    table = [list(r) for r in data.iter_rows(values_only=True)]
    assert table[0] == ["kode", "nama", "kuota", "diusulkan", "terverifikasi", "ditetapkan",
                        "aktif", "graduasi", "dikeluarkan", "disalurkan_tahap_1",
                        "disalurkan_tahap_2", "total_disalurkan"]
    assert table[1:] == [
        [r["kode"], r["nama"], r["quota"], r["proposed"], r["verified"], r["decreed"],
         r["active"], r["graduated"], r["excluded"],
         *[int(money(r["paid_per_tranche"].get(n, {}).get("amount", 0))) for n in ("1", "2")],
         int(money(r["paid_total"]))] for r in rows]
    assert table[1:3] == [
        ["36.01", "Kabupaten Pandeglang", 100, 8, 6, 5, 3, 1, 1, 2_625_000, 875_000, 3_500_000],
        ["36.02", "Kabupaten Lebak", 100, 3, 2, 2, 2, 0, 0, 875_000, 0, 875_000]]
    assert table[3] == ["36.03", "Kabupaten Tangerang", 100, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert len(table) == 9
    assert budget.title == "Anggaran"
    assert [list(r) for r in budget.iter_rows(values_only=True)] == [
        ["pagu", "terpakai", "sisa"], [10_000_000, 4_375_000, 5_625_000]]


def test_coverage_of_a_district_operator_excludes_other_districts(situation,
                                                                  pandeglang_operator,
                                                                  api_as):
    client = api_as(pandeglang_operator)
    body = client.get(f"{API}/coverage/", {"cycle": 2026, "level": "kab_kota"}).json()
    assert simple(body["rows"]) == {"36.01": PANDEGLANG}
    body = client.get(f"{API}/coverage/", {"cycle": 2026}).json()
    assert {r["kode"] for r in body["rows"]} == {KEC_SUMUR, KEC_CIMANGGU}
    response = client.get(f"{API}/coverage/", {"cycle": 2026, "level": "kab_kota",
                                               "fmt": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["36.01"]


def test_the_budget_of_a_district_operator_holds_only_its_own_payments(situation,
                                                                       pandeglang_operator,
                                                                       api_as):
    body = api_as(pandeglang_operator).get(f"{API}/coverage/", {"cycle": 2026,
                                                                "level": "kab_kota"}).json()
    own = sum(money(r["paid_total"]) for r in body["rows"])
    assert body["budget"] is None or money(body["budget"]["used"]) == own


def test_coverage_money_is_not_float(situation, province_operator, api_as):
    body = api_as(province_operator).get(f"{API}/coverage/", {"cycle": 2026,
                                                              "level": "kab_kota"}).json()
    amounts = [body["budget"]["pagu"], body["budget"]["used"], body["rows"][0]["paid_total"],
               body["rows"][0]["paid_per_tranche"]["1"]["amount"]]
    assert not any(isinstance(a, float) for a in amounts)


def test_coverage_includes_caseloads(cycle, province_operator, api_as):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    from jamsosratu import services

    worker = pendamping_in(KEC_SUMUR)
    services.companion_assign(actor=province_operator, enrolment=enrolment, worker=worker,
                              start_date=VISIT)
    body = api_as(province_operator).get(f"{API}/coverage/", {"cycle": 2026}).json()
    assert body["caseloads"] == [{"worker_id": worker.pk, "worker__name": worker.name,
                                  "kecamatan": KEC_SUMUR, "kecamatan_name": "Sumur",
                                  "cases": 1, "max": 200, "over": False}]


@pytest.mark.parametrize(("params", "status"), [
    ({}, 400), ({"cycle": "dua ribu"}, 400), ({"cycle": 2030}, 404),
    ({"cycle": 2026, "level": "desa"}, 400), ({"cycle": 2026, "level": "kab_kota"}, 200),
    ({"cycle": 2026, "fmt": "csv"}, 200),
])
def test_coverage_parameters(cycle, province_operator, api_as, params, status):
    assert api_as(province_operator).get(f"{API}/coverage/", params).status_code == status


# --- constant query counts --------------------------------------------------------------------

def _enrolment(i, cycle):
    desa = (DESA_PANDEGLANG, DESA_LEBAK)[i % 2]
    return EnrolmentFactory(household=HouseholdFactory(desa_id=desa), cycle=cycle,
                            status="aktif")


def _verification(i, cycle):
    verification = VerificationFactory(enrolment=_enrolment(i, cycle))
    person = Person.objects.filter(household=verification.enrolment.household).first()
    VerificationFinding.objects.create(verification=verification, person=person,
                                       finding="tidak_ditemukan")
    VerificationFinding.objects.create(verification=verification, finding="anggota_baru")
    return verification


def _condition(i, cycle):
    return CommitmentFactory(member__enrolment=_enrolment(i, cycle))


def _payment(i, cycle):
    return PaymentFactory(enrolment=_enrolment(i, cycle))


LIST_ENDPOINTS = {
    # session, user, office, 2× permissions, count, rows (+ the read's one ACCESS entry where
    # the rows carry an account number)
    "enrolments": (_enrolment, 8),
    "verifications": (_verification, 8),  # + findings (prefetched)
    "conditions": (_condition, 7),
    "payments": (_payment, 8),
}


@pytest.mark.parametrize("endpoint", list(LIST_ENDPOINTS))
def test_list_query_count_does_not_grow(endpoint, cycle, province_operator, api_as,
                                        django_assert_max_num_queries):
    make, limit = LIST_ENDPOINTS[endpoint]
    client = api_as(province_operator)
    made = 0
    for rows in (3, 30):
        while made < rows:
            make(made, cycle)
            made += 1
        with django_assert_max_num_queries(limit):
            response = client.get(f"{API}/{endpoint}/", {"page_size": 500})
        assert response.status_code == 200
        assert response.json()["count"] == rows


def test_a_cycle_shows_a_district_only_its_own_quota(cycle, make_user, api_as):
    """Found by an isolation review: the cycles list gave a district operator all eight kab/kota
    quotas (a nested list comes with its parent, past the view's restricted queryset)."""
    for area in ("36.01", "36.02"):
        client = api_as(make_user(roles.OPERATOR_KAB_KOTA, area))
        for answer in (client.get(f"{API}/cycles/").json()["results"],
                       [client.get(f"{API}/cycles/2026/").json()]):
            assert {q["kab_kota"] for one in answer for q in one["quotas"]} == {area}
    quotas = api_as(make_user(roles.OPERATOR_PROVINSI)).get(f"{API}/cycles/2026/").json()
    assert len(quotas["quotas"]) == 8
