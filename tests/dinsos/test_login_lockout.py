"""Brute-force protection on every login form (issue #9 point 11): after AXES_FAILURE_LIMIT
wrong passwords a username is locked from that address — even the right password is refused,
with an Indonesian page — other users are unaffected, and an Admin unlocks it."""

import pytest
from django.conf import settings
from django.test import Client

from dinsos import roles

pytestmark = pytest.mark.django_db
PASSWORD = "Rahasia-Banten-2026"
LOGIN_FORMS = ["/masuk/", "/admin/login/"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(make_user):
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01", username="op_pandeglang")
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client, url, username, password):
    return client.post(url, {"username": username, "password": password, "next": "/"})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", LOGIN_FORMS)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(url, operator):
    client = Client()
    for _ in range(30):
        _login(client, url, operator.username, "salah")
    response = _login(client, url, operator.username, PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Akun terkunci sementara" in text and "hubungi Admin" in text
    assert not _logged_in(client)


@pytest.mark.parametrize("url", LOGIN_FORMS)
def test_the_limit_counts_from_the_setting_and_the_right_password_resets_it(url, operator):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, url, operator.username, "salah").status_code == 200
    assert _login(client, url, operator.username, PASSWORD).status_code == 302
    assert _logged_in(client)


def test_other_users_are_not_affected(operator, make_user):
    other = make_user(roles.OPERATOR_KAB_KOTA, "36.02", username="op_lebak")
    other.set_password(PASSWORD)
    other.save()
    client = Client()
    for _ in range(30):
        _login(client, "/masuk/", operator.username, "salah")
    response = _login(client, "/masuk/", other.username, PASSWORD)
    assert response.status_code == 302 and _logged_in(client)


def test_an_admin_unlocks_from_the_user_list(operator, make_user):
    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(locked, "/masuk/", operator.username, "salah")
    assert _login(locked, "/masuk/", operator.username, PASSWORD).status_code == 429

    admin = Client()
    admin.force_login(make_user(roles.ADMIN, is_superuser=True))  # force_login: no lockout
    response = admin.post("/admin/dinsos/user/", {
        "action": "unlock_login", "_selected_action": [operator.pk]}, follow=True)
    assert response.status_code == 200
    assert "Kunci login op_pandeglang dibuka" in response.content.decode()

    assert _login(locked, "/masuk/", operator.username, PASSWORD).status_code == 302
    assert _logged_in(locked)


def test_operators_cannot_unlock(operator, province_operator):
    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(locked, "/masuk/", operator.username, "salah")
    client = Client()
    client.force_login(province_operator)
    client.post("/admin/dinsos/user/", {"action": "unlock_login",
                                        "_selected_action": [operator.pk]})
    assert _login(locked, "/masuk/", operator.username, PASSWORD).status_code == 429


NEW_PASSWORD = "Baru-Sekali-2027!"


def _change(client, old_password):
    return client.post("/admin/password_change/", {
        "old_password": old_password, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})


def test_the_password_change_counts_wrong_old_passwords_like_a_login(operator):
    """Security audit (December 2026): the admin's "Ubah sandi" (open to every staff account)
    checked the old password with ``check_password``, which the lockout never counted: a
    session left open could guess it without limit and then set a new one. Now a wrong old
    password counts as a wrong login; past the limit even the right one is refused with the
    lockout page, and the password stays."""
    client = Client()
    client.force_login(operator)
    assert client.get("/admin/password_change/").status_code == 200
    first = _change(client, "tebakan-salah")
    assert first.status_code == 200 and "old_password" in first.context["form"].errors
    for _ in range(settings.AXES_FAILURE_LIMIT * 4):
        _change(client, "tebakan-salah")
    refused = _change(client, PASSWORD)
    operator.refresh_from_db()
    assert refused.status_code == 429
    assert "Akun terkunci sementara" in refused.content.decode()
    assert operator.check_password(PASSWORD) and not operator.check_password(NEW_PASSWORD)


def test_the_password_change_with_the_right_old_password_changes_it(operator):
    client = Client()
    client.force_login(operator)
    response = _change(client, PASSWORD)
    assert response.status_code == 302 and response["Location"].endswith(
        "/admin/password_change/done/")
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD)
