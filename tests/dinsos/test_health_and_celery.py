"""/healthz, the Celery app's configuration, the real broker, periodic tasks (django-celery-beat)
and dispatch after commit."""

import time
import uuid
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dinsos.celery import AuditedTask, app
from dinsos.models import Office
from dinsos.schedule import DEFAULT_PERIODIC_TASKS, Periodic, periodic_tasks_sync

pytestmark = pytest.mark.django_db

PING_TASK_NAME = "Cek pekerja (ping) tiap 5 menit"


@pytest.fixture(scope="module", autouse=True)
def _discovered_tasks():
    """Tasks are autodiscovered lazily: the worker and beat import every app's tasks.py at
    start-up with this call (the web process does not); do the same here."""
    app.loader.import_default_modules()


@app.task(bind=False, name="tests.celery.set_office_address")
def set_office_address(kode: str, address: str) -> str:
    Office.objects.filter(wilayah_id=kode).update(address=address)
    return address


# --- /healthz -------------------------------------------------------------------------------


def test_healthz_ok_on_the_configured_database_and_broker():
    from dinsos.health import worker_beat

    worker_beat()  # a worker ran the scheduled ping
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "info": connection.vendor}
    expected_transport = "redis" if settings.CELERY_BROKER_URL.startswith("redis") else (
        "filesystem"
    )
    assert body["broker"]["ok"] is True
    assert expected_transport in body["broker"]["info"].lower()


def test_healthz_tells_whether_a_worker_ran_its_scheduled_ping():
    """Operations audit (December 2026): with every worker dead /healthz answered "ok" and
    imports, reports and payment lists sat in "antre" unnoticed. The scheduled ping records
    when a worker last ran it; /healthz tells it (200 still: the web itself works)."""
    import datetime

    from django.utils import timezone

    from dinsos.models import Heartbeat
    from dinsos.tasks import ping

    body = Client().get("/healthz").json()
    assert (body["status"], body["worker"]["ok"]) == ("degraded", False)
    assert body["worker"]["info"] == "belum pernah terlihat bekerja"
    assert ping.apply().get() == "pong"
    response = Client().get("/healthz")
    assert (response.status_code, response.json()["status"]) == (200, "ok")
    assert response.json()["worker"]["ok"] is True
    Heartbeat.objects.update(at=timezone.now() - datetime.timedelta(minutes=16))
    body = Client().get("/healthz").json()
    assert (body["status"], body["worker"]["ok"]) == ("degraded", False)
    assert body["worker"]["info"].startswith("tidak bekerja sejak ")


def test_healthz_needs_no_login_and_only_get():
    assert Client().get("/healthz").status_code == 200
    assert Client().post("/healthz").status_code == 405


@pytest.fixture
def dead_broker(monkeypatch):
    """Point the Celery app at a port where nothing listens; restored afterwards."""
    # Celery reads CELERY_BROKER_URL from the environment before app.conf (Redis CI run).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    had = "broker_url" in app.conf
    old = app.conf.get("broker_url")
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    if had:
        app.conf.broker_url = old
    else:
        del app.conf["broker_url"]


def test_healthz_503_when_broker_is_down(dead_broker):
    started = time.monotonic()
    response = Client().get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    # anonymous: no host, port or driver text of the connection error (security review)
    assert body["broker"]["info"] == "tidak tersambung"
    assert "127.0.0.1" not in response.content.decode()
    assert elapsed < 15


def test_broker_is_restored_after_the_dead_broker_test():
    assert Client().get("/healthz").status_code == 200
    assert app.conf.broker_url.split("://")[0] == settings.CELERY_BROKER_URL.split("://")[0]


# --- Celery configuration -------------------------------------------------------------------


def test_celery_configuration():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == 1800
    assert conf.task_soft_time_limit == 1500
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.timezone == "Asia/Jakarta"
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf.task_eager_propagates is True
    assert conf.broker_url.split("://")[0] == settings.CELERY_BROKER_URL.split("://")[0]


def test_ping_is_registered_and_audited_base():
    assert "dinsos.ping" in app.tasks
    task = app.tasks["dinsos.ping"]
    assert isinstance(task, AuditedTask)
    assert task.apply().get() == "pong"
    assert task.delay().get() == "pong"  # eager in tests


def test_task_errors_propagate_when_eager():
    @app.task(bind=False, name="tests.celery.boom")
    def boom():
        raise RuntimeError("gagal")

    with pytest.raises(RuntimeError, match="gagal"):
        boom.delay()


def test_a_task_message_goes_through_the_real_broker_as_json():
    """Not eager: the message is published to the configured broker (file or Redis) and read
    back from a private queue, so the transport and the serializer are the real ones."""
    app.conf.task_always_eager = False  # the autouse fixture in conftest resets it
    queue_name = f"dinsos-test-{uuid.uuid4().hex[:12]}"
    with app.connection_for_write() as conn:
        queue = conn.SimpleQueue(queue_name)
        try:
            result = app.tasks["dinsos.ping"].apply_async(queue=queue_name, connection=conn)
            message = queue.get(block=True, timeout=10)
            assert message.content_type == "application/json"
            assert message.headers["task"] == "dinsos.ping"
            assert message.headers["id"] == result.id
            args, kwargs, _embed = message.payload
            assert (args, kwargs) == ([], {})
            message.ack()
        finally:
            queue.clear()
            queue.close()


# --- periodic tasks -------------------------------------------------------------------------


def test_periodic_tasks_sync_creates_the_defaults():
    assert not PeriodicTask.objects.filter(name=PING_TASK_NAME).exists()
    created = periodic_tasks_sync()
    assert PING_TASK_NAME in created
    # every default, in declaration order (apps add theirs to DEFAULT_PERIODIC_TASKS)
    assert created == [item.name for item in DEFAULT_PERIODIC_TASKS]
    task = PeriodicTask.objects.get(name=PING_TASK_NAME)
    assert task.task == "dinsos.ping"
    assert task.enabled is True
    assert task.description == "Memastikan beat dan worker berjalan."
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "*/5", "*", "*", "*", "*"
    )
    assert str(cron.timezone) == "Asia/Jakarta"


def test_every_default_periodic_task_is_a_registered_task():
    assert DEFAULT_PERIODIC_TASKS
    periodic_tasks_sync()
    for item in DEFAULT_PERIODIC_TASKS:
        assert PeriodicTask.objects.get(name=item.name).task in app.tasks
    for name in PeriodicTask.objects.exclude(task="celery.backend_cleanup").values_list(
        "task", flat=True
    ):
        assert name in app.tasks


def test_periodic_tasks_sync_is_idempotent():
    periodic_tasks_sync()
    counts = (PeriodicTask.objects.count(), CrontabSchedule.objects.count())
    assert periodic_tasks_sync() == []
    assert periodic_tasks_sync() == []
    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count()) == counts


def test_periodic_tasks_sync_keeps_admin_edits():
    periodic_tasks_sync()
    task = PeriodicTask.objects.get(name=PING_TASK_NAME)
    task.crontab = CrontabSchedule.objects.create(minute="0", hour="7",
                                                  timezone="Asia/Jakarta")
    task.enabled = False
    task.save()
    assert periodic_tasks_sync() == []
    task.refresh_from_db()
    assert task.enabled is False
    assert (task.crontab.minute, task.crontab.hour) == ("0", "7")
    assert PeriodicTask.objects.filter(task="dinsos.ping").count() == 1


def test_periodic_tasks_sync_recreates_a_deleted_default():
    periodic_tasks_sync()
    PeriodicTask.objects.filter(name=PING_TASK_NAME).delete()
    assert periodic_tasks_sync() == [PING_TASK_NAME]


def test_periodic_tasks_sync_reuses_an_existing_crontab():
    periodic_tasks_sync()
    extra = Periodic(name="Ping kedua", task="dinsos.ping", crontab={"minute": "*/5"},
                     description="uji")
    assert periodic_tasks_sync([extra]) == ["Ping kedua"]
    assert (
        PeriodicTask.objects.get(name="Ping kedua").crontab_id
        == PeriodicTask.objects.get(name=PING_TASK_NAME).crontab_id
    )


def test_setup_periodic_tasks_command():
    out = StringIO()
    call_command("setup_periodic_tasks", stdout=out)
    n = len(DEFAULT_PERIODIC_TASKS)
    assert out.getvalue().splitlines() == [
        *(f"dibuat: {item.name}" for item in DEFAULT_PERIODIC_TASKS), f"{n} tugas terjadwal baru."
    ]
    assert f"dibuat: {PING_TASK_NAME}" in out.getvalue()
    out = StringIO()
    call_command("setup_periodic_tasks", stdout=out)
    assert out.getvalue().splitlines() == ["0 tugas terjadwal baru."]
    assert PeriodicTask.objects.filter(name=PING_TASK_NAME).count() == 1


# --- dispatch after commit ------------------------------------------------------------------


def address_of(kode: str) -> str:
    return Office.objects.get(wilayah_id=kode).address


def test_delay_on_commit_waits_for_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            set_office_address.delay_on_commit("36.73", "Jl. Setelah Commit")
            assert address_of("36.73") == ""
        assert address_of("36.73") == ""
    assert len(callbacks) == 1
    assert address_of("36.73") == ""
    callbacks[0]()
    assert address_of("36.73") == "Jl. Setelah Commit"


def test_delay_on_commit_runs_once_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        set_office_address.delay_on_commit("36.73", "Jl. Dieksekusi")
        assert address_of("36.73") == ""
    assert len(callbacks) == 1
    assert address_of("36.73") == "Jl. Dieksekusi"


def test_delay_on_commit_is_dropped_on_rollback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                set_office_address.delay_on_commit("36.73", "Jl. Tidak Pernah")
                raise RuntimeError("batal")
        except RuntimeError:
            pass
    assert callbacks == []
    assert address_of("36.73") == ""


def test_plain_delay_inside_atomic_runs_immediately_for_contrast(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        set_office_address.delay("36.73", "Jl. Langsung")
        assert address_of("36.73") == "Jl. Langsung"
    assert callbacks == []


# --- behind the proxy -----------------------------------------------------------------------


def test_healthz_is_exempt_from_the_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/healthz").status_code == 200
    redirected = client.get("/masuk/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/masuk/"
    # behind the TLS-terminating proxy the forwarded scheme counts as HTTPS
    assert client.get("/masuk/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
