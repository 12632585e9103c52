"""The Kemendagri region tree of Banten: loaded by migration, refreshed by `load_wilayah`,
queried by dotted-code prefix, served read-only at /api/v1/wilayah/."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from rest_framework.test import APIClient

from dinsos import services
from dinsos.models import Wilayah
from dinsos.services import wilayah_rows

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/wilayah/"
LEVEL_ABOVE = {
    "kabupaten": "provinsi",
    "kota": "provinsi",
    "kecamatan": {"kabupaten", "kota"},
    "kelurahan": "kecamatan",
    "desa": "kecamatan",
}


# --- the data set --------------------------------------------------------------------------


def test_counts_per_level():
    counts = dict(Wilayah.objects.values_list("tingkat").annotate(n=Count("kode")))
    assert counts == {
        "provinsi": 1,
        "kabupaten": 4,
        "kota": 4,
        "kecamatan": 155,
        "kelurahan": 314,
        "desa": 1238,
    }
    assert Wilayah.objects.count() == 1716


def test_the_csv_has_the_same_1716_rows():
    assert len(list(wilayah_rows())) == 1716


def test_only_the_province_has_no_parent():
    assert list(Wilayah.objects.filter(induk__isnull=True).values_list("kode", flat=True)) == [
        "36"
    ]
    province = Wilayah.objects.get(kode="36")
    assert (province.nama, province.tingkat) == ("Banten", "provinsi")


def test_every_parent_is_the_code_minus_its_last_part_one_level_up():
    levels = dict(Wilayah.objects.values_list("kode", "tingkat"))
    bad = []
    for kode, tingkat, induk in Wilayah.objects.exclude(kode="36").values_list(
        "kode", "tingkat", "induk_id"
    ):
        expected_parent = kode.rsplit(".", 1)[0]
        above = LEVEL_ABOVE[tingkat]
        parent_level = levels.get(induk)
        level_ok = parent_level in above if isinstance(above, set) else parent_level == above
        if induk != expected_parent or not level_ok:
            bad.append((kode, tingkat, induk, parent_level))
    assert bad == []


def test_code_shape_per_level():
    shapes = {
        "provinsi": 1,
        "kabupaten": 2,
        "kota": 2,
        "kecamatan": 3,
        "kelurahan": 4,
        "desa": 4,
    }
    for kode, tingkat in Wilayah.objects.values_list("kode", "tingkat"):
        assert len(kode.split(".")) == shapes[tingkat], kode
    # Kemendagri: kelurahan serials start with 1, desa serials with 2.
    assert not Wilayah.objects.filter(tingkat="desa").exclude(kode__regex=r"\.2[0-9]{3}$").exists()
    assert (
        not Wilayah.objects.filter(tingkat="kelurahan")
        .exclude(kode__regex=r"\.1[0-9]{3}$")
        .exists()
    )


# --- loading is an idempotent upsert --------------------------------------------------------


def test_wilayah_load_twice_is_idempotent_and_restores_names():
    Wilayah.objects.filter(kode="36.01.01.2001").update(nama="Nama Salah")
    assert services.wilayah_load() == 1716
    assert services.wilayah_load() == 1716
    assert Wilayah.objects.count() == 1716
    assert Wilayah.objects.get(kode="36.01.01.2001").nama == "Sumberjaya"


def test_wilayah_load_restores_a_changed_parent_and_level():
    Wilayah.objects.filter(kode="36.01.01.2001").update(induk_id="36.02.01", tingkat="kelurahan")
    services.wilayah_load()
    desa = Wilayah.objects.get(kode="36.01.01.2001")
    assert (desa.induk_id, desa.tingkat) == ("36.01.01", "desa")


def test_wilayah_load_deletes_nothing():
    Wilayah.objects.create(kode="36.01.01.2999", nama="Desa Lokal", tingkat="desa",
                           induk_id="36.01.01")
    services.wilayah_load()
    assert Wilayah.objects.count() == 1717
    assert Wilayah.objects.filter(kode="36.01.01.2999").exists()


def test_load_wilayah_command_output_and_effect():
    Wilayah.objects.filter(kode="36.72").update(nama="Cilegon Lama")
    out = StringIO()
    call_command("load_wilayah", stdout=out)
    assert out.getvalue().strip() == "1716 wilayah dimuat, 9 kantor dinas."
    assert Wilayah.objects.get(kode="36.72").nama == "Kota Cilegon"
    assert Wilayah.objects.count() == 1716


# --- prefix queries -------------------------------------------------------------------------


def test_within_pandeglang():
    inside = Wilayah.objects.within("36.01")
    assert inside.count() == 1 + 35 + 13 + 326
    counts = dict(inside.values_list("tingkat").annotate(n=Count("kode")))
    assert counts == {"kabupaten": 1, "kecamatan": 35, "kelurahan": 13, "desa": 326}
    assert Wilayah.objects.within("36.01", include_self=False).count() == 35 + 13 + 326
    assert Wilayah.objects.get(kode="36.01").descendants().count() == 35 + 13 + 326


def test_within_does_not_match_a_longer_sibling_code():
    # "36.010" is not inside "36.01" although it starts with the same characters.
    Wilayah.objects.create(kode="36.010", nama="Bukan Pandeglang", tingkat="kabupaten",
                           induk_id="36")
    Wilayah.objects.create(kode="36.010.01", nama="Kecamatan Palsu", tingkat="kecamatan",
                           induk_id="36.010")
    codes = set(Wilayah.objects.within("36.01").values_list("kode", flat=True))
    assert "36.010" not in codes
    assert "36.010.01" not in codes
    assert len(codes) == 375


def test_within_a_desa_is_only_itself():
    assert list(Wilayah.objects.within("36.01.01.2001").values_list("kode", flat=True)) == [
        "36.01.01.2001"
    ]
    assert not Wilayah.objects.within("36.01.01.2001", include_self=False).exists()


def test_kab_kota_queryset():
    assert list(Wilayah.objects.kab_kota().values_list("kode", flat=True)) == [
        "36.01", "36.02", "36.03", "36.04", "36.71", "36.72", "36.73", "36.74",
    ]


def test_ancestor_codes_and_derived_codes(django_assert_num_queries):
    desa = Wilayah.objects.get(kode="36.01.01.2001")
    with django_assert_num_queries(0):
        assert desa.ancestor_codes == ["36", "36.01", "36.01.01"]
        assert desa.kab_kota_kode == "36.01"
        assert desa.kecamatan_kode == "36.01.01"
    assert Wilayah(kode="36").ancestor_codes == []
    assert Wilayah(kode="36.72").ancestor_codes == ["36"]
    assert Wilayah(kode="36").kab_kota_kode is None
    assert Wilayah(kode="36.72").kecamatan_kode is None
    assert list(desa.ancestors().values_list("nama", flat=True)) == [
        "Banten", "Kabupaten Pandeglang", "Sumur",
    ]


def test_str():
    assert str(Wilayah.objects.get(kode="36.01")) == "36.01 Kabupaten Pandeglang"


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def client(api_as, pandeglang_operator):
    return api_as(pandeglang_operator)


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["kode"] for row in response.json()["results"]]


def test_api_list_is_paginated_and_ordered(client):
    response = client.get(LIST_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1716
    assert len(body["results"]) == 50
    assert body["results"][0] == {"kode": "36", "nama": "Banten", "tingkat": "provinsi",
                                  "induk": None}
    assert body["results"][1]["kode"] == "36.01"


def test_api_filter_tingkat(client):
    response = client.get(LIST_URL, {"tingkat": "kecamatan", "page_size": 500})
    assert response.json()["count"] == 155
    assert {row["tingkat"] for row in response.json()["results"]} == {"kecamatan"}
    both = client.get(LIST_URL, {"tingkat": ["kabupaten", "kota"]})
    assert both.json()["count"] == 8


def test_api_filter_tingkat_rejects_unknown_level(client):
    response = client.get(LIST_URL, {"tingkat": "dusun"})
    assert response.status_code == 400
    assert "tingkat" in response.json()["errors"]


def test_api_filter_induk(client):
    response = client.get(LIST_URL, {"induk": "36.01", "page_size": 100})
    codes = _codes(response)
    assert response.json()["count"] == 35
    assert len(codes) == 35
    assert codes[0] == "36.01.01"
    assert all(code.startswith("36.01.") and code.count(".") == 2 for code in codes)


def test_api_filter_kode_prefix(client):
    response = client.get(LIST_URL, {"kode": "36.72", "page_size": 100})
    codes = _codes(response)
    assert response.json()["count"] == 52
    assert codes[0] == "36.72"
    assert all(code == "36.72" or code.startswith("36.72.") for code in codes)


def test_api_search_by_name_case_insensitive(client):
    response = client.get(LIST_URL, {"q": "PANDEGLANG"})
    assert _codes(response) == ["36.01", "36.01.21", "36.01.21.1009"]
    response = client.get(LIST_URL, {"q": "sumberjaya"})
    assert _codes(response) == ["36.01.01.2001"]


def test_api_search_by_code_prefix(client):
    response = client.get(LIST_URL, {"q": "36.01.01."})
    codes = _codes(response)
    assert codes and all(code.startswith("36.01.01.") for code in codes)


def test_api_detail(client):
    response = client.get(f"{LIST_URL}36.01.01.2001/")
    assert response.status_code == 200
    assert response.json() == {
        "kode": "36.01.01.2001",
        "nama": "Sumberjaya",
        "tingkat": "desa",
        "induk": "36.01.01",
    }


def test_api_detail_of_province_has_null_parent(client):
    assert client.get(f"{LIST_URL}36/").json()["induk"] is None


def test_api_unknown_code_is_404_json(client):
    response = client.get(f"{LIST_URL}36.99.99.9999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "not_found"
    assert body["detail"]


def test_api_district_operator_sees_the_whole_province_tree(client):
    # Reference data is not scoped: a Pandeglang operator may look up Lebak codes.
    assert client.get(f"{LIST_URL}36.02.01.2002/").status_code == 200


def test_api_is_read_only(client):
    assert client.post(LIST_URL, {"kode": "36.99", "nama": "X", "tingkat": "kota"},
                       format="json").status_code == 405
    assert client.delete(f"{LIST_URL}36.01/").status_code == 405
    assert Wilayah.objects.filter(kode="36.01").exists()


@pytest.mark.parametrize("url", [LIST_URL, f"{LIST_URL}36.01/"])
def test_api_anonymous_is_refused_with_json(url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "not_authenticated"
    assert body["detail"]


def test_api_page_size_is_at_most_500(client):
    response = client.get(LIST_URL, {"page_size": 500})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 500
    assert response.json()["count"] == 1716
    too_big = client.get(LIST_URL, {"page_size": 5000})  # was cut to 500 without a word
    assert too_big.status_code == 400
    assert too_big.json()["errors"] == {"page_size": ["page_size harus 1 sampai 500."]}


def test_api_page_out_of_range_is_404_json(client):
    response = client.get(LIST_URL, {"page": 999})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
