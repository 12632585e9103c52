"""Health of the database and the broker, for /healthz and the compose health check."""

from django.db import connection


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported as text
        return False, str(exc)
    return True, connection.vendor


def check_broker(timeout: float = 2.0) -> tuple[bool, str]:
    from dinsos.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            transport = conn.transport_cls
    except Exception as exc:  # noqa: BLE001
        return False, str(exc)
    return True, str(transport)
