import os
import shutil
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from dinsos import roles
from dinsos.cache import PooledRedisCache
from tests.factories import UserFactory, office_for


class WorkerRedisCache(PooledRedisCache):
    """Under pytest-xdist: ``clear()`` removes only this worker's keys (its KEY_PREFIX), not the
    whole Redis database that the other workers share."""

    def clear(self):
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start:start + 1000])
        return True


#: the demo accounts' password in the tests that seed the demo
DEMO_PASSWORD = "Demo-Banten-2025!"
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
VAR_DIR = pytest.StashKey[Path]()


def pytest_configure(config):
    """Under pytest-xdist every worker has its own test database (pytest-django) and its own
    cache key prefix, so user ids that repeat across workers never share a throttle counter.
    Each test process also has its own ``VAR_DIR`` (the SQLite import's progress file is
    ``var/progress/import-<batch id>``): batch 1 of one worker's database is not batch 1 of
    another's, nor of a ``make run`` using the checkout meanwhile.

    Passwords are hashed with MD5 in the tests, for speed only: PBKDF2's million rounds cost
    0.3 s a password (the demo's 13 accounts, every browser login). Production keeps Django's
    default hashers (``check --deploy`` in CI runs with the real settings).

    Raw saves write no audit entry in the tests: the only raw saves are the restore of the
    reference data (1,716 regions, permissions, categories...) before every
    ``serialized_rollback`` test, which wrote 1,753 "created" entries each time (about 1 s of
    a browser test's setup). No code of the project saves raw (no fixtures, no loaddata)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = FAST_HASHER
    settings.AUDITLOG_DISABLE_ON_RAW_SAVE = True
    settings.VAR_DIR = config.stash[VAR_DIR] = Path(tempfile.mkdtemp(prefix="dinsos-tests-var-"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        for cache in settings.CACHES.values():
            cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', '')}{worker}"
            if cache["BACKEND"] == "dinsos.cache.PooledRedisCache":
                cache["BACKEND"] = "tests.conftest.WorkerRedisCache"


def pytest_unconfigure(config):
    if VAR_DIR in config.stash:
        shutil.rmtree(config.stash[VAR_DIR], ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A transactional test must restore the reference data it flushes: without
    ``serialized_rollback`` Django's flush re-runs post_migrate (the roles' groups come back)
    and every later restoring test of that worker fails on "Admin already exists".

    The tests of the modules that seed the demo (``demo_seeded``, 20–60 s) form one
    pytest-xdist group (``--dist loadgroup`` in pyproject.toml), so one worker runs them one
    after the other and seeds once (``_DemoSeed``), instead of once per module and worker
    that gets one of its tests (xdist hands the groups out first;
    they hold no transactional test, which must follow the others on its worker). Every
    other test is a unit of its own, handed out in collection order to whichever worker is
    free: the browser tests near the end (pytest-django runs transactional tests after the
    others) are shared by the workers instead of falling to one of them in one chunk, which
    left the other core idle for the last 45 s of a 3-minute run."""
    for item in items:
        if "demo_seeded" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("demo"))
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get(
                "serialized_rollback"):
            raise pytest.UsageError(f"{item.nodeid}: django_db(transaction=True) needs "
                                    "serialized_rollback=True in this suite")


_STATIC_SCANS: dict = {}


def _scanned_once(scan):
    """``scan`` (a WhiteNoise method that walks static files into ``self.files``) remembered
    per arguments and header settings: its result is the same for every middleware chain of
    the session."""

    def remembered(self, *args, **kwargs):
        key = (scan.__name__, args, tuple(sorted(kwargs.items())),
               getattr(self, "static_prefix", None), self.max_age, self.allow_all_origins,
               self.charset, self.index_file, self.add_headers_function, self.autorefresh)
        if key not in _STATIC_SCANS:
            before = dict(self.files)
            scan(self, *args, **kwargs)
            _STATIC_SCANS[key] = {url: found for url, found in self.files.items()
                                  if before.get(url) is not found}
        self.files.update(_STATIC_SCANS[key])

    return remembered


@pytest.fixture(autouse=True, scope="session")
def _static_files_scanned_once():
    """WhiteNoise walks every static file (the finders' and STATIC_ROOT's) each time a
    middleware chain is built — and every test ``Client`` builds one: 56 ms each, about 15 %
    of the suite's time. The walk is made once per session and its result reused; what is
    served, with which headers, is unchanged."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    originals = {name: getattr(WhiteNoiseMiddleware, name)
                 for name in ("add_files", "add_files_from_finders")}
    for name, scan in originals.items():
        setattr(WhiteNoiseMiddleware, name, _scanned_once(scan))
    yield
    for name, scan in originals.items():
        setattr(WhiteNoiseMiddleware, name, scan)


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Tasks run in-process unless a test asks for the real broker."""
    from dinsos.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


class _DemoSeed:
    """The demo, seeded in a transaction that stays open while the tests that use it follow one
    another — across modules (their one xdist group runs them in a row) — and is rolled back
    before any other test (``pytest_runtest_teardown``). Every test runs in a savepoint inside
    it (pytest-django's ``db``), so a test's writes never reach the next test."""

    outer = None  # the open transaction (an atomic block), or None
    output = ""  # what seed_demo printed

    @classmethod
    def open(cls, blocker) -> str:
        if cls.outer is None:
            out = StringIO()
            with blocker.unblock():
                outer = transaction.atomic()
                outer.__enter__()
                try:
                    with override_settings(DEMO_PASSWORD=DEMO_PASSWORD):
                        call_command("seed_demo", stdout=out)
                except BaseException:
                    transaction.set_rollback(True)
                    outer.__exit__(None, None, None)
                    raise
            cls.outer, cls.output, cls.blocker = outer, out.getvalue(), blocker
        return cls.output

    @classmethod
    def close(cls) -> None:
        if cls.outer is not None:
            outer, cls.outer = cls.outer, None
            with cls.blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A demo test after another test of its module (``TEST_WORKERS=0``, ``-k``): the seed was
    rolled back meanwhile and ``demo_seeded`` (module scope) is not asked again — seed again
    before the test's fixtures, so its savepoint sits inside the seed (the registry was
    empty)."""
    blocker = getattr(_DemoSeed, "blocker", None)
    if _DemoSeed.outer is None and blocker is not None and "demo_seeded" in item.fixturenames:
        _DemoSeed.open(blocker)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield  # the test's own savepoint is rolled back by now
    if nextitem is None or "demo_seeded" not in nextitem.fixturenames:
        _DemoSeed.close()


@pytest.fixture(scope="module")
def demo_seeded(django_db_setup, django_db_blocker):
    """``seed_demo`` once for the demo tests that run in a row (``_DemoSeed``), not once per
    test or module. Returns what the command printed."""
    return _DemoSeed.open(django_db_blocker)


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
