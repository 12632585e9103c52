"""The review queue of the PSKS monthly activity reports (issue #12 point 4): listed for the
user's area, opened, accepted or returned with a required reason through the psks services,
and counted in Beranda's "Menunggu Anda" for the roles that review."""

import datetime

import pytest
from django.urls import reverse

from dinsos.versions import current_version
from psks.models import ActivityReport
from tests.factories import DESA_LEBAK, ActivityReportFactory, WorkerFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

QUEUE = reverse("psks:report-queue")



def submitted(desa=None, **kwargs) -> ActivityReport:
    worker = WorkerFactory(**({"desa_id": desa} if desa else {}))
    return ActivityReportFactory(
        worker=worker, status="diajukan", period=datetime.date(2026, 10, 1),
        submitted_at=datetime.datetime(2026, 11, 2, 7, 5, tzinfo=datetime.UTC), **kwargs)


def version(report) -> dict:
    """The hidden version the review forms carry (dinsos.pages.IfMatchPage)."""
    return {"if_match": current_version(report)}


def test_queue_lists_the_submitted_reports_of_the_users_area_only(pandeglang_operator):
    own = submitted()
    submitted(DESA_LEBAK)
    ActivityReportFactory(worker=WorkerFactory(), status="draft")
    page = client_for(pandeglang_operator).get(QUEUE)
    assert [r.pk for r in page.context["page"].object_list] == [own.pk]
    html = page.content.decode()
    assert own.worker.name in html and "Oktober 2026" in html
    assert "2 November 2026 14.05" in html  # submitted 07.05 UTC, shown in WIB


def test_operator_accepts_a_report(pandeglang_operator):
    report = submitted()
    client = client_for(pandeglang_operator)
    detail = client.get(reverse("psks:report-detail", args=[report.pk]))
    assert detail.context["reviewable"]
    response = client.post(reverse("psks:report-review", args=[report.pk, "terima"]),
                           version(report))
    assert response.status_code == 302 and response.url == QUEUE
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("diterima", pandeglang_operator)
    assert "diterima" in client.get(QUEUE).content.decode()  # the message on the queue


def test_returning_a_report_needs_a_reason_shown_next_to_the_field(pandeglang_operator):
    report = submitted()
    client = client_for(pandeglang_operator)
    url = reverse("psks:report-review", args=[report.pk, "kembalikan"])
    response = client.post(url, {"reason": "  ", **version(report)})
    assert response.status_code == 400
    assert response.context["return_form"].errors["reason"] == ["Alasan pengembalian wajib diisi."]
    report.refresh_from_db()
    assert report.status == "diajukan"

    client.post(url, {"reason": "Lampirkan daftar hadir rakor", **version(report)})
    report.refresh_from_db()
    assert (report.status, report.rejection_reason) == ("ditolak",
                                                        "Lampirkan daftar hadir rakor")
    returned = client.get(reverse("psks:report-detail", args=[report.pk])).content.decode()
    assert "Lampirkan daftar hadir rakor" in returned and "Ditolak" in returned


def test_an_already_reviewed_report_is_refused_in_indonesian(pandeglang_operator):
    report = submitted()
    client = client_for(pandeglang_operator)
    client.post(reverse("psks:report-review", args=[report.pk, "terima"]), version(report))
    again = client.post(reverse("psks:report-review", args=[report.pk, "terima"]),
                        version(report), follow=True)
    assert "tindakan ini tidak diizinkan" in again.content.decode()
    assert not again.context["reviewable"]


def test_auditor_reads_the_queue_without_review_buttons_and_may_not_post(auditor):
    report = submitted()
    client = client_for(auditor)
    assert [r.pk for r in client.get(QUEUE).context["page"].object_list] == [report.pk]
    detail = client.get(reverse("psks:report-detail", args=[report.pk]))
    assert not detail.context["reviewable"] and "Terima laporan" not in detail.content.decode()
    assert detail.context["report"].worker.nik not in detail.content.decode()  # masked
    assert client.post(reverse("psks:report-review",
                               args=[report.pk, "terima"])).status_code == 403
    report.refresh_from_db()
    assert report.status == "diajukan"


def test_unknown_action_or_status_is_a_404(pandeglang_operator):
    report = submitted()
    client = client_for(pandeglang_operator)
    assert client.post(reverse("psks:report-review", args=[report.pk, "hapus"])).status_code == 404
    assert client.get(QUEUE, {"status": "semua"}).status_code == 404


def test_beranda_points_reviewers_to_the_queue(pandeglang_operator, auditor):
    submitted()
    submitted(DESA_LEBAK)
    waiting = client_for(pandeglang_operator).get("/").context["waiting"]
    assert [(w.label, w.count, w.url) for w in waiting
            if w.url == QUEUE] == [("Laporan bulanan untuk diperiksa", 1, QUEUE)]
    assert QUEUE not in [w.url for w in client_for(auditor).get("/").context["waiting"]]


def test_opening_a_report_writes_an_access_entry_of_its_worker(pandeglang_operator):
    """Personal-data audit (December 2026): P5, found with it — the report page names the
    worker with the NIK whole (for an operator) but wrote no ACCESS entry; now the worker's
    history shows the read (``dinsos.pages.ReadLoggedPage``)."""
    from psks.models import Worker
    from tests.helpers import reads

    report = submitted()
    page = client_for(pandeglang_operator).get(reverse("psks:report-detail", args=[report.pk]))
    assert report.worker.nik in page.content.decode()
    assert [(e.object_pk, e.actor) for e in reads(Worker)] == [
        (str(report.worker.pk), pandeglang_operator)]


def test_who_submitted_a_report_is_not_offered_its_acceptance(pandeglang_operator, make_user):
    """Four eyes: the acceptance releases the month's incentive. The operator who submitted the
    report sees who did and may return it, but is told another user accepts it — and a POST
    to accept is refused; a colleague of the area accepts it."""
    from dinsos import roles

    report = submitted(submitted_by=pandeglang_operator)
    client = client_for(pandeglang_operator)
    page = client.get(reverse("psks:report-detail", args=[report.pk])).content.decode()
    assert "Terima laporan" not in page and "prinsip empat mata" in page
    assert "Kembalikan dengan alasan" in page
    response = client.post(reverse("psks:report-review", args=[report.pk, "terima"]),
                           version(report))
    assert response.status_code in (302, 403)
    report.refresh_from_db()
    assert report.status == "diajukan"
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    response = client_for(colleague).post(
        reverse("psks:report-review", args=[report.pk, "terima"]), version(report))
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("diterima", colleague)
