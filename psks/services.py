"""Writes of the PSKS workforce. Every write checks the actor's area and the record's own
rules; the audit trail comes from the registered models."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos.models import Wilayah
from dinsos.money import format_tanggal
from dinsos.scoping import ensure_in_area
from dinsos.services import assign_fields, check_field, clean_written, fitted, locked
from dinsos.validators import normalize_npwp
from psks.choices import ReportStatus, Role, WorkerStatus
from psks.models import (
    ActivityReport,
    Assignment,
    BankAccount,
    BoardMember,
    Institution,
    Meeting,
    Worker,
)

WORKER_FIELDS = {"nik", "name", "sex", "birth_date", "education", "phone", "address", "desa",
                 "desa_id", "npwp"}


# --- workers ----------------------------------------------------------------------------------

@transaction.atomic
def worker_save(*, actor, worker: Worker, written=None) -> Worker:
    """Validate (``clean_written``: ``written`` the fields an update wrote) and save."""
    ensure_in_area(actor, worker.desa_id)
    worker.nik = (worker.nik or "").strip()
    try:
        worker.npwp = normalize_npwp(worker.npwp) if worker.npwp else ""
    except ValidationError as exc:
        raise ValidationError({"npwp": exc.messages}) from exc
    clean_written(worker, written)
    worker.save()
    return worker


def worker_register(*, actor, **fields) -> Worker:
    worker = Worker()
    assign_fields(worker, fields, WORKER_FIELDS)
    return worker_save(actor=actor, worker=worker)


@transaction.atomic
def worker_update(*, actor, worker: Worker, **fields) -> Worker:
    """The given fields written on the stored worker (locked): a status another officer set
    meanwhile (a stop, with its date and reason) is kept, never written back by this copy."""
    worker = locked(worker)
    ensure_in_area(actor, worker.desa_id)
    changed = assign_fields(worker, fields, WORKER_FIELDS)
    return worker_save(actor=actor, worker=worker, written=changed)


STATUS_FIELDS = ("status", "status_date", "status_reason")


@transaction.atomic
def worker_set_status(*, actor, worker: Worker, status: str, on: datetime.date,
                      reason: str = "") -> Worker:
    """Suspend (nonaktif), stop (berhenti) or reactivate a worker. Stopping ends the worker's
    open assignments on that date, keeping their history. The worker's row is locked first
    (the order every PSKS write keeps: worker, assignment, area): an assignment made or edited
    meanwhile waits for the change and then sees the new status."""
    worker = locked(worker)
    ensure_in_area(actor, worker.desa_id)
    worker.status, worker.status_date, worker.status_reason = status, on, reason
    # Only what this change sets is checked and written: a record stored before a later rule
    # (a phone with letters) still lets its worker be stopped or suspended.
    clean_written(worker, STATUS_FIELDS)
    worker.save(update_fields=[*STATUS_FIELDS, "updated_at"])
    if status == WorkerStatus.BERHENTI:
        for assignment in worker.assignments.filter(Q(end_date__isnull=True) | Q(end_date__gt=on),
                                                   start_date__lte=on):
            assignment_end(actor=actor, assignment=assignment, end_date=on,
                           reason=fitted(Assignment, "end_reason",
                                         _("Tenaga berhenti: %(r)s") % {"r": reason}))
        # Assignments that had not started yet never happened: removed (the deletion is in the
        # audit trail with the assignment's data).
        for assignment in worker.assignments.filter(start_date__gt=on):
            ensure_in_area(actor, assignment.area_id)
            assignment.delete()
    return worker


# --- assignments ------------------------------------------------------------------------------

def _overlapping(qs, start: datetime.date, end: datetime.date | None):
    qs = qs.filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
    return qs.filter(start_date__lte=end) if end else qs


def _check_assignment(assignment: Assignment) -> None:
    assignment.full_clean()
    others = Assignment.objects.exclude(pk=assignment.pk)
    clash = _overlapping(others.filter(worker=assignment.worker, role=assignment.role),
                         assignment.start_date, assignment.end_date).first()
    if clash:
        raise ValidationError({"start_date": _(
            "Tenaga ini sudah bertugas sebagai %(role)s pada %(start)s – %(end)s (SK %(sk)s).")
            % {"role": clash.get_role_display(), "start": format_tanggal(clash.start_date),
               "end": format_tanggal(clash.end_date) if clash.end_date else "…",
               "sk": clash.decree_number}})
    if assignment.role == Role.TKSK:
        clash = _overlapping(others.filter(role=Role.TKSK, area_id=assignment.area_id),
                             assignment.start_date, assignment.end_date).first()
        if clash:
            raise ValidationError({"area": _(
                "Kecamatan ini sudah memiliki TKSK %(name)s pada %(start)s – %(end)s; satu "
                "kecamatan hanya satu TKSK.") % {"name": clash.worker.name,
                                                 "start": format_tanggal(clash.start_date),
                                                 "end": format_tanggal(clash.end_date)}})


def _lock_worker(worker_id) -> Worker:
    return Worker._base_manager.select_for_update().get(pk=worker_id)


def _save_assignment(assignment: Assignment, *, worker: Worker | None = None,
                     was_end: datetime.date | None = None) -> Assignment:
    """``worker``: the worker's row already locked by the caller (an update); ``was_end``: the
    stored end date before an update (None: a new assignment, or one without an end)."""
    # Lock the worker's row, then the area's, so concurrent assignments of one worker in two
    # kecamatan, and to one kecamatan, queue up behind each other and the later one meets the
    # earlier in the checks below (always in this order — worker, assignment, area — as
    # worker_set_status and assignment_update lock too: no lock cycle). Without the worker's
    # lock two assignments of one worker both passed the check and met inside the exclusion
    # constraint, where PostgreSQL may find a deadlock between the two inserts; and a worker
    # stopped meanwhile was still assigned. The exclusion constraints stay the last word if
    # anything slips through.
    creating = assignment.pk is None
    worker = worker or _lock_worker(assignment.worker_id)
    Wilayah.objects.select_for_update().filter(pk=assignment.area_id).first()
    # The status of the locked, stored worker — not of the copy the request read.
    if creating and worker.status != WorkerStatus.AKTIF:
        raise ValidationError({"worker": _("Hanya tenaga berstatus aktif yang dapat ditugaskan.")})
    if not creating and worker.status == WorkerStatus.BERHENTI:
        _refuse_running_past_stop(assignment, worker, was_end)
    _check_assignment(assignment)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:
        raise ValidationError(_("Penugasan bertabrakan dengan penugasan lain yang baru saja "
                                "disimpan (satu TKSK per kecamatan / tanpa tumpang tindih)."),
                              code="assignment_overlap") from exc
    return assignment


@transaction.atomic
def assignment_create(
    *, actor, worker: Worker, role: str, area, decree_number: str, decree_date: datetime.date,
    decree_office, start_date: datetime.date, funding_source: str,
    end_date: datetime.date | None = None,
) -> Assignment:
    ensure_in_area(actor, worker.desa_id)
    area_id = getattr(area, "pk", area)
    ensure_in_area(actor, area_id)
    assignment = Assignment(
        worker=worker, role=role, area_id=area_id, decree_number=decree_number,
        decree_date=decree_date, decree_office=decree_office, start_date=start_date,
        end_date=end_date, funding_source=funding_source,
    )
    return _save_assignment(assignment)


def _refuse_running_past_stop(assignment: Assignment, worker: Worker,
                              was_end: datetime.date | None) -> None:
    """A stopped worker's assignment is not made to run (longer) past the stop."""
    end, stop = assignment.end_date, worker.status_date
    later = end is None or (was_end is not None and end > was_end)
    if later and (end is None or stop is None or end > stop):
        raise ValidationError({"end_date": _(
            "Tenaga ini sudah berhenti%(on)s; penugasannya tidak dapat diperpanjang atau "
            "dibuka kembali.") % {"on": f" per {format_tanggal(stop)}" if stop else ""}})


@transaction.atomic
def assignment_update(*, actor, assignment: Assignment, **fields) -> Assignment:
    """The given fields written on the stored assignment (locked, after its worker: the
    order of every PSKS write): an end another officer recorded meanwhile (date, reason) is
    kept and checked, never written back by this copy. The worker never changes."""
    worker = _lock_worker(assignment.worker_id)
    assignment = locked(assignment)
    ensure_in_area(actor, assignment.area_id)
    was_end = assignment.end_date
    assign_fields(assignment, fields, {"decree_number", "decree_date", "decree_office",
                                       "start_date", "end_date", "funding_source", "area",
                                       "area_id"})
    ensure_in_area(actor, assignment.area_id)
    return _save_assignment(assignment, worker=worker, was_end=was_end)


@transaction.atomic
def assignment_end(*, actor, assignment: Assignment, end_date: datetime.date,
                   reason: str) -> Assignment:
    """End an assignment early (the record and its history stay). The checks ask the stored
    row (locked): an end recorded meanwhile is seen."""
    assignment = locked(assignment)
    ensure_in_area(actor, assignment.area_id)
    if not reason.strip():
        raise ValidationError({"end_reason": _("Alasan wajib diisi.")})
    if end_date < assignment.start_date:
        raise ValidationError({"end_date": _("Tanggal selesai sebelum tanggal mulai.")})
    if assignment.end_date and end_date > assignment.end_date:
        raise ValidationError({"end_date": _("Untuk memperpanjang, buat penugasan baru.")})
    assignment.end_date, assignment.end_reason = end_date, reason
    assignment.full_clean()
    assignment.save(update_fields=["end_date", "end_reason", "updated_at"])
    return assignment


# --- bank accounts ----------------------------------------------------------------------------

@transaction.atomic
def bank_account_add(*, actor, worker: Worker, bank, account_number: str,
                     holder_name: str) -> BankAccount:
    """Record a new or changed account; it is used only after another user verifies it."""
    ensure_in_area(actor, worker.desa_id)
    account = BankAccount(worker=worker, bank=bank, account_number=account_number.strip(),
                          holder_name=" ".join(holder_name.split()), created_by=actor)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def bank_account_verify(*, actor, account: BankAccount,
                        effective_from: datetime.date | None = None) -> BankAccount:
    account = BankAccount.objects.select_for_update().select_related("worker").get(pk=account.pk)
    ensure_in_area(actor, account.worker.desa_id)
    if account.is_verified:
        raise ValidationError(_("Rekening ini sudah diverifikasi."))
    if account.created_by_id == actor.pk:
        raise PermissionDenied(_("Rekening harus diverifikasi oleh pengguna lain (prinsip empat "
                                 "mata), bukan oleh yang mencatatnya."))
    account.verified_by = actor
    account.verified_at = timezone.now()
    account.effective_from = effective_from or timezone.localdate()
    account.save(update_fields=["verified_by", "verified_at", "effective_from"])
    return account


# --- institutions -----------------------------------------------------------------------------

INSTITUTION_FIELDS = {"type", "name", "desa", "desa_id", "address", "registration_number",
                      "accreditation", "contact_name", "phone", "status"}


@transaction.atomic
def institution_save(*, actor, institution: Institution,
                     board: list[dict] | None = None, written=None) -> Institution:
    ensure_in_area(actor, institution.desa_id)
    clean_written(institution, written)
    institution.save()
    if board is not None:
        institution.board_members.all().delete()
        BoardMember.objects.bulk_create(
            BoardMember(institution=institution, name=m["name"], position=m["position"])
            for m in board
        )
    return institution


def institution_create(*, actor, board: list[dict] | None = None, **fields) -> Institution:
    institution = Institution()
    assign_fields(institution, fields, INSTITUTION_FIELDS)
    return institution_save(actor=actor, institution=institution, board=board)


@transaction.atomic
def institution_update(*, actor, institution: Institution, board: list[dict] | None = None,
                       **fields) -> Institution:
    """The given fields written on the stored institution (locked), not on the caller's copy."""
    institution = locked(institution)
    ensure_in_area(actor, institution.desa_id)
    changed = assign_fields(institution, fields, INSTITUTION_FIELDS)
    return institution_save(actor=actor, institution=institution, board=board, written=changed)


# --- monthly activity reports -----------------------------------------------------------------

REPORT_FIELDS = {"meetings_attended", "households_validated", "pmks_identified",
                 "households_visited", "notes", "attachment"}
EDITABLE = (ReportStatus.DRAFT, ReportStatus.DITOLAK)


def month_start(value: datetime.date) -> datetime.date:
    return value.replace(day=1)


def _report_exists(worker: Worker, existing: ActivityReport) -> ValidationError:
    return ValidationError({"period": _(
        "Laporan %(name)s untuk bulan %(month)s sudah ada (#%(pk)d); ubah laporan itu.")
        % {"name": worker.name, "month": f"{existing.period:%m-%Y}", "pk": existing.pk}})


@transaction.atomic
def report_create(*, actor, worker: Worker, period: datetime.date, **fields) -> ActivityReport:
    """A new report; a second one for the same worker and month is refused (edit that one) —
    also when the other was being saved at the same moment: the insert waits on the unique
    index (psks_report_per_month) and its refusal is the same message, never an overwrite."""
    ensure_in_area(actor, worker.desa_id)
    period = month_start(period)
    existing = ActivityReport.objects.filter(worker=worker, period=period).first()
    if existing is not None:
        raise _report_exists(worker, existing)
    report = ActivityReport(worker=worker, period=period)
    assign_fields(report, fields, REPORT_FIELDS)
    report.full_clean()
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        existing = ActivityReport.objects.filter(worker=worker, period=period).first()
        if existing is None:
            raise
        raise _report_exists(worker, existing) from None
    return report


def _report_edit(report: ActivityReport, fields: dict) -> ActivityReport:
    """The given fields written on a stored report (locked by the caller) while it is draft
    or rejected: one edit for ``report_update`` and ``report_save``."""
    if report.status not in EDITABLE:
        raise ValidationError(_("Laporan berstatus %(s)s tidak dapat diubah.")
                              % {"s": report.get_status_display()})
    assign_fields(report, fields, REPORT_FIELDS)
    report.full_clean()
    report.save()
    return report


@transaction.atomic
def report_update(*, actor, report: ActivityReport, **fields) -> ActivityReport:
    """Edit a report while draft or rejected: the given fields written on the stored report
    (locked), whose status is asked now — a submission or review meanwhile is seen."""
    report = locked(report)
    ensure_in_area(actor, report.worker.desa_id)
    return _report_edit(report, fields)


@transaction.atomic
def report_save(*, actor, worker: Worker, period: datetime.date, **fields) -> ActivityReport:
    """Create or edit the worker's report for a month (while draft or rejected)."""
    ensure_in_area(actor, worker.desa_id)
    assign_fields(ActivityReport(), fields, REPORT_FIELDS)
    report, _created = ActivityReport.objects.select_for_update().get_or_create(
        worker=worker, period=month_start(period))
    return _report_edit(report, fields)


def _report_for_update(report: ActivityReport) -> ActivityReport:
    return ActivityReport.objects.select_for_update().select_related("worker").get(pk=report.pk)


def _require_past_month(report: ActivityReport) -> None:
    """A report of a month still to come is neither submitted nor accepted (it releases the
    incentive): the field's rule, asked again of one stored before the rule."""
    check_field(ActivityReport, "period", report.period)


def _require_status(report: ActivityReport, *allowed: str) -> None:
    if report.status not in allowed:
        raise ValidationError({"status": _("Laporan berstatus %(s)s; tindakan ini tidak "
                                           "diizinkan.") % {"s": report.get_status_display()}})


@transaction.atomic
def report_submit(*, actor, report: ActivityReport) -> ActivityReport:
    report = _report_for_update(report)
    ensure_in_area(actor, report.worker.desa_id)
    if not actor.has_perm("psks.change_activityreport"):
        raise PermissionDenied(_("Anda tidak berwenang mengajukan laporan."))
    _require_status(report, *EDITABLE)
    _require_past_month(report)
    report.status, report.submitted_at = ReportStatus.DIAJUKAN, timezone.now()
    report.submitted_by, report.rejection_reason = actor, ""
    report.save(update_fields=["status", "submitted_at", "submitted_by", "rejection_reason",
                               "updated_at"])
    return report


def _check_reviewer(actor, report: ActivityReport) -> None:
    """Accepted or rejected by an operator (change permission) of the worker's area."""
    ensure_in_area(actor, report.worker.desa_id)
    if not actor.has_perm("psks.change_activityreport"):
        raise PermissionDenied(_("Hanya operator wilayah tenaga ini yang dapat memeriksa "
                                 "laporan."))


@transaction.atomic
def report_accept(*, actor, report: ActivityReport) -> ActivityReport:
    report = _report_for_update(report)
    _check_reviewer(actor, report)
    _require_status(report, ReportStatus.DIAJUKAN)
    _require_past_month(report)
    if report.submitted_by_id == actor.pk:  # the acceptance releases the month's incentive
        raise PermissionDenied(_("Laporan harus diterima oleh pengguna lain (prinsip empat "
                                 "mata), bukan oleh yang mengajukannya."))
    report.status, report.reviewed_by, report.reviewed_at = (ReportStatus.DITERIMA, actor,
                                                             timezone.now())
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    return report


@transaction.atomic
def report_reject(*, actor, report: ActivityReport, reason: str) -> ActivityReport:
    report = _report_for_update(report)
    _check_reviewer(actor, report)
    _require_status(report, ReportStatus.DIAJUKAN)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Alasan penolakan wajib diisi.")})
    report.status, report.reviewed_by, report.reviewed_at = (ReportStatus.DITOLAK, actor,
                                                             timezone.now())
    report.rejection_reason = reason.strip()
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason",
                               "updated_at"])
    return report


# --- coordination meetings --------------------------------------------------------------------

MEETING_FIELDS = {"kecamatan", "kecamatan_id", "date", "type", "agenda", "minutes",
                  "other_attendees"}


@transaction.atomic
def meeting_save(*, actor, meeting: Meeting, attendees=None) -> Meeting:
    ensure_in_area(actor, meeting.kecamatan_id)
    meeting.full_clean()
    meeting.save()
    if attendees is not None:
        attendees = list(attendees)
        outside = [w for w in attendees if not w.desa_id.startswith(f"{meeting.kecamatan_id[:5]}.")]
        if outside:
            raise ValidationError({"attendees": _("Peserta dari kab/kota lain: %(names)s")
                                   % {"names": ", ".join(w.name for w in outside)}})
        meeting.attendees.set(attendees)
    return meeting


@transaction.atomic
def meeting_delete(*, actor, meeting: Meeting) -> None:
    ensure_in_area(actor, meeting.kecamatan_id)
    meeting.delete()


def meeting_create(*, actor, attendees=None, **fields) -> Meeting:
    meeting = Meeting()
    assign_fields(meeting, fields, MEETING_FIELDS)
    return meeting_save(actor=actor, meeting=meeting, attendees=attendees)


@transaction.atomic
def meeting_update(*, actor, meeting: Meeting, attendees=None, **fields) -> Meeting:
    """The given fields written on the stored meeting (locked), not on the caller's copy."""
    meeting = locked(meeting)
    ensure_in_area(actor, meeting.kecamatan_id)
    assign_fields(meeting, fields, MEETING_FIELDS)
    return meeting_save(actor=actor, meeting=meeting, attendees=attendees)
