"""PMKS registry: two writers at once (PostgreSQL). Each test holds one writer's transaction
open at the moment it has done its work, lets the other writer run into it, then commits the
first: the rule each one keeps alone must still hold. These FAIL on the audited code."""

import datetime

import pytest

from dinsos import roles
from pmks import services
from pmks.models import Case, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory
from tests.helpers import postgres_only
from tests.pmks.factories import CaseFactory, RegistryPersonFactory
from tests.races import Held, Thread, api, wait_for_lock_waiter

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

D = datetime.date
API = "/api/v1/pmks/"


@pytest.fixture
def operator(make_user):
    return make_user(roles.OPERATOR_PROVINSI)


def _merge_pair():
    household = HouseholdFactory()
    kept = RegistryPersonFactory(name="Siti Aminah", sex="P", birth_date=D(1980, 8, 17))
    merged = RegistryPersonFactory(name="St. Aminah", sex="P", birth_date=D(1980, 8, 17),
                                   household=household, relationship="anak")
    return kept, merged, household


def test_an_edit_of_a_person_being_merged_undoes_the_merge(operator):
    """Rule: a merged person stays merged (``merged_into`` set, no NIK, no household) and is
    never edited again ("Orang ini sudah digabung…"). An officer's edit (API PATCH without
    If-Match, the admin, a verification finding) read the person before the merge committed;
    ``person_save`` checks ``merged_into`` on that stale object and writes every column back,
    so it silently un-merges the person: NIK and household restored, the same human now twice
    in the household (the kept person took the merged one's place)."""
    kept, merged, household = _merge_pair()

    merge = Held(lambda: services.person_merge(actor=operator, kept=kept, merged=merged,
                                               reason="duplikat")).start()
    edit = Thread(api(operator, "patch", f"{API}persons/{merged.pk}/",
                      {"occupation": "Petani"})).start()
    wait_for_lock_waiter(edit)  # the PATCH read the person; its UPDATE waits for the merge
    merge.release()
    edit.join()

    merged.refresh_from_db()
    members = set(Person.objects.filter(household=household).values_list("pk", flat=True))
    assert (edit.result.status_code >= 400, merged.merged_into_id, merged.nik,
            merged.household_id, members) == (True, kept.pk, None, None, {kept.pk})


def test_a_case_opened_while_its_person_is_merged_lands_on_the_merged_person(operator):
    """Rule: cases live on the kept person; a merged person gets no case ("Orang ini sudah
    digabung ke data lain."). ``case_open`` asks ``merged_into`` of the caller's object before
    it locks the person's row and never asks again after the lock: the case is opened on the
    person the merge just folded away, where the duplicate finder, the lists and the kept
    person's page never show it."""
    kept, merged, _household = _merge_pair()

    merge = Held(lambda: services.person_merge(actor=operator, kept=kept, merged=merged)).start()
    opening = Thread(api(operator, "post", f"{API}cases/", {
        "person": merged.pk, "category": "anak-terlantar", "identified_on": "2026-11-02",
        "source": "tksk"})).start()
    wait_for_lock_waiter(opening)  # case_open's SELECT … FOR UPDATE of the person waits
    merge.release()
    opening.join()

    on_merged = list(Case.objects.filter(person=merged).values_list("pk", flat=True))
    assert (opening.result.status_code >= 400, on_merged) == (True, [])


def test_a_case_opened_while_its_person_moves_away_stays_in_the_old_area(operator):
    """Rule: an open case lives where its person lives (``cases_follow``: the new kab/kota
    sees it, the old one no longer does). A move (the province office changes the person's
    desa) and a case opened at the same time: ``case_open`` takes the case's wilayah from
    the caller's object read before the move committed; the move's ``cases_follow`` ran
    before the case existed. The case stays in Pandeglang, visible to Pandeglang's operator,
    while its person lives in Lebak."""
    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG)

    move = Held(lambda: services.person_update(actor=operator, person=person,
                                               desa_id=DESA_LEBAK)).start()
    opening = Thread(api(operator, "post", f"{API}cases/", {
        "person": person.pk, "category": "anak-terlantar", "identified_on": "2026-11-02",
        "source": "tksk"})).start()
    wait_for_lock_waiter(opening)
    move.release()
    opening.join()

    person.refresh_from_db()
    assert opening.result.status_code == 201, opening.result.content
    case = Case.objects.get(person=person)
    assert (person.desa_id, case.desa_id) == (DESA_LEBAK, DESA_LEBAK)


def test_an_edit_of_a_case_while_it_is_closed_reopens_it(operator):
    """Rule: a case's status changes only through ``case_transition``, recorded with who, when
    and why; a closed case stays closed. ``case_update`` (descriptive fields: the API's PATCH
    without If-Match, the admin) saves every column of the object it was given, read before
    another officer's transition committed: the status goes back to ``terverifikasi`` and the
    close reason is wiped, while the transition history says ``ditutup``."""
    case = CaseFactory(status="terverifikasi")

    close = Held(lambda: services.case_transition(actor=operator, case=case,
                                                  to_status="ditutup", reason="Pindah ke luar",
                                                  close_reason="pindah")).start()
    edit = Thread(api(operator, "patch", f"{API}cases/{case.pk}/",
                      {"description": "Kunjungan kedua"})).start()
    wait_for_lock_waiter(edit)
    close.release()
    edit.join()

    case.refresh_from_db()
    last = case.transitions.order_by("-id").first()
    assert (last.to_status, case.status, case.close_reason) == ("ditutup", "ditutup", "pindah")


def test_a_household_edit_while_its_kepala_registers_drops_the_head(operator):
    """Rule: a living kepala keluarga becomes the head of a household that has none
    (``persons_after_save``). A household edited (address) at the moment its kepala is
    registered: ``household_save`` writes every column of the object read before, head
    ``NULL`` included, after the registration set the head — the household is left with a
    living kepala and no head (the KK's lists, labels and the Jamsosratu pages show "tanpa
    kepala keluarga")."""
    household = HouseholdFactory()
    register = Held(lambda: services.person_register(
        actor=operator, name="Ujang Supriatna", birth_date=D(1979, 5, 4), sex="L",
        household=household, relationship="kepala", desa_id=DESA_PANDEGLANG)).start()
    kepala = register.result
    edit = Thread(api(operator, "patch", f"{API}households/{household.pk}/",
                      {"address": "Kp. Baru RT 3"})).start()
    wait_for_lock_waiter(edit)
    register.release()
    edit.join()

    household.refresh_from_db()
    assert edit.result.status_code == 200, edit.result.content
    assert (household.address, household.head_id) == ("Kp. Baru RT 3", kepala.pk)


def test_the_same_nik_registered_twice_at_once_answers_500(operator):
    """Rule: one NIK, one person — kept by the unique index, but the loser must get the
    registry's refusal ("Orang dengan NIK telah ada.", 400), as it does one after the other.
    Both requests pass the Python checks (the serializer's and ``full_clean``'s uniqueness
    queries) before either commits; the second INSERT waits on the unique index and gets an
    IntegrityError that no layer turns into a 400: a 500 to a district's sync client. The
    same holds for every check-then-insert backed only by a unique constraint (No. KK, a
    worker's NIK, an enrolment per household and cycle, a pagu per year)."""
    from dinsos.validators import build_nik

    nik = build_nik("36.01.01", D(1980, 8, 17), "P", 4321)
    person = {"nik": nik, "name": "Siti Aminah", "birth_date": "1980-08-17", "sex": "P",
              "desa": DESA_PANDEGLANG}
    first = Held(lambda: services.person_register(
        actor=operator, nik=nik, name="Siti Aminah", birth_date=D(1980, 8, 17), sex="P",
        desa_id=DESA_PANDEGLANG)).start()
    second = Thread(api(operator, "post", f"{API}persons/", person)).start()
    wait_for_lock_waiter(second)  # the second INSERT waits on the NIK's unique index
    first.release()
    second.join()

    assert second.error is None, f"{type(second.error).__name__}: {second.error}"
    assert second.result.status_code == 400
    assert Person.objects.filter(nik=nik).count() == 1


def test_a_merge_and_a_new_kepala_at_once_give_a_household_two_kepala(operator):
    """Rule: one living kepala keluarga per household, on every write path — "the household's
    row is locked while it is asked" (``lock_households``) by single saves and both import
    lanes. ``person_merge`` asks it too (``kept.check_one_kepala()`` when the kept person
    takes the merged one's place) but without that lock: the merged record is the KK's kepala
    recorded as died (a duplicate entered by mistake), the kept one has no household and
    becomes the KK's kepala. A new kepala registered while the merge commits takes the lock,
    finds no living kepala (the kept one's place is not committed yet) and goes on — it then
    waits only on the household's sync change row — and both commit: two living kepala in one
    KK. (The other order happens to be safe: the merge waits on that change row before its
    own check.)"""
    household = HouseholdFactory()
    kept = RegistryPersonFactory(name="Ahmad Fauzi", birth_date=D(1975, 1, 5))
    merged = RegistryPersonFactory(name="Ahmad Fauzi", birth_date=D(1975, 1, 5),
                                   household=household, relationship="kepala",
                                   life_status="meninggal", life_status_date=D(2026, 1, 3))

    merge = Held(lambda: services.person_merge(actor=operator, kept=kept,
                                               merged=merged)).start()
    register = Thread(api(operator, "post", f"{API}persons/", {
        "name": "Ujang Supriatna", "birth_date": "1979-05-04", "sex": "L",
        "household": household.pk, "relationship": "kepala",
        "desa": DESA_PANDEGLANG})).start()
    wait_for_lock_waiter(register)  # it checked, then waits on the household's change row
    merge.release()
    register.join()

    kepala = sorted(Person.objects.kepala_of(household.pk).values_list("name", flat=True))
    assert len(kepala) <= 1, (f"living kepala of one KK: {kepala} (registration answered "
                              f"{register.result.status_code})")


def _nik_and_first_registration(operator):
    from dinsos.validators import build_nik

    nik = build_nik("36.01.01", D(1980, 8, 17), "P", 4321)
    first = Held(lambda: services.person_register(
        actor=operator, nik=nik, name="Siti Aminah", birth_date=D(1980, 8, 17), sex="P",
        desa_id=DESA_PANDEGLANG)).start()
    return nik, first


def test_the_same_nik_registered_twice_at_once_names_the_field(operator):
    """The API's answer to the loser is the registry's own refusal, keyed by the field, the
    same text the validators give one after the other (``already_registered``): never the
    value, never where the other record lives."""
    from dinsos.importing import already_registered

    nik, first = _nik_and_first_registration(operator)
    second = Thread(api(operator, "post", f"{API}persons/", {
        "nik": nik, "name": "Siti Aminah", "birth_date": "1980-08-17", "sex": "P",
        "desa": DESA_PANDEGLANG})).start()
    wait_for_lock_waiter(second)
    first.release()
    second.join()

    body = second.result.json()
    assert (second.result.status_code, body["errors"]) == (
        400, {"nik": [already_registered(Person, "nik")]})
    assert nik not in second.result.content.decode()


def test_the_same_nik_registered_twice_at_once_on_the_staff_page_is_told_on_its_field(operator):
    """The staff registration page meets the same unique index: the form comes back (400) with
    the uniqueness message next to the NIK field and everything typed kept, nothing stored —
    not the 500 page, and not the bare 409 page that lost the officer's form (the 409 page
    stays for the admin, ``UniqueConflictMiddleware``)."""
    from django.urls import reverse

    from dinsos.importing import already_registered
    from tests.helpers import client_for

    nik, first = _nik_and_first_registration(operator)
    page = Thread(lambda: client_for(operator).post(reverse("pmks:person-create"), {
        "nik": nik, "name": "Siti Aminah", "birth_place": "Pandeglang",
        "birth_date": "1980-08-17", "sex": "P", "desa": DESA_PANDEGLANG,
        "disability": "tidak", "schooling": "", "occupation": ""})).start()
    wait_for_lock_waiter(page)
    first.release()
    page.join()

    assert page.error is None, f"{type(page.error).__name__}: {page.error}"
    content = page.result.content.decode()
    assert page.result.status_code == 400
    form = page.result.context["form"]
    assert form.errors == {"nik": [already_registered(Person, "nik")]}
    assert form["name"].value() == "Siti Aminah"
    assert already_registered(Person, "nik") in content
    assert Person.objects.filter(nik=nik).count() == 1
