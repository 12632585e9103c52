"""Uploaded import files are kept IMPORT_FILE_DAYS after their import ended (UU 27/2022: a file
holds every row's NIK, No. KK and account, and the registry already holds what was accepted);
a daily task removes older ones. The batch keeps its totals and rejected rows, and its error
report on every door then lists those rows (row, column, reason) instead of failing."""

import datetime
import os

import pytest
from django.utils import timezone

from dinsos import importing, roles
from dinsos.models import ImportBatch
from dinsos.schedule import DEFAULT_PERIODIC_TASKS
from dinsos.tasks import purge_import_files
from tests.helpers import client_for
from tests.pmks.test_import import (
    IMPORTS,
    KK_2,
    NIK_WIFE,
    REPORT_ROUTES,
    csv_bytes,
    row,
    submit,
    table,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_FILE_DAYS = 30


def rejected_rows():
    return [row(), row(no_kk=KK_2, nik=NIK_WIFE, nama="Siti Aminah", tanggal_lahir="19-03-1985",
                       jenis_kelamin="P", desil="11")]


def aged(batch, days):
    ImportBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days))


def test_files_of_imports_ended_before_import_file_days_are_removed(
        pandeglang_operator, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    old = submit(pandeglang_operator, csv_bytes(rejected_rows()), capture=capture)
    checked = submit(pandeglang_operator, csv_bytes(rejected_rows()), dry_run=True,
                     name="uji.csv", capture=capture)
    recent = submit(pandeglang_operator, csv_bytes(rejected_rows()), name="baru.csv",
                    capture=capture)
    stuck = submit(pandeglang_operator, csv_bytes(rejected_rows()), name="antre.csv",
                   capture=capture)
    ImportBatch.objects.filter(pk=stuck.pk).update(status=ImportBatch.Status.QUEUED)
    aged(old, 31)
    aged(checked, 31)
    aged(recent, 29)
    aged(stuck, 60)
    paths = {b.pk: b.file.path for b in (old, checked, recent, stuck)}

    assert purge_import_files.apply().get() == 2

    removed = {b.pk for b in ImportBatch.objects.filter(file="")}
    assert removed == {old.pk, checked.pk}
    for pk, path in paths.items():
        assert (pk in removed) != os.path.exists(path), pk
    old.refresh_from_db()
    assert old.totals["rejected"] == 1 and old.errors  # the batch keeps what it found
    assert purge_import_files.apply().get() == 0  # nothing twice
    assert "dinsos.purge_import_files" in {t.task for t in DEFAULT_PERIODIC_TASKS}


def test_import_file_days_zero_keeps_every_file(
        pandeglang_operator, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_FILE_DAYS = 0
    batch = submit(pandeglang_operator, csv_bytes(rejected_rows()),
                   capture=django_capture_on_commit_callbacks)
    aged(batch, 4000)
    assert purge_import_files.apply().get() == 0
    batch.refresh_from_db()
    assert batch.file.name


@pytest.mark.parametrize("route", sorted(REPORT_ROUTES))
def test_the_report_of_a_removed_file_lists_the_rejected_rows_on_every_door(
        route, pandeglang_operator, make_user, django_capture_on_commit_callbacks):
    batch = submit(pandeglang_operator, csv_bytes(rejected_rows()),
                   capture=django_capture_on_commit_callbacks)
    aged(batch, 31)
    purge_import_files.apply()
    url = REPORT_ROUTES[route](batch.pk)

    got = table(client_for(pandeglang_operator).get(url))
    assert got == [["baris", "kolom", "kesalahan"], ["3", "desil", "desil harus 1 sampai 10"]]
    masked = client_for(make_user(roles.AUDITOR)).get(url)
    assert masked.status_code == 200
    assert NIK_WIFE not in b"".join(masked.streaming_content).decode("utf-8-sig")


def test_a_file_gone_from_storage_before_its_row_was_cleared_still_answers(
        pandeglang_operator, django_capture_on_commit_callbacks):
    """A purge stopped between removing the file and clearing the row: the report lists the
    rejected rows (not a broken download) and the next purge clears the row."""
    batch = submit(pandeglang_operator, csv_bytes(rejected_rows()),
                   capture=django_capture_on_commit_callbacks)
    batch.file.storage.delete(batch.file.name)
    got = table(client_for(pandeglang_operator).get(f"/impor/{batch.pk}/laporan.csv"))
    assert got[0] == ["baris", "kolom", "kesalahan"]
    aged(batch, 31)
    assert purge_import_files.apply().get() == 1
    assert ImportBatch.objects.get(pk=batch.pk).file.name == ""


def test_the_page_and_the_api_say_the_file_was_removed(
        pandeglang_operator, api_as, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    gone = submit(pandeglang_operator, csv_bytes(rejected_rows()), capture=capture)
    kept = submit(pandeglang_operator, csv_bytes(rejected_rows()), name="baru.csv",
                  capture=capture)
    aged(gone, 31)
    purge_import_files.apply()
    api = api_as(pandeglang_operator)
    assert api.get(f"{IMPORTS}{gone.pk}/").json()["file_kept"] is False
    assert api.get(f"{IMPORTS}{kept.pk}/").json()["file_kept"] is True
    page = client_for(pandeglang_operator).get(f"/impor/{gone.pk}/").content.decode()
    assert "berkas asli sudah dihapus 30 hari setelah diunggah" in page
    assert "desil harus 1 sampai 10" in page
    page = client_for(pandeglang_operator).get(f"/impor/{kept.pk}/").content.decode()
    assert "berkas asli ditambah kolom kesalahan" in page


# Review: The CSV error report is streamed and opens the upload lazily: a purge that runs after the
#    view answered (file_kept said yes) and before the stream is read ends the download in a
#    FileNotFoundError instead of the rejected-rows report.
def test_a_csv_report_being_downloaded_while_the_purge_runs(
        pandeglang_operator, django_capture_on_commit_callbacks):
    batch = submit(pandeglang_operator, csv_bytes(rejected_rows()),
                   capture=django_capture_on_commit_callbacks)
    aged(batch, 31)
    batch = ImportBatch.objects.get(pk=batch.pk)
    response = importing.report_response(batch, user=pandeglang_operator, fmt="csv")
    assert importing.import_files_purge() == 1  # the 03.45 task, meanwhile
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "kesalahan" in body
