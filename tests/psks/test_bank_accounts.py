"""Bank accounts: recorded by one user, verified by another (four eyes) in the service, the
database, the API and the admin; the account in force on a date; masking for read-only roles."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from dinsos import roles
from psks import selectors, services
from psks.models import Bank, BankAccount
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, WorkerFactory

pytestmark = pytest.mark.django_db

D = datetime.date
ACCOUNTS = "/api/v1/psks/bank-accounts/"
FOUR_EYES = ("Rekening harus diverifikasi oleh pengguna lain (prinsip empat mata), bukan oleh "
             "yang mencatatnya.")


@pytest.fixture
def worker(db):
    return WorkerFactory(name="Dede Kurnia", desa_id=DESA_PANDEGLANG)


@pytest.fixture
def checker(make_user):
    """A second operator of the same kab/kota."""
    return make_user(roles.OPERATOR_KAB_KOTA, "36.01")


def add(actor, worker, number="0012345678", bank="bank_banten", holder="Dede Kurnia"):
    return services.bank_account_add(actor=actor, worker=worker,
                                     bank=Bank.objects.get(code=bank), account_number=number,
                                     holder_name=holder)


# --- four eyes in the service and the database ------------------------------------------------


def test_recorded_account_is_unverified(pandeglang_operator, worker):
    account = add(pandeglang_operator, worker, holder="  Dede   Kurnia ")
    assert (account.created_by, account.verified_by, account.verified_at,
            account.effective_from, account.is_verified) == (
        pandeglang_operator, None, None, None, False)
    assert account.holder_name == "Dede Kurnia"


def test_maker_cannot_verify_own_account(pandeglang_operator, worker):
    account = add(pandeglang_operator, worker)
    with pytest.raises(PermissionDenied) as exc:
        services.bank_account_verify(actor=pandeglang_operator, account=account)
    assert str(exc.value) == FOUR_EYES
    account.refresh_from_db()
    assert not account.is_verified


def test_another_user_verifies(pandeglang_operator, checker, worker):
    account = add(pandeglang_operator, worker)
    services.bank_account_verify(actor=checker, account=account,
                                 effective_from=D(2026, 1, 1))
    account.refresh_from_db()
    assert (account.verified_by, account.effective_from, account.is_verified) == (
        checker, D(2026, 1, 1), True)


def test_verification_takes_effect_today_by_default(pandeglang_operator, checker, worker):
    account = services.bank_account_verify(actor=checker,
                                           account=add(pandeglang_operator, worker))
    assert account.effective_from == timezone.localdate()


def test_an_account_is_verified_once(pandeglang_operator, checker, province_operator, worker):
    account = add(pandeglang_operator, worker)
    services.bank_account_verify(actor=checker, account=account)
    with pytest.raises(ValidationError) as exc:
        services.bank_account_verify(actor=province_operator, account=account)
    assert exc.value.messages == ["Rekening ini sudah diverifikasi."]
    account.refresh_from_db()
    assert account.verified_by == checker


def test_operator_of_another_kab_kota_cannot_verify(pandeglang_operator, lebak_operator,
                                                    worker):
    account = add(pandeglang_operator, worker)
    with pytest.raises(PermissionDenied, match="di luar wilayah kerja"):
        services.bank_account_verify(actor=lebak_operator, account=account)


@pytest.mark.parametrize("number", ["12345", "0012-345678", "ABC1234567", "1" * 21])
def test_account_number_is_6_to_20_digits(pandeglang_operator, worker, number):
    with pytest.raises(ValidationError) as exc:
        add(pandeglang_operator, worker, number=number)
    assert "Nomor rekening harus 6–20 angka saja." in exc.value.message_dict["account_number"]


def test_database_refuses_verification_by_the_maker(pandeglang_operator, worker):
    account = add(pandeglang_operator, worker)
    with pytest.raises(IntegrityError, match="psks_bank_account_four_eyes"), \
            transaction.atomic():
        BankAccount.objects.filter(pk=account.pk).update(
            verified_by=pandeglang_operator, verified_at=timezone.now(),
            effective_from=D(2026, 1, 1))
    account.refresh_from_db()
    assert not account.is_verified


def test_database_refuses_a_half_verified_account(pandeglang_operator, checker, worker):
    account = add(pandeglang_operator, worker)
    with pytest.raises(IntegrityError, match="psks_bank_account_verified_complete"), \
            transaction.atomic():
        BankAccount.objects.filter(pk=account.pk).update(verified_by=checker)


# --- the account in force ---------------------------------------------------------------------


def test_account_in_force_on_a_date(pandeglang_operator, checker, worker):
    def in_force(on):
        return selectors.bank_account_in_force(worker_id=worker.pk, on=on)

    old = add(pandeglang_operator, worker, number="1111111111")
    assert in_force(D(2030, 1, 1)) is None  # not verified yet

    services.bank_account_verify(actor=checker, account=old, effective_from=D(2025, 1, 1))
    assert in_force(D(2024, 12, 31)) is None
    assert in_force(D(2025, 1, 1)) == old

    new = add(pandeglang_operator, worker, number="2222222222", bank="bjb")
    assert in_force(D(2030, 1, 1)) == old  # the change waits for its verification

    services.bank_account_verify(actor=checker, account=new, effective_from=D(2026, 3, 1))
    table = {D(2025, 6, 30): old, D(2026, 2, 28): old, D(2026, 3, 1): new,
             D(2030, 1, 1): new}
    assert {on: in_force(on) for on in table} == table
    assert in_force(D(2026, 3, 1)).bank.code == "bjb"

    other = WorkerFactory()
    assert selectors.bank_account_in_force(worker_id=other.pk, on=D(2030, 1, 1)) is None


# --- API ----------------------------------------------------------------------------------------


def test_api_add_then_verify_by_another_operator(pandeglang_operator, checker, worker, api_as):
    maker = api_as(pandeglang_operator)
    response = maker.post(ACCOUNTS, {"worker": worker.pk, "bank": "bank_banten",
                                     "account_number": "0012345678",
                                     "holder_name": "Dede Kurnia"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["account_number"], body["created_by"], body["verified_by"],
            body["verified_at"], body["effective_from"]) == (
        "0012345678", pandeglang_operator.username, None, None, None)
    verify = f"{ACCOUNTS}{body['id']}/verify/"

    response = maker.post(verify, {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": FOUR_EYES, "code": "permission_denied"}
    assert not BankAccount.objects.get(pk=body["id"]).is_verified

    response = api_as(checker).post(verify, {"effective_from": "2026-01-01"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["verified_by"], response.json()["effective_from"]) == (
        checker.username, "2026-01-01")
    assert selectors.bank_account_in_force(worker_id=worker.pk, on=D(2026, 1, 1)).pk == \
        body["id"]

    response = api_as(checker).post(verify, {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Rekening ini sudah diverifikasi."]}


def test_api_accounts_are_never_edited(pandeglang_operator, worker, api_as):
    account = add(pandeglang_operator, worker)
    client = api_as(pandeglang_operator)
    url = f"{ACCOUNTS}{account.pk}/"
    assert client.patch(url, {"account_number": "9999999999"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    account.refresh_from_db()
    assert account.account_number == "0012345678"


def test_api_verify_from_another_kab_kota_is_404(pandeglang_operator, lebak_operator, worker,
                                                 api_as):
    account = add(pandeglang_operator, worker)
    response = api_as(lebak_operator).post(f"{ACCOUNTS}{account.pk}/verify/", {}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN])
def test_read_only_roles_see_masked_numbers_and_cannot_verify(role, make_user,
                                                              pandeglang_operator, worker,
                                                              api_as):
    account = add(pandeglang_operator, worker)
    client = api_as(make_user(role))
    rows = client.get(ACCOUNTS).json()["results"]
    masked = "******" + account.account_number[-4:]  # the last 4 digits, as on payout lines
    assert [r["account_number"] for r in rows] == [masked]
    assert client.get(f"{ACCOUNTS}{account.pk}/").json()["account_number"] == masked
    assert client.post(f"{ACCOUNTS}{account.pk}/verify/", {}, format="json").status_code == 403
    assert client.post(ACCOUNTS, {"worker": worker.pk, "bank": "bjb",
                                  "account_number": "0099999999",
                                  "holder_name": "X"}, format="json").status_code == 403
    account.refresh_from_db()
    assert not account.is_verified


def test_operators_see_the_whole_number(pandeglang_operator, province_operator, worker, api_as):
    add(pandeglang_operator, worker)
    for user in (pandeglang_operator, province_operator):
        rows = api_as(user).get(ACCOUNTS).json()["results"]
        assert [r["account_number"] for r in rows] == ["0012345678"]


def test_api_filter_verified(pandeglang_operator, checker, worker, api_as):
    first = add(pandeglang_operator, worker, number="1111111111")
    second = add(pandeglang_operator, WorkerFactory(), number="2222222222")
    services.bank_account_verify(actor=checker, account=first)
    client = api_as(pandeglang_operator)
    assert [r["id"] for r in client.get(ACCOUNTS, {"verified": "true"}).json()["results"]] == [
        first.pk]
    assert [r["id"] for r in client.get(ACCOUNTS, {"verified": "false"}).json()["results"]] == [
        second.pk]


def test_api_cannot_add_an_account_for_a_worker_of_another_kab_kota(pandeglang_operator,
                                                                    api_as):
    lebak_worker = WorkerFactory(desa_id=DESA_LEBAK)
    response = api_as(pandeglang_operator).post(
        ACCOUNTS, {"worker": lebak_worker.pk, "bank": "bri", "account_number": "0012345678",
                   "holder_name": "Orang Lebak"}, format="json")
    # another district's worker is "not found" (400): its existence is not revealed
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["worker"]
    assert not BankAccount.objects.exists()


# --- admin ---------------------------------------------------------------------------------------


def admin_verify(user, account) -> list[str]:
    client = Client()
    client.force_login(user)
    response = client.post("/admin/psks/bankaccount/",
                           {"action": "verify", "_selected_action": [account.pk]})
    assert response.status_code == 302, response.content[:500]
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_verify_action_refuses_the_maker(pandeglang_operator, worker):
    account = add(pandeglang_operator, worker)
    messages = admin_verify(pandeglang_operator, account)
    assert messages == [f"{account}: {FOUR_EYES}"]
    account.refresh_from_db()
    assert not account.is_verified


def test_admin_verify_action_by_another_user(pandeglang_operator, checker, worker):
    account = add(pandeglang_operator, worker)
    assert admin_verify(checker, account) == ["1 rekening diverifikasi."]
    account.refresh_from_db()
    assert account.verified_by == checker


def test_admin_verify_action_refused_for_the_auditor(pandeglang_operator, auditor, worker):
    account = add(pandeglang_operator, worker)
    client = Client()
    client.force_login(auditor)
    response = client.post("/admin/psks/bankaccount/",
                           {"action": "verify", "_selected_action": [account.pk]})
    assert response.status_code == 403
    account.refresh_from_db()
    assert not account.is_verified
