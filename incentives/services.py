"""Writes of the payouts: compute a month, verify, approve, mark paid, cancel, adjust.

A run is computed in one transaction holding a lock on the run row, so two computations of one
period (two Celery workers, a retry after a crash) serialise and end with the same lines; a crash
rolls everything back. Computations of different periods may claim the same held lines (arrears)
and negative balances (recoveries), so every computation also takes one transaction-level lock
(a PostgreSQL advisory lock; SQLite serialises writers anyway): the second waits and sees what
the first claimed. Recomputing replaces the computed lines of an open run set-based (one DELETE,
then on PostgreSQL one INSERT … SELECT per kind of line, ``incentives.payout_sql``; the number of
queries does not depend on the number of workers) and writes one audit entry on the run with
the counts; adjustment lines stay.
Approved and paid runs are never changed.

Negative balances: when a worker's payable lines in a run sum below zero (a correction larger
than what is due this month), a balancing line (kind ``saldo_minus``) brings the worker to zero
and the amount is recovered by a ``potongan`` line from the worker's next computed run that has
payable lines for the worker. Both lines are payable lines, so the bank file, the Daftar
Nominatif, the API and the summary all add up to the same total.
"""

import datetime
import zlib
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos import audit, changes
from dinsos.money import format_rupiah, format_tanggal, round_rupiah, to_decimal
from dinsos.scoping import sees_identifiers
from dinsos.services import assign_fields, delete_or_refuse, locked
from incentives import calculations, payout_sql
from incentives.choices import HoldReason, LineKind, LineStatus, RunStatus
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate, RunDocument
from psks.choices import ReportStatus, WorkerStatus
from psks.models import ActivityReport, Assignment, BankAccount

OPEN = (RunStatus.DRAF, RunStatus.DIHITUNG)
SPENT = (RunStatus.DISETUJUI, RunStatus.DIBAYAR)
ZERO = Decimal(0)


def _require_perm(actor, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


COMPUTE_LOCK_KEY = 7_240_010  # pg_advisory_xact_lock key: "payout computations"


def _serialise_computations() -> None:
    """Hold the computation lock until the transaction ends (PostgreSQL); on SQLite the
    IMMEDIATE transaction already serialises writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COMPUTE_LOCK_KEY])


def _delete_lines(run: PayoutRun, *, kinds) -> int:
    """Delete a run's lines of the given kinds in one statement (no per-line signals or audit
    entries; the caller audits the batch)."""
    table = PayoutLine._meta.db_table
    placeholders = ", ".join(["%s"] * len(kinds))
    with connection.cursor() as cursor:  # the ids come back from the DELETE itself
        cursor.execute(f"DELETE FROM {table} WHERE run_id = %s AND kind IN ({placeholders}) "
                       "RETURNING id", [run.pk, *kinds])
        gone = [pk for (pk,) in cursor.fetchall()]
    changes.record_deleted(PayoutLine, gone)  # the district feeds' tombstones
    return len(gone)


COMPUTED_KINDS = (LineKind.REGULAR, LineKind.ARREARS, LineKind.RECOVERY, LineKind.CARRIED,
                  LineKind.YEARLY_REST)


def _locked_run(run_id: int) -> PayoutRun:
    return PayoutRun.objects.select_for_update().get(pk=run_id)


def _open_run(period: datetime.date) -> PayoutRun:
    """The period's run (not cancelled), created if missing; locked for this transaction."""
    run = PayoutRun.objects.exclude(status=RunStatus.DIBATALKAN).filter(period=period).first()
    if run is None:
        try:
            with transaction.atomic():
                run = PayoutRun.objects.create(period=period)
        except IntegrityError:  # another worker created it first: use theirs
            run = PayoutRun.objects.exclude(status=RunStatus.DIBATALKAN).get(period=period)
    return _locked_run(run.pk)


# --- computing --------------------------------------------------------------------------------

def _rates_for(year_first: datetime.date, period_last: datetime.date, *, kind=None) -> dict:
    """Per (role, component, funding source): the province-paid rates in force at some time
    between the start of the year (the widest paying window) and the end of the month, oldest
    first; the last one is the rate in force at month end — or, for an amount paid once a
    year, the year's last: its window is the year, whose days after the paying month are paid
    in that month too, each at the rate in force on it (a rate of another pace starts on
    1 January only, ``_check_rate_start``). ``kind``: that one only. Each rate carries
    ``continued``: a province-paid rate of its unit and schedule takes over the day after it
    ends, also one that starts after the month (``calculations.RateTerms``)."""
    year_last = calculations.year_window(year_first.year).last
    rates = (Rate.objects.filter(paid_by_province=True, valid_from__lte=year_last)
             .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year_first))
             .order_by("role", "component", "funding_source", "valid_from"))
    if kind is not None:
        rates = rates.filter(role=kind[0], component=kind[1], funding_source=kind[2])
    of_year: dict = defaultdict(list)
    for rate in rates:
        of_year[(rate.role, rate.component, rate.funding_source)].append(rate)
    chosen: dict = {}
    for key, year_rates in of_year.items():
        for rate, after in zip(year_rates, [*year_rates[1:], None], strict=True):
            rate.continued = calculations.continues(rate, after)
        in_force = [rate for rate in year_rates if rate.valid_from <= period_last]
        if in_force and in_force[-1].unit == "per_tahun" and in_force[-1].schedule == "sekali":
            pace = calculations.pace(in_force[-1].unit, "sekali", in_force[-1].schedule_month)
            for later in year_rates[len(in_force):]:
                if calculations.pace(later.unit, later.schedule, later.schedule_month) != pace:
                    break
                in_force.append(later)
        if in_force:
            chosen[key] = in_force
    return chosen


def _terms(rate: Rate) -> calculations.RateTerms:
    return calculations.RateTerms.of(rate, continued=rate.continued)


def _accounts_in_force(on: datetime.date, worker_ids=None) -> dict[int, BankAccount]:
    accounts = (BankAccount.objects.filter(verified_at__isnull=False, effective_from__lte=on)
                .select_related("bank").order_by("worker_id", "-effective_from", "-verified_at",
                                                 "-id"))
    if worker_ids is not None:
        accounts = accounts.filter(worker_id__in=worker_ids)
    latest: dict[int, BankAccount] = {}
    for account in accounts.iterator(chunk_size=5000):
        latest.setdefault(account.worker_id, account)
    return latest


def _hold_reasons(*, worker, needs_report: bool, report_ok: bool, account) -> list[str]:
    reasons = []
    if account is None:
        reasons.append(HoldReason.NO_ACCOUNT)
    if needs_report and not report_ok:
        reasons.append(HoldReason.REPORT)
    if worker.status == WorkerStatus.NONAKTIF:
        reasons.append(HoldReason.SUSPENDED)
    return reasons


def _bank_fields(account) -> dict:
    if account is None:
        return {"bank_account": None, "bank_name": "", "account_number": "", "account_holder": ""}
    return {"bank_account": account, "bank_name": account.bank.name,
            "account_number": account.account_number, "account_holder": account.holder_name}


def _regular_lines(run: PayoutRun, accounts: dict) -> list[PayoutLine]:
    period = run.period
    month = calculations.month_window(period.year, period.month)
    year_first = calculations.year_window(period.year).first
    rates = _rates_for(year_first, month.last)
    if not rates:
        return []
    roles = {role for role, _c, _f in rates}
    assignments = (Assignment.objects.filter(role__in=roles, start_date__lte=month.last)
                   .filter(Q(end_date__isnull=True) | Q(end_date__gte=year_first))
                   .select_related("worker").order_by("worker_id", "role", "start_date", "id"))
    groups: dict[tuple, list[Assignment]] = defaultdict(list)
    for assignment in assignments.iterator(chunk_size=5000):
        groups[(assignment.worker_id, assignment.role)].append(assignment)
    reported = set(ActivityReport.objects.filter(period=period, status=ReportStatus.DITERIMA)
                   .values_list("worker_id", flat=True))
    lines = []
    for (worker_id, role), items in groups.items():
        # a worker who left before this month is still paid the days of a paying window
        # (quarter, year) it worked: compute_line returns None when no day of the window is
        worker, area = items[-1].worker, items[-1].area_id
        periods = [(a.start_date, a.end_date) for a in items]
        account = accounts.get(worker_id)
        for (rate_role, component, _funding), in_force in rates.items():
            if rate_role != role:
                continue
            rate = in_force[-1]
            calc = calculations.compute_line(
                [_terms(r) for r in in_force], year=period.year, month=period.month,
                periods=periods, has_npwp=bool(worker.npwp))
            if calc is None or calc.gross == 0:
                continue  # nothing due (e.g. a Rp0 rate that ended a component)
            reasons = _hold_reasons(worker=worker,
                                    needs_report=rate.requires_report and rate.unit == "per_bulan",
                                    report_ok=worker_id in reported, account=account)
            lines.append(PayoutLine(
                run=run, kind=LineKind.REGULAR, worker=worker, role=role, component=component,
                period=period, area_id=area, rate=rate, rate_amount=rate.amount, unit=rate.unit,
                base_amount=calc.base_amount, days_active=calc.days_active,
                days_in_window=calc.days_in_window, factor=calc.factor,
                schedule_rule=calc.schedule_rule, gross_amount=calc.gross,
                tax_amount=calc.tax, net_amount=calc.net, funding_source=rate.funding_source,
                status=LineStatus.HELD if reasons else LineStatus.PAYABLE,
                hold_reason=reasons[0] if reasons else "",
                explanation={**calc.explanation, "hold_reasons": reasons,
                             "rate": str(rate), "legal_basis": rate.legal_basis,
                             "decrees": [a.decree_number for a in items]},
                **_bank_fields(None if reasons else account),
            ))
    return lines


def _arrears_lines(run: PayoutRun, accounts: dict) -> list[PayoutLine]:
    """Held lines of approved runs whose reasons are gone are paid now, once (arrears_of is
    unique), at the amounts computed then."""
    held = list(PayoutLine.objects.filter(status=LineStatus.HELD, run__status__in=SPENT,
                                          arrears_line__isnull=True, period__lt=run.period)
                .select_related("worker", "rate"))
    if not held:
        return []
    accepted = set(ActivityReport.objects.filter(
        status=ReportStatus.DITERIMA, period__in={h.period for h in held},
        worker_id__in={h.worker_id for h in held}).values_list("worker_id", "period"))
    lines = []
    for line in held:
        account = accounts.get(line.worker_id)
        needs_report = HoldReason.REPORT in line.explanation.get("hold_reasons", [])
        reasons = _hold_reasons(worker=line.worker, needs_report=needs_report,
                                report_ok=(line.worker_id, line.period) in accepted,
                                account=account)
        if reasons:
            continue
        lines.append(PayoutLine(
            run=run, kind=LineKind.ARREARS, worker=line.worker, role=line.role,
            component=line.component, period=line.period, area_id=line.area_id, rate=line.rate,
            rate_amount=line.rate_amount, unit=line.unit, base_amount=line.base_amount,
            days_active=line.days_active, days_in_window=line.days_in_window,
            factor=line.factor, schedule_rule=line.schedule_rule,
            gross_amount=line.gross_amount, tax_amount=line.tax_amount,
            net_amount=line.net_amount, funding_source=line.funding_source,
            status=LineStatus.PAYABLE, arrears_of=line,
            note=_("Rapel %(period)s (sebelumnya ditahan: %(reason)s)")
            % {"period": f"{line.period:%Y-%m}", "reason": line.get_hold_reason_display()},
            explanation={**line.explanation, "arrears_of": line.pk, "hold_reasons": []},
            **_bank_fields(account),
        ))
    return lines


def yearly_rests(period: datetime.date) -> list[dict]:
    """The yearly rates paid in parts (monthly, quarterly) that ended alone
    (``calculations._ends_alone``: no rate of their unit and schedule the next day) before
    ``period``, in its year or the year before, with their last window's plan as the rates
    are now: that window owes the rate's rest (``calculations.rest_part_base``). When the rate
    that ended one was entered after that window's run was approved (June approved at 83.333,
    then a monthly rate from 1 July: June now owes 83.335), the approved lines never change
    and the rest is paid in the next run computed, as a ``sisa_tahunan`` line
    (:func:`_rest_lines`, ``payout_sql.insert_rests``) — also when that run is in the next
    year (a November rest whose December was approved before the rate was entered is paid in
    January; a run of the year before that can no longer be computed). One entry per such
    rate: its kind, the rate, the paying month of its last window and the plan (a handful of
    rows; the per-worker part is done by the paths). A rate ending on 31 December is not one:
    its December settles its year (``calculations.last_part_base``)."""
    rests = []
    for year in (period.year - 1, period.year):
        year_window = calculations.year_window(year)
        ended = (Rate.objects.filter(paid_by_province=True, unit="per_tahun",
                                     schedule__in=("bulanan", "triwulanan"),
                                     valid_to__gte=year_window.first,
                                     valid_to__lt=min(period, year_window.last))
                 .order_by("role", "component", "funding_source", "valid_from"))
        for rate in ended:
            kind = (rate.role, rate.component, rate.funding_source)
            window = calculations.schedule_window(rate.schedule, year, rate.valid_to.month)
            paying = window.last.replace(day=1)
            if paying >= period:
                continue
            in_force = _rates_for(year_window.first, window.last, kind=kind).get(kind)
            if not in_force or in_force[-1].pk != rate.pk or in_force[-1].continued:
                continue  # continued, or a rate of another pace starts inside the window
            plan = calculations.plan_component([_terms(r) for r in in_force], year=year,
                                               month=paying.month)
            if plan is not None and plan.parts:
                rests.append({"kind": kind, "rate": in_force[-1], "period": paying,
                              "plan": plan})
    return rests


def rest_rule() -> str:
    return _("sisa tarif tahunan: bagian tahun tarif dikurangi yang sudah dibayar")


def rest_note(rate: Rate, period: datetime.date, owed: str, paid: str) -> str:
    return _("Sisa tarif tahunan %(rate)s periode %(period)s: terutang %(owed)s, sudah "
             "dibayar %(paid)s (periode itu sudah disetujui sebelum tarif yang "
             "mengakhirinya ditetapkan)") % {"rate": str(rate), "period": f"{period:%Y-%m}",
                                            "owed": owed, "paid": paid}


def rest_head(rest: dict) -> dict:
    """The explanation's fixed part of a ``sisa_tahunan`` line (both paths)."""
    window = rest["plan"].window
    return {"window": [window.first.isoformat(), window.last.isoformat()],
            "rate": str(rest["rate"]), "legal_basis": rest["rate"].legal_basis,
            "rule": rest_rule(), "base": str(rest["plan"].base_amount)}


def _hand_corrections(line_ids) -> dict[int, Decimal]:
    """Per line id: what the hand-made corrections (``penyesuaian``) of its payment added,
    clamped per branch — a branch is one first-level correction (its ``corrects`` is the
    window's payment: the line or its arrears partner) with everything below it (corrections
    of it, their arrears lines, corrections of those), whatever their run's status (a
    cancelled run's lines are gone); each branch counts ``max(0, its sum)``, so a correction
    that lowered the payment (−10.000, fewer days) neither raises the rest nor cancels a rest
    paid by hand in another branch (+2), while a correction of a correction offsets its own
    branch (+5 then −4 → 1). A held correction counts once (not again as the arrears line that
    pays it). One query per level of the trees, for all the lines at once
    (``payout_sql.insert_rests`` does the same with a recursive CTE carrying the branch)."""
    # per line below a payment: its payment's line id and its branch (None: the payment
    # itself, the line or its arrears partner)
    place: dict[int, tuple[int, int | None]] = {pk: (pk, None) for pk in line_ids}
    branches: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    frontier = list(place)
    while frontier:
        below = []
        for start in range(0, len(frontier), 10_000):
            chunk = frontier[start:start + 10_000]
            below += PayoutLine.objects.filter(
                Q(corrects_id__in=chunk) | Q(arrears_of_id__in=chunk)).values_list(
                "pk", "kind", "gross_amount", "corrects_id", "arrears_of_id")
        frontier = []
        for pk, kind, gross, corrects_id, arrears_of_id in below:
            root, branch = place[corrects_id or arrears_of_id]
            if branch is None and corrects_id:
                branch = pk  # a first-level correction opens its own branch
            place[pk] = (root, branch)
            if kind == LineKind.ADJUSTMENT:
                branches[root, branch] += gross
            frontier.append(pk)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (root, _branch), amount in branches.items():
        totals[root] += max(amount, ZERO)
    return totals


def _rest_lines(run: PayoutRun, accounts: dict) -> list[PayoutLine]:
    """The rest of every yearly rate of :func:`yearly_rests` not paid in its approved last
    window: per regular line of that window in an approved or paid run, what the window owes
    now — the plan's bases now × the line's own days in each part, divided once by the days
    of the window and rounded once — minus what the line paid and what hand-made corrections
    of its payment added, each first-level correction with its own corrections clamped at
    zero on its own (:func:`_hand_corrections`: a rest paid by hand, in full or in part, is
    not paid again; a correction that lowered the payment never raises the rest, nor
    re-opens a rest paid by hand in another correction); paid once (no such line yet in
    another run: ``incentives_one_yearly_rest_line``), held as a regular line is (no verified
    account, suspended) and then paid as arrears."""
    lines = []
    for rest in yearly_rests(run.period):
        plan, rate = rest["plan"], rest["rate"]
        role, component, funding = rest["kind"]
        bases = {(p.first.isoformat(), p.last.isoformat()): p.base for p in plan.parts}
        already = PayoutLine.objects.filter(
            kind=LineKind.YEARLY_REST, worker_id=OuterRef("worker_id"), role=role,
            component=component, funding_source=funding, period=rest["period"])
        paid_lines = (PayoutLine.objects.filter(
            kind=LineKind.REGULAR, role=role, component=component, funding_source=funding,
            period=rest["period"], run__status__in=SPENT).exclude(Exists(already))
            .select_related("worker").order_by("worker_id"))
        head = rest_head(rest)
        paid_lines = list(paid_lines)
        hand = _hand_corrections([line.pk for line in paid_lines])
        for line in paid_lines:
            parts = line.explanation.get("parts") or []
            if not parts or any((p.get("from"), p.get("to")) not in bases for p in parts):
                continue  # the window's rates are not the ones it was paid with
            owed = round_rupiah(sum((bases[(p["from"], p["to"])] * p["days"] for p in parts),
                                    ZERO) / plan.window.days)
            by_hand = hand.get(line.pk, ZERO)  # each branch already ≥ 0
            paid = line.gross_amount + by_hand
            gross = owed - paid
            if gross <= 0:
                continue
            worker = line.worker
            account = accounts.get(line.worker_id)
            reasons = _hold_reasons(worker=worker, needs_report=False, report_ok=True,
                                    account=account)
            tax = (calculations.pph21(gross, has_npwp=bool(worker.npwp)) if rate.withhold_tax
                   else ZERO)
            lines.append(PayoutLine(
                run=run, kind=LineKind.YEARLY_REST, worker=worker, role=role,
                component=component, period=line.period, area_id=line.area_id, rate=rate,
                rate_amount=rate.amount, unit=rate.unit, base_amount=plan.base_amount,
                days_active=line.days_active, days_in_window=line.days_in_window,
                factor=line.factor, schedule_rule=rest_rule(), gross_amount=gross,
                tax_amount=tax, net_amount=gross - tax, funding_source=funding,
                status=LineStatus.HELD if reasons else LineStatus.PAYABLE,
                hold_reason=reasons[0] if reasons else "",
                note=rest_note(rate, line.period, format_rupiah(owed), format_rupiah(paid)),
                explanation={**head, "remainder_of": line.pk, "owed": str(int(owed)),
                             "paid": str(int(paid)), "paid_by_hand": str(int(by_hand)),
                             "days": line.days_active,
                             "tax_rule": calculations.tax_rule_text(rate.withhold_tax,
                                                                    bool(worker.npwp)),
                             "hold_reasons": reasons},
                **_bank_fields(None if reasons else account),
            ))
    return lines


def run_summary(run: PayoutRun) -> dict:
    rows = (run.lines.values("component", "funding_source", "status")
            .annotate(n=Count("id"), gross=Coalesce(Sum("gross_amount"), ZERO),
                      tax=Coalesce(Sum("tax_amount"), ZERO), net=Coalesce(Sum("net_amount"), ZERO))
            .order_by("component", "funding_source", "status"))
    payable = [r for r in rows if r["status"] == LineStatus.PAYABLE]
    return {
        "lines": sum(r["n"] for r in rows),
        "payable": sum(r["n"] for r in payable),
        "held": sum(r["n"] for r in rows if r["status"] == LineStatus.HELD),
        "gross_payable": str(sum((r["gross"] for r in payable), ZERO)),
        "tax_payable": str(sum((r["tax"] for r in payable), ZERO)),
        "net_payable": str(sum((r["net"] for r in payable), ZERO)),
        "by_component_source": [
            {"component": r["component"], "funding_source": r["funding_source"],
             "status": r["status"], "lines": r["n"], "gross": str(r["gross"]),
             "tax": str(r["tax"]), "net": str(r["net"])} for r in rows
        ],
    }


def _ceiling_check(run: PayoutRun) -> list[dict]:
    """Per ceiling of the run's year: already spent (approved/paid runs) + this run's payable
    gross; a row per ceiling, flagged when over."""
    year = run.period.year
    details = []
    for ceiling in BudgetCeiling.objects.filter(year=year):
        lines = PayoutLine.objects.filter(component=ceiling.component,
                                          funding_source=ceiling.funding_source,
                                          status=LineStatus.PAYABLE)
        spent = lines.filter(run__status__in=SPENT, run__period__year=year).exclude(
            run=run).aggregate(s=Coalesce(Sum("gross_amount"), ZERO))["s"]
        this = lines.filter(run=run).aggregate(s=Coalesce(Sum("gross_amount"), ZERO))["s"]
        details.append({"component": ceiling.component, "funding_source": ceiling.funding_source,
                        "ceiling": str(ceiling.amount), "spent": str(spent), "this_run": str(this),
                        "exceeded": spent + this > ceiling.amount})
    return details


WAITING = (RunStatus.DRAF, RunStatus.DIHITUNG, RunStatus.DIVERIFIKASI)


def _lock_waiting_runs(year: int) -> None:
    """Lock every run of ``year`` not yet approved, in id order, before an approval reads and
    rewrites their pagu rows: two approvals of one year then queue up (the second sees what the
    first spent) instead of each passing the pagu alone, or locking each other's run first."""
    list(PayoutRun.objects.select_for_update().filter(period__year=year, status__in=WAITING)
         .order_by("pk").values_list("pk", flat=True))


def _refresh_ceilings(*years: int) -> None:
    """The pagu rows of every run of ``years`` not yet approved, as they are now: a run was
    approved (what is spent grew) or a pagu changed. The run page, the list, the admin and the
    API read these rows; an approved run keeps the rows of its approval."""
    for run in PayoutRun.objects.select_for_update().filter(
            period__year__in=years, status__in=WAITING).order_by("pk"):
        run.ceiling_details = _ceiling_check(run)
        run.ceiling_exceeded = any(d["exceeded"] for d in run.ceiling_details)
        run.save(update_fields=["ceiling_details", "ceiling_exceeded"])


def _recovery_lines(run: PayoutRun, accounts: dict, payees: set[int]) -> list[PayoutLine]:
    """Negative balances carried out of approved runs, recovered (once: ``recovers`` is unique)
    from the first later run in which the worker has payable lines."""
    carried = (PayoutLine.objects.filter(kind=LineKind.CARRIED, run__status__in=SPENT,
                                         recovered_by__isnull=True, period__lt=run.period,
                                         worker_id__in=payees)
               .select_related("worker"))
    lines = []
    for line in carried:
        account = accounts.get(line.worker_id)
        if account is None:
            continue
        lines.append(PayoutLine(
            run=run, kind=LineKind.RECOVERY, worker=line.worker, role=line.role,
            component=line.component, period=run.period, area_id=line.area_id,
            gross_amount=-line.gross_amount, tax_amount=-line.tax_amount,
            net_amount=-line.net_amount, funding_source=line.funding_source,
            status=LineStatus.PAYABLE, recovers=line, schedule_rule=_("potongan saldo negatif"),
            note=_("Potongan saldo negatif %(period)s: %(amount)s")
            % {"period": f"{line.period:%Y-%m}", "amount": format_rupiah(line.net_amount)},
            explanation={"recovers": line.pk, "carried_from_run": line.run_id,
                         "carried_period": f"{line.period:%Y-%m}",
                         "amount": format_rupiah(-line.net_amount)},
            **_bank_fields(account),
        ))
    return lines


BANK_FIELDS = ["bank_account", "bank_name", "account_number", "account_holder"]


def _align_accounts(run: PayoutRun) -> int:
    """A worker's payable lines in a run are paid into one account: when they name more than
    one (an adjustment added before a new account was verified, then the run recomputed; or
    the other way round), all of them take the worker's account in force at month end, so the
    worker's lines are netted into one transfer. Returns how many lines moved.

    Such a worker always has an account in force at month end: every payable line named an
    account verified and in force at the run's month end when it was made, and nothing
    withdraws a verification or moves its date (no service does; the admin cannot change an
    account). Were one ever missing, the lines would keep their accounts."""
    month_end = calculations.month_window(run.period.year, run.period.month).last
    if _set_based():
        return payout_sql.align_accounts(run, month_last=month_end)
    payable = run.lines.filter(status=LineStatus.PAYABLE)
    split = list(payable.values("worker_id").order_by()
                 .annotate(n=Count("bank_account_id", distinct=True)).filter(n__gt=1)
                 .values_list("worker_id", flat=True))
    if not split:
        return 0
    accounts = _accounts_in_force(month_end, split)
    moved = []
    for line in payable.filter(worker_id__in=split):
        account = accounts.get(line.worker_id)
        if account is not None and line.bank_account_id != account.pk:
            for name, value in _bank_fields(account).items():
                setattr(line, name, value)
            moved.append(line)
    PayoutLine.objects.bulk_update(moved, BANK_FIELDS)
    return len(moved)


def _settle_balances(run: PayoutRun) -> int:
    """Replace the run's balancing lines: every worker whose payable lines sum below zero gets
    one ``saldo_minus`` line that brings the worker to zero; the amount is recovered later. A
    worker's lines are netted whatever account they named (``_align_accounts`` first puts them
    in one)."""
    _delete_lines(run, kinds=[LineKind.CARRIED])
    _align_accounts(run)
    if _set_based():
        return payout_sql.insert_balances(run)
    balances = (run.lines.filter(status=LineStatus.PAYABLE)
                .values("worker_id").order_by()
                .annotate(gross=Coalesce(Sum("gross_amount"), ZERO),
                          tax=Coalesce(Sum("tax_amount"), ZERO),
                          net=Coalesce(Sum("net_amount"), ZERO))
                .filter(net__lt=0))
    lines = []
    for balance in balances:
        carried = calculations.carry_forward(balance["net"])
        source = (run.lines.filter(status=LineStatus.PAYABLE, worker_id=balance["worker_id"])
                  .order_by("net_amount", "id").first())
        lines.append(PayoutLine(
            run=run, kind=LineKind.CARRIED, worker_id=source.worker_id, role=source.role,
            component=source.component, period=run.period, area_id=source.area_id,
            gross_amount=-balance["gross"], tax_amount=-balance["tax"], net_amount=carried,
            funding_source=source.funding_source, status=LineStatus.PAYABLE,
            bank_account_id=source.bank_account_id, bank_name=source.bank_name,
            account_number=source.account_number, account_holder=source.account_holder,
            schedule_rule=_("saldo negatif dibawa"),
            note=_("Saldo negatif %(amount)s dibawa ke periode berikutnya dan dipotong dari "
                   "pembayaran berikutnya") % {"amount": format_rupiah(-carried)},
            explanation={"balance": str(balance["net"]), "carried": str(carried),
                         "rule": _("jumlah baris dapat dibayar tenaga ini negatif; dibawa "
                                   "sebagai potongan ke pembayaran berikutnya")},
        ))
    PayoutLine.objects.bulk_create(lines)
    return len(lines)


def _refresh_totals(run: PayoutRun) -> None:
    run.summary = run_summary(run)
    run.ceiling_details = _ceiling_check(run)
    run.ceiling_exceeded = any(d["exceeded"] for d in run.ceiling_details)


def period_check(period: datetime.date) -> datetime.date:
    """The first day of ``period``; a month after the current one (Asia/Jakarta) is refused."""
    period = period.replace(day=1)
    if calculations.is_future_period(period, timezone.localdate()):
        raise ValidationError({"period": _(
            "Periode %(period)s belum berjalan; pembayaran hanya dihitung sampai bulan ini "
            "(%(now)s).") % {"period": f"{period:%Y-%m}",
                              "now": f"{timezone.localdate():%Y-%m}"}})
    return period
def _refuse_if_locked(run: PayoutRun) -> None:
    if run.status not in OPEN:
        raise ValidationError({"period": _(
            "Perhitungan %(period)s berstatus %(status)s dan tidak dihitung ulang; koreksi dengan "
            "baris penyesuaian di periode berikutnya.") % {"period": f"{run.period:%Y-%m}",
                                                          "status": run.get_status_display()}})


def run_compute_request(*, actor, period: datetime.date) -> None:
    """From the run page: check that this user may (re)compute the month, then compute it in
    the worker (``compute_monthly_run``) after commit; the page follows its progress."""
    _require_perm(actor, "incentives.add_payoutrun",
                  _("Anda tidak berwenang menghitung pembayaran."))
    period = period_check(period)
    existing = PayoutRun.objects.exclude(status=RunStatus.DIBATALKAN).filter(period=period).first()
    if existing is not None:
        _refuse_if_locked(existing)
    from incentives.tasks import compute_monthly_run

    compute_monthly_run.delay_on_commit(period.isoformat(), actor.pk)


@transaction.atomic
def run_compute_scheduled(*, day: datetime.date) -> PayoutRun | None:
    """The scheduler's draft (days 25 to the month's end, so a day beat was down is caught up
    the next day): computes the month's run only when the month has none yet. A run someone
    computed or a scheduled draft of an earlier day is left as it is — recomputing it would
    change the figures a checker may be reading and drop who computed it, and with it the
    rule that the maker does not verify (``_makers``) —, and so is a month whose run finance
    cancelled (a decision, not a gap). A recompute is asked on the run page. Asked under the
    computation lock, so a run someone computes at that moment is seen."""
    period = day.replace(day=1)
    _serialise_computations()
    if PayoutRun.objects.filter(period=period).exists():
        return None
    return run_compute(actor=None, period=period)


@transaction.atomic
def run_compute(*, actor, period: datetime.date) -> PayoutRun:
    """Compute (or recompute) the draft run of a month. ``actor`` None = the scheduled task."""
    _require_perm(actor, "incentives.add_payoutrun",
                  _("Anda tidak berwenang menghitung pembayaran."))
    period = period_check(period)
    _serialise_computations()
    run = _open_run(period)
    _refuse_if_locked(run)
    removed = _delete_lines(run, kinds=COMPUTED_KINDS)
    created = _compute_lines_sql(run) if _set_based() else _compute_lines_python(run)
    run.status, run.computed_by, run.computed_at = RunStatus.DIHITUNG, actor, timezone.now()
    run.stale_since, run.stale_reason = None, ""  # computed with the rates as they are now
    _refresh_totals(run)
    with audit.audit_context(recompute={"lines_removed": removed, "lines_created": created}):
        run.save()
    return run


def _set_based() -> bool:
    """PostgreSQL computes the lines set-based (``incentives.payout_sql``); elsewhere (SQLite,
    the development default) the same rules run row by row in Python."""
    return connection.vendor == "postgresql"


def _compute_lines_sql(run: PayoutRun) -> int:
    """The run's computed lines in a fixed number of statements whatever the number of workers:
    regular, arrears, recoveries, then one account per worker and the balancing lines. Returns
    how many were created."""
    month_last = calculations.month_window(run.period.year, run.period.month).last
    year_first = calculations.year_window(run.period.year).first
    with connection.cursor() as cursor:
        # for this transaction: compiling the statements (JIT) cost more than it saved — the
        # regular lines' SELECT at 50,000 workers 4.3–5.1 s without, 5.6–6.9 s with (load 6)
        cursor.execute("SET LOCAL jit = off")
    created = payout_sql.insert_regular(run, _rates_for(year_first, month_last),
                                        year_first=year_first, month_last=month_last)
    created += payout_sql.insert_arrears(run, month_last=month_last)
    created += payout_sql.insert_rests(run, yearly_rests(run.period), month_last=month_last)
    created += payout_sql.insert_recoveries(run, month_last=month_last)
    return created + _settle_balances(run)


def _compute_lines_python(run: PayoutRun) -> int:
    """The same lines as :func:`_compute_lines_sql`, built in Python (SQLite; and the reference
    the set-based path is tested against)."""
    month_end = calculations.month_window(run.period.year, run.period.month).last
    accounts = _accounts_in_force(month_end)
    lines = _regular_lines(run, accounts) + _arrears_lines(run, accounts)
    payees = {line.worker_id for line in lines if line.status == LineStatus.PAYABLE}
    lines += _rest_lines(run, accounts)
    lines += _recovery_lines(run, accounts, payees)
    PayoutLine.objects.bulk_create(lines, batch_size=2000)
    return len(lines) + _settle_balances(run)


# --- workflow ---------------------------------------------------------------------------------

def _require_status(run: PayoutRun, *allowed: str) -> None:
    if run.status not in allowed:
        raise ValidationError({"status": _("Perhitungan berstatus %(s)s; tindakan ini tidak "
                                           "diizinkan.") % {"s": run.get_status_display()}})


def _makers(run: PayoutRun) -> set:
    """Who computed the run or added a correction to it (the pages ask ``selectors.made_by``)."""
    adjusters = run.lines.filter(kind=LineKind.ADJUSTMENT, created_by__isnull=False)
    return {run.computed_by_id, *adjusters.values_list("created_by_id", flat=True)} - {None}


def _refuse_if_stale(run: PayoutRun) -> None:
    """A run computed before a rate that changes its amounts was created (``rate_create`` marks
    it), or before a correction its yearly rest counts (``_rest_computed_before``), is
    recomputed before anybody verifies or approves it."""
    if run.is_stale:
        raise ValidationError({"stale": _(
            "Perhitungan %(period)s perlu dihitung ulang: %(reason)s Hitung ulang "
            "perhitungan ini dahulu; sesudah itu baru dapat diverifikasi dan disetujui.")
            % {"period": f"{run.period:%Y-%m}", "reason": run.stale_reason}})


@transaction.atomic
def run_verify(*, actor, run: PayoutRun) -> PayoutRun:
    run = _locked_run(run.pk)
    _require_perm(actor, "incentives.verify_run", _("Hanya Keuangan yang dapat memverifikasi."))
    _require_status(run, RunStatus.DIHITUNG)
    _refuse_if_stale(run)
    if actor.pk in _makers(run):
        raise PermissionDenied(_("Yang menghitung atau menambah penyesuaian tidak boleh "
                                 "memverifikasi perhitungan yang sama; pemeriksanya harus orang "
                                 "lain (pemisahan tugas)."))
    run.status, run.verified_by, run.verified_at = RunStatus.DIVERIFIKASI, actor, timezone.now()
    run.save(update_fields=["status", "verified_by", "verified_at"])
    return run


@transaction.atomic
def run_approve(*, actor, run: PayoutRun, override_reason: str = "") -> PayoutRun:
    _lock_waiting_runs(run.period.year)
    run = _locked_run(run.pk)
    _require_perm(actor, "incentives.approve_run", _("Hanya Pimpinan yang dapat menyetujui."))
    _require_status(run, RunStatus.DIVERIFIKASI)
    _refuse_if_stale(run)
    if actor.pk in {run.verified_by_id, *_makers(run)}:
        raise PermissionDenied(_("Yang menghitung, menambah penyesuaian atau memverifikasi "
                                 "tidak boleh menyetujui perhitungan yang sama."))
    run.ceiling_details = _ceiling_check(run)
    run.ceiling_exceeded = any(d["exceeded"] for d in run.ceiling_details)
    if run.ceiling_exceeded:
        if not actor.has_perm("incentives.override_ceiling"):
            raise PermissionDenied(_("Perhitungan melampaui pagu; hanya Pimpinan yang dapat "
                                     "menyetujui dengan alasan."))
        if not override_reason.strip():
            raise ValidationError({"override_reason": _(
                "Perhitungan melampaui pagu anggaran; tuliskan alasan persetujuan.")})
        run.ceiling_override_by, run.ceiling_override_reason = actor, override_reason.strip()
    run.status, run.approved_by, run.approved_at = RunStatus.DISETUJUI, actor, timezone.now()
    run.save()
    _refresh_ceilings(run.period.year)
    from incentives.tasks import send_run_reports

    send_run_reports.delay_on_commit(run.pk)
    return run


def _ids_among(queryset, ids, *, chunk: int = 10_000) -> set[int]:
    """Which of ``ids`` are rows of ``queryset`` (asked in chunks: SQLite's bound parameters)."""
    ids, found = list(ids), set()
    for start in range(0, len(ids), chunk):
        found.update(queryset.filter(pk__in=ids[start:start + chunk])
                     .values_list("pk", flat=True))
    return found


@transaction.atomic
def run_mark_paid(*, actor, run: PayoutRun, reference: str,
                  line_references: dict[int, str] | None = None) -> PayoutRun:
    """Record the payment: one reference for the run, optionally one per line (bank result)."""
    run = _locked_run(run.pk)
    _require_perm(actor, "incentives.mark_paid_run", _("Hanya Keuangan yang mencatat pembayaran."))
    _require_status(run, RunStatus.DISETUJUI)
    if not reference.strip():
        raise ValidationError({"reference": _("Referensi pembayaran (SP2D/bukti transfer) wajib "
                                              "diisi.")})
    payable = run.lines.filter(status=LineStatus.PAYABLE)
    references = {int(pk): ref.strip()[:100] for pk, ref in (line_references or {}).items()}
    unknown = sorted(set(references) - _ids_among(payable, references))
    if unknown:  # a mistyped line id was passed over in silence, its transfer unrecorded
        raise ValidationError({"line_references": _(
            "Bukan baris yang dibayarkan pada perhitungan ini: %(ids)s. Periksa id barisnya; "
            "tidak ada yang dicatat.") % {"ids": ", ".join(map(str, unknown[:10]))
                                          + (" …" if len(unknown) > 10 else "")}})
    payable.update(paid_reference=reference.strip()[:100])
    PayoutLine.objects.bulk_update(  # a few statements, not one per line
        [PayoutLine(pk=pk, paid_reference=ref or reference.strip()[:100])
         for pk, ref in references.items()], ["paid_reference"], batch_size=2_000)
    run.status, run.paid_at, run.paid_reference = RunStatus.DIBAYAR, timezone.now(), reference
    run.save(update_fields=["status", "paid_at", "paid_reference"])
    return run


@transaction.atomic
def run_cancel(*, actor, run: PayoutRun, reason: str) -> PayoutRun:
    _serialise_computations()  # a rest being computed meanwhile sees the cancel, or waits
    run = _locked_run(run.pk)
    _require_perm(actor, "incentives.change_payoutrun", _("Anda tidak berwenang membatalkan."))
    _require_status(run, RunStatus.DRAF, RunStatus.DIHITUNG, RunStatus.DIVERIFIKASI)
    if not reason.strip():
        raise ValidationError({"reason": _("Alasan pembatalan wajib diisi.")})
    _rests_counting(run, actor=actor)
    run.summary = {**run_summary(run), "cancelled": True}
    _delete_lines(run, kinds=[*COMPUTED_KINDS, LineKind.ADJUSTMENT])
    run.status, run.cancelled_by, run.cancelled_at = RunStatus.DIBATALKAN, actor, timezone.now()
    run.cancel_reason = reason.strip()
    run.save()
    return run


def _rests_counting(run: PayoutRun, *, actor) -> None:
    """Before ``run``'s hand corrections are deleted with it: a yearly rest of their window
    (same worker, role, component, funding source and period) in another run counted them as
    paid by hand (``_hand_corrections``). Approved or paid, that rest would stay short for good
    (one rest per window): the cancel is refused, naming it. Not yet approved, its run is
    marked stale and recomputed without them."""
    corrections = PayoutLine.objects.filter(run=run, kind=LineKind.ADJUSTMENT)
    rests = PayoutLine.objects.filter(
        Exists(corrections.filter(worker=OuterRef("worker"), role=OuterRef("role"),
                                  component=OuterRef("component"), period=OuterRef("period"),
                                  funding_source=OuterRef("funding_source"))),
        kind=LineKind.YEARLY_REST).exclude(run=run).select_related("run")
    for rest in rests.filter(run__status__in=SPENT).order_by("pk")[:1]:
        raise ValidationError({"status": _(
            "Perhitungan ini memuat penyesuaian atas pembayaran %(period)s yang sudah "
            "diperhitungkan sisa tarif tahunan dalam perhitungan %(run)s (%(status)s); "
            "membatalkannya membuat sisa itu kurang dibayar. Batalkan penyesuaian dengan "
            "penyesuaian baru, bukan dengan membatalkan perhitungan.")
            % {"period": f"{rest.period:%Y-%m}", "run": f"{rest.run.period:%Y-%m}",
               "status": rest.run.get_status_display()}})
    runs = PayoutRun.objects.select_for_update().filter(
        pk__in=rests.filter(run__status__in=(RunStatus.DIHITUNG, RunStatus.DIVERIFIKASI))
        .values("run_id")).order_by("pk")
    reason = _("penyesuaian dalam perhitungan %(run)s yang diperhitungkan sisa tarif tahunan "
               "dibatalkan.") % {"run": f"{run.period:%Y-%m}"}
    for other in runs:
        _stale(other, reason, actor=actor, cause={"cancelled_run": run.pk})


def _one_payment(line: PayoutLine) -> list[int]:
    """The lines that are one payment with ``line``: a held line and the arrears line that paid
    it (same amounts)."""
    if line.arrears_of_id:
        return [line.arrears_of_id, line.pk]
    return [line.pk, *PayoutLine.objects.filter(arrears_of=line).values_list("pk", flat=True)]


CORRECTABLE_KINDS = (LineKind.REGULAR, LineKind.ARREARS, LineKind.ADJUSTMENT,
                     LineKind.YEARLY_REST)


def _payment_root(line: PayoutLine) -> PayoutLine:
    """The payment a line finally belongs to: up the ``corrects`` chain (a correction of a
    correction) and from an arrears line to the held line it paid, to the first line."""
    while line.corrects_id or line.arrears_of_id:
        line = PayoutLine.objects.get(pk=line.corrects_id or line.arrears_of_id)
    return line


def _payment_tree(root: PayoutLine) -> list[dict]:
    """The root line, its arrears partner and every correction below it, recursively
    (corrections of corrections and their arrears lines): one query per level."""
    fields = ("pk", "kind", "status", "gross_amount", "arrears_of_id")
    tree = list(PayoutLine.objects.filter(pk=root.pk).values(*fields))
    frontier = [root.pk]
    while frontier:
        below = list(PayoutLine.objects.filter(Q(corrects_id__in=frontier)
                                               | Q(arrears_of_id__in=frontier))
                     .values(*fields))
        tree += below
        frontier = [row["pk"] for row in below]
    return tree


def _paid_in_tree(tree: list[dict]) -> Decimal:
    """What a payment's tree gave the worker in all: a line counts once (a held line and the
    arrears line that paid it are one payment), a positive amount only once it was paid (the
    line payable, or its arrears line), a negative one always (it is taken back, or will be)."""
    paid_by_arrears = {row["arrears_of_id"] for row in tree
                       if row["arrears_of_id"] and row["status"] == LineStatus.PAYABLE}
    total = ZERO
    for row in tree:
        if row["kind"] == LineKind.ARREARS and row["arrears_of_id"]:
            continue
        paid = row["status"] == LineStatus.PAYABLE or row["pk"] in paid_by_arrears
        if row["gross_amount"] < 0 or paid:
            total += row["gross_amount"]
    return total


def _lock_payment(line: PayoutLine) -> tuple[PayoutLine, PayoutLine]:
    """``line`` as stored and its payment's root, after the root's lines (the root and its
    held/arrears partner) are locked in id order: two corrections anywhere in one payment's
    tree, even into two open runs, queue up and the second counts the first's. ``FOR NO KEY
    UPDATE``: a computation that pays the held line as arrears (a key-share lock on it) does
    not wait."""
    root = _payment_root(PayoutLine.objects.get(pk=line.pk))
    list(PayoutLine.objects.select_for_update(no_key=True).filter(pk__in=_one_payment(root))
         .order_by("pk").values_list("pk", flat=True))
    return PayoutLine.objects.select_related("run", "worker").get(pk=line.pk), root


@transaction.atomic
def adjustment_add(*, actor, run: PayoutRun, corrects: PayoutLine, amount,
                   reason: str) -> PayoutLine:
    """A correction (positive or negative, gross) of a regular, arrears or adjustment line of
    an approved run, paid in an open run. The corrected line itself never changes. What is
    taken back from a payment — the first line, its arrears partner and every correction below
    it — never exceeds what the payment paid in total."""
    # the computation's lock first, as ``run_compute`` takes it (then the run's row): a rest
    # being computed meanwhile counts this correction, or ``_rest_computed_before`` sees it
    _serialise_computations()
    run = _locked_run(run.pk)
    _require_perm(actor, "incentives.change_payoutrun",
                  _("Anda tidak berwenang menambah penyesuaian."))
    _require_status(run, *OPEN)
    corrects, root = _lock_payment(corrects)
    if corrects.run.status not in SPENT:
        raise ValidationError({"corrects": _("Hanya baris dari perhitungan yang sudah disetujui "
                                             "yang dikoreksi dengan penyesuaian.")})
    if corrects.kind not in CORRECTABLE_KINDS:
        raise ValidationError({"corrects": _(
            "Baris %(kind)s bukan pembayaran dan tidak dapat dikoreksi; yang dikoreksi hanya "
            "baris reguler, rapel, sisa tarif tahunan atau penyesuaian.")
            % {"kind": corrects.get_kind_display()}})
    if not reason.strip():
        raise ValidationError({"reason": _("Alasan penyesuaian wajib diisi.")})
    gross = to_decimal(amount)
    if gross != round_rupiah(gross):
        raise ValidationError({"amount": _("Nilai penyesuaian harus dalam rupiah penuh.")})
    if gross == 0:
        raise ValidationError({"amount": _("Nilai penyesuaian tidak boleh nol.")})
    earlier = PayoutLine.objects.filter(corrects_id__in=_one_payment(corrects)).aggregate(
        gross=Coalesce(Sum("gross_amount"), ZERO), tax=Coalesce(Sum("tax_amount"), ZERO))
    tree = _payment_tree(root)
    limit = calculations.adjustment_limit(_paid_in_tree(tree), ZERO)
    if gross < -limit:
        if limit == 0 and corrects.status == LineStatus.HELD and not any(
                row["arrears_of_id"] == corrects.pk for row in tree):
            raise ValidationError({"corrects": _(
                "Baris yang dikoreksi ditahan (%(reason)s) dan belum dibayarkan: tidak ada yang "
                "dapat ditarik kembali. Baris ini dibayar sebagai rapel setelah alasannya "
                "selesai; koreksi sesudahnya.") % {"reason": corrects.get_hold_reason_display()}})
        raise ValidationError({"amount": _(
            "Koreksi %(amount)s melebihi yang telah dibayarkan; paling banyak -%(limit)s "
            "(pembayaran %(period)s beserta rapel dan semua koreksinya, dikurangi koreksi "
            "sebelumnya).")
            % {"amount": format_rupiah(gross), "limit": format_rupiah(limit),
               "period": f"{root.period:%Y-%m}"}})
    tax = ZERO
    if corrects.tax_amount:
        tax = calculations.correction_tax(
            corrects.gross_amount + earlier["gross"], corrects.tax_amount + earlier["tax"], gross,
            has_npwp=calculations.taxed_with_npwp(corrects.gross_amount, corrects.tax_amount,
                                                  default=bool(corrects.worker.npwp)))
    month_end = calculations.month_window(run.period.year, run.period.month).last
    account = _accounts_in_force(month_end, [corrects.worker_id]).get(corrects.worker_id)
    line = PayoutLine.objects.create(
        run=run, kind=LineKind.ADJUSTMENT, worker=corrects.worker, role=corrects.role,
        component=corrects.component, period=corrects.period, area_id=corrects.area_id,
        rate=corrects.rate, rate_amount=corrects.rate_amount, unit=corrects.unit,
        gross_amount=gross, tax_amount=tax, net_amount=gross - tax,
        funding_source=corrects.funding_source,
        status=LineStatus.PAYABLE if account else LineStatus.HELD,
        hold_reason="" if account else HoldReason.NO_ACCOUNT, corrects=corrects,
        created_by=actor if getattr(actor, "pk", None) else None,
        note=reason.strip(), schedule_rule=_("penyesuaian"),
        explanation={"corrects": corrects.pk, "reason": reason.strip(),
                     "amount": format_rupiah(gross)},
        **_bank_fields(account),
    )
    _settle_balances(run)
    _refresh_totals(run)
    run.save(update_fields=["summary", "ceiling_details", "ceiling_exceeded"])
    _rest_computed_before(line, actor=actor)
    return line


def _rest_computed_before(correction: PayoutLine, *, actor) -> None:
    """A ``sisa_tahunan`` line of the corrected payment's window (same worker, role, component,
    funding source and period: a correction carries its payment's) in a run not yet approved
    was computed before this correction, which the rest counts as paid by hand: that run is
    marked stale, so it is recomputed — its rest then pays only what is still owed — before it
    is verified or approved. Otherwise the correction and the whole rest were both paid."""
    runs = list(PayoutRun.objects.select_for_update().filter(
        status__in=(RunStatus.DIHITUNG, RunStatus.DIVERIFIKASI),
        pk__in=PayoutLine.objects.filter(
            kind=LineKind.YEARLY_REST, worker_id=correction.worker_id, role=correction.role,
            component=correction.component, funding_source=correction.funding_source,
            period=correction.period).values("run_id")).order_by("pk"))
    reason = _("penyesuaian %(amount)s atas pembayaran %(period)s ditambahkan sesudah sisa "
               "tarif tahunannya dihitung.") % {"amount": format_rupiah(correction.gross_amount),
                                                 "period": f"{correction.period:%Y-%m}"}
    for run in runs:
        _stale(run, reason, actor=actor, cause={"adjustment": correction.pk})


def _stale(run: PayoutRun, reason: str, *, actor, cause: dict) -> None:
    """Mark ``run`` to be recomputed before it is verified or approved (``_refuse_if_stale``),
    for ``reason``; a verified run goes back to ``dihitung`` (its verification cleared, one
    audit entry on the run naming the ``cause``)."""
    run.stale_since = run.stale_since or timezone.now()
    run.stale_reason = " ".join(filter(None, [run.stale_reason, reason]))
    fields = ["stale_since", "stale_reason"]
    extra = {}
    if run.status == RunStatus.DIVERIFIKASI:
        extra["sent_back"] = {"from": RunStatus.DIVERIFIKASI.value,
                              "verified_by": run.verified_by_id, **cause, "reason": reason}
        run.status, run.verified_by, run.verified_at = RunStatus.DIHITUNG, None, None
        fields += ["status", "verified_by", "verified_at"]
    with audit.audit_context(actor=actor if getattr(actor, "pk", None) else None, **extra):
        run.save(update_fields=fields)


# --- rates and ceilings -----------------------------------------------------------------------

RATE_LOCK_KEY = 7_240_011  # pg_advisory_xact_lock first key (with the rate's kind): "new rates"


def _serialise_rates(rate: Rate) -> None:
    """Hold, until the transaction ends, the lock of the rate's kind (role, component, funding
    source) on PostgreSQL: two new rates of one kind queue up, and the second reads the rate in
    force after the first committed it (so closes it) instead of the one the first closed.
    SQLite serialises writers anyway."""
    if connection.vendor != "postgresql":
        return
    kind = f"{rate.role}|{rate.component}|{rate.funding_source}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                       [RATE_LOCK_KEY, zlib.crc32(kind.encode()) & 0x7FFFFFFF])


CHECKED = (RunStatus.DIVERIFIKASI, *SPENT)


def _check_rate_start(rate: Rate) -> None:
    """Refuse a rate that would change money already paid or pay days twice:
    - a change of how the amount is paid (monthly, quarterly, once a year in a month) starts
      at the start of a window of both the rate it follows and the new one — rates of two
      paces never share a window, whose days one of them has paid already;
    - a rate never starts inside a window (of the rate it follows or its own) in which a line
      of its role × component × funding source was verified or approved: those months are paid
      at the old rate and stay so (the year's December pays what the year still owes from
      what the months paid)."""
    before = (Rate.objects.filter(role=rate.role, component=rate.component,
                                  funding_source=rate.funding_source,
                                  valid_from__lt=rate.valid_from)
              .order_by("-valid_from").first())
    own = calculations.pace(rate.unit, rate.schedule, rate.schedule_month)
    starts = {calculations.window_start(rate.unit, rate.schedule, rate.valid_from)}
    if before is not None:
        starts.add(calculations.window_start(before.unit, before.schedule, rate.valid_from))
        if calculations.pace(before.unit, before.schedule, before.schedule_month) != own \
                and starts != {rate.valid_from}:
            raise ValidationError({"valid_from": _(
                "Satuan atau jadwal bayar tarif ini (%(new)s) berbeda dari tarif sebelumnya "
                "(%(old)s); perubahan seperti itu berlaku mulai awal periode bayar keduanya "
                "(awal bulan, awal triwulan, atau 1 Januari untuk tarif sekali setahun): "
                "%(date)s.") % {"new": _rate_pace_text(rate), "old": _rate_pace_text(before),
                                "date": f"{min(starts):%d-%m-%Y}"}})
    paid = (PayoutLine.objects.filter(role=rate.role, component=rate.component,
                                      funding_source=rate.funding_source,
                                      period__gte=min(starts), run__status__in=CHECKED)
            .order_by("-period").values_list("period", flat=True).first())
    if paid is not None:
        raise ValidationError({"valid_from": _(
            "Periode %(period)s sudah diverifikasi atau disetujui dengan tarif lama; tarif baru "
            "tidak dapat berlaku surut ke periode yang sudah dibayar. Tanggal mulai paling awal "
            "sesudah periode itu; kekurangan periode lalu dibayar dengan penyesuaian.")
            % {"period": f"{paid:%m-%Y}"}})


def _rate_pace_text(rate: Rate) -> str:
    if rate.unit == "per_bulan":
        return str(rate.get_unit_display())
    text = f"{rate.get_unit_display()}, {rate.get_schedule_display()}"
    return text + (f" ({rate.schedule_month})" if rate.schedule == "sekali" else "")


def _rate_plan_key(period: datetime.date, kind: tuple):
    """What the lines of one rate kind (role, component, funding source) in the run of
    ``period`` take from the rates: the governing rate (amount, tax, report rule, legal basis)
    and the plan — window, rule and every rate's part with its dates and base. Equal keys,
    equal lines; a rate's end date alone (a March that a rate from July closes) changes
    nothing."""
    month_last = calculations.month_window(period.year, period.month).last
    in_force = _rates_for(calculations.year_window(period.year).first, month_last,
                          kind=kind).get(kind)
    if not in_force:
        return None
    plan = calculations.plan_component([_terms(r) for r in in_force], year=period.year,
                                       month=period.month)
    if plan is None:
        return None
    return (in_force[-1].pk, plan.window, plan.rule, plan.base_amount,
            tuple((p.rate.label, p.rate.unit, p.rate.schedule, p.rate.withhold_tax, p.first,
                   p.last, p.base) for p in plan.parts))


def _mark_stale(runs: list[PayoutRun], before: dict, rate: Rate, *, actor) -> None:
    """Mark the runs not yet approved whose lines of the rate's kind the new rate changes: they
    are recomputed before they are verified or approved (``_refuse_if_stale``). Not recomputed
    here: a recompute behind the checker's back would change the figures being read and drop
    who computed the run (maker-checker). A verified run is sent back to ``dihitung`` (its
    verification cleared, one audit entry on the run naming the rate): the normal door
    recomputes it, and it is verified again — approving the amounts of the old rate is never
    possible. (A rate never starts inside a verified window, ``_check_rate_start``; it changes
    a verified run only by ending a yearly rate there, whose last window then pays its rest.)"""
    kind = (rate.role, rate.component, rate.funding_source)
    reason = _("tarif %(rate)s berlaku mulai %(date)s (%(basis)s) ditambahkan sesudah "
               "perhitungan ini dihitung.") % {
        "rate": str(rate), "date": format_tanggal(rate.valid_from), "basis": rate.legal_basis}
    for run in runs:
        if _rate_plan_key(run.period, kind) != before[run.pk]:
            _stale(run, reason, actor=actor, cause={"rate": rate.pk})


@transaction.atomic
def rate_create(*, actor, **fields) -> Rate:
    """A new rate. The one in force is closed the day before, never edited in place. A run
    computed or verified but not yet approved whose amounts the rate changes is marked stale
    (recompute it; a verified one goes back to ``dihitung`` with an audit entry, and is
    verified again after the recompute); an approved or paid run never changes: a rate
    starting inside a verified, approved or paid window is refused (``_check_rate_start``),
    and a yearly rate's rest owed in an approved last window is paid as a ``sisa_tahunan``
    line in the next run computed. Under the computation lock and the lock of every run of
    the rate's year not yet approved: a run computed or verified at this moment is marked
    after it commits, or reads the new rate."""
    _require_perm(actor, "incentives.add_rate", _("Anda tidak berwenang menambah tarif."))
    rate = Rate(**fields)
    rate.full_clean(validate_constraints=False)
    if rate.schedule == "sekali" and not rate.schedule_month:
        raise ValidationError({"schedule_month": _("Bulan bayar (1–12) wajib diisi untuk "
                                                   "jadwal sekali setahun.")})
    _serialise_rates(rate)
    _serialise_computations()
    open_runs = list(PayoutRun.objects.select_for_update().filter(
        status__in=WAITING, period__gte=rate.valid_from.replace(month=1, day=1)).order_by("pk"))
    _check_rate_start(rate)
    kind = (rate.role, rate.component, rate.funding_source)
    before = {run.pk: _rate_plan_key(run.period, kind) for run in open_runs}
    previous = (Rate.objects.select_for_update()
                .filter(role=rate.role, component=rate.component,
                        funding_source=rate.funding_source, valid_from__lt=rate.valid_from)
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=rate.valid_from)))
    for old in previous:
        old.valid_to = rate.valid_from - datetime.timedelta(days=1)
        old.save(update_fields=["valid_to"])
    if Rate.objects.filter(role=rate.role, component=rate.component,
                           funding_source=rate.funding_source,
                           valid_from__gte=rate.valid_from).exists():
        raise ValidationError({"valid_from": _(
            "Sudah ada tarif %(rate)s (%(source)s) yang berlaku mulai tanggal ini atau "
            "sesudahnya; tanggal mulai tarif baru harus sesudah tarif terakhir.")
            % {"rate": f"{rate.get_role_display()} — {rate.get_component_display()}",
               "source": rate.get_funding_source_display()}})
    rate.save()
    _mark_stale(open_runs, before, rate, actor=actor)
    return rate


CEILING_FIELDS = {"year", "component", "funding_source", "amount", "legal_basis"}


@transaction.atomic
def ceiling_save(*, actor, ceiling: BudgetCeiling | None = None, **fields) -> BudgetCeiling:
    """Create (``ceiling=None``) or change a pagu. One pagu per year × component × funding
    source: a second one is refused naming those fields."""
    perm = "incentives.change_budgetceiling" if ceiling else "incentives.add_budgetceiling"
    _require_perm(actor, perm, _("Anda tidak berwenang mengubah pagu anggaran."))
    ceiling = locked(ceiling) if ceiling else BudgetCeiling()
    years = {ceiling.year} if ceiling.pk else set()
    assign_fields(ceiling, fields, CEILING_FIELDS)
    ceiling.full_clean()
    ceiling.save()
    _refresh_ceilings(*years, ceiling.year)
    return ceiling


@transaction.atomic
def ceiling_delete(*, actor, ceiling: BudgetCeiling) -> None:
    _require_perm(actor, "incentives.delete_budgetceiling",
                  _("Anda tidak berwenang menghapus pagu anggaran."))
    delete_or_refuse(ceiling)
    _refresh_ceilings(ceiling.year)


# --- reports to finance -----------------------------------------------------------------------

MAILED_DOCUMENTS = ("nominatif-xlsx", "nominatif-pdf", "bank-csv")


def run_reports_send(*, run_id: int) -> bool:
    """Email the run's documents to FINANCE_REPORT_EMAILS once (idempotent: reports_sent_at is
    set in the same transaction as the check, under the run lock). The documents are the
    stored files the document task makes (made here first, outside the lock, when not made
    yet), attached as they are. Subject and body are the templates
    ``incentives/email/run_reports_*.txt``, in Indonesian. Sending writes one ACCESS entry
    naming the run, the documents and the recipients. False when nothing was sent."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    from incentives import reports

    run = PayoutRun.objects.get(pk=run_id)
    if run.status not in SPENT or run.reports_sent_at or not settings.FINANCE_REPORT_EMAILS:
        return False
    documents = [document_ready(run=run, kind=kind) for kind in MAILED_DOCUMENTS]
    with transaction.atomic():
        run = _locked_run(run_id)
        if run.status not in SPENT or run.reports_sent_at:
            return False
        approver = run.approved_by
        name = approver.get_full_name() or approver.username
        with translation.override(settings.LANGUAGE_CODE):
            if approver.nip:
                name = _("%(name)s (NIP %(nip)s)") % {"name": name, "nip": approver.nip}
            context = {
                "run": run, "period": reports.period_label(run), "label": f"{run.period:%Y-%m}",
                "approved": run.status == RunStatus.DISETUJUI, "approver": name,
                "link": settings.SITE_URL + reverse("incentives:run-detail", args=[run.pk]),
                "data": reports.nominatif_data(run), "bank": documents[-1].control,
            }
            subject = render_to_string("incentives/email/run_reports_subject.txt", context)
            body = render_to_string("incentives/email/run_reports_body.txt", context)
        message = EmailMessage(subject=" ".join(subject.split()), body=body,
                               to=settings.FINANCE_REPORT_EMAILS)
        for document in documents:
            with document.file.open("rb") as stored:
                message.attach(document.filename, stored.read(),
                               document.content_type.split(";")[0])
        message.send()
        # the documents leave the system with whole account numbers: a read by the system (a
        # task: no actor) naming the recipients, as handing them out on a page is logged
        audit.log_read(PayoutLine, what="surel", query={
            "run": run.pk, "kind": ", ".join(MAILED_DOCUMENTS), "masked": False,
            "to": ", ".join(settings.FINANCE_REPORT_EMAILS)})
        run.reports_sent_at = timezone.now()
        run.save(update_fields=["reports_sent_at"])
    return True


# --- documents made in the background ---------------------------------------------------------

def _run_fingerprint(run: PayoutRun) -> str:
    import hashlib
    import json

    state = [run.status, run.computed_at, run.verified_at, run.approved_at, run.paid_at,
             run.summary]
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


@transaction.atomic
def document_request(*, actor, run: PayoutRun, kind: str) -> RunDocument:
    """The document ``kind`` of the run as it is now: an existing one (ready or being made) or
    a new one, made by the ``incentives.render_run_document`` task after commit. Every door
    (staff page, admin, API) asks here: the bank file of a run not approved is refused
    (``reports.NotApproved``, answered 409). A document is made per version of the run
    (``_run_fingerprint``: status and dates), so the draft Daftar Nominatif made before the
    approval is never served after it."""
    from incentives import reports
    from incentives.tasks import render_run_document

    if kind not in reports.REPORT_KINDS:
        raise reports.unknown_kind(kind)
    masked = not sees_identifiers(actor, PayoutLine)
    if masked and kind not in reports.masked_kinds():
        raise PermissionDenied(_("%(label)s memuat nomor rekening utuh: hanya untuk peran yang "
                                 "melihat rekening utuh (Keuangan).")
                               % {"label": reports.REPORT_LABELS[kind]})
    reports.check_available(run, kind)  # no bank file before the approval (NotApproved)
    document, created = RunDocument.objects.get_or_create(
        run=run, kind=kind, fingerprint=_run_fingerprint(run), masked=masked,
        defaults={"requested_by": actor if getattr(actor, "pk", None) else None})
    if created or document.status == RunDocument.Status.FAILED:
        if not created:
            document.status, document.error = RunDocument.Status.PENDING, ""
            document.save(update_fields=["status", "error"])
        render_run_document.delay_on_commit(document.pk)
    elif document.status == RunDocument.Status.READY:  # the caller hands the file out now
        audit.log_read(PayoutLine, what="dokumen",
                       query={"run": run.pk, "kind": kind, "masked": masked})
    return document


def document_ready(*, run: PayoutRun, kind: str) -> RunDocument:
    """The stored document ``kind`` of the run as it is now, made here when it is not ready
    (for work that already runs in a Celery task, e.g. the finance e-mail)."""
    document, _created = RunDocument.objects.get_or_create(
        run=run, kind=kind, fingerprint=_run_fingerprint(run), masked=False)
    if document.status == RunDocument.Status.READY:
        return document
    return document_render(document_id=document.pk)


def document_render(*, document_id: int) -> RunDocument:
    """Make the document into the default storage (a temporary file first, so memory stays
    flat for the PDF); idempotent: a ready document is left as it is."""
    import tempfile

    from django.core.files import File

    from incentives import reports

    document = RunDocument.objects.select_related("run").get(pk=document_id)
    if document.status == RunDocument.Status.READY:
        return document
    with tempfile.TemporaryFile() as out:
        filename, content_type, control = reports.write_document(
            document.run, document.kind, out, masked=document.masked)
        out.seek(0)
        document.file.save(filename, File(out), save=False)
    document.filename, document.content_type, document.control = filename, content_type, control
    document.status, document.finished_at = RunDocument.Status.READY, timezone.now()
    document.save()
    return document


def document_fail(*, document_id: int, error: str) -> None:
    RunDocument.objects.filter(pk=document_id).update(
        status=RunDocument.Status.FAILED, error=error[:2000], finished_at=timezone.now())
