"""Review (December 2026): rows stored before the new model validators (account digits,
upload rules) could no longer be worked on: every later full_clean asked the new rules of the
old, unchanged value. An operations audit found the same for phones and status dates
(psks/0013) after an upgrade with data: one mechanism now, ``dinsos.services.clean_written``."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse

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
from tests.helpers import client_for
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

AHEAD = datetime.date.today() + datetime.timedelta(days=180)

#: (what, its factory, the value stored before the rule, the update service and the field it
#: changes): each record must still be edited in another field
STORED_BEFORE_A_RULE = {
    "worker phone": (lambda: WorkerFactory(desa_id=DESA_PANDEGLANG),
                     {"phone": "+62 812-3456 WA"}, psks_services.worker_update, "worker"),
    "worker status date ahead": (lambda: WorkerFactory(desa_id=DESA_PANDEGLANG),
                                 {"status_date": AHEAD}, psks_services.worker_update, "worker"),
    "institution phone": (lambda: InstitutionFactory(desa_id=DESA_PANDEGLANG),
                          {"phone": "(0254) 123-456 ext.2"}, psks_services.institution_update,
                          "institution"),
    "person birth date ahead": (lambda: RegistryPersonFactory(desa_id=DESA_PANDEGLANG, nik=None),
                                {"birth_date": AHEAD}, pmks_services.person_update, "person"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(STORED_BEFORE_A_RULE))
def test_a_value_stored_before_a_later_rule_does_not_block_editing_another_field(
        case, pandeglang_operator):
    """Operations audit (an upgrade with data from 082eb3d): phones typed as the old free text
    allowed and status dates set ahead blocked every edit of their worker or LKS after
    psks/0013; the same for a person's birth date."""
    make, stored, update, name = STORED_BEFORE_A_RULE[case]
    record = make()
    type(record).objects.filter(pk=record.pk).update(**stored)  # taken by an older rule
    record.refresh_from_db()
    update(actor=pandeglang_operator, **{name: record}, name="Nama Diperbaiki")
    record.refresh_from_db()
    assert record.name == "Nama Diperbaiki"
    assert all(getattr(record, field) == value for field, value in stored.items())


@pytest.mark.django_db
def test_a_worker_stored_before_the_rules_is_still_asked_them_when_written(pandeglang_operator):
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    Worker.objects.filter(pk=worker.pk).update(phone="+62 812-3456 WA")
    with pytest.raises(ValidationError) as refused:
        psks_services.worker_update(actor=pandeglang_operator, worker=worker,
                                    phone="+62 812-3456 WA lagi")
    assert list(refused.value.message_dict) == ["phone"]


# --- a review of the change: every door asks only what it changes -----------------------------

# Review: clean_written reaches person_update but not person_upsert (the sync door): the same stored
#    person that person_update may rename is refused by the sync's upsert.
def test_sync_person_upsert_renames_a_person_stored_with_a_status_date_ahead(
        pandeglang_operator):
    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG)
    ahead = datetime.date.today() + datetime.timedelta(days=30)  # a status date typed ahead
    Person.objects.filter(pk=person.pk).update(life_status="pindah", life_status_date=ahead)
    # the update service takes it (the commit's own test)
    pmks_services.person_update(actor=pandeglang_operator, person=Person.objects.get(
        pk=person.pk), name="Nama Baru")
    # the sync upsert of the same person, only the name written, does not
    pmks_services.person_upsert(actor=pandeglang_operator, nik=person.nik, name="Nama Lagi")
    assert Person.objects.get(pk=person.pk).name == "Nama Lagi"


# Review: The admin change form still asks the field rules of a legacy value it did not change
#    (the form's own full_clean), so "phones after psks/0013 no longer block edits" is not
#    true in the admin.
def test_admin_renames_a_worker_whose_phone_was_stored_before_psks_0013(province_operator):
    worker = WorkerFactory(desa_id=DESA_PANDEGLANG)
    Worker.objects.filter(pk=worker.pk).update(phone="+62 812-3456 WA")
    worker.refresh_from_db()
    url = reverse("admin:psks_worker_change", args=[worker.pk])
    client = client_for(province_operator)
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in model_to_dict(worker, fields=list(form.fields)).items()
            if value is not None}
    for prefix in ("assignments", "bank_accounts", "reports"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data["name"] = "Nama Diperbaiki"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    worker.refresh_from_db()
    assert worker.name == "Nama Diperbaiki"


# Review: institution_create passes written=fields for a NEW record: fields not given are not asked
#    at all (blank, choices), so a nameless institution of no type is saved.
def test_institution_create_without_type_and_name_is_refused(pandeglang_operator):
    with pytest.raises(ValidationError):
        psks_services.institution_create(actor=pandeglang_operator, desa_id=DESA_PANDEGLANG)
    assert not Institution.objects.filter(name="").exists()


# Review: The staff page's person edit posts every field of its form as written, so the stored
#    birth date ahead that person_update now lets through (the commit's own test) still
#    refuses the rename on the page.
def test_staff_page_renames_a_person_stored_with_a_birth_date_ahead(pandeglang_operator):
    from tests.helpers import version_in
    from tests.pmks.test_person_pages import edit_post

    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG, nik=None)
    ahead = datetime.date.today() + datetime.timedelta(days=30)
    Person.objects.filter(pk=person.pk).update(birth_date=ahead)
    person.refresh_from_db()
    client = client_for(pandeglang_operator)
    url = reverse("pmks:person-update", args=[person.pk])
    version = version_in(client.get(url).content.decode())
    response = client.post(url, {**edit_post(person, name="Nama Baru"), "if_match": version})
    assert response.status_code == 302, response.context["form"].errors
    assert Person.objects.get(pk=person.pk).name == "Nama Baru"
