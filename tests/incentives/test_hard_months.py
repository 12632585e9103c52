"""Issue #10, the hard months: future periods, mid-month rate changes, leavers on quarterly and
yearly schedules, maker-checker with corrections, corrections larger than the line, negative
balances carried forward (bank = Nominatif = summary = payable lines), concurrent periods
claiming the same held lines, set-based recompute with one audit entry, Indonesian messages for
bad input; and issue #14 point 7 (period YYYY-MM on lines, run status seen by a district).
Today is 15 February 2027 (tests/incentives/conftest.py)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from incentives import reports, selectors, services
from incentives.models import PayoutLine, PayoutRun, Rate
from psks.models import Assignment
from tests.helpers import postgres_only
from tests.incentives.factories import accept_reports, approve, pendamping, tksk

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
SEP, OCT, NOV, DEC = D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1)
API = "/api/v1/incentives/"


def compute(actor, period):
    return services.run_compute(actor=actor, period=period)


# --- 1. future months are refused -------------------------------------------------------------

@pytest.mark.parametrize("period", [D(2027, 3, 1), D(2099, 1, 1)])
def test_a_month_after_the_current_one_is_not_computed(keuangan, period):
    tksk(reports=(period,))
    with pytest.raises(ValidationError) as error:
        compute(keuangan, period)
    assert "belum berjalan" in error.value.message_dict["period"][0]
    assert not PayoutRun.objects.exists()


def test_the_current_month_is_computed(keuangan):
    tksk(reports=(D(2027, 2, 1),))
    assert compute(keuangan, D(2027, 2, 1)).lines.count() == 2


def test_api_and_command_refuse_future_periods_in_indonesian(api_as, keuangan):
    response = api_as(keuangan).post(f"{API}runs/", {"period": "2099-01"}, format="json")
    assert response.status_code == 400
    assert "belum berjalan" in str(response.json())
    assert "period" in str(response.json())
    with pytest.raises(CommandError, match="belum berjalan"):
        call_command("compute_payouts", period="2027-06", stdout=io.StringIO())
    assert not PayoutRun.objects.exists()


# --- 2. a mid-month rate change applies to its own days -----------------------------------------

def test_mid_month_rate_change_pays_each_rate_for_its_days(keuangan):
    june = D(2024, 6, 1)
    worker = pendamping("pendamping_jamsosratu", start=D(2023, 1, 1), reports=(june,))
    services.rate_create(actor=keuangan, role="pendamping_jamsosratu", component="insentif",
                         amount=RP("3000000"), unit="per_bulan", schedule="bulanan",
                         funding_source="apbd_provinsi", requires_report=True,
                         valid_from=D(2024, 6, 16), legal_basis="Pergub uji 2024")
    run = compute(keuangan, june)
    line = run.lines.get(worker=worker, component="insentif")
    # 15/30 × 1.500.000 + 15/30 × 3.000.000 = 750.000 + 1.500.000
    assert line.gross_amount == RP("2250000")
    assert [(p["from"], p["to"], p["days"], p["base"], p["amount"])
            for p in line.explanation["parts"]] == [
        ("2024-06-01", "2024-06-15", 15, "1500000", "750000"),
        ("2024-06-16", "2024-06-30", 15, "3000000", "1500000"),
    ]
    assert line.rate.amount == RP("3000000")  # the rate in force at month end


# --- 3. leavers are paid the part of every paying window they worked ----------------------------

def test_pkh_leaver_gets_the_quarter_days_in_the_march_run(keuangan):
    worker = pendamping("pendamping_pkh", start=D(2026, 1, 1), end=D(2026, 2, 28), reports=())
    run = compute(keuangan, D(2026, 3, 1))
    line = run.lines.get(worker=worker)
    # 2.000.000 / 4 = 500.000 × 59/90 = 327.777,78 → 327.778
    assert (line.gross_amount, line.days_active, line.days_in_window, line.status) == (
        RP("327778"), 59, 90, "dibayarkan")


def test_leaver_on_a_once_a_year_schedule_is_paid_in_the_paying_month(keuangan):
    Rate.objects.filter(role="pendamping_pkh", funding_source="apbd_provinsi").update(
        schedule="sekali", schedule_month=6)
    worker = pendamping("pendamping_pkh", start=D(2026, 1, 1), end=D(2026, 3, 31), reports=())
    assert not compute(keuangan, D(2026, 5, 1)).lines.filter(worker=worker).exists()
    line = compute(keuangan, D(2026, 6, 1)).lines.get(worker=worker)
    # 2.000.000 × 90/365 = 493.150,68 → 493.151
    assert (line.gross_amount, line.days_active, line.days_in_window) == (RP("493151"), 90, 365)


# --- 4 and 5. corrections ---------------------------------------------------------------------

@pytest.fixture
def september(keuangan, keuangan_b, pimpinan):
    worker = tksk(name="Asep", reports=(SEP, OCT, NOV))
    return worker, approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)


def test_who_adds_a_correction_never_verifies_nor_approves_the_run(keuangan, keuangan_b,
                                                                   pimpinan, september,
                                                                   api_as):
    _worker, sep_run = september
    october = compute(keuangan, OCT)
    line = sep_run.lines.get(component="insentif")
    services.adjustment_add(actor=keuangan_b, run=october, corrects=line, amount=RP("10000"),
                            reason="kurang bayar")
    with pytest.raises(PermissionDenied, match="penyesuaian"):
        services.run_verify(actor=keuangan_b, run=october)
    response = api_as(keuangan_b).post(f"{API}runs/{october.pk}/verify/")
    assert response.status_code == 403
    october.refresh_from_db()
    assert october.status == "dihitung"


def test_a_correction_larger_than_the_line_is_refused(keuangan, september):
    _worker, sep_run = september
    october = compute(keuangan, OCT)
    operational = sep_run.lines.get(component="operasional")  # 83.333
    with pytest.raises(ValidationError) as error:
        services.adjustment_add(actor=keuangan, run=october, corrects=operational,
                                amount=RP("-83334"), reason="lebih bayar")
    assert "melebihi" in error.value.message_dict["amount"][0]
    services.adjustment_add(actor=keuangan, run=october, corrects=operational,
                            amount=RP("-50000"), reason="lebih bayar")
    with pytest.raises(ValidationError):  # 83.333 − 50.000 leaves 33.333
        services.adjustment_add(actor=keuangan, run=october, corrects=operational,
                                amount=RP("-33334"), reason="lebih bayar lagi")
    services.adjustment_add(actor=keuangan, run=october, corrects=operational,
                            amount=RP("-33333"), reason="lebih bayar lagi")


@pytest.mark.parametrize("first", ["arrears", "held"])
def test_a_held_line_and_its_arrears_are_one_payment_corrected_once(keuangan, keuangan_b,
                                                                     pimpinan, first):
    """September held (no account), paid in October as arrears: 1.000.000 was paid for
    September's incentive, once; corrections of the held line and of its arrears line together
    recover at most that."""
    from tests.incentives.factories import verified_account
    worker = tksk(reports=(SEP, OCT, NOV), account=False)
    sep_run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    held = sep_run.lines.get(worker=worker, component="insentif")
    verified_account(worker)
    october = approve(compute(keuangan, OCT), verifier=keuangan_b, approver=pimpinan)
    arrears = october.lines.get(worker=worker, component="insentif", kind="rapel")
    november = compute(keuangan, NOV)
    lines = {"arrears": arrears, "held": held}
    second = lines["held" if first == "arrears" else "arrears"]
    services.adjustment_add(actor=keuangan, run=november, corrects=lines[first],
                            amount=RP("-600000"), reason="lebih bayar")
    with pytest.raises(ValidationError) as error:  # 1.000.000 − 600.000 leaves 400.000
        services.adjustment_add(actor=keuangan, run=november, corrects=second,
                                amount=RP("-400001"), reason="lebih bayar")
    assert "melebihi" in error.value.message_dict["amount"][0]
    services.adjustment_add(actor=keuangan, run=november, corrects=second,
                            amount=RP("-400000"), reason="lebih bayar")
    with pytest.raises(ValidationError):
        services.adjustment_add(actor=keuangan, run=november, corrects=lines[first],
                                amount=RP("-1"), reason="lebih bayar")
    assert sum(line.gross_amount for line in november.lines.filter(kind="penyesuaian")) == (
        -held.gross_amount)


def test_a_reversal_in_pieces_leaves_no_tax_on_a_zero_gross(keuangan, keuangan_b, pimpinan):
    """A TKSK incentive with PPh 21 (2,5 %): gross 1.000.000, tax 25.000, reversed in three
    corrections: each takes the tax of what the line still pays minus what was withheld."""
    Rate.objects.filter(role="tksk", component="insentif").update(withhold_tax=True)
    worker = tksk(reports=(SEP, OCT), npwp="123456789012345")
    sep_run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    line = sep_run.lines.get(worker=worker, component="insentif")
    assert (line.gross_amount, line.tax_amount) == (RP(1000000), RP(25000))
    october = compute(keuangan, OCT)
    for amount in (-333333, -333333, -333334):
        services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                amount=RP(amount), reason="bukan haknya")
    pieces = list(PayoutLine.objects.filter(corrects=line).order_by("id"))
    assert [(p.gross_amount, p.tax_amount, p.net_amount) for p in pieces] == [
        (RP(-333333), RP(-8333), RP(-325000)), (RP(-333333), RP(-8334), RP(-324999)),
        (RP(-333334), RP(-8333), RP(-325001))]
    assert line.tax_amount + sum(p.tax_amount for p in pieces) == 0
    assert line.net_amount + sum(p.net_amount for p in pieces) == 0


def test_a_correction_keeps_the_tax_rate_of_the_line_it_corrects(keuangan, keuangan_b,
                                                                  pimpinan):
    """Found by review: a correction took the worker's NPWP as it is now. A line taxed without
    NPWP (30.000 on 1.000.000), corrected by +1.000 after the worker registered an NPWP, got a
    tax of -4.975 (25.025 - 30.000): a net of +5.975 for a gross of +1.000."""
    Rate.objects.filter(role="tksk", component="insentif").update(withhold_tax=True)
    worker = tksk(reports=(SEP, OCT))
    sep_run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    line = sep_run.lines.get(worker=worker, component="insentif")
    assert (line.gross_amount, line.tax_amount) == (RP(1000000), RP(30000))
    type(worker).objects.filter(pk=worker.pk).update(npwp="123456789012345")
    october = compute(keuangan, OCT)
    piece = services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                    amount=RP(1000), reason="kurang bayar")
    # 30.030 on 1.001.000 without NPWP, minus the 30.000 withheld
    assert (piece.gross_amount, piece.tax_amount, piece.net_amount) == (
        RP(1000), RP(30), RP(970))


# --- 6. negative balances: every document reconciles --------------------------------------------

def documents_total(run) -> dict:
    run.refresh_from_db()
    text, count, bank_total = reports.bank_file(run)
    body = list(csv.reader(io.StringIO(text)))
    data = reports.nominatif_data(run)
    payable = sum((line.net_amount for line in run.lines.filter(status="dibayarkan")), RP(0))
    return {"bank": bank_total, "bank_rows": sum(RP(r[2]) for r in body[1:-1]),
            "nominatif": data["net"], "summary": RP(run.summary["net_payable"]),
            "lines": payable, "count": data["count"],
            "payable_lines": run.lines.filter(status="dibayarkan").count()}


def test_negative_balance_is_carried_forward_and_all_documents_reconcile(
        keuangan, keuangan_b, pimpinan):
    leaver = tksk(name="Berhenti", reports=(SEP, OCT))
    stayer = tksk(name="Tetap", reports=(SEP, OCT, NOV))
    late = tksk(name="Rapel", account=False, reports=(SEP, OCT))
    sep_run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    # the leaver stops on 10 October; the held TKSK gets an account → arrears in October
    Assignment.objects.filter(worker=leaver).update(end_date=D(2026, 10, 10))
    from tests.incentives.factories import verified_account
    verified_account(late)
    october = compute(keuangan, OCT)
    # overpaid in September: −1.000.000 on the incentive, −83.333 operational
    for line in sep_run.lines.filter(worker=leaver):
        services.adjustment_add(actor=keuangan, run=october, corrects=line,
                                amount=-line.gross_amount, reason="tidak bertugas September")
    services.adjustment_add(actor=keuangan, run=october,
                            corrects=sep_run.lines.get(worker=stayer, component="insentif"),
                            amount=RP("50000"), reason="kurang bayar")
    # leaver's October: 10/31 × 1.000.000 = 322.581 + 10/31 × 83.333 = 26.882 → 349.463;
    # minus 1.083.333 → −733.870 carried forward
    carried = october.lines.get(kind="saldo_minus")
    assert (carried.worker, carried.net_amount, carried.status) == (leaver, RP("733870"),
                                                                    "dibayarkan")
    assert "dibawa ke periode berikutnya" in carried.note
    assert sum(line.net_amount for line in october.lines.filter(worker=leaver,
                                                                 status="dibayarkan")) == 0
    totals = documents_total(october)
    # stayer 1.083.333 + 50.000, late: October 1.083.333 + arrears 1.083.333, leaver 0
    expected = RP("1133333") + RP("2166666")
    assert {k: totals[k] for k in ("bank", "bank_rows", "nominatif", "summary", "lines")} == {
        "bank": expected, "bank_rows": expected, "nominatif": expected, "summary": expected,
        "lines": expected}
    assert totals["count"] == totals["payable_lines"]
    assert any("Saldo negatif" in (line.note or "")
               for line in selectors.nominatif_lines(october))

    approve(october, verifier=keuangan_b, approver=pimpinan)
    # November: the leaver works again from 1 November and the carried balance is recovered
    Assignment.objects.filter(worker=leaver).update(end_date=D(2029, 12, 31))
    accept_reports(leaver, NOV)
    november = compute(keuangan, NOV)
    recovery = november.lines.get(kind="potongan")
    assert (recovery.worker, recovery.net_amount, recovery.recovers) == (
        leaver, RP("-733870"), carried)
    # 1.083.333 − 733.870 = 349.463 paid to the leaver
    assert sum(line.net_amount for line in november.lines.filter(worker=leaver)) == RP("349463")
    totals = documents_total(november)
    assert totals["bank"] == totals["nominatif"] == totals["summary"] == totals["lines"]
    # recovered once: recomputing November does not recover it twice, nor does December
    assert compute(keuangan, NOV).lines.filter(kind="potongan").count() == 1


@pytest.mark.parametrize("new_account_verified", ["after_the_correction", "before_it"])
def test_a_negative_balance_is_settled_per_worker_across_an_account_change(
        keuangan, keuangan_b, pimpinan, new_account_verified):
    """Overpaid 1.000.000 in September, corrected in October (pay 1.083.333): the worker's
    October is 83.333, whichever account the correction was entered against. The worker's new
    account, verified from 20 October, gets one transfer of 83.333; nothing is carried."""
    from tests.incentives.factories import unverified_account, verify_account
    worker = tksk(reports=(SEP, OCT))
    sep_run = approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    october = compute(keuangan, OCT)
    new_account = unverified_account(worker)
    if new_account_verified == "before_it":  # the regular lines still name the old account
        verify_account(new_account, effective_from=D(2026, 10, 20))
    services.adjustment_add(actor=keuangan, run=october,
                            corrects=sep_run.lines.get(worker=worker, component="insentif"),
                            amount=RP(-1000000), reason="lebih bayar September")
    if new_account_verified == "after_the_correction":  # the correction names the old one
        verify_account(new_account, effective_from=D(2026, 10, 20))
        october = compute(keuangan, OCT)
    payable = october.lines.filter(worker=worker, status="dibayarkan")
    assert sum(line.net_amount for line in payable) == RP(83333)
    assert not october.lines.filter(kind="saldo_minus").exists()
    assert set(payable.values_list("bank_account", flat=True)) == {new_account.pk}
    text, count, total = reports.bank_file(october)
    assert (count, total) == (1, RP(83333))
    assert new_account.account_number in text
    totals = documents_total(october)
    assert totals["bank"] == totals["nominatif"] == totals["summary"] == totals["lines"]


# --- 8. two periods at once claim the same held lines -------------------------------------------

@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_periods_computed_at_once_pay_held_lines_once(keuangan, keuangan_b, pimpinan):
    from tests.incentives.factories import verified_account
    from tests.incentives.test_runs import _race

    workers = [tksk(account=False, reports=(SEP, OCT, NOV)) for _ in range(3)]
    approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    for worker in workers:
        verified_account(worker)
    outcome = _race(lambda: compute(None, OCT).pk, lambda: compute(None, NOV).pk)
    assert outcome["error"] == []
    assert len(set(outcome["ok"])) == 2
    arrears = PayoutLine.objects.filter(kind="rapel")
    assert arrears.count() == 6  # 3 workers × 2 lines, once
    assert arrears.values("run").distinct().count() == 1


def test_the_scheduled_computation_retries_on_a_unique_key_error():
    from django.db import IntegrityError

    from incentives import tasks

    assert IntegrityError in tasks.compute_monthly_run.autoretry_for


# --- 9. recompute is set-based with one audit entry ---------------------------------------------

def test_recompute_replaces_lines_with_one_audit_entry(keuangan):
    for _ in range(3):
        tksk()
    run = compute(keuangan, OCT)
    before = LogEntry.objects.count()
    compute(keuangan, OCT)
    entries = LogEntry.objects.filter(pk__gt=LogEntry.objects.order_by("pk")[before - 1].pk
                                      if before else 0)
    assert entries.count() == 1
    (entry,) = entries
    assert entry.object_pk == str(run.pk)
    assert entry.additional_data["recompute"] == {"lines_removed": 6, "lines_created": 6}
    assert PayoutLine.objects.filter(run=run).count() == 6


# --- 10. bad input answers in Indonesian and names the field ------------------------------------

@pytest.mark.parametrize("period", ["2026-13", "2026-1", "abc", "2026-00"])
def test_bad_periods_are_refused_in_indonesian(api_as, keuangan, period):
    response = api_as(keuangan).post(f"{API}runs/", {"period": period}, format="json")
    assert response.status_code == 400
    body = str(response.json())
    assert "period" in body and "Periode harus YYYY-MM" in body
    lines = api_as(keuangan).get(f"{API}lines/", {"period": period})
    assert lines.status_code == 400 and "Periode harus YYYY-MM" in str(lines.json())
    with pytest.raises(CommandError, match="Periode harus YYYY-MM"):
        call_command("compute_payouts", period=period, stdout=io.StringIO())


RATE = {"role": "tksk", "component": "insentif", "unit": "per_bulan", "schedule": "bulanan",
        "funding_source": "apbd_provinsi", "legal_basis": "Pergub uji"}


@pytest.mark.parametrize(("amount", "valid_from", "message"), [
    ("satu juta", "2027-01-01", "Harus berupa angka rupiah"),
    ("-1000000", "2027-01-01", "Tidak boleh kurang dari 0"),
    ("1000000.5", "2027-01-01", "rupiah penuh"),
    ("1250000", "2015-01-01", "Sudah ada tarif"),
])
def test_bad_rates_are_refused_in_indonesian_on_the_field(api_as, keuangan, amount, valid_from,
                                                          message):
    response = api_as(keuangan).post(f"{API}rates/", {**RATE, "amount": amount,
                                                      "valid_from": valid_from}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    field = "valid_from" if valid_from == "2015-01-01" else "amount"
    assert field in str(body) and message in str(body)
    assert "incentives_" not in str(body) and "unique set" not in str(body)
    assert Rate.objects.filter(role="tksk", component="insentif").count() == 1


def test_adjustment_amount_must_be_whole_rupiah(api_as, keuangan, september):
    _worker, sep_run = september
    october = compute(keuangan, OCT)
    response = api_as(keuangan).post(
        f"{API}runs/{october.pk}/adjustments/",
        {"corrects": sep_run.lines.get(component="insentif").pk, "amount": "1000.5",
         "reason": "x"}, format="json")
    assert response.status_code == 400 and "rupiah penuh" in str(response.json())


# --- issue #14 point 7: periods as YYYY-MM, run status for a district ---------------------------

def test_lines_filter_takes_yyyy_mm_like_runs(api_as, keuangan):
    tksk()
    compute(keuangan, OCT)
    for period in ("2026-10", "2026-10-01"):
        response = api_as(keuangan).get(f"{API}lines/", {"period": period})
        assert response.status_code == 200
        assert response.json()["count"] == 2
    assert api_as(keuangan).get(f"{API}lines/", {"period": "2026-11"}).json()["count"] == 0


def test_district_sees_the_status_of_runs_covering_its_lines_only(
        api_as, keuangan, keuangan_b, pimpinan, pandeglang_operator):
    tksk(kab_kota="36.01", reports=(SEP, OCT))
    tksk(kab_kota="36.02", reports=(SEP, OCT))
    tksk(kab_kota="36.02", reports=(SEP, OCT))
    approve(compute(keuangan, SEP), verifier=keuangan_b, approver=pimpinan)
    compute(keuangan, OCT)
    client = api_as(pandeglang_operator)
    assert client.get(f"{API}runs/").status_code == 403  # province-wide data stays closed
    rows = client.get(f"{API}run-status/").json()["results"]
    assert [(r["period"], r["status"], r["lines"], r["payable"], RP(r["net_payable"]))
            for r in rows] == [("2026-10", "dihitung", 2, 2, RP("1083333")),
                               ("2026-09", "disetujui", 2, 2, RP("1083333"))]
    only = client.get(f"{API}run-status/", {"period": "2026-09"}).json()["results"]
    assert [r["status_display"] for r in only] == ["Disetujui Pimpinan"]
    lines = client.get(f"{API}lines/", {"period": "2026-09"}).json()["results"]
    assert {(line["run_status"], line["kab_kota"]) for line in lines} == {("disetujui",
                                                                            "36.01")}
    assert client.get(f"{API}run-status/", {"period": "2026-13"}).status_code == 400


@postgres_only
def test_the_database_refuses_an_adjuster_as_verifier(keuangan, keuangan_b, september):
    from django.db import IntegrityError, transaction

    _worker, sep_run = september
    october = compute(keuangan, OCT)
    services.adjustment_add(actor=keuangan_b, run=october,
                            corrects=sep_run.lines.get(component="insentif"),
                            amount=RP("10000"), reason="kurang bayar")
    with pytest.raises(IntegrityError, match="checker_not_adjuster"), transaction.atomic():
        PayoutRun.objects.filter(pk=october.pk).update(verified_by=keuangan_b,
                                                       status="diverifikasi")
