"""Issue #9 points 1–8 and 10, each reproduced as the issue describes it (Kabupaten Pandeglang
against Kabupaten Lebak, and the read-only roles), on the API, the browsable API and the admin.
Every test here fails on the code before the single access policy."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from dinsos import roles
from incentives.models import PayoutRun
from jamsosratu.models import Commitment, Companion, Cycle, Verification
from pmks.models import Case, DuplicateCandidate, Household, Person
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    BankAccountFactory,
    PayoutLineFactory,
    PersonFactory,
    WorkerFactory,
    cycle_with_tranches,
)
from tests.helpers import client_for
from tests.jamsosratu.factories import (
    KEC_MALINGPING,
    KEC_SUMUR,
    enrol,
    household,
    pendamping_in,
    worker_with_role,
)
from tests.pmks.factories import CaseFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"



@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


# --- 1. browsable API forms -------------------------------------------------------------------


def test_1_browsable_household_form_lists_no_lebak_person(pandeglang_operator):
    PersonFactory(desa_id=DESA_LEBAK, name="Orang Lebak Rahasia")
    PersonFactory(desa_id=DESA_PANDEGLANG, name="Orang Pandeglang")
    page = client_for(pandeglang_operator).get(f"{API}/pmks/households/?format=api").content
    assert b"Orang Pandeglang" in page  # the head choices are there …
    assert b"Orang Lebak Rahasia" not in page  # … but only of the user's area


def test_1_filter_form_lists_no_lebak_worker(pandeglang_operator):
    WorkerFactory(desa_id=DESA_LEBAK, name="Tenaga Lebak Rahasia")
    page = client_for(pandeglang_operator).get(f"{API}/psks/assignments/?format=api").content
    assert b"Tenaga Lebak Rahasia" not in page


# --- 2. any person's name by id ---------------------------------------------------------------


def test_2_household_head_from_another_district_is_not_found(pandeglang_operator, api_as):
    lebak = PersonFactory(desa_id=DESA_LEBAK, name="Orang Lebak Rahasia")
    payload = {"no_kk": "3601010501150077", "address": "x", "desa": DESA_PANDEGLANG}
    client = api_as(pandeglang_operator)
    other = client.post(f"{API}/pmks/households/", {**payload, "head": lebak.pk}, format="json")
    missing = client.post(f"{API}/pmks/households/", {**payload, "head": 999_999},
                          format="json")
    assert other.status_code == missing.status_code == 400
    assert list(other.json()["errors"]) == list(missing.json()["errors"]) == ["head"]
    assert b"Rahasia" not in other.content
    assert not Household.objects.filter(no_kk="3601010501150077").exists()


# --- 3. payout runs in the admin --------------------------------------------------------------


def test_3_district_operator_cannot_open_province_payout_runs(pandeglang_operator,
                                                              make_user):
    line = PayoutLineFactory(worker=WorkerFactory(desa_id=DESA_LEBAK))
    run = line.run
    client = client_for(pandeglang_operator)
    assert client.get(reverse("admin:incentives_payoutrun_changelist")).status_code == 403
    assert client.get(reverse("admin:incentives_payoutrun_change", args=[run.pk])
                      ).status_code == 403
    for kind in ("bank-csv", "nominatif-xlsx"):
        url = reverse("admin:incentives_payoutrun_report", args=[run.pk, kind])
        assert client.get(url).status_code == 403, kind
    # the API agrees
    assert client.get(f"{API}/incentives/runs/{run.pk}/").status_code == 403
    finance = client_for(make_user(roles.KEUANGAN))
    assert finance.get(reverse("admin:incentives_payoutrun_change", args=[run.pk])
                       ).status_code == 200
    # 202: the document is made by the Celery task (tests/incentives/test_documents_*.py);
    # the bank file waits for the approval (409, tests/incentives/test_reports.py)
    assert finance.get(reverse("admin:incentives_payoutrun_report",
                               args=[run.pk, "nominatif-xlsx"])).status_code == 202


def test_3_missing_run_report_is_404_not_500(make_user):
    finance = client_for(make_user(roles.KEUANGAN))
    url = reverse("admin:incentives_payoutrun_report", args=[999_999, "bank-csv"])
    assert finance.get(url).status_code == 404
    assert not PayoutRun.objects.exists()


# --- 4. duplicate pairs -----------------------------------------------------------------------


def test_4_cross_border_duplicate_pair_is_hidden_from_both_districts(pandeglang_operator,
                                                                     lebak_operator,
                                                                     province_operator, api_as):
    own = PersonFactory(desa_id=DESA_PANDEGLANG, name="Siti Pandeglang")
    other = PersonFactory(desa_id=DESA_LEBAK, name="Siti Lebak Rahasia")
    first, second = sorted([own, other], key=lambda p: p.pk)
    pair = DuplicateCandidate.objects.create(person_a=first, person_b=second, score=95)
    url = reverse("admin:pmks_duplicatecandidate_changelist")
    for user in (pandeglang_operator, lebak_operator):
        page = client_for(user).get(url)
        assert page.status_code == 200
        assert b"Siti" not in page.content
        assert client_for(user).get(reverse("admin:pmks_duplicatecandidate_change",
                                            args=[pair.pk])).status_code == 302
        assert api_as(user).get(f"{API}/pmks/duplicates/").json()["results"] == []
    assert b"Siti Lebak Rahasia" in client_for(province_operator).get(url).content


# --- 5. district operators and province money -------------------------------------------------


def test_5_district_operator_cannot_change_a_cycle_in_the_admin(cycle, pandeglang_operator):
    client = client_for(pandeglang_operator)
    url = reverse("admin:jamsosratu_cycle_change", args=[cycle.pk])
    page = client.get(url)
    assert page.status_code == 200  # reference data: readable …
    assert b'name="benefit_amount"' not in page.content  # … but not editable
    response = client.post(url, {"year": 2026, "name": "x", "legal_basis": "x",
                                 "benefit_amount": "99999999", "max_caseload": 200})
    assert response.status_code == 403
    assert Cycle.objects.get().benefit_amount == 1750000
    changelist = client.get(reverse("admin:jamsosratu_cycle_changelist"))
    assert b"generate_first_open_tranche" not in changelist.content
    response = client.post(reverse("admin:jamsosratu_cycle_changelist"), {
        "action": "generate_first_open_tranche", "_selected_action": [cycle.pk]})
    assert not cycle.tranches.filter(payments__isnull=False).exists()
    assert response.status_code in (200, 302)


def test_5_a_province_role_in_a_district_office_still_cannot_change_reference_data(
        cycle, make_user, api_as):
    """The policy checks the area too: a misassigned group does not open province data."""
    user = make_user(roles.OPERATOR_PROVINSI, "36.01")
    assert user.has_perm("jamsosratu.change_cycle")
    url = reverse("admin:jamsosratu_cycle_change", args=[cycle.pk])
    assert client_for(user).post(url, {"benefit_amount": "1"}).status_code == 403
    assert api_as(user).post(f"{API}/jamsosratu/cycles/2026/tranches/1/generate/"
                             ).status_code == 403
    assert client_for(user).get(reverse("admin:incentives_rate_changelist")).status_code == 403


# --- 6. admin forms bypassing the rules -------------------------------------------------------


def test_6_case_admin_cannot_take_a_lebak_person(pandeglang_operator):
    lebak = PersonFactory(desa_id=DESA_LEBAK, name="Orang Lebak Rahasia")
    own = PersonFactory(desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    response = client.post(reverse("admin:pmks_case_add"), {
        "person": lebak.pk, "category": 2, "identified_on": "2026-01-05", "source": "tksk"})
    assert response.status_code == 200  # the form again, with an error
    assert b"Orang Lebak Rahasia" not in response.content  # the raw-id label names no one
    assert not Case.objects.exists()

    case = CaseFactory(person=own)
    url = reverse("admin:pmks_case_change", args=[case.pk])
    inlines = {f"{prefix}-{name}": 0 for prefix in ("services", "transitions")
               for name in ("TOTAL_FORMS", "INITIAL_FORMS")}
    response = client.post(url, {"person": lebak.pk, "category": case.category_id,
                                 "identified_on": "2024-03-01", "source": "tksk",
                                 "description": "baru", **inlines})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.person_id == own.pk  # the person of a case never changes in the form
    assert case.description == "baru"  # the fields the service owns do


# --- 7. masking for read-only roles -----------------------------------------------------------


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN])
def test_7_admin_masks_identifiers_for_read_only_roles(role, make_user):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    hh = household(DESA_PANDEGLANG)
    account = BankAccountFactory(worker=WorkerFactory(desa_id=DESA_PANDEGLANG))
    client = client_for(make_user(role))
    pages = [
        (reverse("admin:pmks_person_changelist"), person.nik),
        (reverse("admin:pmks_person_change", args=[person.pk]), person.nik),
        (reverse("admin:pmks_household_changelist"), hh.no_kk),
        (reverse("admin:pmks_household_change", args=[hh.pk]), hh.people[0].nik),
        (reverse("admin:psks_worker_changelist"), account.worker.nik),
        (reverse("admin:psks_worker_change", args=[account.worker.pk]), account.account_number),
        (reverse("admin:psks_bankaccount_changelist"), account.account_number),
    ]
    for url, whole in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert whole.encode() not in page.content, url
        assert whole[-2:].encode() in page.content, url  # shown, masked


def test_7_operators_see_identifiers_whole_in_the_admin(pandeglang_operator):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    page = client_for(pandeglang_operator).get(reverse("admin:pmks_person_change",
                                                       args=[person.pk]))
    assert person.nik.encode() in page.content


def test_7_api_masks_jamsosratu_account_numbers_for_read_only_roles(cycle, province_operator,
                                                                    make_user, api_as):
    enrolment = enrol(province_operator, household(), cycle)
    whole = enrolment.account_number
    from tests.factories import PaymentFactory
    PaymentFactory(enrolment=enrolment, account_number=whole)
    for role in (roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN):
        client = api_as(make_user(role))
        for url in (f"{API}/jamsosratu/enrolments/", f"{API}/jamsosratu/payments/",
                    f"{API}/jamsosratu/enrolments/{enrolment.pk}/"):
            body = client.get(url).content.decode()
            assert whole not in body, (role, url)
            assert whole[-4:] in body, (role, url)
    operator_body = api_as(province_operator).get(f"{API}/jamsosratu/enrolments/").content
    assert whole.encode() in operator_body


# --- 8. answers that reveal other districts ---------------------------------------------------


def test_8_verifier_of_another_district_answers_like_a_missing_worker(cycle, province_operator,
                                                                     pandeglang_operator,
                                                                     api_as):
    enrolment = enrol(province_operator, household(), cycle)
    lebak = worker_with_role(KEC_MALINGPING, desa=DESA_LEBAK)
    lebak.name = "Tenaga Lebak Rahasia"
    lebak.save()
    payload = {"enrolment": enrolment.pk, "visit_date": "2025-11-10", "result": "sesuai"}
    client = api_as(pandeglang_operator)
    other = client.post(f"{API}/jamsosratu/verifications/", {**payload, "verifier": lebak.pk},
                        format="json")
    missing = client.post(f"{API}/jamsosratu/verifications/",
                          {**payload, "verifier": 999_999}, format="json")
    assert other.status_code == missing.status_code == 400
    assert b"Rahasia" not in other.content
    assert other.json()["errors"].keys() == missing.json()["errors"].keys() == {"verifier"}
    assert not Verification.objects.exists()


def test_8_companion_of_another_district_answers_like_a_missing_worker(cycle, province_operator,
                                                                      pandeglang_operator,
                                                                      api_as):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    lebak = pendamping_in(KEC_MALINGPING, desa=DESA_LEBAK)
    lebak.name = "Tenaga Lebak Rahasia"
    lebak.save()
    pendamping_in(KEC_SUMUR)
    url = f"{API}/jamsosratu/enrolments/{enrolment.pk}/companion/"
    client = api_as(pandeglang_operator)
    other = client.post(url, {"worker": lebak.pk, "start_date": "2026-01-05"}, format="json")
    missing = client.post(url, {"worker": 999_999, "start_date": "2026-01-05"}, format="json")
    assert other.status_code == missing.status_code == 400
    assert b"Rahasia" not in other.content
    assert other.json()["errors"] == missing.json()["errors"] | {
        "worker": other.json()["errors"]["worker"]}
    assert not Companion.objects.exists()


def test_8_upsert_of_a_lebak_nik_answers_like_registering_it(pandeglang_operator, api_as):
    lebak = PersonFactory(desa_id=DESA_LEBAK)
    body = {"name": "Orang Baru", "birth_date": "1980-08-17", "sex": "L",
            "desa": DESA_PANDEGLANG}
    client = api_as(pandeglang_operator)
    upsert = client.put(f"{API}/pmks/persons/by-nik/{lebak.nik}/", body, format="json")
    register = client.post(f"{API}/pmks/persons/", {**body, "nik": lebak.nik}, format="json")
    assert upsert.status_code == register.status_code == 400
    assert upsert.json() == register.json()
    assert "wilayah lain" not in upsert.content.decode()
    assert Person.objects.get(nik=lebak.nik).desa_id == DESA_LEBAK


def test_8_commitment_for_a_lebak_member_names_no_lebak_code(cycle, province_operator,
                                                            pandeglang_operator, api_as):
    enrolment = enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    member = enrolment.members.get()
    response = api_as(pandeglang_operator).post(f"{API}/jamsosratu/conditions/", {
        "member": member.pk, "tranche": cycle.tranches.first().pk, "kind": "kesehatan",
        "status": "terpenuhi"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["member"]
    assert "36.02" not in response.content.decode()
    assert not Commitment.objects.exists()


# --- 10. personal-data reads are logged -------------------------------------------------------


def _reads(model, **extra):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                   action=LogEntry.Action.ACCESS, **extra)


def test_10_admin_person_page_and_lists_are_logged(pandeglang_operator):
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    client.get(reverse("admin:pmks_person_change", args=[person.pk]))
    entry = _reads(Person, object_pk=str(person.pk)).get()
    assert entry.actor == pandeglang_operator
    client.get(reverse("admin:pmks_person_changelist"))
    listing = _reads(Person, object_pk="").get()
    assert listing.additional_data["rows"] == [str(person.pk)]
    assert listing.additional_data["source"] == "admin"


def test_10_household_detail_lists_exports_and_bank_accounts_are_logged(pandeglang_operator,
                                                                       api_as):
    from psks.models import BankAccount

    hh = household(DESA_PANDEGLANG)
    account = BankAccountFactory(worker=WorkerFactory(desa_id=DESA_PANDEGLANG))
    client = api_as(pandeglang_operator)
    client.get(f"{API}/pmks/households/{hh.pk}/")
    assert _reads(Household, object_pk=str(hh.pk)).count() == 1
    client.get(f"{API}/pmks/persons/")
    assert _reads(Person, additional_data__read="daftar").count() == 1
    client.get(f"{API}/pmks/persons/export/", {"fmt": "csv"})
    assert _reads(Person, additional_data__read="ekspor").count() == 1
    client.get(f"{API}/psks/bank-accounts/")
    assert _reads(BankAccount, additional_data__read="daftar").get().additional_data[
        "rows"] == [str(account.pk)]
    client_for(pandeglang_operator).get(reverse("admin:psks_bankaccount_changelist"))
    assert _reads(BankAccount, additional_data__read="daftar").count() == 2
