"""gunicorn settings for the Dockerfile and docker-compose (``--config python:dinsos.gunicorn``).

Sized to the machine: 2 × cores + 1 worker processes with 4 threads each (gthread), so one slow
request never makes every user wait; a request that runs longer than GUNICORN_TIMEOUT seconds is
a bug (long work — imports, payout runs, reports — runs in Celery). Each thread may hold one
database connection (DATABASE_CONN_MAX_AGE), so PostgreSQL needs workers × threads of them.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from dinsos.validators import mask_identity_numbers_in

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (a slow leak never grows for ever)
max_requests_jitter = 200
accesslog = "-"


class MaskedLogger(Logger):
    """gunicorn's logger whose access log never holds a whole NIK (UU 27/2022): every atom
    the access log format may use — the request line ``r``, path ``U``, query ``q``, Referer
    ``f``, headers and environ variables — has its runs of 15–16 digits masked, as the
    application's own log does (``dinsos.log_filters``): a staff search ``GET /pmks/?q=<NIK>``
    or a ``persons/by-nik/<NIK>/`` call is logged as ``…360101********01…``."""

    def atoms(self, resp, req, environ, request_time):
        return {name: mask_identity_numbers_in(value) if isinstance(value, str) else value
                for name, value in super().atoms(resp, req, environ, request_time).items()}


logger_class = MaskedLogger


def post_worker_init(worker):
    """Open the Celery broker connection once per worker at boot: otherwise the first request
    that queues a task (a report, an import) waits for it (about a second on a busy machine)."""
    from dinsos.celery import app

    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
    except Exception:  # noqa: BLE001 - broker down: the request that queues reports it
        worker.log.warning("Celery broker not reachable when the worker started")
