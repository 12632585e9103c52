"""Imports of CSV/XLSX files, the same way for every app.

An app registers an importer for a ``kind`` (a function that reads the file and returns an
``ImportReport``) and a template. ``import_submit`` stores the upload as an ImportBatch and
queues the ``dinsos.run_import`` task on commit; the task (or ``import_run`` directly, from a
command) runs the importer and stores totals and row errors. ``error_report_rows`` gives back
the original file with a "kesalahan" column for the rejected rows.
"""

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from dinsos.audit import audit_context
from dinsos.models import ImportBatch
from dinsos.scoping import ALL, PROVINCE_CODE, user_area
from dinsos.tabular import TableError, read_table, table_format

ERROR_COLUMN = "kesalahan"
log = logging.getLogger(__name__)


@dataclass
class Column:
    name: str  # header in the template (Indonesian)
    help: str
    required: bool = False
    example: str = ""


@dataclass
class ImportReport:
    rows: int = 0
    rejected: int = 0
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def reject(self, row: int, problems: list[tuple[str, str]]) -> None:
        self.rejected += 1
        for column, message in problems:
            self.errors.append({"row": row, "column": column, "message": str(message)})

    def totals(self) -> dict:
        return {"rows": self.rows, "accepted": self.rows - self.rejected,
                "rejected": self.rejected, **self.counts}


@dataclass
class Importer:
    kind: str
    label: str
    columns: list[Column]
    run: Callable  # run(*, actor, fileobj, filename, dry_run) -> ImportReport


IMPORTERS: dict[str, Importer] = {}


def register_importer(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def import_submit(*, actor, kind: str, upload, dry_run: bool, run_now: bool = False) -> ImportBatch:
    """Store the upload and queue it (the task runs after commit), or run it here (commands)."""
    batch = _store(actor=actor, kind=kind, upload=upload, dry_run=dry_run, queue=not run_now)
    return import_run(batch) if run_now else batch


@transaction.atomic
def _store(*, actor, kind: str, upload, dry_run: bool, queue: bool) -> ImportBatch:
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    table_format(upload.name)  # refuse unknown formats before storing anything
    area = user_area(actor)
    batch = ImportBatch.objects.create(
        kind=kind, filename=upload.name[:255], sha256=_sha256(upload), dry_run=dry_run,
        area_id=PROVINCE_CODE if area is ALL else area, created_by=actor,
        file=File(upload, name=upload.name),
    )
    if queue:
        from dinsos.tasks import run_import

        run_import.delay_on_commit(batch.pk)
    return batch


def import_run(batch: ImportBatch) -> ImportBatch:
    """Run a stored batch (from the task or a command); safe to call again after a crash."""
    importer = IMPORTERS[batch.kind]
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
    try:
        with audit_context(actor=batch.created_by, import_batch=batch.pk), batch.file.open("rb"):
            report = importer.run(actor=batch.created_by, fileobj=batch.file.file,
                                  filename=batch.filename, dry_run=batch.dry_run)
    except TableError as exc:
        batch.status, batch.message = ImportBatch.Status.FAILED, str(exc)
        batch.totals, batch.errors = {}, []
    except Exception as exc:  # noqa: BLE001 - the batch must not stay "berjalan"; logged below
        log.exception("import batch %s failed", batch.pk)
        batch.status = ImportBatch.Status.FAILED
        batch.message = _("Kesalahan sistem saat mengimpor (%(error)s); baris yang sudah "
                          "tersimpan tetap tersimpan. Hubungi admin.") % {"error": exc}
        batch.totals, batch.errors = {}, []
    else:
        batch.status = ImportBatch.Status.CHECKED if batch.dry_run else ImportBatch.Status.IMPORTED
        batch.totals, batch.errors = report.totals(), report.errors
        batch.message = _("%(ok)d baris diterima, %(bad)d ditolak.") % {
            "ok": report.rows - report.rejected, "bad": report.rejected}
    batch.save(update_fields=["status", "message", "totals", "errors"])
    return batch


def error_report_rows(batch: ImportBatch) -> tuple[list[str], Iterator[list]]:
    """The original rows plus a "kesalahan" column (empty for accepted rows)."""
    by_row: dict[int, list[str]] = {}
    for error in batch.errors:
        by_row.setdefault(error["row"], []).append(f"{error['column']}: {error['message']}")
    columns = [c.name for c in IMPORTERS[batch.kind].columns]

    def rows():
        with batch.file.open("rb"):
            for row in read_table(batch.file.file, batch.filename, required=()):
                yield [*(row.values.get(c, "") for c in columns),
                       "; ".join(by_row.get(row.number, []))]

    return [*columns, ERROR_COLUMN], rows()


def template_rows(kind: str) -> tuple[list[str], list[list], list[list]]:
    importer = IMPORTERS[kind]
    header = [c.name for c in importer.columns]
    example = [[c.example for c in importer.columns]]
    guide = [[_("kolom"), _("wajib"), _("keterangan")]] + [
        [c.name, _("ya") if c.required else _("tidak"), c.help] for c in importer.columns
    ]
    return header, example, guide
