"""The district sync API on the registry: changes feeds with tombstones, a mirror kept exact by
incremental pulls only, ETag / If-Match, batch upserts."""

import base64
import datetime

import pytest

from dinsos.models import Change, IdempotencyKey
from pmks import services
from pmks.models import Household, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, HouseholdFactory
from tests.helpers import apply, pull
from tests.pmks.factories import CaseFactory, RegistryPersonFactory, nik_for, no_kk_for

pytestmark = pytest.mark.django_db

API = "/api/v1/pmks"
BORN = datetime.date(1985, 4, 12)
#: the changes feeds pulled here (tests.helpers.pull)
PERSONS, CASES, HOUSEHOLDS = "pmks-api:person", "pmks-api:case", "pmks-api:household"


def truth(client, resource) -> dict:
    response = client.get(f"{API}/{resource}/", {"page_size": 500})
    assert response.status_code == 200, response.content
    assert response.json()["next"] is None
    return {row["id"]: row for row in response.json()["results"]}


def person_in(desa, **kwargs):
    return RegistryPersonFactory(desa_id=desa, **kwargs)


# --- the mirror -------------------------------------------------------------------------------


def test_mirror_stays_exact_with_incremental_pulls(api_as, pandeglang_operator,
                                                   province_operator):
    client = api_as(pandeglang_operator)
    stays, changes, leaves, deleted, merged, kept = (person_in(DESA_PANDEGLANG) for _ in range(6))
    comes_in = person_in(DESA_LEBAK)
    lebak_only = person_in(DESA_LEBAK)
    mirror = apply({}, (first := pull(client, PERSONS))[0])
    assert set(mirror) == {stays.pk, changes.pk, leaves.pk, deleted.pk, merged.pk, kept.pk}
    assert mirror == truth(client, "persons")

    # between two nightly pulls: insert, update, delete, merge, move out, move in
    created = services.person_register(actor=pandeglang_operator, name="Baru Lahir",
                                       birth_date=BORN, sex="L", desa_id=DESA_PANDEGLANG_2)
    services.person_update(actor=pandeglang_operator, person=changes, occupation="Petani")
    deleted_pk = deleted.pk
    services.person_delete(actor=pandeglang_operator, person=deleted)
    services.person_merge(actor=pandeglang_operator, kept=kept, merged=merged)
    services.person_update(actor=province_operator, person=leaves, desa_id=DESA_LEBAK)
    services.person_update(actor=province_operator, person=comes_in, desa_id=DESA_PANDEGLANG)
    services.person_update(actor=province_operator, person=lebak_only, occupation="Nelayan")

    entries, _cursor = pull(client, PERSONS, cursor=first[1])
    by_id = {e["id"]: e for e in entries}
    assert by_id[deleted_pk]["change"] == "deleted"
    assert by_id[merged.pk]["change"] == "merged"
    assert by_id[merged.pk]["merged_into"] == kept.pk
    assert by_id[leaves.pk] == {"id": leaves.pk, "change": "left_area", "at": by_id[
        leaves.pk]["at"], "merged_into": None, "data": None}  # nothing about where it went
    assert by_id[comes_in.pk]["change"] == "upsert"
    assert by_id[created.pk]["data"]["name"] == "Baru Lahir"
    assert by_id[changes.pk]["data"]["occupation"] == "Petani"
    assert lebak_only.pk not in by_id
    assert stays.pk not in by_id  # unchanged records are not sent again
    apply(mirror, entries)
    assert mirror == truth(client, "persons")


def test_first_pull_from_updated_since_then_cursor(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    old = person_in(DESA_PANDEGLANG)
    Change.objects.filter(object_id=old.pk).update(
        at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    recent = person_in(DESA_PANDEGLANG)
    entries, cursor = pull(client, PERSONS, updated_since="2025-01-01T00:00:00+07:00")
    assert [e["id"] for e in entries] == [recent.pk]
    later = person_in(DESA_PANDEGLANG)
    assert [e["id"] for e in pull(client, PERSONS, cursor=cursor)[0]] == [later.pk]


def test_concurrent_writes_during_paging_neither_skip_nor_repeat(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    people = [person_in(DESA_PANDEGLANG) for _ in range(6)]
    first_page_ids = [e["id"] for e in client.get(
        f"{API}/persons/changes/", {"page_size": 2}).json()["results"]]
    not_yet = [p for p in people if p.pk not in first_page_ids]
    inserted = {}

    def writes():
        inserted["person"] = person_in(DESA_PANDEGLANG)
        inserted["gone"] = not_yet[0].pk
        services.person_update(actor=pandeglang_operator, person=people[0], occupation="Guru")
        services.person_update(actor=pandeglang_operator, person=not_yet[-1],
                               occupation="Bidan")
        services.person_delete(actor=pandeglang_operator, person=not_yet[0])
        not_yet[0].pk = inserted["gone"]

    entries, cursor = pull(client, PERSONS, page_size=2, between_pages=writes)
    seen = [e["id"] for e in entries]
    gone = not_yet[0].pk
    untouched = {p.pk for p in people} - {people[0].pk, not_yet[-1].pk, gone}
    assert all(seen.count(pk) == 1 for pk in untouched)  # no repeat
    assert seen.count(not_yet[-1].pk) == 1  # changed before it was read: read once, new data
    assert entries[seen.index(gone)]["change"] == "deleted"
    assert inserted["person"].pk in seen  # no skip
    mirror = apply({}, entries)
    assert mirror == truth(client, "persons")
    assert pull(client, PERSONS, cursor=cursor)[0] == []


def test_offset_paging_is_not_for_sync_but_the_feed_is(api_as, pandeglang_operator):
    """The old symptom: an insert between page 1 and 2 of an offset list repeats a row."""
    client = api_as(pandeglang_operator)
    for i in range(4):
        person_in(DESA_PANDEGLANG, name=f"B Warga {i}")
    page1 = client.get(f"{API}/persons/", {"page_size": 2}).json()["results"]
    person_in(DESA_PANDEGLANG, name="A Warga Baru")  # sorts first by name
    page2 = client.get(f"{API}/persons/", {"page_size": 2, "page": 2}).json()["results"]
    assert {r["id"] for r in page1} & {r["id"] for r in page2}  # offset paging repeats
    feed = pull(client, PERSONS, page_size=2)[0]
    assert len({e["id"] for e in feed}) == len(feed) == 5


def test_merge_into_another_area_says_only_left_area(api_as, pandeglang_operator,
                                                     province_operator):
    client = api_as(pandeglang_operator)
    merged, kept = person_in(DESA_PANDEGLANG), person_in(DESA_LEBAK)
    cursor = pull(client, PERSONS)[1]
    services.person_merge(actor=province_operator, kept=kept, merged=merged)
    entries = pull(client, PERSONS, cursor=cursor)[0]
    assert [(e["id"], e["change"], e["merged_into"]) for e in entries] == [
        (merged.pk, "left_area", None)]


def test_move_in_and_out_for_both_districts(api_as, pandeglang_operator, lebak_operator,
                                            province_operator):
    person = person_in(DESA_PANDEGLANG)
    pandeglang, lebak = api_as(pandeglang_operator), api_as(lebak_operator)
    p_cursor, l_cursor = pull(pandeglang, PERSONS)[1], pull(lebak, PERSONS)[1]
    services.person_update(actor=province_operator, person=person, desa_id=DESA_LEBAK)
    p_entries, p_cursor = pull(pandeglang, PERSONS, cursor=p_cursor)
    l_entries, l_cursor = pull(lebak, PERSONS, cursor=l_cursor)
    assert [(e["id"], e["change"]) for e in p_entries] == [(person.pk, "left_area")]
    assert [(e["id"], e["change"]) for e in l_entries] == [(person.pk, "upsert")]
    person.refresh_from_db()
    services.person_update(actor=province_operator, person=person, desa_id=DESA_PANDEGLANG)
    assert [(e["id"], e["change"]) for e in pull(pandeglang, PERSONS, cursor=p_cursor)[0]] \
        == [(person.pk, "upsert")]
    assert [(e["id"], e["change"]) for e in pull(lebak, PERSONS, cursor=l_cursor)[0]] \
        == [(person.pk, "left_area")]
    # the province sees the record move, never "left your area"
    province = [e["change"] for e in pull(api_as(province_operator), PERSONS)[0]]
    assert province == ["upsert"]


def test_open_cases_follow_their_person_in_the_case_feed(api_as, pandeglang_operator,
                                                         province_operator):
    case = CaseFactory(person=person_in(DESA_PANDEGLANG))
    client = api_as(pandeglang_operator)
    entries, cursor = pull(client, CASES)
    assert [(e["id"], e["change"]) for e in entries] == [(case.pk, "upsert")]
    services.person_update(actor=province_operator, person=case.person, desa_id=DESA_LEBAK)
    assert [(e["id"], e["change"]) for e in pull(client, CASES, cursor=cursor)[0]] == [
        (case.pk, "left_area")]
    lebak = [e["id"] for e in pull(api_as(province_operator), CASES)[0]]
    assert lebak == [case.pk]


def test_household_feed_sees_members_released_by_a_deletion(api_as, pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    member = person_in(DESA_PANDEGLANG, household=household)
    client = api_as(pandeglang_operator)
    cursor = pull(client, PERSONS)[1]
    h_cursor = pull(client, HOUSEHOLDS)[1]
    household_pk = household.pk
    services.household_delete(actor=pandeglang_operator, household=household)
    entries = pull(client, PERSONS, cursor=cursor)[0]
    assert [(e["id"], e["data"]["household"]) for e in entries] == [(member.pk, None)]
    assert [(e["id"], e["change"]) for e in pull(client, HOUSEHOLDS, cursor=h_cursor)[0]] \
        == [(household_pk, "deleted")]


def test_household_feed_follows_its_members(api_as, pandeglang_operator):
    """A household row shows its head's name and its member count: each change of a member —
    the head renamed, a member added, moved to another household, merged, deleted — feeds
    the households it touched, so the mirror stays equal to the list after every pull."""
    client = api_as(pandeglang_operator)
    home, other = (HouseholdFactory(desa_id=DESA_PANDEGLANG) for _ in range(2))
    head = person_in(DESA_PANDEGLANG, household=home, relationship="kepala")
    services.household_update(actor=pandeglang_operator, household=home, head=head)
    member, twin = (person_in(DESA_PANDEGLANG, household=home) for _ in range(2))
    mirror, cursor = {}, None

    def pulled() -> dict:
        nonlocal cursor
        entries, cursor = pull(client, HOUSEHOLDS, cursor=cursor)
        apply(mirror, entries)
        return mirror

    assert pulled() == truth(client, "households")
    assert (mirror[home.pk]["head_name"], mirror[home.pk]["member_count"]) == (head.name, 3)
    steps = [
        lambda: services.person_update(actor=pandeglang_operator, person=head,
                                       name="Kepala Berganti Nama"),
        lambda: services.person_register(actor=pandeglang_operator, name="Anak Baru",
                                         birth_date=BORN, sex="L", desa_id=DESA_PANDEGLANG,
                                         household=home),
        lambda: services.person_update(actor=pandeglang_operator, person=member,
                                       household=other),
        lambda: services.person_merge(actor=pandeglang_operator, kept=head, merged=twin),
        lambda: services.person_delete(actor=pandeglang_operator,
                                       person=Person.objects.get(pk=member.pk)),
    ]
    for step in steps:
        step()
        assert pulled() == truth(client, "households")
    assert (mirror[home.pk]["head_name"], mirror[home.pk]["member_count"]) == (
        "Kepala Berganti Nama", 2)
    assert mirror[other.pk]["member_count"] == 0


def test_feed_of_a_district_never_shows_another_districts_records(api_as, lebak_operator):
    person_in(DESA_PANDEGLANG)
    assert pull(api_as(lebak_operator), PERSONS)[0] == []


def test_feed_refuses_bad_cursor_page_size_and_unknown_parameters(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    url = f"{API}/persons/changes/"
    for params, field in (({"cursor": "!!"}, "cursor"), ({"page_size": "0"}, "page_size"),
                          ({"since": "2026-01-01"}, "since"),
                          ({"updated_since": "kemarin"}, "updated_since")):
        response = client.get(url, params)
        assert response.status_code == 400, params
        assert field in response.json()["errors"]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_feed_refuses_another_feeds_cursor_and_reads_an_old_one(api_as, pandeglang_operator):
    """A cursor of the households feed was read by the persons feed as a position in it: the
    persons changed before that point were skipped without a word."""
    client = api_as(pandeglang_operator)
    person = person_in(DESA_PANDEGLANG)
    household_cursor = pull(client, HOUSEHOLDS)[1]
    url = f"{API}/persons/changes/"
    refused = client.get(url, {"cursor": household_cursor})
    assert refused.status_code == 400
    assert "pmks.household" in refused.json()["errors"]["cursor"][0]
    # a cursor handed out before cursors named their feed: still read
    old = client.get(url, {"cursor": _cursor("0.0")})
    assert old.status_code == 200
    assert person.pk in {e["id"] for e in old.json()["results"]}


@pytest.mark.parametrize("raw", [
    "9000000000000.1",  # a transaction far in the future (PostgreSQL) / not 0 (SQLite)
    "١٢.3", "1.٣", " 1.2", "1.2 ", "+1.2", "1.-2", "1_0.2", "1.2.pmks.person.x",
])
def test_feed_refuses_a_cursor_from_the_future_or_not_in_ascii_digits(
        api_as, pandeglang_operator, raw):
    """``int()`` read "١٢", " 1" and "+1"; a cursor beyond anything handed out was handed back
    page after page, so the client waited forever."""
    response = api_as(pandeglang_operator).get(f"{API}/persons/changes/", {"cursor": _cursor(raw)})
    assert response.status_code == 400, raw
    assert list(response.json()["errors"]) == ["cursor"]


def test_feed_refuses_a_cursor_past_the_last_change_on_sqlite(api_as, pandeglang_operator):
    """SQLite: txid is 0 and the cursor is the last change id read."""
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL a cursor's change id may be any number (a horizon cursor)")
    last = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client = api_as(pandeglang_operator)
    assert client.get(f"{API}/persons/changes/", {"cursor": _cursor(f"0.{last}")}).status_code \
        == 200
    response = client.get(f"{API}/persons/changes/", {"cursor": _cursor(f"0.{last + 1}")})
    assert response.status_code == 400 and "cursor" in response.json()["errors"]


def test_feed_refuses_updated_since_with_a_cursor(api_as, pandeglang_operator):
    """``updated_since`` was ignored next to a cursor, even when it was not a date."""
    client = api_as(pandeglang_operator)
    cursor = pull(client, PERSONS)[1]
    for since in ("kemarin", "2026-01-01T00:00:00+07:00"):
        response = client.get(f"{API}/persons/changes/",
                              {"cursor": cursor, "updated_since": since})
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["updated_since"]


def test_unchanged_upsert_feeds_nothing(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    nik = nik_for(BORN, "P")
    body = {"name": "Siti", "birth_date": BORN.isoformat(), "sex": "P", "desa": DESA_PANDEGLANG}
    assert client.put(f"{API}/persons/by-nik/{nik}/", body, format="json").status_code == 201
    cursor = pull(client, PERSONS)[1]
    again = client.put(f"{API}/persons/by-nik/{nik}/", body, format="json")
    assert again.status_code == 200
    assert pull(client, PERSONS, cursor=cursor)[0] == []


def test_change_log_keeps_one_upsert_per_record(pandeglang_operator):
    person = person_in(DESA_PANDEGLANG)
    for job in ("Petani", "Nelayan", "Guru"):
        services.person_update(actor=pandeglang_operator, person=person, occupation=job)
    assert Change.objects.filter(resource="pmks.person", object_id=person.pk).count() == 1


# --- unknown parameters and updated_since on lists --------------------------------------------


@pytest.mark.parametrize("param", ["updated_at__gte", "lastUpdated", "modified_since"])
def test_list_refuses_unknown_parameters_naming_them(api_as, pandeglang_operator, param):
    response = api_as(pandeglang_operator).get(f"{API}/persons/", {param: "2026-01-01"})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_parameter"
    assert list(response.json()["errors"]) == [param]


def test_list_refuses_unknown_ordering(api_as, pandeglang_operator):
    response = api_as(pandeglang_operator).get(f"{API}/persons/", {"ordering": "-nope"})
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]


def test_list_updated_since_is_inclusive_and_ordered(api_as, pandeglang_operator):
    first, second, third = (person_in(DESA_PANDEGLANG, name=n) for n in "CBA")
    moment = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=datetime.UTC)
    Person.objects.filter(pk=first.pk).update(updated_at=moment - datetime.timedelta(seconds=1))
    Person.objects.filter(pk__in=[second.pk, third.pk]).update(updated_at=moment)
    response = api_as(pandeglang_operator).get(
        f"{API}/persons/", {"updated_since": "2026-11-01T15:00:00+07:00"})
    assert [r["id"] for r in response.json()["results"]] == sorted([second.pk, third.pk])
    assert api_as(pandeglang_operator).get(
        f"{API}/persons/", {"ordering": "-updated_at"}).status_code == 200


# --- ETag / If-Match --------------------------------------------------------------------------


def test_etag_and_if_match(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    url = f"{API}/households/{household.pk}/"
    etag = client.get(url)["ETag"]
    assert etag.startswith('"')
    services.household_update(actor=pandeglang_operator, household=household, address="Baru")
    stale = client.patch(url, {"rt": "009"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    household.refresh_from_db()
    assert household.rt == "001"
    fresh = client.get(url)["ETag"]
    assert fresh != etag
    ok = client.patch(url, {"rt": "009"}, format="json", HTTP_IF_MATCH=fresh)
    assert ok.status_code == 200
    assert ok["ETag"] not in (etag, fresh)
    assert client.delete(url, HTTP_IF_MATCH=fresh).status_code == 412
    assert client.delete(url, HTTP_IF_MATCH=ok["ETag"]).status_code == 204


def test_if_match_on_upsert_by_nik(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    person = person_in(DESA_PANDEGLANG)
    url = f"{API}/persons/by-nik/{person.nik}/"
    etag = client.get(url)["ETag"]
    body = {"name": "Nama Baru", "birth_date": person.birth_date.isoformat(), "sex": person.sex,
            "desa": DESA_PANDEGLANG}
    assert client.put(url, body, format="json", HTTP_IF_MATCH='"lama"').status_code == 412
    assert client.put(url, body, format="json", HTTP_IF_MATCH=etag).status_code == 200


# --- batch upsert -----------------------------------------------------------------------------


def person_row(nik=None, **extra):
    return {"nik": nik or nik_for(BORN, "L"), "name": "Budi", "birth_date": BORN.isoformat(),
            "sex": "L", "desa": DESA_PANDEGLANG, **extra}


def test_batch_upsert_persons_answers_per_row(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    existing = person_in(DESA_PANDEGLANG, birth_date=BORN, sex="L")
    same = person_in(DESA_PANDEGLANG, birth_date=BORN, sex="L", name="Sama Saja")
    other = person_in(DESA_LEBAK, birth_date=BORN, sex="L")
    rows = [
        person_row(),
        person_row(existing.nik, name="Nama Diubah"),
        person_row(same.nik, name="Sama Saja", birth_place=same.birth_place),
        person_row(other.nik),
        person_row("123"),
        person_row(nik_for(BORN, "P")),  # NIK says female
        {"name": "tanpa NIK"},
    ]
    response = client.post(f"{API}/persons/batch/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "updated", "unchanged", "refused", "refused", "refused",
                        "refused"]
    assert body["summary"] == {"created": 1, "updated": 1, "unchanged": 1, "refused": 4}
    assert "nik" in body["results"][3]["errors"]  # taken elsewhere: never says where
    assert "nik" in body["results"][4]["errors"]
    assert body["results"][6]["errors"] == {"nik": ["nik wajib diisi."]}
    existing.refresh_from_db()
    assert existing.name == "Nama Diubah"
    assert Person.objects.filter(nik=rows[0]["nik"]).exists()
    other.refresh_from_db()
    assert other.desa_id == DESA_LEBAK


@pytest.mark.parametrize("resource, key, row", [
    ("persons", "nik", lambda: person_row(desa=DESA_LEBAK)),
    ("households", "no_kk", lambda: {"no_kk": no_kk_for(), "address": "Kp. Lebak",
                                     "desa": DESA_LEBAK}),
])
def test_batch_row_outside_the_area_is_refused_under_desa(api_as, pandeglang_operator,
                                                          resource, key, row):
    """The refusal of a desa outside the user's area stood under ``non_field_errors``."""
    body = api_as(pandeglang_operator).post(f"{API}/{resource}/batch/", {"rows": [row()]},
                                            format="json").json()
    [result] = body["results"]
    assert result["status"] == "refused"
    assert list(result["errors"]) == ["desa"]
    assert DESA_LEBAK in result["errors"]["desa"][0]


@pytest.mark.parametrize("resource", ["persons", "households"])
def test_batch_row_that_is_not_an_object_says_so(api_as, pandeglang_operator, resource):
    """A row that is not a JSON object was answered "nik wajib diisi."."""
    rows = [["nik", "3601"], "3601011708800001", 7, None, True]
    body = api_as(pandeglang_operator).post(f"{API}/{resource}/batch/", {"rows": rows},
                                            format="json").json()
    assert [r["status"] for r in body["results"]] == ["refused"] * len(rows)
    for result in body["results"]:
        [message] = result["errors"]["non_field_errors"]
        assert "harus berupa objek JSON" in message, message
        assert list(result["errors"]) == ["non_field_errors"]


def test_batch_is_idempotent_and_limited(api_as, pandeglang_operator, settings):
    client = api_as(pandeglang_operator)
    body = {"rows": [person_row(), person_row()]}
    first = client.post(f"{API}/persons/batch/", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    second = client.post(f"{API}/persons/batch/", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Person.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1
    settings.SYNC_BATCH_MAX_ROWS = 1
    too_many = client.post(f"{API}/persons/batch/", body, format="json")
    assert too_many.status_code == 400
    assert "rows" in too_many.json()["errors"]


def test_batch_upsert_households_by_no_kk(api_as, pandeglang_operator, auditor):
    client = api_as(pandeglang_operator)
    existing = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    rows = [
        {"no_kk": no_kk_for(), "address": "Kp. Baru", "desa": DESA_PANDEGLANG},
        {"no_kk": existing.no_kk, "address": "Kp. Pindah", "desa": DESA_PANDEGLANG},
        {"no_kk": no_kk_for(), "address": "Kp. Lebak", "desa": DESA_LEBAK},
        {"no_kk": no_kk_for(), "address": "Kp. Salah", "desa": DESA_PANDEGLANG, "decile": 11},
    ]
    body = client.post(f"{API}/households/batch/", {"rows": rows}, format="json").json()
    assert [r["status"] for r in body["results"]] == ["created", "updated", "refused",
                                                      "refused"]
    assert "decile" in body["results"][3]["errors"]
    assert Household.objects.get(pk=existing.pk).address == "Kp. Pindah"
    assert Household.objects.count() == 2
    assert api_as(auditor).post(f"{API}/households/batch/", {"rows": rows},
                                format="json").status_code == 403
