"""Staff pages of a person's daily work (issue #12): change the person's data, record a
service. Driven through the Django test client as a browser posts them."""

import datetime
from html import unescape

import pytest
from django.urls import reverse

from pmks import calculations
from pmks.models import Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, named
from tests.helpers import client_for, version_in

pytestmark = pytest.mark.django_db




def edit_post(person: Person, **changes) -> dict:
    data = {"nik": person.nik or "", "name": person.name, "birth_place": person.birth_place,
            "birth_date": person.birth_date.isoformat(), "sex": person.sex,
            "desa": person.desa_id, "disability": person.disability,
            "marital_status": person.marital_status, "chronic_illness": person.chronic_illness,
            "schooling": person.schooling, "occupation": person.occupation}
    return {**data, **changes}


# --- change a person's data --------------------------------------------------------------------

def test_operator_changes_a_persons_data_from_the_person_page(pandeglang_operator):
    person = named("Budi Santoso", desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    detail = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    url = reverse("pmks:person-update", args=[person.pk])
    assert f'href="{url}"' in detail and "Ubah data" in detail
    page = client.get(url).content.decode()
    assert person.nik in page and "Ubah data orang" in page
    response = client.post(url, {**edit_post(person, name="Budi  Santosa", schooling="smp",
                                             occupation="Nelayan"),
                                 "if_match": version_in(page)})
    assert response.status_code == 302
    assert response["Location"] == reverse("pmks:person-detail", args=[person.pk])
    person.refresh_from_db()
    assert (person.name, person.schooling, person.occupation) == ("Budi Santosa", "smp",
                                                                  "Nelayan")
    assert person.name_key == calculations.name_key("Budi Santosa")


def test_marital_status_and_chronic_illness_on_the_form_and_the_person_page(
        pandeglang_operator):
    person = named("Budi Santoso", desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    url = reverse("pmks:person-update", args=[person.pk])
    page = client.get(url).content.decode()
    assert "Status perkawinan" in page and "Penyakit kronis/menahun" in page
    assert 'value="cerai_mati"' in page and 'value="hipertensi"' in page
    detail_url = reverse("pmks:person-detail", args=[person.pk])
    detail = unescape(client.get(detail_url).content.decode())
    assert "Status perkawinan" in detail and "Penyakit kronis/menahun" in detail
    # a value outside the lists: the form says so next to the field, nothing is stored
    wrong = client.post(url, {**edit_post(person, marital_status="duda"),
                              "if_match": version_in(page)})
    assert wrong.status_code == 400
    assert "marital_status" in wrong.context["form"].errors
    response = client.post(url, {**edit_post(person, marital_status="cerai_mati",
                                             chronic_illness="stroke"),
                                 "if_match": version_in(page)})
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.marital_status, person.chronic_illness) == ("cerai_mati", "stroke")
    detail = unescape(client.get(detail_url).content.decode())
    assert 'data-testid="marital-status">Cerai mati<' in detail
    assert 'data-testid="chronic-illness">Stroke<' in detail


def test_change_errors_stand_next_to_their_field_in_indonesian(pandeglang_operator):
    person = named("Budi Santoso", desa_id=DESA_PANDEGLANG)
    other = named("Siti Aminah", desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    url = reverse("pmks:person-update", args=[person.pk])
    version = version_in(client.get(url).content.decode())
    # the NIK says 17-08-1980: another birth date is refused on the NIK or the date
    wrong_date = client.post(url, {**edit_post(person, birth_date="1981-08-17"),
                                   "if_match": version})
    assert wrong_date.status_code == 400
    errors = wrong_date.context["form"].errors
    assert "nik" in errors or "birth_date" in errors
    # another person's NIK: the uniqueness message, on the NIK field
    taken = client.post(url, {**edit_post(person, nik=other.nik), "if_match": version})
    assert taken.status_code == 400
    assert "nik" in taken.context["form"].errors
    assert "NIK" in unescape(taken.content.decode())
    person_before = Person.objects.values().get(pk=person.pk)
    assert person_before["nik"] == person.nik and person_before["birth_date"] == \
        datetime.date(1980, 8, 17)


def test_change_offers_only_desa_of_the_area(pandeglang_operator):
    person = named("Budi Santoso", desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    url = reverse("pmks:person-update", args=[person.pk])
    version = version_in(client.get(url).content.decode())
    moved = client.post(url, {**edit_post(person, desa=DESA_LEBAK), "if_match": version})
    assert moved.status_code == 400
    assert "desa" in moved.context["form"].errors
    assert Person.objects.get(pk=person.pk).desa_id == DESA_PANDEGLANG


def test_person_of_another_area_cannot_be_changed(lebak_operator):
    person = named("Budi Santoso", desa_id=DESA_PANDEGLANG)
    url = reverse("pmks:person-update", args=[person.pk])
    client = client_for(lebak_operator)
    assert client.get(url).status_code == 404
    assert client.post(url, edit_post(person, name="Bukan")).status_code == 404
    assert Person.objects.get(pk=person.pk).name == "Budi Santoso"


def test_read_only_roles_get_no_edit_link_and_no_form(auditor):
    """The auditor sees NIKs masked: it is offered no form that would carry the whole NIK."""
    person = named("Budi Santoso", desa_id=DESA_PANDEGLANG)
    client = client_for(auditor)
    url = reverse("pmks:person-update", args=[person.pk])
    detail = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    assert url not in detail
    refused = client.get(url)
    assert refused.status_code == 403
    assert person.nik not in refused.content.decode()
    assert client.post(url, edit_post(person, name="Bukan")).status_code == 403


# --- record a service on a case ----------------------------------------------------------------

def _verified_case(person, actor):
    from pmks import services as registry
    from pmks.models import Category

    case = registry.case_open(actor=actor, person=person,
                              category=Category.objects.get(slug="lanjut-usia-terlantar"),
                              identified_on=datetime.date(2026, 11, 2), source="tksk")
    return registry.case_transition(actor=actor, case=case, to_status="terverifikasi",
                                    reason="Dikunjungi TKSK")


def service_post(case, **changes) -> dict:
    from pmks.models import ServiceType

    data = {"service_type": ServiceType.objects.get(code="pembinaan-keterampilan").pk,
            "start_date": "2026-11-20", "end_date": "", "value_amount": "600000",
            "funding_source": "apbd_provinsi", "provider_office": "",
            "provider_name": "LKS Mekar Sari", "note": ""}
    return {f"s{case.pk}-{name}": value for name, value in {**data, **changes}.items()}


def test_operator_records_a_service_from_the_person_page(pandeglang_operator):
    from pmks.models import Case, Service

    person = named("Mak Icih", desa_id=DESA_PANDEGLANG)
    case = _verified_case(person, pandeglang_operator)
    client = client_for(pandeglang_operator)
    page_url = reverse("pmks:person-detail", args=[person.pk])
    url = reverse("pmks:service-record", args=[person.pk, case.pk])
    page = client.get(page_url).content.decode()
    assert "Catat layanan" in page
    response = client.post(url, {**service_post(case), "if_match": version_in(page, url)})
    assert response.status_code == 302
    assert response["Location"] == f"{page_url}#kasus-{case.pk}"
    service = Service.objects.get(case=case)
    assert (service.provider_name, service.value_amount, service.start_date) == (
        "LKS Mekar Sari", 600000, datetime.date(2026, 11, 20))
    assert Case.objects.get(pk=case.pk).status == "dalam_penanganan"
    assert "Rp600.000" in client.get(page_url).content.decode().replace("&nbsp;", "").replace(
        " ", "")


def test_service_errors_stand_next_to_their_field_in_indonesian(pandeglang_operator):
    from pmks.models import Service

    person = named("Mak Icih", desa_id=DESA_PANDEGLANG)
    case = _verified_case(person, pandeglang_operator)
    client = client_for(pandeglang_operator)
    url = reverse("pmks:service-record", args=[person.pk, case.pk])
    version = version_in(client.get(reverse("pmks:person-detail", args=[person.pk]))
                         .content.decode(), url)
    no_provider = client.post(url, {**service_post(case, provider_name=""), "if_match": version})
    assert no_provider.status_code == 400
    form = {c.pk: s for c, _f, s, _l in no_provider.context["cases"]}[case.pk]
    assert form.errors["provider_name"] == ["Isi pemberi layanan (dinas atau lembaga)."]
    assert "Isi pemberi layanan (dinas atau lembaga)." in unescape(no_provider.content.decode())
    backwards = client.post(url, {**service_post(case, end_date="2026-11-01"),
                                  "if_match": version})
    assert backwards.status_code == 400
    assert not Service.objects.exists()


def test_a_case_not_yet_verified_gets_no_service_form(pandeglang_operator):
    from pmks import services as registry
    from pmks.models import Category, Service

    person = named("Mak Icih", desa_id=DESA_PANDEGLANG)
    case = registry.case_open(actor=pandeglang_operator, person=person,
                              category=Category.objects.get(slug="lanjut-usia-terlantar"),
                              identified_on=datetime.date(2026, 11, 2), source="tksk")
    client = client_for(pandeglang_operator)
    page = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    assert "Catat layanan" not in page
    url = reverse("pmks:service-record", args=[person.pk, case.pk])
    # a version of the case as the page would carry it: the service itself refuses
    from dinsos.versions import current_version

    refused = client.post(url, {**service_post(case), "if_match": current_version(case)})
    assert refused.status_code == 400
    assert "Layanan hanya dapat dicatat" in unescape(refused.content.decode())
    assert not Service.objects.exists()


def test_services_are_recorded_only_by_roles_that_may_and_only_in_the_area(
        pandeglang_operator, lebak_operator, auditor):
    from pmks.models import Service

    person = named("Mak Icih", desa_id=DESA_PANDEGLANG)
    case = _verified_case(person, pandeglang_operator)
    url = reverse("pmks:service-record", args=[person.pk, case.pk])
    page = client_for(auditor).get(reverse("pmks:person-detail", args=[person.pk]))
    assert "Catat layanan" not in page.content.decode()
    assert client_for(auditor).post(url, service_post(case)).status_code == 403
    assert client_for(lebak_operator).post(url, service_post(case)).status_code == 404
    assert not Service.objects.exists()


def test_operator_corrects_a_recorded_service(pandeglang_operator, lebak_operator, auditor):
    from pmks import services as registry
    from pmks.models import Service, ServiceType

    person = named("Mak Icih", desa_id=DESA_PANDEGLANG)
    case = _verified_case(person, pandeglang_operator)
    service = registry.service_record(
        actor=pandeglang_operator, case=case,
        service_type=ServiceType.objects.get(code="pembinaan-keterampilan"),
        start_date=datetime.date(2026, 11, 20), funding_source="apbd_provinsi",
        provider_name="LKS Mekar Sari")
    page_url = reverse("pmks:person-detail", args=[person.pk])
    url = reverse("pmks:service-update", args=[person.pk, service.pk])
    client = client_for(pandeglang_operator)
    version = version_in(client.get(page_url).content.decode(), url)
    post = {f"l{service.pk}-{name}": value for name, value in {
        "start_date": "2026-11-20", "end_date": "2026-12-20", "value_amount": "750000",
        "funding_source": "apbn", "provider_name": "LKS Mekar Sari", "note": "Koreksi"}.items()}
    backwards = client.post(url, {**post, f"l{service.pk}-end_date": "2026-11-01",
                                  "if_match": version})
    assert backwards.status_code == 400
    assert Service.objects.get(pk=service.pk).end_date is None
    response = client.post(url, {**post, "if_match": version})
    assert response.status_code == 302
    assert response["Location"] == f"{page_url}#kasus-{case.pk}"
    service.refresh_from_db()
    assert (service.end_date, service.value_amount, service.funding_source) == (
        datetime.date(2026, 12, 20), 750000, "apbn")
    assert "Ubah layanan" not in client_for(auditor).get(page_url).content.decode()
    assert client_for(auditor).post(url, post).status_code == 403
    assert client_for(lebak_operator).post(url, post).status_code == 404


def test_the_person_page_reads_form_lists_and_versions_once_whatever_its_cases(
        pandeglang_operator):
    """Each case of the page has a service form and transition forms, and each service a
    correction form; their lists (service types, offices) are read once per page, not once
    per case or service, and the versions the forms carry (If-Match) are read together, one
    query per model, not one per form."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pmks import services as registry
    from pmks.models import Category, ServiceType

    person = named("Mak Icih", desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    url = reverse("pmks:person-detail", args=[person.pk])
    categories = list(Category.objects.order_by("slug")[:3])

    def add_case(category):
        case = registry.case_open(actor=pandeglang_operator, person=person, category=category,
                                  identified_on=datetime.date(2026, 11, 2), source="tksk")
        case = registry.case_transition(actor=pandeglang_operator, case=case,
                                        to_status="terverifikasi", reason="Dikunjungi TKSK")
        registry.service_record(
            actor=pandeglang_operator, case=case,
            service_type=ServiceType.objects.get(code="pembinaan-keterampilan"),
            start_date=datetime.date(2026, 11, 20), funding_source="apbd_provinsi",
            provider_name="LKS Mekar Sari")

    add_case(categories[0])
    client.get(url)  # caches warmed
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for category in categories[1:]:
        add_case(category)
    with CaptureQueriesContext(connection) as three:
        page = client.get(url)
    assert page.content.decode().count("LKS Mekar Sari") >= 3

    def list_reads(queries) -> int:
        return sum('FROM "pmks_servicetype"' in q["sql"] or 'FROM "dinsos_office"' in q["sql"]
                   for q in queries.captured_queries)

    assert list_reads(three) == list_reads(one) > 0

    version = re.compile(r'SELECT ("\w+"\."id"( AS "pk")?, )?"\w+"\."updated_at"( AS "\w+")? FROM')

    def version_reads(queries) -> int:  # SELECT [id,] updated_at FROM …: a form's version
        return sum(bool(version.match(q["sql"])) for q in queries.captured_queries)

    assert version_reads(three) == version_reads(one) > 0
    versions = re.findall(r'name="if_match" value="([^"]*)"', page.content.decode())
    assert len(versions) >= 9 and all(versions)  # every form carries its version


def test_the_register_form_names_every_wrong_field_in_one_round(pandeglang_operator):
    """The accessibility audit: "Daftarkan orang" with a wrong date AND a 5-digit NIK named
    only the date; the NIK ("NIK harus terdiri dari tepat 16 angka.") came after the officer
    fixed the date and sent again (PersonForm left model validation to the service, which runs
    only on an otherwise valid form). A screen-reader user walked the summary twice. A refused
    form now asks the model's field rules of the other values too."""
    response = client_for(pandeglang_operator).post(reverse("pmks:person-create"), {
        "nik": "12345", "name": "Siti Aminah", "birth_place": "Serang",
        "birth_date": "32/13/1980", "sex": "P", "desa": DESA_PANDEGLANG,
        "disability": "tidak", "schooling": "sd"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_birth_date"' in page
    assert 'href="#id_nik"' in page, "the NIK's error waits for the next round"
    assert page.count("NIK harus terdiri dari tepat 16 angka.") >= 1
    assert not Person.objects.exists()


def test_an_edit_refused_for_a_date_does_not_ask_the_values_left_as_they_were(
        pandeglang_operator):
    """The same round asks only what the officer wrote: a stored value left untouched is not
    asked again (dinsos.services.clean_written), only the bad date is named."""
    person = named("Siti Aminah", desa_id=DESA_PANDEGLANG)
    Person.objects.filter(pk=person.pk).update(nik="12345")  # stored before the rule
    person.refresh_from_db()
    client = client_for(pandeglang_operator)
    url = reverse("pmks:person-update", args=[person.pk])
    response = client.post(url, {**edit_post(person, birth_date="31/02/1980"),
                                 "if_match": version_in(client.get(url).content.decode())})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_birth_date"' in page
    assert page.count('<a href="#id_') == 1
