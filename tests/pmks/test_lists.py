"""Lists at province scale (issue #11): no GROUP BY over an area, an index behind every default
ordering, exact lookups for NIK / No. KK in the API and the admin, a bounded COUNT."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dinsos import pagination
from dinsos.scoping import ALL, user_area
from pmks import selectors
from pmks.api.views import (
    CaseViewSet,
    DuplicateCandidateViewSet,
    HouseholdViewSet,
    PersonViewSet,
    ServiceViewSet,
)
from pmks.models import Household, Person
from psks.models import Worker
from tests.factories import HouseholdFactory, PersonFactory
from tests.helpers import postgres_only, results

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/pmks/households/"
PERSONS = "/api/v1/pmks/persons/"
ADMIN_PERSONS = "/admin/pmks/person/"
ADMIN_HOUSEHOLDS = "/admin/pmks/household/"


def sql_of(context, table: str) -> list[str]:
    return [q["sql"] for q in context.captured_queries if table in q["sql"]]


@pytest.fixture
def registry(db):
    """Households of 0, 1 and 3 members; the three-member one has a merged-away person too."""
    empty, single, three = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    PersonFactory(household=single, name="Siti Aminah")
    members = [PersonFactory(household=three, name=f"Anggota {i}") for i in range(3)]
    return {"empty": empty, "single": single, "three": three, "members": members}


def test_households_list_counts_members_per_row_without_group_by(registry, api_as,
                                                                province_operator):
    client = api_as(province_operator)
    with CaptureQueriesContext(connection) as context:
        rows = results(client.get(HOUSEHOLDS))
    counts = {row["id"]: row["member_count"] for row in rows}
    assert counts == {registry["empty"].pk: 0, registry["single"].pk: 1,
                      registry["three"].pk: 3}
    assert not [sql for sql in sql_of(context, "pmks_household") if "GROUP BY" in sql]


def test_household_detail_and_export_keep_the_member_count(registry, api_as, province_operator):
    client = api_as(province_operator)
    detail = client.get(f"{HOUSEHOLDS}{registry['three'].pk}/").json()
    assert (detail["member_count"], len(detail["members"])) == (3, 3)
    exported = client.get(f"{HOUSEHOLDS}export/", {"fmt": "csv"})
    assert exported.status_code == 200
    body = b"".join(exported.streaming_content).decode("utf-8-sig") if exported.streaming \
        else exported.content.decode("utf-8-sig")
    assert sorted(line.rsplit(",", 2)[-2] for line in body.splitlines()[1:]) == ["0", "1", "3"]



def test_households_page_reads_only_the_names_of_desa_and_head(registry, api_as,
                                                             province_operator):
    """A page builds no full desa and head per household: of them it reads only the name (and
    reading the name loads nothing more, in the list and in the export)."""
    for household in (registry["single"], registry["three"]):
        household.head = household.members.first()
        household.save()
    client = api_as(province_operator)
    with CaptureQueriesContext(connection) as context:
        rows = {row["id"]: row for row in results(client.get(HOUSEHOLDS))}
        exported = client.get(f"{HOUSEHOLDS}export/", {"fmt": "csv"})
        body = b"".join(exported.streaming_content) if exported.streaming else exported.content
    three = registry["three"]
    assert rows[three.pk]["head_name"] == three.head.name
    assert rows[three.pk]["desa_nama"] == three.desa.nama
    assert rows[registry["empty"].pk]["head_name"] is None
    assert three.head.name in body.decode("utf-8-sig")
    pages = sql_of(context, 'FROM "pmks_household"')
    assert pages and all('"pmks_person"."nik"' not in sql and '"dinsos_wilayah"."tingkat"'
                         not in sql for sql in pages)
    assert not sql_of(context, 'FROM "pmks_person" WHERE "pmks_person"."id" =')

# --- exact identifier lookups -------------------------------------------------------------------


def test_api_search_by_a_whole_nik_is_an_equality(registry, api_as, province_operator):
    person = registry["members"][1]
    with CaptureQueriesContext(connection) as context:
        found = results(api_as(province_operator).get(PERSONS, {"q": person.nik}))
    assert [row["id"] for row in found] == [person.pk]
    searches = sql_of(context, "pmks_person")
    assert searches and not [sql for sql in searches if "LIKE" in sql.upper()]


def test_api_search_by_a_whole_no_kk_is_an_equality(registry, api_as, province_operator):
    household = registry["three"]
    with CaptureQueriesContext(connection) as context:
        found = results(api_as(province_operator).get(HOUSEHOLDS, {"q": household.no_kk}))
    assert [row["id"] for row in found] == [household.pk]
    assert not [sql for sql in sql_of(context, "pmks_household") if "LIKE" in sql.upper()]


def test_api_prefix_search_still_works_for_full_identifier_roles(registry, api_as,
                                                                 province_operator):
    person = registry["members"][0]
    found = {row["id"] for row in results(api_as(province_operator).get(
        PERSONS, {"q": person.nik[:12]}))}
    assert person.pk in found


@pytest.mark.parametrize("url, term_of", [
    (ADMIN_PERSONS, lambda r: r["members"][2].nik),
    (ADMIN_PERSONS, lambda r: r["three"].no_kk),
    (ADMIN_HOUSEHOLDS, lambda r: r["single"].no_kk),
])
def test_admin_search_by_a_whole_identifier_is_an_indexed_equality(registry, province_operator,
                                                                   url, term_of):
    client = Client()
    client.force_login(province_operator)
    term = term_of(registry)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, {"q": term})
    assert response.status_code == 200
    shown = response.context["cl"].result_list
    if url == ADMIN_HOUSEHOLDS:
        assert list(shown) == [registry["single"]]
    elif term == registry["three"].no_kk:
        assert set(shown) == set(registry["members"])
    else:
        assert list(shown) == [registry["members"][2]]
    table = "pmks_household" if url == ADMIN_HOUSEHOLDS else "pmks_person"
    searched = sql_of(context, table)
    assert searched
    assert not [sql for sql in searched if "UPPER(" in sql or "LIKE" in sql.upper()]


def test_admin_search_by_name_still_works(registry, province_operator):
    client = Client()
    client.force_login(province_operator)
    response = client.get(ADMIN_PERSONS, {"q": "aminah"})
    assert [p.name for p in response.context["cl"].result_list] == ["Siti Aminah"]


# --- bounded COUNT --------------------------------------------------------------------------------


def test_api_list_count_reads_a_bounded_number_of_rows(registry, api_as, province_operator):
    with CaptureQueriesContext(connection) as context:
        body = api_as(province_operator).get(PERSONS).json()
    assert body["count"] == 4
    assert "count_is_estimate" not in body
    counts = [sql for sql in sql_of(context, "pmks_person") if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts


def test_admin_changelist_count_is_bounded_and_not_repeated(registry, province_operator):
    client = Client()
    client.force_login(province_operator)
    with CaptureQueriesContext(connection) as context:
        response = client.get(ADMIN_PERSONS)
    assert response.context["cl"].result_count == 4
    counts = [sql for sql in sql_of(context, "pmks_person") if "COUNT(" in sql.upper()]
    assert len(counts) == 1 and "LIMIT" in counts[0].upper(), counts


def test_bounded_count_is_exact_up_to_the_cap():
    HouseholdFactory.create_batch(3)
    assert pagination.bounded_count(Household.objects.all(), cap=3) == (3, False)


@postgres_only
@pytest.mark.usefixtures("no_cached_estimates")
def test_above_the_cap_postgresql_estimates_and_the_api_says_so(registry, api_as,
                                                               province_operator, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pmks_person")
    count, estimated = pagination.bounded_count(Person.objects.all(), cap=2)
    assert estimated is True and count >= 3
    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    monkeypatch.setattr(pagination.bounded_count, "__defaults__", (2,))
    body = api_as(province_operator).get(PERSONS).json()
    assert body["count_is_estimate"] is True
    assert body["count"] >= 3
    assert len(body["results"]) == 4


@pytest.fixture
def no_cached_estimates():
    """Estimates are cached by query and cap: tests that lower the cap start and end clean."""
    from django.core.cache import cache

    cache.clear()
    pagination.clear_local()
    yield
    cache.clear()
    pagination.clear_local()


@postgres_only
@pytest.mark.usefixtures("no_cached_estimates")
def test_an_estimate_is_cached_so_the_next_page_counts_nothing(registry, api_as,
                                                              province_operator,
                                                              lebak_operator, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pmks_person")
    monkeypatch.setattr(pagination.bounded_count, "__defaults__", (2,))
    client = api_as(province_operator)
    first = client.get(PERSONS, {"page_size": 1}).json()
    with CaptureQueriesContext(connection) as context:
        second = client.get(PERSONS, {"page_size": 1, "page": 2}).json()
    assert second["count"] == first["count"] >= 3 and second["count_is_estimate"] is True
    assert not [sql for sql in sql_of(context, "pmks_person")
                if "COUNT(" in sql.upper() or sql.startswith("EXPLAIN")]
    assert pagination.bounded_count(Person.objects.filter(name="Siti Aminah"), cap=2) == (
        1, False)  # at or under the cap: exact, never cached
    # another filter, or another user's scope, is another count
    household = registry["single"].pk
    assert client.get(PERSONS, {"household": household}).json()["count"] == 1
    lebak = api_as(lebak_operator).get(PERSONS).json()  # the registry is in Pandeglang
    assert (lebak["count"], lebak["results"], "count_is_estimate" in lebak) == (0, [], False)


def test_elsewhere_above_the_cap_the_count_stays_exact(registry):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL estimates above the cap (the test above)")
    assert pagination.bounded_count(Person.objects.all(), cap=2) == (4, False)


# --- an index behind every default ordering -------------------------------------------------------


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    return json.dumps(plan) if not isinstance(plan, str) else plan


@postgres_only
@pytest.mark.parametrize("name, queryset, index", [
    ("persons", lambda u: selectors.person_list(user=u).order_by(*PersonViewSet.ordering),
     "pmks_person_active_name"),
    ("households", lambda u: selectors.household_list(user=u).order_by(
        *HouseholdViewSet.ordering), "pmks_household_no_kk"),
    ("cases", lambda u: selectors.case_list(user=u).order_by(*CaseViewSet.ordering),
     "pmks_case_order"),
    ("services", lambda u: selectors.service_list(user=u).order_by(*ServiceViewSet.ordering),
     "pmks_service_order"),
    ("duplicates", lambda u: selectors.duplicate_list(user=u).order_by(
        *DuplicateCandidateViewSet.ordering), "pmks_duplicate_order"),
    ("workers", lambda u: Worker.objects.for_user(u).order_by(*Worker._meta.ordering),
     "psks_worker_name"),
])
def test_default_ordering_is_read_from_an_index_without_sorting(province_operator, name,
                                                                queryset, index):
    plan = _plan(queryset(province_operator)[:50])
    assert index in plan, plan
    assert '"Sort"' not in plan, plan


# --- cursor pages for sync clients ------------------------------------------------------------


def test_cursor_pages_walk_a_list_by_id_without_count(api_as, pandeglang_operator):
    """``?cursor=`` (empty, then the next link): keyset pages in id order, no COUNT, every row
    of the user's area exactly once — even when rows are added while the walk goes on."""
    from tests.factories import DESA_LEBAK, DESA_PANDEGLANG

    mine = [PersonFactory(desa_id=DESA_PANDEGLANG) for _i in range(7)]
    PersonFactory(desa_id=DESA_LEBAK)
    client = api_as(pandeglang_operator)
    seen, url = [], f"{PERSONS}?cursor=&page_size=3"
    while url:
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        assert not [q for q in context.captured_queries if "COUNT(" in q["sql"].upper()]
        seen += [row["id"] for row in body["results"]]
        if len(seen) == 3:
            mine.append(PersonFactory(desa_id=DESA_PANDEGLANG))  # added during the walk
        url = body["next"]
    assert seen == sorted(p.pk for p in mine)


def test_cursor_pages_refuse_ordering_and_a_bad_cursor(api_as, province_operator):
    client = api_as(province_operator)
    response = client.get(PERSONS, {"cursor": "", "ordering": "name"})
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]
    response = client.get(PERSONS, {"cursor": "bukan-kursor"})
    assert response.status_code == 400
    assert response.json()["errors"]["cursor"][0].startswith("Kursor tidak sah")


def test_page_numbers_stay_the_default(api_as, province_operator):
    PersonFactory()
    body = api_as(province_operator).get(PERSONS).json()
    assert {"count", "next", "previous", "results"} <= set(body)


@pytest.mark.parametrize(("url", "viewset"), [(HOUSEHOLDS, HouseholdViewSet),
                                              (PERSONS, PersonViewSet)])
def test_a_list_request_builds_its_queryset_once(registry, api_as, province_operator,
                                                 lebak_operator, monkeypatch, url, viewset):
    """The permission check asks the view for its queryset (to know the model); the list then
    uses that same queryset instead of building the selector's again — still the user's own
    rows."""
    built = []
    original = viewset.get_queryset

    def counted(self):
        built.append(self.request.user)
        return original(self)

    monkeypatch.setattr(viewset, "get_queryset", counted)
    assert len(results(api_as(province_operator).get(url))) > 0
    assert built == [province_operator]
    built.clear()
    assert results(api_as(lebak_operator).get(url)) == []  # the registry lies in 36.01
    assert built == [lebak_operator]


def test_the_shared_member_count_expression_serves_every_list_unchanged(
        registry, province_operator, pandeglang_operator, lebak_operator):
    """``selectors.member_count(area)`` is built once per area and copied by each queryset
    that resolves it: lists of different users, filters and pages count right one after
    another."""
    shared = [selectors.member_count(ALL), selectors.member_count(user_area(pandeglang_operator))]
    before = [repr(e.source_expressions[0].query.where) for e in shared]
    expected = {registry["empty"].pk: 0, registry["single"].pk: 1, registry["three"].pk: 3}
    for user in (province_operator, pandeglang_operator, province_operator):
        rows = selectors.household_list(user=user)
        assert {h.pk: h.member_count for h in rows} == expected
        assert [h.member_count for h in rows.filter(pk=registry["three"].pk)] == [3]
    assert list(selectors.household_list(user=lebak_operator)) == []
    assert [repr(e.source_expressions[0].query.where) for e in shared] == before
    assert selectors.member_count(ALL) is shared[0]  # built once, not per list


@postgres_only
@pytest.mark.usefixtures("no_cached_estimates")
def test_a_process_keeps_the_estimates_it_read_for_a_few_seconds(registry, api_as,
                                                                 province_operator,
                                                                 monkeypatch):
    """The next pages of a large list ask neither the database nor the shared cache for the
    count while this process's copy is fresh (``LOCAL_SECONDS``); then the cache again."""
    from django.core.cache import cache

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pmks_person")
    monkeypatch.setattr(pagination.bounded_count, "__defaults__", (2,))
    client = api_as(province_operator)
    first = client.get(PERSONS, {"page_size": 1}).json()
    assert first["count_is_estimate"] is True
    reads = []
    original_get = cache.get

    def counted_get(key, *args, **kwargs):
        reads.append(key)
        return original_get(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", counted_get)
    second = client.get(PERSONS, {"page_size": 1, "page": 2}).json()
    assert second["count"] == first["count"] and second["count_is_estimate"] is True
    assert not [key for key in reads if key.startswith("count-estimate:")]
    now = pagination._clock()
    monkeypatch.setattr(pagination, "_clock", lambda: now + pagination.LOCAL_SECONDS + 1)
    third = client.get(PERSONS, {"page_size": 1, "page": 3}).json()
    assert third["count"] == first["count"]
    assert [key for key in reads if key.startswith("count-estimate:")]  # the shared cache's


def test_the_local_copy_of_estimates_stays_bounded(monkeypatch):
    monkeypatch.setattr(pagination, "LOCAL_MAX", 3)
    pagination.clear_local()
    for i in range(7):
        pagination._local_set(f"k{i}", i)
    assert len(pagination._local) <= 3 and pagination._local_get("k6") == 6
    pagination.clear_local()


def test_a_households_page_builds_one_instance_per_household(registry, api_as,
                                                            province_operator):
    """Of the desa and the head a page reads only the names (annotations): no Wilayah or
    Person instance is built for the list, and no query per row."""
    from django.db.models.signals import post_init

    from dinsos.models import Wilayah

    three = registry["three"]
    three.head = three.members.first()
    three.save()
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    post_init.connect(count, sender=Wilayah)
    post_init.connect(count, sender=Person)
    try:
        with CaptureQueriesContext(connection) as context:
            rows = {row["id"]: row for row in results(api_as(province_operator).get(HOUSEHOLDS))}
    finally:
        post_init.disconnect(count, sender=Wilayah)
        post_init.disconnect(count, sender=Person)
    assert built == []
    assert rows[three.pk]["head_name"] == three.head.name
    assert rows[three.pk]["desa_nama"] == three.desa.nama
    assert rows[registry["empty"].pk]["head_name"] is None
    assert len(sql_of(context, "pmks_household")) <= 3  # count, page, read log


def test_a_name_read_with_the_list_follows_a_changed_relation(registry, province_operator):
    """``read_name`` gives the annotation only while the relation still has the key it was
    read for: a desa or head assigned since (by object or by key) is read through the
    relation; a record not read by the list has no annotation and reads the relation."""
    from dinsos.models import Wilayah
    from tests.factories import DESA_PANDEGLANG_2

    three = registry["three"]
    first, second = registry["members"][:2]
    Household.objects.filter(pk=three.pk).update(head=first)
    household = selectors.household_list(user=province_operator).get(pk=three.pk)
    assert selectors.read_name(household, "head", "name") == first.name
    other = Wilayah.objects.get(kode=DESA_PANDEGLANG_2)
    assert household.desa_id != other.kode
    household.desa = other
    assert selectors.read_name(household, "desa", "nama") == other.nama
    household.head_id = second.pk
    assert selectors.read_name(household, "head", "name") == second.name
    household.head = None
    assert selectors.read_name(household, "head", "name") is None
    plain = Household.objects.get(pk=three.pk)
    assert selectors.read_name(plain, "desa", "nama") == plain.desa.nama


def test_a_household_changed_through_the_api_answers_with_its_new_names(registry, api_as,
                                                                        province_operator):
    from tests.factories import DESA_PANDEGLANG_2

    three = registry["three"]
    head = registry["members"][0]
    type(head).objects.filter(pk=head.pk).update(relationship="kepala")  # the head is its kepala
    client = api_as(province_operator)
    response = client.patch(f"{HOUSEHOLDS}{three.pk}/", {"desa": DESA_PANDEGLANG_2,
                                                          "head": head.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    from dinsos.models import Wilayah

    assert body["desa_nama"] == Wilayah.objects.get(kode=DESA_PANDEGLANG_2).nama
    assert body["head_name"] == head.name


def test_a_persons_page_builds_no_desa_instance(registry, api_as, province_operator):
    """A persons page (and its export) reads of the desa only the name (annotations); one
    person read alone, by id or NIK, still has its desa's name."""
    from django.db.models.signals import post_init

    from dinsos.models import Wilayah

    built = []

    def count(sender, **kwargs):
        built.append(sender)

    client = api_as(province_operator)
    post_init.connect(count, sender=Wilayah)
    try:
        with CaptureQueriesContext(connection) as context:
            rows = results(client.get(PERSONS))
            exported = client.get(f"{PERSONS}export/", {"fmt": "csv"})
            body = b"".join(exported.streaming_content) if exported.streaming \
                else exported.content
    finally:
        post_init.disconnect(count, sender=Wilayah)
    assert built == []
    person = registry["members"][0]
    nama = person.desa.nama
    assert {row["desa_nama"] for row in rows} == {nama}
    assert nama in body.decode("utf-8-sig")
    assert not sql_of(context, 'FROM "dinsos_wilayah" WHERE')
    assert client.get(f"{PERSONS}{person.pk}/").json()["desa_nama"] == nama
    assert client.get(f"{PERSONS}by-nik/{person.nik}/").json()["desa_nama"] == nama


# --- an estimated count never hides rows (review of the staff pages at scale) -----------------

def _estimating(monkeypatch, estimate: int) -> None:
    """The planner's estimate stands in for the count, and it is ``estimate`` (too low or too
    high), as on PostgreSQL above the cap."""
    monkeypatch.setattr(pagination, "bounded_count", lambda queryset, **kw: (estimate, True))


@pytest.mark.parametrize("door", ["staff page", "api"])
def test_an_underestimated_count_still_reaches_every_row(monkeypatch, pandeglang_operator,
                                                        api_as, door):
    """60 matching persons, an estimate of 11: 'Halaman 1 dari 1', no next page, and ?page=3
    answered with the estimated last page — 25 of the 60 reachable."""
    from django.urls import reverse

    from tests.factories import PersonFactory
    from tests.helpers import client_for

    PersonFactory.create_batch(60, name="Siti Aminah")
    _estimating(monkeypatch, 11)
    seen = set()
    if door == "staff page":
        client, url = client_for(pandeglang_operator), reverse("pmks:person-list")
        number = 1
        while True:
            response = client.get(url, {"q": "siti", "page": number})
            page = response.context["page"]
            assert page.number == number
            seen |= {p.pk for p in page.object_list}
            if not page.has_next():
                break
            assert "Berikutnya" in response.content.decode()
            number += 1
        assert number == 3 and "Halaman 3 dari sekitar 3" in response.content.decode()
    else:
        client, url = api_as(pandeglang_operator), "/api/v1/pmks/persons/?q=siti&page_size=25"
        while url:
            body = client.get(url).json()
            seen |= {row["id"] for row in body["results"]}
            url = body["next"]
    assert len(seen) == 60


def test_an_overestimated_count_gives_the_real_last_page(monkeypatch, pandeglang_operator):
    from django.urls import reverse

    from tests.factories import PersonFactory
    from tests.helpers import client_for

    PersonFactory.create_batch(30, name="Siti Aminah")
    _estimating(monkeypatch, 50_000)
    response = client_for(pandeglang_operator).get(reverse("pmks:person-list"),
                                                   {"q": "siti", "page": 900})
    assert response.status_code == 200
    page = response.context["page"]
    assert (page.number, len(page.object_list), page.has_next()) == (2, 5, False)
