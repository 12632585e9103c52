"""An update service works on the stored row, not on the caller's copy: a copy read before
another officer's change (a stop, an end, a review) never writes that change back. The same
defects as the PostgreSQL races (tests/psks/test_races.py), with the copies read in turn."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse

from psks import services
from psks.models import ActivityReport, Assignment, Institution, Worker
from tests.factories import DESA_PANDEGLANG, ActivityReportFactory, WorkerFactory
from tests.helpers import client_for
from tests.psks.factories import assign

pytestmark = pytest.mark.django_db

D = datetime.date
STOPPED = D(2026, 5, 31)


@pytest.fixture
def dede(db):
    return WorkerFactory(name="Dede Kurnia", desa_id=DESA_PANDEGLANG)


def stop(actor, worker, on=STOPPED):
    services.worker_set_status(actor=actor, worker=Worker.objects.get(pk=worker.pk),
                               status="berhenti", on=on, reason="Mengundurkan diri")


def test_an_edit_from_a_copy_read_before_the_end_keeps_the_end(province_operator, dede):
    assignment = assign(province_operator, dede)
    services.assignment_end(actor=province_operator,
                            assignment=Assignment.objects.get(pk=assignment.pk),
                            end_date=D(2026, 11, 30), reason="Pindah tugas")
    edited = services.assignment_update(actor=province_operator, assignment=assignment,
                                        decree_number="460/001/Dinsos/2025-rev")
    assignment.refresh_from_db()
    assert (assignment.decree_number, assignment.end_date, assignment.end_reason) == (
        "460/001/Dinsos/2025-rev", D(2026, 11, 30), "Pindah tugas")
    assert edited.end_date == D(2026, 11, 30)  # the caller gets the stored row


def test_a_worker_edit_from_a_copy_read_before_the_stop_keeps_the_stop(province_operator,
                                                                       dede):
    stop(province_operator, dede)
    services.worker_update(actor=province_operator, worker=dede, phone="0812 3456 7890")
    dede.refresh_from_db()
    assert (dede.phone, dede.status, dede.status_reason) == (
        "0812 3456 7890", "berhenti", "Mengundurkan diri")


def test_a_copy_read_before_the_stop_is_not_assigned(province_operator, dede):
    stop(province_operator, dede)
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede)  # dede: the copy that still says aktif
    assert exc.value.message_dict == {"worker": [
        "Hanya tenaga berstatus aktif yang dapat ditugaskan."]}
    assert not Assignment.objects.exists()


def test_a_stopped_workers_assignment_is_not_reopened(province_operator, dede):
    assignment = assign(province_operator, dede)
    stop(province_operator, dede)
    with pytest.raises(ValidationError) as exc:
        services.assignment_update(actor=province_operator, assignment=assignment,
                                   end_date=D(2029, 12, 31))
    assert exc.value.message_dict == {"end_date": [
        "Tenaga ini sudah berhenti per 31 Mei 2026; penugasannya tidak dapat diperpanjang "
        "atau dibuka kembali."]}
    # a correction that does not make it run again is still made
    services.assignment_update(actor=province_operator, assignment=assignment,
                               decree_number="460/001/Dinsos/2025-rev")
    assignment.refresh_from_db()
    assert (assignment.decree_number, assignment.end_date) == ("460/001/Dinsos/2025-rev",
                                                               D(2026, 5, 31))


def test_a_report_edit_from_a_draft_copy_is_refused_once_submitted(pandeglang_operator, dede):
    report = ActivityReportFactory(worker=dede, period=D(2026, 10, 1), status="draft")
    services.report_submit(actor=pandeglang_operator,
                           report=ActivityReport.objects.get(pk=report.pk))
    with pytest.raises(ValidationError, match="tidak dapat diubah"):
        services.report_update(actor=pandeglang_operator, report=report, households_visited=3)
    report.refresh_from_db()
    assert report.status == "diajukan"


def test_an_institution_edit_from_an_old_copy_keeps_the_other_change(pandeglang_operator):
    institution = services.institution_create(
        actor=pandeglang_operator, type="lks", name="LKS Harapan", desa_id=DESA_PANDEGLANG)
    services.institution_update(actor=pandeglang_operator,
                                institution=Institution.objects.get(pk=institution.pk),
                                status="tidak_aktif")
    services.institution_update(actor=pandeglang_operator, institution=institution,
                                name="LKS Harapan Bangsa")
    institution.refresh_from_db()
    assert (institution.name, institution.status) == ("LKS Harapan Bangsa", "tidak_aktif")


def _admin_change(user, url, obj, **changes):
    """Post the admin change form of ``obj`` as the page shows it, with ``changes``."""
    client = client_for(user)
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in model_to_dict(obj, fields=list(form.fields)).items()
            if value is not None}
    for prefix in ("assignments", "bank_accounts", "reports", "board_members"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(changes)
    return client.post(url, data)


def test_the_admin_edits_a_worker_through_the_update_service(province_operator, dede):
    assert {"status", "status_date", "status_reason"}.isdisjoint(
        _admin_form_fields(province_operator, reverse("admin:psks_worker_change",
                                                      args=[dede.pk])))
    response = _admin_change(province_operator,
                             reverse("admin:psks_worker_change", args=[dede.pk]), dede,
                             phone="0812 3456 7890")
    assert response.status_code == 302, response.context["adminform"].form.errors
    dede.refresh_from_db()
    assert (dede.phone, dede.status) == ("0812 3456 7890", "aktif")


def _admin_form_fields(user, url):
    return set(client_for(user).get(url).context["adminform"].form.fields)
