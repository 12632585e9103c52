"""PSKS workforce: two writers at once (PostgreSQL). One writer's transaction is held open
at the moment its work is done; the other runs into it; then the first commits. These FAIL on
the audited code."""

import datetime

import pytest
from django.utils import timezone

from dinsos import roles
from psks import services
from psks.models import ActivityReport, Assignment, Worker
from tests.factories import WorkerFactory
from tests.helpers import postgres_only
from tests.psks.factories import KEC_SUMUR, assign, office
from tests.races import Held, Thread, api, wait_for_lock_waiter

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

D = datetime.date
API = "/api/v1/psks/"


@pytest.fixture
def operator(make_user):
    return make_user(roles.OPERATOR_PROVINSI)


def test_an_assignment_made_while_its_worker_is_stopped_outlives_the_stop(operator):
    """Rule: only an active worker is assigned ("Hanya tenaga berstatus aktif…"), and stopping
    a worker (berhenti) ends every open assignment on that day. ``assignment_create`` asks
    the status of the worker object the request read, before ``_save_assignment`` locks the
    worker's row, and never again after the lock. A decree entered while another officer
    stops the worker: the stop ended the assignments it saw, the new one was not yet there,
    and the stopped worker is left TKSK of Kec. Sumur until 2029 — paid every month (a
    stopped worker's lines are not held) and blocking the kecamatan for a successor."""
    worker = WorkerFactory()
    today = timezone.localdate()
    stop = Held(lambda: services.worker_set_status(
        actor=operator, worker=Worker.objects.get(pk=worker.pk), status="berhenti", on=today,
        reason="Mengundurkan diri")).start()
    create = Thread(api(operator, "post", f"{API}assignments/", {
        "worker": worker.pk, "role": "tksk", "area": KEC_SUMUR,
        "decree_number": "460/77/Dinsos/2026", "decree_date": "2026-11-02",
        "decree_office": office().pk, "start_date": "2026-11-02", "end_date": "2029-12-31",
        "funding_source": "apbd_provinsi"})).start()
    wait_for_lock_waiter(create)  # _save_assignment's lock of the worker row waits
    stop.release()
    create.join()

    worker.refresh_from_db()
    still_on_duty = list(Assignment.objects.filter(worker=worker, end_date__gt=today)
                         .values_list("area_id", "end_date"))
    assert (worker.status, create.result.status_code, still_on_duty) == ("berhenti", 400, [])


def test_two_first_reports_of_one_month_the_second_overwrites_the_first(operator):
    """Rule: ``report_create`` refuses a second report of the same worker and month ("Laporan
    … untuk bulan … sudah ada; ubah laporan itu."). Two officers (or a form sent twice)
    create it at once: both pass the existence check, the second's ``get_or_create`` waits on
    the unique index, then finds the first's row and overwrites its figures — answered 201 as
    if it had created a report of its own, and the first officer's numbers are gone."""
    worker = WorkerFactory()
    first = Held(lambda: services.report_create(
        actor=operator, worker=worker, period=D(2026, 11, 1), households_visited=12,
        notes="Laporan Pak Dede")).start()
    second = Thread(api(operator, "post", f"{API}activity-reports/", {
        "worker": worker.pk, "period": "2026-11-01", "households_visited": 3,
        "notes": "Laporan Bu Siti"})).start()
    wait_for_lock_waiter(second)  # the second INSERT waits on psks_report_per_month
    first.release()
    second.join()

    report = ActivityReport.objects.get(worker=worker, period=D(2026, 11, 1))
    assert (second.result.status_code, report.households_visited, report.notes) == (
        400, 12, "Laporan Pak Dede")


def test_an_assignment_edited_while_it_is_ended_is_running_again(operator):
    """Rule: an assignment ended early keeps its end date and reason (``assignment_end``;
    "Untuk memperpanjang, buat penugasan baru"). An edit of the decree number at the same
    moment (PATCH without If-Match, or the admin) saves every column of the object read before
    the end committed: the end date goes back to 2029 and the reason is wiped — the worker is
    TKSK (and paid) again."""
    worker = WorkerFactory()
    assignment = assign(operator, worker, area=KEC_SUMUR)
    ended_on = D(2026, 11, 30)
    end = Held(lambda: services.assignment_end(
        actor=operator, assignment=Assignment.objects.get(pk=assignment.pk), end_date=ended_on,
        reason="Pindah tugas")).start()
    edit = Thread(api(operator, "patch", f"{API}assignments/{assignment.pk}/",
                      {"decree_number": "460/001/Dinsos/2025-rev"})).start()
    wait_for_lock_waiter(edit)
    end.release()
    edit.join()

    assignment.refresh_from_db()
    assert (assignment.end_date, assignment.end_reason) == (ended_on, "Pindah tugas")


def test_a_worker_edited_while_being_stopped_is_active_again(operator):
    """Rule: a worker's status changes only through ``worker_set_status`` (dated, with a
    reason). ``worker_update`` (PATCH without If-Match, the admin, the PSKS import) saves every
    column of the worker read before a stop committed: status ``aktif``, no date, no reason —
    the stop is undone (its assignments stay ended) and the worker can be assigned again."""
    worker = WorkerFactory()
    stop = Held(lambda: services.worker_set_status(
        actor=operator, worker=Worker.objects.get(pk=worker.pk), status="berhenti",
        on=timezone.localdate(), reason="Mengundurkan diri")).start()
    edit = Thread(api(operator, "patch", f"{API}workers/{worker.pk}/",
                      {"phone": "0812 3456 7890"})).start()
    wait_for_lock_waiter(edit)
    stop.release()
    edit.join()

    worker.refresh_from_db()
    assert (worker.phone, worker.status, worker.status_reason) == (
        "0812 3456 7890", "berhenti", "Mengundurkan diri")
