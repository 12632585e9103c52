from celery import shared_task
from django.db import OperationalError

from dinsos.models import ImportBatch


@shared_task(name="dinsos.ping")
def ping() -> str:
    """Liveness of the worker; scheduled by default so `make run` shows beat → worker working,
    and recorded for ``/healthz`` (``health.worker_seen``)."""
    from dinsos.health import worker_beat

    worker_beat()
    return "pong"


@shared_task(name="dinsos.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Expired API tokens are refused when used; this deletes the ones never used again."""
    from dinsos.services import tokens_purge_expired

    return tokens_purge_expired()


@shared_task(name="dinsos.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from dinsos.services import idempotency_keys_purge

    return idempotency_keys_purge()


@shared_task(name="dinsos.purge_import_files")
def purge_import_files() -> int:
    from dinsos.importing import import_files_purge

    return import_files_purge()


#: how long a delivery that found its batch being run by another waits before asking again,
#: and how often it asks (an hour)
BUSY_RETRY_SECONDS = 60
BUSY_MAX_RETRIES = 60
#: how often a run that lost its database connection is tried again (busy answers not counted)
DB_MAX_RETRIES = 3


@shared_task(name="dinsos.run_import", bind=True, max_retries=None, acks_on_timeout=False)
def run_import(self, batch_id: int, busy: int = 0) -> str:
    """Acknowledged when it ends (``CELERY_TASK_ACKS_LATE``), and a run killed by the hard time
    limit is handed back to the broker (``acks_on_timeout=False``; acknowledged, it would leave
    its batch "berjalan" for ever): every delivery is counted on the batch and the one after
    ``IMPORT_MAX_ATTEMPTS`` starts fails it (``import_run``). Asking again has two budgets of
    its own: a delivery that finds the batch busy counts its tries in ``busy``, so a lost
    database connection after many of them still gets its ``DB_MAX_RETRIES``."""
    from dinsos.importing import BatchBusy, import_run

    try:
        batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
        return import_run(batch).status
    except BatchBusy as exc:  # another delivery runs it now: ask again when it may be gone
        if busy >= BUSY_MAX_RETRIES:
            raise
        raise self.retry(exc=exc, countdown=BUSY_RETRY_SECONDS, args=(batch_id,),
                         kwargs={"busy": busy + 1}) from exc
    except OperationalError as exc:
        failed = self.request.retries - busy
        if failed >= DB_MAX_RETRIES:
            raise
        raise self.retry(exc=exc, countdown=2 ** failed) from exc
