"""One kepala keluarga per household (No. KK), on every path that writes a person: the API
(create, change, upsert by NIK, batch), the admin's change form, the staff pages' merge, the
import of CSV and XLSX files (row by row on SQLite; COPY + set-based SQL on PostgreSQL, the
``import_path`` fixture runs both there). A member who died, moved away or was merged does not
count; a head replaced within the rules hands over ``Household.head``."""

import datetime
from html import unescape

import pytest
from django.urls import reverse

from dinsos import importing
from pmks.models import DuplicateCandidate, Household, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory
from tests.helpers import client_for, version_in
from tests.pmks.factories import RegistryPersonFactory, nik_for, no_kk_for
from tests.pmks.test_import import (
    KK_1,
    NIK_HEAD,
    NIK_WIFE,
    csv_bytes,
    family_rows,
    row,
    xlsx_bytes,
)
from tests.pmks.test_import_excel import run

pytestmark = pytest.mark.django_db

API = "/api/v1/pmks"
TAKEN = "No. KK ini sudah mempunyai kepala keluarga"
BORN = datetime.date(1985, 4, 12)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def family():
    """A household of Pandeglang with its kepala (and head) Budi and his wife Siti."""
    household = HouseholdFactory(no_kk=no_kk_for(), desa_id=DESA_PANDEGLANG)
    head = RegistryPersonFactory(name="Budi Santoso", household=household, relationship="kepala")
    wife = RegistryPersonFactory(name="Siti Aminah", household=household, relationship="pasangan",
                                 sex="P", birth_date=datetime.date(1983, 3, 19))
    household.head = head
    household.save()
    return {"household": household, "head": head, "wife": wife}


def new_person(household, **extra) -> dict:
    return {"nik": nik_for(BORN, "L"), "name": "Kepala Kedua", "birth_date": BORN.isoformat(),
            "sex": "L", "desa": DESA_PANDEGLANG, "household": household.pk,
            "relationship": "kepala", **extra}


def refused_on_relationship(response) -> str:
    assert response.status_code == 400, response.content
    errors = response.json()
    message = " ".join(errors["errors"]["relationship"])
    assert TAKEN in message and "ubah dulu hubungan kepala keluarga" in message
    return message


# --- the API ----------------------------------------------------------------------------------

def test_api_create_of_a_second_kepala_is_refused_on_relationship(family, api_as,
                                                                  pandeglang_operator):
    client = api_as(pandeglang_operator)
    refused_on_relationship(client.post(f"{API}/persons/", new_person(family["household"]),
                                        format="json"))
    assert not Person.objects.filter(name="Kepala Kedua").exists()
    # another relationship in the same household is welcome
    response = client.post(f"{API}/persons/", new_person(family["household"],
                                                         relationship="anak"), format="json")
    assert response.status_code == 201, response.content


def test_api_update_that_makes_a_second_kepala_is_refused(family, api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    url = f"{API}/persons/{family['wife'].pk}/"
    refused_on_relationship(client.patch(url, {"relationship": "kepala"}, format="json"))
    family["wife"].refresh_from_db()
    assert family["wife"].relationship == "pasangan"
    # moving a kepala of another household into this one is refused the same way
    elsewhere = HouseholdFactory(no_kk=no_kk_for(), desa_id=DESA_PANDEGLANG)
    other = RegistryPersonFactory(household=elsewhere, relationship="kepala")
    refused_on_relationship(client.patch(f"{API}/persons/{other.pk}/",
                                         {"household": family["household"].pk}, format="json"))
    assert Person.objects.get(pk=other.pk).household_id == elsewhere.pk


def test_api_upsert_by_nik_and_batch_refuse_a_second_kepala(family, api_as,
                                                            pandeglang_operator):
    client = api_as(pandeglang_operator)
    body = new_person(family["household"])
    nik = body.pop("nik")
    refused_on_relationship(client.put(f"{API}/persons/by-nik/{nik}/", body, format="json"))
    assert not Person.objects.filter(nik=nik).exists()

    fine = new_person(family["household"], relationship="anak", name="Anak Baru")
    response = client.post(f"{API}/persons/batch/",
                           {"rows": [new_person(family["household"]), fine]}, format="json")
    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert first["status"] == "refused" and TAKEN in " ".join(first["errors"]["relationship"])
    assert second["status"] == "created"
    assert list(family["household"].members.filter(relationship="kepala")) == [family["head"]]


def test_the_refusal_never_names_a_kepala_of_another_area(api_as, pandeglang_operator):
    """The household is Pandeglang's, its kepala lives (and is registered) in Lebak: the
    answer says the No. KK has a kepala, never who."""
    household = HouseholdFactory(no_kk=no_kk_for(), desa_id=DESA_PANDEGLANG)
    RegistryPersonFactory(name="Rahasia Lebak", desa_id=DESA_LEBAK, household=household,
                          relationship="kepala")
    response = api_as(pandeglang_operator).post(f"{API}/persons/", new_person(household),
                                                 format="json")
    refused_on_relationship(response)
    assert "Rahasia" not in response.content.decode()


def test_a_member_who_died_moved_or_was_merged_does_not_block(family, api_as,
                                                              pandeglang_operator):
    client = api_as(pandeglang_operator)
    household = family["household"]
    refused_on_relationship(client.post(f"{API}/persons/", new_person(household),
                                        format="json"))  # Budi is alive: refused
    # merged away (a record kept for history) does not count
    merged = RegistryPersonFactory(household=household, relationship="kepala")
    Person.objects.filter(pk=merged.pk).update(merged_into=family["wife"])
    # the head died: the wife becomes kepala and head of the household
    response = client.patch(f"{API}/persons/{family['head'].pk}/",
                            {"life_status": "meninggal", "life_status_date": "2026-10-01"},
                            format="json")
    assert response.status_code == 200, response.content
    response = client.patch(f"{API}/persons/{family['wife'].pk}/", {"relationship": "kepala"},
                            format="json")
    assert response.status_code == 200, response.content
    household.refresh_from_db()
    assert household.head_id == family["wife"].pk
    # and he cannot come back to life as a second kepala
    refused_on_relationship(client.patch(f"{API}/persons/{family['head'].pk}/",
                                         {"life_status": "hidup"}, format="json"))


def test_the_head_changes_by_first_changing_the_recorded_one(family, api_as,
                                                             pandeglang_operator):
    """What the message asks: change the recorded kepala first, then name the new one; the
    household's head follows."""
    client = api_as(pandeglang_operator)
    response = client.patch(f"{API}/persons/{family['head'].pk}/", {"relationship": "famili"},
                            format="json")
    assert response.status_code == 200, response.content
    household = Household.objects.get(pk=family["household"].pk)
    assert household.head_id == family["head"].pk  # until the new kepala is named
    response = client.patch(f"{API}/persons/{family['wife'].pk}/", {"relationship": "kepala"},
                            format="json")
    assert response.status_code == 200, response.content
    household.refresh_from_db()
    assert household.head_id == family["wife"].pk


def _kk_row(person, **change) -> dict:
    return {"nik": person.nik, "name": person.name, "birth_date": person.birth_date.isoformat(),
            "sex": person.sex, "desa": person.desa_id, "household": person.household_id,
            "relationship": person.relationship, **change}


@pytest.mark.parametrize("new_kepala_first", [True, False])
def test_api_batch_of_a_whole_kk_whose_head_changed_is_accepted_in_any_order(
        family, api_as, pandeglang_operator, new_kepala_first):
    """A district client sends the whole KK again after the head changed (the wife kepala, the
    former head 'famili'); a KK lists its kepala first. As the import of the same rows: both
    applied, the wife is the head (the batch refused her and left no living kepala)."""
    head, wife = family["head"], family["wife"]
    rows = [_kk_row(wife, relationship="kepala"), _kk_row(head, relationship="famili")]
    if not new_kepala_first:
        rows.reverse()
    response = api_as(pandeglang_operator).post(f"{API}/persons/batch/", {"rows": rows},
                                                format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["updated", "updated"], results
    assert [r["index"] for r in results] == [0, 1]
    assert Household.objects.get(pk=family["household"].pk).head_id == wife.pk
    assert list(family["household"].members.filter(relationship="kepala")) == [wife]


def test_a_retried_batch_row_never_writes_over_a_later_row_of_the_same_nik(
        family, api_as, pandeglang_operator):
    """The refused row tried again after the others must not be applied after a later row of
    the same NIK (review: the older data won, and the summary counted three updates)."""
    head, wife = family["head"], family["wife"]
    rows = [_kk_row(wife, relationship="kepala", name="Siti Lama"),
            _kk_row(head, relationship="famili"),
            _kk_row(wife, relationship="kepala", name="Siti Baru")]
    response = api_as(pandeglang_operator).post(f"{API}/persons/batch/", {"rows": rows},
                                                format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["refused", "updated", "updated"]
    assert body["summary"]["updated"] == 2
    wife.refresh_from_db()
    assert (wife.name, wife.relationship) == ("Siti Baru", "kepala")
    assert Household.objects.get(pk=family["household"].pk).head_id == wife.pk


def test_two_kepala_recorded_before_the_rule_stay_editable(family, api_as, pandeglang_operator):
    """On the API and on the staff person page (whose form holds no household or
    relationship, so it can never make a second kepala)."""
    second = RegistryPersonFactory(household=family["household"], relationship="kepala")
    client = api_as(pandeglang_operator)
    response = client.patch(f"{API}/persons/{second.pk}/", {"occupation": "Nelayan"},
                            format="json")
    assert response.status_code == 200, response.content
    staff = client_for(pandeglang_operator)
    url = reverse("pmks:person-update", args=[second.pk])
    page = staff.get(url).content.decode()
    data = {"nik": second.nik, "name": second.name, "birth_place": second.birth_place,
            "birth_date": second.birth_date.isoformat(), "sex": second.sex,
            "desa": second.desa_id, "disability": second.disability, "schooling": "",
            "occupation": "Petani", "if_match": version_in(page)}
    assert staff.post(url, data).status_code == 302
    assert Person.objects.get(pk=second.pk).occupation == "Petani"
    refused_on_relationship(client.post(f"{API}/persons/", new_person(family["household"]),
                                        format="json"))  # but no third one


# --- the admin and the staff pages ------------------------------------------------------------

def admin_post(page) -> dict:
    """The admin change form as the page shows it, ready to post back."""
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
    return data


def test_admin_change_form_refuses_a_second_kepala_next_to_the_field(family, make_user):
    from dinsos import roles

    user = make_user(roles.ADMIN, is_superuser=True)
    client = client_for(user)
    url = f"/admin/pmks/person/{family['wife'].pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, {**admin_post(page), "relationship": "kepala"})
    assert response.status_code == 200  # the form again, not a redirect (nor a 500)
    errors = response.context["adminform"].form.errors
    assert TAKEN in " ".join(errors["relationship"])
    assert Person.objects.get(pk=family["wife"].pk).relationship == "pasangan"
    # the same form saves another relationship
    response = client.post(url, {**admin_post(page), "relationship": "famili"})
    assert response.status_code == 302
    assert Person.objects.get(pk=family["wife"].pk).relationship == "famili"


def test_staff_merge_that_would_make_a_second_kepala_is_refused(family, pandeglang_operator):
    """The merged record moved away from the household as its kepala; the kept one has no
    household and would take the merged one's place in it — as a second living kepala."""
    household = family["household"]
    moved = RegistryPersonFactory(name="Ahmad Fauzi", household=household,
                                  relationship="kepala", life_status="pindah",
                                  life_status_date=datetime.date(2025, 1, 1))
    kept = RegistryPersonFactory(name="Ahmad Fauzi", nik=None)
    pair = DuplicateCandidate.objects.create(person_a=moved, person_b=kept, score=90, reasons=[])
    client = client_for(pandeglang_operator)
    url = reverse("pmks:duplicate-detail", args=[pair.pk])
    page = client.get(url).content.decode()
    response = client.post(url, {"decision": "b", "reason": "Orang yang sama",
                                 "if_match": version_in(page)})
    assert response.status_code == 400
    assert TAKEN in unescape(response.content.decode())
    assert Person.objects.get(pk=moved.pk).merged_into_id is None  # nothing merged
    assert Person.objects.get(pk=kept.pk).household_id is None


# --- the import (CSV on both paths, XLSX) -----------------------------------------------------

KEPALA_ANAK = {"nik": "3601011708800055", "nama": "Kepala Kedua", "tanggal_lahir": "1980-08-17"}


def errors_of(batch) -> list[tuple[int, str]]:
    return sorted((e["row"], e["column"]) for e in batch.errors)


@pytest.mark.usefixtures("import_path")
@pytest.mark.parametrize("name, make", [("keluarga.csv", csv_bytes),
                                        ("keluarga.xlsx", xlsx_bytes)])
def test_a_file_with_two_kepala_for_one_no_kk_refuses_the_second(pandeglang_operator, name,
                                                                  make):
    rows = [*family_rows()[:2], row(**KEPALA_ANAK, hubungan="1")]  # 1: Kepala Keluarga (SIAK)
    for dry_run in (True, False):
        batch = run(pandeglang_operator, make(rows), name, dry_run=dry_run)
        assert errors_of(batch) == [(4, "hubungan")], batch.errors
        message = batch.errors[0]["message"]
        assert "kepala keluarga kedua" in message and "baris 2" in message
        assert batch.totals["rejected"] == 1
    household = Household.objects.get(no_kk=KK_1)
    assert household.head.nik == NIK_HEAD
    assert list(household.members.filter(relationship="kepala")) == [household.head]
    assert not Person.objects.filter(nik=KEPALA_ANAK["nik"]).exists()
    # the error report names the row, the column and the reason
    header, lines = importing.error_report_rows(batch)
    report = {line[0]: line[-1] for line in lines}
    assert report[4].startswith("hubungan: kepala keluarga kedua")
    assert report[2] == report[3] == ""


@pytest.mark.usefixtures("import_path")
def test_a_kepala_row_for_a_stored_household_with_another_kepala_is_refused(
        pandeglang_operator):
    assert run(pandeglang_operator, csv_bytes(family_rows()), "a.csv").errors == []
    batch = run(pandeglang_operator, csv_bytes([row(**KEPALA_ANAK)]), "b.csv")
    assert errors_of(batch) == [(2, "hubungan")], batch.errors
    assert TAKEN in batch.errors[0]["message"]
    assert not Person.objects.filter(nik=KEPALA_ANAK["nik"]).exists()
    # the same file again, as it was: nothing refused, nothing changed
    again = run(pandeglang_operator, csv_bytes(family_rows()), "a.csv")
    assert again.errors == []


@pytest.mark.usefixtures("import_path")
def test_a_re_export_whose_head_changed_in_the_same_file_is_accepted(pandeglang_operator):
    """A district's re-export of the whole KK: the wife is now kepala and the former head
    listed as famili (after her row): accepted, and the household's head follows."""
    run(pandeglang_operator, csv_bytes(family_rows()), "a.csv")
    head, wife, child, other = family_rows()
    batch = run(pandeglang_operator, csv_bytes([{**wife, "hubungan": "kepala"},
                                                {**head, "hubungan": "famili"}, child, other]),
                "b.csv")
    assert batch.errors == []
    household = Household.objects.get(no_kk=KK_1)
    assert household.head.nik == NIK_WIFE
    assert Person.objects.get(nik=NIK_HEAD).relationship == "famili"


@pytest.mark.usefixtures("import_path")
def test_a_re_export_after_the_head_died_names_the_wife_head(pandeglang_operator, api_as):
    """The head died and the re-export lists the wife as kepala without him: accepted once
    his death is recorded (until then refused, naming what to do)."""
    run(pandeglang_operator, csv_bytes(family_rows()), "a.csv")
    _head, wife, child, _other = family_rows()
    file = csv_bytes([{**wife, "hubungan": "kepala"}, child])
    refused = run(pandeglang_operator, file, "b.csv")
    assert errors_of(refused) == [(2, "hubungan")]
    assert "meninggal/pindah" in refused.errors[0]["message"]
    head = Person.objects.get(nik=NIK_HEAD)
    response = api_as(pandeglang_operator).patch(
        f"{API}/persons/{head.pk}/", {"life_status": "meninggal",
                                      "life_status_date": "2026-10-01"}, format="json")
    assert response.status_code == 200, response.content
    batch = run(pandeglang_operator, file, "c.csv")
    assert batch.errors == []
    assert Household.objects.get(no_kk=KK_1).head.nik == NIK_WIFE


@pytest.mark.usefixtures("import_path")
def test_a_refused_move_keeps_the_head_of_the_household_he_would_leave(pandeglang_operator):
    """Row 2 would move Budi, kepala of KK_1, to KK_3 as its kepala (KK_3 has one: refused);
    row 3 names a new kepala of KK_1 counting on Budi leaving: refused in its turn."""
    KK_3 = "3601011204160003"
    run(pandeglang_operator, csv_bytes([*family_rows(),
                                        row(no_kk=KK_3, nik="3601011708800077",
                                            nama="Kepala Tiga", alamat="Kp. Tiga")]), "a.csv")
    _head, wife, *_rest = family_rows()
    batch = run(pandeglang_operator, csv_bytes([row(no_kk=KK_3, alamat="Kp. Tiga"),
                                                {**wife, "hubungan": "kepala"}]), "b.csv")
    assert errors_of(batch) == [(2, "hubungan"), (3, "hubungan")], batch.errors
    assert Household.objects.get(no_kk=KK_1).head.nik == NIK_HEAD
    assert Person.objects.get(nik=NIK_WIFE).relationship == "pasangan"
