"""A person registered (domicile) in Lebak whose KK is recorded in Pandeglang: the Lebak
operator corrects him — ``pmks.services._person_check`` asks the household's area only when the
household is written — and no refusal names the wilayah of the Pandeglang KK (audit of
2 December 2026, M4); his page shows none of that KK's fields (audit of 2 December 2026,
finding B)."""

import pytest
from django.urls import reverse

from dinsos.scoping import OutsideArea, mask
from pmks import services
from pmks.models import Household
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def lebak_member_of_a_pandeglang_kk():
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    return PersonFactory(household=household, desa_id=DESA_LEBAK, name="Ujang Sobari",
                         relationship="anak")


def test_an_operator_corrects_a_person_of_his_area_whose_kk_is_elsewhere(
        lebak_member_of_a_pandeglang_kk, lebak_operator, api_as):
    """PATCH persons/<id>/ of a Lebak person (occupation only, household unchanged) by the
    Lebak operator is saved (200): 'registry read/write, own kab/kota' — the household's area
    is asked when the household is written, not on every edit."""
    person = lebak_member_of_a_pandeglang_kk
    response = api_as(lebak_operator).patch(f"/api/v1/pmks/persons/{person.pk}/",
                                            {"occupation": "petani"}, format="json")
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.occupation == "petani"


def test_the_refusal_does_not_name_the_wilayah_of_a_record_outside_the_area(
        lebak_member_of_a_pandeglang_kk, lebak_operator, api_as):
    """Whatever the answer to that edit, it does not tell the Lebak operator the desa code
    of the Pandeglang household (a record outside his rows; README: a refusal names no
    area of the other record)."""
    person = lebak_member_of_a_pandeglang_kk
    response = api_as(lebak_operator).patch(f"/api/v1/pmks/persons/{person.pk}/",
                                            {"occupation": "petani"}, format="json")
    assert DESA_PANDEGLANG not in response.content.decode()


def test_putting_a_person_into_a_kk_of_another_district_is_refused_without_naming_it(
        lebak_operator):
    """Writing the household is still asked: a Lebak person put (by any door: the service) in a
    Pandeglang KK is refused under 'household', and the refusal names no wilayah of that KK."""
    person = PersonFactory(household=None, desa_id=DESA_LEBAK)
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    with pytest.raises(OutsideArea) as refused:
        services.person_update(actor=lebak_operator, person=person, household=household)
    assert refused.value.field == "household"
    assert DESA_PANDEGLANG not in str(refused.value)
    person.refresh_from_db()
    assert person.household_id is None


def test_a_desa_the_user_typed_outside_his_area_is_still_named(lebak_operator, api_as):
    """A refusal about the user's own input names what he typed (the desa he asked for)."""
    person = PersonFactory(household=None, desa_id=DESA_LEBAK)
    response = api_as(lebak_operator).patch(f"/api/v1/pmks/persons/{person.pk}/",
                                            {"desa": DESA_PANDEGLANG}, format="json")
    assert response.status_code == 403, response.content
    assert DESA_PANDEGLANG in response.content.decode()


@pytest.mark.parametrize("write", [
    lambda actor, person: services.person_update(actor=actor, person=person, occupation="x"),
    lambda actor, person: services.person_delete(actor=actor, person=person),
    lambda actor, person: services.household_update(actor=actor, household=person.household,
                                                    address="Kp. Lain"),
], ids=["person_update", "person_delete", "household_update"])
def test_a_write_on_a_stored_record_outside_the_area_names_no_wilayah(write, lebak_operator):
    """A service asked (by any door) to write a Pandeglang record for the Lebak operator refuses
    without naming the record's desa: only the user's own input is named back."""
    person = PersonFactory(household=HouseholdFactory(desa_id=DESA_PANDEGLANG),
                           desa_id=DESA_PANDEGLANG)
    with pytest.raises(OutsideArea) as refused:
        write(lebak_operator, person)
    assert DESA_PANDEGLANG not in str(refused.value)
    assert "36.01" not in str(refused.value)


def test_the_person_page_shows_no_field_of_a_kk_recorded_in_another_kab_kota(
        lebak_member_of_a_pandeglang_kk, lebak_operator, api_as):
    """The Lebak operator opens the page of a Lebak person whose KK is recorded in Pandeglang:
    the page says the KK is recorded outside his area and shows none of its fields (No. KK,
    address, RT/RW, desil) — as the API (404 for that household) and its page (404). Audit of
    2 December 2026, finding B."""
    person = lebak_member_of_a_pandeglang_kk
    kk = person.household
    Household.objects.filter(pk=kk.pk).update(address="Kp. Rahasia Pandeglang No. 7",
                                              rt="007", rw="009", decile=2)
    kk.refresh_from_db()
    assert api_as(lebak_operator).get(f"/api/v1/pmks/households/{kk.pk}/").status_code == 404

    page = client_for(lebak_operator).get(reverse("pmks:person-detail", args=[person.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "KK tercatat di luar wilayah Anda" in html
    shown = [v for v in (kk.no_kk, mask("no_kk", kk.no_kk), "Kp. Rahasia Pandeglang No. 7",
                         "RT 007", "RW 009", "desil") if v in html]
    assert shown == []
    assert reverse("pmks:household-detail", args=[kk.pk]) not in html
    # the KK's Jamsosratu enrolments are Pandeglang's: none shown is not "never enrolled"
    assert "belum pernah menjadi peserta Jamsosratu" not in html
    assert "kepesertaan Jamsosratu keluarga ini tidak ditampilkan" in html


def test_the_person_page_shows_the_kk_of_the_users_area(pandeglang_operator):
    """The same page for a KK inside the area: No. KK, address, RT/RW and desil, and the way
    to the household's page."""
    kk = HouseholdFactory(desa_id=DESA_PANDEGLANG, address="Kp. Sumur No. 3", rt="001",
                          rw="002", decile=4)
    person = PersonFactory(household=kk, desa_id=DESA_PANDEGLANG)

    html = client_for(pandeglang_operator).get(
        reverse("pmks:person-detail", args=[person.pk])).content.decode()

    assert "KK tercatat di luar wilayah Anda" not in html
    for shown in (kk.no_kk, "Kp. Sumur No. 3", "RT 001/RW 002", "desil 4",
                  reverse("pmks:household-detail", args=[kk.pk])):
        assert shown in html
