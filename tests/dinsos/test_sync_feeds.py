"""Issue #14: a changes feed for every list a district system syncs, proved by enumeration.

The router is walked: every list of an area-bound model has ``<list>/changes/`` (or is declared
in ``NOT_SYNCED`` with its reason). Then every feed is driven through the same story — insert,
update, delete, a move out of and one into the area between two pulls, and writes between the
pages of a pull — and the mirror a client keeps from the feed alone must equal the list of the
area exactly (same rows, same data, masked the same way)."""

import pytest
from django.db import models
from django.urls import NoReverseMatch, reverse

from dinsos import changes, roles
from tests.dinsos.test_isolation import api_endpoints
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, AssignmentFactory, WorkerFactory
from tests.helpers import apply, pull, reads
from tests.scoped_endpoints import NOT_SYNCED, SCOPED_ENDPOINTS

pytestmark = pytest.mark.django_db

#: where a record moves in: another kecamatan of Pandeglang (a TKSK assignment may not join a
#: kecamatan that has one for the same dates)
DESA_CIMANGGU = "36.01.02.2001"


def _model(cls):
    queryset = getattr(cls, "queryset", None)
    return queryset.model if queryset is not None else None


def _has_list(name) -> bool:
    try:
        reverse(f"{name}-list")
    except NoReverseMatch:
        return False
    return True


def feeds() -> dict[str, type]:
    return {name: cls for name, cls in api_endpoints().items() if hasattr(cls, "changes")}


FEEDS = sorted(feeds())


def test_every_district_list_has_a_changes_feed_or_says_why_not():
    missing, wrong = [], []
    for name, cls in api_endpoints().items():
        model = _model(cls)
        area_bound = model is not None and getattr(model, "scope_field", None) and not getattr(
            model, "province_only", None)
        if not (area_bound and _has_list(name)) or name in NOT_SYNCED:
            continue
        if not hasattr(cls, "changes"):
            missing.append(name)
        elif not changes.is_registered(model):
            wrong.append(name)
    assert not missing, f"lists of area-bound records without a changes feed: {missing}"
    assert not wrong, f"feeds of models not registered with dinsos.changes: {wrong}"
    assert all(reason.strip() for reason in NOT_SYNCED.values())
    assert set(NOT_SYNCED) <= set(api_endpoints()), "NOT_SYNCED names a route that is gone"
    assert not set(NOT_SYNCED) & set(FEEDS), "a route is both synced and NOT_SYNCED"
    assert set(FEEDS) <= set(SCOPED_ENDPOINTS), "every feed is in the isolation coverage map"


# --- the mirror, for every feed ----------------------------------------------------------------


def truth(client, name) -> dict:
    rows, url, query = {}, reverse(f"{name}-list"), {"page_size": 500}
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        rows.update({row["id"]: row for row in response.json()["results"]})
        url, query = response.json()["next"], None
    return rows


def _owner(obj):
    """(the record holding the area, its area field) along the model's scope path."""
    *parents, field = type(obj).scope_field.split("__")
    for part in parents:
        obj = getattr(obj, part)
    return obj, field


def move(obj, desa: str) -> None:
    owner, field = _owner(obj)
    current = getattr(owner, f"{field}_id")
    setattr(owner, f"{field}_id", desa[:len(current)])
    owner.save()


def edit(obj) -> None:
    """Change a free-text field (when the model has one) and save."""
    for field in type(obj)._meta.concrete_fields:
        if isinstance(field, models.TextField) and field.editable and not field.choices:
            setattr(obj, field.attname, "Diubah untuk uji sinkron")
            break
    obj.save()


def reader(name, make_user, api_as):
    """A Pandeglang user whose role reads this list (the operator where it may)."""
    for role in (roles.OPERATOR_KAB_KOTA, *roles.ROLE_NAMES):
        user = make_user(role, "36.01")
        client = api_as(user)
        if client.get(reverse(f"{name}-list")).status_code == 200:
            return client
    pytest.fail(f"no district role reads {name}")


#: makers used here instead of the coverage map's (which makes one record per area): several
#: TKSK of one kecamatan at once would break "one TKSK per kecamatan" on PostgreSQL
MAKERS = {"psks-api:assignment": lambda desa: AssignmentFactory(
    worker=WorkerFactory(desa_id=desa), role="psm", area_id=desa)}


@pytest.mark.parametrize("name", FEEDS)
def test_a_mirror_kept_by_incremental_pulls_equals_the_area(name, make_user, api_as):
    make = MAKERS.get(name) or SCOPED_ENDPOINTS[name]
    client = reader(name, make_user, api_as)
    updated, deleted, leaves = make(DESA_PANDEGLANG), make(DESA_PANDEGLANG), make(
        DESA_PANDEGLANG)
    comes_in, elsewhere = make(DESA_LEBAK), make(DESA_LEBAK)

    mirror = apply({}, (first := pull(client, name))[0])
    assert {updated.pk, deleted.pk, leaves.pk} <= set(mirror)
    assert elsewhere.pk not in mirror and comes_in.pk not in mirror
    assert mirror == truth(client, name)

    # between two pulls: insert, update, delete, a move out and a move in
    inserted = make(DESA_PANDEGLANG)
    edit(updated)
    deleted_pk = deleted.pk
    deleted.delete()
    move(leaves, DESA_LEBAK)
    move(comes_in, DESA_CIMANGGU)
    entries, cursor = pull(client, name, first[1])
    apply(mirror, entries)
    assert mirror == truth(client, name)
    assert inserted.pk in mirror and comes_in.pk in mirror
    assert deleted_pk not in mirror and leaves.pk not in mirror
    said = {e["id"]: e["change"] for e in entries}
    assert (said[deleted_pk], said[leaves.pk]) == ("deleted", "left_area")
    assert elsewhere.pk not in said  # nothing about the other area

    # writes between the pages of a pull: nothing skipped, nothing stale
    def meanwhile():
        make(DESA_PANDEGLANG)
        move(inserted, DESA_LEBAK)
        edit(comes_in)

    entries, cursor = pull(client, name, cursor, page_size=1, between_pages=meanwhile)
    apply(mirror, entries)
    entries, cursor = pull(client, name, cursor)  # the next night catches the rest
    apply(mirror, entries)
    assert mirror == truth(client, name)

    # nothing new: an empty page. Its cursor never goes back; on PostgreSQL it may move up to the
    # settled horizon while other transactions on the server (another xdist worker) commit
    again, same = pull(client, name, cursor)
    assert again == []
    assert changes.Position.decode(same) >= changes.Position.decode(cursor)
    assert pull(client, name, same)[0] == []


@pytest.mark.parametrize("name", FEEDS)
def test_every_feed_refuses_unknown_parameters_and_bad_cursors(name, province_operator,
                                                               api_as):
    client = api_as(province_operator)
    url = reverse(f"{name}-changes")
    unknown = client.get(url, {"modified_since": "2026-01-01"})
    assert unknown.status_code == 400 and "modified_since" in unknown.json()["errors"]
    bad = client.get(url, {"cursor": "bukan-kursor"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]
    since = client.get(url, {"updated_since": "2999-01-01T00:00:00+07:00"})
    assert since.status_code == 200 and since.json()["results"] == []


# --- a feed page is a read of personal data ---------------------------------------------------


def test_person_changes_feed_page_writes_one_access_entry_naming_what_it_served(
        pandeglang_operator, api_as):
    """Personal-data audit (December 2026): P4 — GET /api/v1/pmks/persons/changes/ (the sync
    feed: the whole area's persons, NIK whole for an operator) wrote no ACCESS entry, unlike
    the list it mirrors: the biggest bulk read of the registry left no trace. Now one entry per
    page that served records, naming them; a page that serves nothing writes none."""
    from pmks.models import Person
    from tests.factories import PersonFactory

    first, second = PersonFactory(), PersonFactory()
    client = api_as(pandeglang_operator)
    response = client.get("/api/v1/pmks/persons/changes/", {"page_size": 1})
    assert response.status_code == 200
    assert first.nik in response.content.decode()  # served whole
    (entry,) = reads(Person)
    assert entry.actor == pandeglang_operator
    assert entry.additional_data["read"] == "sinkron"
    assert entry.additional_data["rows"] == [str(first.pk)]
    response = client.get(response.json()["next"])
    assert [r["id"] for r in response.json()["results"]] == [second.pk]
    assert [e.additional_data["rows"] for e in reads(Person)] == [[str(first.pk)],
                                                                   [str(second.pk)]]
    up_to_date = client.get("/api/v1/pmks/persons/changes/",
                            {"cursor": response.json()["cursor"]})
    assert up_to_date.json()["results"] == [] and len(reads(Person)) == 2


def test_bank_account_changes_feed_writes_an_access_entry(pandeglang_operator, api_as):
    """Personal-data audit (December 2026): P4 — GET /api/v1/psks/bank-accounts/changes/
    served whole account numbers to an operator without the ACCESS entry its list writes."""
    from psks.models import BankAccount
    from tests.factories import BankAccountFactory

    account = BankAccountFactory(worker=WorkerFactory())
    response = api_as(pandeglang_operator).get("/api/v1/psks/bank-accounts/changes/")
    assert response.status_code == 200
    assert account.account_number in response.content.decode()
    assert [e.additional_data["rows"] for e in reads(BankAccount)] == [[str(account.pk)]], (
        "the feed served account numbers without an ACCESS entry")
