"""Reads of the workforce; each applies the user's scope (and the FilterSet when given)."""

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos.choices import Tingkat
from dinsos.dashboard import Chart, Figure, Panel, Waiting, cached_count
from dinsos.models import Wilayah
from dinsos.scoping import ALL, user_area
from psks import filters as filtersets
from psks.choices import MeetingType, ReportStatus, Role
from psks.models import ActivityReport, Assignment, BankAccount, Institution, Meeting, Worker


def _filtered(filterset_class, qs, filters):
    return filterset_class(filters, qs).qs if filters is not None else qs


def worker_list(*, user, filters=None):
    qs = Worker.objects.for_user(user).select_related("desa")
    return _filtered(filtersets.WorkerFilterSet, qs, filters)


def assignment_list(*, user, filters=None):
    qs = Assignment.objects.for_user(user).select_related("worker", "area", "decree_office")
    return _filtered(filtersets.AssignmentFilterSet, qs, filters)


def active_on(qs, on: datetime.date):
    return qs.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))


def bank_account_list(*, user, filters=None):
    qs = BankAccount.objects.for_user(user).select_related("worker", "bank", "created_by",
                                                           "verified_by")
    return _filtered(filtersets.BankAccountFilterSet, qs, filters)


def bank_account_in_force(*, worker_id: int, on: datetime.date) -> BankAccount | None:
    """The verified account a payout on ``on`` uses: the latest verified one in force."""
    return (
        BankAccount.objects.filter(worker_id=worker_id, verified_at__isnull=False,
                                   effective_from__lte=on)
        .select_related("bank")
        .order_by("-effective_from", "-verified_at", "-id")
        .first()
    )


def institution_list(*, user, filters=None):
    qs = Institution.objects.for_user(user).select_related("desa").prefetch_related(
        "board_members")
    return _filtered(filtersets.InstitutionFilterSet, qs, filters)


def report_list(*, user, filters=None):
    qs = ActivityReport.objects.for_user(user).select_related("worker", "reviewed_by")
    return _filtered(filtersets.ActivityReportFilterSet, qs, filters)


def report_queue(*, user, status: str = ReportStatus.DIAJUKAN):
    """The review queue: reports of the user's area in ``status`` (submitted by default), the
    oldest submission first."""
    return (report_list(user=user).filter(status=status).select_related("worker__desa__induk")
            .order_by("submitted_at", "period", "id"))


def report_get(*, user, pk) -> ActivityReport:
    return get_object_or_404(report_list(user=user).select_related(
        "worker__desa__induk", "submitted_by", "reviewed_by"), pk=pk)


def meeting_list(*, user, filters=None):
    qs = Meeting.objects.for_user(user).select_related("kecamatan").prefetch_related("attendees")
    return _filtered(filtersets.MeetingFilterSet, qs, filters)


# --- coverage ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Month:
    first: datetime.date
    last: datetime.date

    @classmethod
    def of(cls, day: datetime.date) -> "Month":
        first = day.replace(day=1)
        return cls(first, first.replace(day=calendar.monthrange(day.year, day.month)[1]))

    @classmethod
    def parse(cls, text: str) -> "Month":
        year, month = (int(p) for p in text.split("-"))
        return cls.of(datetime.date(year, month, 1))


def kecamatan_coverage(*, user, on: datetime.date, month: Month, wilayah: str | None = None):
    """Every kecamatan in the user's area with its TKSK on ``on`` (or none) and the number of
    rakor held in ``month`` (held: dated today at the latest, whatever was stored before the
    model refused dates still to come). One query."""
    qs = Wilayah.objects.filter(tingkat=Tingkat.KECAMATAN)
    area = user_area(user)
    if area is not ALL:
        qs = qs.within(area) if area else qs.none()
    if wilayah:
        qs = qs.within(wilayah)
    tksk = active_on(Assignment.objects.filter(role=Role.TKSK, area=OuterRef("kode")), on)
    rakor = (Meeting.objects.filter(kecamatan=OuterRef("kode"), type=MeetingType.RAKOR,
                                    date__range=(month.first, month.last),
                                    date__lte=timezone.localdate())
             .order_by().values("kecamatan").annotate(n=Count("id")).values("n"))
    return qs.select_related("induk").annotate(
        tksk_name=Subquery(tksk.values("worker__name")[:1]),
        tksk_worker_id=Subquery(tksk.values("worker_id")[:1]),
        rakor_count=Subquery(rakor[:1]),
        has_tksk=Exists(tksk),
    ).order_by("kode")


def kecamatan_without_tksk(*, user, on: datetime.date):
    return kecamatan_coverage(user=user, on=on, month=Month.of(on)).filter(
        has_tksk=False)


def kecamatan_without_rakor(*, user, month: Month):
    return kecamatan_coverage(user=user, on=month.last, month=month).filter(
        rakor_count__isnull=True)


def dashboard(*, user):
    """TKSK coverage of the kecamatan today per kab/kota; reports waiting for review."""
    if not user.has_perm("psks.view_worker"):
        return None
    today = timezone.localdate()
    rows = kecamatan_coverage(user=user, on=today, month=Month.parse(f"{today:%Y-%m}"))
    per_unit: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for kecamatan in rows:
        unit = per_unit.setdefault(kecamatan.induk_id, [0, 0])
        unit[0 if kecamatan.has_tksk else 1] += 1
        names[kecamatan.induk_id] = kecamatan.induk.nama
    units = sorted(per_unit)
    covered = sum(v[0] for v in per_unit.values())
    total = covered + sum(v[1] for v in per_unit.values())
    chart = Chart("chart-tksk-coverage", _("Kecamatan dengan TKSK hari ini"), "bar",
                  [names[u] for u in units],
                  [{"label": _("Ada TKSK"), "data": [per_unit[u][0] for u in units]},
                   {"label": _("Tanpa TKSK"), "data": [per_unit[u][1] for u in units]}],
                  stacked=True)
    waiting = []
    if user.has_perm("psks.change_activityreport"):
        submitted = report_list(user=user).filter(status=ReportStatus.DIAJUKAN).count()
        if submitted:
            waiting.append(Waiting(_("Laporan bulanan untuk diperiksa"), submitted,
                                   reverse("psks:report-queue")))
    return Panel(_("Tenaga kesejahteraan sosial"), figures=[
        Figure(_("Kecamatan dengan TKSK"), f"{covered} / {total}"),
        Figure(_("Tenaga aktif"), cached_count(worker_list(user=user).filter(status="aktif"))),
    ], charts=[chart], waiting=waiting)


def worker_list_on_duty(*, user, filters=None, on: datetime.date):
    """Workers with their assignments in force on ``on`` (role, kecamatan) for the list page."""
    duty = active_on(Assignment.objects.select_related("area"), on).order_by("role")
    return worker_list(user=user, filters=filters).prefetch_related(
        Prefetch("assignments", queryset=duty, to_attr="on_duty")).order_by("name", "id")


def coverage_rows(*, user, month: Month, missing: str = ""):
    """Kecamatan coverage for the page and its XLSX: TKSK on the last day of ``month`` (or
    today, if earlier) and rakor held in it; ``missing`` = "tksk" or "rakor" keeps the gaps."""
    on = min(month.last, timezone.localdate())
    qs = kecamatan_coverage(user=user, on=on, month=month)
    if missing == "tksk":
        qs = qs.filter(has_tksk=False)
    elif missing == "rakor":
        qs = qs.filter(rakor_count__isnull=True)
    return qs
