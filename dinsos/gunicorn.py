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
