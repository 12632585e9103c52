"""Imports of CSV/XLSX files, the same way for every app.

An app registers an importer for a ``kind`` (a function that reads the file and returns an
``ImportReport``) and a template. ``import_submit`` refuses a file over the upload limits
before storing anything, stores the upload as an ImportBatch and queues the
``dinsos.run_import`` task on commit; the task (or ``import_run`` directly, from a command) runs
the importer in ONE transaction — a batch that fails stores nothing — and stores totals, row
errors, rows held for review and notes on what was not read. ``error_report_rows`` gives back
the original file with a "kesalahan" column.

The cell parsers below (identity numbers, dates, sex) are shared by every importer, so a NIK,
a date or a sex label is read the same way whatever is imported.
"""

import calendar
import datetime
import functools
import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos.audit import audit_context
from dinsos.choices import Sex
from dinsos.models import ImportBatch
from dinsos.scoping import ALL, PROVINCE_CODE, mask, sees_identifiers, user_area
from dinsos.tabular import (
    CONTROL_CHARACTERS,
    Limits,
    TableError,
    TableRow,
    check_upload,
    count_rows,
    header_key,
    read_table,
    table_response,
)
from dinsos.templatetags.dinsos_format import angka
from dinsos.validators import EXCEL_SCIENTIFIC, parse_nik, validate_nik_matches

ERROR_COLUMN = "kesalahan"
ROW_COLUMN = "baris"  # the error report's first column: the row number its messages cite
log = logging.getLogger(__name__)


@dataclass
class Column:
    name: str  # header in the template (Indonesian)
    help: str
    required: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()  # other headers staff use ("No. KK", "Nomor KK"…)
    text: bool = False  # a long number (NIK, No. KK, account): the template's column is Text


def _printable(text) -> str:
    """An error's column or message as the batch stores it: without the control characters a
    cell echoed into it may hold (PostgreSQL's jsonb refuses a NUL: the batch could not be
    saved after its rows were)."""
    return CONTROL_CHARACTERS.sub("", str(text))


@dataclass
class ImportReport:
    rows: int = 0
    rejected: int = 0
    held: int = 0
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def reject(self, row: int, problems: list[tuple[str, str]]) -> None:
        self.rejected += 1
        for column, message in problems:
            self.errors.append({"row": row, "column": _printable(column),
                                "message": _printable(message)})

    def hold_identity_clash(self, row: int, *, stored: str, new: str) -> None:
        """A row that would put a dissimilar name on a stored identity number (an NIK rounded
        by Excel or mistyped makes two people share one): held, never applied."""
        self.hold(row, "nama", _(
            "Diduga identitas tertukar: NIK ini terdaftar atas nama '%(stored)s', bukan "
            "'%(new)s'. Baris tidak diterapkan; periksa NIK di KTP/KK (angka NIK yang "
            "dibulatkan Excel atau salah ketik membuat dua orang ber-NIK sama), lalu "
            "perbaiki data orang itu satu per satu.") % {"stored": stored, "new": new})

    def hold(self, row: int, column: str, message: str) -> None:
        """A row not applied but kept for a person to review (e.g. a suspected identity clash)."""
        self.held += 1
        self.count("ditahan")
        self.errors.append({"row": row, "column": _printable(column),
                            "message": _printable(message), "held": True})

    def totals(self) -> dict:
        return {"rows": self.rows, "accepted": self.rows - self.rejected - self.held,
                "rejected": self.rejected, **self.counts}

    def message(self) -> str:
        text = _("%(ok)s baris diterima, %(bad)s ditolak.") % {
            "ok": angka(self.rows - self.rejected - self.held), "bad": angka(self.rejected)}
        if self.held:
            text += " " + _("%(n)s baris ditahan untuk diperiksa (diduga identitas tertukar); "
                            "lihat daftar kesalahan.") % {"n": angka(self.held)}
        return " ".join([text, *self.notes])


@dataclass
class Importer:
    kind: str
    label: str
    columns: list[Column]
    run: Callable  # run(*, actor, fileobj, filename, dry_run) -> ImportReport
    #: the record its rows become ("pmks.Person"): whose identifiers the policy may mask
    model: str
    guide: list[str] = field(default_factory=list)  # extra lines for the instructions sheet

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def aliases(self) -> dict[str, str]:
        return {header_key(alias): c.name for c in self.columns for alias in c.aliases}

    def read(self, fileobj, filename: str):
        """The file's rows, read the way this importer's columns are named."""
        return read_table(fileobj, filename, required=self.required,
                          known=[c.name for c in self.columns], aliases=self.aliases)


IMPORTERS: dict[str, Importer] = {}


def register_importer(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def upload_limits(*, command: bool = False) -> Limits:
    """The limits a file is refused above, before any work. Every upload (API, admin, staff
    pages; any role) has the ``IMPORT_MAX_*`` ones. An import command run on the server
    (``manage.py import_pmks``: someone with a shell there, reading a province's whole
    registry of a million persons or more) has larger size and row limits of its own,
    ``IMPORT_COMMAND_MAX_UPLOAD_MB`` and ``IMPORT_COMMAND_MAX_ROWS``; the XLSX limits (zip
    bombs) stay the same, so a registry that large comes as CSV."""
    mb = 1024 * 1024
    upload_mb, rows = ((settings.IMPORT_COMMAND_MAX_UPLOAD_MB, settings.IMPORT_COMMAND_MAX_ROWS)
                       if command else (settings.IMPORT_MAX_UPLOAD_MB, settings.IMPORT_MAX_ROWS))
    return Limits(max_bytes=int(upload_mb * mb), max_rows=rows,
                  max_uncompressed_bytes=int(settings.IMPORT_MAX_XLSX_UNCOMPRESSED_MB * mb),
                  max_cells=settings.IMPORT_MAX_XLSX_CELLS)


def upload_check(upload, *, command: bool = False) -> None:
    """Refuse an upload over the limits or of an unknown kind (TableError), before any work."""
    check_upload(upload, upload.name, size=upload.size, limits=upload_limits(command=command))
    upload.seek(0)


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def import_submit(*, actor, kind: str, upload, dry_run: bool, run_now: bool = False,
                  command: bool = False) -> ImportBatch:
    """Store the upload and queue it (the task runs after commit), or run it here (commands,
    ``command=True``: the command limits of ``upload_limits``)."""
    batch = _store(actor=actor, kind=kind, upload=upload, dry_run=dry_run, queue=not run_now,
                   command=command)
    return import_run(batch) if run_now else batch


@transaction.atomic
def _store(*, actor, kind: str, upload, dry_run: bool, queue: bool,
           command: bool) -> ImportBatch:
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    upload_check(upload, command=command)  # unknown formats, oversized files: before storing
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


_progress: ContextVar[Callable[[int], None] | None] = ContextVar("dinsos_import_progress",
                                                                 default=None)


def report_progress(done: int) -> None:
    """An importer says how many rows of its file it has finished (once per chunk, never per
    row); the running batch shows it as "x dari y baris"."""
    write = _progress.get()
    if write is not None:
        write(done)


def _progress_file(batch: ImportBatch):
    return settings.VAR_DIR / "progress" / f"import-{batch.pk}"


@contextmanager
def _progress_of(batch: ImportBatch):
    """Write a batch's ``rows_done`` while its import runs. The import holds one transaction
    until it ends, so on PostgreSQL the count goes through a second connection of its own
    (autocommit: the status page sees it at once). SQLite lets one writer at a time and the
    import is that writer: there the count is written in the import's own transaction (seen
    when it commits) and, for the status page meanwhile, into a small file under ``var/``
    (``rows_done_of`` reads it)."""
    side = connections.create_connection(DEFAULT_DB_ALIAS) if (
        connection.vendor == "postgresql") else None
    path = None if side is not None else _progress_file(batch)

    def write(done: int) -> None:
        if side is None:
            ImportBatch.objects.filter(pk=batch.pk).update(rows_done=done)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".tmp")
            partial.write_text(str(done))
            os.replace(partial, path)  # a reader sees the old count or the new one
            return
        with side.cursor() as cursor:
            cursor.execute("UPDATE dinsos_importbatch SET rows_done = %s WHERE id = %s",
                           [done, batch.pk])

    token = _progress.set(write)
    try:
        yield
    finally:
        _progress.reset(token)
        if side is not None:
            side.close()
        else:
            path.unlink(missing_ok=True)


def rows_done_of(batch: ImportBatch) -> int:
    """How many rows of a running batch are done, as its status page shows it: the batch's own
    count, or on SQLite (where the running import's count is not committed yet) its file."""
    if batch.status != ImportBatch.Status.RUNNING or connection.vendor == "postgresql":
        return batch.rows_done
    try:
        return max(batch.rows_done, int(_progress_file(batch).read_text()))
    except (OSError, ValueError):
        return batch.rows_done


def _count_rows(batch: ImportBatch) -> int | None:
    try:
        with batch.file.open("rb"):
            return count_rows(batch.file.file, batch.filename)
    except Exception:  # noqa: BLE001 - only an estimate for the progress; the import says more
        return None


#: said by a batch the broker delivered again after its worker stopped mid-run
REPEATED = _("Impor ini dijalankan ulang: percobaan sebelumnya terhenti sebelum selesai "
             "(pekerja latar belakang berhenti) dan tidak menyimpan apa pun; hasil di bawah ini "
             "dari percobaan ulang, dengan data yang ada saat itu.")


#: pg_try_advisory_lock key (with the batch id): "this batch is being run by a delivery"
RUN_LOCK_KEY = 7_240_021


class BatchBusy(Exception):
    """Another delivery of the same batch is running it now (PostgreSQL): this one neither
    starts it nor gives it up; the task asks again later (``dinsos.tasks.run_import``)."""


@contextmanager
def _running(batch: ImportBatch):
    """Held while a delivery runs ``batch``: a session advisory lock on PostgreSQL, so a
    delivery that arrives while another still runs the batch (a hard time limit hands the
    message back before its process is gone; a broker's visibility timeout shorter than the
    run) is told so (``BatchBusy``) instead of starting it a second time or failing it under
    the live run. The lock dies with its connection, so a killed run never keeps it. SQLite
    (one worker, ``make run``) has no such lock."""
    if connection.vendor != "postgresql":
        yield
        return
    key = [RUN_LOCK_KEY, batch.pk % 2_147_483_647]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        if not cursor.fetchone()[0]:
            raise BatchBusy(batch.pk)
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        except Exception:  # noqa: BLE001 - a broken connection: closing it frees the lock
            log.exception("import batch %s: run lock not released; closing the connection",
                          batch.pk)
            connection.close()


def import_run(batch: ImportBatch) -> ImportBatch:
    """Run a stored batch (from the task or a command); safe to call again after a crash. The
    importer runs in one transaction: a batch that fails leaves nothing behind. While it runs
    the batch shows its progress (``rows_done`` of ``rows_total``).

    The task is acknowledged when it ends (``CELERY_TASK_ACKS_LATE``): a worker that stops
    mid-run — killed by the task time limit, out of memory — leaves the batch "berjalan" and
    the broker delivers it again. Every start is counted on the batch row (``attempts``, by
    one conditional UPDATE, so two deliveries never both pass the cap), before anything else
    (reading the file to count its rows): a repeated start says so in the batch message
    (``REPEATED``); a delivery after ``IMPORT_MAX_ATTEMPTS`` starts fails the batch without
    running it (``_give_up``); a batch that has finished is never run again; a delivery while
    another runs the batch does neither (``_running``)."""
    with _running(batch):
        batch.refresh_from_db()
        if batch.status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
            log.warning("import batch %s already %s; not run again", batch.pk, batch.status)
            return batch
        started = ImportBatch.objects.filter(
            pk=batch.pk, status__in=(ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING),
            attempts__lt=settings.IMPORT_MAX_ATTEMPTS,
        ).update(status=ImportBatch.Status.RUNNING, attempts=F("attempts") + 1, rows_done=0)
        if not started:
            return _give_up(batch)
        batch.refresh_from_db(fields=["attempts"])
        repeated = batch.attempts > 1
        if repeated:
            log.warning("import batch %s was left running (worker stopped); start %s of %s",
                        batch.pk, batch.attempts, settings.IMPORT_MAX_ATTEMPTS)
        _run(batch)
        if repeated:
            batch.message = f"{REPEATED} {batch.message}"
        batch.save(update_fields=["status", "message", "totals", "errors", "rows_done",
                                  "rows_total"])
        return batch


def _run(batch: ImportBatch) -> None:
    """One start of ``batch``: its outcome set on ``batch`` (not saved)."""
    from celery.exceptions import SoftTimeLimitExceeded

    importer = IMPORTERS[batch.kind]
    batch.rows_total, batch.rows_done = _count_rows(batch), 0
    ImportBatch.objects.filter(pk=batch.pk).update(rows_total=batch.rows_total)
    try:
        with (audit_context(actor=batch.created_by, import_batch=batch.pk),
              _progress_of(batch), batch.file.open("rb"), transaction.atomic()):
            report = importer.run(actor=batch.created_by, fileobj=batch.file.file,
                                  filename=batch.filename, dry_run=batch.dry_run)
    except TableError as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.message = _("%(error)s Tidak ada data yang disimpan.") % {"error": exc}
        batch.totals, batch.errors = {}, []
    except SoftTimeLimitExceeded:
        log.error("import batch %s stopped at the soft time limit", batch.pk)
        batch.status = ImportBatch.Status.FAILED
        batch.message = _(
            "Impor dihentikan karena melewati batas waktu %(minutes)d menit; tidak ada data "
            "yang disimpan. Bagi berkas menjadi beberapa berkas yang lebih kecil lalu unggah "
            "lagi, atau hubungi admin dan sebutkan nomor impor %(id)s.") % {
            "minutes": settings.CELERY_TASK_SOFT_TIME_LIMIT // 60, "id": batch.pk}
        batch.totals, batch.errors = {}, []
    except Exception:  # noqa: BLE001 - the batch must not stay "berjalan"; logged below
        log.exception("import batch %s failed", batch.pk)
        batch.status = ImportBatch.Status.FAILED
        # the exception's text (English, table names) is for the log, never the uploader
        batch.message = _("Kesalahan sistem saat mengimpor; tidak ada data yang disimpan. "
                          "Hubungi admin dan sebutkan nomor impor %(id)s.") % {"id": batch.pk}
        batch.totals, batch.errors = {}, []
    else:
        batch.status = ImportBatch.Status.CHECKED if batch.dry_run else ImportBatch.Status.IMPORTED
        batch.totals, batch.errors = report.totals(), report.errors
        batch.message = report.message()
        batch.rows_total = batch.rows_done = report.rows


def _give_up(batch: ImportBatch) -> ImportBatch:
    """A batch delivered again after ``IMPORT_MAX_ATTEMPTS`` starts that all stopped before
    the end: failed, not run. Each stopped start left nothing (its one transaction died with
    it), and so says the message; a batch another delivery finished meanwhile is left as
    it is."""
    log.error("import batch %s stopped %s times; not started again", batch.pk,
              settings.IMPORT_MAX_ATTEMPTS)
    ImportBatch.objects.filter(
        pk=batch.pk, status__in=(ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING),
    ).update(status=ImportBatch.Status.FAILED, totals={}, errors=[], rows_done=0, message=_(
        "Impor dihentikan setelah %(n)d kali percobaan: setiap percobaan terhenti sebelum "
        "selesai (melewati batas waktu %(minutes)d menit, atau pekerja latar belakang "
        "berhenti) dan tidak menyimpan apa pun. Bagi berkas menjadi beberapa berkas yang lebih "
        "kecil lalu unggah lagi, atau hubungi admin dan sebutkan nomor impor %(id)s.") % {
        "n": settings.IMPORT_MAX_ATTEMPTS, "minutes": settings.CELERY_TASK_TIME_LIMIT // 60,
        "id": batch.pk})
    _progress_file(batch).unlink(missing_ok=True)
    batch.refresh_from_db()
    return batch


#: Template columns that hold an identifier (dinsos.scoping.IDENTIFIER_FIELDS) -> its field.
IDENTIFIER_COLUMNS = {"nik": "nik", "no_kk": "no_kk", "npwp": "npwp",
                      "nomor_rekening": "account_number"}
#: a number a message may quote: a whole identifier, an account, or a part of a NIK
_QUOTED_NUMBER = re.compile(r"(?<!\d)\d{6,}(?!\d)")


def _masked_number(match) -> str:
    digits = match.group()
    return mask("nik", digits) if len(digits) >= 15 else "*" * len(digits)


def mask_message(text: str) -> str:
    """A message with any number of six digits or more it quotes masked (a NIK or No. KK as
    its mask, an account number, an NPWP or a part of a NIK — its birth date — wholly)."""
    return _QUOTED_NUMBER.sub(_masked_number, text)


def sees_identifiers_of(batch: ImportBatch, user) -> bool:
    """Does ``user`` see whole the identifiers of the records ``batch`` imports (the policy's
    ``sees_identifiers`` on the importer's model)? An unknown kind: no."""
    from django.apps import apps

    importer = IMPORTERS.get(batch.kind)
    return importer is not None and sees_identifiers(user, apps.get_model(importer.model))


def errors_as_seen(batch: ImportBatch, user, *, limit: int | None = None) -> list[dict]:
    """The batch's errors (``row``, ``column``, ``message``; the first ``limit``) as ``user``
    may read them: the numbers a message quotes masked for a role that sees the imported
    records masked. The one door to ``batch.errors`` for the result page, the API and the
    admin (the report download masks through the same ``mask_message``)."""
    errors = batch.errors if limit is None else batch.errors[:limit]
    if sees_identifiers_of(batch, user):
        return errors
    return [{**error, "message": mask_message(str(error.get("message", "")))}
            for error in errors]


#: the error report of a batch whose file was removed (``import_files_purge``): the rejected
#: rows only, as the result page lists them
COLUMN_COLUMN = "kolom"
ENDED = (ImportBatch.Status.CHECKED, ImportBatch.Status.IMPORTED, ImportBatch.Status.FAILED)


def file_kept(batch: ImportBatch) -> bool:
    """Whether the uploaded file of ``batch`` is still stored (``IMPORT_FILE_DAYS``)."""
    return bool(batch.file.name) and batch.file.storage.exists(batch.file.name)


def import_files_purge() -> int:
    """Remove the uploaded files of ended imports uploaded more than ``IMPORT_FILE_DAYS`` ago
    (each row's NIK, No. KK and account stay in the registry; the upload is a copy kept only
    for the error report, UU 27/2022's storage limitation). The batch keeps its totals and
    rejected rows; its report then lists those rows (``error_report_rows``). The file goes
    first and the row after it, so a run that stops between the two is finished by the next.
    Returns how many files were removed; ``IMPORT_FILE_DAYS=0`` keeps them all."""
    days = settings.IMPORT_FILE_DAYS
    if days <= 0:
        return 0
    cutoff = timezone.now() - datetime.timedelta(days=days)
    old = (ImportBatch.objects.filter(status__in=ENDED, created_at__lt=cutoff)
           .exclude(file="").only("pk", "file"))
    removed = 0
    for batch in old.iterator():
        batch.file.storage.delete(batch.file.name)
        ImportBatch.objects.filter(pk=batch.pk).update(file="")
        removed += 1
    if removed:
        log.info("Berkas impor dihapus setelah %s hari: %s berkas", days, removed)
    return removed


def error_report_rows(batch: ImportBatch, *, masked: bool = False
                      ) -> tuple[list[str], Iterator[list]]:
    """The original rows, each with its row number (``baris``, as the messages cite it), plus
    a "kesalahan" column (empty for accepted rows); ``masked``: the
    identifier columns masked, and any number of six digits or more quoted in a message
    (``mask_message``). Once the file is removed (``IMPORT_FILE_DAYS``): the rejected rows
    only — row, column, reason."""
    try:  # opened now: a purge while the answer streams removes a name, not this open file
        stored = batch.file.storage.open(batch.file.name, "rb") if batch.file.name else None
    except FileNotFoundError:
        stored = None
    if stored is None:
        return [ROW_COLUMN, COLUMN_COLUMN, ERROR_COLUMN], (
            [error["row"], error["column"],
             mask_message(str(error["message"])) if masked else error["message"]]
            for error in batch.errors)
    by_row: dict[int, list[str]] = {}
    for error in batch.errors:
        by_row.setdefault(error["row"], []).append(f"{error['column']}: {error['message']}")
    importer = IMPORTERS[batch.kind]
    columns = [c.name for c in importer.columns]

    def cell(column, value):
        if masked and value and column in IDENTIFIER_COLUMNS:
            return mask(IDENTIFIER_COLUMNS[column], value)
        return value

    def message(text):  # a message may quote an account or a NIK's digits 7–12
        return mask_message(text) if masked else text

    def rows():
        with stored:
            for row in importer.read(stored, batch.filename):
                yield [row.number, *(cell(c, row.values.get(c, "")) for c in columns),
                       message("; ".join(by_row.get(row.number, [])))]

    return [ROW_COLUMN, *columns, ERROR_COLUMN], rows()


def report_response(batch: ImportBatch, *, user, fmt: str):
    """The error report of ``batch`` as ``user`` may read it (staff page, admin and API alike):
    identifiers masked for a role that sees the imported records masked; an audited read."""
    from django.apps import apps

    from dinsos import audit

    model = apps.get_model(IMPORTERS[batch.kind].model)
    masked = not sees_identifiers_of(batch, user)
    audit.log_read(model, what="laporan impor", query={"batch": batch.pk, "masked": masked})
    header, rows = error_report_rows(batch, masked=masked)
    return table_response(header, rows, fmt=fmt, filename=f"hasil-impor-{batch.pk}")


GUIDE = [
    _("NIK, No. KK, NPWP dan nomor rekening: format kolomnya sebagai Teks SEBELUM mengetik "
      "(Beranda > Angka > Teks). Excel menyimpan angka hanya 15 digit, jadi NIK 16 digit yang "
      "diketik di sel angka berubah (3601014803540123 menjadi 3601014803540120) dan baris itu "
      "ditolak. Apostrof, spasi dan titik di dalam NIK/No. KK dibuang otomatis."),
    _("Tanggal: hari dulu, lalu bulan, lalu tahun — 17-08-1980, 17/08/1980, 17.08.1980, "
      "17 Agustus 1980, 17 Agu 1980 — atau 1980-08-17; sel bertipe tanggal di Excel juga "
      "diterima. Tahun dua angka (17/08/80) dibaca sebagai tahun terakhir yang tidak di masa "
      "depan untuk tanggal lahir (80 = 1980, 05 = 2005), dan sebagai 20xx untuk tanggal lain. "
      "Tanggal lahir di masa depan atau sebelum 1900 ditolak."),
    _("Jenis kelamin: L/P, Laki-laki/Perempuan, LK/PR, Pria/Wanita, atau kode SIAK 1/2."),
    _("Baris judul kolom ada di baris pertama lembar pertama; kolom lain dan lembar lain tidak "
      "dibaca (dan disebutkan di hasil impor). Jangan menggabungkan sel judul."),
]


def template_response(kind: str, fmt: str):
    """The template download of every surface (page, admin, API): an example row and, in XLSX,
    the instructions sheet; the long numbers' columns (NIK, No. KK, account…) are formatted as
    Text, so Excel keeps what staff type or paste there (as a number it keeps 15 significant
    digits: 3.60101E+15)."""
    header, example, guide = template_rows(kind)
    text = {i for i, c in enumerate(IMPORTERS[kind].columns) if c.text}
    return table_response(header, example, fmt=fmt, filename=f"templat-{kind}",
                          extra_sheets={"Petunjuk": guide}, text_columns=text)


def template_rows(kind: str) -> tuple[list[str], list[list], list[list]]:
    importer = IMPORTERS[kind]
    header = [c.name for c in importer.columns]
    example = [[c.example for c in importer.columns]]
    guide = [[_("kolom"), _("wajib"), _("keterangan")]] + [
        [c.name, _("ya") if c.required else _("tidak"), c.help] for c in importer.columns
    ] + [[], [_("Petunjuk pengisian")]] + [[line] for line in [*GUIDE, *importer.guide]]
    return header, example, guide


# --- reading cells: lengths, identity numbers, dates, sex -------------------------------------

def max_lengths(columns: dict[str, tuple]) -> dict[str, int]:
    """{column: max_length} of the text columns an importer stores as they are, read from the
    model fields they fill (``columns``: {column: (model, field name)}), so a cell that does
    not fit its field is refused on its row — never by the database at the end of the batch."""
    limits = {column: model._meta.get_field(name).max_length
              for column, (model, name) in columns.items()}
    return {column: limit for column, limit in limits.items() if limit}  # a TextField: none


def already_registered(model, field: str) -> str:
    """The answer to a row whose identifier (NIK, No. KK) is another district's record: the
    uniqueness refusal of any create (the API's own message), so an import reveals no more
    about other areas than registering would — no name, no wilayah."""
    return model().unique_error_message(model, (field,)).messages[0]


def length_problems(values: dict[str, str], limits: dict[str, int]) -> list[tuple[str, str]]:
    """(column, reason) of each cell longer than its field holds (``max_lengths``). The cell's
    text as the reader gives it (spaces around it removed) is measured, in characters."""
    return [(column, _("paling banyak %(max)d karakter; sel ini berisi %(n)d karakter")
             % {"max": limit, "n": len(values[column])})
            for column, limit in limits.items() if len(values.get(column) or "") > limit]


_IDENTITY_NOISE = re.compile(r"['\s.\u00a0\u200b]")


def identity_number(row: TableRow, column: str, *, label: str, digits_only: bool = False) -> str:
    """The text of an identity-number cell (NIK, No. KK, NPWP, account number), refusing a cell
    Excel has turned into a number: it keeps 15 significant digits, so a 16-digit number is
    already changed and leading zeros are gone. Apostrophes, spaces and dots (Excel and form
    artefacts) are removed. A character that keeps a number the cell shows from being read is
    named (``_stray_character``). Raises ValueError with the fix."""
    text = row.values.get(column, "").strip()
    if column in row.numbers:
        raise ValueError(_(
            "%(label)s tersimpan sebagai ANGKA di Excel (%(v)s), bukan teks: Excel membulatkan "
            "angka lebih dari 15 digit dan membuang nol di depan, jadi nomornya mungkin sudah "
            "berubah. Format kolom %(column)s sebagai Teks, lalu ketik ulang nomornya dari "
            "dokumen aslinya.") % {"label": label, "v": text, "column": column})
    if EXCEL_SCIENTIFIC.fullmatch(text):
        raise ValueError(_(
            "%(label)s '%(v)s' sudah diubah Excel menjadi angka (notasi ilmiah) dan digitnya "
            "hilang. Format kolom %(column)s sebagai Teks, lalu ketik ulang nomornya dari "
            "dokumen aslinya.") % {"label": label, "v": text, "column": column})
    text = _IDENTITY_NOISE.sub("", text)
    if not (text.isascii() and text.isdigit()):
        _stray_character(text, label=label, digits_only=digits_only)
    return text


def _stray_character(text: str, *, label: str, digits_only: bool) -> None:
    """Name the character that keeps a number that looks right from being read: an invisible
    one (zero-width joiner, word joiner, byte order mark…), a digit that is not 0–9
    (full-width, Arabic-Indic) or, in a number of digits only (``digits_only``: NIK, No. KK),
    a dash or other punctuation between digits (a letter keeps the validator's "16 angka").
    Raises ValueError; returns when there is nothing to name."""
    strays = [c for c in text if not "0" <= c <= "9"]
    for char in strays:
        code = f"U+{ord(char):04X}"
        name = unicodedata.name(char, code)
        if unicodedata.category(char) in ("Cf", "Cc", "Zs", "Zl", "Zp"):
            raise ValueError(_("%(label)s berisi karakter tak terlihat %(code)s (%(name)s); "
                               "hapus karakter itu (ketik ulang nomornya)")
                             % {"label": label, "code": code, "name": name})
        if unicodedata.decimal(char, None) is not None:
            raise ValueError(_("%(label)s berisi angka bukan 0–9: '%(c)s' (%(code)s, %(name)s); "
                               "ketik ulang nomornya dengan angka biasa")
                             % {"label": label, "c": char, "code": code, "name": name})
    if digits_only and len(strays) < len(text) and all(
            unicodedata.category(c)[0] in "PS" for c in strays):
        raise ValueError(_("%(label)s hanya berisi angka 0–9, tetapi sel ini berisi '%(c)s'; "
                           "hapus karakter itu") % {"label": label, "c": strays[0]})


MONTHS = {
    1: ("jan", "januari", "january"),
    2: ("feb", "peb", "februari", "pebruari", "february"),
    3: ("mar", "maret", "march"),
    4: ("apr", "april"),
    5: ("mei", "may"),
    6: ("jun", "juni", "june"),
    7: ("jul", "juli", "july"),
    8: ("agu", "agt", "ags", "agus", "agustus", "aug", "august"),
    9: ("sep", "sept", "september"),
    10: ("okt", "oktober", "oct", "october"),
    11: ("nov", "nop", "nopember", "november"),
    12: ("des", "desember", "dec", "december"),
}
_MONTH = {name: number for number, names in MONTHS.items() for name in names}
MONTH_NAMES = ["", "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
               "September", "Oktober", "November", "Desember"]
# matched on lower-cased text: an ISO "T" reads "t"
#: an ISO date may carry a midnight time, as exports write a date (1980-08-17T00:00:00); any
#: other time is refused: a UTC time another system wrote may fall on another day in Banten
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]0?0:00(?::00(?:\.0+)?)?)?")
#: a day-first date may carry a midnight time, as exports write a date: 17-08-1980 00:00:00
_DAY_FIRST = re.compile(r"(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})"
                        r"(?:\s+0?0[:.]00(?:[:.]00)?)?")
_NAMED = re.compile(r"(\d{1,2})[\s\-/.]*([a-z]+)\.?[\s\-/.,]*(\d{4}|\d{2})")
EARLIEST_BIRTH = datetime.date(1900, 1, 1)
#: Excel's 1900 date system counts 29 February 1900, a day that never was (serial 60), as
#: Lotus 1-2-3 did: from serial 61 (1 March 1900) a date is this epoch + serial; before it,
#: one day later (serial 1 = 1 January 1900)
EXCEL_EPOCH = datetime.date(1899, 12, 30)
EXCEL_LEAP_BUG = 60
#: a workbook in the 1904 date system (``TableRow.date_1904``) counts from here, serial 0
EXCEL_EPOCH_1904 = datetime.date(1904, 1, 1)


def _full_year(year: int, digits: int, month: int, day: int, *, birth: bool,
               today: datetime.date) -> int:
    """Two-digit years: for a birth date the latest year that puts the date not after today
    (80 → 1980, 05 → 2005; on 30-11-2026 15/12/26 → 1926); any other date is in this century
    (29 → 2029)."""
    if digits == 4:
        return year
    if not birth:
        return 2000 + year
    full = today.year - today.year % 100 + year
    return full - 100 if (full, month, day) > (today.year, today.month, today.day) else full


def _make_date(text: str, year: int, month: int, day: int) -> datetime.date:
    if not 1 <= month <= 12:
        raise ValueError(_("tanggal '%(v)s' tidak ada: bulan %(m)d tidak ada (hari ditulis lebih "
                           "dulu, lalu bulan)") % {"v": text, "m": month})
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise ValueError(_("tanggal '%(v)s' tidak ada: %(month)s %(y)d hanya %(n)d hari")
                         % {"v": text, "month": MONTH_NAMES[month], "y": year, "n": days})
    return datetime.date(year, month, day)


@functools.lru_cache(maxsize=65536)  # a file repeats its dates; the answer is pure
def _date_from_text(text: str, *, birth: bool, today: datetime.date) -> datetime.date:
    lowered = text.strip().lower()
    if match := _ISO.fullmatch(lowered):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(text, year, month, day)
    if match := _DAY_FIRST.fullmatch(lowered):
        day, _sep, month, year = match.groups()
        month, day = int(month), int(day)
        return _make_date(text, _full_year(int(year), len(year), month, day, birth=birth,
                                           today=today), month, day)
    if (match := _NAMED.fullmatch(lowered)) and match.group(2) in _MONTH:
        day, month, year = match.groups()
        month, day = _MONTH[month], int(day)
        return _make_date(text, _full_year(int(year), len(year), month, day, birth=birth,
                                           today=today), month, day)
    raise ValueError(_("tanggal '%(v)s' tidak dikenal; tulis hari-bulan-tahun, mis. 17-08-1980 "
                       "atau 17 Agustus 1980") % {"v": text})


def parse_date(row: TableRow, column: str, *, birth: bool = False,
               today: datetime.date | None = None) -> datetime.date:
    """A date as staff type it, day first and never swapped (see GUIDE), or an Excel serial
    number in a number cell. A birth date must lie between 1900 and today."""
    today = today or timezone.localdate()
    text = row.values.get(column, "").strip()
    number = row.numbers.get(column)
    if number is not None:
        if not 1 <= number < 2958466:
            raise ValueError(_("angka %(v)s di kolom tanggal bukan tanggal Excel; tulis tanggal "
                               "seperti 17-08-1980") % {"v": text})
        serial = int(number)
        if row.date_1904:
            value = EXCEL_EPOCH_1904 + datetime.timedelta(days=serial)
        elif serial == EXCEL_LEAP_BUG:
            raise ValueError(_("angka 60 di kolom tanggal adalah 29-02-1900 Excel, tanggal yang "
                               "tidak ada (1900 bukan tahun kabisat); tulis tanggal yang benar"))
        else:
            value = EXCEL_EPOCH + datetime.timedelta(days=serial + (serial < EXCEL_LEAP_BUG))
    else:
        value = _date_from_text(text, birth=birth, today=today)
    if birth and value > today:
        raise ValueError(_("tanggal lahir %(d)s ada di masa depan") % {"d": f"{value:%d-%m-%Y}"})
    if birth and value < EARLIEST_BIRTH:
        raise ValueError(_("tanggal lahir %(d)s sebelum tahun 1900") % {"d": f"{value:%d-%m-%Y}"})
    return value


SEX_LABELS = {
    Sex.L: ("l", "lk", "laki", "laki laki", "lakilaki", "laki2", "pria", "1", "male"),
    Sex.P: ("p", "pr", "perempuan", "wanita", "2", "female"),
}


def parse_label(text: str, table: dict[str, str], choices: list[str]) -> str:
    """A choice from the codes or the fixed labels in ``table`` (keys lower case, words joined
    by spaces): never the UI language, so a file reads the same for every user."""
    key = " ".join(re.findall(r"[0-9a-z]+", text.lower()))
    if key in table:
        return table[key]
    raise ValueError(_("nilai '%(v)s' tidak dikenal; pilihan: %(c)s")
                     % {"v": text, "c": ", ".join(choices)})


_SEX_TABLE = {label: value for value, labels in SEX_LABELS.items() for label in labels}


@functools.lru_cache(maxsize=1024)
def parse_sex(text: str) -> str:
    return parse_label(text, _SEX_TABLE, Sex.values)


def nik_problems(nik: str, *, birth_date: datetime.date | None, sex: str | None) -> list[str]:
    """What is wrong with a NIK given what is known of the row (a date or sex that could not be
    read is left out), each part named: the date part (digits 7–12) or the sex (+40 on the
    day)."""
    try:
        info = parse_nik(nik)
    except ValidationError as exc:
        return exc.messages
    problems = []
    nik_day = f"{info.birth_day:02d}-{info.birth_month:02d}-{info.birth_year_2d:02d}"
    if birth_date is not None and sex is not None:
        try:
            validate_nik_matches(nik, birth_date=birth_date, sex=sex)
        except ValidationError as exc:
            params = exc.error_dict["nik"][0].params
            date_ok, sex_ok = params["birth_date_matches"], params["sex_matches"]
        else:
            return []
    else:
        date_ok = birth_date is None or info.matches_birth_date(birth_date)
        sex_ok = sex is None or info.sex == sex
    if not date_ok:
        problems.append(_(
            "tanggal lahir di NIK (digit 7–12: %(digits)s, berarti %(nik)s) tidak sama dengan "
            "kolom tanggal_lahir (%(row)s)") % {
            "digits": nik[6:12], "nik": nik_day, "row": f"{birth_date:%d-%m-%Y}"})
    if not sex_ok:
        problems.append(_(
            "jenis kelamin di NIK (digit 7–8: %(dd)s, berarti %(nik)s; perempuan: tanggal + 40) "
            "tidak sama dengan kolom jenis_kelamin (%(row)s)") % {
            "dd": nik[6:8], "nik": Sex(info.sex).label.lower(), "row": Sex(sex).label.lower()})
    return problems
