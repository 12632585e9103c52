"""Review (December 2026): rows stored before the new model validators (account digits,
upload rules) could no longer be worked on: every later full_clean asked the new rules of the
old, unchanged value."""

import datetime

import pytest

from jamsosratu import services
from jamsosratu.models import Enrolment, Payment
from psks import services as psks_services
from tests.factories import (
    DESA_PANDEGLANG,
    ActivityReportFactory,
    WorkerFactory,
    cycle_with_tranches,
)
from tests.jamsosratu.factories import enrol, household

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
