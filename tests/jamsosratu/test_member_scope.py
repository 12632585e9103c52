"""The members of a Jamsosratu enrolment registered in another kab/kota than the enrolment:
the service takes every member of the KK wherever each is registered (the household's benefit
counts them all), but no door shows a kab/kota user such a member — its name, NIK, qualifying
condition, visit findings, commitments — and no commitment is recorded for it from there
(``selectors.member_shown``, ``finding_shown``); the commitment and visit APIs, which name no
person (only ids), list as before. The province sees and records everything.
Found by the report-only audit of 2 December 2026 (the API, the staff page and the admin had
listed "Lansia Lebak — Lanjut usia" under a Pandeglang enrolment)."""

from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jamsosratu import services
from jamsosratu.models import Commitment, Enrolment, VerificationFinding
from pmks import services as registry
from pmks.models import Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, PersonFactory, cycle_with_tranches
from tests.helpers import client_for
from tests.jamsosratu.factories import ADULT, ELDER, VISIT, enrol, household, tksk_of

pytestmark = pytest.mark.django_db
SECRET = "LANSIA LEBAK"
NEIGHBOUR = "LANSIA PANDEGLANG"


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


@pytest.fixture
def split(cycle, province_operator):
    """An active Pandeglang enrolment whose KK holds an elder registered in Pandeglang and
    one registered in Lebak: both qualify ("Lanjut usia")."""
    hh = household(DESA_PANDEGLANG, [ADULT, {"birth_date": ELDER, "name": NEIGHBOUR}])
    PersonFactory(household=hh, desa_id=DESA_LEBAK, birth_date=ELDER, name=SECRET,
                  relationship="famili_lain")
    enrolment = enrol(province_operator, hh, cycle, "aktif")
    assert sorted(enrolment.members.values_list("person__name", "condition")) == [
        (SECRET, "lansia"), (NEIGHBOUR, "lansia")]  # the household's benefit counts both
    return enrolment


def lebak(enrolment):
    return enrolment.members.get(person__desa_id=DESA_LEBAK)


def _page(user, url) -> str:
    response = client_for(user).get(url)
    assert response.status_code == 200, (url, response.status_code)
    return unescape(response.content.decode())


def test_the_api_detail_lists_no_member_of_another_district(split, pandeglang_operator,
                                                            province_operator, api_as):
    url = f"/api/v1/jamsosratu/enrolments/{split.pk}/"
    seen = api_as(pandeglang_operator).get(url)
    assert seen.status_code == 200
    outside = lebak(split)
    assert [m["name"] for m in seen.json()["members"]] == [NEIGHBOUR]
    body = seen.content.decode()
    assert SECRET not in body and outside.person.nik not in body
    assert outside.person_id not in [m["person"] for m in seen.json()["members"]]
    # the province sees the whole KK
    whole = api_as(province_operator).get(url).json()["members"]
    assert sorted(m["name"] for m in whole) == [SECRET, NEIGHBOUR]


def test_the_transition_answer_lists_no_member_of_another_district(split, pandeglang_operator,
                                                                   api_as):
    answer = api_as(pandeglang_operator).post(
        f"/api/v1/jamsosratu/enrolments/{split.pk}/transition/",
        {"status": "dikeluarkan", "reason": "Pindah domisili"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "dikeluarkan"
    assert [m["name"] for m in answer.json()["members"]] == [NEIGHBOUR]
    assert SECRET not in answer.content.decode()


def test_the_staff_page_names_no_member_of_another_district(split, pandeglang_operator,
                                                            province_operator):
    url = reverse("jamsosratu:enrolment-detail", args=[split.pk])
    page = _page(pandeglang_operator, url)
    assert SECRET not in page and f"{NEIGHBOUR} — Lanjut usia" in page
    assert SECRET in _page(province_operator, url)


def test_the_admin_names_no_member_of_another_district(split, pandeglang_operator,
                                                       province_operator):
    url = reverse("admin:jamsosratu_enrolment_change", args=[split.pk])
    page = _page(pandeglang_operator, url)
    assert SECRET not in page and NEIGHBOUR in page
    assert SECRET in _page(province_operator, url)


def test_a_finding_about_a_person_moved_to_another_district_is_not_shown(
        split, pandeglang_operator, province_operator, api_as):
    """The visit found a member "pindah"; the province then registers him in Lebak: the
    enrolment page, the visit's API and its admin page no longer name him, the other
    findings stay (one about no person too), and the province still sees them all."""
    mover = PersonFactory(household=split.household, name="ANGGOTA YANG PINDAH")
    verification = services.verification_record(
        actor=pandeglang_operator, enrolment=split, verifier=tksk_of(split.desa_id[:8]),
        visit_date=VISIT, result="sesuai",
        findings=[{"person": mover.pk, "finding": "pindah"},
                  {"person": None, "finding": "anggota_baru", "note": "bayi baru lahir"}])
    registry.person_update(actor=province_operator, person=mover, desa_id=DESA_LEBAK)

    page = _page(pandeglang_operator, reverse("jamsosratu:enrolment-detail", args=[split.pk]))
    assert "ANGGOTA YANG PINDAH" not in page and "Pindah" not in page
    assert "Anggota baru" in page
    assert "ANGGOTA YANG PINDAH: Pindah" in _page(
        province_operator, reverse("jamsosratu:enrolment-detail", args=[split.pk]))

    # the visit's API names no person (its feed's mirror must stay its list)
    api = api_as(pandeglang_operator).get(f"/api/v1/jamsosratu/verifications/{verification.pk}/")
    assert api.status_code == 200 and "ANGGOTA YANG PINDAH" not in api.content.decode()

    admin = reverse("admin:jamsosratu_verification_change", args=[verification.pk])
    assert "ANGGOTA YANG PINDAH" not in _page(pandeglang_operator, admin)
    assert "ANGGOTA YANG PINDAH" in _page(province_operator, admin)


def test_the_district_applies_the_findings_it_sees_and_leaves_the_others(
        split, pandeglang_operator, province_operator):
    """Applying the visit's findings from Pandeglang changes its own member; the one about a
    person since registered in Lebak waits for the province (it was refused whole before)."""
    gone = PersonFactory(household=split.household, name="ANGGOTA MENINGGAL")
    mover = PersonFactory(household=split.household, name="ANGGOTA YANG PINDAH")
    verification = services.verification_record(
        actor=pandeglang_operator, enrolment=split, verifier=tksk_of(split.desa_id[:8]),
        visit_date=VISIT, result="sesuai",
        findings=[{"person": gone.pk, "finding": "meninggal"},
                  {"person": mover.pk, "finding": "pindah"}])
    registry.person_update(actor=province_operator, person=mover, desa_id=DESA_LEBAK)

    assert services.verification_apply_findings(actor=pandeglang_operator,
                                                verification=verification) == 1
    assert Person.objects.get(pk=gone.pk).life_status == "meninggal"
    assert Person.objects.get(pk=mover.pk).life_status == "hidup"
    assert services.verification_apply_findings(actor=province_operator,
                                                verification=verification) == 1
    assert Person.objects.get(pk=mover.pk).life_status == "pindah"
    assert list(VerificationFinding.objects.filter(verification=verification)
                .values_list("applied", flat=True)) == [True, True]


def test_no_commitment_is_recorded_for_a_member_of_another_district(split, cycle,
                                                                    pandeglang_operator,
                                                                    province_operator, api_as):
    first = cycle.tranches.get(number=1)
    outside = lebak(split)
    sent = api_as(pandeglang_operator).post(
        "/api/v1/jamsosratu/conditions/",
        {"member": outside.pk, "tranche": first.pk, "kind": "kesehatan", "status": "terpenuhi"},
        format="json")
    assert sent.status_code == 400, sent.content
    errors = sent.json()["errors"]
    # answered like a missing member, naming the field and no place
    assert errors == {"member": [f'Objek dengan primary key "{outside.pk}" tidak ditemukan.']}
    with pytest.raises(ValidationError) as refused:
        services.commitment_record(actor=pandeglang_operator, member=outside, tranche=first,
                                   kind="kesehatan", status="terpenuhi")
    assert refused.value.message_dict == {
        "member": [f"Anggota {outside.pk} tidak ditemukan."]}
    assert not Commitment.objects.exists()
    # the district's own member and the province are served as before
    own = split.members.get(person__desa_id=DESA_PANDEGLANG)
    mine = api_as(pandeglang_operator).post(
        "/api/v1/jamsosratu/conditions/",
        {"member": own.pk, "tranche": first.pk, "kind": "kesehatan", "status": "terpenuhi"},
        format="json")
    assert mine.status_code == 201, mine.content
    services.commitment_record(actor=province_operator, member=outside, tranche=first,
                               kind="kesehatan", status="tidak_terpenuhi")
    assert Commitment.objects.count() == 2


def test_the_commitment_doors_name_no_member_of_another_district(split, cycle,
                                                                 pandeglang_operator,
                                                                 province_operator, api_as):
    first = cycle.tranches.get(number=1)
    outside = services.commitment_record(actor=province_operator, member=lebak(split),
                                         tranche=first, kind="kesehatan", status="terpenuhi")
    own = services.commitment_record(
        actor=pandeglang_operator, member=split.members.get(person__desa_id=DESA_PANDEGLANG),
        tranche=first, kind="kesehatan", status="terpenuhi")

    listing = reverse("admin:jamsosratu_commitment_changelist")
    page = _page(pandeglang_operator, listing)
    assert SECRET not in page and NEIGHBOUR in page
    assert SECRET in _page(province_operator, listing)
    hidden = client_for(pandeglang_operator).get(
        reverse("admin:jamsosratu_commitment_change", args=[outside.pk]))
    assert hidden.status_code in (302, 404)  # the admin's "does not exist"
    assert SECRET not in unescape(hidden.content.decode())

    # the API lists the enrolment's commitments by the member's id only, as before
    api = api_as(pandeglang_operator).get("/api/v1/jamsosratu/conditions/")
    assert sorted(row["id"] for row in api.json()["results"]) == sorted([own.pk, outside.pk])
    assert SECRET not in api.content.decode()


def test_the_payment_still_counts_the_member_of_another_district(split, cycle,
                                                                 pandeglang_operator,
                                                                 province_operator):
    """Only what is shown to and accepted from a district changes: the tranche's payment
    weighs the Lebak member's unmet commitment as before (one of two unmet: 25% less)."""
    first = cycle.tranches.get(number=1)
    services.commitment_record(actor=province_operator, member=lebak(split), tranche=first,
                               kind="kesehatan", status="tidak_terpenuhi")
    services.commitment_record(
        actor=pandeglang_operator, member=split.members.get(person__desa_id=DESA_PANDEGLANG),
        tranche=first, kind="kesehatan", status="terpenuhi")
    assert services.payments_generate(tranche=first) == 1
    payment = Enrolment.objects.get(pk=split.pk).payments.get()
    assert (payment.outcome, str(payment.tranche_amount), str(payment.amount)) == (
        "dikurangi", "875000.00", "656250.00")
