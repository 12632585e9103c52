"""Health of the database and the broker, for /healthz and the compose health check. The
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
