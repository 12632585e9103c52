"""API tokens (django-rest-knox) for the kab/kota machine clients: issued with an explicit
expiry, stored only as a digest, revocable, refused once expired."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import CONSTANTS

from dinsos import roles
from dinsos.services import token_issue, token_revoke, tokens_purge_expired

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def get_me(key: str):
    return Client().get(ME, HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def operator(make_user):
    return make_user(roles.OPERATOR_KAB_KOTA, "36.01", username="klien_pandeglang",
                     first_name="Klien", last_name="Pandeglang")


def run(command: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- issuing --------------------------------------------------------------------------------


def test_only_a_digest_is_stored(operator):
    token, key = token_issue(user=operator, days=30)
    assert len(key) == 64
    row = AuthToken.objects.get(pk=token.pk)
    assert row.token_key == key[:15]
    assert len(row.digest) == 128
    assert key not in row.digest
    assert key[15:] not in row.digest
    assert key[15:] not in row.token_key
    stored = " ".join(str(v) for v in AuthToken.objects.filter(pk=token.pk).values().get().values())
    assert key not in stored
    assert key[15:] not in stored


def test_expiry_is_now_plus_days(operator):
    before = timezone.now()
    token, _key = token_issue(user=operator, days=30)
    after = timezone.now()
    assert before + timedelta(days=30) <= token.expiry <= after + timedelta(days=30)
    assert AuthToken.objects.get(pk=token.pk).expiry == token.expiry


def test_each_issue_gives_a_new_independent_key(operator):
    _t1, key1 = token_issue(user=operator, days=1)
    _t2, key2 = token_issue(user=operator, days=366)
    assert key1 != key2
    assert AuthToken.objects.filter(user=operator).count() == 2
    assert get_me(key1).status_code == 200
    assert get_me(key2).status_code == 200


@pytest.mark.parametrize("days", [0, -1, 367, 400])
def test_token_issue_refuses_days_out_of_range(operator, days):
    with pytest.raises(ValueError, match="1 sampai 366 hari"):
        token_issue(user=operator, days=days)
    assert not AuthToken.objects.filter(user=operator).exists()


def test_token_issue_refuses_inactive_user(operator):
    operator.is_active = False
    operator.save()
    with pytest.raises(ValueError, match="tidak aktif"):
        token_issue(user=operator, days=30)


# --- using ----------------------------------------------------------------------------------


def test_valid_token_authenticates_me(operator):
    _token, key = token_issue(user=operator, days=30)
    response = get_me(key)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "klien_pandeglang"
    assert body["full_name"] == "Klien Pandeglang"
    assert body["office"]["name"] == "Dinas Sosial Kabupaten Pandeglang"
    assert body["office"]["wilayah"]["kode"] == "36.01"
    assert body["roles"] == ["Operator Kab/Kota"]
    assert body["area"] == {"kode": "36.01", "nama": "Kabupaten Pandeglang",
                            "tingkat": "kabupaten", "induk": "36"}
    assert body["province_wide"] is False


def test_token_is_enough_for_a_write_without_csrf(operator):
    _token, key = token_issue(user=operator, days=30)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/pmks/households/", data="{}", content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 400  # authenticated and past CSRF; the body is invalid
    assert "no_kk" in response.json()["errors"]


@pytest.mark.parametrize("header", ["Token", "Token abc def", "Token " + "x" * 64])
def test_malformed_or_unknown_token_is_401_json(header):
    response = Client().get(ME, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert body["detail"]


def test_expired_token_is_401_json_and_deleted(operator):
    token, key = token_issue(user=operator, days=30)
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    response = get_me(key)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body == {"detail": "Token tidak sah atau sudah kedaluwarsa.",
                    "code": "authentication_failed"}
    assert response["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(pk=token.pk).exists()


def test_token_of_a_deactivated_user_is_refused(operator):
    _token, key = token_issue(user=operator, days=30)
    operator.is_active = False
    operator.save()
    response = get_me(key)
    assert response.status_code == 401
    # The project catalog (locale/id) corrects the typo of DRF's ("akfif").
    assert response.json() == {"detail": "Pengguna tidak aktif atau telah dihapus.",
                               "code": "authentication_failed"}


def test_tokens_purge_expired(operator):
    old, _ = token_issue(user=operator, days=1)
    fresh, _ = token_issue(user=operator, days=1)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(days=1))
    assert tokens_purge_expired() == 1
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_purge_task_deletes_expired_tokens(operator):
    from dinsos.schedule import DEFAULT_PERIODIC_TASKS
    from dinsos.tasks import purge_expired_tokens

    old, _ = token_issue(user=operator, days=1)
    AuthToken.objects.filter(pk=old.pk).update(expiry=timezone.now() - timedelta(days=1))
    assert purge_expired_tokens.delay().get() == 1
    assert "dinsos.purge_expired_tokens" in {t.task for t in DEFAULT_PERIODIC_TASKS}


def test_a_token_request_costs_one_query_whatever_the_tokens_held(
        operator, django_assert_num_queries):
    """Issue #11: knox loaded every token of the user on every request (to sweep expired
    ones) and the policy then read the user's office: now token, user and office are one
    query, however many tokens a sync account holds."""
    from dinsos.api.authentication import TokenAuthentication

    _token, key = token_issue(user=operator, days=30)
    for _i in range(5):
        token_issue(user=operator, days=30)
    with django_assert_num_queries(1):
        user, auth = TokenAuthentication().authenticate_credentials(key.encode())
        assert user.area_code == "36.01"
    assert auth.user_id == operator.pk


def _columns(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("with_office", [True, False])
def test_the_prepared_token_query_gives_what_the_orm_gives(
        operator, with_office, django_assert_num_queries):
    """The token lookup's SQL is written once (``TokenQuery``) instead of compiled per request:
    the token, its user and the user's office are the ORM's instances, value for value (dates
    converted as the ORM converts them), with nothing left to query."""
    from dinsos.api.authentication import TokenQuery
    from dinsos.models import User

    if not with_office:
        User.objects.filter(pk=operator.pk).update(office=None, is_superuser=True)
    token, key = token_issue(user=operator, days=30)
    expected = AuthToken.objects.select_related("user__office").get(pk=token.pk)
    with django_assert_num_queries(1):
        [found] = TokenQuery.candidates(key[:CONSTANTS.TOKEN_KEY_LENGTH])
        assert _columns(found) == _columns(expected)
        assert _columns(found.user) == _columns(expected.user)
        if with_office:
            assert _columns(found.user.office) == _columns(expected.user.office)
            assert found.user.area_code == "36.01"
        else:
            assert found.user.office is None
    assert timezone.is_aware(found.expiry) and timezone.is_aware(found.created)
    assert not found._state.adding and found._state.db == expected._state.db
    assert not found.user._state.adding
    assert TokenQuery.candidates("0" * CONSTANTS.TOKEN_KEY_LENGTH) == []


def test_a_token_is_checked_against_its_digest_not_only_its_key(operator):
    """Two keys sharing the stored key prefix: only the one whose digest matches passes."""
    from rest_framework.exceptions import AuthenticationFailed

    from dinsos.api.authentication import TokenAuthentication

    _token, key = token_issue(user=operator, days=30)
    forged = key[:CONSTANTS.TOKEN_KEY_LENGTH] + ("0" if key[-1] != "0" else "1") * (
        len(key) - CONSTANTS.TOKEN_KEY_LENGTH)
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(forged.encode())
    user, _auth = TokenAuthentication().authenticate_credentials(key.encode())
    assert user == operator


# --- revoking -------------------------------------------------------------------------------


def test_token_revoke_all(operator):
    _t1, key1 = token_issue(user=operator, days=30)
    _t2, key2 = token_issue(user=operator, days=30)
    assert token_revoke(user=operator) == 2
    assert get_me(key1).status_code == 401
    assert get_me(key2).status_code == 401


def test_token_revoke_one_by_key_or_prefix(operator):
    _t1, key1 = token_issue(user=operator, days=30)
    _t2, key2 = token_issue(user=operator, days=30)
    assert token_revoke(user=operator, token_key=key1) == 1
    assert get_me(key1).status_code == 401
    assert get_me(key2).status_code == 200
    assert token_revoke(user=operator, token_key=key2[:15]) == 1
    assert get_me(key2).status_code == 401


def test_token_revoke_does_not_touch_other_users(operator, make_user):
    other = make_user(roles.OPERATOR_KAB_KOTA, "36.02")
    _t, other_key = token_issue(user=other, days=30)
    _t, key = token_issue(user=operator, days=30)
    assert token_revoke(user=operator, token_key=other_key) == 0
    assert get_me(other_key).status_code == 200
    assert get_me(key).status_code == 200


def test_revoke_token_command(operator):
    _t, key = token_issue(user=operator, days=30)
    assert get_me(key).status_code == 200
    out, _err = run("revoke_token", "klien_pandeglang")
    assert out.strip() == "1 token dicabut."
    assert get_me(key).status_code == 401


def test_revoke_token_command_with_key(operator):
    _t, key1 = token_issue(user=operator, days=30)
    _t, key2 = token_issue(user=operator, days=30)
    out, _err = run("revoke_token", "klien_pandeglang", "--key", key1[:15])
    assert out.strip() == "1 token dicabut."
    assert get_me(key1).status_code == 401
    assert get_me(key2).status_code == 200


def test_revoke_token_command_unknown_user():
    with pytest.raises(CommandError, match="Pengguna 'tidak_ada' tidak ditemukan."):
        run("revoke_token", "tidak_ada")


# --- issue_token command --------------------------------------------------------------------


def test_issue_token_command_prints_a_working_key(operator):
    before = timezone.now()
    out, err = run("issue_token", "klien_pandeglang", "--days", "7")
    key = out.strip()
    assert len(key) == 64
    assert "\n" not in key
    assert "Token untuk klien_pandeglang, berlaku sampai" in err
    assert "Authorization: Token <kunci>" in err
    assert key not in err
    token = AuthToken.objects.get(user=operator)
    assert token.token_key == key[:15]
    assert before + timedelta(days=7) <= token.expiry <= timezone.now() + timedelta(days=7)
    response = get_me(key)
    assert response.status_code == 200
    assert response.json()["username"] == "klien_pandeglang"


def test_issue_token_command_default_is_90_days(operator):
    run("issue_token", "klien_pandeglang")
    expiry = AuthToken.objects.get(user=operator).expiry
    assert abs(expiry - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)


@pytest.mark.parametrize("days", ["0", "400"])
def test_issue_token_command_days_out_of_range(operator, days):
    with pytest.raises(CommandError, match="1 sampai 366 hari"):
        run("issue_token", "klien_pandeglang", "--days", days)
    assert not AuthToken.objects.exists()


def test_issue_token_command_unknown_user():
    with pytest.raises(CommandError, match="Pengguna 'siapa' tidak ditemukan."):
        run("issue_token", "siapa")
    assert not AuthToken.objects.exists()


def test_issue_token_command_refuses_inactive_user(operator):
    operator.is_active = False
    operator.save()
    with pytest.raises(CommandError, match="Pengguna klien_pandeglang tidak aktif."):
        run("issue_token", "klien_pandeglang", "--days", "7")
    assert not AuthToken.objects.exists()


# --- the admin ------------------------------------------------------------------------------


def test_tokens_are_managed_only_through_the_user_page(operator, make_user):
    """knox's own admin was a second write path (its add form issued a token with no expiry
    rule), English and showing digests; the user page lists the tokens and its actions issue
    and revoke them through the services, the expiry written as Indonesians read it."""
    from django.contrib import admin
    from django.urls import reverse

    assert AuthToken not in admin.site._registry
    token, key = token_issue(user=operator, days=30)
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:dinsos_user_change", args=[operator.pk])).content.decode()
    assert f"<code>{token.token_key}…</code>" in page and key not in page
    assert token.digest not in page and "WIB" in page
    issued = client.post(reverse("admin:dinsos_user_changelist"),
                         {"action": "issue_api_token", "_selected_action": [operator.pk]},
                         follow=True).content.decode()
    assert "berlaku s.d." in issued and "+00:00" not in issued
    assert AuthToken.objects.filter(user=operator).count() == 2
