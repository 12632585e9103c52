"""The deployment files (docker-compose.yml, Dockerfile, .ci/run, .env.example) keep their shape.

Docker does not run in CI, so these tests read the files as text/YAML; no database is used.
"""

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DJANGO_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the `<<: *django` merge keys, so each service is seen as Docker sees it.
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def env_files(service: dict) -> list[str]:
    value = service.get("env_file", [])
    items = value if isinstance(value, list) else [value]
    return [item["path"] if isinstance(item, dict) else item for item in items]


def named_volumes(service: dict) -> list[str]:
    names = []
    for volume in service.get("volumes") or []:
        source = volume["source"] if isinstance(volume, dict) else volume.split(":", 1)[0]
        if not source.startswith((".", "/", "~")):
            names.append(source)
    return names


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_has_all_services(services):
    assert {"postgres", "redis", *DJANGO_SERVICES} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_backing_services_have_healthcheck_and_named_volume(compose, services, name):
    service = services[name]
    assert service["healthcheck"]["test"], f"{name} has no healthcheck"
    volumes = named_volumes(service)
    assert volumes, f"{name} keeps its data in no named volume"
    declared = set(compose.get("volumes") or {})
    assert set(volumes) <= declared, f"{name}: volumes {volumes} not declared at the top level"


def test_healthcheck_commands(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    redis_test = " ".join(services["redis"]["healthcheck"]["test"])
    assert "redis-cli" in redis_test
    assert "ping" in redis_test


def test_every_named_volume_is_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert set(named_volumes(service)) <= declared, name


def test_django_services_share_one_image(services):
    builds = {repr(services[name].get("build")) for name in DJANGO_SERVICES}
    images = {services[name].get("image") for name in DJANGO_SERVICES}
    assert len(builds) == 1
    assert services["web"].get("build") is not None
    assert len(images) == 1
    assert services["web"].get("image")


@pytest.mark.parametrize("name", DJANGO_SERVICES)
def test_django_services_wait_for_healthy_backing_services(services, name):
    depends_on = services[name]["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs the long form to carry conditions"
    for dependency in ("postgres", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)


@pytest.mark.parametrize("name", DJANGO_SERVICES)
def test_django_services_read_env_file(services, name):
    assert ".env" in env_files(services[name])


@pytest.mark.parametrize("name", DJANGO_SERVICES)
def test_django_services_point_at_compose_backends(services, name):
    env = environment(services[name])
    postgres_env = environment(services["postgres"])

    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in {"postgres", "postgresql", "pgsql"}
    assert database.hostname == "postgres"
    assert (database.port or 5432) == 5432
    assert database.username == postgres_env["POSTGRES_USER"]
    assert database.password == postgres_env["POSTGRES_PASSWORD"]
    assert database.path.lstrip("/") == postgres_env["POSTGRES_DB"]

    broker = urlsplit(env["CELERY_BROKER_URL"])
    assert broker.scheme == "redis"
    assert broker.hostname == "redis"

    if "CACHE_URL" in env:
        assert urlsplit(env["CACHE_URL"]).hostname == "redis"


def test_web_migrates_before_gunicorn(services):
    web = services["web"]
    command = command_text(web)
    migrate = re.search(r"manage\.py\s+migrate\b", command)
    assert migrate, command
    gunicorn = command.find("gunicorn")
    assert gunicorn > migrate.start(), command
    assert "dinsos.wsgi:application" in command
    assert "0.0.0.0:8000" in command
    for management_command in ("load_wilayah", "setup_periodic_tasks"):
        position = command.find(management_command)
        assert migrate.start() < position < gunicorn, management_command
    assert any(str(port).startswith("8000:8000") for port in web["ports"])
    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def test_worker_and_beat_run_celery(services):
    assert re.search(r"\bcelery\b.*-A\s+dinsos\b.*\bworker\b", command_text(services["worker"]))
    assert re.search(r"\bcelery\b.*-A\s+dinsos\b.*\bbeat\b", command_text(services["beat"]))


def test_worker_hands_back_a_running_task_when_compose_stops_it(services):
    """Operations audit (December 2026): compose stopped the worker with SIGTERM and killed it
    10 s later; a longer task (import, payout run, report) died with its message unacknowledged
    in Redis, handed out again only after the visibility timeout (an hour: seen with a killed
    worker). Now SIGTERM starts Celery's soft shutdown, shorter than the grace period, which
    cancels the task and hands its message back (acks late)."""
    from dinsos import settings

    worker = services["worker"]
    grace = str(worker["stop_grace_period"])
    seconds = int(grace[:-1]) * (60 if grace.endswith("m") else 1)
    assert environment(worker)["REMAP_SIGTERM"] == "SIGQUIT"
    assert 0 < settings.CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT < seconds
    assert settings.CELERY_TASK_ACKS_LATE
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])


def test_the_finance_mail_files_are_kept_on_a_volume(services):
    """Without EMAIL_URL the finance e-mails are files under var/mail: inside the worker
    container on no volume they were lost with it (check --deploy now warns, dinsos.W001)."""
    for name in ("web", "worker", "beat"):
        assert "mail:/app/var/mail" in services[name]["volumes"], name
    assert "var/mail" in (ROOT / "Dockerfile").read_text("utf-8")


def test_readme_tells_how_to_back_up_and_restore_the_database_and_media():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    """Operations audit: no backup procedure, and no word on a compose install's first user."""
    compose = readme.split("## Deployment with compose", 1)[1].split("\n## ", 1)[0]
    backup = compose.split("### Backup and restore", 1)[1]
    for needed in ("pg_dump", "pg_restore", "media"):
        assert needed in backup, needed
    assert "createsuperuser" in compose


def test_beat_uses_database_scheduler(services):
    """The schedule lives in the database (setup_periodic_tasks), not in a local shelve file."""
    settings = (ROOT / "dinsos" / "settings.py").read_text(encoding="utf-8")
    in_settings = re.search(
        r"CELERY_BEAT_SCHEDULER\s*=\s*['\"]django_celery_beat\.schedulers:DatabaseScheduler['\"]",
        settings,
    )
    assert in_settings or "DatabaseScheduler" in command_text(services["beat"])


# --- .env.example covers every setting ------------------------------------------------------

SETTINGS_ENV_RE = re.compile(r"\benv(?:\.\w+)?\(\s*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]")
ENV_EXAMPLE_RE = re.compile(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)


def settings_variables() -> set[str]:
    return set(SETTINGS_ENV_RE.findall((ROOT / "dinsos" / "settings.py").read_text("utf-8")))


def test_settings_regex_finds_variables():
    found = settings_variables()
    assert {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= found


def test_env_example_lists_every_setting_variable():
    documented = set(ENV_EXAMPLE_RE.findall((ROOT / ".env.example").read_text("utf-8")))
    missing = sorted(settings_variables() - documented)
    assert not missing, f"read in dinsos/settings.py but absent from .env.example: {missing}"


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text("utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def test_dockerfile_base_image_and_port():
    instructions = dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms and froms[-1].split()[0].startswith("python:3.11-slim")
    assert any(keyword == "EXPOSE" and "8000" in args.split() for keyword, args in instructions)


def test_dockerfile_does_not_run_as_root():
    users = [args for keyword, args in dockerfile_instructions() if keyword == "USER"]
    assert users, "no USER instruction: the container would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_installs_project_and_collects_static():
    runs = " ".join(args for keyword, args in dockerfile_instructions() if keyword == "RUN")
    assert re.search(r"pip install\b[^&;]*\s\.(\s|$)", runs), "the project is not pip-installed"
    assert ".[dev]" not in runs
    assert "collectstatic" in runs


def test_dockerfile_starts_gunicorn():
    starts = " ".join(
        args for keyword, args in dockerfile_instructions() if keyword in {"CMD", "ENTRYPOINT"}
    )
    assert "gunicorn" in starts
    assert "dinsos.wsgi:application" in starts


def test_dockerignore_keeps_secrets_and_local_state_out():
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "var"} <= patterns


# --- .ci/run ---------------------------------------------------------------------------------


def ci_script() -> Path:
    return ROOT / ".ci" / "run"


def test_ci_script_is_executable_and_tests_both_backends():
    assert os.access(ci_script(), os.X_OK), ".ci/run is not executable"
    text = ci_script().read_text("utf-8")
    assert "set -euo pipefail" in text
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert sum("make test" in line for line in code) >= 2, "make test must run twice"
    # one run on SQLite (the variables unset), one on PostgreSQL + Redis
    assert re.search(r"unset\b[^\n]*\bDATABASE_URL", text)
    assert re.search(r"DATABASE_URL=[\"']?postgres://", text)
    assert re.search(r"CELERY_BROKER_URL=[\"']?redis://", text)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_ci_script_parses_as_bash():
    result = subprocess.run(["bash", "-n", str(ci_script())], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- gunicorn --------------------------------------------------------------------------------


def test_gunicorn_is_sized_to_the_cores_in_the_image_and_compose(services, monkeypatch):
    """One sync worker made every user wait behind one slow request (issue #11): the image and
    compose start gunicorn with dinsos/gunicorn.py — 2 x cores + 1 threaded workers, a timeout
    that a normal request never reaches."""
    import importlib
    import multiprocessing

    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    config = importlib.reload(importlib.import_module("dinsos.gunicorn"))
    assert config.workers == 2 * multiprocessing.cpu_count() + 1
    assert (config.worker_class, config.threads) == ("gthread", 4)
    assert 30 <= config.timeout <= 120
    cmd = [args for keyword, args in dockerfile_instructions() if keyword == "CMD"][-1]
    assert "python:dinsos.gunicorn" in cmd
    assert "--config python:dinsos.gunicorn" in command_text(services["web"])


def test_gunicorn_workers_open_the_broker_connection_at_boot(monkeypatch):
    """The first request that queues a task (a report) does not wait for the broker connection;
    a broker that is down at boot is logged, never a worker that fails to start."""
    import importlib
    from contextlib import contextmanager
    from types import SimpleNamespace
    from unittest import mock

    from dinsos.celery import app

    config = importlib.import_module("dinsos.gunicorn")
    connection = mock.Mock()

    @contextmanager
    def producer():
        yield SimpleNamespace(connection=connection)

    monkeypatch.setattr(app, "producer_or_acquire", producer)
    worker = mock.Mock()
    config.post_worker_init(worker)
    connection.ensure_connection.assert_called_once_with(max_retries=1)
    worker.log.warning.assert_not_called()

    connection.ensure_connection.side_effect = ConnectionRefusedError
    config.post_worker_init(worker)
    worker.log.warning.assert_called_once()


def test_make_run_and_django_read_env_example_alike(monkeypatch):
    """``make run`` starts its processes with honcho, which reads ``.env`` itself (and, unquoted,
    joined ``Program Perlindungan dan Jaminan Sosial`` into one word on the signed Daftar
    Nominatif); Django reads it with django-environ. Every value must come out the same."""
    import environ
    from honcho.environ import parse

    text = (ROOT / ".env.example").read_text()
    by_django: dict[str, str] = {}
    monkeypatch.setattr(environ.Env, "ENVIRON", by_django)
    environ.Env.read_env(io.StringIO(text))
    by_honcho = dict(parse(text))
    assert by_honcho == by_django
    assert by_django["NOMINATIF_PROGRAM"] == "Program Perlindungan dan Jaminan Sosial"
