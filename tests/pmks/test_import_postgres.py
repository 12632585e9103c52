"""The PMKS import on PostgreSQL only (the COPY path, advisory locks): found by the import
audit of December 2026 — a CSV import under DJANGO_DEBUG=1, the error a failed chunk raises,
the same file imported twice at once."""

import datetime
import io
import threading

import pytest
from django.db import DataError, connection, transaction

from pmks import importing as pmks_importing
from pmks import services as pmks_services
from pmks.models import Household, Person
from pmks.staging import Stage
from tests.factories import DESA_PANDEGLANG
from tests.helpers import lock_waited
from tests.pmks.test_import import KK_1, csv_bytes, family_rows
from tests.pmks.test_import_excel import run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (the COPY path; runs in the PostgreSQL pass)"),
]


NIK_OFFICE = "3601010505750007"  # man, 05-05-1975


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _copy_path(monkeypatch):
    monkeypatch.setattr(pmks_importing, "PATH", "copy")


def test_a_csv_import_works_with_debug_on(pandeglang_operator, settings):
    """Under DEBUG Django wraps the cursor (CursorDebugWrapper), whose copy_expert takes no
    keyword: every CSV re-import failed "got an unexpected keyword argument 'size'"."""
    content = csv_bytes(family_rows())
    assert run(pandeglang_operator, content, "a.csv").status == "diimpor"
    settings.DEBUG = True
    batch = run(pandeglang_operator, content, "a.csv")  # the whole-file check: COPY … size
    assert batch.status == "diimpor", batch.message
    assert batch.totals["orang_tetap"] == 4


def test_a_failed_statement_raises_its_own_error_not_the_aborted_transaction(
        pandeglang_operator, monkeypatch):
    """The staging tables' DROP ran inside the aborted transaction and replaced the real error
    (``value too long…``) with "current transaction is aborted"."""
    def fail(stage):
        stage.cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(Stage, "_heads", fail)
    with pytest.raises(DataError, match="division by zero"), transaction.atomic():
        pmks_importing.households_import(actor=pandeglang_operator,
                                         fileobj=io.BytesIO(csv_bytes(family_rows())),
                                         filename="a.csv", dry_run=False)


@pytest.mark.parametrize("path", ["copy", "rows"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_file_imported_twice_at_once_waits_and_finds_the_first(
        path, pandeglang_operator, monkeypatch):
    """Two imports of one file of new households at once: the second matched the file against
    the registry without the first's uncommitted households, gave each new No. KK an id of its
    own, met the first's row in the upsert and failed at commit with the persons' foreign key
    error (English, "Key (household_id)=… is not present"). Now it waits for the first (an
    advisory lock) and finds every row unchanged."""
    monkeypatch.setattr(pmks_importing, "PATH", path)
    content = csv_bytes(family_rows())
    first_done, release = threading.Event(), threading.Event()
    outcome: dict[str, list] = {"first": [], "second": [], "error": []}

    def run_import():
        return pmks_importing.households_import(actor=pandeglang_operator,
                                                fileobj=io.BytesIO(content), filename="a.csv",
                                                dry_run=False)

    def first():
        try:
            with transaction.atomic():
                outcome["first"].append(run_import())
                first_done.set()
                release.wait(timeout=20)
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            outcome["error"].append(exc)
        finally:
            first_done.set()
            connection.close()

    def second():
        try:
            first_done.wait(timeout=20)
            with transaction.atomic():
                outcome["second"].append(run_import())
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            outcome["error"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_done.wait(timeout=20)
    assert lock_waited(), "the second import never waited for a lock the first holds"
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not outcome["error"], outcome["error"]
    second_report = outcome["second"][0]
    assert second_report.totals()["orang_tetap"] == 4, second_report.totals()
    assert (Household.objects.count(), Person.objects.count()) == (2, 4)


@pytest.mark.parametrize("path", ["copy", "rows"])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_and_a_single_save_never_both_make_a_kepala(path, pandeglang_operator,
                                                              monkeypatch):
    """A household without kepala; an officer saves a new kepala of it (not yet committed)
    while an import brings another kepala row for the same No. KK. The import read the
    household's kepala without locking its row, found none, and both committed: two kepala
    in one household. Now the import locks the household first (as the single save does),
    waits for the save, and then refuses its row on ``hubungan``."""
    monkeypatch.setattr(pmks_importing, "PATH", path)
    wife = family_rows()[1]
    run(pandeglang_operator, csv_bytes([wife]), "istri.csv")  # KK_1: the wife, no kepala
    household = Household.objects.get(no_kk=KK_1)
    assert household.head is None
    saved, release = threading.Event(), threading.Event()
    outcome: dict[str, list] = {"saved": [], "imported": [], "error": []}

    def single_save():
        try:
            with transaction.atomic():
                outcome["saved"].append(pmks_services.person_register(
                    actor=pandeglang_operator, name="Kepala Dari Kantor", nik=NIK_OFFICE,
                    birth_date=datetime.date(1975, 5, 5), sex="L", desa_id=DESA_PANDEGLANG,
                    household=household, relationship="kepala"))
                saved.set()
                release.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            outcome["error"].append(exc)
        finally:
            saved.set()
            connection.close()

    def import_head():
        try:
            saved.wait(timeout=30)
            outcome["imported"].append(run(pandeglang_operator,
                                           csv_bytes([family_rows()[0]]), "kepala.csv"))
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            outcome["error"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=single_save), threading.Thread(target=import_head)]
    for thread in threads:
        thread.start()
    saved.wait(timeout=30)
    # the import waits for the save's lock (before the fix it ran through)
    lock_waited(5, done=lambda: not threads[1].is_alive())
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not outcome["error"], outcome["error"]
    batch = outcome["imported"][0]
    assert [(e["row"], e["column"]) for e in batch.errors] == [(2, "hubungan")], batch.errors
    kepala = Person.objects.filter(household__no_kk=KK_1, relationship="kepala")
    assert list(kepala.values_list("nik", flat=True)) == [NIK_OFFICE]
    assert Household.objects.get(no_kk=KK_1).head.nik == NIK_OFFICE
