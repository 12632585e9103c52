"""Demo payouts: this year's budget ceilings, the run of two months ago computed by the
scheduled task, verified by Keuangan, approved by Pimpinan and paid; last month's run computed
and waiting for verification. Idempotent."""

import datetime
from decimal import Decimal

from django.utils import timezone

from dinsos.choices import FundingSource
from dinsos.demo import seeder
from dinsos.models import User
from incentives import services
from incentives.choices import Component, RunStatus
from incentives.models import BudgetCeiling, PayoutRun

CEILINGS = {Component.INSENTIF: Decimal("2300000000"), Component.OPERASIONAL: Decimal("350000000")}


def _months_back(n: int) -> datetime.date:
    first = timezone.localdate().replace(day=1)
    for _i in range(n):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return first


@seeder(order=30)
def seed_payouts():
    year = timezone.localdate().year
    for component, amount in CEILINGS.items():
        BudgetCeiling.objects.get_or_create(
            year=year, component=component, funding_source=FundingSource.APBD_PROVINSI,
            defaults={"amount": amount, "legal_basis": f"DPA Dinas Sosial {year} (demo)"})
    finance = User.objects.get(username="keuangan")
    head = User.objects.get(username="pimpinan")
    older, last = _months_back(2), _months_back(1)
    if not PayoutRun.objects.filter(period=older).exists():
        run = services.run_compute(actor=None, period=older)
        run = services.run_verify(actor=finance, run=run)
        run = services.run_approve(actor=head, run=run,
                                   override_reason="Demo: pagu disesuaikan pada APBD-P")
        services.run_mark_paid(actor=finance, run=run, reference=f"SP2D/DEMO/{older:%Y%m}")
    if not PayoutRun.objects.filter(period=last).exclude(status=RunStatus.DIBATALKAN).exists():
        services.run_compute(actor=None, period=last)
