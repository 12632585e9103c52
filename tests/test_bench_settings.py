"""`make bench` measures the production configuration (bench/production.py), not `.env`'s
development defaults; no database is used."""

import os
import subprocess
import sys
from pathlib import Path

from bench import production
from dinsos.settings import secret_key_is_insecure

ROOT = Path(__file__).resolve().parent.parent


def test_production_values_fill_an_empty_environment():
    environ = {}
    assert production.apply(environ) == []
    assert environ["DJANGO_DEBUG"] == "0"
    assert environ["DJANGO_SECURE_SSL_REDIRECT"] == "0"
    assert production.HOST in environ["DJANGO_ALLOWED_HOSTS"].split(",")
    assert not secret_key_is_insecure(environ["DJANGO_SECRET_KEY"])
    other = {}
    production.apply(other)
    assert other["DJANGO_SECRET_KEY"] != environ["DJANGO_SECRET_KEY"]  # generated, not fixed


def test_values_set_by_the_user_are_kept_and_named():
    environ = {"DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": "k" * 10 + "ey-of-the-user-" * 4,
               "DJANGO_ALLOWED_HOSTS": "dinsos.example", "DJANGO_SECURE_SSL_REDIRECT": "0"}
    before = dict(environ)
    assert production.apply(environ) == ["DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS"]
    assert environ == before


def test_the_bench_process_runs_with_debug_off_whatever_dotenv_says():
    """`.env` (DJANGO_DEBUG=1 in development) never overrides the real environment, which
    ``production.setup`` fills before Django reads its settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    code = ("from bench import production; production.setup(); import django; "
            "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dinsos.settings'); "
            "django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.SECURE_SSL_REDIRECT, settings.ALLOWED_HOSTS[0], "
            "settings.SECURE_HSTS_SECONDS > 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True, timeout=120)
    assert done.stdout.split() == ["False", "False", production.HOST, "True"]
