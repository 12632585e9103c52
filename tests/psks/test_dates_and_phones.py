"""Found in a browser walk on 1 December 2026: the workforce took dates still to come — a
monthly report for March 2027 was submitted and accepted (it releases the incentive), a rakor
dated next month counted in the coverage — and the admin's "Bulan" answered a typed day with
a database constraint's name. Each rule is asked by the model or service and driven here
through at least one door (admin, API); every test fails on the code before."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from dinsos.models import Office
from psks import selectors, services
from psks.models import ActivityReport, Institution, Meeting
from tests.factories import (
    DESA_PANDEGLANG,
    ActivityReportFactory,
    MeetingFactory,
    WorkerFactory,
)
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 12, 1)


@pytest.fixture(autouse=True)
def first_of_december():
    with time_machine.travel(datetime.datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Jakarta")),
                             tick=False):
        yield


@pytest.fixture
def worker(db):
    return WorkerFactory(name="Dede Kurnia", desa_id=DESA_PANDEGLANG)


# --- monthly reports: this month or an earlier one ------------------------------------------------

MARCH_2027 = ("Bulan laporan Maret 2027 belum tiba; laporan dibuat paling cepat untuk bulan ini "
              "(Desember 2026).")


def test_a_report_for_a_month_still_to_come_is_refused(pandeglang_operator, worker):
    with pytest.raises(ValidationError) as refused:
        services.report_save(actor=pandeglang_operator, worker=worker, period=D(2027, 3, 1),
                             households_validated=40)
    assert refused.value.message_dict == {"period": [MARCH_2027]}
    assert not ActivityReport.objects.exists()


def test_this_months_report_is_written_submitted_and_accepted(pandeglang_operator, worker,
                                                             province_operator):
    report = services.report_save(actor=pandeglang_operator, worker=worker, period=D(2026, 12, 1))
    services.report_submit(actor=pandeglang_operator, report=report)
    report = services.report_accept(actor=province_operator, report=report)
    assert (report.period, report.status) == (D(2026, 12, 1), "diterima")


def test_a_future_report_stored_before_the_rule_is_neither_submitted_nor_accepted(
        pandeglang_operator, worker):
    draft = ActivityReportFactory(worker=worker, period=D(2027, 3, 1))
    submitted = ActivityReportFactory(worker=worker, period=D(2027, 4, 1), status="diajukan")
    with pytest.raises(ValidationError) as refused:
        services.report_submit(actor=pandeglang_operator, report=draft)
    assert refused.value.message_dict == {"period": [MARCH_2027]}
    with pytest.raises(ValidationError, match="April 2027 belum tiba"):
        services.report_accept(actor=pandeglang_operator, report=submitted)
    assert set(ActivityReport.objects.values_list("status", flat=True)) == {"draft", "diajukan"}


def test_the_api_refuses_a_report_for_a_month_still_to_come(pandeglang_operator, worker, api_as):
    response = api_as(pandeglang_operator).post("/api/v1/psks/activity-reports/", {
        "worker": worker.pk, "period": "2027-03-01", "households_validated": 40}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"period": [MARCH_2027]}
    assert not ActivityReport.objects.exists()


def _admin_report(user, worker, period: str):
    return client_for(user).post(reverse("admin:psks_activityreport_add"), {
        "worker": worker.pk, "period": period, "meetings_attended": 1,
        "households_validated": 40, "pmks_identified": 3, "households_visited": 10,
        "notes": ""})


@pytest.mark.parametrize("typed", ["15/11/2026", "11/2026", "November 2026", "nov 2026",
                                   "2026-11", "2026-11-15"])
def test_the_admins_bulan_takes_a_month_or_any_day_of_it(pandeglang_operator, worker, typed):
    """"15/11/2026" answered "Batasan “psks_report_period_day1” dilanggar." (the constraint's
    name): the field takes a month, and a day names its month."""
    response = _admin_report(pandeglang_operator, worker, typed)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ActivityReport.objects.get().period == D(2026, 11, 1)


def test_the_admin_refuses_a_month_still_to_come_naming_the_field(pandeglang_operator, worker):
    response = _admin_report(pandeglang_operator, worker, "03/2027")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"period": [MARCH_2027]}
    assert not ActivityReport.objects.exists()


def test_a_report_stored_on_another_day_is_refused_in_indonesian(worker):
    """The constraint stays; its message names the field."""
    with pytest.raises(ValidationError) as refused:
        ActivityReport(worker=worker, period=D(2026, 11, 15)).full_clean()
    assert refused.value.messages == [
        "Bulan laporan harus ditulis sebagai bulan (mis. 11/2026), tanggal 1 bulan itu."]


# --- rakor: held, so not after today --------------------------------------------------------------

RAKOR_TOMORROW = "Tanggal rakor/FGD 02-12-2026 ada di masa depan; hari ini 01-12-2026."


def test_a_rakor_dated_in_the_future_is_refused(pandeglang_operator, api_as):
    with pytest.raises(ValidationError) as refused:
        services.meeting_create(actor=pandeglang_operator, kecamatan_id="36.01.01",
                                date=D(2026, 12, 2), type="rakor", agenda="Rakor bulanan")
    assert refused.value.message_dict == {"date": [RAKOR_TOMORROW]}
    response = api_as(pandeglang_operator).post("/api/v1/psks/meetings/", {
        "kecamatan": "36.01.01", "date": "2026-12-02", "type": "rakor",
        "agenda": "Rakor bulanan"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"date": [RAKOR_TOMORROW]}
    today = services.meeting_create(actor=pandeglang_operator, kecamatan_id="36.01.01",
                                    date=TODAY, type="rakor", agenda="Rakor bulanan")
    assert today.pk and Meeting.objects.count() == 1


def test_a_future_rakor_stored_before_the_rule_does_not_count_in_coverage(pandeglang_operator):
    """A kecamatan dropped out of "Tanpa rakor" with a rakor dated later this month."""
    MeetingFactory(kecamatan_id="36.01.01", date=D(2026, 12, 20))
    december = selectors.Month.of(TODAY)
    without = selectors.kecamatan_without_rakor(user=pandeglang_operator, month=december)
    assert "36.01.01" in set(without.values_list("kode", flat=True))
    MeetingFactory(kecamatan_id="36.01.01", date=TODAY)
    without = selectors.kecamatan_without_rakor(user=pandeglang_operator, month=december)
    assert "36.01.01" not in set(without.values_list("kode", flat=True))


# --- assignments: a decree is not dated ahead; the 5-year limit in the house date format ----------


def _tksk(actor, worker, **dates):
    return services.assignment_create(
        actor=actor, worker=worker, role="tksk", area="36.01.01", decree_number="460/7/2026",
        decree_office=Office.objects.get(wilayah_id="36"), funding_source="apbd_provinsi",
        **dates)


def test_a_decree_dated_in_the_future_is_refused(province_operator, worker, api_as):
    with pytest.raises(ValidationError) as refused:
        _tksk(province_operator, worker, decree_date=D(2026, 12, 2), start_date=D(2027, 1, 1),
              end_date=D(2027, 12, 31))
    assert refused.value.message_dict == {"decree_date": [
        "Tanggal SK 02-12-2026 ada di masa depan; hari ini 01-12-2026."]}
    response = api_as(province_operator).post("/api/v1/psks/assignments/", {
        "worker": worker.pk, "role": "tksk", "area": "36.01.01", "decree_number": "460/7/2026",
        "decree_date": "2027-01-15", "decree_office": Office.objects.get(wilayah_id="36").pk,
        "start_date": "2027-01-01", "end_date": "2027-12-31", "funding_source": "apbd_provinsi"},
        format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"decree_date": [
        "Tanggal SK 15-01-2027 ada di masa depan; hari ini 01-12-2026."]}
    # decreed today for a start next month: fine
    assert _tksk(province_operator, worker, decree_date=TODAY, start_date=D(2027, 1, 1),
                 end_date=D(2027, 12, 31)).pk


def test_the_five_year_limit_names_its_day_in_the_house_format(province_operator, worker):
    with pytest.raises(ValidationError) as refused:
        _tksk(province_operator, worker, decree_date=D(2026, 5, 20), start_date=D(2026, 6, 1),
              end_date=D(2031, 6, 1))
    assert refused.value.message_dict == {"end_date": [
        "SK TKSK berlaku paling lama 5 tahun (sampai sebelum 1 Juni 2031); perpanjangan dibuat "
        "sebagai penugasan baru."]}


# --- workers: the status date has happened; phones are numbers ------------------------------------


def test_a_worker_stored_before_the_phone_rule_can_still_be_stopped(pandeglang_operator,
                                                                      worker):
    """Found by a review: a status change checked the whole record, so a worker whose phone was
    stored with letters before the rule could not be stopped (e.g. deceased)."""
    type(worker).objects.filter(pk=worker.pk).update(phone="0812345 (WA)")
    worker.refresh_from_db()
    stopped = services.worker_set_status(actor=pandeglang_operator, worker=worker,
                                         status="berhenti", on=D(2026, 11, 30),
                                         reason="Meninggal dunia")
    stopped.refresh_from_db()
    assert (stopped.status, stopped.status_date, stopped.phone) == (
        "berhenti", D(2026, 11, 30), "0812345 (WA)")


def test_a_status_dated_in_the_future_is_refused(pandeglang_operator, worker, api_as):
    with pytest.raises(ValidationError) as refused:
        services.worker_set_status(actor=pandeglang_operator, worker=worker, status="nonaktif",
                                   on=D(2026, 12, 2), reason="Sakit")
    assert refused.value.message_dict == {"status_date": [
        "Tanggal status 02-12-2026 ada di masa depan; hari ini 01-12-2026."]}
    response = api_as(pandeglang_operator).post(
        f"/api/v1/psks/workers/{worker.pk}/status/",
        {"status": "berhenti", "on": "2027-01-31", "reason": "Pindah"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"status_date": [
        "Tanggal status 31-01-2027 ada di masa depan; hari ini 01-12-2026."]}
    worker.refresh_from_db()
    assert (worker.status, worker.status_date) == ("aktif", None)
    services.worker_set_status(actor=pandeglang_operator, worker=worker, status="nonaktif",
                               on=TODAY, reason="Sakit")


PHONE = "Telepon hanya boleh berisi angka, spasi, +, - dan tanda kurung, mis. 0812-3456-7890."


@pytest.mark.parametrize("phone", ["0812 abc 789", "telp 0254 123", "08I2345678", "-", "０８１２"])
def test_a_phone_with_letters_is_refused_for_worker_and_institution(pandeglang_operator, worker,
                                                                   api_as, phone):
    with pytest.raises(ValidationError) as refused:
        services.worker_update(actor=pandeglang_operator, worker=worker, phone=phone)
    assert refused.value.message_dict == {"phone": [PHONE]}
    api = api_as(pandeglang_operator)
    response = api.patch(f"/api/v1/psks/workers/{worker.pk}/", {"phone": phone}, format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {"phone": [PHONE]})
    response = api.post("/api/v1/psks/institutions/", {
        "type": "lks", "name": "LKS Harapan", "desa": DESA_PANDEGLANG, "phone": phone},
        format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {"phone": [PHONE]})
    assert not Institution.objects.exists()


@pytest.mark.parametrize("phone", ["081234567890", "+62 812-3456-7890", "(0254) 123456", ""])
def test_a_phone_as_people_write_it_is_kept(pandeglang_operator, worker, phone):
    assert services.worker_update(actor=pandeglang_operator, worker=worker,
                                  phone=phone).phone == phone
    institution = services.institution_create(actor=pandeglang_operator, type="lks",
                                              name="LKS Harapan", desa_id=DESA_PANDEGLANG,
                                              phone=phone)
    assert institution.phone == phone
