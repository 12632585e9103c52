"""The PSKS REST API: workers (identity checks, filters, status, idempotent create, export),
assignments, institutions with their board, meetings with attendees, and constant query
counts for every list endpoint."""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from dinsos import roles
from dinsos.models import Wilayah
from psks import services
from psks.models import Assignment, BoardMember, Institution, Meeting, Worker
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    DESA_PANDEGLANG_2,
    ON_DUTY_UNTIL,
    ActivityReportFactory,
    AssignmentFactory,
    BankAccountFactory,
    InstitutionFactory,
    MeetingFactory,
    UserFactory,
    WorkerFactory,
)
from tests.helpers import ids, results
from tests.psks.factories import DESA_CIMANGGU, KEC_MALINGPING, KEC_SUMUR, assign, office

pytestmark = pytest.mark.django_db

D = datetime.date
API = "/api/v1/psks"
WORKERS = f"{API}/workers/"
NIK_DEDE = "3601011708850003"  # man, 17-08-1985, Kec. Sumur
NIK_SITI = "3601015903900004"  # woman, 19-03-1990


def worker_payload(**values) -> dict:
    return {"nik": NIK_DEDE, "name": "Dede Kurnia", "sex": "L", "birth_date": "1985-08-17",
            "education": "s1", "phone": "081234567890", "address": "Kp. Sumur",
            "desa": DESA_PANDEGLANG, "npwp": "", **values}


# --- workers: CRUD ------------------------------------------------------------------------------


def test_worker_create_read_update(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    response = client.post(WORKERS, worker_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("nik", "name", "sex", "birth_date", "desa", "kecamatan",
                                 "kab_kota", "npwp", "status")} == {
        "nik": NIK_DEDE, "name": "Dede Kurnia", "sex": "L", "birth_date": "1985-08-17",
        "desa": DESA_PANDEGLANG, "kecamatan": KEC_SUMUR, "kab_kota": "36.01", "npwp": "",
        "status": "aktif"}
    url = f"{WORKERS}{body['id']}/"

    assert client.get(url).json() == body
    response = client.patch(url, {"name": "Dede Kurnia, S.Sos.", "desa": DESA_PANDEGLANG_2},
                            format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["desa"]) == (
        "Dede Kurnia, S.Sos.", DESA_PANDEGLANG_2)
    response = client.put(url, worker_payload(name="Dede K.", phone=""), format="json")
    assert response.status_code == 200
    worker = Worker.objects.get()
    assert (worker.name, worker.phone, worker.desa_id) == ("Dede K.", "", DESA_PANDEGLANG)

    assert client.delete(url).status_code == 405
    assert Worker.objects.count() == 1


def test_worker_status_is_set_through_its_action(pandeglang_operator, api_as):
    worker = WorkerFactory()
    client = api_as(pandeglang_operator)
    url = f"{WORKERS}{worker.pk}/"
    client.patch(url, {"status": "berhenti"}, format="json")  # read-only field: ignored
    worker.refresh_from_db()
    assert worker.status == "aktif"

    response = client.post(f"{url}status/", {"status": "nonaktif", "on": "2026-10-01"},
                           format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [
        "Tanggal dan alasan wajib diisi untuk status nonaktif atau berhenti."]}
    response = client.post(f"{url}status/", {"status": "nonaktif", "on": "2026-10-01",
                                             "reason": "Diskors 3 bulan"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_date"],
            response.json()["status_reason"]) == ("nonaktif", "2026-10-01", "Diskors 3 bulan")


@pytest.mark.parametrize(("values", "message"), [
    ({"nik": "360101170885000"}, "NIK harus terdiri dari tepat 16 angka."),
    ({"nik": "36010117O8850003"}, "NIK harus terdiri dari tepat 16 angka."),
    ({"nik": "9901011708850003"}, "Kode provinsi 99 pada NIK tidak dikenal."),
    ({"nik": "3600011708850003"}, "Kode kabupaten/kota pada NIK tidak boleh 00."),
    ({"nik": "3601011708850000"}, "Nomor urut (4 angka terakhir) NIK tidak boleh 0000."),
    ({"nik": "3601013208850003"},
     "Tanggal lahir pada NIK (32-08) bukan tanggal yang sah. Untuk perempuan tanggal lahir "
     "ditambah 40 (01–31 laki-laki, 41–71 perempuan)."),
    ({"birth_date": "1985-08-18"},
     "NIK menunjukkan tanggal lahir 17-08-(19)85, tetapi data tertulis tanggal lahir "
     "18-08-1985."),
    ({"birth_date": "1986-08-17"},
     "NIK menunjukkan tanggal lahir 17-08-(19)85, tetapi data tertulis tanggal lahir "
     "17-08-1986."),
    ({"sex": "P"},
     "NIK menunjukkan jenis kelamin laki-laki (perempuan: tanggal lahir + 40), tetapi "
     "data tertulis jenis kelamin perempuan."),
    ({"nik": NIK_SITI, "birth_date": "1990-03-19"},
     "NIK menunjukkan jenis kelamin perempuan (perempuan: tanggal lahir + 40), tetapi "
     "data tertulis jenis kelamin laki-laki."),
])
def test_worker_nik_is_checked_against_birth_date_and_sex(pandeglang_operator, api_as,
                                                          values, message):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(**values),
                                                format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"nik": [message]}
    assert not Worker.objects.exists()


@pytest.mark.parametrize("values", [
    {},
    {"nik": NIK_SITI, "sex": "P", "birth_date": "1990-03-19", "name": "Siti Aminah"},
    {"nik": " 3601011708850003 "},
])
def test_worker_valid_nik(pandeglang_operator, api_as, values):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(**values),
                                                format="json")
    assert response.status_code == 201, response.content
    assert Worker.objects.get().nik == values.get("nik", NIK_DEDE).strip()


def test_a_birth_year_of_another_century_is_refused_as_a_date_not_as_a_nik(pandeglang_operator,
                                                                            api_as):
    """Only two digits of the year are in the NIK, so 1885 agrees with NIK …170885…; it is
    refused as a date before 1900 (the registry's earliest), not as a NIK mismatch."""
    response = api_as(pandeglang_operator).post(
        WORKERS, worker_payload(birth_date="1885-08-17"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"birth_date": [
        "Tanggal lahir 17-08-1885 sebelum tahun 1900."]}


def test_worker_nik_is_unique(pandeglang_operator, api_as):
    WorkerFactory(nik=NIK_DEDE, birth_date=D(1985, 8, 17))
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"nik": ["Tenaga PSKS dengan NIK telah ada."]}


@pytest.mark.parametrize(("npwp", "stored"), [
    ("01.234.567.8-901.000", "012345678901000"),
    ("012345678901000", "012345678901000"),
    ("3601011708850003", "3601011708850003"),
    ("", ""),
])
def test_worker_npwp_15_or_16_digits(pandeglang_operator, api_as, npwp, stored):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(npwp=npwp),
                                                format="json")
    assert response.status_code == 201, response.content
    assert response.json()["npwp"] == stored
    assert Worker.objects.get().npwp == stored


@pytest.mark.parametrize(("npwp", "message"), [
    ("01234567890123", "NPWP harus terdiri dari 15 angka (format lama, mis. "
                       "01.234.567.8-901.000) atau 16 angka (format baru)."),
    ("01234567890123456", "NPWP harus terdiri dari 15 angka (format lama, mis. "
                          "01.234.567.8-901.000) atau 16 angka (format baru)."),
    ("00.000.000.0-000.000", "NPWP yang semuanya nol bukan NPWP yang sah."),
])
def test_worker_bad_npwp_is_refused(pandeglang_operator, api_as, npwp, message):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(npwp=npwp),
                                                format="json")
    assert response.status_code == 400
    assert message in str(response.json()["errors"])
    assert not Worker.objects.exists()


def test_worker_bad_npwp_error_names_the_field(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(npwp="123"),
                                                format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["npwp"]


def test_worker_in_another_kab_kota_is_refused(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(
        desa=DESA_LEBAK, nik="3602011708850003"), format="json")
    assert response.status_code == 403
    assert "36.02.01.2002 berada di luar wilayah kerja" in response.json()["detail"]
    assert not Worker.objects.exists()


def test_worker_desa_must_be_a_desa(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(WORKERS, worker_payload(desa=KEC_SUMUR),
                                                format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"desa": [
        "Kode desa/kelurahan '36.01.01' tidak dikenal."]}


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN])
def test_read_only_roles_cannot_write_workers(make_user, api_as, role):
    worker = WorkerFactory()
    client = api_as(make_user(role))
    assert client.post(WORKERS, worker_payload(), format="json").status_code == 403
    assert client.patch(f"{WORKERS}{worker.pk}/", {"name": "X"},
                        format="json").status_code == 403
    assert Worker.objects.count() == 1


def test_worker_idempotency_key_replay(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    headers = {"Idempotency-Key": "tenaga-dede-2026"}
    first = client.post(WORKERS, worker_payload(), format="json", headers=headers)
    assert first.status_code == 201
    again = client.post(WORKERS, worker_payload(), format="json", headers=headers)
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (
        201, first.json(), "true")
    assert Worker.objects.count() == 1

    other = client.post(WORKERS, worker_payload(name="Lain"), format="json", headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    # keys are per user: another user's key of the same text is independent
    second_user = UserFactory(role=roles.OPERATOR_KAB_KOTA, office=office("36.01"))
    response = api_as(second_user).post(WORKERS, worker_payload(
        nik=NIK_SITI, sex="P", birth_date="1990-03-19"), format="json", headers=headers)
    assert response.status_code == 201
    assert Worker.objects.count() == 2
    # without a key the duplicate NIK is refused, not replayed
    assert client.post(WORKERS, worker_payload(), format="json").status_code == 400


# --- workers: filters ---------------------------------------------------------------------------


@pytest.fixture
def four_workers(province_operator):
    today = timezone.localdate()
    workers = {
        "sumur_1": WorkerFactory(name="Ahmad Sumur", desa_id=DESA_PANDEGLANG),
        "sumur_2": WorkerFactory(name="Budi Sumur", desa_id=DESA_PANDEGLANG_2),
        "cimanggu": WorkerFactory(name="Cecep Cimanggu", desa_id=DESA_CIMANGGU),
        "lebak": WorkerFactory(name="Dadang Lebak", desa_id=DESA_LEBAK),
    }
    # sumur_1: TKSK today; cimanggu: TKSK that ended in 2025; lebak: PSM; sumur_2: nothing
    assign(province_operator, workers["sumur_1"], start=today - datetime.timedelta(days=365),
           end=today + datetime.timedelta(days=365))
    assign(province_operator, workers["cimanggu"], start=D(2021, 1, 1), end=D(2025, 12, 31))
    assign(province_operator, workers["lebak"], role="psm", area=KEC_MALINGPING, end=None)
    return workers


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {"sumur_1", "sumur_2", "cimanggu", "lebak"}),
    ({"wilayah": "36"}, {"sumur_1", "sumur_2", "cimanggu", "lebak"}),
    ({"wilayah": "36.01"}, {"sumur_1", "sumur_2", "cimanggu"}),
    ({"wilayah": "36.01."}, {"sumur_1", "sumur_2", "cimanggu"}),
    ({"wilayah": "36.02"}, {"lebak"}),
    ({"wilayah": "36.01.01"}, {"sumur_1", "sumur_2"}),
    ({"wilayah": "36.01.02"}, {"cimanggu"}),
    ({"wilayah": DESA_PANDEGLANG}, {"sumur_1"}),
    ({"wilayah": "36.01.1"}, set()),  # a prefix of a code is not a wilayah
    ({"role": "tksk"}, {"sumur_1"}),
    ({"role": "tksk", "on": "2024-06-01"}, {"cimanggu"}),
    ({"role": "psm"}, {"lebak"}),
    ({"role": "tagana"}, set()),
    ({"role": "tksk", "wilayah": "36.02"}, set()),
    ({"status": "aktif"}, {"sumur_1", "sumur_2", "cimanggu", "lebak"}),
    ({"status": "nonaktif"}, set()),
    ({"q": "sumur"}, {"sumur_1", "sumur_2"}),
    ({"q": "3602"}, {"lebak"}),
])
def test_worker_filters(four_workers, province_operator, api_as, params, expected):
    response = api_as(province_operator).get(WORKERS, params)
    assert ids(response) == {four_workers[k].pk for k in expected}


def test_worker_filter_by_status(four_workers, province_operator, api_as):
    services.worker_set_status(actor=province_operator, worker=four_workers["sumur_2"],
                               status="nonaktif", on=D(2026, 1, 1), reason="Diskors")
    services.worker_set_status(actor=province_operator, worker=four_workers["lebak"],
                               status="berhenti", on=D(2026, 1, 1), reason="Mengundurkan diri")
    client = api_as(province_operator)
    assert ids(client.get(WORKERS, {"status": "nonaktif"})) == {four_workers["sumur_2"].pk}
    assert ids(client.get(f"{WORKERS}?status=nonaktif&status=berhenti")) == {
        four_workers["sumur_2"].pk, four_workers["lebak"].pk}
    assert ids(client.get(WORKERS, {"status": "aktif"})) == {
        four_workers["sumur_1"].pk, four_workers["cimanggu"].pk}
    # stopping ended the PSM assignment of the Lebak worker
    assert ids(client.get(WORKERS, {"role": "psm"})) == set()
    assert client.get(WORKERS, {"status": "cuti"}).status_code == 400


def test_worker_filters_within_the_operator_area(four_workers, pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    assert ids(client.get(WORKERS, {"wilayah": "36.02"})) == set()
    assert ids(client.get(WORKERS, {"wilayah": "36"})) == {
        four_workers[k].pk for k in ("sumur_1", "sumur_2", "cimanggu")}


# --- workers: export --------------------------------------------------------------------------


def export_rows(client, path=WORKERS, **params) -> list[list[str]]:
    response = client.get(f"{path}export/", {"fmt": "csv", **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def test_worker_export_masks_nik_for_the_auditor(auditor, province_operator, api_as):
    WorkerFactory(name="Dede Kurnia", nik=NIK_DEDE, desa_id=DESA_PANDEGLANG)
    header = ["nik", "nama", "jenis_kelamin", "pendidikan", "telepon", "kode_desa", "desa",
              "status"]
    assert export_rows(api_as(auditor)) == [
        header, ["360101********03", "Dede Kurnia", "L", "", "", DESA_PANDEGLANG, "Sumberjaya",
                 "Aktif"]]
    assert export_rows(api_as(province_operator))[1][0] == NIK_DEDE
    # the list masks the same way
    [row] = results(api_as(auditor).get(WORKERS))
    assert row["nik"] == "360101********03"


def test_worker_export_applies_scope_and_filters(four_workers, pandeglang_operator,
                                                 province_operator, api_as):
    names = [r[1] for r in export_rows(api_as(pandeglang_operator))[1:]]
    assert names == ["Ahmad Sumur", "Budi Sumur", "Cecep Cimanggu"]
    names = [r[1] for r in export_rows(api_as(province_operator), wilayah="36.02")[1:]]
    assert names == ["Dadang Lebak"]


def test_worker_npwp_masked_for_the_auditor(auditor, api_as):
    WorkerFactory(npwp="3601011708850003")
    [row] = results(api_as(auditor).get(WORKERS))
    assert row["npwp"] == "360101********03"


def test_masked_nik_cannot_be_probed_with_prefix_search(auditor, api_as):
    WorkerFactory(nik=NIK_DEDE, birth_date=D(1985, 8, 17))
    client = api_as(auditor)
    hits = [d for d in "0123456789"
            if client.get(WORKERS, {"q": NIK_DEDE[:6] + d}).json()["count"]]
    assert hits in ([], list("0123456789"))  # the 7th digit is not revealed


# --- assignments --------------------------------------------------------------------------------


ASSIGNMENTS = f"{API}/assignments/"


def assignment_payload(worker, **values) -> dict:
    return {"worker": worker.pk, "role": "tksk", "area": KEC_SUMUR,
            "decree_number": "460/123/Dinsos/2025", "decree_date": "2025-01-02",
            "decree_office": office("36.01").pk, "start_date": "2025-01-02",
            "end_date": "2029-12-31", "funding_source": "apbd_provinsi", **values}


def test_assignment_create_and_end(pandeglang_operator, api_as):
    worker = WorkerFactory(name="Dede Kurnia")
    client = api_as(pandeglang_operator)
    response = client.post(ASSIGNMENTS, assignment_payload(worker), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("worker", "worker_name", "role", "area", "kab_kota",
                                 "start_date", "end_date", "end_reason")} == {
        "worker": worker.pk, "worker_name": "Dede Kurnia", "role": "tksk", "area": KEC_SUMUR,
        "kab_kota": "36.01", "start_date": "2025-01-02", "end_date": "2029-12-31",
        "end_reason": ""}
    end = f"{ASSIGNMENTS}{body['id']}/end/"

    response = client.post(end, {"end_date": "2026-06-30"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    response = client.post(end, {"end_date": "2026-06-30", "reason": "Mengundurkan diri"},
                           format="json", headers={"Idempotency-Key": "akhiri-1"})
    assert response.status_code == 200
    assert (response.json()["end_date"], response.json()["end_reason"]) == (
        "2026-06-30", "Mengundurkan diri")
    replay = client.post(end, {"end_date": "2026-06-30", "reason": "Mengundurkan diri"},
                         format="json", headers={"Idempotency-Key": "akhiri-1"})
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (200, "true")

    assert client.delete(f"{ASSIGNMENTS}{body['id']}/").status_code == 405
    assignment = Assignment.objects.get()
    assert (assignment.end_date, assignment.end_reason) == (D(2026, 6, 30), "Mengundurkan diri")
    # the kecamatan is free again from the next day
    response = client.post(ASSIGNMENTS, assignment_payload(
        WorkerFactory(), start_date="2026-07-01", end_date="2031-06-30"), format="json")
    assert response.status_code == 201, response.content


def test_assignment_api_refuses_a_second_tksk(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    assert client.post(ASSIGNMENTS, assignment_payload(WorkerFactory(name="Dede Kurnia")),
                       format="json").status_code == 201
    response = client.post(ASSIGNMENTS, assignment_payload(
        WorkerFactory(), start_date="2027-01-01", end_date="2027-12-31"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"area": [
        "Kecamatan ini sudah memiliki TKSK Dede Kurnia pada 2 Januari 2025 – "
            "31 Desember 2029; satu "
        "kecamatan hanya satu TKSK."]}


@pytest.mark.parametrize(("values", "field"), [
    ({"end_date": "2030-01-02"}, "end_date"),
    ({"area": DESA_PANDEGLANG}, "area"),
    ({"area": "36.01"}, "area"),
    ({"role": "ketua_rt"}, "role"),
    ({"funding_source": "hibah"}, "funding_source"),
])
def test_assignment_api_validation(pandeglang_operator, api_as, values, field):
    response = api_as(pandeglang_operator).post(
        ASSIGNMENTS, assignment_payload(WorkerFactory(), **values), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Assignment.objects.exists()


def test_assignment_api_outside_the_area(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(
        ASSIGNMENTS, assignment_payload(WorkerFactory(), area=KEC_MALINGPING), format="json")
    assert response.status_code == 403
    assert not Assignment.objects.exists()


def test_assignment_filters(province_operator, api_as):
    a = assign(province_operator, WorkerFactory(desa_id=DESA_PANDEGLANG), start=D(2021, 1, 1),
               end=D(2025, 12, 31))
    b = assign(province_operator, WorkerFactory(desa_id=DESA_LEBAK), role="psm", end=None)
    client = api_as(province_operator)
    assert ids(client.get(ASSIGNMENTS, {"role": "tksk"})) == {a.pk}
    assert ids(client.get(ASSIGNMENTS, {"wilayah": "36.02"})) == {b.pk}
    assert ids(client.get(ASSIGNMENTS, {"active_on": "2026-01-01"})) == {b.pk}
    assert ids(client.get(ASSIGNMENTS, {"active_on": "2025-06-01"})) == {a.pk, b.pk}


# --- institutions with their board ---------------------------------------------------------------


INSTITUTIONS = f"{API}/institutions/"
BOARD = [{"name": "H. Ahmad Suhendi", "position": "Ketua"},
         {"name": "Siti Rohmah", "position": "Sekretaris"},
         {"name": "Ujang", "position": "Bendahara"}]


def test_institution_with_board_members(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    response = client.post(INSTITUTIONS, {
        "type": "lks", "name": "LKS Al-Ikhlas", "desa": DESA_PANDEGLANG, "accreditation": "B",
        "board_members": BOARD}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["accreditation"], body["board_members"]) == (
        "LKS Al-Ikhlas", "B", BOARD)
    url = f"{INSTITUTIONS}{body['id']}/"
    assert client.get(url).json()["board_members"] == BOARD

    response = client.patch(url, {"phone": "0253-123"}, format="json")  # board untouched
    assert response.json()["board_members"] == BOARD
    new_board = [{"name": "Siti Rohmah", "position": "Ketua"}]
    response = client.patch(url, {"board_members": new_board}, format="json")
    assert response.status_code == 200
    assert response.json()["board_members"] == new_board
    assert list(BoardMember.objects.values_list("name", "position")) == [
        ("Siti Rohmah", "Ketua")]
    response = client.patch(url, {"board_members": []}, format="json")
    assert response.json()["board_members"] == []

    response = client.delete(url)
    assert response.status_code == 400
    assert "Lembaga tidak dihapus" in str(response.json())
    assert Institution.objects.count() == 1


def test_institution_board_member_needs_name_and_position(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(INSTITUTIONS, {
        "type": "lks", "name": "LKS", "desa": DESA_PANDEGLANG,
        "board_members": [{"name": "Tanpa Jabatan"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"board_members.0.position": [
        "Bidang ini harus diisi."]}  # the documented shape: {field: [message]}
    assert not Institution.objects.exists()


def test_one_active_karang_taruna_per_desa(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    payload = {"type": "karang_taruna", "name": "Karang Taruna Sumberjaya",
               "desa": DESA_PANDEGLANG}
    first = client.post(INSTITUTIONS, payload, format="json")
    assert first.status_code == 201
    assert client.post(INSTITUTIONS, {**payload, "name": "KT Tandingan"},
                       format="json").status_code == 400
    client.patch(f"{INSTITUTIONS}{first.json()['id']}/", {"status": "tidak_aktif"},
                 format="json")
    assert client.post(INSTITUTIONS, {**payload, "name": "KT Baru"},
                       format="json").status_code == 201
    assert client.post(INSTITUTIONS, {**payload, "desa": DESA_PANDEGLANG_2},
                       format="json").status_code == 201


# --- meetings with attendees --------------------------------------------------------------------


MEETINGS = f"{API}/meetings/"


def test_meeting_with_attendees(pandeglang_operator, api_as):
    tksk, psm = WorkerFactory(name="TKSK Sumur"), WorkerFactory(name="PSM Sumur")
    client = api_as(pandeglang_operator)
    response = client.post(MEETINGS, {
        "kecamatan": KEC_SUMUR, "date": "2026-10-15", "type": "rakor",
        "agenda": "Validasi RTS by name by address", "attendees": [tksk.pk, psm.pk],
        "other_attendees": "Kasie Kesos Kec. Sumur\nSekdes Sumberjaya"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kecamatan"], sorted(body["attendees"])) == (KEC_SUMUR, sorted([tksk.pk,
                                                                                 psm.pk]))
    url = f"{MEETINGS}{body['id']}/"
    assert sorted(client.get(url).json()["attendees"]) == sorted([tksk.pk, psm.pk])

    response = client.patch(url, {"minutes": "Notulen"}, format="json")
    assert sorted(response.json()["attendees"]) == sorted([tksk.pk, psm.pk])
    response = client.patch(url, {"attendees": [tksk.pk]}, format="json")
    assert response.json()["attendees"] == [tksk.pk]
    assert list(tksk.meetings.all()) == [Meeting.objects.get()]
    assert not psm.meetings.exists()


def test_meeting_attendees_from_another_kab_kota_are_refused(province_operator, api_as):
    lebak = WorkerFactory(name="Orang Lebak", desa_id=DESA_LEBAK)
    response = api_as(province_operator).post(MEETINGS, {
        "kecamatan": KEC_SUMUR, "date": "2026-10-15", "agenda": "Rakor",
        "attendees": [WorkerFactory().pk, lebak.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"attendees": ["Peserta dari kab/kota lain: Orang Lebak"]}
    assert not Meeting.objects.exists()


def test_meeting_is_held_in_a_kecamatan(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(MEETINGS, {
        "kecamatan": DESA_PANDEGLANG, "date": "2026-10-15", "agenda": "Rakor"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"kecamatan": [
        "Kode kecamatan '36.01.01.2001' tidak dikenal."]}


def test_meeting_outside_the_area_is_refused(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(MEETINGS, {
        "kecamatan": KEC_MALINGPING, "date": "2026-10-15", "agenda": "Rakor"}, format="json")
    assert response.status_code == 403
    assert not Meeting.objects.exists()


def test_admin_meeting_refuses_attendees_from_another_kab_kota(pandeglang_operator):
    lebak = WorkerFactory(name="Orang Lebak", desa_id=DESA_LEBAK)
    client = Client()
    client.force_login(pandeglang_operator)
    client.post("/admin/psks/meeting/add/", {
        "kecamatan": KEC_SUMUR, "date": "2026-10-15", "type": "rakor", "agenda": "Rakor",
        "minutes": "", "other_attendees": "", "attendees": [lebak.pk]})
    assert not Meeting.objects.filter(attendees=lebak).exists()


# --- constant query counts --------------------------------------------------------------------


def _make_assignment(i):
    return AssignmentFactory(role="psm", end_date=None,
                             area_id=DESA_PANDEGLANG if i % 2 else KEC_SUMUR)


def _make_account(i, checker):
    account = BankAccountFactory()
    if i % 2:
        type(account).objects.filter(pk=account.pk).update(
            verified_by=checker, verified_at=timezone.now(), effective_from=D(2026, 1, 1))
    return account


def _make_institution(i):
    institution = InstitutionFactory()
    BoardMember.objects.bulk_create([BoardMember(institution=institution, name=f"Pengurus {j}",
                                                 position="Anggota") for j in range(3)])
    return institution


def _make_report(i, checker):
    return ActivityReportFactory(reviewed_by=checker if i % 2 else None,
                                 status="diterima" if i % 2 else "draft")


def _make_meeting(i):
    meeting = MeetingFactory(date=D(2026, 1, 1) + datetime.timedelta(days=i))
    meeting.attendees.set([WorkerFactory(), WorkerFactory()])
    return meeting


def _make_coverage(i, checker):
    """A TKSK and a rakor in the i-th kecamatan of the province."""
    kecamatan = Wilayah.objects.filter(tingkat="kecamatan").order_by("kode")[i].kode
    AssignmentFactory(worker=WorkerFactory(), area_id=kecamatan, end_date=ON_DUTY_UNTIL)
    MeetingFactory(kecamatan_id=kecamatan, date=timezone.localdate())


LIST_ENDPOINTS = {
    # endpoint: (maker, queries: session, user, office, 2× permissions, count, page [+prefetch])
    "workers": (lambda i, u: WorkerFactory(), 8),  # + the audit entry of the read
    "assignments": (lambda i, u: _make_assignment(i), 7),
    "bank-accounts": (_make_account, 8),  # + the audit entry of the read
    "institutions": (lambda i, u: _make_institution(i), 8),
    "activity-reports": (_make_report, 7),
    "meetings": (lambda i, u: _make_meeting(i), 8),
    "coverage": (_make_coverage, 7),
}


@pytest.mark.parametrize("endpoint", list(LIST_ENDPOINTS))
def test_list_query_count_does_not_grow(endpoint, province_operator, make_user, api_as,
                                        django_assert_max_num_queries):
    make, limit = LIST_ENDPOINTS[endpoint]
    checker = make_user(roles.OPERATOR_PROVINSI)
    client = api_as(province_operator)
    made = 0
    for rows in (3, 30):
        while made < rows:
            make(made, checker)
            made += 1
        with django_assert_max_num_queries(limit):
            response = client.get(f"{API}/{endpoint}/", {"page_size": 500})
        assert response.status_code == 200
        expected = 155 if endpoint == "coverage" else rows
        assert response.json()["count"] == expected
        if endpoint == "coverage":
            assert sum(r["has_tksk"] for r in response.json()["results"]) == rows
