import os

import pytest
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from dinsos import roles
from tests.factories import UserFactory, office_for


class WorkerRedisCache(RedisCache):
    """Under pytest-xdist: ``clear()`` removes only this worker's keys (its KEY_PREFIX), not the
    whole Redis database that the other workers share."""

    def clear(self):
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
        return True


def pytest_configure(config):
    """Under pytest-xdist every worker has its own test database (pytest-django) and its own
    cache key prefix, so user ids that repeat across workers never share a throttle counter."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        from django.conf import settings

        for cache in settings.CACHES.values():
            cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', '')}{worker}"
            if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
                cache["BACKEND"] = "tests.conftest.WorkerRedisCache"


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run in-process unless a test asks for the real broker."""
    from dinsos.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def make_user(db):
    def make(role: str, kab_kota: str = "36", **kwargs):
        return UserFactory(role=role, office=office_for(kab_kota), **kwargs)

    return make


@pytest.fixture
def province_operator(make_user):
    return make_user(roles.OPERATOR_PROVINSI)


@pytest.fixture
def pandeglang_operator(make_user):
    return make_user(roles.OPERATOR_KAB_KOTA, "36.01")


@pytest.fixture
def lebak_operator(make_user):
    return make_user(roles.OPERATOR_KAB_KOTA, "36.02")


@pytest.fixture
def auditor(make_user):
    return make_user(roles.AUDITOR)


@pytest.fixture
def api_as():
    def client_for(user):
        client = APIClient()
        client.force_login(user)
        return client

    return client_for


def pytest_report_header(config):
    from django.conf import settings

    return (
        f"database: {settings.DATABASES['default']['ENGINE']} · "
        f"broker: {settings.CELERY_BROKER_URL.split('@')[-1]}"
    )


# The PMKS import has two paths: row by row (SQLite) and COPY + set-based SQL (PostgreSQL).
# The import tests take this fixture, so on PostgreSQL every one of them runs through both.
def _import_paths() -> list[str]:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    return ["rows", "copy"] if on_postgres else ["rows"]


IMPORT_PATHS = _import_paths()


@pytest.fixture(params=IMPORT_PATHS)
def import_path(request, monkeypatch):
    from pmks import importing

    monkeypatch.setattr(importing, "PATH", request.param)
    return request.param
