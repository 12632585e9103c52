"""Live progress of an import (issue #12 point 3): the batch records rows done of rows total
once per chunk while the task runs, and the /impor/ status partial shows "x dari y baris"."""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connections
from django.test import Client
from django.urls import reverse

from dinsos import importing
from dinsos.models import ImportBatch
from dinsos.tabular import count_rows
from pmks import importing as pmks_importing
from tests.pmks.test_import import HEADER, row

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
KK = "36010112041600{:02d}"


def _rows(n: int) -> str:
    lines = [",".join(HEADER)]
    for i in range(n):  # n households of one head each; no NIK (none to build)
        values = row(no_kk=KK.format(i + 1), nik="", nama=f"Warga {i}")
        lines.append(",".join(values[c] for c in HEADER))
    return "\n".join(lines) + "\n"


def _batch(user, content: str, **fields) -> ImportBatch:
    batch = ImportBatch(kind="pmks_keluarga", filename="keluarga.csv", sha256="0" * 64,
                        dry_run=False, area_id="36", created_by=user, **fields)
    batch.file.save("keluarga.csv", ContentFile(content.encode()), save=False)
    batch.save()
    return batch


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_count_rows_of_csv_and_xlsx(tmp_path):
    import io

    import openpyxl

    assert count_rows(io.BytesIO(_rows(7).encode()), "a.csv") == 7
    assert count_rows(io.BytesIO(_rows(7).encode().rstrip(b"\n")), "a.csv") == 7
    workbook = openpyxl.Workbook()
    for i in range(5):
        workbook.active.append([f"r{i}"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert count_rows(buffer, "a.xlsx") == 4  # less the header row


@pytest.mark.django_db
def test_import_records_rows_done_per_chunk(province_operator, monkeypatch):
    batch = _batch(province_operator, _rows(5))
    monkeypatch.setattr(pmks_importing, "CHUNK_SIZE", 2)
    monkeypatch.setattr(pmks_importing, "COPY_CHUNK_SIZE", 2)
    seen = []
    original = importing._progress_of

    def spy(batch):
        manager = original(batch)

        class Spy:
            def __enter__(self):
                manager.__enter__()
                write = importing._progress.get()
                importing._progress.set(lambda done: (seen.append(done), write(done)))

            def __exit__(self, *exc):
                return manager.__exit__(*exc)

        return Spy()

    monkeypatch.setattr(importing, "_progress_of", spy)
    importing.import_run(batch)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED, batch.message
    assert seen == [2, 4, 5]  # once per chunk, not per row
    assert (batch.rows_done, batch.rows_total) == (5, 5)


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (the import holds one "
                    "transaction; the count is written through a second connection)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_is_visible_outside_the_running_import(province_operator, monkeypatch):
    batch = _batch(province_operator, _rows(5))
    monkeypatch.setattr(pmks_importing, "CHUNK_SIZE", 2)
    monkeypatch.setattr(pmks_importing, "COPY_CHUNK_SIZE", 2)
    outside = []
    report = pmks_importing.report_progress

    def look(done):
        report(done)
        other = connections.create_connection("default")
        try:  # what a status page (another connection) reads now, mid-transaction
            with other.cursor() as cursor:
                cursor.execute("SELECT rows_done, rows_total, status FROM dinsos_importbatch "
                               "WHERE id = %s", [batch.pk])
                outside.append(cursor.fetchone())
        finally:
            other.close()

    monkeypatch.setattr(pmks_importing, "report_progress", look)
    importing.import_run(batch)
    assert outside == [(2, 5, "berjalan"), (4, 5, "berjalan"), (5, 5, "berjalan")]


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite only: on PostgreSQL the count is committed "
                    "through a second connection (the test above)")
@pytest.mark.django_db
def test_on_sqlite_the_status_page_sees_the_progress_of_the_running_import(
        province_operator, monkeypatch, settings, tmp_path):
    """`make run` (SQLite) showed no count until the import committed: the status page, in the
    web process, reads the committed batch (rows_done 0) while the worker's import holds the
    only write transaction. The count now also goes to a file under var/ that it reads."""
    settings.VAR_DIR = tmp_path
    batch = _batch(province_operator, _rows(5))
    monkeypatch.setattr(pmks_importing, "CHUNK_SIZE", 2)
    monkeypatch.setattr(pmks_importing, "COPY_CHUNK_SIZE", 2)
    committed = ImportBatch(pk=batch.pk, status=ImportBatch.Status.RUNNING, rows_total=5,
                            rows_done=0)  # what the web process reads meanwhile
    outside = []
    report = pmks_importing.report_progress

    def look(done):
        report(done)
        outside.append(importing.rows_done_of(committed))

    monkeypatch.setattr(pmks_importing, "report_progress", look)
    importing.import_run(batch)
    assert outside == [2, 4, 5]
    assert not list(tmp_path.glob("progress/*"))  # gone with the import
    assert importing.rows_done_of(committed) == 0


@pytest.mark.django_db
def test_status_partial_shows_rows_done_of_total(province_operator):
    batch = _batch(province_operator, _rows(1), status=ImportBatch.Status.RUNNING,
                   rows_total=12500, rows_done=5000)
    client = Client()
    client.force_login(province_operator)
    html = client.get(reverse("import-detail", args=[batch.pk]),
                      HTTP_HX_REQUEST="true").content.decode()
    assert "5.000 dari 12.500 baris" in html
    assert 'value="5000"' in html and 'max="12500"' in html
    assert 'hx-trigger="every 1s"' in html  # still polling
    batch.status, batch.rows_done = ImportBatch.Status.IMPORTED, 12500
    batch.totals = {"rows": 12500, "accepted": 12500, "rejected": 0}
    batch.save()
    html = client.get(reverse("import-detail", args=[batch.pk]),
                      HTTP_HX_REQUEST="true").content.decode()
    assert "dari 12.500 baris" not in html and "hx-trigger" not in html


# --- a worker that stopped mid-run (the import audit of December 2026) ---------------------------


@pytest.mark.django_db
def test_a_batch_left_running_by_a_stopped_worker_says_it_was_run_again(province_operator):
    """The broker delivers the task again (acks late) after a worker died mid-run; the batch
    stayed "berjalan" and the second run started without a word."""
    from dinsos.tasks import run_import

    batch = _batch(province_operator, _rows(2), status=ImportBatch.Status.RUNNING,
                   rows_total=2, rows_done=1, attempts=1)
    assert run_import(batch.pk) == ImportBatch.Status.IMPORTED
    batch.refresh_from_db()
    assert batch.message.startswith(
        "Impor ini dijalankan ulang: percobaan sebelumnya terhenti sebelum selesai (pekerja "
        "latar belakang berhenti) dan tidak menyimpan apa pun; hasil di bawah ini dari "
        "percobaan ulang, dengan data yang ada saat itu. 2 baris diterima, 0 ditolak.")


@pytest.mark.django_db
@pytest.mark.parametrize("status", [ImportBatch.Status.IMPORTED, ImportBatch.Status.FAILED,
                                    ImportBatch.Status.CHECKED])
def test_a_finished_batch_delivered_again_is_not_run_again(status, province_operator):
    from dinsos.tasks import run_import
    from pmks.models import Person

    batch = _batch(province_operator, _rows(2), status=status, message="selesai")
    assert run_import(batch.pk) == status
    batch.refresh_from_db()
    assert (batch.status, batch.message) == (status, "selesai")
    assert not Person.objects.exists()


class Killed(BaseException):
    """What the task time limit does to a run: the worker process ends mid-import (no
    ``except Exception`` of the import sees it)."""


@pytest.mark.django_db
def test_a_batch_killed_every_time_is_failed_after_the_cap_and_not_started_again(
        province_operator, monkeypatch):
    """Every delivery of a batch killed mid-run (task time limit, acks late) started it again,
    without end. Starts are counted on the batch row; the delivery after IMPORT_MAX_ATTEMPTS
    (3) starts fails it for the uploader and runs nothing; a killed start leaves nothing."""
    from dinsos.tasks import run_import
    from pmks.models import Household, Person

    importer = importing.IMPORTERS["pmks_keluarga"]
    real_run, starts = importer.run, []

    def killed_run(**kwargs):
        starts.append(1)
        real_run(**kwargs)
        assert Household.objects.exists()  # written, then the worker is killed
        raise Killed

    monkeypatch.setattr(importer, "run", killed_run)
    batch = _batch(province_operator, _rows(2))
    for attempt in (1, 2, 3):
        with pytest.raises(Killed):
            run_import(batch.pk)
        batch.refresh_from_db()
        assert (batch.status, batch.attempts) == (ImportBatch.Status.RUNNING, attempt)
        assert not Household.objects.exists() and not Person.objects.exists()
    for _delivery in (4, 5):
        assert run_import(batch.pk) == ImportBatch.Status.FAILED
    batch.refresh_from_db()
    assert len(starts) == 3 and batch.attempts == 3
    assert batch.message == (
        "Impor dihentikan setelah 3 kali percobaan: setiap percobaan terhenti sebelum selesai "
        "(melewati batas waktu 30 menit, atau pekerja latar belakang berhenti) dan tidak "
        "menyimpan apa pun. Bagi berkas menjadi beberapa berkas yang lebih kecil lalu unggah "
        f"lagi, atau hubungi admin dan sebutkan nomor impor {batch.pk}.")
    assert (batch.totals, batch.errors, batch.rows_done) == ({}, [], 0)
    assert not Household.objects.exists() and not Person.objects.exists()


@pytest.mark.django_db
def test_the_cap_is_a_setting_and_a_start_under_it_runs(province_operator, settings):
    from dinsos.tasks import run_import

    settings.IMPORT_MAX_ATTEMPTS = 2
    batch = _batch(province_operator, _rows(2), status=ImportBatch.Status.RUNNING, attempts=1)
    assert run_import(batch.pk) == ImportBatch.Status.IMPORTED
    batch.refresh_from_db()
    assert batch.attempts == 2 and batch.message.startswith("Impor ini dijalankan ulang")
    stuck = _batch(province_operator, _rows(2), status=ImportBatch.Status.RUNNING, attempts=2)
    assert run_import(stuck.pk) == ImportBatch.Status.FAILED
    stuck.refresh_from_db()
    assert stuck.message.startswith("Impor dihentikan setelah 2 kali percobaan: ")


def test_a_run_killed_by_the_time_limit_goes_back_to_the_broker():
    """Acknowledged on a hard time limit (Celery's default), the killed batch stayed
    "berjalan" for ever; handed back, its next delivery is counted against the cap."""
    from dinsos.tasks import run_import

    assert run_import.acks_late is True and run_import.acks_on_timeout is False


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (the run lock is an advisory "
                    "lock; the second delivery needs a connection of its own)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_delivery_during_a_live_run_neither_fails_nor_starts_it_again(province_operator,
                                                                       monkeypatch):
    """A hard time limit hands the message back before its process is gone: the next delivery
    arrived while the run was live and, at the cap, failed the batch ("tidak menyimpan apa
    pun") — then the live run overwrote that with "diimpor"; under the cap it started the
    batch a second time alongside. Now the second delivery is told the batch is busy."""
    import threading

    from django.db import connection

    importer = importing.IMPORTERS["pmks_keluarga"]
    real_run, seen = importer.run, {}

    def deliver_again():
        try:
            importing.import_run(ImportBatch.objects.get(pk=batch.pk))
        except importing.BatchBusy:
            seen["other"] = "busy"
        else:
            seen["other"] = "ran"
        finally:
            connection.close()

    def run_with_redelivery(**kwargs):
        report = real_run(**kwargs)
        other = threading.Thread(target=deliver_again)
        other.start()
        other.join()
        seen["status"] = ImportBatch.objects.get(pk=batch.pk).status
        return report

    monkeypatch.setattr(importer, "run", run_with_redelivery)
    batch = _batch(province_operator, _rows(2), status=ImportBatch.Status.RUNNING, attempts=2)
    final = importing.import_run(batch)
    batch.refresh_from_db()
    assert (seen["other"], seen["status"], final.status) == (
        "busy", ImportBatch.Status.RUNNING, ImportBatch.Status.IMPORTED)
    assert batch.attempts == 3 and batch.status == ImportBatch.Status.IMPORTED


@pytest.mark.django_db
def test_a_busy_batch_is_asked_again_later_not_failed(province_operator, monkeypatch):
    """The delivery told the batch is busy goes back to the broker with a countdown (Celery's
    retry), leaving the batch to the live run."""
    from celery.exceptions import Retry

    from dinsos.tasks import BUSY_RETRY_SECONDS, run_import

    asked = {}

    def busy(batch):
        raise importing.BatchBusy(batch.pk)

    def retry(**kwargs):
        asked.update(kwargs)
        return Retry()

    monkeypatch.setattr(importing, "import_run", busy)
    monkeypatch.setattr(run_import, "retry", retry)
    batch = _batch(province_operator, _rows(2), status=ImportBatch.Status.RUNNING, attempts=1)
    with pytest.raises(Retry):
        run_import.run(batch.pk)
    assert isinstance(asked["exc"], importing.BatchBusy)
    assert (asked["countdown"], asked["args"], asked["kwargs"]) == (
        BUSY_RETRY_SECONDS, (batch.pk,), {"busy": 1})
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (ImportBatch.Status.RUNNING, 1)


def _delivered(batch, outcomes, monkeypatch, **kwargs) -> tuple[object, int]:
    """One delivery of ``run_import`` and its retries, run at once (eager): each try meets
    the next of ``outcomes`` (an exception class, or None to finish); the result and tries."""
    from django.db import OperationalError

    from dinsos.tasks import run_import

    tries = []

    def run(batch):
        tries.append(batch.pk)
        outcome = outcomes[len(tries) - 1]
        if outcome is None:
            return batch
        raise outcome(batch.pk) if outcome is importing.BatchBusy else OperationalError("lost")

    monkeypatch.setattr(importing, "import_run", run)
    # an eager retry runs the next try with the app's propagation, not apply's
    monkeypatch.setitem(run_import.app.conf, "task_eager_propagates", False)
    return run_import.apply(args=(batch.pk,), **kwargs), len(tries)


@pytest.mark.django_db
def test_busy_answers_and_lost_connections_keep_budgets_of_their_own(province_operator,
                                                                     monkeypatch):
    """The busy retry passed ``max_retries=60`` to Celery's retry, which keeps it on the task
    object: from then on every import in that worker process had 60 retries for a lost
    database connection instead of 3, and both kinds counted in one ``request.retries``. Now
    the busy tries are counted apart (``busy``) and nothing is overridden."""
    from django.db import OperationalError

    from dinsos.tasks import BUSY_MAX_RETRIES, DB_MAX_RETRIES

    busy = importing.BatchBusy
    batch = _batch(province_operator, _rows(2), status=ImportBatch.Status.RUNNING, attempts=1)
    result, tries = _delivered(batch, [busy, None], monkeypatch)
    assert result.successful() and tries == 2
    # a later delivery in the same worker: a connection lost four times in a row fails it
    result, tries = _delivered(batch, [OperationalError] * 4 + [None], monkeypatch)
    assert isinstance(result.result, OperationalError) and tries == DB_MAX_RETRIES + 1
    # four busy answers do not use up the budget of a lost connection
    result, tries = _delivered(batch, [busy] * 4 + [OperationalError, None], monkeypatch)
    assert result.successful() and tries == 6
    # and a batch busy for longer than an hour is given up: the delivery fails
    result, tries = _delivered(batch, [busy], monkeypatch, kwargs={"busy": BUSY_MAX_RETRIES})
    assert isinstance(result.result, importing.BatchBusy) and tries == 1


@pytest.mark.django_db
def test_a_start_is_counted_before_the_file_is_read(province_operator, monkeypatch):
    """Killed while counting the file's rows (a big file), a start was not counted and the
    cap never reached it."""
    def killed(batch):
        raise Killed

    monkeypatch.setattr(importing, "_count_rows", killed)
    batch = _batch(province_operator, _rows(2))
    with pytest.raises(Killed):
        importing.import_run(batch)
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (ImportBatch.Status.RUNNING, 1)


@pytest.mark.django_db
def test_the_soft_time_limit_says_so(province_operator, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def too_long(**kwargs):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(importing.IMPORTERS["pmks_keluarga"], "run", too_long)
    batch = importing.import_run(_batch(province_operator, _rows(2)))
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message == (
        "Impor dihentikan karena melewati batas waktu 25 menit; tidak ada data yang disimpan. "
        "Bagi berkas menjadi beberapa berkas yang lebih kecil lalu unggah lagi, atau hubungi "
        f"admin dan sebutkan nomor impor {batch.pk}.")
