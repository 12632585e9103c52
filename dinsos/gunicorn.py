"""gunicorn settings for the Dockerfile and docker-compose (``--config python:dinsos.gunicorn``).

Sized to the machine: 2 × cores + 1 worker processes with 4 threads each (gthread), so one slow
request never makes every user wait; a request that runs longer than GUNICORN_TIMEOUT seconds is
a bug (long work — imports, payout runs, reports — runs in Celery). Each thread may hold one
database connection (DATABASE_CONN_MAX_AGE), so PostgreSQL needs workers × threads of them.
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (a slow leak never grows for ever)
max_requests_jitter = 200
accesslog = "-"


def post_worker_init(worker):
    """Open the Celery broker connection once per worker at boot: otherwise the first request
    that queues a task (a report, an import) waits for it (about a second on a busy machine)."""
    from dinsos.celery import app

    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
    except Exception:  # noqa: BLE001 - broker down: the request that queues reports it
        worker.log.warning("Celery broker not reachable when the worker started")
