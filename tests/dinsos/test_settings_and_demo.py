"""Settings (secure by default, Indonesian, Jakarta time), the demo seed, and the web shell."""

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from dinsos.models import Office, User, Wilayah
from tests.conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
SETUP = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='dinsos.settings'; "
         "django.setup()")
STRONG_KEY = secrets.token_urlsafe(64)


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess:
    # a fresh process: no secret key and no test-only switch (the browser tests' async flag)
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=120,
    )


# --- the secret key guard -------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "short",
        "django-insecure-" + "x" * 60,  # a generated development key, however long
        "ab" * 40,  # long but fewer than 5 distinct characters
        STRONG_KEY[:49],  # one character short of 50
    ],
    ids=["short", "django-insecure", "few-distinct", "49-characters"],  # the same in every
)                                                                        # pytest-xdist worker
def test_insecure_secret_key_is_refused_without_debug(key):
    result = run_python("-c", SETUP, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY tidak aman" in result.stderr


def test_missing_secret_key_is_refused_without_debug():
    result = run_python("-c", SETUP, DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY tidak aman" in result.stderr


def test_strong_secret_key_is_accepted_without_debug():
    result = run_python("-c", SETUP, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_KEY)
    assert result.returncode == 0, result.stderr
    assert "tidak aman" not in result.stderr


def test_development_key_is_fine_with_debug():
    result = run_python("-c", SETUP + "; from django.conf import settings; "
                        "print(settings.DEBUG, settings.SECRET_KEY[:15])", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True django-insecure"


def test_check_deploy_passes_with_production_values():
    env = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "DJANGO_ALLOWED_HOSTS": "dinsos.bantenprov.go.id",
        "EMAIL_URL": "smtp+tls://dinsos:sandi@smtp.bantenprov.go.id:587",
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout

    # operations audit (December 2026): with no EMAIL_URL the finance reports were files under
    # var/mail while the run said "terkirim", and nothing told the operator
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING",
                        **{**env, "EMAIL_URL": ""})
    assert result.returncode != 0
    assert "dinsos.W001" in result.stdout + result.stderr


def test_smtp_has_a_timeout():
    """Operations audit: the finance e-mail is sent while its run is locked; with no timeout a
    stalled SMTP server held the run and the worker until the task's time limit."""
    result = run_python("-c", SETUP + "; from django.conf import settings as s; "
                        "print(s.EMAIL_BACKEND.rsplit('.', 1)[-1], s.EMAIL_TIMEOUT)",
                        DJANGO_DEBUG="1", EMAIL_URL="smtp+tls://u:p@smtp.example.go.id:587")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["EmailBackend", "30"]


def test_production_security_settings_in_a_subprocess():
    code = SETUP + (
        "; from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS, "
        "s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = run_python("-c", code, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_KEY,
                        DJANGO_ALLOWED_HOSTS="dinsos.bantenprov.go.id")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "False True True True 31536000 ['dinsos.bantenprov.go.id'] "
        "CompressedManifestStaticFilesStorage"
    )


# --- language and time ----------------------------------------------------------------------


def test_language_and_time_settings():
    assert settings.LANGUAGE_CODE == "id"
    assert settings.TIME_ZONE == "Asia/Jakarta"
    assert settings.USE_TZ is True
    assert settings.USE_I18N is True
    codes = [code for code, _name in settings.LANGUAGES]
    assert codes == ["id"]
    assert settings.CELERY_TIMEZONE == "Asia/Jakarta"
    assert settings.AUTH_USER_MODEL == "dinsos.User"


# --- seed_demo ------------------------------------------------------------------------------

PROVINCE_ACCOUNTS = {
    "admin": "Admin",
    "operator_provinsi": "Operator Provinsi",
    "keuangan": "Keuangan",
    "pimpinan": "Pimpinan",
    "auditor": "Auditor",
}
KAB_KOTA_ACCOUNTS = {
    "operator_pandeglang": ("36.01", "Dinas Sosial Kabupaten Pandeglang"),
    "operator_lebak": ("36.02", "Dinas Sosial Kabupaten Lebak"),
    "operator_kab_tangerang": ("36.03", "Dinas Sosial Kabupaten Tangerang"),
    "operator_kab_serang": ("36.04", "Dinas Sosial Kabupaten Serang"),
    "operator_kota_tangerang": ("36.71", "Dinas Sosial Kota Tangerang"),
    "operator_cilegon": ("36.72", "Dinas Sosial Kota Cilegon"),
    "operator_kota_serang": ("36.73", "Dinas Sosial Kota Serang"),
    "operator_tangsel": ("36.74", "Dinas Sosial Kota Tangerang Selatan"),
}


@pytest.fixture
def seeded(demo_seeded, db, settings):
    """The demo, seeded once for this module (tests/conftest.py), and what seed_demo printed."""
    settings.DEMO_PASSWORD = DEMO_PASSWORD
    return demo_seeded


def counts() -> dict:
    from django.apps import apps

    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"dinsos", "auth", "pmks", "psks", "jamsosratu",
                                     "incentives"}
        and model._meta.label != "dinsos.IdempotencyKey"
    }


def test_seed_demo_prints_the_real_web_port(db, settings, monkeypatch):
    """`WEB_PORT=8080 make run` printed port 8000 (the seeding itself is tested below)."""
    monkeypatch.setattr("dinsos.management.commands.seed_demo.seed_all",
                        lambda: (DEMO_PASSWORD, False, []))
    settings.WEB_PORT = 8080
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "http://127.0.0.1:8080/" in out.getvalue()


# seed_demo also runs every app's demo seeders (several seconds), so it runs in two tests only:
# one checks everything the kernel seeds, the other that a second run changes nothing.


def check_province_accounts():
    for username, role in PROVINCE_ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role], username
        assert user.office.wilayah_id == "36"
        assert user.office.name == "Dinas Sosial Provinsi Banten"
        assert user.is_active and user.is_staff
        assert user.is_superuser is (username == "admin")
        assert user.email == f"{username}@demo.dinsos.bantenprov.go.id"


def check_kab_kota_operators():
    assert len(KAB_KOTA_ACCOUNTS) == 8
    for username, (kode, office_name) in KAB_KOTA_ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert user.office.wilayah_id == kode, username
        assert user.office.name == office_name
        assert list(user.groups.values_list("name", flat=True)) == ["Operator Kab/Kota"]
        assert not user.is_superuser
    assert User.objects.get(username="operator_cilegon").get_full_name() == (
        "Operator Kota Cilegon"
    )


def check_passwords():
    usernames = [*PROVINCE_ACCOUNTS, *KAB_KOTA_ACCOUNTS]
    assert User.objects.filter(username__in=usernames).count() == 13
    for user in User.objects.filter(username__in=usernames):
        assert user.check_password(DEMO_PASSWORD), user.username
        assert not user.check_password("salah")


def check_output(output: str):
    lines = output.splitlines()
    assert lines[0] == "Data demo siap."
    assert f"Kata sandi: {DEMO_PASSWORD}" in lines
    for username in [*PROVINCE_ACCOUNTS, *KAB_KOTA_ACCOUNTS]:
        assert any(line.split()[:1] == [username] for line in lines), username
    assert (
        "  operator_pandeglang      Operator Kab/Kota  Dinas Sosial Kabupaten Pandeglang" in lines
    )


def check_login_page():
    client = Client()
    response = client.post("/masuk/", {"username": "operator_lebak",
                                       "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Dinas Sosial Kabupaten Lebak" in home.content.decode()


def test_seed_demo_accounts_offices_roles_and_passwords(seeded):
    check_province_accounts()
    check_kab_kota_operators()
    check_passwords()
    check_output(seeded)
    check_login_page()
    assert Wilayah.objects.count() == 1716
    assert Office.objects.count() == 9
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(
        ["Admin", "Operator Provinsi", "Operator Kab/Kota", "Keuangan", "Pimpinan", "Auditor"]
    )


def test_seed_demo_twice_creates_nothing_new(seeded):
    before = counts()
    assert before["dinsos.User"] == 13
    assert before["dinsos.Office"] == 9
    assert before["dinsos.Wilayah"] == 1716
    assert before["auth.Group"] == 6
    call_command("seed_demo", stdout=StringIO())
    assert counts() == before
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)


def test_seed_demo_households_own_assets_and_take_part_in_programs(seeded):
    from pmks.models import Household

    households = list(Household.objects.filter(address__startswith="Kp. ")
                      .prefetch_related("assets", "programs"))
    assert len(households) >= 40
    assert all(h.assets.all() for h in households)
    poorest = [h for h in households if h.decile in (1, 2)]
    assert poorest and all({p.code for p in h.programs.all()} & {"kks", "pkh", "bpnt"}
                           for h in poorest)


# --- web ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_redirects_anonymous_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/masuk/?next=/"


@pytest.mark.django_db
def test_login_page_is_indonesian():
    response = Client().get("/masuk/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "<h1>Masuk</h1>" in html
    assert "Nama pengguna" in html
    assert "Kata sandi" in html
    assert "Dinas Sosial Provinsi Banten" in html


@pytest.mark.django_db
def test_wrong_password_shows_indonesian_error(pandeglang_operator):
    pandeglang_operator.set_password("benar-sekali-123")
    pandeglang_operator.save()
    response = Client().post("/masuk/", {"username": pandeglang_operator.username,
                                         "password": "salah"})
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah." in response.content.decode()


@pytest.mark.django_db
def test_home_shows_office_and_role(pandeglang_operator):
    client = Client()
    client.force_login(pandeglang_operator)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dinas Sosial Kabupaten Pandeglang" in html
    assert "Operator Kab/Kota" in html
    assert "Kabupaten Pandeglang (36.01)" in html


@pytest.mark.django_db
def test_home_of_province_user_says_whole_province(province_operator):
    client = Client()
    client.force_login(province_operator)
    html = client.get("/").content.decode()
    assert "Dinas Sosial Provinsi Banten" in html
    assert "Seluruh Provinsi Banten" in html


@pytest.mark.django_db
def test_logout_is_post_and_returns_to_login(pandeglang_operator):
    client = Client()
    client.force_login(pandeglang_operator)
    response = client.post("/keluar/")
    assert response.status_code == 302
    assert response["Location"] == "/masuk/"
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_admin_login_page_is_branded():
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    html = response.content.decode()
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "Dinas Sosial Provinsi Banten" in title
    assert '<html lang="id"' in html


def test_seed_demo_leaves_duplicate_pairs_to_decide(seeded):
    """A fresh demo has work on the duplicates page: the persons registered twice."""
    from django.urls import reverse

    from pmks.demo import REGISTERED_TWICE
    from pmks.models import DuplicateCandidate

    pairs = {frozenset((pair.person_a.name, pair.person_b.name))
             for pair in DuplicateCandidate.objects.filter(status="terbuka")
             .select_related("person_a", "person_b")}
    for name, again in REGISTERED_TWICE.items():
        assert frozenset((name, again)) in pairs, (name, again)
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    page = client.get(reverse("pmks:duplicates")).content.decode()
    assert "M. Rizky Hidayat" in page and "Muhammad Rizky Hidayat" in page
