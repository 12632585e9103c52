"""Found in a browser walk of the staff pages (twelfth session): a birth date in the future was
saved through the staff form (the import refused it), a case could be "identified" next year,
and the same open case could be recorded twice for one person. Each surface that writes these
records — staff page, admin, API — is driven here; every test fails on the code before."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pmks import services as registry
from pmks.models import Case, Category, Household, Person, Service
from psks.models import Worker
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for, version_in
from tests.pmks.factories import no_kk_for

pytestmark = pytest.mark.django_db

API = "/api/v1/pmks/"


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def _future_message(what: str) -> str:
    return (f"{what} {tomorrow():%d-%m-%Y} ada di masa depan; "
            f"hari ini {timezone.localdate():%d-%m-%Y}.")


PERSON = {"nik": "", "name": "Bayi Belum Lahir", "birth_place": "Pandeglang", "sex": "P",
          "desa": DESA_PANDEGLANG, "disability": "tidak", "schooling": "", "occupation": ""}


# --- dates that cannot lie ahead ---------------------------------------------------------------


def test_the_staff_form_refuses_a_birth_date_in_the_future(pandeglang_operator):
    response = client_for(pandeglang_operator).post(
        reverse("pmks:person-create"), {**PERSON, "birth_date": tomorrow().isoformat()})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "birth_date": [_future_message("Tanggal lahir")]}
    assert not Person.objects.exists()


def test_a_birth_on_todays_date_is_registered(pandeglang_operator):
    response = client_for(pandeglang_operator).post(
        reverse("pmks:person-create"),
        {**PERSON, "birth_date": timezone.localdate().isoformat()})
    assert response.status_code == 302
    assert Person.objects.get().birth_date == timezone.localdate()


def test_the_api_refuses_a_future_birth_date_for_a_person_and_a_worker(pandeglang_operator,
                                                                        api_as):
    client = api_as(pandeglang_operator)
    person = client.post(f"{API}persons/", {
        "name": "Bayi", "birth_date": tomorrow().isoformat(), "sex": "P",
        "desa": DESA_PANDEGLANG}, format="json")
    assert person.status_code == 400
    assert person.json()["errors"] == {"birth_date": [_future_message("Tanggal lahir")]}
    worker = client.post("/api/v1/psks/workers/", {
        "name": "Dede", "sex": "L", "birth_date": tomorrow().isoformat(), "education": "s1",
        "phone": "081234567890", "address": "Kp. Sumur", "desa": DESA_PANDEGLANG},
        format="json")
    assert worker.status_code == 400
    assert worker.json()["errors"]["birth_date"] == [_future_message("Tanggal lahir")]
    assert not Person.objects.exists() and not Worker.objects.exists()


def test_a_death_cannot_be_recorded_for_tomorrow(pandeglang_operator, api_as):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    response = api_as(pandeglang_operator).patch(
        f"{API}persons/{person.pk}/", {"life_status": "meninggal",
                                       "life_status_date": tomorrow().isoformat()},
        format="json", HTTP_IF_MATCH=_etag(api_as(pandeglang_operator), person))
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"life_status_date": [_future_message("Tanggal status")]}
    person.refresh_from_db()
    assert person.life_status == "hidup"


def _etag(client, person) -> str:
    return client.get(f"{API}persons/{person.pk}/")["ETag"]


def test_a_case_cannot_be_identified_tomorrow_on_the_page_or_the_api(pandeglang_operator,
                                                                      api_as):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    category = Category.objects.get(slug="lanjut-usia-terlantar")
    page = _post_case(client_for(pandeglang_operator), person, {
        "category": category.pk, "identified_on": tomorrow().isoformat(), "source": "tksk"})
    assert page.status_code == 400
    assert page.context["open_form"].errors == {
        "identified_on": [_future_message("Tanggal teridentifikasi")]}
    api = api_as(pandeglang_operator).post(f"{API}cases/", {
        "person": person.pk, "category": category.slug,
        "identified_on": tomorrow().isoformat(), "source": "tksk"}, format="json")
    assert api.status_code == 400
    assert api.json()["errors"] == {
        "identified_on": [_future_message("Tanggal teridentifikasi")]}
    assert not Case.objects.exists()


# --- one open case per subject and category ----------------------------------------------------


INLINES = {f"{prefix}-{name}": 0 for prefix in ("services", "transitions")
           for name in ("TOTAL_FORMS", "INITIAL_FORMS")}


def _post_case(client, person, post):
    """The person page's "Catat kasus baru" form, with the version the page carries."""
    url = reverse("pmks:case-open", args=[person.pk])
    page = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    return client.post(url, {**post, "if_match": version_in(page, url)})


def _open(actor, **subject):
    return registry.case_open(actor=actor, category=Category.objects.get(slug=subject.pop(
        "slug", "lanjut-usia-terlantar")), identified_on=datetime.date(2026, 11, 15),
        source="tksk", **subject)


def test_a_form_sent_twice_opens_the_case_once(pandeglang_operator):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    category = Category.objects.get(slug="lanjut-usia-terlantar")
    post = {"category": category.pk, "identified_on": "2026-11-15", "source": "tksk"}
    client = client_for(pandeglang_operator)
    first = _post_case(client, person, post)
    again = _post_case(client, person, post)  # sent again from a fresh page
    assert first.status_code == 302
    assert again.status_code == 400
    assert again.context["open_form"].errors == {"category": [
        "Orang ini sudah punya kasus Lanjut Usia Terlantar yang masih terbuka (teridentifikasi "
        "15 November 2026, status Teridentifikasi); lanjutkan kasus itu."]}
    assert Case.objects.filter(person=person).count() == 1


def test_the_api_and_the_admin_refuse_a_second_open_case(pandeglang_operator, api_as):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    _open(pandeglang_operator, person=person)
    api = api_as(pandeglang_operator).post(f"{API}cases/", {
        "person": person.pk, "category": "lanjut-usia-terlantar", "identified_on": "2026-11-20",
        "source": "psm"}, format="json")
    assert api.status_code == 400
    assert list(api.json()["errors"]) == ["category"]
    admin = client_for(pandeglang_operator).post(reverse("admin:pmks_case_add"), {
        "person": person.pk, "category": Category.objects.get(slug="lanjut-usia-terlantar").pk,
        "identified_on": "2026-11-20", "source": "psm", **INLINES})
    assert admin.status_code == 200  # the form again, with the error
    assert "sudah punya kasus Lanjut Usia Terlantar yang masih terbuka" in admin.content.decode()
    assert Case.objects.filter(person=person).count() == 1


def test_a_household_case_once_while_open(pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    _open(pandeglang_operator, household=household, slug="fakir-miskin")
    with pytest.raises(Exception, match="Keluarga ini sudah punya kasus Fakir Miskin"):
        _open(pandeglang_operator, household=household, slug="fakir-miskin")


def test_a_closed_case_or_another_category_may_be_opened_again(pandeglang_operator):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    first = _open(pandeglang_operator, person=person)
    _open(pandeglang_operator, person=person, slug="penyandang-disabilitas")  # other category
    registry.case_transition(actor=pandeglang_operator, case=first, to_status="ditutup",
                             reason="Pindah", close_reason="pindah")
    again = _open(pandeglang_operator, person=person)  # the old one is closed
    assert again.pk != first.pk
    assert Case.objects.filter(person=person).count() == 3


# --- a new household's head ----------------------------------------------------------------------


def test_a_new_household_cannot_be_given_a_head_who_is_not_its_member(pandeglang_operator,
                                                                       api_as):
    """Found in a browser walk: the admin's "add household" saved a head who belonged to no
    household (the member check ran only for a stored household), so the household had a
    head and no members. A new household has no members: its first member registered as
    head becomes its head."""
    stranger = PersonFactory(desa_id=DESA_PANDEGLANG)
    body = {"no_kk": no_kk_for(), "address": "Kp. Sumur", "desa": DESA_PANDEGLANG,
            "head": stranger.pk}
    api = api_as(pandeglang_operator).post(f"{API}households/", body, format="json")
    assert api.status_code == 400
    assert api.json()["errors"] == {"head": ["Kepala keluarga harus anggota keluarga ini."]}
    admin = client_for(pandeglang_operator).post(reverse("admin:pmks_household_add"), {
        **body, "persons-TOTAL_FORMS": 0, "persons-INITIAL_FORMS": 0})
    assert admin.status_code == 200
    assert admin.context["adminform"].form.errors == {
        "head": ["Kepala keluarga harus anggota keluarga ini."]}
    assert not Household.objects.exists()
    without_head = api_as(pandeglang_operator).post(
        f"{API}households/", {**body, "head": None}, format="json")
    assert without_head.status_code == 201, without_head.content


# --- a Rupiah amount as Indonesians type it -------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("1.500.000", Decimal("1500000")), ("Rp 750.000", Decimal("750000")),
    ("1.500.000,00", Decimal("1500000")), ("1500000", Decimal("1500000"))])
def test_a_service_value_typed_with_thousands_dots(pandeglang_operator, typed, stored):
    """Found in a browser walk: "1.500.000" in "Nilai (Rp)" was refused with "no more than 2
    decimal places" (read as 1.5); "750.000" likewise. Dots group thousands in Indonesian."""
    case, post = _service_post(pandeglang_operator)
    response = _post_service(pandeglang_operator, case, {**post, f"s{case.pk}-value_amount": typed})
    assert response.status_code == 302, response.context and response.context.get("errors")
    service = Service.objects.get(case=case)
    assert service.value_amount == stored
    page = client_for(pandeglang_operator).get(
        reverse("pmks:person-detail", args=[case.person_id])).content.decode()
    shown = {Decimal("1500000"): "1.500.000", Decimal("750000"): "750.000"}[stored]
    assert f'name="l{service.pk}-value_amount" value="{shown}"' in page  # its edit form


@pytest.mark.parametrize(("typed", "error"), [
    ("1.5", "Nilai harus dalam rupiah penuh (tanpa sen), mis. 1500000."),
    ("1.50.000", "Nilai (Rp): angka tidak dikenali. Tulis rupiah penuh, misalnya 1.500.000."),
    ("-1.000", "Nilai tidak boleh negatif."),
    # full-width digits were read by Decimal as 10 (found by a form fuzz)
    ("１０", "Nilai (Rp): angka tidak dikenali. Tulis rupiah penuh, misalnya 1.500.000.")])
def test_a_service_value_that_is_not_whole_rupiah_is_refused(pandeglang_operator, typed, error):
    case, post = _service_post(pandeglang_operator)
    response = _post_service(pandeglang_operator, case, {**post, f"s{case.pk}-value_amount": typed})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Service.objects.exists()


def _service_post(actor):
    from pmks.models import ServiceType

    case = registry.case_transition(actor=actor, case=_open(actor, person=PersonFactory(
        desa_id=DESA_PANDEGLANG)), to_status="terverifikasi", reason="Dikunjungi TKSK")
    post = {f"s{case.pk}-{name}": value for name, value in {
        "service_type": ServiceType.objects.get(code="pembinaan-keterampilan").pk,
        "start_date": "2026-11-20", "funding_source": "apbd_provinsi",
        "provider_name": "LKS Mekar Sari"}.items()}
    return case, post


def _post_service(actor, case, post):
    client = client_for(actor)
    url = reverse("pmks:service-record", args=[case.person_id, case.pk])
    page = client.get(reverse("pmks:person-detail", args=[case.person_id])).content.decode()
    return client.post(url, {**post, "if_match": version_in(page, url)})


# --- the person page's history: changes, and reads counted apart ---------------------------------


def test_reads_do_not_bury_the_changes_in_the_history(pandeglang_operator):
    """Found in a browser walk: every opening of a person page added "… dibuka melalui halaman
    staf" to "Riwayat perubahan" (47 of 48 entries after a walk), and the page keeps the
    newest 100 entries, so the registration itself fell off. Changes stay; reads are counted."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    client = client_for(pandeglang_operator)
    created = client.post(reverse("pmks:person-create"), {
        **PERSON, "name": "Icih Sukaesih", "birth_date": "1980-08-17"})
    assert created.status_code == 302
    person = Person.objects.get(name="Icih Sukaesih")
    registry.person_update(actor=pandeglang_operator, person=person, occupation="Petani")
    LogEntry.objects.bulk_create([LogEntry(
        content_type=ContentType.objects.get_for_model(Person), object_pk=str(person.pk),
        object_id=person.pk, object_repr=str(person), action=LogEntry.Action.ACCESS,
        actor=pandeglang_operator) for _ in range(120)])
    page = client.get(reverse("pmks:person-detail", args=[person.pk]))  # logged after
    history = page.context["history"]
    assert [h["action"] for h in history] == ["diubah", "dibuat"]
    assert page.context["opened"]["count"] == 120
    html = page.content.decode()
    assert "Data ini dibuka 120 kali; terakhir" in html
    assert "dibuka melalui" not in html


def test_two_open_cases_recorded_before_the_rule_can_still_be_worked_on(pandeglang_operator):
    """The rule is asked when a case is opened: duplicates already stored (as the walk left
    them) can still move on and be closed, or one of them could never be resolved."""
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    first = _open(pandeglang_operator, person=person)
    second = Case.objects.create(person=person, category=first.category, desa_id=person.desa_id,
                                 identified_on=first.identified_on, source="tksk")
    registry.case_update(actor=pandeglang_operator, case=second,
                         description="Laporan kedua dari PSM")  # full_clean: Case.clean
    registry.case_transition(actor=pandeglang_operator, case=second, to_status="terverifikasi",
                             reason="Dikunjungi")
    registry.case_transition(actor=pandeglang_operator, case=first, to_status="ditutup",
                             reason="Ganda", close_reason="duplikat")
    assert sorted(Case.objects.filter(person=person).values_list("status", flat=True)) == [
        "ditutup", "terverifikasi"]


def test_a_case_without_person_or_household_in_the_admin_names_the_rule(pandeglang_operator):
    """The accessibility audit: Admin > Kasus > Tambah with neither a person nor a household
    showed 'Batasan “pmks_case_one_subject” dilanggar.' - a database constraint's name, not
    what to fix. The constraint now says the rule in words."""
    admin = client_for(pandeglang_operator).post(reverse("admin:pmks_case_add"), {
        "category": Category.objects.get(slug="lanjut-usia-terlantar").pk,
        "identified_on": "2026-11-20", "source": "psm", **INLINES})
    assert admin.status_code == 200
    page = admin.content.decode()
    assert "pmks_case_one_subject" not in page
    assert ("Kasus harus untuk satu orang atau satu keluarga, tidak keduanya dan tidak kosong."
            in page)
    assert not Case.objects.exists()
