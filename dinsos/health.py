"""Health of the database, the broker and the background work, for /healthz and the compose
health check. The
endpoint answers without login, so a failure is told as a fixed text and its cause (host, port,
user name in a connection error) goes only to the log."""

import logging

from django.db import connection

log = logging.getLogger(__name__)
DOWN = "tidak tersambung"


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"
        log.warning("healthz: database down", exc_info=True)
        return False, DOWN
    return True, connection.vendor


def check_broker(timeout: float = 2.0) -> tuple[bool, str]:
    from dinsos.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            transport = conn.transport_cls
    except Exception:  # noqa: BLE001
        log.warning("healthz: broker down", exc_info=True)
        return False, DOWN
    return True, str(transport)


#: the ping is sent every 5 minutes: three missed ones mean no worker (or no beat) is working
WORKER_SILENT_MINUTES = 15


def worker_beat() -> None:
    from django.utils import timezone

    from dinsos.models import Heartbeat

    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})


def check_worker() -> tuple[bool, str]:
    """Whether a worker ran the scheduled ping lately (beat sends it, a worker runs it): a
    dead worker or beat leaves imports, reports and payment lists waiting in "antre" while
    the database and the broker answer. Told, not failed on: the web itself still works."""
    import datetime

    from django.utils import timezone

    from dinsos.models import Heartbeat
    from dinsos.money import format_waktu

    try:
        seen = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    except Exception:  # noqa: BLE001 - the database check says what is wrong
        return False, DOWN
    if seen is None:
        return False, "belum pernah terlihat bekerja"
    ok = timezone.now() - seen <= datetime.timedelta(minutes=WORKER_SILENT_MINUTES)
    return ok, ("terakhir bekerja " if ok else "tidak bekerja sejak ") + format_waktu(seen)
