"""Bank Banten files of a tranche: the transfer list out (with control totals) and the bank's
result file in. A result line is applied only when its payment, account and amount match what
was sent; a line already applied with the same reference changes nothing."""

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos import audit
from dinsos.importing import ImportReport, parse_date
from dinsos.money import format_rupiah, round_rupiah
from dinsos.scoping import in_area, mask, sees_identifiers
from dinsos.services import check_field
from dinsos.tabular import TableRow, read_table, safe_cell
from dinsos.validators import ascii_int
from jamsosratu.choices import BankLineOutcome, Channel, EnrolmentStatus, PaymentStatus
from jamsosratu.models import Enrolment, Payment, Tranche

#: how the bank's result says a transfer was paid
SUCCESS_WORDS = ("berhasil", "sukses", "disalurkan")
RESULT_COLUMNS = ["id_penyaluran", "rekening", "jumlah", "status", "referensi", "tanggal",
                  "keterangan"]
REQUIRED_COLUMNS = RESULT_COLUMNS[:5]


def _transfers(tranche: Tranche):
    """What the next transfer file sends: scheduled Bank Banten payments not yet handed to the
    bank, of households active or graduated since the list was made — a graduated household
    is paid the tahap it earned while active (the list is made for active households only,
    so a graduated one gets no later tahap); an excluded household's payments were suspended
    by its exclusion. A payment goes only to an account another user verified (four eyes); it
    waits, scheduled, until then. A payment handed out (``sent_at``) is in the bank's hands:
    it is never a line of a later file — that would transfer it twice — and is settled by
    the bank's result; a copy of what was handed out is ``dispatch_copy``."""
    return Payment.objects.filter(
        tranche=tranche, status=PaymentStatus.DIJADWALKAN, channel=Channel.BANK_BANTEN,
        sent_at__isnull=True, enrolment__account_verified_at__isnull=False,
        enrolment__status__in=(EnrolmentStatus.AKTIF, EnrolmentStatus.GRADUASI))


def awaiting_account(tranche: Tranche) -> int:
    """Scheduled Bank Banten payments left out of the transfer file because their account
    waits for verification."""
    return Payment.objects.filter(
        tranche=tranche, status=PaymentStatus.DIJADWALKAN, channel=Channel.BANK_BANTEN,
        sent_at__isnull=True, enrolment__account_verified_at__isnull=True,
        enrolment__status__in=(EnrolmentStatus.AKTIF, EnrolmentStatus.GRADUASI)).count()


def _totals(payments) -> tuple[int, Decimal]:
    totals = payments.aggregate(n=Count("id"), total=Coalesce(Sum("amount"), Decimal(0)))
    return totals["n"], totals["total"]


def transfer_totals(tranche: Tranche) -> tuple[int, Decimal]:
    """The control line of the next transfer file (lines, rupiah) without writing it."""
    return _totals(_transfers(tranche))


def dispatches(tranche: Tranche) -> list[dict]:
    """The files handed out for the tranche (kiriman): when, how many lines, how much — one
    ``sent_at`` each. A payment the bank failed and that was scheduled again leaves its old
    file (it is sent again in a new one)."""
    return list(Payment.objects.filter(tranche=tranche, channel=Channel.BANK_BANTEN,
                                       sent_at__isnull=False)
                .values("sent_at").annotate(count=Count("id"), total=Sum("amount"))
                .order_by("sent_at"))


def parse_dispatch(text: str):
    """A kiriman's time as its copy link writes it (ISO 8601); ValidationError naming
    ``salinan`` otherwise — also for a moment that has no UTC or WIB time in the calendar
    (``0001-01-01T00:00:00+14:00``: the database and the file's name read it so)."""
    try:
        moment = datetime.datetime.fromisoformat(text)
        if timezone.is_aware(moment):
            timezone.localtime(moment.astimezone(datetime.UTC))
    except (ValueError, OverflowError):
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise ValidationError({"salinan": _("Waktu kiriman '%(v)s' tidak dikenal; pakai tautan "
                                            "salinan pada halaman siklus.") % {"v": text[:40]}})
    return moment


def line_id(payment: Payment) -> str:
    """The transfer line's ``id_penyaluran``: the payment's id, and from its second transfer
    (after a jadwalkan ulang) the attempt too, ``123-2`` — the bank echoes it in its result."""
    return str(payment.pk) if payment.attempt == 1 else f"{payment.pk}-{payment.attempt}"


def file_name(tranche: Tranche, dispatch=None, *, copy: bool = False) -> str:
    """jamsosratu-2026-tahap-1-kiriman-20261202-074512[-salinan].csv: the kiriman's moment
    (WIB), and a copy says it is one (it must not be sent to the bank again)."""
    stamp = f"-kiriman-{timezone.localtime(dispatch):%Y%m%d-%H%M%S}" if dispatch else ""
    return (f"jamsosratu-{tranche.cycle.year}-tahap-{tranche.number}{stamp}"
            f"{'-salinan' if copy else ''}.csv")


class _Line:
    def write(self, value):
        return value


#: payments read from the database per round trip while a transfer file is written: the
#: file's memory is one chunk of rows, whatever the number of payments of the tahap
TRANSFER_CHUNK = 5000
#: the written file is kept in memory up to this size, then on disk (``SpooledTemporaryFile``)
SPOOL_MEMORY = 1024 * 1024


@dataclass(frozen=True)
class TransferFile:
    """A transfer file written once, whole, to a temporary file (memory up to
    ``SPOOL_MEMORY``, then disk), its payments read ``TRANSFER_CHUNK`` at a time in one query:
    its control figures (lines, rupiah) are those of the lines it holds, so a door's headers
    can never disagree with its body, even when a payment changes while the file is read.
    ``body`` is that file, at its start: a door hands it to ``FileResponse``, which sends it in
    blocks and closes it. ``dispatch`` is the kiriman's moment (the new one
    handed out, or the one copied); none for what the next file would carry."""

    name: str
    count: int
    total: Decimal
    dispatch: datetime.datetime | None
    body: IO[bytes]


def transfer_download(tranche: Tranche, *, hand_out: bool = True,
                      copy_of=None) -> TransferFile:
    """The transfer file as every door hands it out (staff page, API): one line per payment,
    then the control line with the number of lines and the total in rupiah. Every door makes
    it here, so this is where the read is logged (UU 27/2022: every household head's name and
    whole account number): ONE ACCESS entry naming the tranche, written when the file is made
    for the user — in the request, not when the streamed download ends.

    Handed out (a GET), the payments not yet sent are marked sent at one moment, under the
    tranche's row lock — two users downloading at once get two files with no line in common
    — and that moment names the file (``dispatch``). A HEAD request marks nothing (a link
    checker, a download manager's probe): it is told what the next file would carry.
    ``copy_of`` (a kiriman's moment) writes again the lines handed out then, as a copy: it
    sends nothing new."""
    audit.log_read(Payment, what="berkas bank", query={
        "tahun": tranche.cycle.year, "tahap": tranche.number,
        **({"salinan": copy_of.isoformat()} if copy_of else {})})
    dispatch = copy_of
    if copy_of is not None:
        payments = Payment.objects.filter(tranche=tranche, channel=Channel.BANK_BANTEN,
                                          sent_at=copy_of)
    elif hand_out:
        dispatch = timezone.now()
        with transaction.atomic():
            Tranche.objects.select_for_update().filter(pk=tranche.pk).exists()
            # the enrolments of the payments to send, locked before the payments are read:
            # an account being changed (``enrolment_update`` holds its enrolment, then its
            # payments) is waited for, and the UPDATE below — a statement started after the
            # locks — sees it unverified; after the payment row's lock alone, PostgreSQL
            # re-checks only the payment's columns and sent the new account unseen
            list(Enrolment.objects.select_for_update().filter(pk__in=Payment.objects.filter(
                tranche=tranche, status=PaymentStatus.DIJADWALKAN, sent_at__isnull=True,
                channel=Channel.BANK_BANTEN).values("enrolment_id")).values_list("pk", flat=True))
            # the statement starts after the locks: a file handed out meanwhile is seen
            _transfers(tranche).update(sent_at=dispatch)
        payments = Payment.objects.filter(tranche=tranche, sent_at=dispatch)
    else:
        payments = _transfers(tranche)
    written = {}
    body = SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 - the response closes it
    for line in _transfer_rows(tranche, payments, copy_of, written):
        body.write(line.encode())
    body.seek(0)
    return TransferFile(name=file_name(tranche, dispatch, copy=copy_of is not None),
                        count=written["count"], total=written["total"], dispatch=dispatch,
                        body=body)


def _transfer_rows(tranche: Tranche, payments, copy_of, written: dict) -> Iterator[str]:
    """The file's lines, its payments read ``TRANSFER_CHUNK`` at a time; the control line
    counts the lines written (also put into ``written``)."""
    payments = payments.select_related("enrolment__household__head").order_by("desa_id", "id")
    writer = csv.writer(_Line())
    yield writer.writerow(["id_penyaluran", "rekening", "nama", "jumlah", "keterangan"])
    count, total = 0, Decimal(0)
    for payment in payments.iterator(chunk_size=TRANSFER_CHUNK):
        head = payment.enrolment.household.head
        yield writer.writerow([line_id(payment), safe_cell(payment.account_number),
                               safe_cell(head.name if head else ""), f"{payment.amount:.0f}",
                               f"Jamsosratu {tranche.cycle.year} tahap {tranche.number}"])
        count += 1
        total += payment.amount
    note = _("kontrol: jumlah baris, jumlah Rp")
    if copy_of is not None:
        note = _("SALINAN kiriman %(t)s (jangan dikirim ulang); %(n)s") % {
            "t": timezone.localtime(copy_of).strftime("%d-%m-%Y %H:%M:%S"), "n": note}
    written.update(count=count, total=total)
    yield writer.writerow(["TOTAL", count, "", f"{total:.0f}", note])


def transfer_file(tranche: Tranche, *, hand_out: bool = True,
                  copy_of=None) -> tuple[str, int, Decimal]:
    """The whole file with its control figures (lines, rupiah), as ``transfer_download``
    hands it out."""
    out = transfer_download(tranche, hand_out=hand_out, copy_of=copy_of)
    with out.body:
        return out.body.read().decode(), out.count, out.total


#: an amount as the bank writes it, once its thousands are gone: ASCII digits (a rupiah
#: amount has at most 15), an optional fraction. ``Decimal`` alone also read "NaN", "Infinity"
#: and "1E+30", which then failed the whole result job when the line's message formatted them.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,6})?")


def _amount(text: str) -> Decimal:
    """875000, 875000.00, 875.000 or 875.000,00 (Indonesian thousands and decimals)."""
    text = text.strip()
    if "," in text or re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "").replace(",", ".")
    if not _PLAIN_AMOUNT.fullmatch(text):
        raise ValueError(text)
    return Decimal(text)


class _Borrowed(io.RawIOBase):
    """An upload read through a reader that may close what it reads (a CSV's text wrapper)
    without closing the upload, which is stored after the check."""

    def __init__(self, upload):
        self._upload = upload

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, buffer):
        data = self._upload.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset, whence=io.SEEK_SET):
        return self._upload.seek(offset, whence)

    def tell(self):
        return self._upload.tell()


def result_file_check(upload) -> None:
    """Refuse (TableError, naming the missing columns) a result file whose header lacks a
    required column or that cannot be read, before it is stored and queued: only the header
    is read. The upload is left open at its start."""
    try:
        read_table(io.BufferedReader(_Borrowed(upload)), upload.name,
                   required=REQUIRED_COLUMNS).close()
    finally:
        upload.seek(0)


@dataclass
class BankResultReport(ImportReport):
    """An import report plus what became of every line (the page shows them all). A line
    whose detail names account numbers lists them (``accounts``), so each viewer sees them
    as the access policy says (``lines_as_seen``)."""

    lines: list = field(default_factory=list)

    def line(self, row: int, pk: str, outcome: str, detail: str = "", accounts=()) -> None:
        self.lines.append({"row": row, "id": pk, "outcome": outcome, "detail": detail,
                           **({"accounts": list(accounts)} if accounts else {})})


def lines_as_seen(user, lines) -> list[dict]:
    """Result lines as ``user`` may see them: the account numbers in a detail whole or masked
    (``dinsos.scoping``), like the payments they belong to."""
    if sees_identifiers(user, Payment):
        return list(lines)
    shown = []
    for line in lines:
        detail = line.get("detail", "")
        for number in line.get("accounts", ()):
            if number:
                detail = re.sub(rf"(?<![0-9A-Za-z]){re.escape(number)}(?![0-9A-Za-z])",
                                lambda _m, n=number: mask("account_number", n), detail)
        shown.append({**line, "detail": detail})
    return shown


def payments_shown(lines):
    """The payments whose stored account number ``lines`` show (a refused line's "rekening X
    tidak sama dengan yang dikirim (Y)", Y the payment's): the job's page and the API's job
    detail write ONE read of them (``read_lists``), as the payment list does."""
    ids = {ascii_int(str(line["id"]).strip().partition("-")[0])
           for line in lines if line.get("accounts")} - {None}
    return Payment.objects.filter(pk__in=ids).only("pk").order_by("pk")


OUTCOME_LABELS = dict(BankLineOutcome.choices)


def bank_result_import(*, actor, tranche: Tranche, fileobj, filename: str,
                       progress: Callable[[int], None] | None = None,
                       every: int = 200) -> BankResultReport:
    """Apply the bank's result file line by line, each line in its own transaction: a line
    applied stays applied, so a file sent again (or after a crash) only counts the lines
    already recorded. ``progress(lines_done)`` is called every ``every`` lines."""
    report = BankResultReport()
    for row in read_table(fileobj, filename, required=REQUIRED_COLUMNS):
        if row.values.get("id_penyaluran", "").upper() == "TOTAL":
            continue
        report.rows += 1
        with transaction.atomic():
            outcome, problems, note = _apply(row, actor=actor, tranche=tranche)
        pk = row.values.get("id_penyaluran", "")
        if problems:
            report.reject(row.number, problems)
            report.line(row.number, pk, "ditolak", "; ".join(
                message if column == "-" or message.startswith(column.split("_")[-1])
                else _("kolom %(c)s: %(m)s") % {"c": column, "m": message}
                for column, message in problems), **note)
        else:
            report.count(outcome)
            report.line(row.number, pk, outcome, **note)
        if progress is not None and report.rows % every == 0:
            progress(report.rows)
    return report


def _refuse(column: str, message: str, **note) -> tuple[str, list[tuple[str, str]], dict]:
    return "ditolak", [(column, message)], note


def _apply(row: TableRow, *, actor, tranche) -> tuple[str, list[tuple[str, str]], dict]:
    """(what became of the line, its problems, what its line on the page says beside the
    outcome: the bank's reason of a failed transfer, the account numbers a detail names): the
    outcome counts only without problems."""
    values = row.values
    pk = values.get("id_penyaluran", "")
    number, _dash, attempt = str(pk).strip().partition("-")
    attempt = ascii_int(attempt) if attempt else 1
    payment = Payment.objects.select_for_update().filter(
        pk=ascii_int(number) or 0, tranche=tranche).first()
    if payment is None or not in_area(actor, payment.desa_id) or not attempt or (
            attempt > payment.attempt):
        return _refuse("id_penyaluran",
                       _("penyaluran '%(v)s' tidak ada pada tahap ini") % {"v": pk})
    if attempt < payment.attempt:
        # the result of an earlier transfer of this payment: it failed (the bank's result, or
        # the province's hand) and was scheduled again since. Its failure again is already
        # recorded and must not settle the later transfer, which may be in the bank's hands
        # now; its SUCCESS contradicts the record — the household may be paid twice — and is
        # put before the officer, never counted as recorded
        if values.get("status", "").lower() in SUCCESS_WORDS:
            return _refuse("status", _(
                "bank melaporkan pengiriman ke-%(old)d berhasil, padahal tercatat gagal dan "
                "sudah dikirim ulang (pengiriman ke-%(now)d): periksa dengan Bank Banten, "
                "penyaluran ini mungkin diterima dua kali") % {
                    "old": attempt, "now": payment.attempt})
        return "sudah_tercatat", [], {}
    if payment.status == PaymentStatus.DIJADWALKAN and payment.sent_at is None:
        # not in the bank's hands: never sent, or failed and scheduled again since this
        # result — an old result file uploaded again must not fail it once more
        return _refuse("id_penyaluran", _(
            "penyaluran '%(v)s' belum dikirim ke bank dalam berkas transfer (atau sudah "
            "dijadwalkan ulang); hasil bank hanya untuk penyaluran yang sudah dikirim")
            % {"v": pk})
    if values.get("rekening", "") != payment.account_number:
        return _refuse("rekening", _("rekening %(got)s tidak sama dengan yang dikirim (%(sent)s)")
                       % {"got": values.get("rekening"), "sent": payment.account_number},
                       accounts=[values.get("rekening", ""), payment.account_number])
    try:
        amount = _amount(values.get("jumlah", ""))
    except ValueError:
        return _refuse("jumlah", _("jumlah '%(v)s' bukan angka") % {"v": values.get("jumlah")})
    if amount != payment.amount:
        return _refuse("jumlah", _("jumlah %(got)s tidak sama dengan yang dikirim (%(sent)s)")
                       % {"got": format_rupiah(amount, decimals=amount != round_rupiah(amount)),
                          "sent": format_rupiah(payment.amount)})
    status = values.get("status", "").lower()
    reference = values.get("referensi", "").strip()
    if status in SUCCESS_WORDS:
        if payment.status == PaymentStatus.DISALURKAN:
            if payment.reference == reference:
                return "sudah_tercatat", [], {}
            return _refuse("referensi", _("sudah disalurkan dengan referensi %(r)s")
                           % {"r": payment.reference})
        if payment.status != PaymentStatus.DIJADWALKAN:
            return _refuse("status", _("penyaluran berstatus %(s)s") % {
                "s": payment.get_status_display()})
        if not values.get("tanggal", "").strip() and "tanggal" not in row.numbers:
            return _refuse("tanggal", _("wajib diisi"))
        try:  # the house's date cell: 2026-11-30, 30-11-2026, 30/11/2026, an Excel date…
            paid_on = parse_date(row, "tanggal")
            check_field(Payment, "paid_on", paid_on)
        except ValidationError as exc:
            return _refuse("tanggal", " ".join(exc.messages))
        except ValueError as exc:
            return _refuse("tanggal", str(exc))
        if not reference:
            return _refuse("referensi", _("wajib diisi"))
        payment.status, payment.paid_on, payment.reference = (PaymentStatus.DISALURKAN, paid_on,
                                                              reference)
        outcome = "disalurkan"
    elif status == "gagal":
        if payment.status == PaymentStatus.GAGAL:
            return "sudah_tercatat", [], {}
        if payment.status != PaymentStatus.DIJADWALKAN:
            return _refuse("status", _("penyaluran berstatus %(s)s") % {
                "s": payment.get_status_display()})
        payment.status = PaymentStatus.GAGAL
        payment.failure_reason = values.get("keterangan", "") or _("gagal menurut bank")
        outcome = "gagal"
    else:
        return _refuse("status", _("status harus berhasil atau gagal"))
    try:
        payment.full_clean()
    except ValidationError as exc:
        return _refuse("-", " ".join(exc.messages))
    payment.save()
    return outcome, [], ({"detail": payment.failure_reason} if outcome == "gagal" else {})
