from celery import shared_task
from django.db import OperationalError

from dinsos.models import ImportBatch


@shared_task(name="dinsos.ping")
def ping() -> str:
    """Liveness of the worker; scheduled by default so `make run` shows beat → worker working."""
    return "pong"


@shared_task(name="dinsos.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Expired API tokens are refused when used; this deletes the ones never used again."""
    from dinsos.services import tokens_purge_expired

    return tokens_purge_expired()


#: how long a delivery that found its batch being run by another waits before asking again
BUSY_RETRY_SECONDS = 60


@shared_task(name="dinsos.run_import", bind=True, autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=3, acks_on_timeout=False)
def run_import(self, batch_id: int) -> str:
    """Acknowledged when it ends (``CELERY_TASK_ACKS_LATE``), and a run killed by the hard time
    limit is handed back to the broker (``acks_on_timeout=False``; acknowledged, it would leave
    its batch "berjalan" for ever): every delivery is counted on the batch and the one after
    ``IMPORT_MAX_ATTEMPTS`` starts fails it (``import_run``)."""
    from dinsos.importing import BatchBusy, import_run

    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    try:
        return import_run(batch).status
    except BatchBusy as exc:  # another delivery runs it now: ask again when it may be gone
        raise self.retry(exc=exc, countdown=BUSY_RETRY_SECONDS, max_retries=60) from exc
