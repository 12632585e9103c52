"""District scoping, proved once for every scoped endpoint (see tests/scoped_endpoints.py)."""


import pytest
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse

from dinsos.scoping import ALL, ensure_in_area, in_area, user_area
from pmks.models import Household, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory
from tests.helpers import ids
from tests.scoped_endpoints import SCOPED_ENDPOINTS

pytestmark = pytest.mark.django_db
ENDPOINTS = sorted(SCOPED_ENDPOINTS)


def _has_route(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


#: endpoints with a changes feed (`<list>/changes/`) and a batch upsert (`<list>/batch/`)
FEEDS = [n for n in ENDPOINTS if _has_route(f"{n}-changes")]
BATCHES = [n for n in ENDPOINTS if _has_route(f"{n}-batch")]


@pytest.fixture
def two_districts(request):
    make = SCOPED_ENDPOINTS[request.param]
    return request.param, make(DESA_PANDEGLANG), make(DESA_LEBAK)


@pytest.mark.parametrize("two_districts", ENDPOINTS, indirect=True)
def test_district_operator_reads_own_object(two_districts, pandeglang_operator, api_as):
    name, own, _other = two_districts
    response = api_as(pandeglang_operator).get(reverse(f"{name}-detail", args=[own.pk]))
    assert response.status_code == 200
    assert response.json()["id"] == own.pk


@pytest.mark.parametrize("two_districts", ENDPOINTS, indirect=True)
def test_district_operator_gets_404_for_other_district(two_districts, pandeglang_operator, api_as):
    name, _own, other = two_districts
    client = api_as(pandeglang_operator)
    url = reverse(f"{name}-detail", args=[other.pk])
    assert client.get(url).status_code == 404
    # Where the endpoint never edits or deletes (assignments end, accounts are superseded,
    # payout lines are read-only) the answer is 405, or 403 without the write permission.
    assert client.patch(url, {}, format="json").status_code in (403, 404, 405)
    assert client.delete(url).status_code in (403, 404, 405)
    assert type(other).objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("two_districts", ENDPOINTS, indirect=True)
def test_list_never_shows_other_district(two_districts, pandeglang_operator, api_as):
    name, own, other = two_districts
    listed = ids(api_as(pandeglang_operator).get(reverse(f"{name}-list")))
    assert own.pk in listed
    assert other.pk not in listed


@pytest.mark.parametrize("two_districts", ENDPOINTS, indirect=True)
def test_province_operator_sees_both(two_districts, province_operator, api_as):
    name, own, other = two_districts
    listed = ids(api_as(province_operator).get(reverse(f"{name}-list")))
    assert {own.pk, other.pk} <= listed
    client = api_as(province_operator)
    assert client.get(reverse(f"{name}-detail", args=[other.pk])).status_code == 200


def test_create_outside_area_is_refused(pandeglang_operator, api_as):
    payload = {"no_kk": "3602011503150009", "address": "Jl. Lain", "desa": DESA_LEBAK}
    response = api_as(pandeglang_operator).post(
        reverse("pmks-api:household-list"), payload, format="json"
    )
    assert response.status_code == 403
    assert "di luar wilayah kerja" in response.json()["detail"]
    assert not Household.objects.filter(no_kk="3602011503150009").exists()


def test_moving_a_record_out_of_area_is_refused(pandeglang_operator, api_as):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    response = api_as(pandeglang_operator).patch(
        reverse("pmks-api:household-detail", args=[household.pk]), {"desa": DESA_LEBAK},
        format="json",
    )
    assert response.status_code == 403
    household.refresh_from_db()
    assert household.desa_id == DESA_PANDEGLANG


def test_area_is_derived_from_wilayah_not_client(pandeglang_operator, api_as):
    """kab_kota/kecamatan sent by the client are ignored; the server derives them."""
    payload = {
        "nik": "3601015708800001", "name": "Siti Aminah", "birth_date": "1980-08-17",
        "sex": "P", "desa": DESA_PANDEGLANG, "kab_kota": "36.02", "kecamatan": "36.02.01",
    }
    response = api_as(pandeglang_operator).post(
        reverse("pmks-api:person-list"), payload, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kab_kota"], body["kecamatan"]) == ("36.01", "36.01.01")
    assert Person.objects.get(pk=body["id"]).desa_id == DESA_PANDEGLANG


def test_user_area_rules(make_user, pandeglang_operator, province_operator, django_user_model):
    assert user_area(province_operator) is ALL
    assert user_area(pandeglang_operator) == "36.01"
    no_office = django_user_model.objects.create_user("tanpa_kantor", office=None)
    assert user_area(no_office) is None
    superuser = django_user_model.objects.create_superuser("root", office=None)
    assert user_area(superuser) is ALL


@pytest.mark.parametrize(
    ("kode", "allowed"),
    [
        ("36.01", True),
        ("36.01.01", True),
        ("36.01.01.2001", True),
        ("36.02.01.2002", False),
        ("36.010", False),  # a prefix match must stop at the dot
        ("36", False),
        (None, False),
    ],
)
def test_in_area_for_district_user(pandeglang_operator, kode, allowed):
    assert in_area(pandeglang_operator, kode) is allowed


def test_ensure_in_area_message_is_indonesian(pandeglang_operator):
    with pytest.raises(PermissionDenied, match="di luar wilayah kerja Anda"):
        ensure_in_area(pandeglang_operator, "36.02.01.2002")


def test_user_without_office_sees_nothing(django_user_model, api_as):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("lepas", office=None)
    user.groups.add(Group.objects.get(name="Operator Kab/Kota"))
    HouseholdFactory(desa_id=DESA_PANDEGLANG)
    assert ids(api_as(user).get(reverse("pmks-api:household-list"))) == set()


def test_scoping_uses_the_fk_column_without_join(pandeglang_operator):
    sql = str(Household.objects.for_user(pandeglang_operator).query)
    assert "JOIN" not in sql.upper()
    assert "desa_id" in sql




def test_feeds_and_batches_are_enumerated():
    assert {"pmks-api:person", "pmks-api:household", "pmks-api:case"} <= set(FEEDS)
    assert {"pmks-api:person", "pmks-api:household"} <= set(BATCHES)


@pytest.mark.parametrize("two_districts", FEEDS, indirect=True)
def test_changes_feed_never_shows_other_district(two_districts, pandeglang_operator,
                                                 province_operator, api_as):
    name, own, other = two_districts
    entries = api_as(pandeglang_operator).get(reverse(f"{name}-changes")).json()["results"]
    assert {e["id"] for e in entries} == {own.pk}
    entries = api_as(province_operator).get(reverse(f"{name}-changes")).json()["results"]
    assert {own.pk, other.pk} <= {e["id"] for e in entries}


@pytest.mark.parametrize("name", BATCHES)
def test_batch_never_writes_into_another_district(name, pandeglang_operator, api_as):
    """A row for a key registered in another district is refused without saying where."""
    other = SCOPED_ENDPOINTS[name](DESA_LEBAK)
    key = "nik" if hasattr(other, "nik") else "no_kk"
    row = {key: getattr(other, key), "name": "X", "address": "X", "desa": DESA_PANDEGLANG,
           "birth_date": "1980-08-17", "sex": "L"}
    body = api_as(pandeglang_operator).post(reverse(f"{name}-batch"), {"rows": [row]},
                                            format="json").json()
    assert body["results"][0]["status"] == "refused"
    assert DESA_LEBAK not in str(body)
    other.refresh_from_db()
    assert other.desa_id == DESA_LEBAK
