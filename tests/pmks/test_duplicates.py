"""Duplicate detection (services.duplicates_find), review through the API (merge, dismiss) and
the find_duplicates command."""

import datetime
import importlib.util
import io
import itertools

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from dinsos.models import Wilayah
from dinsos.validators import build_nik
from pmks import calculations, services
from pmks.models import DuplicateCandidate, Household, Person, PersonMerge
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, HouseholdFactory
from tests.helpers import ids, reads, results
from tests.pmks.factories import CaseFactory, RegistryPersonFactory, ServiceFactory

pytestmark = pytest.mark.django_db

DESA_CIMANGGU = "36.01.02.2001"  # Rancapinang, Kec. Cimanggu (another kecamatan of Pandeglang)
DESA_LEBAK_2 = "36.02.01.2003"
DUPLICATES = "/api/v1/pmks/duplicates/"
PERSONS = "/api/v1/pmks/persons/"

SAME_NAME = ["nama_sama_setelah_normalisasi", "tanggal_lahir_sama", "kecamatan_sama"]
SIMILAR_NAME = ["nama_mirip", "tanggal_lahir_sama", "kecamatan_sama"]
# a NIK typo counts only with names that agree, and the reasons say which way they agree
NIK_TYPO_SIMILAR = ["nik_satu_digit_berbeda", "nama_mirip", "tanggal_lahir_sama"]
NIK_TYPO_SAME = ["nik_satu_digit_berbeda", "nama_sama_setelah_normalisasi", "tanggal_lahir_sama"]

D_RIZKY = datetime.date(1990, 5, 10)
D_SITI = datetime.date(1992, 7, 21)
D_FAUZI = datetime.date(1975, 11, 2)
D_BUDI = datetime.date(1988, 1, 30)
D_HENDRA = datetime.date(1983, 9, 9)
D_RUDI = datetime.date(1966, 6, 6)
D_YANTI = datetime.date(1979, 12, 24)


def person(name, birth_date, sex, desa=DESA_PANDEGLANG, nik=None, **extra):
    return RegistryPersonFactory(name=name, birth_date=birth_date, sex=sex, desa_id=desa,
                                 nik=nik, **extra)


def with_nik(name, birth_date, sex, serial, desa=DESA_PANDEGLANG, kecamatan="36.01.01", **extra):
    return person(name, birth_date, sex, desa, build_nik(kecamatan, birth_date, sex, serial),
                  **extra)


@pytest.fixture
def planted(db):
    p = {}
    # variants of one name in one kecamatan, same birth date (one of each pair without NIK)
    p["rizky"] = with_nik("Muhammad Rizky", D_RIZKY, "L", 1001)
    p["rizki"] = person("M. Rizki", D_RIZKY, "L", DESA_PANDEGLANG_2)
    p["siti1"] = with_nik("Siti Nurhaliza", D_SITI, "P", 1002)
    p["siti2"] = person("St. Nur Haliza", D_SITI, "P")
    p["fauzi1"] = person("H. Ahmad Fauzi", D_FAUZI, "L")
    p["fauzi2"] = person("Achmad Fauzi", D_FAUZI, "L", DESA_PANDEGLANG_2)
    # NIKs one typo apart (swapped serial digits), same birth date, different kecamatan
    p["budi1"] = with_nik("Budi Santoso", D_BUDI, "L", 1234)
    p["budi2"] = with_nik("Budi Santosa", D_BUDI, "L", 1243, desa=DESA_CIMANGGU)
    # must NOT pair: same birth date and kecamatan, different names
    p["dewi"] = person("Dewi Lestari", D_RIZKY, "P")
    p["lestari"] = person("Dewi Lestari", D_HENDRA, "P")
    p["rina"] = person("Rina Marlina", D_HENDRA, "P")
    # must NOT pair: same name, different birth date
    p["agus1"] = person("Agus Salim", datetime.date(1970, 1, 1), "L")
    p["agus2"] = person("Agus Salim", datetime.date(1971, 1, 1), "L")
    # must NOT pair: two different valid NIKs (not one typo apart), same name and birth date
    p["hendra1"] = with_nik("Hendra Gunawan", D_HENDRA, "L", 2001)
    p["hendra2"] = with_nik("Hendra Gunawan", D_HENDRA, "L", 3456)
    # a pair inside Lebak
    p["rudi1"] = person("H. Rudi Hartono", D_RUDI, "L", DESA_LEBAK)
    p["rudi2"] = person("Rudi Hartono", D_RUDI, "L", DESA_LEBAK_2)
    # a pair across the two kabupaten (NIK typo)
    p["yanti1"] = with_nik("Yanti Susanti", D_YANTI, "P", 4321)
    p["yanti2"] = with_nik("Yanti Susanti", D_YANTI, "P", 4322, desa=DESA_LEBAK)
    return p


EXPECTED = {
    ("rizky", "rizki"): (67, SIMILAR_NAME),
    ("siti1", "siti2"): (90, SAME_NAME),
    ("fauzi1", "fauzi2"): (90, SAME_NAME),
    ("budi1", "budi2"): (95, NIK_TYPO_SIMILAR),
    ("rudi1", "rudi2"): (90, SAME_NAME),
    ("yanti1", "yanti2"): (95, NIK_TYPO_SAME),
}


def expected_rows(planted, names=EXPECTED):
    rows = set()
    for (a, b), (score, reasons) in EXPECTED.items():
        if (a, b) in names:
            low, high = sorted((planted[a].pk, planted[b].pk))
            rows.add((low, high, score, tuple(reasons), "terbuka"))
    return rows


def stored_rows():
    return {
        (c.person_a_id, c.person_b_id, c.score, tuple(c.reasons), c.status)
        for c in DuplicateCandidate.objects.all()
    }


def pair(planted, a, b) -> DuplicateCandidate:
    low, high = sorted((planted[a].pk, planted[b].pk))
    return DuplicateCandidate.objects.get(person_a_id=low, person_b_id=high)


# --- the scan ---------------------------------------------------------------------------------


def test_scan_finds_exactly_the_planted_pairs(planted, province_operator):
    scan = services.duplicates_find(user=province_operator)
    assert (scan.persons, scan.pairs) == (19, 6)
    assert stored_rows() == expected_rows(planted)
    assert all(c.person_a_id < c.person_b_id for c in DuplicateCandidate.objects.all())


def test_twins_with_neighbouring_niks_are_not_paired(province_operator):
    """Twins: one household, one birth date, NIK serials one apart, different names. The NIK
    typo rule alone scored them 95 (issue #11); now it needs the names to agree."""
    household = HouseholdFactory()
    born = datetime.date(2010, 4, 4)
    with_nik("Ahmad Hidayat", born, "L", 7001, household=household)
    with_nik("Agus Hidayat", born, "L", 7002, household=household)
    with_nik("Dadang Suryana", born, "L", 7003, desa=DESA_CIMANGGU, kecamatan="36.01.02")
    scan = services.duplicates_find(user=province_operator)
    assert (scan.persons, scan.pairs) == (3, 0)
    assert not DuplicateCandidate.objects.exists()


def test_one_birth_date_compares_only_persons_that_share_a_block(province_operator,
                                                                 monkeypatch):
    """60 persons born on one day in different desa with unrelated names: the old scan
    compared all 1,770 pairs (N² growth); blocking compares only pairs sharing a kecamatan —
    name-start and name-end blocks (which grew with the registry) compared the pairs sharing a
    given or family name too, which can never score across kecamatan without a NIK."""
    born = datetime.date(1985, 2, 2)
    desa = list(Wilayah.objects.filter(tingkat="desa", kode__startswith="36.0")
                .order_by("kode").values_list("kode", flat=True)[::13][:60])
    given = ["Abdul", "Bambang", "Cecep", "Dadang", "Endang", "Firman", "Gilang", "Hasan",
             "Iwan", "Jajang", "Komar", "Lukman", "Mamat", "Nandang", "Oman"]
    family = ["Pratama", "Qodir", "Rusli", "Sobari"]
    for i, code in enumerate(desa):
        person(f"{given[i % 15]} {family[i // 15]}", born, "L", code)
    compared = []
    real_score = calculations.duplicate_score
    monkeypatch.setattr(calculations, "duplicate_score",
                        lambda **kw: compared.append(kw) or real_score(**kw))
    scan = services.duplicates_find(user=province_operator)
    assert (scan.persons, scan.pairs) == (60, 0)
    # the pairs that share a kecamatan — and no others
    sharing = [(a, b) for a, b in itertools.combinations(range(60), 2)
               if desa[a][:8] == desa[b][:8]]
    assert len(compared) == len(sharing) < 1770 // 10


def test_scan_works_in_small_chunks(planted, province_operator):
    services.duplicates_find(user=province_operator, chunk_size=2)
    assert stored_rows() == expected_rows(planted)


def test_rescan_adds_nothing_and_keeps_the_review(planted, province_operator):
    services.duplicates_find(user=province_operator)
    dismissed = services.duplicate_dismiss(actor=province_operator,
                                           candidate=pair(planted, "fauzi1", "fauzi2"))
    before = dict(DuplicateCandidate.objects.values_list("id", "found_at"))

    scan = services.duplicates_find(user=province_operator)

    assert scan.pairs == 6
    assert dict(DuplicateCandidate.objects.values_list("id", "found_at")) == before
    dismissed.refresh_from_db()
    assert dismissed.status == "bukan_duplikat"
    assert dismissed.reviewed_by_id == province_operator.pk
    assert dismissed.reviewed_at is not None
    assert DuplicateCandidate.objects.filter(status="terbuka").count() == 5


def test_district_scan_stays_in_its_area(planted, pandeglang_operator):
    scan = services.duplicates_find(user=pandeglang_operator)
    assert (scan.persons, scan.pairs) == (16, 4)
    assert stored_rows() == expected_rows(
        planted, {("rizky", "rizki"), ("siti1", "siti2"), ("fauzi1", "fauzi2"),
                  ("budi1", "budi2")})


@pytest.mark.parametrize(
    ("wilayah", "found"),
    [
        ("36.02", {("rudi1", "rudi2")}),
        ("36.01.02", set()),
        ("36.01.01", {("rizky", "rizki"), ("siti1", "siti2"), ("fauzi1", "fauzi2")}),
    ],
)
def test_scan_limited_to_a_wilayah(planted, province_operator, wilayah, found):
    services.duplicates_find(user=province_operator, wilayah=wilayah)
    assert stored_rows() == expected_rows(planted, found)


def test_merged_persons_are_not_scanned(planted, province_operator):
    Person.objects.filter(pk=planted["rizki"].pk).update(merged_into=planted["rizky"])
    services.duplicates_find(user=province_operator)
    assert stored_rows() == expected_rows(planted, set(EXPECTED) - {("rizky", "rizki")})


def test_find_duplicates_command(planted, province_operator):
    # the only test that may skip: the command is written by another engineer
    if importlib.util.find_spec("pmks.management.commands.find_duplicates") is None:
        pytest.skip("pmks/management/commands/find_duplicates.py does not exist yet")
    out = io.StringIO()
    call_command("find_duplicates", user=province_operator.username, stdout=out)
    assert out.getvalue().strip() == "19 orang diperiksa, 6 pasangan kandidat."
    assert stored_rows() == expected_rows(planted)
    call_command("find_duplicates", user=province_operator.username, wilayah="36.02",
                 stdout=io.StringIO())
    assert DuplicateCandidate.objects.count() == 6


# --- merge and dismiss through the API -------------------------------------------------------


@pytest.fixture
def merge_case(planted, province_operator):
    """rizky (person_a, with NIK, no household) and rizki (person_b, no NIK, head of a household
    and the subject of a case with a service)."""
    rizky, rizki = planted["rizky"], planted["rizki"]
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG_2)
    Person.objects.filter(pk=rizki.pk).update(household=household, relationship="kepala")
    Household.objects.filter(pk=household.pk).update(head=rizki)
    case_b = CaseFactory(person=rizki, status="dalam_penanganan")
    service_b = ServiceFactory(case=case_b)
    case_a = CaseFactory(person=rizky, status="teridentifikasi")
    services.duplicates_find(user=province_operator)
    candidate = pair(planted, "rizky", "rizki")
    assert (candidate.person_a_id, candidate.person_b_id) == (rizky.pk, rizki.pk)
    return {"candidate": candidate, "kept": rizky, "merged": rizki, "household": household,
            "case_a": case_a, "case_b": case_b, "service_b": service_b}


def test_merge_keeps_a_and_moves_everything(merge_case, province_operator, api_as):
    kept, merged = merge_case["kept"], merge_case["merged"]
    nik = kept.nik
    client = api_as(province_operator)
    response = client.post(f"{DUPLICATES}{merge_case['candidate'].pk}/merge/",
                           {"keep": "a", "reason": "Orang yang sama (cek lapangan)"},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kept"], body["merged"], body["reason"]) == (
        kept.pk, merged.pk, "Orang yang sama (cek lapangan)")

    # cases and their services now belong to the kept person
    assert set(kept.cases.values_list("id", flat=True)) == {merge_case["case_a"].pk,
                                                            merge_case["case_b"].pk}
    assert not merged.cases.exists()
    merge_case["service_b"].refresh_from_db()
    assert merge_case["service_b"].case.person_id == kept.pk
    # household headship and membership
    household = merge_case["household"]
    household.refresh_from_db()
    assert household.head_id == kept.pk
    kept.refresh_from_db()
    assert (kept.nik, kept.household_id, kept.relationship) == (nik, household.pk, "kepala")
    # the merged person remains, pointing to the kept one
    merged.refresh_from_db()
    assert (merged.merged_into_id, merged.household_id, merged.nik) == (kept.pk, None, None)
    assert merged.name == "M. Rizki"
    # ... and is gone from the person list and detail
    assert merged.pk not in ids(client.get(PERSONS, {"page_size": 100}))
    assert kept.pk in ids(client.get(PERSONS, {"page_size": 100}))
    assert client.get(f"{PERSONS}{merged.pk}/").status_code == 404
    # snapshot of what the merged person was
    record = PersonMerge.objects.get(merged=merged)
    assert (record.kept_id, record.actor_id) == (kept.pk, province_operator.pk)
    assert record.snapshot["name"] == "M. Rizki"
    assert record.snapshot["household"] == household.pk
    assert record.snapshot["relationship"] == "kepala"
    assert record.snapshot["birth_date"] == "1990-05-10"
    assert record.snapshot["cases"] == [merge_case["case_b"].pk]
    # the candidate is closed
    candidate = merge_case["candidate"]
    candidate.refresh_from_db()
    assert (candidate.status, candidate.reviewed_by_id) == ("digabung", province_operator.pk)
    # the audit trail still has both persons, with the merge recorded on the merged one
    assert LogEntry.objects.get_for_object(kept).filter(action=LogEntry.Action.CREATE).exists()
    merged_entries = LogEntry.objects.get_for_object(merged)
    assert merged_entries.filter(action=LogEntry.Action.CREATE).exists()
    assert any("merged_into" in (e.changes or {}) for e in
               merged_entries.filter(action=LogEntry.Action.UPDATE))


def test_merge_keeping_b_moves_the_nik(planted, province_operator, api_as):
    services.duplicates_find(user=province_operator)
    siti1, siti2 = planted["siti1"], planted["siti2"]
    nik = siti1.nik
    candidate = pair(planted, "siti1", "siti2")
    response = api_as(province_operator).post(f"{DUPLICATES}{candidate.pk}/merge/",
                                              {"keep": "b"}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["kept"], response.json()["merged"]) == (siti2.pk, siti1.pk)
    siti1.refresh_from_db()
    siti2.refresh_from_db()
    assert (siti2.nik, siti2.merged_into_id) == (nik, None)
    assert (siti1.nik, siti1.merged_into_id) == (None, siti2.pk)
    assert PersonMerge.objects.get(merged=siti1).snapshot["nik"] == nik


def test_merge_twice_is_refused(merge_case, province_operator, api_as):
    client = api_as(province_operator)
    url = f"{DUPLICATES}{merge_case['candidate'].pk}/merge/"
    assert client.post(url, {"keep": "a"}, format="json").status_code == 201
    response = client.post(url, {"keep": "a"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["M. Rizki sudah digabung sebelumnya."]
    }
    assert PersonMerge.objects.count() == 1


def test_merge_needs_keep(merge_case, province_operator, api_as):
    response = api_as(province_operator).post(
        f"{DUPLICATES}{merge_case['candidate'].pk}/merge/", {"keep": "c"}, format="json")
    assert response.status_code == 400
    assert "keep" in response.json()["errors"]
    assert not PersonMerge.objects.exists()


def test_rescan_after_merge_keeps_the_pair_merged(merge_case, province_operator, api_as):
    api_as(province_operator).post(f"{DUPLICATES}{merge_case['candidate'].pk}/merge/",
                                   {"keep": "a"}, format="json")
    scan = services.duplicates_find(user=province_operator)
    assert scan.pairs == 5
    candidate = merge_case["candidate"]
    candidate.refresh_from_db()
    assert candidate.status == "digabung"
    assert DuplicateCandidate.objects.count() == 6


def test_dismiss(planted, province_operator, api_as):
    services.duplicates_find(user=province_operator)
    candidate = pair(planted, "budi1", "budi2")
    response = api_as(province_operator).post(f"{DUPLICATES}{candidate.pk}/dismiss/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["reviewed_by"]) == (
        candidate.pk, "bukan_duplikat", province_operator.username)
    candidate.refresh_from_db()
    assert candidate.status == "bukan_duplikat"
    assert Person.objects.filter(pk__in=[planted["budi1"].pk, planted["budi2"].pk],
                                 merged_into__isnull=True).count() == 2


def test_list_shows_scores_reasons_and_filters(planted, province_operator, api_as):
    services.duplicates_find(user=province_operator)
    client = api_as(province_operator)
    rows = results(client.get(DUPLICATES))
    assert [r["score"] for r in rows] == [95, 95, 90, 90, 90, 67]
    budi = pair(planted, "budi1", "budi2")
    row = next(r for r in rows if r["id"] == budi.pk)
    assert row["reasons"] == NIK_TYPO_SIMILAR
    assert {row["person_a"]["id"], row["person_b"]["id"]} == {planted["budi1"].pk,
                                                              planted["budi2"].pk}
    assert row["person_a"]["nik"] == planted["budi1"].nik  # whole for an operator
    assert len(results(client.get(DUPLICATES, {"min_score": 91}))) == 2
    assert ids(client.get(DUPLICATES, {"wilayah": "36.02"})) == {pair(planted, "rudi1",
                                                                      "rudi2").pk}


def test_auditor_may_read_but_not_merge_or_dismiss(merge_case, auditor, api_as):
    client = api_as(auditor)
    candidate = merge_case["candidate"]
    rows = results(client.get(DUPLICATES))
    assert candidate.pk in {r["id"] for r in rows}
    row = next(r for r in rows if r["id"] == candidate.pk)
    assert row["person_a"]["nik"] == merge_case["kept"].nik[:6] + "********" + \
        merge_case["kept"].nik[-2:]
    assert client.post(f"{DUPLICATES}{candidate.pk}/merge/", {"keep": "a"},
                       format="json").status_code == 403
    assert client.post(f"{DUPLICATES}{candidate.pk}/dismiss/").status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == "terbuka"
    assert not PersonMerge.objects.exists()
    assert Person.objects.get(pk=merge_case["merged"].pk).merged_into_id is None


def test_district_operator_sees_only_pairs_inside_its_area(
    planted, province_operator, pandeglang_operator, lebak_operator, api_as
):
    services.duplicates_find(user=province_operator)
    rudi = pair(planted, "rudi1", "rudi2")
    yanti = pair(planted, "yanti1", "yanti2")  # across the two kabupaten
    pandeglang = {pair(planted, a, b).pk for a, b in
                  [("rizky", "rizki"), ("siti1", "siti2"), ("fauzi1", "fauzi2"),
                   ("budi1", "budi2")]}

    client = api_as(pandeglang_operator)
    assert ids(client.get(DUPLICATES)) == pandeglang
    for candidate in (rudi, yanti):
        assert client.get(f"{DUPLICATES}{candidate.pk}/").status_code == 404
        assert client.post(f"{DUPLICATES}{candidate.pk}/merge/", {"keep": "a"},
                           format="json").status_code == 404
        assert client.post(f"{DUPLICATES}{candidate.pk}/dismiss/").status_code == 404
    assert ids(api_as(lebak_operator).get(DUPLICATES)) == {rudi.pk}
    assert ids(api_as(province_operator).get(DUPLICATES)) == pandeglang | {rudi.pk, yanti.pk}
    rudi.refresh_from_db()
    yanti.refresh_from_db()
    assert (rudi.status, yanti.status) == ("terbuka", "terbuka")
    assert not PersonMerge.objects.exists()


def test_merge_never_leaves_a_head_outside_its_household(planted, province_operator, api_as):
    rizky, rizki = planted["rizky"], planted["rizki"]
    home_a = HouseholdFactory()
    home_b = HouseholdFactory(desa_id=DESA_PANDEGLANG_2)
    Person.objects.filter(pk=rizky.pk).update(household=home_a, relationship="anak")
    Person.objects.filter(pk=rizki.pk).update(household=home_b, relationship="kepala")
    Household.objects.filter(pk=home_b.pk).update(head=rizki)
    services.duplicates_find(user=province_operator)
    candidate = pair(planted, "rizky", "rizki")
    response = api_as(province_operator).post(f"{DUPLICATES}{candidate.pk}/merge/",
                                              {"keep": "a"}, format="json")
    assert response.status_code == 201
    for household in Household.objects.filter(head__isnull=False).select_related("head"):
        assert household.head.household_id == household.pk, household


def test_duplicates_api_list_writes_an_access_entry(pandeglang_operator, api_as):
    """Personal-data audit (December 2026): P5 — GET /api/v1/pmks/duplicates/ nests both
    persons of each pair with their whole NIK (for an operator) but the viewset did not set
    ``log_access``: no ACCESS entry. Now one per page, naming the pairs shown."""
    a, b = RegistryPersonFactory(name="Siti Aminah"), RegistryPersonFactory(name="Siti Aminah")
    pair = DuplicateCandidate.objects.create(person_a=a, person_b=b, score=90,
                                             reasons=["nama_sama"])
    response = api_as(pandeglang_operator).get(DUPLICATES)
    assert response.status_code == 200
    assert a.nik in response.content.decode()
    assert [e.additional_data["rows"] for e in reads(DuplicateCandidate)] == [[str(pair.pk)]], (
        "duplicates list read without an ACCESS entry")


# --- the merge record's snapshot: personal data ------------------------------------------------

@pytest.fixture
def merge_record(province_operator):
    """A merge whose record keeps the merged person's whole NIK in ``snapshot``."""
    from tests.factories import PersonFactory

    kept = PersonFactory(name="Siti Aminah")
    merged = PersonFactory(name="Siti Aminah")
    nik = merged.nik
    record = services.person_merge(actor=province_operator, kept=kept, merged=merged,
                                   reason="uji")
    return record, nik


def test_merge_admin_page_shows_the_merged_persons_whole_nik_to_auditor(
        merge_record, province_operator, make_user):
    """Personal-data audit (December 2026): /admin/pmks/personmerge/<id>/change/ showed
    ``snapshot`` read-only as raw JSON; the identifier masking covered only model fields named
    nik/no_kk/…, so an Auditor read the merged person's whole NIK. It is shown through
    ``scoping.data_as_seen`` now: masked for the Auditor, whole for the operator."""
    from dinsos import roles
    from dinsos.scoping import mask
    from tests.helpers import client_for

    record, nik = merge_record
    url = f"/admin/pmks/personmerge/{record.pk}/change/"
    page = client_for(make_user(roles.AUDITOR)).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    leaked = nik in text
    assert not leaked, "whole NIK of the merged person on the Auditor's admin page"
    assert mask("nik", nik) in text and "Siti Aminah" in text
    assert nik in client_for(province_operator).get(url).content.decode()


def test_merge_admin_page_is_a_read_without_access_entry(merge_record, province_operator):
    """Personal-data audit (December 2026): the same page serves a person's whole NIK (and
    birth date, household…), but ``PersonMergeAdmin`` did not set ``log_access``: the read
    left no ACCESS entry."""
    from tests.helpers import client_for

    record, _nik = merge_record
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    page = client_for(province_operator).get(f"/admin/pmks/personmerge/{record.pk}/change/")
    assert page.status_code == 200
    after = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    assert after > before, "no ACCESS entry for a page showing a whole NIK"


def test_merge_audit_entry_stores_the_whole_nik(merge_record):
    """Personal-data audit (December 2026): PersonMerge is audited, and its ``snapshot`` JSON
    was no masked field: the CREATE entry stored the merged person's whole NIK in the audit
    trail, which keeps identifiers masked (UU 27/2022). The snapshot is left out of the trail
    (it stays on the merge record itself)."""
    import json

    from django.contrib.contenttypes.models import ContentType

    record, nik = merge_record
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PersonMerge), object_pk=str(record.pk))
    assert entries.exists()
    stored = json.dumps([e.changes for e in entries]) + "".join(e.changes_text for e in entries)
    leaked = nik in stored
    assert not leaked, "whole NIK stored in the audit trail's merge entry"
