"""The PMKS REST API: CRUD, NIK sync, filters, search, ordering, Idempotency-Key, cases and
services, exports, masking of identifiers and a constant number of queries per list."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dinsos.models import IdempotencyKey, Office
from pmks.models import Case, CaseTransition, DuplicateCandidate, Household, Person, Service
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    DESA_PANDEGLANG_2,
    HouseholdFactory,
)
from tests.helpers import ids, results
from tests.pmks.factories import (
    CaseFactory,
    HouseholdCaseFactory,
    RegistryPersonFactory,
    ServiceFactory,
    category,
    no_kk_for,
    service_type,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/pmks/"
HOUSEHOLDS = f"{API}households/"
PERSONS = f"{API}persons/"
CASES = f"{API}cases/"
SERVICES = f"{API}services/"
DUPLICATES = f"{API}duplicates/"
DESA_CIMANGGU = "36.01.02.2001"  # another kecamatan of Pandeglang
BORN = datetime.date(1985, 3, 12)
NIK_SITI = "3601015203850001"


def masked(nik: str) -> str:
    return nik[:6] + "********" + nik[-2:]


def person_body(**extra) -> dict:
    body = {"nik": NIK_SITI, "name": "Siti Aminah", "birth_date": "1985-03-12", "sex": "P",
            "desa": DESA_PANDEGLANG, "birth_place": "Pandeglang"}
    body.update(extra)
    return body


# --- households -------------------------------------------------------------------------------


def test_household_crud(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    no_kk = no_kk_for()
    response = client.post(HOUSEHOLDS, {
        "no_kk": no_kk, "address": "Kp. Sumur", "rt": "001", "rw": "002",
        "desa": DESA_PANDEGLANG_2, "decile": 2, "floor": "tanah", "lighting": "pln_450",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("no_kk", "address", "desa", "desa_nama", "kecamatan",
                                 "kab_kota", "decile", "floor", "lighting", "head",
                                 "member_count")} == {
        "no_kk": no_kk, "address": "Kp. Sumur", "desa": DESA_PANDEGLANG_2,
        "desa_nama": "Kertajaya", "kecamatan": "36.01.01", "kab_kota": "36.01", "decile": 2,
        "floor": "tanah", "lighting": "pln_450", "head": None, "member_count": 0,
    }
    url = f"{HOUSEHOLDS}{body['id']}/"

    head = RegistryPersonFactory(household_id=body["id"], relationship="kepala")
    response = client.patch(url, {"address": "Kp. Sumur Baru", "head": head.pk}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["address"], response.json()["head"]) == ("Kp. Sumur Baru", head.pk)

    detail = client.get(url).json()
    assert detail["head_name"] == head.name
    assert detail["member_count"] == 1
    assert [m["id"] for m in detail["members"]] == [head.pk]

    assert client.delete(url).status_code == 204
    assert not Household.objects.filter(pk=body["id"]).exists()
    head.refresh_from_db()
    assert head.household_id is None


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"no_kk": "360101"}, "no_kk", "Nomor KK harus terdiri dari tepat 16 angka."),
        ({"desa": "36.01.01"}, "desa", "Kode desa/kelurahan '36.01.01' tidak dikenal."),
        ({"desa": "36.01.01.9999"}, "desa",
         "Kode desa/kelurahan '36.01.01.9999' tidak dikenal."),
    ],
)
def test_household_create_validation(pandeglang_operator, api_as, payload, field, message):
    body = {"no_kk": no_kk_for(), "address": "Kp. Sumur", "desa": DESA_PANDEGLANG, **payload}
    response = api_as(pandeglang_operator).post(HOUSEHOLDS, body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] == "Data tidak valid. Periksa kolom yang disebut di 'errors'."
    assert field in data["errors"]
    if message:
        assert message in data["errors"][field]
    assert not Household.objects.exists()


@pytest.mark.parametrize("endpoint", ["households", "services"])
def test_constraint_errors_name_the_field(pandeglang_operator, api_as, endpoint):
    client = api_as(pandeglang_operator)
    if endpoint == "households":
        response = client.post(HOUSEHOLDS, {"no_kk": no_kk_for(), "address": "Kp. Sumur",
                                            "desa": DESA_PANDEGLANG, "decile": 11},
                               format="json")
        field = "decile"
    else:
        response = client.post(SERVICES, {
            "case": CaseFactory(status="dalam_penanganan").pk, "service_type": "bantuan-sembako",
            "start_date": "2024-08-01", "end_date": "2024-07-01", "funding_source": "apbn",
            "provider_name": "Dinsos"}, format="json")
        field = "end_date"
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert "pmks_" not in str(errors)


def test_household_with_a_case_cannot_be_deleted(pandeglang_operator, api_as):
    case = HouseholdCaseFactory()
    response = api_as(pandeglang_operator).delete(f"{HOUSEHOLDS}{case.household_id}/")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Keluarga yang memiliki kasus tidak dapat dihapus."]
    }


# --- persons ----------------------------------------------------------------------------------


def test_person_marital_status_and_chronic_illness_round_trip(pandeglang_operator, api_as):
    """Status perkawinan and penyakit kronis/menahun: optional (blank: not known), written and
    read as disability is; a value outside the lists is refused, naming the field."""
    client = api_as(pandeglang_operator)
    response = client.post(PERSONS, person_body(), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["marital_status"], response.json()["chronic_illness"]) == ("", "")
    url = f"{PERSONS}{response.json()['id']}/"
    response = client.patch(url, {"marital_status": "kawin", "chronic_illness": "diabetes"},
                            format="json")
    assert response.status_code == 200, response.content
    body = client.get(url).json()
    assert (body["marital_status"], body["chronic_illness"]) == ("kawin", "diabetes")
    person = Person.objects.get(pk=body["id"])
    assert (person.get_marital_status_display(), person.get_chronic_illness_display()) == (
        "Kawin", "Diabetes (kencing manis)")
    response = client.patch(url, {"marital_status": "cerai_hidup", "chronic_illness": ""},
                            format="json")
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert (person.marital_status, person.chronic_illness) == ("cerai_hidup", "")
    response = client.patch(url, {"marital_status": "duda", "chronic_illness": "flu"},
                            format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"marital_status", "chronic_illness"}
    person.refresh_from_db()
    assert person.marital_status == "cerai_hidup"


def test_person_crud(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    response = client.post(PERSONS, person_body(desa=DESA_PANDEGLANG_2), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("nik", "tanpa_nik", "nik_region", "name", "birth_date", "sex",
                                 "desa", "desa_nama", "kecamatan", "kab_kota", "life_status",
                                 "disability", "household")} == {
        "nik": NIK_SITI, "tanpa_nik": False,
        "nik_region": "Kec. Sumur, Kabupaten Pandeglang, Banten", "name": "Siti Aminah",
        "birth_date": "1985-03-12", "sex": "P", "desa": DESA_PANDEGLANG_2,
        "desa_nama": "Kertajaya", "kecamatan": "36.01.01", "kab_kota": "36.01",
        "life_status": "hidup", "disability": "tidak", "household": None,
    }
    url = f"{PERSONS}{body['id']}/"
    assert Person.objects.get(pk=body["id"]).name_key == "sitiaminah"

    response = client.patch(url, {"name": "St. Aminah", "occupation": "Petani"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["occupation"]) == ("St. Aminah", "Petani")
    assert client.get(url).json()["name"] == "St. Aminah"

    response = client.patch(url, {"life_status": "meninggal"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "life_status_date": ["Tanggal wajib diisi untuk status meninggal atau pindah."]
    }

    assert client.delete(url).status_code == 204
    assert not Person.objects.filter(pk=body["id"]).exists()


def test_person_without_nik(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(PERSONS, person_body(nik=""), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["nik"], response.json()["tanpa_nik"],
            response.json()["nik_region"]) == (None, True, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sex": "L"},
         "NIK menunjukkan jenis kelamin perempuan (perempuan: tanggal lahir + 40), tetapi "
         "data tertulis jenis kelamin laki-laki."),
        ({"birth_date": "1985-03-13"},
         "NIK menunjukkan tanggal lahir 12-03-(19)85, tetapi data tertulis tanggal lahir "
         "13-03-1985."),
        ({"nik": "36010152038500"}, "NIK harus terdiri dari tepat 16 angka."),
    ],
)
def test_person_create_checks_the_nik(pandeglang_operator, api_as, changes, message):
    response = api_as(pandeglang_operator).post(PERSONS, person_body(**changes), format="json")
    assert response.status_code == 400
    assert message in response.json()["errors"]["nik"]
    assert not Person.objects.exists()


def test_person_nik_is_unique(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    assert client.post(PERSONS, person_body(), format="json").status_code == 201
    response = client.post(PERSONS, person_body(name="Siti Lain"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"nik": ["Orang dengan NIK telah ada."]}
    assert Person.objects.count() == 1


def test_person_with_a_case_cannot_be_deleted(pandeglang_operator, api_as):
    case = CaseFactory()
    response = api_as(pandeglang_operator).delete(f"{PERSONS}{case.person_id}/")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Orang yang memiliki kasus tidak dapat dihapus; ubah statusnya."]
    }


def test_person_create_outside_area_is_403(pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).post(PERSONS, person_body(desa=DESA_LEBAK),
                                                format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Wilayah 36.02.01.2002 berada di luar wilayah "
                                                "kerja Anda")
    assert not Person.objects.exists()


# --- fetch and upsert by NIK ------------------------------------------------------------------


def test_get_by_nik(pandeglang_operator, lebak_operator, api_as):
    person = RegistryPersonFactory(nik=NIK_SITI, birth_date=BORN, sex="P")
    response = api_as(pandeglang_operator).get(f"{PERSONS}by-nik/{NIK_SITI}/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["nik"]) == (person.pk, NIK_SITI)
    accessed = LogEntry.objects.get_for_object(person).filter(action=LogEntry.Action.ACCESS)
    assert list(accessed.values_list("actor_id", flat=True)) == [pandeglang_operator.pk]
    assert api_as(lebak_operator).get(f"{PERSONS}by-nik/{NIK_SITI}/").status_code == 404
    missing = api_as(pandeglang_operator).get(f"{PERSONS}by-nik/3601015203850009/")
    assert missing.status_code == 404


def test_put_by_nik_creates_then_updates(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    url = f"{PERSONS}by-nik/{NIK_SITI}/"
    body = {k: v for k, v in person_body().items() if k != "nik"}
    created = client.put(url, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["nik"] == NIK_SITI
    updated = client.put(url, {**body, "name": "Siti Aminah Baru", "desa": DESA_PANDEGLANG_2},
                         format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["id"] == created.json()["id"]
    person = Person.objects.get()
    assert (person.nik, person.name, person.desa_id) == (NIK_SITI, "Siti Aminah Baru",
                                                         DESA_PANDEGLANG_2)


def test_put_by_nik_checks_the_nik_against_the_data(pandeglang_operator, api_as):
    body = {k: v for k, v in person_body(sex="L").items() if k != "nik"}
    response = api_as(pandeglang_operator).put(f"{PERSONS}by-nik/{NIK_SITI}/", body,
                                               format="json")
    assert response.status_code == 400
    assert "nik" in response.json()["errors"]
    assert not Person.objects.exists()


def test_put_by_nik_of_another_district_answers_like_registering_it(pandeglang_operator,
                                                                    api_as):
    """Issue #9 point 8: the answer never says the NIK lives in another district; it is the
    NIK-uniqueness refusal that POST persons/ gives for the same NIK."""
    other = RegistryPersonFactory(nik=NIK_SITI, birth_date=BORN, sex="P", desa_id=DESA_LEBAK,
                                  name="Siti Lebak")
    body = {k: v for k, v in person_body().items() if k != "nik"}
    client = api_as(pandeglang_operator)
    response = client.put(f"{PERSONS}by-nik/{NIK_SITI}/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["nik"]
    assert response.json() == client.post(PERSONS, {**body, "nik": NIK_SITI},
                                          format="json").json()
    assert "wilayah lain" not in response.content.decode()
    other.refresh_from_db()
    assert (other.name, other.desa_id) == ("Siti Lebak", DESA_LEBAK)


def test_put_by_nik_with_idempotency_key(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    body = {k: v for k, v in person_body().items() if k != "nik"}
    url = f"{PERSONS}by-nik/{NIK_SITI}/"
    first = client.put(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sync-1")
    second = client.put(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sync-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert Person.objects.count() == 1


# --- filters, search, ordering ----------------------------------------------------------------

DESAS = {"pandeglang": DESA_PANDEGLANG, "pandeglang_2": DESA_PANDEGLANG_2,
         "cimanggu": DESA_CIMANGGU, "lebak": DESA_LEBAK}
MAKERS = {
    "households": lambda desa: HouseholdFactory(desa_id=desa, no_kk=no_kk_for(desa[:8])),
    "persons": lambda desa: RegistryPersonFactory(desa_id=desa),
    "cases": lambda desa: CaseFactory(person=RegistryPersonFactory(desa_id=desa)),
    "services": lambda desa: ServiceFactory(
        case=CaseFactory(person=RegistryPersonFactory(desa_id=desa), status="dalam_penanganan")),
}


@pytest.mark.parametrize("endpoint", sorted(MAKERS))
@pytest.mark.parametrize(
    ("wilayah", "expected"),
    [
        ("36", {"pandeglang", "pandeglang_2", "cimanggu", "lebak"}),
        ("36.01", {"pandeglang", "pandeglang_2", "cimanggu"}),
        ("36.01.01", {"pandeglang", "pandeglang_2"}),
        ("36.01.01.2001", {"pandeglang"}),
        ("36.01.02", {"cimanggu"}),
        ("36.02", {"lebak"}),
        ("36.02.01.2002", {"lebak"}),
        ("36.03", set()),
        ("36.0", set()),  # a prefix that is not a whole code selects nothing
    ],
)
def test_wilayah_filter_at_every_level(province_operator, api_as, endpoint, wilayah, expected):
    made = {name: MAKERS[endpoint](desa) for name, desa in DESAS.items()}
    got = ids(api_as(province_operator).get(f"{API}{endpoint}/", {"wilayah": wilayah}))
    assert got == {made[name].pk for name in expected}


@pytest.mark.parametrize("endpoint", sorted(MAKERS))
def test_wilayah_filter_inside_a_district_scope(pandeglang_operator, api_as, endpoint):
    made = {name: MAKERS[endpoint](desa) for name, desa in DESAS.items()}
    client = api_as(pandeglang_operator)
    assert ids(client.get(f"{API}{endpoint}/", {"wilayah": "36.02"})) == set()
    assert ids(client.get(f"{API}{endpoint}/", {"wilayah": "36"})) == {
        made["pandeglang"].pk, made["pandeglang_2"].pk, made["cimanggu"].pk}


@pytest.fixture
def cases(db):
    anak = CaseFactory(category=category("anak-terlantar"), status="teridentifikasi",
                       identified_on=datetime.date(2024, 1, 10), source="tksk")
    lansia = CaseFactory(category=category("lanjut-usia-terlantar"), status="dalam_penanganan",
                         identified_on=datetime.date(2024, 2, 20), source="psm")
    miskin = HouseholdCaseFactory(status="dalam_penanganan",
                                  identified_on=datetime.date(2024, 3, 30), source="dtsen")
    selesai = CaseFactory(category=category("anak-terlantar"), status="selesai",
                          identified_on=datetime.date(2023, 12, 31), source="tksk")
    ServiceFactory(case=lansia, service_type=service_type("rehabilitasi-dalam-panti"),
                   start_date=datetime.date(2024, 3, 1), value_amount=Decimal("500000"),
                   funding_source="apbd_provinsi")
    ServiceFactory(case=miskin, service_type=service_type("bantuan-sembako"),
                   start_date=datetime.date(2024, 4, 15), value_amount=Decimal("200000"),
                   funding_source="apbn")
    ServiceFactory(case=miskin, service_type=service_type("usaha-ekonomi-produktif"),
                   start_date=datetime.date(2024, 5, 2), value_amount=Decimal("2500000"),
                   funding_source="apbd_kab_kota")
    return {"anak": anak, "lansia": lansia, "miskin": miskin, "selesai": selesai}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "anak-terlantar"}, {"anak", "selesai"}),
        ({"category": "fakir-miskin"}, {"miskin"}),
        ({"status": "dalam_penanganan"}, {"lansia", "miskin"}),
        ({"status": ["teridentifikasi", "selesai"]}, {"anak", "selesai"}),
        ({"source": "tksk"}, {"anak", "selesai"}),
        ({"pillar": "rehabilitasi_sosial"}, {"lansia"}),
        ({"pillar": "perlindungan_sosial"}, {"miskin"}),
        ({"pillar": "jaminan_sosial"}, set()),
        ({"identified_from": "2024-01-01"}, {"anak", "lansia", "miskin"}),
        ({"identified_from": "2024-02-01", "identified_to": "2024-02-29"}, {"lansia"}),
        ({"identified_to": "2023-12-31"}, {"selesai"}),
        ({"minimum_service": "true"}, {"anak", "lansia", "selesai"}),
        ({"category": "anak-terlantar", "status": "teridentifikasi"}, {"anak"}),
    ],
)
def test_case_filters(cases, province_operator, api_as, params, expected):
    got = ids(api_as(province_operator).get(CASES, params))
    assert got == {cases[name].pk for name in expected}


def test_case_filter_with_a_bad_value_is_400(cases, province_operator, api_as):
    response = api_as(province_operator).get(CASES, {"status": "arsip"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"pillar": "perlindungan_sosial"}, {"bantuan-sembako"}),
        ({"pillar": ["rehabilitasi_sosial", "pemberdayaan_sosial"]},
         {"rehabilitasi-dalam-panti", "usaha-ekonomi-produktif"}),
        ({"service_type": "bantuan-sembako"}, {"bantuan-sembako"}),
        ({"category": "lanjut-usia-terlantar"}, {"rehabilitasi-dalam-panti"}),
        ({"funding_source": "apbn"}, {"bantuan-sembako"}),
        ({"start_from": "2024-04-01"}, {"bantuan-sembako", "usaha-ekonomi-produktif"}),
        ({"start_from": "2024-03-01", "start_to": "2024-04-30"},
         {"rehabilitasi-dalam-panti", "bantuan-sembako"}),
        ({"start_to": "2024-02-29"}, set()),
    ],
)
def test_service_filters(cases, province_operator, api_as, params, expected):
    rows = results(api_as(province_operator).get(SERVICES, params))
    assert {r["service_type"] for r in rows} == expected


def test_service_filter_by_case(cases, province_operator, api_as):
    rows = results(api_as(province_operator).get(SERVICES, {"case": cases["miskin"].pk}))
    assert [r["service_type"] for r in rows] == ["usaha-ekonomi-produktif", "bantuan-sembako"]


@pytest.fixture
def people(db):
    return {
        "siti": RegistryPersonFactory(name="Siti Aminah", birth_date=BORN, sex="P",
                                      nik=NIK_SITI),
        "budi": RegistryPersonFactory(name="Budi Santoso", birth_date=datetime.date(1970, 1, 5),
                                      sex="L", nik="3601010501700002"),
        "ani": RegistryPersonFactory(name="Ani Suryani", birth_date=datetime.date(2001, 9, 30),
                                     sex="P", nik=None, life_status="meninggal",
                                     life_status_date=datetime.date(2024, 1, 1),
                                     disability="fisik", marital_status="cerai_mati",
                                     chronic_illness="hipertensi"),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "siti"}, {"siti"}),
        ({"q": "SANTO"}, {"budi"}),
        ({"q": "ani"}, {"ani"}),
        ({"q": "A"}, {"ani", "siti", "budi"}),
        ({"q": "360101520385"}, {"siti"}),  # NIK prefix
        ({"q": "3601010501"}, {"budi"}),
        ({"q": "9999"}, set()),
        ({"sex": "P"}, {"siti", "ani"}),
        ({"tanpa_nik": "true"}, {"ani"}),
        ({"tanpa_nik": "false"}, {"siti", "budi"}),
        ({"life_status": "meninggal"}, {"ani"}),
        ({"disability": "fisik"}, {"ani"}),
        ({"marital_status": "cerai_mati"}, {"ani"}),
        ({"marital_status": ["kawin", "cerai_mati"]}, {"ani"}),
        ({"chronic_illness": "hipertensi"}, {"ani"}),
        ({"birth_date_from": "1980-01-01"}, {"siti", "ani"}),
        ({"birth_date_to": "1985-03-12"}, {"siti", "budi"}),
        ({"birth_date_from": "1971-01-01", "birth_date_to": "2000-12-31"}, {"siti"}),
    ],
)
def test_person_filters_and_search(people, province_operator, api_as, params, expected):
    got = ids(api_as(province_operator).get(PERSONS, params))
    assert got == {people[name].pk for name in expected}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["ani", "budi", "siti"]),  # by name
        ("-name", ["siti", "budi", "ani"]),
        ("birth_date", ["budi", "siti", "ani"]),
        ("-birth_date", ["ani", "siti", "budi"]),
    ],
)
def test_person_ordering(people, province_operator, api_as, ordering, expected):
    params = {"ordering": ordering} if ordering else {}
    rows = results(api_as(province_operator).get(PERSONS, params))
    assert [r["id"] for r in rows] == [people[name].pk for name in expected]


def test_household_search_filters_and_ordering(province_operator, api_as):
    first = HouseholdFactory(no_kk="3601011204160001", address="Kp. Sumur", decile=3)
    second = HouseholdFactory(no_kk="3601021204160002", address="Kp. Cibadak", decile=1,
                              desa_id=DESA_CIMANGGU)
    third = HouseholdFactory(no_kk="3602011204160003", address="Jl. Raya", decile=None,
                             desa_id=DESA_LEBAK)
    head = RegistryPersonFactory(name="Haji Mamat", household=third, relationship="kepala")
    Household.objects.filter(pk=third.pk).update(head=head)
    client = api_as(province_operator)

    def got(**params):
        return [r["id"] for r in results(client.get(HOUSEHOLDS, params))]

    assert got() == [first.pk, second.pk, third.pk]  # by No. KK
    assert got(q="360102") == [second.pk]
    assert got(q="sumur") == [first.pk]
    assert got(q="mamat") == [third.pk]
    assert got(decile=1) == [second.pk]
    assert got(decile_max=2) == [second.pk]
    assert got(ordering="-no_kk") == [third.pk, second.pk, first.pk]
    assert got(ordering="decile", decile_max=10) == [second.pk, first.pk]
    assert got(ordering="-decile", decile_max=10) == [first.pk, second.pk]
    assert got(no_kk="3601011204160001") == [first.pk]


def test_case_and_service_ordering(cases, province_operator, api_as):
    client = api_as(province_operator)
    default = [r["id"] for r in results(client.get(CASES))]
    assert default == [cases[n].pk for n in ("miskin", "lansia", "anak", "selesai")]
    oldest = [r["id"] for r in results(client.get(CASES, {"ordering": "identified_on"}))]
    assert oldest == list(reversed(default))
    values = [r["value_amount"] for r in results(client.get(SERVICES,
                                                            {"ordering": "-value_amount"}))]
    assert values == ["2500000.00", "500000.00", "200000.00"]


def test_pagination(province_operator, api_as):
    for _ in range(5):
        RegistryPersonFactory()
    body = api_as(province_operator).get(PERSONS, {"page_size": 2, "page": 3}).json()
    assert body["count"] == 5
    assert len(body["results"]) == 1
    assert body["next"] is None


# --- Idempotency-Key --------------------------------------------------------------------------


def test_idempotent_person_create(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    first = client.post(PERSONS, person_body(), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    second = client.post(PERSONS, person_body(), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Person.objects.count() == 1
    assert IdempotencyKey.objects.filter(user=pandeglang_operator, key="key-1").count() == 1

    reused = client.post(PERSONS, person_body(name="Orang Lain", nik=""), format="json",
                         HTTP_IDEMPOTENCY_KEY="key-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert Person.objects.count() == 1


def test_failed_request_does_not_use_up_the_key(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    bad = client.post(PERSONS, person_body(sex="L"), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bad.status_code == 400
    good = client.post(PERSONS, person_body(), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good


def test_idempotency_keys_are_per_user(pandeglang_operator, province_operator, api_as):
    api_as(pandeglang_operator).post(PERSONS, person_body(), format="json",
                                     HTTP_IDEMPOTENCY_KEY="same")
    other = api_as(province_operator).post(
        PERSONS, person_body(nik="", name="Budi"), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Person.objects.count() == 2


def test_idempotent_case_transition(pandeglang_operator, api_as):
    case = CaseFactory()
    client = api_as(pandeglang_operator)
    url = f"{CASES}{case.pk}/transition/"
    body = {"status": "terverifikasi", "reason": "Dicek TKSK"}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tr-1")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tr-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert CaseTransition.objects.filter(case=case).count() == 1
    # without the key the same request is a new one, and refused
    again = client.post(url, body, format="json")
    assert again.status_code == 400


# --- cases ------------------------------------------------------------------------------------


def test_case_create_with_category_slug(pandeglang_operator, api_as):
    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG_2)
    response = api_as(pandeglang_operator).post(CASES, {
        "person": person.pk, "category": "lanjut-usia-terlantar", "identified_on": "2024-07-01",
        "source": "tksk", "description": "Tinggal sendiri", "desa": DESA_LEBAK,
        "status": "selesai",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("person", "household", "category", "desa", "kecamatan",
                                 "kab_kota", "status", "identified_on", "source")} == {
        "person": person.pk, "household": None, "category": "lanjut-usia-terlantar",
        "desa": DESA_PANDEGLANG_2, "kecamatan": "36.01.01", "kab_kota": "36.01",
        "status": "teridentifikasi", "identified_on": "2024-07-01", "source": "tksk",
    }


def test_case_create_for_a_household(pandeglang_operator, api_as):
    household = HouseholdFactory(desa_id=DESA_CIMANGGU, no_kk=no_kk_for("36.01.02"))
    client = api_as(pandeglang_operator)
    body = {"household": household.pk, "identified_on": "2024-07-01", "source": "dtsen"}
    response = client.post(CASES, {**body, "category": "fakir-miskin"}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["desa"], response.json()["kecamatan"]) == (DESA_CIMANGGU,
                                                                       "36.01.02")
    refused = client.post(CASES, {**body, "category": "anak-terlantar"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "household": ["Kategori Anak Terlantar dicatat per orang, bukan per keluarga."]
    }
    unknown = client.post(CASES, {**body, "category": "tidak-ada"}, format="json")
    assert unknown.status_code == 400
    assert "category" in unknown.json()["errors"]
    assert Case.objects.count() == 1


def test_case_transition_allowed_and_refused(pandeglang_operator, api_as):
    case = CaseFactory()
    client = api_as(pandeglang_operator)
    url = f"{CASES}{case.pk}/transition/"

    refused = client.post(url, {"status": "selesai"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "status": ["Status Teridentifikasi tidak dapat diubah menjadi Selesai."]
    }

    allowed = client.post(url, {"status": "terverifikasi", "reason": "Kunjungan rumah"},
                          format="json")
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["status"] == "terverifikasi"
    assert [(t["from_status"], t["to_status"], t["reason"], t["actor"])
            for t in allowed.json()["transitions"]] == [
        ("teridentifikasi", "terverifikasi", "Kunjungan rumah", pandeglang_operator.username)
    ]

    no_reason = client.post(url, {"status": "dirujuk"}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"] == {"reason": ["Alasan wajib diisi untuk status ini."]}

    closed = client.post(url, {"status": "ditutup", "reason": "Pindah ke Jakarta",
                               "close_reason": "pindah"}, format="json")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["close_reason"]) == ("ditutup", "pindah")

    detail = client.get(f"{CASES}{case.pk}/").json()
    assert [(t["from_status"], t["to_status"]) for t in detail["transitions"]] == [
        ("teridentifikasi", "terverifikasi"), ("terverifikasi", "ditutup")]


def test_case_status_is_not_writable(pandeglang_operator, api_as):
    case = CaseFactory()
    client = api_as(pandeglang_operator)
    response = client.patch(f"{CASES}{case.pk}/", {"status": "selesai",
                                                    "description": "Catatan baru"},
                            format="json")
    assert response.status_code == 200
    case.refresh_from_db()
    assert (case.status, case.description) == ("teridentifikasi", "Catatan baru")
    assert client.put(f"{CASES}{case.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"{CASES}{case.pk}/").status_code == 405


# --- services ---------------------------------------------------------------------------------


def test_service_create(pandeglang_operator, api_as):
    case = CaseFactory(status="terverifikasi")
    client = api_as(pandeglang_operator)
    response = client.post(SERVICES, {
        "case": case.pk, "service_type": "alat-bantu-disabilitas", "start_date": "2024-08-01",
        "value_amount": "1500000.50", "funding_source": "apbd_provinsi",
        "provider_name": "Balai Rehabilitasi", "pillar": "jaminan_sosial",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["pillar"], body["service_type"], body["value_amount"]) == (
        "rehabilitasi_sosial", "alat-bantu-disabilitas", "1500001.00")
    case.refresh_from_db()
    assert case.status == "dalam_penanganan"
    assert Service.objects.get().value_amount == Decimal("1500001")


def test_service_create_refused(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    body = {"service_type": "bantuan-sembako", "start_date": "2024-08-01",
            "funding_source": "apbn"}
    new_case = CaseFactory()
    response = client.post(SERVICES, {**body, "case": new_case.pk, "provider_name": "Dinsos"},
                           format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"case": [
        "Layanan hanya dapat dicatat untuk kasus terverifikasi atau dalam penanganan "
        "(status kasus: Teridentifikasi)."]}
    handled = CaseFactory(status="dalam_penanganan")
    response = client.post(SERVICES, {**body, "case": handled.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "provider_name": ["Isi pemberi layanan (dinas atau lembaga)."]}
    response = client.post(SERVICES, {**body, "case": handled.pk, "provider_name": "X",
                                      "value_amount": "-1"}, format="json")
    assert response.status_code == 400
    assert "value_amount" in response.json()["errors"]
    assert not Service.objects.exists()


def test_service_update_and_delete(pandeglang_operator, api_as):
    service = ServiceFactory()
    client = api_as(pandeglang_operator)
    response = client.patch(f"{SERVICES}{service.pk}/", {"value_amount": "99.5",
                                                         "note": "Revisi"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["value_amount"], response.json()["note"]) == ("100.00", "Revisi")
    assert client.delete(f"{SERVICES}{service.pk}/").status_code == 204
    assert not Service.objects.exists()


# --- scoping of cases and services ------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["cases", "services"])
def test_other_district_is_404_and_not_listed(pandeglang_operator, api_as, endpoint):
    own = MAKERS[endpoint](DESA_PANDEGLANG)
    other = MAKERS[endpoint](DESA_LEBAK)
    client = api_as(pandeglang_operator)
    assert ids(client.get(f"{API}{endpoint}/")) == {own.pk}
    assert client.get(f"{API}{endpoint}/{own.pk}/").status_code == 200
    url = f"{API}{endpoint}/{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"note": "x", "description": "x"}, format="json").status_code == 404
    if endpoint == "cases":
        response = client.post(f"{url}transition/", {"status": "terverifikasi"}, format="json")
        assert response.status_code == 404
        other.refresh_from_db()
        assert other.status == "teridentifikasi"
    else:
        assert client.delete(url).status_code == 404
        assert Service.objects.filter(pk=other.pk).exists()


def test_case_or_service_on_another_districts_subject_is_refused(pandeglang_operator, api_as):
    """Another district's person or case is "not found" (400), so its existence isn't revealed."""
    client = api_as(pandeglang_operator)
    person = RegistryPersonFactory(desa_id=DESA_LEBAK)
    response = client.post(CASES, {"person": person.pk, "category": "anak-terlantar",
                                   "identified_on": "2024-07-01", "source": "tksk"},
                           format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["person"]
    case = CaseFactory(person=person, status="terverifikasi")
    response = client.post(SERVICES, {"case": case.pk, "service_type": "bantuan-sembako",
                                      "start_date": "2024-08-01", "funding_source": "apbn",
                                      "provider_name": "Dinsos"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["case"]
    assert Case.objects.count() == 1
    assert not Service.objects.exists()


def test_reference_lists(auditor, api_as):
    client = api_as(auditor)
    categories = client.get(f"{API}categories/").json()
    assert len(categories) == 26
    assert categories[23] == {"number": 24, "slug": "fakir-miskin", "name": "Fakir Miskin",
                              "household_level": True, "minimum_service": False}
    types = client.get(f"{API}service-types/", {"pillar": "jaminan_sosial"}).json()
    assert {t["code"] for t in types} == {"pbi-jaminan-kesehatan", "jamsosratu",
                                          "asistensi-sosial"}


# --- exports ----------------------------------------------------------------------------------


def read_export(response) -> list[list[str]]:
    assert response.status_code == 200, getattr(response, "content", b"")
    content = b"".join(response.streaming_content)
    if response["Content-Type"].startswith("text/csv"):
        assert content.startswith("\ufeff".encode())
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [["" if v is None else str(v) for v in r]
            for r in workbook.worksheets[0].iter_rows(values_only=True)]


EXPORT_HEADER = ["nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "kode_desa",
                 "desa", "status_kawin", "disabilitas", "penyakit_kronis", "pendidikan",
                 "pekerjaan", "status_hidup"]


@pytest.fixture
def exported(db):
    return {
        "siti": RegistryPersonFactory(name="Siti Aminah", birth_date=BORN, sex="P",
                                      nik=NIK_SITI, desa_id=DESA_PANDEGLANG_2,
                                      marital_status="kawin", chronic_illness="diabetes"),
        "formula": RegistryPersonFactory(name='=HYPERLINK("x")', birth_place="+62 Serang",
                                         occupation="@SUM(A1)"),
        "lebak": RegistryPersonFactory(name="Orang Lebak", desa_id=DESA_LEBAK),
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_person_export_is_the_scoped_filtered_list(exported, pandeglang_operator, api_as, fmt):
    client = api_as(pandeglang_operator)
    rows = read_export(client.get(f"{PERSONS}export/", {"fmt": fmt}))
    assert rows[0] == EXPORT_HEADER
    # CSV: guard apostrophe; XLSX: a string cell (never a formula), text unchanged
    guard = "'" if fmt == "csv" else ""
    assert [r[1] for r in rows[1:]] == [guard + "=HYPERLINK(\"x\")", "Siti Aminah"]  # no Lebak
    formula = rows[1]
    assert (formula[2], formula[11]) == (guard + "+62 Serang", guard + "@SUM(A1)")
    assert rows[2] == [NIK_SITI, "Siti Aminah", "Pandeglang", "1985-03-12", "P",
                       DESA_PANDEGLANG_2, "Kertajaya", "kawin", "tidak", "diabetes", "", "",
                       "hidup"]
    filtered = read_export(client.get(f"{PERSONS}export/", {"fmt": fmt, "sex": "P"}))
    assert [r[1] for r in filtered[1:]] == ["Siti Aminah"]
    searched = read_export(client.get(f"{PERSONS}export/", {"fmt": fmt, "q": "hyper",
                                                           "ordering": "-name"}))
    assert [r[1] for r in searched[1:]] == [guard + "=HYPERLINK(\"x\")"]


def test_person_export_headers(exported, pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).get(f"{PERSONS}export/", {"fmt": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="pmks-orang-')
    response = api_as(pandeglang_operator).get(f"{PERSONS}export/", {"fmt": "pdf"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"fmt": ["Format ekspor harus csv atau xlsx."]}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_person_export_masks_the_nik_for_an_auditor(exported, auditor, api_as, fmt):
    rows = read_export(api_as(auditor).get(f"{PERSONS}export/", {"fmt": fmt}))
    by_name = {r[1]: r for r in rows[1:]}
    guard = "'" if fmt == "csv" else ""
    assert set(by_name) == {guard + "=HYPERLINK(\"x\")", "Siti Aminah", "Orang Lebak"}
    assert by_name["Siti Aminah"][0] == "360101********01"
    assert all("*" in r[0] for r in rows[1:])


@pytest.mark.parametrize(
    ("endpoint", "first_column"), [("households", "no_kk"), ("cases", "id"),
                                   ("services", "id")],
)
def test_other_exports(endpoint, first_column, pandeglang_operator, api_as):
    own = MAKERS[endpoint](DESA_PANDEGLANG)
    MAKERS[endpoint](DESA_LEBAK)
    rows = read_export(api_as(pandeglang_operator).get(f"{API}{endpoint}/export/",
                                                        {"fmt": "csv"}))
    assert rows[0][0] == first_column
    assert len(rows) == 2
    expected = own.no_kk if endpoint == "households" else str(own.pk)
    assert rows[1][0] == expected


# --- masking of identifiers -------------------------------------------------------------------


def test_nik_and_no_kk_masked_for_the_auditor(auditor, pandeglang_operator, api_as):
    household = HouseholdFactory(no_kk="3601011204160001")
    person = RegistryPersonFactory(nik=NIK_SITI, birth_date=BORN, sex="P", household=household)
    as_auditor, as_operator = api_as(auditor), api_as(pandeglang_operator)

    assert results(as_auditor.get(PERSONS))[0]["nik"] == "360101********01"
    assert as_auditor.get(f"{PERSONS}{person.pk}/").json()["nik"] == "360101********01"
    assert as_auditor.get(f"{PERSONS}by-nik/{NIK_SITI}/").json()["nik"] == "360101********01"
    detail = as_auditor.get(f"{HOUSEHOLDS}{household.pk}/").json()
    assert detail["no_kk"] == "360101********01"
    assert detail["members"][0]["nik"] == "360101********01"

    assert results(as_operator.get(PERSONS))[0]["nik"] == NIK_SITI
    detail = as_operator.get(f"{HOUSEHOLDS}{household.pk}/").json()
    assert (detail["no_kk"], detail["members"][0]["nik"]) == ("3601011204160001", NIK_SITI)


def test_auditor_finds_identifiers_only_by_the_whole_number(people, auditor, province_operator,
                                                            api_as):
    """Masked for the Auditor, so not searchable digit by digit (UU 27/2022)."""
    household = HouseholdFactory(no_kk="3601011204160001")
    as_auditor, as_operator = api_as(auditor), api_as(province_operator)
    assert ids(as_auditor.get(PERSONS, {"q": "360101520385"})) == set()
    assert ids(as_auditor.get(PERSONS, {"q": NIK_SITI})) == {people["siti"].pk}
    assert ids(as_operator.get(PERSONS, {"q": "360101520385"})) == {people["siti"].pk}
    assert ids(as_auditor.get(HOUSEHOLDS, {"q": "36010112"})) == set()
    assert ids(as_auditor.get(HOUSEHOLDS, {"q": "3601011204160001"})) == {household.pk}
    assert ids(as_operator.get(HOUSEHOLDS, {"q": "36010112"})) == {household.pk}
    rows = read_export(as_auditor.get(f"{PERSONS}export/", {"fmt": "csv", "q": "3601015"}))
    assert rows[1:] == []


def test_auditor_reads_but_cannot_write(auditor, api_as):
    person = RegistryPersonFactory()
    client = api_as(auditor)
    assert client.get(f"{PERSONS}{person.pk}/").status_code == 200
    assert client.post(PERSONS, person_body(), format="json").status_code == 403
    assert client.patch(f"{PERSONS}{person.pk}/", {"name": "X"},
                        format="json").status_code == 403
    assert client.delete(f"{PERSONS}{person.pk}/").status_code == 403
    case = CaseFactory(person=person)
    response = client.post(f"{CASES}{case.pk}/transition/", {"status": "terverifikasi"},
                           format="json")
    assert response.status_code == 403


# --- a constant number of queries per list ----------------------------------------------------


def make_duplicate_pair(desa=DESA_PANDEGLANG):
    a = RegistryPersonFactory(desa_id=desa)
    b = RegistryPersonFactory(desa_id=desa, nik=None, name=a.name, birth_date=a.birth_date)
    return DuplicateCandidate.objects.create(person_a=a, person_b=b, score=90,
                                             reasons=["nama_sama_setelah_normalisasi"])


LIST_MAKERS = {
    "households": lambda: RegistryPersonFactory(
        household=HouseholdFactory(), relationship="kepala").household,
    "persons": lambda: RegistryPersonFactory(household=HouseholdFactory()),
    "cases": lambda: CaseFactory(),
    "services": lambda: ServiceFactory(provider_office=Office.objects.get(wilayah_id="36")),
    "duplicates": make_duplicate_pair,
}
# Queries per list request whatever the page holds: session, user, the user's office (its
# area), permissions (user and group), the count and the page.
# households, persons and duplicates (both persons' NIK): one more for the audit entry of the
# read (UU 27/2022)
LIST_QUERIES = {"households": 8, "persons": 8, "cases": 7, "services": 7, "duplicates": 8}


def _list_queries(client, endpoint) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{API}{endpoint}/", {"page_size": 100})
    return len(captured), len(results(response))


@pytest.mark.parametrize("endpoint", sorted(LIST_MAKERS))
@pytest.mark.parametrize("user", ["province_operator", "auditor"])
def test_list_queries_do_not_grow_with_rows(endpoint, user, request, api_as,
                                            django_assert_max_num_queries):
    client = api_as(request.getfixturevalue(user))
    client.get(f"{API}{endpoint}/")  # warm the session
    limit = LIST_QUERIES[endpoint]
    for _ in range(3):
        LIST_MAKERS[endpoint]()
    with django_assert_max_num_queries(limit):
        assert len(results(client.get(f"{API}{endpoint}/", {"page_size": 100}))) == 3
    small = _list_queries(client, endpoint)[0]
    for _ in range(27):
        LIST_MAKERS[endpoint]()
    with django_assert_max_num_queries(limit):
        assert len(results(client.get(f"{API}{endpoint}/", {"page_size": 100}))) == 30
    assert _list_queries(client, endpoint) == (small, 30)
