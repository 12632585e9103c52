"""Coverage per kecamatan: which kecamatan have no TKSK on a date and which held no rakor in a
month, for the province and for one kabupaten, through the selectors and the API."""

import datetime

import pytest

from dinsos.models import Wilayah
from psks import selectors
from psks.selectors import Month
from tests.factories import MeetingFactory, WorkerFactory
from tests.psks.factories import (
    DESA_CIMANGGU,
    DESA_LEBAK_2,
    KEC_CIBALIUNG,
    KEC_CIMANGGU,
    KEC_MALINGPING,
    KEC_SUMUR,
    assign,
)

pytestmark = pytest.mark.django_db

D = datetime.date
COVERAGE = "/api/v1/psks/coverage/"
KEC_CIKEUSIK = "36.01.04"
KEC_CIGEULIS = "36.01.05"
ON = D(2026, 10, 15)
OCTOBER = Month.parse("2026-10")

WITH_TKSK_ON_15_OCT = {KEC_SUMUR, KEC_CIKEUSIK, KEC_MALINGPING}
WITH_RAKOR_IN_OCT = {KEC_SUMUR, KEC_CIMANGGU, KEC_CIKEUSIK, KEC_MALINGPING}


@pytest.fixture
def all_kecamatan(db) -> set[str]:
    codes = set(Wilayah.objects.filter(tingkat="kecamatan").values_list("kode", flat=True))
    assert len(codes) == 155
    return codes


@pytest.fixture
def pandeglang_kecamatan(all_kecamatan) -> set[str]:
    codes = {c for c in all_kecamatan if c.startswith("36.01.")}
    assert len(codes) == 35
    return codes


@pytest.fixture
def situation(province_operator):
    """TKSK and rakor in a few kecamatan around 15 October 2026."""
    def tksk(name, desa, kecamatan, start, end):
        return assign(province_operator, WorkerFactory(name=name, desa_id=desa),
                      area=kecamatan, start=start, end=end)

    # Sumur: TKSK all through, one rakor on the first day of October
    tksk("TKSK Sumur", "36.01.01.2001", KEC_SUMUR, D(2025, 1, 2), D(2029, 12, 31))
    MeetingFactory(kecamatan_id=KEC_SUMUR, date=D(2026, 10, 1))
    # Cimanggu: the TKSK left the day before; rakor on the last day of October
    tksk("TKSK Cimanggu", DESA_CIMANGGU, KEC_CIMANGGU, D(2025, 1, 2), D(2026, 10, 14))
    MeetingFactory(kecamatan_id=KEC_CIMANGGU, date=D(2026, 10, 31))
    # Cibaliung: the TKSK starts the day after; rakor only in September, an FGD in October
    tksk("TKSK Cibaliung", "36.01.03.2001", KEC_CIBALIUNG, D(2026, 10, 16), D(2031, 10, 15))
    MeetingFactory(kecamatan_id=KEC_CIBALIUNG, date=D(2026, 9, 30))
    MeetingFactory(kecamatan_id=KEC_CIBALIUNG, date=D(2026, 10, 10), type="fgd")
    # Cikeusik: the TKSK's last day; two rakor in October and one in November
    tksk("TKSK Cikeusik", "36.01.04.2001", KEC_CIKEUSIK, D(2021, 10, 16), D(2026, 10, 15))
    for day in (D(2026, 10, 5), D(2026, 10, 19), D(2026, 11, 2)):
        MeetingFactory(kecamatan_id=KEC_CIKEUSIK, date=day)
    # Cigeulis: only a PSM, which is not a TKSK
    assign(province_operator, WorkerFactory(desa_id="36.01.05.2001"), role="psm",
           area=KEC_CIGEULIS, end=None)
    # Malingping (Lebak): TKSK and rakor
    tksk("TKSK Malingping", DESA_LEBAK_2, KEC_MALINGPING, D(2025, 1, 2), D(2029, 12, 31))
    MeetingFactory(kecamatan_id=KEC_MALINGPING, date=D(2026, 10, 20))


def codes(qs) -> set[str]:
    return {w.kode for w in qs}


def test_month_parse():
    assert Month.parse("2026-10") == Month(D(2026, 10, 1), D(2026, 10, 31))
    assert Month.parse("2024-02") == Month(D(2024, 2, 1), D(2024, 2, 29))
    assert Month.parse("2026-02").last == D(2026, 2, 28)


def test_province_kecamatan_without_tksk(situation, province_operator, all_kecamatan):
    missing = codes(selectors.kecamatan_without_tksk(user=province_operator, on=ON))
    assert len(missing) == 155 - 3
    assert missing == all_kecamatan - WITH_TKSK_ON_15_OCT
    assert {KEC_CIMANGGU, KEC_CIBALIUNG, KEC_CIGEULIS} <= missing


@pytest.mark.parametrize(("on", "covered"), [
    (D(2026, 10, 14), {KEC_SUMUR, KEC_CIMANGGU, KEC_CIKEUSIK, KEC_MALINGPING}),
    (D(2026, 10, 15), WITH_TKSK_ON_15_OCT),
    (D(2026, 10, 16), {KEC_SUMUR, KEC_CIBALIUNG, KEC_MALINGPING}),
    (D(2024, 12, 31), {KEC_CIKEUSIK}),
    (D(2032, 1, 1), set()),
])
def test_kecamatan_with_tksk_by_date(situation, province_operator, all_kecamatan, on, covered):
    missing = codes(selectors.kecamatan_without_tksk(user=province_operator, on=on))
    assert all_kecamatan - missing == covered


def test_province_kecamatan_without_rakor(situation, province_operator, all_kecamatan):
    missing = codes(selectors.kecamatan_without_rakor(user=province_operator, month=OCTOBER))
    assert len(missing) == 155 - 4
    assert missing == all_kecamatan - WITH_RAKOR_IN_OCT
    assert KEC_CIBALIUNG in missing  # rakor in September and an FGD don't count for October


@pytest.mark.parametrize(("month", "held"), [
    ("2026-09", {KEC_CIBALIUNG}),
    ("2026-10", WITH_RAKOR_IN_OCT),
    ("2026-11", {KEC_CIKEUSIK}),
    ("2026-12", set()),
])
def test_kecamatan_with_rakor_by_month(situation, province_operator, all_kecamatan, month,
                                       held):
    missing = codes(selectors.kecamatan_without_rakor(user=province_operator,
                                                      month=Month.parse(month)))
    assert all_kecamatan - missing == held


def test_coverage_rows(situation, province_operator):
    rows = {w.kode: (w.has_tksk, w.tksk_name, w.rakor_count)
            for w in selectors.kecamatan_coverage(user=province_operator, on=ON,
                                                  month=OCTOBER)}
    assert len(rows) == 155
    assert {k: rows[k] for k in (KEC_SUMUR, KEC_CIMANGGU, KEC_CIBALIUNG, KEC_CIKEUSIK,
                                 KEC_CIGEULIS, KEC_MALINGPING)} == {
        KEC_SUMUR: (True, "TKSK Sumur", 1),
        KEC_CIMANGGU: (False, None, 1),
        KEC_CIBALIUNG: (False, None, None),
        KEC_CIKEUSIK: (True, "TKSK Cikeusik", 2),
        KEC_CIGEULIS: (False, None, None),
        KEC_MALINGPING: (True, "TKSK Malingping", 1),
    }


def test_pandeglang_operator_sees_only_pandeglang(situation, pandeglang_operator,
                                                  pandeglang_kecamatan):
    everything = codes(selectors.kecamatan_coverage(user=pandeglang_operator, on=ON,
                                                    month=OCTOBER))
    assert everything == pandeglang_kecamatan
    no_tksk = codes(selectors.kecamatan_without_tksk(user=pandeglang_operator, on=ON))
    assert no_tksk == pandeglang_kecamatan - {KEC_SUMUR, KEC_CIKEUSIK}
    assert len(no_tksk) == 33
    no_rakor = codes(selectors.kecamatan_without_rakor(user=pandeglang_operator,
                                                       month=OCTOBER))
    assert no_rakor == pandeglang_kecamatan - {KEC_SUMUR, KEC_CIMANGGU, KEC_CIKEUSIK}
    assert len(no_rakor) == 32


def test_coverage_query_is_one_query(situation, province_operator,
                                     django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(selectors.kecamatan_coverage(user=province_operator, on=ON, month=OCTOBER))
        assert [r.induk.nama for r in rows][:1] == ["Kabupaten Pandeglang"]


# --- API ------------------------------------------------------------------------------------------


def api_codes(client, **params) -> list[str]:
    response = client.get(COVERAGE, {**params, "page_size": 500})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return [row["kode"] for row in body["results"]]


def test_api_missing_tksk(situation, province_operator, api_as, all_kecamatan):
    listed = api_codes(api_as(province_operator), missing="tksk", on="2026-10-15")
    assert listed == sorted(all_kecamatan - WITH_TKSK_ON_15_OCT)
    assert len(listed) == 152


def test_api_missing_rakor(situation, province_operator, api_as, all_kecamatan):
    listed = api_codes(api_as(province_operator), missing="rakor", month="2026-10")
    assert listed == sorted(all_kecamatan - WITH_RAKOR_IN_OCT)
    assert len(listed) == 151


def test_api_pandeglang_operator(situation, pandeglang_operator, api_as, pandeglang_kecamatan):
    client = api_as(pandeglang_operator)
    assert api_codes(client, on="2026-10-15", month="2026-10") == sorted(pandeglang_kecamatan)
    assert len(api_codes(client, missing="tksk", on="2026-10-15")) == 33
    assert len(api_codes(client, missing="rakor", month="2026-10")) == 32


def test_api_row_for_one_kecamatan(situation, province_operator, api_as):
    response = api_as(province_operator).get(
        COVERAGE, {"wilayah": KEC_CIKEUSIK, "on": "2026-10-15", "month": "2026-10"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    worker_id = row.pop("tksk_worker_id")
    assert isinstance(worker_id, int)
    assert row == {"kode": KEC_CIKEUSIK, "nama": "Cikeusik", "kab_kota": "36.01",
                   "kab_kota_nama": "Kabupaten Pandeglang", "has_tksk": True,
                   "tksk_name": "TKSK Cikeusik", "rakor_count": 2}


@pytest.mark.parametrize(("params", "field"), [
    ({"month": "2026-13"}, "month"),
    ({"month": "2026-1"}, "month"),
    ({"month": "Oktober 2026"}, "month"),
    ({"month": "2026-00", "missing": "rakor"}, "month"),
    ({"on": "2026-02-30"}, "on"),
    ({"on": "15-10-2026x", "missing": "tksk"}, "on"),
    ({"missing": "pendamping"}, "missing"),
])
def test_api_bad_parameters_are_400(province_operator, api_as, params, field):
    response = api_as(province_operator).get(COVERAGE, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_api_coverage_export(situation, pandeglang_operator, api_as):
    response = api_as(pandeglang_operator).get(
        f"{COVERAGE}export/", {"fmt": "csv", "on": "2026-10-15", "month": "2026-10"})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "kode_kecamatan,kecamatan,kab_kota,tksk,jumlah_rakor"
    assert len(lines) == 1 + 35
    assert "36.01.04,Cikeusik,Kabupaten Pandeglang,TKSK Cikeusik,2" in lines
