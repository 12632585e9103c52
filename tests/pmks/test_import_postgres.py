"""The PMKS import on PostgreSQL only (the COPY path, advisory locks): found by the import
audit of December 2026 — a CSV import under DJANGO_DEBUG=1, the error a failed chunk raises,
the same file imported twice at once."""

import io

import pytest
from django.db import DataError, connection, transaction

from pmks import importing as pmks_importing
from pmks.staging import Stage
from tests.pmks.test_import import csv_bytes, family_rows
from tests.pmks.test_import_excel import run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (the COPY path; runs in the PostgreSQL pass)"),
]


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
