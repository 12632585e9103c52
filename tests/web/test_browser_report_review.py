"""The activity-report review queue (issue #12 point 4) in chromium: a kab/kota operator, whose
role reviews its area's monthly reports, goes from Beranda to the queue, accepts one report,
returns another — first without a reason (the Indonesian error beside the field, nothing
changed), then with one — and the queue shrinks to nothing. An English browser locale: the
pages stay Indonesian. (The view tests are tests/web/test_report_review.py.)"""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from psks.models import ActivityReport
from tests.factories import ActivityReportFactory, WorkerFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def submitted(name: str) -> ActivityReport:
    return ActivityReportFactory(
        worker=WorkerFactory(name=name), status="diajukan", period=datetime.date(2026, 10, 1),
        submitted_at=datetime.datetime(2026, 11, 2, 7, 5, tzinfo=datetime.UTC))


def test_operator_accepts_one_report_and_returns_another_with_a_reason(open_page,
                                                                        pandeglang_operator):
    first, second = submitted("Asep Saepudin"), submitted("Euis Komalasari")
    queue = reverse("psks:report-queue")
    page = open_page(pandeglang_operator)

    page.locator(f"main a[href='{queue}']").first.click()  # Beranda: "Menunggu Anda"
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporan bulanan tenaga")
    expect(page.get_by_role("heading", level=2)).to_have_text("2 laporan menunggu pemeriksaan")

    page.get_by_role("link", name="Asep Saepudin").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Diajukan")
    page.get_by_role("button", name="Terima laporan").click()
    expect(page.get_by_text("Laporan Asep Saepudin")).to_contain_text("diterima")
    expect(page.get_by_role("heading", level=2)).to_have_text("1 laporan menunggu pemeriksaan")
    expect(page.get_by_role("link", name="Asep Saepudin")).to_have_count(0)

    page.get_by_role("link", name="Euis Komalasari").click()
    page.get_by_role("button", name="Kembalikan dengan alasan").click()
    expect(page.get_by_text("Alasan pengembalian wajib diisi.")).to_be_visible()
    second.refresh_from_db()
    assert second.status == "diajukan"
    page.get_by_label("Alasan pengembalian").fill("Lampirkan daftar hadir rakor")
    page.get_by_role("button", name="Kembalikan dengan alasan").click()
    expect(page.get_by_text("Laporan Euis Komalasari")).to_contain_text("dikembalikan")
    expect(page.get_by_role("heading", level=2)).to_have_text("0 laporan menunggu pemeriksaan")
    expect(page.get_by_text("Tidak ada laporan.")).to_be_visible()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.reviewed_by) == ("diterima", pandeglang_operator)
    assert (second.status, second.rejection_reason) == ("ditolak", "Lampirkan daftar hadir rakor")

    page.get_by_role("link", name="Ditolak").click()
    page.get_by_role("link", name="Euis Komalasari").click()
    expect(page.get_by_text("Lampirkan daftar hadir rakor")).to_be_visible()
    expect(page.get_by_role("button", name="Terima laporan")).to_have_count(0)
