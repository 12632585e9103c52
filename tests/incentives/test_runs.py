"""Monthly payout runs through incentives/services.py with the rates seeded by migration 0002:
lines and their explanation, held lines and arrears (rapel), recomputing, rate changes,
maker-checker, immutability of approved runs, adjustments, the budget ceiling, the database
constraints, and (on PostgreSQL) concurrent and crashed computations."""

import datetime
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from dinsos import roles
from incentives import services
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate
from psks.models import ActivityReport, Assignment
from tests.factories import PayoutLineFactory, PayoutRunFactory, UserFactory, WorkerFactory
from tests.helpers import postgres_only
from tests.incentives.factories import (
    OCT,
    accept_reports,
    approve,
    grant,
    lines_of,
    pendamping,
    tksk,
    unverified_account,
    verify_account,
)

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
SEP, NOV, DEC, JAN27 = D(2026, 9, 1), D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1)
MONTHS_2026 = [D(2026, m, 1) for m in range(1, 13)]
TKSK_RATE = "Tenaga Kesejahteraan Sosial Kecamatan (TKSK) — Insentif bulanan Rp1.000.000 per bulan"
TKSK_OPS = ("Tenaga Kesejahteraan Sosial Kecamatan (TKSK) — Dana operasional tahunan Rp1.000.000 "
            "per tahun")


def compute(actor, period=OCT) -> PayoutRun:
    return services.run_compute(actor=actor, period=period)


def rows(run, **filters) -> list[tuple]:
    """(component, kind, gross, tax, net, status, hold reason) per line, by worker/component."""
    return [(line.component, line.kind, line.gross_amount, line.tax_amount, line.net_amount,
             line.status, line.hold_reason) for line in lines_of(run, **filters)]


def totals(run) -> dict:
    s = run.summary
    return {"lines": s["lines"], "payable": s["payable"], "held": s["held"],
            "gross": RP(s["gross_payable"]), "tax": RP(s["tax_payable"]),
            "net": RP(s["net_payable"])}


def fingerprint(run) -> Counter:
    return Counter((line.worker_id, line.component, line.kind, line.period, line.gross_amount,
                    line.net_amount, line.status) for line in PayoutLine.objects.filter(run=run))


# --- the seeded rates, one TKSK, one month ------------------------------------------------------

def test_tksk_full_month_gets_one_incentive_and_one_operational_line(keuangan):
    worker = tksk(name="Dede Kurnia")
    account = worker.bank_accounts.get()
    decree = worker.assignments.get().decree_number
    run = compute(keuangan)

    assert (run.period, run.status, run.computed_by) == (OCT, "dihitung", keuangan)
    assert rows(run) == [
        # 1.000.000 per month, full October
        ("insentif", "reguler", RP("1000000"), 0, RP("1000000"), "dibayarkan", ""),
        # 1.000.000 per year in twelfths: 83.333 in October
        ("operasional", "reguler", RP("83333"), 0, RP("83333"), "dibayarkan", ""),
    ]
    incentive, operational = lines_of(run)
    assert (incentive.rate.role, incentive.rate_amount, incentive.unit, incentive.base_amount,
            incentive.days_active, incentive.days_in_window, incentive.factor,
            incentive.schedule_rule, incentive.funding_source) == (
        "tksk", RP("1000000"), "per_bulan", RP("1000000"), 31, 31, RP("1.0000"),
        "bulanan: tarif × hari aktif / hari dalam bulan", "apbd_provinsi")
    assert (operational.rate_amount, operational.unit, operational.base_amount,
            operational.days_active, operational.days_in_window, operational.factor,
            operational.schedule_rule) == (
        RP("1000000"), "per_tahun", RP("83333"), 31, 31, RP("1.0000"),
        "tahunan dibagi 12 (sisa di Desember) × hari aktif / hari dalam bulan")
    for line in (incentive, operational):
        assert (line.worker, line.role, line.period, line.area_id) == (
            worker, "tksk", OCT, worker.desa_id[:8])
        assert (line.bank_account, line.bank_name, line.account_number,
                line.account_holder) == (account, "Bank Banten", account.account_number,
                                         "Dede Kurnia")
        assert line.explanation["window"] == ["2026-10-01", "2026-10-31"]
        assert line.explanation["periods"] == [["2025-01-02", "2029-12-31"]]
        assert line.explanation["decrees"] == [decree]
        assert line.explanation["hold_reasons"] == []
        assert line.explanation["tax_rule"] == "tidak dipotong"
        assert line.explanation["legal_basis"].startswith("Insentif dan dana operasional PSKS")
    assert incentive.explanation["rate"] == TKSK_RATE
    assert operational.explanation["rate"] == TKSK_OPS
    assert totals(run) == {"lines": 2, "payable": 2, "held": 0, "gross": RP("1083333"),
                           "tax": 0, "net": RP("1083333")}


def test_december_operational_part_takes_the_remainder(keuangan):
    tksk(reports=(DEC,))
    run = compute(keuangan, DEC)
    # 1.000.000 − 11 × 83.333 = 83.337
    assert [(c, g) for c, _k, g, *_ in rows(run)] == [("insentif", RP("1000000")),
                                                     ("operasional", RP("83337"))]


def test_partial_month_is_prorated_in_the_run(keuangan):
    tksk(start=D(2026, 10, 16), reports=(OCT,))
    run = compute(keuangan)
    # 16 of 31 days: 1.000.000 × 16/31 = 516.129,03 → 516.129;
    # 83.333 × 16/31 = 43.010,58 → 43.011
    assert [(c, g) for c, _k, g, *_ in rows(run)] == [("insentif", RP("516129")),
                                                     ("operasional", RP("43011"))]
    assert [(line.days_active, line.factor) for line in lines_of(run)] == [
        (16, RP("0.5161")), (16, RP("0.5161"))]


def test_workers_not_active_in_the_month_get_no_lines(keuangan):
    tksk(start=D(2026, 11, 1))
    tksk(start=D(2025, 1, 2), end=D(2026, 9, 30))
    WorkerFactory()  # no assignment at all
    pendamping("psm")  # a role without a rate
    run = compute(keuangan)
    assert lines_of(run) == []
    assert totals(run)["lines"] == 0


def test_twelve_computed_months_sum_to_the_yearly_amounts():
    workers = {
        "tksk": tksk(reports=MONTHS_2026),
        "pendamping_jamsosratu": pendamping("pendamping_jamsosratu", reports=MONTHS_2026),
        "pendamping_pkh": pendamping("pendamping_pkh", reports=MONTHS_2026),
    }
    for period in MONTHS_2026:
        compute(None, period)
    paid = Counter()
    count = Counter()
    for line in PayoutLine.objects.filter(period__year=2026, status="dibayarkan"):
        paid[(line.role, line.component, line.funding_source)] += line.gross_amount
        count[(line.role, line.component, line.funding_source)] += 1
    assert paid == {
        ("tksk", "insentif", "apbd_provinsi"): RP("12000000"),  # 12 × 1.000.000
        ("tksk", "operasional", "apbd_provinsi"): RP("1000000"),
        ("pendamping_jamsosratu", "insentif", "apbd_provinsi"): RP("18000000"),  # 12 × 1.500.000
        ("pendamping_jamsosratu", "operasional", "apbd_provinsi"): RP("2000000"),
        ("pendamping_pkh", "operasional", "apbd_provinsi"): RP("2000000"),  # 4 × 500.000
    }
    assert count[("pendamping_pkh", "operasional", "apbd_provinsi")] == 4
    assert not PayoutLine.objects.filter(funding_source="apbn").exists()  # Kemensos pays that
    pkh_periods = sorted(PayoutLine.objects.filter(worker=workers["pendamping_pkh"])
                         .values_list("period__month", flat=True))
    assert pkh_periods == [3, 6, 9, 12]
    december = PayoutLine.objects.get(worker=workers["pendamping_jamsosratu"],
                                      component="operasional", period=DEC)
    assert december.gross_amount == RP("166674")  # 2.000.000 − 11 × 166.666


# --- held lines -------------------------------------------------------------------------------

def test_no_verified_account_holds_every_line(keuangan):
    worker = tksk(account=False)
    unverified_account(worker)
    run = compute(keuangan)
    assert rows(run) == [
        ("insentif", "reguler", RP("1000000"), 0, RP("1000000"), "ditahan", "tanpa_rekening"),
        ("operasional", "reguler", RP("83333"), 0, RP("83333"), "ditahan", "tanpa_rekening"),
    ]
    assert {(line.bank_account, line.account_number) for line in lines_of(run)} == {(None, "")}
    assert totals(run) == {"lines": 2, "payable": 0, "held": 2, "gross": 0, "tax": 0, "net": 0}


def test_account_verified_but_in_force_only_after_the_month_holds(keuangan):
    worker = tksk(account=False)
    verify_account(unverified_account(worker), effective_from=D(2026, 11, 1))
    run = compute(keuangan)
    assert {line.hold_reason for line in lines_of(run)} == {"tanpa_rekening"}


@pytest.mark.parametrize("report_status", [None, "draft", "diajukan", "ditolak"])
def test_report_not_accepted_holds_only_the_monthly_incentive(keuangan, report_status):
    worker = tksk(reports=(SEP,))  # September's report is accepted; it does not count
    if report_status:
        accept_reports(worker, OCT, status=report_status)
    run = compute(keuangan)
    assert [(c, s, r) for c, _k, _g, _t, _n, s, r in rows(run)] == [
        ("insentif", "ditahan", "laporan_belum_diterima"),
        ("operasional", "dibayarkan", ""),
    ]


def test_nonaktif_worker_is_held(keuangan):
    tksk(status="nonaktif", status_date=D(2026, 10, 1), status_reason="Diskors 3 bulan")
    run = compute(keuangan)
    assert [(c, s, r) for c, _k, _g, _t, _n, s, r in rows(run)] == [
        ("insentif", "ditahan", "tenaga_nonaktif"),
        ("operasional", "ditahan", "tenaga_nonaktif"),
    ]


def test_every_hold_reason_is_explained_the_first_is_the_line_reason(keuangan):
    tksk(account=False, reports=(), status="nonaktif", status_date=D(2026, 10, 1),
         status_reason="Diskors")
    incentive, operational = lines_of(compute(keuangan))
    assert incentive.hold_reason == "tanpa_rekening"
    assert incentive.explanation["hold_reasons"] == [
        "tanpa_rekening", "laporan_belum_diterima", "tenaga_nonaktif"]
    assert operational.explanation["hold_reasons"] == ["tanpa_rekening", "tenaga_nonaktif"]


# --- arrears (rapel) --------------------------------------------------------------------------

def test_held_line_is_paid_once_as_arrears_after_the_account_is_verified(keuangan, keuangan_b,
                                                                        pimpinan):
    worker = tksk(account=False, reports=(OCT, NOV, DEC, JAN27))
    account = unverified_account(worker)
    october = compute(keuangan, OCT)
    held = {line.component: line for line in lines_of(october)}
    approve(october, verifier=keuangan_b, approver=pimpinan)

    verify_account(account, effective_from=D(2026, 11, 5))
    november = compute(keuangan, NOV)
    assert rows(november, kind="rapel") == [
        ("insentif", "rapel", RP("1000000"), 0, RP("1000000"), "dibayarkan", ""),
        ("operasional", "rapel", RP("83333"), 0, RP("83333"), "dibayarkan", ""),
    ]
    arrears = lines_of(november, kind="rapel")
    assert [(a.arrears_of, a.period, a.bank_account) for a in arrears] == [
        (held["insentif"], OCT, account), (held["operasional"], OCT, account)]
    assert arrears[0].note == "Rapel 2026-10 (sebelumnya ditahan: Belum ada rekening terverifikasi)"
    assert arrears[0].explanation["arrears_of"] == held["insentif"].pk
    assert len(rows(november, kind="reguler")) == 2  # November itself, payable
    assert totals(november)["net"] == RP("2166666")  # 2 × (1.000.000 + 83.333)

    november = compute(keuangan, NOV)  # recomputed: the arrears are replaced, not added
    assert len(lines_of(november, kind="rapel")) == 2
    approve(november, verifier=keuangan_b, approver=pimpinan)
    assert lines_of(compute(keuangan, DEC), kind="rapel") == []
    assert lines_of(compute(keuangan, JAN27), kind="rapel") == []
    assert PayoutLine.objects.filter(kind="rapel").count() == 2
    for line in held.values():  # the held lines themselves never change
        line.refresh_from_db()
        assert (line.status, line.hold_reason, line.run) == ("ditahan", "tanpa_rekening",
                                                             october)


def test_held_report_line_is_paid_as_arrears_once_the_report_is_accepted(keuangan, keuangan_b,
                                                                         pimpinan):
    worker = tksk(reports=(NOV,))
    report = accept_reports(worker, OCT, status="diajukan")[0]
    october = compute(keuangan, OCT)
    approve(october, verifier=keuangan_b, approver=pimpinan)
    ActivityReport.objects.filter(pk=report.pk).update(status="diterima")
    november = compute(keuangan, NOV)
    assert rows(november, kind="rapel") == [
        ("insentif", "rapel", RP("1000000"), 0, RP("1000000"), "dibayarkan", "")]
    assert lines_of(november, kind="rapel")[0].note == (
        "Rapel 2026-10 (sebelumnya ditahan: Laporan bulanan belum diterima)")


def test_no_arrears_while_the_reason_lasts_or_the_run_is_not_approved(keuangan, keuangan_b,
                                                                      pimpinan):
    worker = tksk(account=False, reports=(OCT, NOV, DEC))
    account = unverified_account(worker)
    october = compute(keuangan, OCT)
    assert lines_of(compute(keuangan, NOV), kind="rapel") == []  # October not approved yet
    approve(october, verifier=keuangan_b, approver=pimpinan)
    assert lines_of(compute(keuangan, NOV), kind="rapel") == []  # still no account
    verify_account(account, effective_from=D(2026, 12, 1))
    assert lines_of(compute(keuangan, NOV), kind="rapel") == []  # in force only in December
    assert len(lines_of(compute(keuangan, DEC), kind="rapel")) == 2


def test_suspended_worker_reactivated_gets_arrears(keuangan, keuangan_b, pimpinan):
    worker = tksk(reports=(OCT, NOV), status="nonaktif", status_date=D(2026, 10, 1),
                  status_reason="Diskors")
    october = compute(keuangan, OCT)
    approve(october, verifier=keuangan_b, approver=pimpinan)
    worker.status = "aktif"
    worker.save()
    assert len(lines_of(compute(keuangan, NOV), kind="rapel")) == 2


# --- recomputing a draft ----------------------------------------------------------------------

def test_recompute_replaces_regular_lines_and_keeps_adjustments(keuangan, keuangan_b, pimpinan):
    asep = tksk(name="Asep", reports=(SEP, OCT))
    september = compute(keuangan, SEP)
    approve(september, verifier=keuangan_b, approver=pimpinan)
    corrected = PayoutLine.objects.get(run=september, component="insentif")

    october = compute(keuangan, OCT)
    adjustment = services.adjustment_add(actor=keuangan, run=october, corrects=corrected,
                                         amount=RP("250000"), reason="Kurang bayar September")
    before = set(PayoutLine.objects.filter(run=october, kind="reguler")
                 .values_list("pk", flat=True))

    budi = tksk(name="Budi", reports=(OCT,))
    Assignment.objects.filter(worker=asep).update(end_date=D(2026, 10, 15))
    october = compute(keuangan, OCT)

    got = sorted((line.worker.name, line.component, line.kind, line.gross_amount)
                 for line in PayoutLine.objects.filter(run=october))
    assert got == [
        # Asep until 15 October: 1.000.000 × 15/31 = 483.870,97 → 483.871;
        # 83.333 × 15/31 = 40.322,42 → 40.322
        ("Asep", "insentif", "penyesuaian", RP("250000")),
        ("Asep", "insentif", "reguler", RP("483871")),
        ("Asep", "operasional", "reguler", RP("40322")),
        ("Budi", "insentif", "reguler", RP("1000000")),
        ("Budi", "operasional", "reguler", RP("83333")),
    ]
    after = set(PayoutLine.objects.filter(run=october, kind="reguler").values_list("pk", flat=True))
    assert before.isdisjoint(after)
    adjustment.refresh_from_db()
    assert (adjustment.run, adjustment.corrects) == (october, corrected)
    assert budi.payout_lines.count() == 2
    # 483.871 + 40.322 + 1.000.000 + 83.333 + 250.000
    assert totals(october) == {"lines": 5, "payable": 5, "held": 0, "gross": RP("1857526"),
                               "tax": 0, "net": RP("1857526")}


def test_recompute_of_an_unchanged_draft_gives_the_same_lines(keuangan):
    for _ in range(3):
        tksk()
    first = compute(keuangan)
    snapshot, summary = fingerprint(first), first.summary
    second = compute(keuangan)
    assert second.pk == first.pk
    assert fingerprint(second) == snapshot
    assert second.summary == summary


# --- rates ------------------------------------------------------------------------------------

def new_tksk_rate(actor, amount="1250000", valid_from=NOV, **fields):
    return services.rate_create(
        actor=actor, role="tksk", component="insentif", amount=RP(amount), unit="per_bulan",
        schedule="bulanan", funding_source="apbd_provinsi", requires_report=True,
        valid_from=valid_from, legal_basis="Pergub Banten (uji) 2026", **fields)


def test_rate_change_never_alters_a_computed_or_approved_run(keuangan, keuangan_b, pimpinan):
    tksk(reports=(SEP, OCT, NOV))
    old_rate = Rate.objects.get(role="tksk", component="insentif", funding_source="apbd_provinsi")
    september = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    october = compute(keuangan, OCT)  # computed, not approved
    before = {run.pk: (fingerprint(run), run.summary) for run in (september, october)}

    rate = new_tksk_rate(keuangan)
    old_rate.refresh_from_db()
    assert (old_rate.valid_from, old_rate.valid_to) == (D(2015, 1, 1), D(2026, 10, 31))
    for run in (september, october):
        run.refresh_from_db()
        assert (fingerprint(run), run.summary) == before[run.pk]
        line = PayoutLine.objects.get(run=run, component="insentif")
        assert (line.rate, line.rate_amount) == (old_rate, RP("1000000"))

    october = compute(keuangan, OCT)  # a recomputed October draft: still the old rate
    assert PayoutLine.objects.get(run=october, component="insentif").gross_amount == RP("1000000")
    november = compute(keuangan, NOV)
    line = PayoutLine.objects.get(run=november, component="insentif")
    assert (line.rate, line.rate_amount, line.gross_amount) == (rate, RP("1250000"),
                                                                RP("1250000"))
    with pytest.raises(ValidationError):
        compute(keuangan, SEP)  # approved


def test_rate_create_refuses_a_start_not_after_the_latest(keuangan):
    new_tksk_rate(keuangan)
    with pytest.raises(ValidationError) as exc:
        new_tksk_rate(keuangan, amount="1300000", valid_from=D(2026, 10, 1))
    assert "valid_from" in exc.value.message_dict
    assert Rate.objects.filter(role="tksk", component="insentif").count() == 2
    assert Rate.objects.get(role="tksk", component="insentif",
                            valid_from=D(2015, 1, 1)).valid_to == D(2026, 10, 31)


def test_rate_create_needs_permission(pimpinan):
    with pytest.raises(PermissionDenied):
        new_tksk_rate(pimpinan)


def test_withheld_tax_in_a_run(keuangan):
    """A rate with withhold_tax: 2.5 % with NPWP, 3 % without."""
    new_tksk_rate(keuangan, amount="1000000", valid_from=D(2026, 1, 1), withhold_tax=True)
    tksk(name="Ani", npwp="012345678901234")
    tksk(name="Budi", npwp="")
    run = compute(keuangan)
    got = sorted((line.worker.name, line.component, line.gross_amount, line.tax_amount,
                  line.net_amount) for line in lines_of(run))
    assert got == [
        ("Ani", "insentif", RP("1000000"), RP("25000"), RP("975000")),
        ("Ani", "operasional", RP("83333"), 0, RP("83333")),
        ("Budi", "insentif", RP("1000000"), RP("30000"), RP("970000")),
        ("Budi", "operasional", RP("83333"), 0, RP("83333")),
    ]
    assert (totals(run)["tax"], totals(run)["net"]) == (RP("55000"), RP("2111666"))


def test_a_rate_that_ended_before_the_month_is_not_applied(keuangan):
    tksk()
    Rate.objects.filter(role="tksk", component="insentif").update(valid_to=D(2026, 6, 30))
    run = compute(keuangan)
    assert [line.component for line in lines_of(run)] == ["operasional"]


def test_a_zero_rate_gives_no_lines_and_no_zero_transfer(keuangan):
    from incentives import reports

    worker = pendamping("pendamping_pkh", reports=())
    services.rate_create(actor=keuangan, role="pendamping_pkh", component="operasional",
                         amount=RP("0"), unit="per_tahun", schedule="triwulanan",
                         funding_source="apbd_provinsi", valid_from=D(2026, 7, 1),
                         legal_basis="Dihentikan (uji)")
    run = compute(keuangan, DEC)
    _text, count, _total = reports.bank_file(run)
    assert (PayoutLine.objects.filter(worker=worker).count(), count) == (0, 0)


def test_a_second_funding_source_for_a_component_does_not_crash_the_computation(keuangan):
    tksk()
    services.rate_create(actor=keuangan, role="tksk", component="insentif",
                         amount=RP("1000000"), unit="per_bulan", schedule="bulanan",
                         funding_source="apbd_kab_kota", requires_report=True,
                         valid_from=D(2026, 10, 1), legal_basis="Pindah sumber dana (uji)")
    run = compute(keuangan)
    assert run.status == "dihitung"


# --- maker-checker and roles ------------------------------------------------------------------

def test_the_one_who_computed_cannot_verify(keuangan):
    tksk()
    run = compute(keuangan)
    with pytest.raises(PermissionDenied, match="pemisahan tugas"):
        services.run_verify(actor=keuangan, run=run)
    run.refresh_from_db()
    assert (run.status, run.verified_by) == ("dihitung", None)


def test_the_verifier_cannot_approve(keuangan, make_user):
    """An Admin holds every permission, so only the maker-checker rule stops this."""
    admin = make_user(roles.ADMIN)
    tksk()
    run = services.run_verify(actor=admin, run=compute(keuangan))
    with pytest.raises(PermissionDenied, match="tidak boleh menyetujui"):
        services.run_approve(actor=admin, run=run)
    run.refresh_from_db()
    assert (run.status, run.approved_by) == ("diverifikasi", None)


def test_the_one_who_computed_cannot_approve(make_user, keuangan_b):
    admin = make_user(roles.ADMIN)
    tksk()
    run = services.run_verify(actor=keuangan_b, run=compute(admin))
    with pytest.raises(PermissionDenied):
        services.run_approve(actor=admin, run=run)


@pytest.mark.parametrize(("role", "action"), [
    (roles.OPERATOR_PROVINSI, "compute"),
    (roles.PIMPINAN, "compute"),
    (roles.AUDITOR, "compute"),
    (roles.OPERATOR_PROVINSI, "verify"),
    (roles.PIMPINAN, "verify"),
    (roles.KEUANGAN, "approve"),
    (roles.OPERATOR_PROVINSI, "approve"),
    (roles.PIMPINAN, "mark_paid"),
    (roles.OPERATOR_PROVINSI, "cancel"),
    (roles.PIMPINAN, "cancel"),
])
def test_wrong_roles_are_refused(make_user, keuangan, keuangan_b, role, action):
    user = make_user(role)
    tksk()
    run = compute(keuangan)
    if action in ("approve", "mark_paid"):
        run = services.run_verify(actor=keuangan_b, run=run)
    if action == "mark_paid":
        run = services.run_approve(actor=make_user(roles.PIMPINAN), run=run)
    call = {
        "compute": lambda: compute(user),
        "verify": lambda: services.run_verify(actor=user, run=run),
        "approve": lambda: services.run_approve(actor=user, run=run),
        "mark_paid": lambda: services.run_mark_paid(actor=user, run=run, reference="SP2D-1"),
        "cancel": lambda: services.run_cancel(actor=user, run=run, reason="salah hitung"),
    }[action]
    status = PayoutRun.objects.get(pk=run.pk).status
    with pytest.raises(PermissionDenied):
        call()
    assert PayoutRun.objects.get(pk=run.pk).status == status


def test_full_workflow_records_who_did_what(keuangan, keuangan_b, pimpinan):
    tksk()
    held = tksk(account=False)
    run = compute(keuangan)
    run = services.run_verify(actor=keuangan_b, run=run)
    assert (run.status, run.verified_by) == ("diverifikasi", keuangan_b)
    run = services.run_approve(actor=pimpinan, run=run)
    assert (run.status, run.approved_by, run.ceiling_override_by) == ("disetujui", pimpinan,
                                                                      None)
    first = PayoutLine.objects.filter(run=run, status="dibayarkan").first()
    with pytest.raises(ValidationError):
        services.run_mark_paid(actor=keuangan, run=run, reference="  ")
    run = services.run_mark_paid(actor=keuangan, run=run, reference="SP2D-0042/2026",
                                 line_references={first.pk: "TRF-1"})
    assert (run.status, run.paid_reference) == ("dibayar", "SP2D-0042/2026")
    assert run.paid_at is not None
    refs = Counter(PayoutLine.objects.filter(run=run).values_list("status", "paid_reference"))
    assert refs == {("dibayarkan", "TRF-1"): 1, ("dibayarkan", "SP2D-0042/2026"): 1,
                    ("ditahan", ""): 2}
    assert held.payout_lines.filter(status="ditahan").count() == 2


def test_maker_checker_is_also_a_database_constraint(keuangan):
    tksk()
    run = compute(keuangan)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutRun.objects.filter(pk=run.pk).update(verified_by=keuangan)
    checker = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutRun.objects.filter(pk=run.pk).update(verified_by=checker, approved_by=checker)
    PayoutRun.objects.filter(pk=run.pk).update(verified_by=checker, approved_by=UserFactory())


# --- approved runs are immutable --------------------------------------------------------------

@pytest.mark.parametrize("paid", [False, True])
def test_approved_run_cannot_be_recomputed_or_cancelled(keuangan, keuangan_b, pimpinan, paid):
    tksk()
    run = approve(compute(keuangan), verifier=keuangan_b, approver=pimpinan)
    if paid:
        run = services.run_mark_paid(actor=keuangan, run=run, reference="SP2D-1")
    snapshot = (fingerprint(run), run.summary)
    with pytest.raises(ValidationError, match="tidak dihitung ulang"):
        compute(keuangan)
    with pytest.raises(ValidationError):
        services.run_cancel(actor=keuangan, run=run, reason="batal")
    with pytest.raises(ValidationError):
        services.run_verify(actor=keuangan_b, run=run)
    run.refresh_from_db()
    assert run.status == ("dibayar" if paid else "disetujui")
    assert (fingerprint(run), run.summary) == snapshot
    assert PayoutRun.objects.filter(period=OCT).count() == 1


def test_verified_run_is_not_recomputed_but_can_be_cancelled(keuangan, keuangan_b):
    tksk()
    run = services.run_verify(actor=keuangan_b, run=compute(keuangan))
    with pytest.raises(ValidationError):
        compute(keuangan)
    with pytest.raises(ValidationError):
        services.run_cancel(actor=keuangan, run=run, reason="  ")
    run = services.run_cancel(actor=keuangan, run=run, reason="Data SK salah")
    assert (run.status, run.cancelled_by, run.cancel_reason) == ("dibatalkan", keuangan,
                                                                 "Data SK salah")
    assert not run.lines.exists()
    assert run.summary["cancelled"] is True and run.summary["lines"] == 2
    fresh = compute(keuangan)  # the period can be computed again
    assert fresh.pk != run.pk and fresh.lines.count() == 2


# --- adjustments ------------------------------------------------------------------------------

@pytest.fixture
def september(keuangan, keuangan_b, pimpinan):
    worker = tksk(name="Asep", reports=(SEP, OCT))
    run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    return worker, run


@pytest.mark.parametrize(("amount", "gross"), [("250000", "250000"), ("-83333", "-83333")])
def test_adjustment_lines_in_a_later_open_run(keuangan, september, amount, gross):
    worker, sep_run = september
    corrected = PayoutLine.objects.get(run=sep_run, component="insentif")
    october = compute(keuangan, OCT)
    line = services.adjustment_add(actor=keuangan, run=october, corrects=corrected,
                                   amount=RP(amount), reason="Koreksi September")
    assert (line.run, line.kind, line.corrects, line.period, line.worker, line.component,
            line.gross_amount, line.tax_amount, line.net_amount, line.status) == (
        october, "penyesuaian", corrected, SEP, worker, "insentif", RP(gross), 0, RP(gross),
        "dibayarkan")
    assert (line.note, line.bank_account) == ("Koreksi September",
                                              worker.bank_accounts.get())
    corrected.refresh_from_db()
    assert (corrected.gross_amount, corrected.run) == (RP("1000000"), sep_run)
    october.refresh_from_db()
    # 1.000.000 + 83.333 + adjustment
    assert RP(october.summary["net_payable"]) == RP("1083333") + RP(gross)


def test_adjustment_of_a_taxed_line_withholds_tax_with_the_sign(keuangan, keuangan_b, pimpinan):
    new_tksk_rate(keuangan, amount="1000000", valid_from=D(2026, 1, 1), withhold_tax=True)
    tksk(npwp="012345678901234", reports=(SEP,))
    sep_run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    corrected = PayoutLine.objects.get(run=sep_run, component="insentif")
    october = compute(keuangan, OCT)
    plus = services.adjustment_add(actor=keuangan, run=october, corrects=corrected,
                                   amount=RP("200000"), reason="kurang")
    minus = services.adjustment_add(actor=keuangan, run=october, corrects=corrected,
                                    amount=RP("-200000"), reason="lebih")
    # 200.000 × 2,5 % = 5.000
    assert [(a.gross_amount, a.tax_amount, a.net_amount) for a in (plus, minus)] == [
        (RP("200000"), RP("5000"), RP("195000")), (RP("-200000"), RP("-5000"), RP("-195000"))]


def test_adjustment_is_refused_against_a_line_of_an_unapproved_run(keuangan):
    tksk(reports=(SEP, OCT))
    sep_run = compute(keuangan, SEP)
    october = compute(keuangan, OCT)
    line = PayoutLine.objects.get(run=sep_run, component="insentif")
    with pytest.raises(ValidationError) as exc:
        services.adjustment_add(actor=keuangan, run=october, corrects=line, amount=RP("1000"),
                                reason="x")
    assert "corrects" in exc.value.message_dict
    assert not PayoutLine.objects.filter(kind="penyesuaian").exists()


def test_adjustment_refusals(keuangan, keuangan_b, pimpinan, september):
    _worker, sep_run = september
    corrected = PayoutLine.objects.get(run=sep_run, component="insentif")
    october = compute(keuangan, OCT)
    with pytest.raises(ValidationError):  # zero
        services.adjustment_add(actor=keuangan, run=october, corrects=corrected,
                                amount=RP("0.4"), reason="x")
    with pytest.raises(ValidationError):  # no reason
        services.adjustment_add(actor=keuangan, run=october, corrects=corrected,
                                amount=RP("1000"), reason=" ")
    with pytest.raises(PermissionDenied):
        services.adjustment_add(actor=pimpinan, run=october, corrects=corrected,
                                amount=RP("1000"), reason="x")
    with pytest.raises(ValidationError):  # into an approved run
        services.adjustment_add(actor=keuangan, run=sep_run, corrects=corrected,
                                amount=RP("1000"), reason="x")
    assert not PayoutLine.objects.filter(kind="penyesuaian").exists()


def test_adjustment_without_account_is_held(keuangan, september):
    worker, sep_run = september
    corrected = PayoutLine.objects.get(run=sep_run, component="insentif")
    worker.bank_accounts.update(effective_from=D(2027, 1, 1))
    line = services.adjustment_add(actor=keuangan, run=compute(keuangan, OCT),
                                   corrects=corrected, amount=RP("1000"), reason="x")
    assert (line.status, line.hold_reason) == ("ditahan", "tanpa_rekening")


# --- budget ceiling (pagu) --------------------------------------------------------------------

def test_ceiling_exceeded_needs_pimpinan_with_a_reason(keuangan, keuangan_b, pimpinan):
    BudgetCeiling.objects.create(year=2026, component="insentif", funding_source="apbd_provinsi",
                                 amount=RP("500000"), legal_basis="DPA uji")
    tksk()
    run = compute(keuangan)
    assert run.ceiling_exceeded is True
    (detail,) = run.ceiling_details
    assert (detail["component"], detail["funding_source"], RP(detail["ceiling"]),
            RP(detail["spent"]), RP(detail["this_run"]), detail["exceeded"]) == (
        "insentif", "apbd_provinsi", RP("500000"), 0, RP("1000000"), True)
    run = services.run_verify(actor=keuangan_b, run=run)

    with pytest.raises(ValidationError) as exc:
        services.run_approve(actor=pimpinan, run=run, override_reason="   ")
    assert "override_reason" in exc.value.message_dict
    approver = grant(UserFactory(), "approve_run")  # may approve, may not override
    with pytest.raises(PermissionDenied, match="melampaui pagu"):
        services.run_approve(actor=approver, run=run, override_reason="perlu dibayar")
    run.refresh_from_db()
    assert (run.status, run.ceiling_override_by) == ("diverifikasi", None)

    run = services.run_approve(actor=pimpinan, run=run,
                               override_reason="  Pergeseran anggaran disetujui  ")
    run.refresh_from_db()
    assert (run.status, run.approved_by, run.ceiling_override_by,
            run.ceiling_override_reason) == ("disetujui", pimpinan, pimpinan,
                                             "Pergeseran anggaran disetujui")


def test_ceiling_counts_what_approved_runs_already_spent(keuangan, keuangan_b, pimpinan):
    BudgetCeiling.objects.create(year=2026, component="insentif", funding_source="apbd_provinsi",
                                 amount=RP("1500000"))
    tksk(reports=(SEP, OCT))
    september = compute(keuangan, SEP)
    assert september.ceiling_exceeded is False
    approve(september, verifier=keuangan_b, approver=pimpinan)
    october = compute(keuangan, OCT)
    (detail,) = october.ceiling_details
    # 1.000.000 spent + 1.000.000 this run > 1.500.000
    assert (RP(detail["spent"]), RP(detail["this_run"]), detail["exceeded"]) == (
        RP("1000000"), RP("1000000"), True)


def test_a_waiting_run_shows_the_pagu_as_it_is_now(keuangan, keuangan_b, pimpinan, make_user):
    """Found by a browser walk: a run computed before another was approved kept the pagu of
    its computation ("sisa" too high by what the other run spent, still "dalam pagu") on its
    page, in the list, the admin and the API; only its own approval looked again."""
    from dinsos import roles

    ceiling = BudgetCeiling.objects.create(year=2026, component="insentif",
                                           funding_source="apbd_provinsi",
                                           amount=RP("1500000"))
    tksk(reports=(SEP, OCT))
    september, october = compute(keuangan, SEP), compute(keuangan, OCT)
    (detail,) = october.ceiling_details
    assert (RP(detail["spent"]), detail["exceeded"]) == (0, False)
    approve(september, verifier=keuangan_b, approver=pimpinan)
    october.refresh_from_db()
    (detail,) = october.ceiling_details
    assert (RP(detail["spent"]), RP(detail["this_run"]), october.ceiling_exceeded) == (
        RP("1000000"), RP("1000000"), True)
    services.ceiling_save(actor=make_user(roles.ADMIN), ceiling=ceiling, year=2026,
                          component="insentif", funding_source="apbd_provinsi",
                          amount=RP("2500000"), legal_basis="DPA perubahan")
    october.refresh_from_db()
    assert (RP(october.ceiling_details[0]["ceiling"]), october.ceiling_exceeded) == (
        RP("2500000"), False)
    september.refresh_from_db()  # an approved run keeps the pagu of its approval
    assert RP(september.ceiling_details[0]["ceiling"]) == RP("1500000")


def test_approval_within_the_ceiling_needs_no_reason(keuangan, keuangan_b):
    BudgetCeiling.objects.create(year=2026, component="insentif", funding_source="apbd_provinsi",
                                 amount=RP("12000000"))
    tksk()
    approver = grant(UserFactory(), "approve_run")
    run = approve(compute(keuangan), verifier=keuangan_b, approver=approver)
    assert (run.status, run.ceiling_exceeded, run.ceiling_override_reason) == (
        "disetujui", False, "")


# --- database constraints ---------------------------------------------------------------------

def test_one_open_run_per_period_is_a_database_constraint():
    PayoutRun.objects.create(period=OCT)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutRun.objects.create(period=OCT)
    PayoutRun.objects.filter(period=OCT).update(status="dibatalkan")
    PayoutRun.objects.create(period=OCT)  # a cancelled run does not count
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutRun.objects.create(period=D(2026, 10, 2))  # the first day of a month only


def test_one_regular_line_per_worker_component_period_is_a_database_constraint():
    run = PayoutRunFactory(period=OCT)
    worker = WorkerFactory()
    first = PayoutLineFactory(run=run, worker=worker)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLineFactory(run=run, worker=worker)
    other = PayoutRunFactory(period=NOV)
    with pytest.raises(IntegrityError), transaction.atomic():
        PayoutLineFactory(run=other, worker=worker, period=OCT)  # October again, other run
    PayoutLineFactory(run=run, worker=worker, component="operasional")
    PayoutLineFactory(run=other, worker=worker, period=OCT, kind="rapel", arrears_of=first)
    with pytest.raises(IntegrityError), transaction.atomic():  # arrears of one line only once
        PayoutLineFactory(run=other, worker=worker, period=OCT, kind="rapel", arrears_of=first)
    PayoutLineFactory(run=other, worker=worker, kind="potongan", recovers=first)
    with pytest.raises(IntegrityError), transaction.atomic():  # a balance recovered only once
        PayoutLineFactory(run=other, worker=worker, kind="potongan", recovers=first)
    with pytest.raises(IntegrityError), transaction.atomic():  # net = gross − tax
        PayoutLineFactory(run=other, worker=worker, kind="penyesuaian", corrects=first,
                          gross_amount=100, tax_amount=0, net_amount=90)


# --- crashes and concurrency ------------------------------------------------------------------

def crash_after_insert(monkeypatch):
    """The worker dies once the new lines are written (set-based on PostgreSQL, in Python on
    SQLite: both end with the balancing lines), before the run is saved."""
    real = services._settle_balances

    def crashing(run):
        real(run)
        assert PayoutLine.objects.filter(run=run).exists()  # the lines were written
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "_settle_balances", crashing)


def test_a_crash_mid_computation_leaves_nothing_and_a_rerun_is_clean(monkeypatch, keuangan):
    for _ in range(3):
        tksk()
    tksk(account=False)
    crash_after_insert(monkeypatch)
    with pytest.raises(RuntimeError):
        compute(keuangan)
    assert (PayoutRun.objects.count(), PayoutLine.objects.count()) == (0, 0)
    monkeypatch.undo()
    run = compute(keuangan)
    # 3 × (1.000.000 + 83.333) payable, 2 lines held
    assert totals(run) == {"lines": 8, "payable": 6, "held": 2, "gross": RP("3249999"),
                           "tax": 0, "net": RP("3249999")}


def test_a_crash_during_recompute_keeps_the_previous_lines(monkeypatch, keuangan):
    tksk()
    run = compute(keuangan)
    snapshot = (fingerprint(run), run.summary, set(run.lines.values_list("pk", flat=True)))
    tksk()
    crash_after_insert(monkeypatch)
    with pytest.raises(RuntimeError):
        compute(keuangan)
    run.refresh_from_db()
    assert (fingerprint(run), run.summary, set(run.lines.values_list("pk", flat=True))) == \
        snapshot


def _race(*calls) -> dict[str, list]:
    barrier = threading.Barrier(len(calls))
    outcome: dict[str, list] = {"ok": [], "error": []}

    def run(call):
        try:
            barrier.wait(timeout=10)
            outcome["ok"].append(call())
        except Exception as exc:  # noqa: BLE001 - asserted empty by the caller
            outcome["error"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcome


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_approvals_of_one_year_queue_up_on_the_pagu(keuangan, keuangan_b,
                                                                   pimpinan):
    """Found by a review: each approval checked the pagu before the other committed (both
    passed, together over it), then each locked the other's run to refresh its pagu rows
    (a deadlock). Now the second waits, sees what the first spent and asks for a reason."""
    BudgetCeiling.objects.create(year=2026, component="insentif", funding_source="apbd_provinsi",
                                 amount=RP("1500000"))
    tksk(reports=(SEP, OCT))
    september, october = (services.run_verify(actor=keuangan_b, run=compute(keuangan, month))
                          for month in (SEP, OCT))
    outcome = _race(lambda: services.run_approve(actor=pimpinan, run=september).pk,
                    lambda: services.run_approve(actor=pimpinan, run=october).pk)
    assert len(outcome["ok"]) == 1, outcome
    (refusal,) = outcome["error"]
    assert isinstance(refusal, ValidationError) and "override_reason" in refusal.message_dict
    assert PayoutRun.objects.filter(status="disetujui").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_computations_of_one_period_end_with_one_run():
    for _ in range(4):
        tksk()
    tksk(account=False)
    for _round in range(3):  # the first round creates the run, the others recompute it
        outcome = _race(lambda: compute(None).pk, lambda: compute(None).pk)
        assert outcome["error"] == []
        assert len(set(outcome["ok"])) == 1
        (run,) = PayoutRun.objects.filter(period=OCT)
        assert PayoutLine.objects.count() == run.lines.count() == 10
        raced = (fingerprint(run), totals(run))
        clean = compute(None)
        assert clean.pk == run.pk
        assert (fingerprint(clean), totals(clean)) == raced
        # 4 × 1.083.333 payable, 2 lines held
        assert totals(clean) == {"lines": 10, "payable": 8, "held": 2, "gross": RP("4333332"),
                                 "tax": 0, "net": RP("4333332")}


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_computation_killed_mid_run_is_rolled_back_and_rerun_cleanly(monkeypatch):
    for _ in range(3):
        tksk()
    crash_after_insert(monkeypatch)
    with pytest.raises(RuntimeError):
        compute(None)
    assert (PayoutRun.objects.count(), PayoutLine.objects.count()) == (0, 0)
    monkeypatch.undo()
    run = compute(None)
    first = (fingerprint(run), totals(run))
    assert totals(run)["net"] == RP("3249999")  # 3 × 1.083.333
    crash_after_insert(monkeypatch)
    with pytest.raises(RuntimeError):
        compute(None)  # a recompute killed: the committed lines stay
    monkeypatch.undo()
    run.refresh_from_db()
    assert (fingerprint(run), totals(run)) == first
    assert (fingerprint(compute(None)), totals(compute(None))) == first
