"""The incentives API (/api/v1/incentives/), the compute_payouts command, the Celery tasks and
their periodic schedule."""

import csv
import datetime
import importlib
import io
import smtplib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from openpyxl import load_workbook

from dinsos.celery import app as celery_app
from dinsos.schedule import periodic_tasks_sync
from incentives import reports, services, tasks
from incentives.api.serializers import PayoutRunSerializer
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun
from tests.factories import PayoutLineFactory, PayoutRunFactory, UserFactory, WorkerFactory
from tests.incentives.factories import OCT, approve, tksk, unverified_account

pytestmark = pytest.mark.django_db

D = datetime.date
RP = Decimal
API = "/api/v1/incentives/"
RUNS = f"{API}runs/"
LINES = f"{API}lines/"
RATES = f"{API}rates/"


def run_url(run, action=""):
    return f"{RUNS}{run.pk}/{action}"


@pytest.fixture
def area_workers(db):
    """Two TKSK in Pandeglang, one in Lebak."""
    return {"pandeglang": [tksk(name="Ahmad Pandeglang"), tksk(name="Budi Pandeglang")],
            "lebak": [tksk(name="Cecep Lebak", kab_kota="36.02")]}


@pytest.fixture
def computed(area_workers, keuangan):
    return services.run_compute(actor=keuangan, period=OCT)


# --- rates ------------------------------------------------------------------------------------

def test_rates_list(api_as, keuangan):
    response = api_as(keuangan).get(f"{RATES}?role=tksk")
    assert response.status_code == 200
    got = sorted((r["component"], RP(r["amount"]), r["unit"], r["schedule"], r["funding_source"],
                  r["paid_by_province"], r["requires_report"], r["withhold_tax"],
                  r["valid_from"], r["valid_to"]) for r in response.json())
    assert got == [
        ("insentif", RP("1000000"), "per_bulan", "bulanan", "apbd_provinsi", True, True, False,
         "2015-01-01", None),
        ("operasional", RP("1000000"), "per_tahun", "bulanan", "apbd_provinsi", True, False,
         False, "2015-01-01", None),
    ]
    pkh = api_as(keuangan).get(f"{RATES}?role=pendamping_pkh").json()
    assert sorted((r["funding_source"], RP(r["amount"]), r["schedule"], r["paid_by_province"])
                  for r in pkh) == [("apbd_provinsi", RP("2000000"), "triwulanan", True),
                                    ("apbn", RP("1500000"), "triwulanan", False)]



def test_rate_create_through_the_api_closes_the_previous(api_as, keuangan, pimpinan):
    body = {"role": "tksk", "component": "insentif", "amount": "1250000", "unit": "per_bulan",
            "schedule": "bulanan", "funding_source": "apbd_provinsi", "requires_report": True,
            "valid_from": "2027-01-01", "legal_basis": "Pergub uji 2027"}
    assert api_as(pimpinan).post(RATES, body, format="json").status_code == 403
    client = api_as(keuangan)
    response = client.post(RATES, body, format="json", HTTP_IDEMPOTENCY_KEY="rate-2027")
    assert response.status_code == 201, response.content
    again = client.post(RATES, body, format="json", HTTP_IDEMPOTENCY_KEY="rate-2027")
    assert (again.status_code, again.json()["id"], again["Idempotent-Replayed"]) == (
        201, response.json()["id"], "true")
    rows = client.get(f"{RATES}?role=tksk&component=insentif").json()
    assert sorted((r["valid_from"], r["valid_to"]) for r in rows) == [
        ("2015-01-01", "2026-12-31"), ("2027-01-01", None)]


def test_kab_kota_operator_cannot_read_rates_or_runs(api_as, pandeglang_operator, computed):
    client = api_as(pandeglang_operator)
    for url in (RATES, RUNS, run_url(computed), run_url(computed, "reports/bank-csv/"),
                f"{RUNS}realisation/?year=2026&fmt=csv", f"{API}ceilings/", f"{API}documents/1/"):
        assert client.get(url).status_code == 403, url
    assert client.post(RUNS, {"period": "2026-10"}, format="json").status_code == 403


# --- runs: compute and the workflow -----------------------------------------------------------

def test_workflow_through_the_api(api_as, area_workers, keuangan, keuangan_b, pimpinan):
    maker, checker, boss = api_as(keuangan), api_as(keuangan_b), api_as(pimpinan)
    response = maker.post(RUNS, {"period": "2026-10"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["period"], body["status"], body["computed_by"]) == ("2026-10-01", "dihitung",
                                                                     "keuangan_a")
    # 3 × (1.000.000 + 83.333)
    assert (body["summary"]["lines"], RP(body["summary"]["net_payable"])) == (6, RP("3249999"))
    run = PayoutRun.objects.get(pk=body["id"])

    assert maker.post(run_url(run, "verify/")).status_code == 403  # maker ≠ checker
    assert boss.post(run_url(run, "verify/")).status_code == 403  # not Keuangan
    response = checker.post(run_url(run, "verify/"))
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["verified_by"]) == ("diverifikasi",
                                                                           "keuangan_b")
    assert checker.post(run_url(run, "approve/"), {}, format="json").status_code == 403
    assert maker.post(run_url(run, "approve/"), {}, format="json").status_code == 403


def test_pimpinan_approves_through_the_api(api_as, computed, keuangan, keuangan_b, pimpinan):
    services.run_verify(actor=keuangan_b, run=computed)
    response = api_as(pimpinan).post(run_url(computed, "approve/"), {}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["approved_by"]) == ("disetujui",
                                                                           "pimpinan")


def test_mark_paid_through_the_api(api_as, computed, keuangan, keuangan_b, pimpinan):
    approve(computed, verifier=keuangan_b, approver=pimpinan)
    line = PayoutLine.objects.filter(run=computed).first()
    assert api_as(pimpinan).post(run_url(computed, "mark-paid/"), {"reference": "SP2D-1"},
                                 format="json").status_code == 403
    response = api_as(keuangan).post(
        run_url(computed, "mark-paid/"),
        {"reference": "SP2D-0042/2026", "line_references": {str(line.pk): "TRF-77"}},
        format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["paid_reference"]) == (
        "dibayar", "SP2D-0042/2026")
    line.refresh_from_db()
    assert line.paid_reference == "TRF-77"
    assert api_as(keuangan).post(run_url(computed, "cancel/"), {"reason": "x"},
                                 format="json").status_code == 400


def test_mark_paid_refuses_a_line_id_not_paid_in_the_run(api_as, computed, keuangan,
                                                         keuangan_b, pimpinan):
    """A mistyped line id (another run's line, a held line, no line) was passed over in
    silence: the run was recorded as paid and that transfer's reference was lost."""
    approve(computed, verifier=keuangan_b, approver=pimpinan)
    line = PayoutLine.objects.filter(run=computed, status="dibayarkan").first()
    held = PayoutLine.objects.exclude(status="dibayarkan").values_list("pk", flat=True)
    for wrong in (999_999, *held[:1]):
        response = api_as(keuangan).post(
            run_url(computed, "mark-paid/"),
            {"reference": "SP2D-1", "line_references": {str(line.pk): "TRF-1",
                                                        str(wrong): "TRF-2"}}, format="json")
        assert response.status_code == 400, response.content
        assert str(wrong) in response.json()["errors"]["line_references"][0]
    computed.refresh_from_db()
    line.refresh_from_db()
    assert (computed.status, line.paid_reference) == ("disetujui", "")


def test_mark_paid_writes_line_references_in_statements_not_per_line(
        area_workers, keuangan, keuangan_b, pimpinan, django_assert_max_num_queries):
    """Each line reference was one UPDATE (a bank result of 50,000 transfers: 50,000
    statements inside one request); now a few, whatever the number of lines."""
    for _ in range(20):
        tksk()
    run = approve(services.run_compute(actor=keuangan, period=OCT), verifier=keuangan_b,
                  approver=pimpinan)
    lines = list(PayoutLine.objects.filter(run=run, status="dibayarkan"))
    assert len(lines) > 20
    with django_assert_max_num_queries(16):  # 14 today; one UPDATE per line: 58
        services.run_mark_paid(actor=keuangan, run=run, reference="SP2D-9",
                               line_references={ln.pk: f"TRF-{ln.pk}" for ln in lines})
    paid = PayoutLine.objects.filter(run=run, status="dibayarkan")
    assert sorted(paid.values_list("paid_reference", flat=True)) == sorted(
        f"TRF-{ln.pk}" for ln in lines)


def test_cancel_through_the_api(api_as, computed, keuangan, pimpinan):
    assert api_as(pimpinan).post(run_url(computed, "cancel/"), {"reason": "salah"},
                                 format="json").status_code == 403
    client = api_as(keuangan)
    response = client.post(run_url(computed, "cancel/"), {"reason": ""}, format="json")
    assert response.status_code == 400
    response = client.post(run_url(computed, "cancel/"), {"reason": "Data SK salah"},
                           format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("dibatalkan",
                                                                             "Data SK salah")
    assert not PayoutLine.objects.filter(run=computed).exists()


def test_compute_refusals(api_as, computed, keuangan, keuangan_b, pimpinan, auditor):
    client = api_as(keuangan)
    for period in ("2026-13", "2026-1", "Oktober", ""):
        response = client.post(RUNS, {"period": period}, format="json")
        assert response.status_code == 400, period
        assert "period" in response.json()["errors"]
    assert api_as(pimpinan).post(RUNS, {"period": "2026-10"}, format="json").status_code == 403
    assert api_as(auditor).post(RUNS, {"period": "2026-10"}, format="json").status_code == 403
    approve(computed, verifier=keuangan_b, approver=pimpinan)
    response = client.post(RUNS, {"period": "2026-10"}, format="json")
    assert response.status_code == 400
    assert "tidak dihitung ulang" in str(response.json()["errors"])


def test_compute_honours_idempotency_key(api_as, area_workers, keuangan):
    client = api_as(keuangan)
    first = client.post(RUNS, {"period": "2026-10"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="compute-2026-10")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    tksk(name="Added Later")  # a real recompute would now give 8 lines
    again = client.post(RUNS, {"period": "2026-10"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="compute-2026-10")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    run = PayoutRun.objects.get()
    assert (run.lines.count(), PayoutRunSerializer(run).data["computed_at"]) == (
        6, first.json()["computed_at"])
    other = client.post(RUNS, {"period": "2026-11"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="compute-2026-10")
    assert other.status_code == 422
    assert PayoutRun.objects.count() == 1


def test_adjustment_through_the_api(api_as, keuangan, keuangan_b, pimpinan):
    tksk(reports=(D(2026, 9, 1), OCT))
    september = approve(services.run_compute(actor=keuangan, period=D(2026, 9, 1)),
                        verifier=keuangan_b, approver=pimpinan)
    corrected = PayoutLine.objects.get(run=september, component="insentif")
    october = services.run_compute(actor=keuangan, period=OCT)
    response = api_as(keuangan).post(
        run_url(october, "adjustments/"),
        {"corrects": corrected.pk, "amount": "-50000", "reason": "Lebih bayar"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["corrects"], RP(body["gross_amount"]), body["period"]) == (
        "penyesuaian", corrected.pk, RP("-50000"), "2026-09-01")
    response = api_as(keuangan).post(
        run_url(october, "adjustments/"),
        {"corrects": PayoutLine.objects.filter(run=october).first().pk, "amount": "1000",
         "reason": "x"}, format="json")
    assert response.status_code == 400  # a line of an unapproved run


# --- lines: province roles see all, a kab/kota operator its area -----------------------------

def _names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["worker_name"] for row in response.json()["results"]}


def test_kab_kota_operator_reads_the_lines_of_its_area(api_as, computed, pandeglang_operator,
                                                       lebak_operator, keuangan, auditor):
    pandeglang = {"Ahmad Pandeglang", "Budi Pandeglang"}
    for url in (f"{LINES}?run={computed.pk}", run_url(computed, "lines/")):
        assert _names(api_as(pandeglang_operator).get(url)) == pandeglang
        assert _names(api_as(lebak_operator).get(url)) == {"Cecep Lebak"}
        assert _names(api_as(keuangan).get(url)) == pandeglang | {"Cecep Lebak"}
        assert _names(api_as(auditor).get(url)) == pandeglang | {"Cecep Lebak"}
    rows = api_as(pandeglang_operator).get(run_url(computed, "lines/")).json()["results"]
    assert len(rows) == 4
    assert {row["kab_kota"] for row in rows} == {"36.01"}
    lebak_line = PayoutLine.objects.filter(area__kode__startswith="36.02.").first()
    assert api_as(pandeglang_operator).get(f"{LINES}{lebak_line.pk}/").status_code == 404
    assert api_as(lebak_operator).get(f"{LINES}{lebak_line.pk}/").status_code == 200


def test_line_explains_its_amount_and_masks_accounts_for_operators(api_as, computed,
                                                                  pandeglang_operator,
                                                                  keuangan):
    worker = PayoutLine.objects.filter(run=computed).first().worker
    number = worker.bank_accounts.get().account_number
    url = f"{LINES}?run={computed.pk}&worker={worker.pk}&component=insentif"
    (row,) = api_as(keuangan).get(url).json()["results"]
    assert (row["account_number"], RP(row["gross_amount"]), row["days_active"],
            row["days_in_window"], RP(row["factor"]), row["schedule_rule"], row["status"],
            row["explanation"]["window"]) == (
        number, RP("1000000"), 31, 31, RP("1"), "bulanan: tarif × hari aktif / hari dalam bulan",
        "dibayarkan", ["2026-10-01", "2026-10-31"])
    (row,) = api_as(pandeglang_operator).get(url).json()["results"]
    assert row["account_number"] == "*" * (len(number) - 4) + number[-4:]


def test_lines_filters(api_as, area_workers, keuangan):
    unverified_account(tksk(name="Held Worker", account=False))
    run = services.run_compute(actor=keuangan, period=OCT)
    client = api_as(keuangan)
    assert _names(client.get(f"{LINES}?run={run.pk}&status=ditahan")) == {"Held Worker"}
    assert _names(client.get(f"{LINES}?run={run.pk}&hold_reason=tanpa_rekening")) == {
        "Held Worker"}
    assert _names(client.get(f"{LINES}?run={run.pk}&wilayah=36.02")) == {"Cecep Lebak"}
    assert len(client.get(f"{LINES}?run={run.pk}&component=operasional").json()["results"]) == 4


# --- report downloads -------------------------------------------------------------------------

@pytest.fixture
def approved(computed, keuangan_b, pimpinan):
    return approve(computed, verifier=keuangan_b, approver=pimpinan)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def download(settings, tmp_path, django_capture_on_commit_callbacks):
    """GET a report the way a client does: 202 with a status URL while the task makes it into
    the storage, the status says "siap", then the same URL downloads it."""
    settings.MEDIA_ROOT = tmp_path

    def get(client, url):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            first = client.get(url)
        if first.status_code != 202:
            return first
        assert len(callbacks) == 1  # the render task, dispatched after commit
        assert first["Location"] == first.json()["status_url"]
        state = client.get(first["Location"])
        assert (state.status_code, state.json()["status"]) == (200, "siap")
        assert state.json()["download_url"].endswith(url)
        return client.get(url)

    return get


def test_report_is_made_in_the_background_once(api_as, approved, keuangan, settings, tmp_path,
                                               django_capture_on_commit_callbacks):
    from incentives.models import RunDocument

    settings.MEDIA_ROOT = tmp_path
    client = api_as(keuangan)
    url = run_url(approved, "reports/nominatif-pdf/")
    response = client.get(url)  # not committed yet in this test: the task has not run
    assert response.status_code == 202
    assert response.json()["status"] == "menunggu" and response.json()["download_url"] is None
    assert client.get(url).status_code == 202  # asked again: the same document, no new task
    (document,) = RunDocument.objects.all()
    tasks.render_run_document(document.pk)
    again = client.get(url)
    assert again.status_code == 200 and b"".join(again.streaming_content).startswith(b"%PDF")
    assert RunDocument.objects.count() == 1
    (stored,) = list((tmp_path / "reports" / "incentives").rglob("*.pdf"))
    assert stored.name.startswith("daftar-nominatif-2026-10")


def test_report_downloads(api_as, approved, keuangan, download):
    client = api_as(keuangan)
    response = download(client, run_url(approved, "reports/nominatif-xlsx/"))
    assert response.status_code == 200
    assert 'filename="daftar-nominatif-2026-10.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(_body(response)))
    assert book.active.title == "Daftar Nominatif"

    response = download(client, run_url(approved, "reports/nominatif-pdf/"))
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    pdf = _body(response)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000

    response = download(client, run_url(approved, "reports/bank-csv/"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    # 3 accounts, 3 × 1.083.333
    assert (response["X-Control-Count"], response["X-Control-Total"]) == ("3", "3249999")
    rows = list(csv.reader(io.StringIO(_body(response).decode())))
    assert rows[-1][:3] == ["TOTAL", "3", "3249999"]
    assert len(rows) == 1 + 3 + 1

    response = download(client, run_url(approved, "reports/summary-csv/"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))
    assert rows[0] == ["sumber_dana", "komponen", "status", "jumlah_baris", "bruto", "pph21",
                       "neto", "informasi_per_tahun"]
    assert [r[:4] for r in rows[1:]] == [["APBD Provinsi", "Insentif bulanan", "Dapat dibayar",
                                          "3"],
                                         ["APBD Provinsi", "Dana operasional tahunan",
                                          "Dapat dibayar", "3"],
                                         ["JUMLAH DIBAYAR PROVINSI", "", "Dapat dibayar", "6"],
                                         ["", "", "", ""],
                                         [reports.INFO_SECTION, "", "", ""],
                                         ["APBN", "Dana operasional tahunan Pendamping PKH",
                                          "informasi", "0"]]

    response = download(client, run_url(approved, "reports/summary-xlsx/"))
    assert response.status_code == 200

    response = client.get(run_url(approved, "reports/unknown/"))
    assert response.status_code == 404
    assert "tidak dikenal" in response.json()["detail"]


def test_realisation_download(api_as, approved, keuangan):
    BudgetCeiling.objects.create(year=2026, component="insentif", funding_source="apbd_provinsi",
                                 amount=RP("36000000"))
    client = api_as(keuangan)
    response = client.get(f"{RUNS}realisation/?year=2026&fmt=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))
    assert rows[0] == ["komponen", "sumber_dana", "pagu", "realisasi_dibayar",
                       "disetujui_belum_dibayar", "sisa_pagu"]
    # approved, not paid: not realised yet, in its own column, taken from the remaining pagu
    assert [[r[0], r[1], *map(RP, r[2:6])] for r in rows[1:2]] == [
        ["Insentif bulanan", "APBD Provinsi", RP("36000000"), 0, RP("3000000"),
         RP("33000000")]]
    assert client.get(f"{RUNS}realisation/?year=abc").status_code == 400


# --- constant query counts --------------------------------------------------------------------

def _lines(count: int):
    run = PayoutRunFactory(period=OCT)
    for _ in range(count):
        PayoutLineFactory(run=run, worker=WorkerFactory(), bank_name="Bank Banten",
                          account_number="1234567890", explanation={"window": []})
    return run


def _runs(count: int):
    users = [UserFactory() for _ in range(3)]
    for i in range(count):
        PayoutRunFactory(period=D(2010 + i // 12, 1 + i % 12, 1), computed_by=users[0],
                         verified_by=users[1], approved_by=users[2], status="disetujui")


LINE_QUERIES = 9  # session, user, perms…, count, page, its ACCESS entry: the same for 3 or 30
RUN_QUERIES = 7
RUN_DETAIL_QUERIES = 6  # session, token and user, permissions, the run


@pytest.mark.parametrize("count", [3, 30])
def test_lines_list_query_count_is_constant(api_as, keuangan, pandeglang_operator,
                                            django_assert_max_num_queries, count):
    run = _lines(count)
    for user in (keuangan, pandeglang_operator):
        client = api_as(user)
        with django_assert_max_num_queries(LINE_QUERIES):
            response = client.get(f"{LINES}?run={run.pk}")
        assert response.json()["count"] == count
        with django_assert_max_num_queries(LINE_QUERIES):
            response = client.get(run_url(run, "lines/"))
        assert response.json()["count"] == count


@pytest.mark.parametrize("count", [3, 30])
def test_runs_list_query_count_is_constant(api_as, keuangan, django_assert_max_num_queries,
                                           count):
    _runs(count)
    client = api_as(keuangan)
    with django_assert_max_num_queries(RUN_QUERIES):
        response = client.get(RUNS)
    assert response.json()["count"] == count
    assert {r["approved_by"] for r in response.json()["results"]} != {None}


@pytest.mark.parametrize("count", [3, 30])
def test_run_detail_never_reads_the_lines(api_as, keuangan, count):
    """GET runs/<id>/ (the bench's warm-up before a document) answers from the run row and its
    stored summary: the same queries for 3 or 30 lines (and for 50,000), none on the lines."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = _lines(count)
    client = api_as(keuangan)
    with CaptureQueriesContext(connection) as context:
        response = client.get(run_url(run))
    assert response.status_code == 200 and response.json()["id"] == run.pk
    assert len(context.captured_queries) <= RUN_DETAIL_QUERIES
    assert not [q["sql"] for q in context.captured_queries
                if "incentives_payoutline" in q["sql"]]


# --- management command -----------------------------------------------------------------------

def test_compute_payouts_command_prints_the_summary(area_workers):
    unverified_account(tksk(name="Held Worker", account=False))
    out = io.StringIO()
    call_command("compute_payouts", "--period", "2026-10", stdout=out)
    run = PayoutRun.objects.get(period=OCT)
    assert run.computed_by is None
    assert out.getvalue().splitlines() == [
        f"Perhitungan 2026-10 (#{run.pk}): Dihitung",
        "  baris: 8, dapat dibayar: 6, ditahan: 2",
        # 3 × 1.083.333
        "  bruto Rp3.249.999, PPh 21 Rp0, neto Rp3.249.999",
        "  per komponen dan sumber dana:",
        "    insentif     apbd_provinsi  dibayarkan       3 baris  neto Rp3.000.000",
        "    insentif     apbd_provinsi  ditahan          1 baris  neto Rp1.000.000",
        "    operasional  apbd_provinsi  dibayarkan       3 baris  neto Rp249.999",
        "    operasional  apbd_provinsi  ditahan          1 baris  neto Rp83.333",
    ]


def test_compute_payouts_command_user_and_ceiling_warning(area_workers, keuangan):
    BudgetCeiling.objects.create(year=2026, component="insentif", funding_source="apbd_provinsi",
                                 amount=RP("1"))
    out = io.StringIO()
    call_command("compute_payouts", "--period", "2026-10", "--user", "keuangan_a", stdout=out)
    assert PayoutRun.objects.get(period=OCT).computed_by == keuangan
    assert out.getvalue().splitlines()[-1] == "  PERINGATAN: melampaui pagu anggaran."


@pytest.mark.parametrize("period", ["2026-13", "2026/10", "Oktober", "26-10"])
def test_compute_payouts_command_bad_period(period):
    with pytest.raises(CommandError, match="Periode harus YYYY-MM"):
        call_command("compute_payouts", "--period", period, stdout=io.StringIO())
    assert not PayoutRun.objects.exists()


def test_compute_payouts_command_refusals(computed, keuangan_b, pimpinan):
    with pytest.raises(CommandError, match="tidak ditemukan"):
        call_command("compute_payouts", "--period", "2026-10", "--user", "nobody",
                     stdout=io.StringIO())
    approve(computed, verifier=keuangan_b, approver=pimpinan)
    with pytest.raises(CommandError, match="tidak dihitung ulang"):
        call_command("compute_payouts", "--period", "2026-10", stdout=io.StringIO())


# --- tasks ------------------------------------------------------------------------------------

def test_compute_monthly_run_task(area_workers, keuangan_b, pimpinan):
    run_id = tasks.compute_monthly_run.apply(args=["2026-10-15"]).get()
    run = PayoutRun.objects.get(pk=run_id)
    assert (run.period, run.status, run.computed_by) == (OCT, "dihitung", None)
    first = (run.summary, sorted(run.lines.values_list("worker_id", "component", "gross_amount")))
    assert RP(run.summary["net_payable"]) == RP("3249999")

    assert tasks.compute_monthly_run.apply(args=["2026-10-31"]).get() == run_id
    run.refresh_from_db()
    assert (run.summary, sorted(run.lines.values_list("worker_id", "component",
                                                      "gross_amount"))) == first
    assert PayoutRun.objects.count() == 1

    approve(run, verifier=keuangan_b, approver=pimpinan)
    assert tasks.compute_monthly_run.apply(args=["2026-10-01"]).get() is None
    run.refresh_from_db()
    assert run.status == "disetujui"


def test_compute_monthly_run_defaults_to_this_month(db):
    run = PayoutRun.objects.get(pk=tasks.compute_monthly_run.apply().get())
    assert run.period == timezone.localdate().replace(day=1)


def test_the_scheduled_draft_leaves_a_run_someone_computed(area_workers, keuangan, keuangan_b):
    """The schedule's recompute of a run Keuangan had computed set ``computed_by`` to None, so
    the one who computed it could verify it (pemisahan tugas), and changed figures a checker
    may be reading. The scheduled draft is made only for a month without a run."""
    this_month = timezone.localdate().replace(day=1)
    run = services.run_compute(actor=keuangan, period=this_month)
    lines = sorted(run.lines.values_list("pk", "gross_amount"))
    assert tasks.compute_monthly_run.apply().get() is None
    run.refresh_from_db()
    assert run.computed_by == keuangan
    assert sorted(run.lines.values_list("pk", "gross_amount")) == lines
    with pytest.raises(PermissionDenied, match="pemisahan tugas"):
        services.run_verify(actor=keuangan, run=run)
    assert services.run_verify(actor=keuangan_b, run=run).status == "diverifikasi"


def test_the_scheduled_draft_runs_daily_from_the_25th_and_makes_one_run(area_workers):
    """Beat does not send a crontab run it missed (down on the 25th: no draft that month); the
    schedule runs every day from the 25th and the first day that finds no run makes it."""
    from django_celery_beat.models import PeriodicTask

    periodic_tasks_sync()
    compute = PeriodicTask.objects.get(task="incentives.compute_monthly_run")
    assert (compute.crontab.hour, compute.crontab.day_of_month) == ("1", "25-31")
    first = tasks.compute_monthly_run.apply().get()
    assert first is not None and tasks.compute_monthly_run.apply().get() is None
    assert PayoutRun.objects.get().pk == first


def test_a_scheduled_draft_received_on_another_day_is_dropped(db):
    """Time audit (December 2026): the task drafts the month of the day it RUNS, so a message
    beat sent on the 31st that a worker (down overnight) received on the 1st drafted the new
    month with none of its activity reports, and the window's later days then left that draft
    as it was. Beat now sends the draft with an expiry (Celery drops a message received after
    it), both for a new schedule and for one created before (migration ``0013``); a task the
    admin gave an expiry of its own keeps it."""
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask, PeriodicTasks
    from django_celery_beat.schedulers import ModelEntry

    from dinsos.schedule import DEFAULT_PERIODIC_TASKS, DRAFT_EXPIRE_SECONDS

    migration = importlib.import_module("dinsos.migrations.0013_monthly_draft_expires")
    periodic_tasks_sync()
    draft = PeriodicTask.objects.get(task="incentives.compute_monthly_run")
    assert ModelEntry(draft, app=celery_app).options["expires"] == DRAFT_EXPIRE_SECONDS == 21600
    assert DRAFT_EXPIRE_SECONDS < 23 * 3600  # sent at 01.00 WIB: dropped before the day ends

    PeriodicTask.objects.update(expire_seconds=None)  # as created before this change
    before = PeriodicTasks.last_change()
    migration.forward(apps, None)
    draft.refresh_from_db()
    assert ModelEntry(draft, app=celery_app).options["expires"] == 21600
    assert PeriodicTasks.last_change() != before  # a running beat reloads it
    assert draft.name == migration.NAME == next(
        t.name for t in DEFAULT_PERIODIC_TASKS if t.task == "incentives.compute_monthly_run")

    PeriodicTask.objects.update(expire_seconds=3600)  # the admin's own
    migration.forward(apps, None)
    assert PeriodicTask.objects.get(pk=draft.pk).expire_seconds == 3600


def test_the_scheduled_draft_leaves_a_month_finance_cancelled(area_workers, keuangan):
    """Review: with the schedule daily from the 25th, a month whose run Keuangan cancelled got
    a new draft the next night, without a maker."""
    this_month = timezone.localdate().replace(day=1)
    run = services.run_compute(actor=keuangan, period=this_month)
    services.run_cancel(actor=keuangan, run=run, reason="Data TKSK belum lengkap")
    assert tasks.compute_monthly_run.apply().get() is None
    assert list(PayoutRun.objects.values_list("status", flat=True)) == ["dibatalkan"]


def test_an_old_default_draft_schedule_is_moved_an_edited_one_is_kept(db):
    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from dinsos.schedule import Periodic

    migration = importlib.import_module("dinsos.migrations.0011_monthly_draft_catch_up")
    old = Periodic(migration.OLD, "incentives.compute_monthly_run",
                   {"minute": "0", "hour": "1", "day_of_month": "25"}, "")
    periodic_tasks_sync([old])
    migration.forward(apps, None)
    moved = PeriodicTask.objects.get(task="incentives.compute_monthly_run")
    assert (moved.name, moved.crontab.day_of_month, moved.crontab.hour) == (
        migration.NEW, "25-31", "1")
    assert str(moved.crontab.timezone) == "Asia/Jakarta"
    migration.backward(apps, None)
    assert PeriodicTask.objects.get().name == migration.OLD
    PeriodicTask.objects.all().delete()
    edited = Periodic(migration.OLD, "incentives.compute_monthly_run",
                      {"minute": "0", "hour": "6", "day_of_month": "20"}, "")
    periodic_tasks_sync([edited])
    migration.forward(apps, None)
    kept = PeriodicTask.objects.get()
    assert (kept.name, kept.crontab.day_of_month, kept.crontab.hour) == (migration.OLD, "20", "6")


def test_periodic_tasks_are_wired():
    from django_celery_beat.models import PeriodicTask

    periodic_tasks_sync()
    compute = PeriodicTask.objects.get(task="incentives.compute_monthly_run")
    assert (compute.crontab.minute, compute.crontab.hour, compute.crontab.day_of_month,
            compute.crontab.month_of_year, compute.crontab.day_of_week) == ("0", "1", "25-31",
                                                                            "*", "*")
    assert str(compute.crontab.timezone) == "Asia/Jakarta"
    assert compute.enabled
    send = PeriodicTask.objects.get(task="incentives.send_pending_reports")
    assert (send.crontab.minute, send.crontab.hour, send.crontab.day_of_month) == ("15", "*", "*")
    assert periodic_tasks_sync() == []
    for name in ("incentives.compute_monthly_run", "incentives.send_pending_reports",
                 "incentives.send_run_reports"):
        assert name in celery_app.tasks


def test_task_options():
    from django.conf import settings

    assert settings.CELERY_TASK_ACKS_LATE is True
    for task in (tasks.compute_monthly_run, tasks.send_run_reports, tasks.send_pending_reports):
        assert task.acks_late is True
        assert OperationalError in task.autoretry_for
        assert task.retry_backoff is True
    assert smtplib.SMTPException in tasks.send_run_reports.autoretry_for
    assert tasks.compute_monthly_run.max_retries == 5
    assert celery_app.tasks["incentives.compute_monthly_run"].max_retries == 5


def test_compute_monthly_run_retries_on_operational_error(monkeypatch):
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) < 3:
            raise OperationalError("could not connect to server")
        return PayoutRun.objects.create(period=kwargs["period"])

    monkeypatch.setattr(services, "run_compute", flaky)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    result = tasks.compute_monthly_run.apply(args=["2026-10-15"])
    assert result.successful(), result.traceback
    assert len(calls) == 3
    assert PayoutRun.objects.get(pk=result.get()).period == OCT



def test_a_failed_document_says_so_and_is_made_again_when_asked(approved, keuangan, monkeypatch,
                                                                settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    document = services.document_request(actor=keuangan, run=approved, kind="bank-csv")

    def boom(*args, **kwargs):
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(reports, "write_document", boom)
    with pytest.raises(RuntimeError):
        tasks.render_run_document(document.pk)
    document.refresh_from_db()
    assert (document.status, document.error) == ("gagal", (
        f"Kesalahan sistem saat membuat dokumen; hubungi admin dan sebutkan nomor dokumen "
        f"{document.pk}."))  # the exception's text is the worker log's
    monkeypatch.undo()
    again = services.document_request(actor=keuangan, run=approved, kind="bank-csv")
    assert (again.pk, again.status) == (document.pk, "menunggu")
    assert tasks.render_run_document(again.pk) == "siap"


def test_payout_lines_list_writes_an_access_entry(make_user, api_as):
    """Personal-data audit (December 2026): P5 — GET /api/v1/incentives/lines/ gives
    Keuangan each worker's name and whole account number (as the role table allows) but wrote
    no ACCESS entry: the lines carry a copy of the bank account whose own list is logged."""
    from dinsos import roles
    from tests.helpers import reads

    line = PayoutLineFactory(bank_name="Bank Banten", account_number="0012345678",
                             account_holder="Tenaga Contoh")
    response = api_as(make_user(roles.KEUANGAN)).get("/api/v1/incentives/lines/",
                                                     {"period": f"{line.period:%Y-%m}"})
    assert response.status_code == 200
    assert "0012345678" in response.content.decode()
    assert [e.additional_data["rows"] for e in reads(PayoutLine)] == [[str(line.pk)]], (
        "whole account numbers served without an ACCESS entry")
    response = api_as(make_user(roles.KEUANGAN)).get(run_url(line.run, "lines/"))
    assert "0012345678" in response.content.decode()  # the run's lines: the same read
    assert len(reads(PayoutLine)) == 2
