"""Helpers for the incentives tests on top of tests/factories.py: TKSK and pendamping with a
verified account (four eyes) and accepted monthly reports, each TKSK in a kecamatan of its own
(one TKSK per kecamatan is an exclusion constraint on PostgreSQL), and the run workflow."""

import datetime

from django.contrib.auth.models import Permission
from django.utils import timezone

from dinsos.models import Wilayah
from incentives import services
from incentives.models import PayoutLine
from psks.models import Assignment, BankAccount, Worker
from tests.factories import (
    ActivityReportFactory,
    AssignmentFactory,
    BankAccountFactory,
    UserFactory,
    WorkerFactory,
)

D = datetime.date
OCT = D(2026, 10, 1)
START = D(2025, 1, 2)
END = D(2029, 12, 31)
ACCOUNT_FROM = D(2025, 1, 1)


def free_desa(kab_kota: str = "36.01") -> str:
    """A desa/kelurahan in a kecamatan of ``kab_kota`` that has no TKSK yet."""
    used = set(Assignment.objects.filter(role="tksk").values_list("area_id", flat=True))
    for kecamatan in (Wilayah.objects.filter(tingkat="kecamatan", induk_id=kab_kota)
                      .exclude(kode__in=used).order_by("kode")):
        desa = (Wilayah.objects.filter(induk_id=kecamatan.kode,
                                       tingkat__in=("desa", "kelurahan"))
                .order_by("kode").first())
        if desa is not None:
            return desa.kode
    raise AssertionError(f"no free kecamatan left in {kab_kota}")


def unverified_account(worker: Worker, **kwargs) -> BankAccount:
    return BankAccountFactory(worker=worker, **kwargs)


def verified_account(worker: Worker, *, effective_from=ACCOUNT_FROM, **kwargs) -> BankAccount:
    """An account recorded by one user and verified by another, in force from the date."""
    account = BankAccountFactory(worker=worker, **kwargs)
    return verify_account(account, effective_from=effective_from)


def verify_account(account: BankAccount, *, effective_from=ACCOUNT_FROM) -> BankAccount:
    account.verified_by = UserFactory()
    account.verified_at = timezone.now()
    account.effective_from = effective_from
    account.save(update_fields=["verified_by", "verified_at", "effective_from"])
    return account


def accept_reports(worker: Worker, *periods: datetime.date, status: str = "diterima"):
    return [ActivityReportFactory(worker=worker, period=p, status=status) for p in periods]


def tksk(*, kab_kota: str = "36.01", desa: str | None = None, start=START, end=END,
         account: bool = True, reports=(OCT,), **worker_fields) -> Worker:
    """A TKSK in a kecamatan of its own with (by default) a verified account and the October
    2026 report accepted."""
    worker = WorkerFactory(desa_id=desa or free_desa(kab_kota), **worker_fields)
    AssignmentFactory(worker=worker, role="tksk", start_date=start, end_date=end)
    if account:
        verified_account(worker)
    accept_reports(worker, *reports)
    return worker


def pendamping(role: str, *, desa: str = "36.01.01.2001", start=START, end=END,
               account: bool = True, reports=(OCT,), **worker_fields) -> Worker:
    worker = WorkerFactory(desa_id=desa, **worker_fields)
    AssignmentFactory(worker=worker, role=role, start_date=start, end_date=end)
    if account:
        verified_account(worker)
    accept_reports(worker, *reports)
    return worker


def grant(user, *codenames: str):
    """Add incentives permissions to a user directly; returns the user reloaded (fresh perm
    cache)."""
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="incentives",
                                                         codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


def approve(run, *, verifier, approver, override_reason: str = ""):
    run = services.run_verify(actor=verifier, run=run)
    return services.run_approve(actor=approver, run=run, override_reason=override_reason)


def lines_of(run, **filters) -> list[PayoutLine]:
    return list(PayoutLine.objects.filter(run=run, **filters)
                .order_by("worker_id", "component", "kind", "period", "id"))


def amounts(run, **filters) -> list[tuple]:
    """(worker name, component, kind, period, gross, status, hold reason) of a run's lines."""
    return [(line.worker.name, line.component, line.kind, line.period, line.gross_amount,
             line.status, line.hold_reason) for line in lines_of(run, **filters)]
