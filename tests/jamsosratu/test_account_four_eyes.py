"""Four eyes on a household's Bank Banten account: whoever records or changes it cannot be
the one who confirms it, and no transfer goes to an account nobody else confirmed. Before,
one operator could propose a household with an account (or change it) and the next bank file
sent the tahap there."""

from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from dinsos import roles
from jamsosratu import banking, services
from jamsosratu.models import Enrolment
from tests.factories import DESA_LEBAK, cycle_with_tranches
from tests.helpers import client_for, version_in
from tests.jamsosratu.factories import account_checker, enrol, household

pytestmark = pytest.mark.django_db
API = "/api/v1/jamsosratu"


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


@pytest.fixture
def unchecked(cycle, pandeglang_operator):
    """Active, with the account its proposer typed and nobody else confirmed."""
    return enrol(pandeglang_operator, household(), cycle, "aktif", account_checked=False)


def _first(cycle):
    return cycle.tranches.get(number=1)


def test_a_transfer_waits_until_another_user_confirms_the_account(cycle, unchecked,
                                                                  pandeglang_operator,
                                                                  make_user):
    services.payments_generate(tranche=_first(cycle))
    assert banking.transfer_totals(_first(cycle)) == (0, 0)
    assert banking.awaiting_account(_first(cycle)) == 1

    with pytest.raises(PermissionDenied):  # the proposer's own eyes are not enough
        services.enrolment_account_verify(actor=pandeglang_operator, enrolment=unchecked)
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    services.enrolment_account_verify(actor=colleague, enrolment=unchecked)

    text, count, _total = banking.transfer_file(_first(cycle))
    assert count == 1
    assert text.splitlines()[1].split(",")[1] == unchecked.account_number
    assert banking.awaiting_account(_first(cycle)) == 0
    stored = Enrolment.objects.get(pk=unchecked.pk)
    assert (stored.account_recorded_by, stored.account_verified_by) == (pandeglang_operator,
                                                                        colleague)


def test_a_changed_account_must_be_confirmed_again_but_a_sent_transfer_stays_sent(
        cycle, province_operator, pandeglang_operator):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    other = enrol(province_operator, household(), cycle, "aktif")
    services.payments_generate(tranche=_first(cycle))
    banking.transfer_file(_first(cycle))  # handed out: both sent
    services.enrolment_update(actor=pandeglang_operator, enrolment=other,
                              account_number="0098765432109")
    # the bank already holds both transfers: its copy of the kiriman still lists both, as
    # they were sent
    (kiriman,) = banking.dispatches(_first(cycle))
    text, count, _total = banking.transfer_file(_first(cycle), copy_of=kiriman["sent_at"])
    assert count == 2 and other.account_number in text

    second = cycle.tranches.get(number=2)
    services.payments_generate(tranche=second)
    changed = Enrolment.objects.get(pk=other.pk)
    assert changed.account_verified_at is None
    assert changed.account_recorded_by == pandeglang_operator
    text, count, _total = banking.transfer_file(second)
    assert count == 1
    assert text.splitlines()[1].split(",")[1] == enrolment.account_number


def test_the_service_refusals_name_the_account(cycle, unchecked, province_operator,
                                               lebak_operator):
    services.enrolment_account_verify(actor=province_operator, enrolment=unchecked)
    with pytest.raises(ValidationError) as twice:
        services.enrolment_account_verify(actor=account_checker(), enrolment=unchecked)
    assert "sudah diverifikasi" in twice.value.message_dict["account_number"][0]
    pos = enrol(province_operator, household(), cycle, "aktif", channel="pos")
    with pytest.raises(ValidationError) as none:
        services.enrolment_account_verify(actor=account_checker(), enrolment=pos)
    assert "belum mempunyai rekening" in none.value.message_dict["account_number"][0]
    lebak = enrol(province_operator, household(DESA_LEBAK), cycle, account_checked=False)
    with pytest.raises(PermissionDenied):
        services.enrolment_account_verify(actor=pandeglang_of(lebak_operator), enrolment=lebak)


def pandeglang_of(lebak_operator):
    """A district operator outside Lebak's area (the Lebak household is not hers)."""
    from tests.factories import UserFactory, office_for

    return UserFactory(role=roles.OPERATOR_KAB_KOTA, office=office_for("36.01"))


def test_the_database_refuses_a_verifier_who_recorded_the_account(unchecked,
                                                                  pandeglang_operator):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.filter(pk=unchecked.pk).update(
            account_verified_by=pandeglang_operator, account_verified_at=timezone.now())


def test_the_api_door(cycle, unchecked, pandeglang_operator, lebak_operator, make_user,
                      api_as):
    url = f"{API}/enrolments/{unchecked.pk}/verify-account/"
    seen = {"account_number": unchecked.account_number}  # the account the checker confirms
    own = api_as(pandeglang_operator).post(url, seen, format="json")
    assert own.status_code == 403
    assert "empat mata" in own.json()["detail"]
    assert api_as(lebak_operator).post(url, seen, format="json").status_code == 404  # elsewhere
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    done = api_as(colleague).post(url, seen, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["account_verified_at"]
    again = api_as(colleague).post(url, seen, format="json")
    assert again.status_code == 400
    assert list(again.json()["errors"]) == ["account_number"]


def test_the_api_verifies_only_the_account_the_checker_read(cycle, province_operator,
                                                             make_user, api_as):
    """A checker who read the enrolment (its ETag) before another officer put another account
    on it, and posts with that If-Match, gets 412 and verifies nothing (review of 2 December
    2026: 200, the unseen account confirmed); with the current ETag she confirms it."""
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    checker, changer = make_user(roles.OPERATOR_PROVINSI), make_user(roles.OPERATOR_PROVINSI)
    client = api_as(checker)
    url = f"{API}/enrolments/{enrolment.pk}/verify-account/"
    etag = client.get(f"{API}/enrolments/{enrolment.pk}/")["ETag"]
    services.enrolment_update(actor=changer, enrolment=Enrolment.objects.get(pk=enrolment.pk),
                              account_number="0012345678901")
    stale = client.post(url, {"account_number": "0012345678901"}, format="json",
                        HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert not Enrolment.objects.get(pk=enrolment.pk).account_is_verified
    fresh = client.get(f"{API}/enrolments/{enrolment.pk}/")["ETag"]
    done = client.post(url, {"account_number": "0012345678901"}, format="json",
                       HTTP_IF_MATCH=fresh)
    assert done.status_code == 200, done.content
    assert Enrolment.objects.get(pk=enrolment.pk).account_verified_by == checker


def test_the_api_checker_names_the_account_she_confirms(cycle, unchecked, make_user, api_as):
    """Without If-Match the checker still confirms only what she saw: the request names the
    account (``account_number``), refused on that field when missing or not the stored one —
    the number is never echoed."""
    client = api_as(make_user(roles.OPERATOR_KAB_KOTA, "36.01"))
    url = f"{API}/enrolments/{unchecked.pk}/verify-account/"
    missing = client.post(url)
    assert missing.status_code == 400
    assert list(missing.json()["errors"]) == ["account_number"]
    other = client.post(url, {"account_number": "0012345678901"}, format="json")
    assert other.status_code == 400
    assert list(other.json()["errors"]) == ["account_number"]
    assert other.json()["errors"]["account_number"] == [
        "Rekening yang Anda konfirmasi tidak sama dengan rekening yang tersimpan pada peserta "
        "ini; baca ulang data peserta, lalu konfirmasi rekening yang tercatat di buku "
        "tabungan."]
    assert unchecked.account_number not in other.content.decode()
    assert not Enrolment.objects.get(pk=unchecked.pk).account_is_verified
    done = client.post(url, {"account_number": unchecked.account_number}, format="json")
    assert done.status_code == 200, done.content
    assert Enrolment.objects.get(pk=unchecked.pk).account_is_verified


def test_the_service_refuses_an_account_other_than_the_one_confirmed(cycle, unchecked):
    with pytest.raises(ValidationError) as refused:
        services.enrolment_account_verify(actor=account_checker(), enrolment=unchecked,
                                          account_number="0012345678901")
    assert list(refused.value.message_dict) == ["account_number"]
    assert not Enrolment.objects.get(pk=unchecked.pk).account_is_verified


def test_the_admin_action(cycle, unchecked, pandeglang_operator, make_user):
    url = reverse("admin:jamsosratu_enrolment_changelist")
    body = {"action": "verify_account", "_selected_action": [unchecked.pk]}
    refused = client_for(pandeglang_operator).post(url, body, follow=True)
    errors = [str(m) for m in refused.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and "empat mata" in errors[0]
    assert Enrolment.objects.get(pk=unchecked.pk).account_verified_at is None
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    client_for(colleague).post(url, body, follow=True)
    assert Enrolment.objects.get(pk=unchecked.pk).account_verified_by == colleague


def test_the_enrolment_page_offers_the_check_to_another_user_only(cycle, unchecked,
                                                                  pandeglang_operator,
                                                                  make_user):
    page = reverse("jamsosratu:enrolment-detail", args=[unchecked.pk])
    action = reverse("jamsosratu:enrolment-account-verify", args=[unchecked.pk])
    own = unescape(client_for(pandeglang_operator).get(page).content.decode())
    assert "menunggu verifikasi" in own
    assert action not in own
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    client = client_for(colleague)
    shown = client.get(page).content.decode()
    assert action in shown
    assert client.post(action, {"if_match": version_in(shown, action)}).status_code == 302
    after = unescape(client.get(page).content.decode())
    assert "terverifikasi" in after and action not in after
    # the recorder posting by hand (the page offers her no button) is refused, in Indonesian
    other = enrol(pandeglang_operator, household(), cycle, "aktif", account_checked=False)
    mine = client_for(pandeglang_operator)
    other_page = reverse("jamsosratu:enrolment-detail", args=[other.pk])
    other_action = reverse("jamsosratu:enrolment-account-verify", args=[other.pk])
    version = version_in(client_for(colleague).get(other_page).content.decode(), other_action)
    refused = mine.post(other_action, {"if_match": version})
    assert refused.status_code == 400
    assert "empat mata" in unescape(refused.content.decode())
    assert Enrolment.objects.get(pk=other.pk).account_verified_at is None


def test_accounts_stored_before_the_rule_keep_reaching_the_bank(cycle, unchecked):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("jamsosratu.migrations.0015_enrolment_account_four_eyes")
    migration.accounts_before_the_rule(apps, None)
    assert Enrolment.objects.get(pk=unchecked.pk).account_verified_at is not None


def test_the_admin_list_shows_the_accounts_the_bulk_action_confirms(cycle, unchecked,
                                                                   make_user):
    """The review of 2 December: the admin's bulk "Verifikasi rekening" confirmed accounts the
    checker was never shown. The list now shows each account (masked to roles that may not
    change it) and whether it is confirmed, filters the unconfirmed ones, and is a logged
    read."""
    from tests.helpers import reads

    url = reverse("admin:jamsosratu_enrolment_changelist")
    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    page = client_for(colleague).get(url, {"account_verified_at__isempty": "1"})
    assert page.status_code == 200
    assert [e.pk for e in page.context["cl"].result_list] == [unchecked.pk]
    assert unchecked.account_number in page.content.decode()
    assert reads(Enrolment)
    auditor = client_for(make_user(roles.AUDITOR)).get(url).content.decode()
    assert unchecked.account_number not in auditor
    assert unchecked.account_number[-4:] in auditor
