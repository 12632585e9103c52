"""Review (December 2026): rows stored before the new model validators (account digits,
upload rules) could no longer be worked on: every later full_clean asked the new rules of the
old, unchanged value. An operations audit found the same for phones and status dates
(psks/0013) after an upgrade with data: one mechanism now, ``dinsos.services.clean_written``."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from jamsosratu import services
from jamsosratu.models import Enrolment, Payment
from pmks import services as pmks_services
from pmks.models import Person
from psks import services as psks_services
from psks.models import Institution, Worker
from tests.factories import (
    DESA_PANDEGLANG,
    ActivityReportFactory,
    InstitutionFactory,
    WorkerFactory,
    cycle_with_tranches,
)
from tests.jamsosratu.factories import enrol, household
from tests.pmks.factories import RegistryPersonFactory

D = datetime.date
OLD_ACCOUNT = "0012-3456-7890"  # stored before migration jamsosratu/0009 (any text was taken)


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750001", ("1", "1"))


@pytest.mark.django_db
def test_payment_with_an_account_stored_before_0009_can_still_be_marked_paid(cycle,
                                                                           province_operator):
    active = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    payment = Payment.objects.get(enrolment=active, tranche=first)
    Payment.objects.filter(pk=payment.pk).update(account_number=OLD_ACCOUNT)

    # the bank has paid it; recording that must not depend on the old account's format
    services.payment_mark(actor=province_operator, payment=payment, status="disalurkan",
                          paid_on=D(2026, 6, 15), reference="BB-2026-0001")
    payment.refresh_from_db()
    assert payment.status == "disalurkan"


@pytest.mark.django_db
def test_enrolment_with_an_account_stored_before_0009_can_still_be_excluded(cycle,
                                                                          province_operator):
    active = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    Enrolment.objects.filter(pk=active.pk).update(account_number=OLD_ACCOUNT)
    active.refresh_from_db()

    services.enrolment_transition(actor=province_operator, enrolment=active,
                                  to_status="dikeluarkan", reason="Pindah ke luar provinsi")
    active.refresh_from_db()
    assert active.status == "dikeluarkan"


@pytest.mark.django_db
def test_report_with_an_attachment_stored_before_the_upload_rules_can_still_be_edited(
        pandeglang_operator):
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    report = ActivityReportFactory(worker=worker, period=D(2026, 10, 1), status="ditolak")
    ActivityReportFactory._meta.model.objects.filter(pk=report.pk).update(
        attachment="laporan/2026/10/notulen-rakor.doc")  # a Word 97 file, taken before
    report.refresh_from_db()

    psks_services.report_update(actor=pandeglang_operator, report=report,
                                notes="Jumlah kunjungan diperbaiki")
    report.refresh_from_db()
    assert report.notes == "Jumlah kunjungan diperbaiki"


@pytest.mark.django_db
def test_report_whose_stored_attachment_is_not_in_storage_edits_without_a_500(
        pandeglang_operator, settings, tmp_path):
    """The validator asks the stored file's size of the storage on every edit: an attachment
    the storage no longer holds (restored database, media on another volume) is an
    unhandled FileNotFoundError (500), not a refusal."""
    settings.MEDIA_ROOT = tmp_path
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    report = ActivityReportFactory(worker=worker, period=D(2026, 10, 1), status="draft")
    ActivityReportFactory._meta.model.objects.filter(pk=report.pk).update(
        attachment="laporan/2026/10/notulen.pdf")
    report.refresh_from_db()

    psks_services.report_update(actor=pandeglang_operator, report=report, notes="diperbaiki")


# --- an upgrade with data (operations audit): psks/0013's phone and status-date rules --------

@pytest.mark.django_db
def test_worker_with_a_phone_stored_before_psks_0013_can_still_be_renamed(pandeglang_operator):
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    Worker.objects.filter(pk=worker.pk).update(phone="+62 812-3456 WA")  # taken before 0013
    worker.refresh_from_db()

    psks_services.worker_update(actor=pandeglang_operator, worker=worker, name="Nama Diperbaiki")
    worker.refresh_from_db()
    assert worker.name == "Nama Diperbaiki"


@pytest.mark.django_db
def test_institution_with_a_phone_stored_before_psks_0013_can_still_be_edited(
        pandeglang_operator):
    institution = InstitutionFactory(desa_id=DESA_PANDEGLANG)
    Institution.objects.filter(pk=institution.pk).update(phone="(0254) 123-456 ext.2")
    institution.refresh_from_db()

    psks_services.institution_update(actor=pandeglang_operator, institution=institution,
                                     name="LKS Nama Baru")
    institution.refresh_from_db()
    assert institution.name == "LKS Nama Baru"


@pytest.mark.django_db
def test_worker_with_a_status_date_stored_ahead_before_psks_0013_can_still_be_renamed(
        pandeglang_operator):
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    ahead = datetime.date.today() + datetime.timedelta(days=180)
    Worker.objects.filter(pk=worker.pk).update(status_date=ahead)  # taken before 0013
    worker.refresh_from_db()

    psks_services.worker_update(actor=pandeglang_operator, worker=worker, name="Nama Diperbaiki")
    worker.refresh_from_db()
    assert worker.name == "Nama Diperbaiki"


@pytest.mark.django_db
def test_a_worker_stored_before_the_rules_is_still_asked_them_when_written(pandeglang_operator):
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    Worker.objects.filter(pk=worker.pk).update(phone="+62 812-3456 WA")
    with pytest.raises(ValidationError) as refused:
        psks_services.worker_update(actor=pandeglang_operator, worker=worker,
                                    phone="+62 812-3456 WA lagi")
    assert list(refused.value.message_dict) == ["phone"]


@pytest.mark.django_db
def test_a_person_stored_with_a_birth_date_ahead_can_still_be_renamed(pandeglang_operator):
    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG, nik=None)
    ahead = datetime.date.today() + datetime.timedelta(days=30)  # taken by an older door
    Person.objects.filter(pk=person.pk).update(birth_date=ahead)
    pmks_services.person_update(actor=pandeglang_operator, person=person, name="Nama Baru")
    assert Person.objects.get(pk=person.pk).name == "Nama Baru"
