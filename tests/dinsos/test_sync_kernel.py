"""The sync kernel (dinsos.changes, dinsos.api.filters): every list refuses what it does not
know, and on PostgreSQL a feed never steps over a transaction still running."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from rest_framework.test import APIClient

from dinsos import changes
from dinsos.models import Change
from pmks.models import Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, PersonFactory
from tests.helpers import postgres_only

pytestmark = pytest.mark.django_db


def _list_paths(client) -> list[str]:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    return sorted(path for path, ops in schema["paths"].items()
                  if "get" in ops and "{" not in path
                  and ops["get"]["operationId"].endswith("_list"))


def test_every_list_refuses_unknown_query_parameters(django_user_model):
    client = APIClient()
    client.force_login(django_user_model.objects.create_superuser("akar", password="x"))
    paths = _list_paths(client)
    assert len(paths) > 20
    for path in paths:
        response = client.get(path, {"modified_since": "2026-01-01"})
        assert response.status_code == 400, (path, response.status_code)
        assert response.json()["errors"] == {"modified_since": [
            "Parameter 'modified_since' tidak dikenal untuk daftar ini."]}, path


def test_cursor_is_opaque_and_round_trips_in_its_own_feed_only():
    position = changes.Position(123, 456)
    assert changes.Position.decode(position.encode()) == position
    assert "123" not in position.encode()
    cursor = position.encode("pmks.person")
    assert changes.Position.decode(cursor, "pmks.person") == position
    with pytest.raises(ValidationError) as refused:
        changes.Position.decode(cursor, "pmks.household")
    assert "cursor" in refused.value.message_dict


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_feed_waits_for_a_transaction_still_running(pandeglang_operator):
    """A transaction that took its change id first but commits last: a feed ordered by id
    alone would hand out a cursor past it and never show it."""
    early_started, late_committed = threading.Event(), threading.Event()
    slow = {}

    def slow_writer():
        try:
            with transaction.atomic():
                slow["person"] = PersonFactory(desa_id=DESA_PANDEGLANG, name="Lambat")
                early_started.set()
                late_committed.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert early_started.wait(30)
    fast = PersonFactory(desa_id=DESA_PANDEGLANG, name="Cepat")  # committed, higher id
    page = changes.feed(model=Person, user=pandeglang_operator, limit=100)
    assert [c.object_id for c in page.changes] == []  # behind the running transaction
    late_committed.set()
    thread.join(30)
    slow_change = Change.objects.get(object_id=slow["person"].pk)
    fast_change = Change.objects.get(object_id=fast.pk)
    assert slow_change.id < fast_change.id  # the id order a naive feed would trust
    # Transaction ids are cluster-wide: an older transaction of another database on the same
    # server holds the horizon too (it delays the feed, never loses a row). Wait for it, bounded.
    newest = max(slow_change.txid, fast_change.txid)
    for _attempt in range(360):
        if changes._horizon()[0] > newest:
            break
        time.sleep(0.5)
    page = changes.feed(model=Person, user=pandeglang_operator, after=page.position, limit=100)
    assert [c.object_id for c in page.changes] == [slow["person"].pk, fast.pk]


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_long_transaction_in_another_database_does_not_hold_the_feed(pandeglang_operator):
    """Only this database's transactions can write change rows: one left open in another
    database of the server (a report job, a psql session, another test run) used to hold
    every feed at its transaction id."""
    import psycopg2

    params = connection.get_connection_params()
    elsewhere = psycopg2.connect(**{**params, "dbname": "postgres"})
    try:
        with elsewhere.cursor() as cursor:  # a transaction with an id, left open
            cursor.execute("SELECT pg_current_xact_id()")
        person = PersonFactory(desa_id=DESA_PANDEGLANG, name="Sesudahnya")
        page = changes.feed(model=Person, user=pandeglang_operator, limit=100)
        assert person.pk in {c.object_id for c in page.changes}
    finally:
        elsewhere.rollback()
        elsewhere.close()


@postgres_only
def test_an_empty_page_never_moves_the_cursor_past_the_readers_own_transaction(
        lebak_operator, province_operator):
    """A transaction that reads a feed and then writes (a test's body, a batch that reads
    before it writes): Lebak's empty page moved its cursor to the snapshot's horizon, which is
    above this transaction's own id, so the person moved to Lebak afterwards — written with
    that same id — was never shown to Lebak (seen under pytest-xdist on PostgreSQL)."""
    from django.db import connection, connections

    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    other = connections.create_connection("default")  # another session commits a later id
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")
    finally:
        other.close()
    with connection.cursor() as cursor:  # so the snapshot's horizon is above our id
        cursor.execute("SELECT pg_current_xact_id_if_assigned()::text::bigint, "
                       "pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        own, xmax = cursor.fetchone()
    assert own is not None and own < xmax
    empty = changes.feed(model=Person, user=lebak_operator, limit=100)
    assert empty.changes == []
    from pmks import services

    services.person_update(actor=province_operator, person=person, desa_id=DESA_LEBAK)
    page = changes.feed(model=Person, user=lebak_operator, after=empty.position, limit=100)
    assert [(c.object_id, c.kind) for c in page.changes] == [(person.pk, "upsert")]


def _tombstones(model, pks) -> list[tuple]:
    rows = Change.objects.filter(resource=changes.resource(model), kind=Change.Kind.DELETED,
                                 object_id__in=pks).order_by("id")
    return list(rows.values_list("object_id", "area", "new_area", "merged_into"))


@postgres_only
def test_tombstones_of_a_bulk_delete_take_one_statement_and_equal_the_row_by_row_ones():
    """A recompute deletes a whole run's lines: their tombstones were built as one model
    instance each and sent in batches of 1,000 (51 INSERTs, ~8 s of Python at 50,000 lines).
    From BULK_FROM rows on they are one statement, whatever the number, and the same rows:
    the area a reader last saw (its upsert's, which goes), else empty, in the order given."""
    from django.test.utils import CaptureQueriesContext

    label = changes.resource(Person)
    n = changes.BULK_FROM + 500
    small, big = list(range(1, 11)), list(range(10_001, 10_001 + n))
    seen = {1: DESA_LEBAK, 3: DESA_PANDEGLANG, 10_001: DESA_LEBAK, 10_003: DESA_PANDEGLANG}
    Change.objects.bulk_create(Change(resource=label, object_id=pk, kind=Change.Kind.UPSERT,
                                      area=area, at="2026-11-01T00:00Z")
                               for pk, area in seen.items())
    changes.record_deleted(Person, small)  # row by row (below BULK_FROM)
    with CaptureQueriesContext(connection) as bulk:
        changes.record_deleted(Person, big)
    with CaptureQueriesContext(connection) as bigger:
        changes.record_deleted(Person, list(range(100_001, 100_001 + 3 * n)))
    assert len(bulk) == len(bigger) == 1
    assert not Change.objects.filter(resource=label, kind=Change.Kind.UPSERT).exists()
    expected_small = [(pk, seen.get(pk, ""), "", None) for pk in small]
    assert _tombstones(Person, small) == expected_small
    assert _tombstones(Person, big) == [(pk, seen.get(pk, ""), "", None) for pk in big]
    txids = set(Change.objects.filter(object_id__in=big).values_list("txid", flat=True))
    assert len(txids) == 1 and txids != {0}


def _feed_rows(model, pks) -> list[tuple]:
    rows = Change.objects.filter(resource=changes.resource(model), object_id__in=pks)
    return sorted(rows.values_list("object_id", "kind", "area", "new_area"))


@postgres_only
def test_bulk_saved_rows_equal_the_row_by_row_ones():
    """The import's change rows are sent as array literals (one constant each, not an
    ``ARRAY[…]`` expression per element): the same rows as ``record_saved`` writes — a move
    writes ``left_area`` then ``upsert``, a record seen before loses its old upsert."""
    label = changes.resource(Person)
    moves = [(1, DESA_LEBAK, DESA_PANDEGLANG), (2, None, DESA_LEBAK), (3, DESA_LEBAK, DESA_LEBAK),
             (4, DESA_PANDEGLANG, None)]
    for offset in (0, 1_000):
        Change.objects.bulk_create(
            Change(resource=label, object_id=pk + offset, kind=Change.Kind.UPSERT, area=old,
                   at="2026-11-01T00:00Z") for pk, old, _new in moves if old)
    changes.record_saved(Person, moves)
    changes.record_saved_bulk(Person, [(pk + 1_000, old, new) for pk, old, new in moves])
    by_row = _feed_rows(Person, [pk for pk, _o, _n in moves])
    bulk = _feed_rows(Person, [pk + 1_000 for pk, _o, _n in moves])
    assert [(pk + 1_000, *rest) for pk, *rest in by_row] == bulk
    assert (1_001, Change.Kind.LEFT_AREA, DESA_LEBAK, DESA_PANDEGLANG) in bulk
    assert sum(1 for row in bulk if row[1] == Change.Kind.UPSERT) == len(moves)


@postgres_only
def test_array_literals_read_back_as_the_values_they_hold():
    values = ["", "36.01", 'a"b', "a\\b", "x,y", "{}", "NULL", " spaced ", "ä"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[], %s::bigint[]",
                       [changes._array(values), changes._array([1, 2**62, 3])])
        assert cursor.fetchone() == (values, [1, 2**62, 3])


def _race(holder, other) -> None:
    """``holder`` runs in a transaction of its own and stops before its commit; ``other`` then
    runs in another (given a second to block on ``holder``'s locks, if it does); ``holder``
    commits, and both end."""
    wrote, release, errors = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                holder()
                wrote.set()
                release.wait(30)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            wrote.set()
        finally:
            connection.close()

    def run_other():
        try:
            with transaction.atomic():
                other()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    first, second = threading.Thread(target=hold), threading.Thread(target=run_other)
    first.start()
    assert wrote.wait(30)
    second.start()
    second.join(1)  # done by now, unless it waits for the holder
    release.set()
    first.join(30)
    second.join(30)
    assert not errors, errors


def _log_of(model, pk) -> list[tuple]:
    return list(Change.objects.filter(resource=changes.resource(model), object_id=pk)
                .order_by("txid", "id").values_list("kind", "area"))


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_writers_of_one_record_keep_one_upsert_row():
    """Both deleted the record's upsert row, then inserted their own: the second writer's
    DELETE cannot see the row the first committed meanwhile, so two stayed (the feed sent the
    record twice, and the older one's area could decide its next ``left_area``)."""
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    _race(lambda: changes.refresh(Person, [person.pk]),
          lambda: changes.refresh(Person, [person.pk]))
    assert _log_of(Person, person.pk) == [("upsert", DESA_PANDEGLANG)]


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_saved_while_its_worker_moves_follows_the_worker():
    """The worker's move is not committed yet when the report is saved: the report read the
    old area and the move's re-feed of the worker's reports could not see the new report, so
    Lebak never got it and Pandeglang kept it."""
    from psks.models import ActivityReport
    from tests.factories import ActivityReportFactory, WorkerFactory

    worker, made = WorkerFactory(desa_id=DESA_PANDEGLANG), {}

    def move():
        worker.desa_id = DESA_LEBAK
        worker.save()

    def report():
        made["report"] = ActivityReportFactory(worker_id=worker.pk)

    _race(move, report)
    assert _log_of(ActivityReport, made["report"].pk) == [("upsert", DESA_LEBAK)]


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_moved_while_a_report_is_saved_takes_the_report_along():
    """The report is not committed yet when its worker moves: the move's re-feed could not see
    it, and the report's change stayed in Pandeglang."""
    from psks.models import ActivityReport, Worker
    from tests.factories import ActivityReportFactory, WorkerFactory

    worker, made = WorkerFactory(desa_id=DESA_PANDEGLANG), {}

    def report():
        made["report"] = ActivityReportFactory(worker_id=worker.pk)

    def move():
        moving = Worker.objects.get(pk=worker.pk)
        moving.desa_id = DESA_LEBAK
        moving.save()

    _race(report, move)
    assert _log_of(ActivityReport, made["report"].pk) == [
        ("left_area", DESA_PANDEGLANG), ("upsert", DESA_LEBAK)]


# --- only moves wait (review of the FOR SHARE version) -----------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_records_writer_does_not_block_its_parents_other_updates():
    """A row lock FOR SHARE on the worker, held by whoever saved one of its bank accounts (a
    whole PSKS import), made every edit of that worker wait for it. Only a move waits."""
    from django.db import OperationalError

    from psks.models import Worker
    from tests.factories import BankAccountFactory, UserFactory, WorkerFactory

    worker, user = WorkerFactory(), UserFactory()
    saved, release, errors = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                BankAccountFactory(worker=Worker.objects.get(pk=worker.pk), created_by_id=user.pk)
                saved.set()
                release.wait(20)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert saved.wait(20)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1500ms'")
            edited = Worker.objects.get(pk=worker.pk)
            edited.phone = "081234567890"
            edited.save()  # not a move: no wait
        blocked = False
    except OperationalError:
        blocked = True
    finally:
        release.set()
        thread.join(20)
    assert not errors and blocked is False


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_flows_saving_a_record_then_editing_its_parent_do_not_deadlock():
    from psks.models import Worker
    from tests.factories import BankAccountFactory, UserFactory, WorkerFactory

    worker, users = WorkerFactory(), [UserFactory(), UserFactory()]
    barrier, errors = threading.Barrier(2, timeout=20), []

    def flow(user_pk):
        try:
            with transaction.atomic():
                BankAccountFactory(worker=Worker.objects.get(pk=worker.pk),
                                   created_by_id=user_pk)
                barrier.wait()
                edited = Worker.objects.get(pk=worker.pk)
                edited.phone = f"08123456789{user_pk % 10}"
                edited.save()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=flow, args=(u.pk,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
