"""Monthly activity reports: draft → diajukan → diterima / ditolak → edited → diajukan; who may
review; one report per worker and month; the API actions and their Idempotency-Key replay."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from dinsos import roles
from psks import services
from psks.models import ActivityReport
from tests.factories import DESA_PANDEGLANG, ActivityReportFactory, WorkerFactory

pytestmark = pytest.mark.django_db

D = datetime.date
REPORTS = "/api/v1/psks/activity-reports/"
NOT_REVIEWER = "Hanya operator wilayah tenaga ini yang dapat memeriksa laporan."


@pytest.fixture
def worker(db):
    return WorkerFactory(name="Dede Kurnia", desa_id=DESA_PANDEGLANG)


def report_in(status: str, worker=None) -> ActivityReport:
    return ActivityReportFactory(worker=worker or WorkerFactory(), period=D(2026, 10, 1),
                                 status=status)


# --- the workflow -------------------------------------------------------------------------------


def test_draft_submitted_and_accepted(pandeglang_operator, worker, make_user):
    report = services.report_save(actor=pandeglang_operator, worker=worker,
                                  period=D(2026, 10, 15), meetings_attended=1,
                                  households_validated=40, pmks_identified=7,
                                  households_visited=12, notes="Rakor di kantor kecamatan")
    assert (report.period, report.status, report.households_validated) == (
        D(2026, 10, 1), "draft", 40)

    report = services.report_submit(actor=pandeglang_operator, report=report)
    assert report.status == "diajukan"
    assert report.submitted_at is not None
    assert report.submitted_by == pandeglang_operator

    # four eyes: the acceptance releases the month's incentive, so not by who submitted it
    with pytest.raises(PermissionDenied, match="prinsip empat mata"):
        services.report_accept(actor=pandeglang_operator, report=report)
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    report = services.report_accept(actor=colleague, report=report)
    report.refresh_from_db()
    assert (report.status, report.reviewed_by, report.rejection_reason) == (
        "diterima", colleague, "")
    # the database holds the rule too
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityReport.objects.filter(pk=report.pk).update(reviewed_by=pandeglang_operator)
    assert report.reviewed_at is not None


def test_rejected_with_reason_then_edited_and_submitted_again(pandeglang_operator,
                                                             province_operator, worker):
    report = services.report_save(actor=pandeglang_operator, worker=worker,
                                  period=D(2026, 10, 1), households_validated=40)
    services.report_submit(actor=pandeglang_operator, report=report)

    for reason in ("", "   "):
        with pytest.raises(ValidationError) as exc:
            services.report_reject(actor=province_operator, report=report, reason=reason)
        assert exc.value.message_dict == {"reason": ["Alasan penolakan wajib diisi."]}
    report.refresh_from_db()
    assert report.status == "diajukan"

    services.report_reject(actor=province_operator, report=report,
                           reason="  Jumlah RTS tidak sesuai daftar  ")
    report.refresh_from_db()
    assert (report.status, report.rejection_reason, report.reviewed_by) == (
        "ditolak", "Jumlah RTS tidak sesuai daftar", province_operator)

    edited = services.report_save(actor=pandeglang_operator, worker=worker,
                                  period=D(2026, 10, 20), households_validated=38)
    assert (edited.pk, edited.status, edited.households_validated) == (report.pk, "ditolak", 38)

    services.report_submit(actor=pandeglang_operator, report=edited)
    report.refresh_from_db()
    assert (report.status, report.rejection_reason, report.households_validated) == (
        "diajukan", "", 38)
    services.report_accept(actor=province_operator, report=report)
    report.refresh_from_db()
    assert report.status == "diterima"


EDIT, SUBMIT, ACCEPT, REJECT = "edit", "submit", "accept", "reject"
ALLOWED = {
    "draft": {EDIT, SUBMIT},
    "diajukan": {ACCEPT, REJECT},
    "diterima": set(),
    "ditolak": {EDIT, SUBMIT},
}


def act(action, actor, report):
    if action == EDIT:
        return services.report_save(actor=actor, worker=report.worker, period=report.period,
                                    notes="diubah")
    if action == SUBMIT:
        return services.report_submit(actor=actor, report=report)
    if action == ACCEPT:
        return services.report_accept(actor=actor, report=report)
    return services.report_reject(actor=actor, report=report, reason="Kurang lengkap")


@pytest.mark.parametrize("status", list(ALLOWED))
@pytest.mark.parametrize("action", [EDIT, SUBMIT, ACCEPT, REJECT])
def test_transitions(pandeglang_operator, status, action):
    report = report_in(status)
    if action in ALLOWED[status]:
        act(action, pandeglang_operator, report)
        return
    with pytest.raises(ValidationError) as exc:
        act(action, pandeglang_operator, report)
    label = {"draft": "Draf", "diajukan": "Diajukan", "diterima": "Diterima",
             "ditolak": "Ditolak"}[status]
    assert exc.value.messages in (
        [f"Laporan berstatus {label} tidak dapat diubah."],
        [f"Laporan berstatus {label}; tindakan ini tidak diizinkan."],
    )
    report.refresh_from_db()
    assert (report.status, report.notes) == (status, "")


def test_accepted_report_cannot_be_edited(pandeglang_operator):
    report = report_in("diterima")
    with pytest.raises(ValidationError) as exc:
        services.report_save(actor=pandeglang_operator, worker=report.worker,
                             period=report.period, households_validated=99)
    assert exc.value.messages == ["Laporan berstatus Diterima tidak dapat diubah."]
    report.refresh_from_db()
    assert report.households_validated == 0


# --- who may review ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", [ACCEPT, REJECT])
def test_operator_of_another_kab_kota_cannot_review(lebak_operator, action):
    report = report_in("diajukan")
    with pytest.raises(PermissionDenied, match="36.01.01.2001 berada di luar wilayah kerja"):
        act(action, lebak_operator, report)
    report.refresh_from_db()
    assert report.status == "diajukan"


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN])
@pytest.mark.parametrize("action", [ACCEPT, REJECT])
def test_read_only_roles_cannot_review_in_the_service(make_user, role, action):
    report = report_in("diajukan")
    with pytest.raises(PermissionDenied) as exc:
        act(action, make_user(role), report)
    assert str(exc.value) == NOT_REVIEWER
    report.refresh_from_db()
    assert report.status == "diajukan"


def test_province_operator_may_review(province_operator):
    report = report_in("diajukan")
    services.report_accept(actor=province_operator, report=report)
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("diterima", province_operator)


def test_api_accept_by_another_kab_kota_is_404(lebak_operator, api_as):
    report = report_in("diajukan")
    response = api_as(lebak_operator).post(f"{REPORTS}{report.pk}/accept/", format="json")
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == "diajukan"


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN])
@pytest.mark.parametrize("action", ["submit", "accept", "reject"])
def test_api_actions_refused_for_read_only_roles(make_user, api_as, role, action):
    report = report_in("diajukan" if action != "submit" else "draft")
    response = api_as(make_user(role)).post(f"{REPORTS}{report.pk}/{action}/",
                                            {"reason": "x"}, format="json")
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status in ("diajukan", "draft")
    assert report.reviewed_by is None


def admin_action(user, action, report, *, offered: bool = True) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.post("/admin/psks/activityreport/",
                           {"action": action, "_selected_action": [report.pk]})
    # An action the role may not run is not offered: the changelist comes back (200) unchanged.
    assert response.status_code == (302 if offered else 200)
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_accept_action(pandeglang_operator, auditor, lebak_operator):
    report = report_in("diajukan")
    admin_action(auditor, "accept", report, offered=False)
    assert admin_action(lebak_operator, "accept", report) == []  # not in its changelist
    report.refresh_from_db()
    assert report.status == "diajukan"
    # the action says what it did (a browser walk found "Ajukan" answering nothing at all)
    assert admin_action(pandeglang_operator, "accept", report) == [f"{report}: diterima."]
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == ("diterima", pandeglang_operator)


def test_admin_submit_action_says_it_submitted(pandeglang_operator):
    report = report_in("draft")
    assert admin_action(pandeglang_operator, "submit", report) == [
        f"{report}: diajukan untuk diperiksa."]
    report.refresh_from_db()
    assert report.status == "diajukan"


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN])
def test_admin_submit_action_refused_for_read_only_roles(make_user, role):
    report = report_in("draft")
    admin_action(make_user(role), "submit", report, offered=False)
    report.refresh_from_db()
    assert report.status == "draft"


# --- one report per worker and month ------------------------------------------------------------


def test_one_report_per_worker_and_month(pandeglang_operator, worker):
    first = services.report_save(actor=pandeglang_operator, worker=worker,
                                 period=D(2026, 10, 31), pmks_identified=3)
    second = services.report_save(actor=pandeglang_operator, worker=worker,
                                  period=D(2026, 10, 2), pmks_identified=5)
    services.report_save(actor=pandeglang_operator, worker=worker, period=D(2026, 11, 1))
    assert first.pk == second.pk
    assert list(worker.reports.order_by("period").values_list("period", "pmks_identified")) == [
        (D(2026, 10, 1), 5), (D(2026, 11, 1), 0)]


def test_creating_a_second_report_for_a_month_is_refused(pandeglang_operator, worker):
    first = services.report_create(actor=pandeglang_operator, worker=worker,
                                   period=D(2026, 10, 1), households_validated=40)
    with pytest.raises(ValidationError) as exc:
        services.report_create(actor=pandeglang_operator, worker=worker,
                               period=D(2026, 10, 31), households_validated=1)
    assert exc.value.message_dict == {"period": [
        f"Laporan Dede Kurnia untuk bulan 10-2026 sudah ada (#{first.pk}); ubah laporan itu."]}
    first.refresh_from_db()
    assert first.households_validated == 40
    assert ActivityReport.objects.count() == 1


def test_database_holds_one_report_per_worker_and_month(worker):
    ActivityReport.objects.create(worker=worker, period=D(2026, 10, 1))
    with pytest.raises(IntegrityError, match="period|psks_report_per_month"), \
            transaction.atomic():
        ActivityReport.objects.create(worker=worker, period=D(2026, 10, 1))
    with pytest.raises(IntegrityError, match="psks_report_period_day1"), transaction.atomic():
        ActivityReport.objects.create(worker=worker, period=D(2026, 11, 15))


def test_report_for_a_worker_of_another_kab_kota_is_refused(lebak_operator, worker):
    with pytest.raises(PermissionDenied):
        services.report_save(actor=lebak_operator, worker=worker, period=D(2026, 10, 1))
    assert not ActivityReport.objects.exists()


def test_api_create_normalises_the_period(pandeglang_operator, worker, api_as):
    response = api_as(pandeglang_operator).post(
        REPORTS, {"worker": worker.pk, "period": "2026-10-15", "households_validated": 40},
        format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["period"], response.json()["status"]) == ("2026-10-01", "draft")


@pytest.mark.parametrize("day", [1, 15])
def test_api_second_report_for_a_month_is_refused(pandeglang_operator, worker, api_as, day):
    existing = services.report_save(actor=pandeglang_operator, worker=worker,
                                    period=D(2026, 10, 1), households_validated=40)
    response = api_as(pandeglang_operator).post(
        REPORTS, {"worker": worker.pk, "period": f"2026-10-{day:02d}",
                  "households_validated": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"period": [
        f"Laporan Dede Kurnia untuk bulan 10-2026 sudah ada (#{existing.pk}); ubah laporan "
        "itu."]}
    existing.refresh_from_db()
    assert existing.households_validated == 40


def test_api_edit_of_an_accepted_report_is_refused(pandeglang_operator, api_as):
    report = report_in("diterima")
    response = api_as(pandeglang_operator).patch(f"{REPORTS}{report.pk}/",
                                                 {"households_validated": 99}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Laporan berstatus Diterima tidak dapat diubah."]}


# --- API actions and Idempotency-Key ----------------------------------------------------------


def post(client, url, data=None, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url, data or {}, format="json", headers=headers)


def test_api_submit_accept_with_idempotency_replay(pandeglang_operator, worker, api_as,
                                                   make_user):
    client = api_as(pandeglang_operator)
    report = services.report_save(actor=pandeglang_operator, worker=worker,
                                  period=D(2026, 10, 1))
    url = f"{REPORTS}{report.pk}"

    first = post(client, f"{url}/submit/", key="kirim-2026-10")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "diajukan"
    again = post(client, f"{url}/submit/", key="kirim-2026-10")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (
        200, first.json(), "true")
    # without the key a second submit is refused: the replay did not run the action again
    assert post(client, f"{url}/submit/").status_code == 400

    own = post(client, f"{url}/accept/")  # four eyes: not by who submitted it
    assert own.status_code == 403 and "prinsip empat mata" in own.json()["detail"]
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    client = api_as(colleague)
    accepted = post(client, f"{url}/accept/", key="terima-2026-10")
    assert accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["submitted_by"],
            accepted.json()["reviewed_by"]) == (
        "diterima", pandeglang_operator.username, colleague.username)
    replay = post(client, f"{url}/accept/", key="terima-2026-10")
    assert (replay.status_code, replay.json()) == (200, accepted.json())
    assert replay["Idempotent-Replayed"] == "true"

    # the same key for another request is refused
    reused = post(client, f"{url}/reject/", key="terima-2026-10")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


def test_api_reject_needs_a_reason_and_replays(pandeglang_operator, api_as):
    client = api_as(pandeglang_operator)
    report = report_in("diajukan")
    url = f"{REPORTS}{report.pk}/reject/"

    missing = post(client, url, key="tolak-1")
    assert missing.status_code == 400
    assert list(missing.json()["errors"]) == ["reason"]
    blank = post(client, url, {"reason": " "}, key="tolak-1")  # failures are not stored
    assert blank.status_code == 400

    rejected = post(client, url, {"reason": "Lampiran kosong"}, key="tolak-1")
    assert rejected.status_code == 200, rejected.content
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        "ditolak", "Lampiran kosong")
    replay = post(client, url, {"reason": "Lampiran kosong"}, key="tolak-1")
    assert (replay.status_code, replay.json(), replay["Idempotent-Replayed"]) == (
        200, rejected.json(), "true")
    assert post(client, url, {"reason": "Lain"}, key="tolak-1").status_code == 422

    report.refresh_from_db()
    assert (report.status, report.rejection_reason) == ("ditolak", "Lampiran kosong")


@pytest.mark.parametrize("name, body, message", [
    ("laporan.exe", b"MZ\x90\x00" + b"\x00" * 64,
     "Jenis berkas .exe tidak diterima; gunakan .pdf, .jpg, .jpeg, .png, .docx, .xlsx."),
    ("laporan", b"%PDF-1.4", "Jenis berkas .? tidak diterima; gunakan .pdf, .jpg, .jpeg, .png, "
                             ".docx, .xlsx."),
])
def test_a_report_attachment_is_a_document_or_a_picture(pandeglang_operator, api_as, worker,
                                                        settings, tmp_path, name, body, message):
    """Security audit (December 2026): the monthly report's attachment took any file of any
    size and type through the API (an executable was stored under MEDIA_ROOT with its URL in
    the answer). Now the field takes a PDF, a picture or an Office document of at most 10 MB,
    on every door."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = api_as(pandeglang_operator).post(REPORTS, {
        "worker": worker.pk, "period": "2026-10-01", "households_validated": 40,
        "attachment": SimpleUploadedFile(name, body)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"attachment": [message]}
    assert not ActivityReport.objects.exists()


def test_a_report_attachment_over_10_mb_is_refused(pandeglang_operator, api_as, worker,
                                                   settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = api_as(pandeglang_operator).post(REPORTS, {
        "worker": worker.pk, "period": "2026-10-01", "households_validated": 40,
        "attachment": SimpleUploadedFile("laporan.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024))},
        format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"attachment": ["Berkas paling besar 10 MB."]}


def test_a_pdf_report_attachment_is_stored(pandeglang_operator, api_as, worker, settings,
                                           tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = api_as(pandeglang_operator).post(REPORTS, {
        "worker": worker.pk, "period": "2026-10-01", "households_validated": 40,
        "attachment": SimpleUploadedFile("laporan.pdf", b"%PDF-1.4 laporan")},
        format="multipart")
    assert response.status_code == 201, response.content[:300]
    assert ActivityReport.objects.get().attachment.name.startswith("laporan/")
