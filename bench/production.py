"""The bench measures the production configuration (what the Dockerfile's gunicorn runs), not
the development defaults of `.env`.

``DJANGO_DEBUG=1`` (the `.env` default) makes Django keep the text of every query and
WhiteNoise look for static files on every request; neither happens in production. So the bench
process and every gunicorn it starts run with ``DJANGO_DEBUG=0``, a generated
``DJANGO_SECRET_KEY`` (random, 86 characters, never written anywhere), plain HTTP on loopback
(``DJANGO_SECURE_SSL_REDIRECT=0``: behind the TLS proxy the app trusts ``X-Forwarded-Proto``)
and ``DJANGO_ALLOWED_HOSTS`` naming the Host header the bench sends. A variable set in the real
environment is kept as it is (`.env` never overrides the environment either); ``setup`` says
when that leaves the bench off the production configuration.
"""

import os
import secrets
from collections.abc import MutableMapping

#: The Host header of every bench request (test client and gunicorn).
HOST = "localhost"
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1,[::1]",
}


def apply(environ: MutableMapping[str, str]) -> list[str]:
    """Set the production values in ``environ`` where it has none; the names of the variables
    the caller set to something else (kept, and reported)."""
    for name, value in PRODUCTION.items():
        environ.setdefault(name, value)
    if not environ.get("DJANGO_SECRET_KEY"):
        environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    kept = [name for name in ("DJANGO_DEBUG", "DJANGO_SECURE_SSL_REDIRECT")
            if environ[name].strip().lower() not in ("0", "false", "off", "no", "")]
    hosts = [h.strip() for h in environ["DJANGO_ALLOWED_HOSTS"].split(",")]
    if HOST not in hosts and "*" not in hosts:
        kept.append("DJANGO_ALLOWED_HOSTS")
    return kept


def setup() -> None:
    """Before ``django.setup()``: the bench process (and the processes it starts, which inherit
    its environment) on production settings."""
    kept = apply(os.environ)
    if kept:
        print(f"bench: {', '.join(kept)} set in the environment and kept; the figures are not "
              "those of the production settings", flush=True)
