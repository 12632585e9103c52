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


@shared_task(name="dinsos.run_import", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3, acks_on_timeout=False)
def run_import(batch_id: int) -> str:
    """Acknowledged when it ends (``CELERY_TASK_ACKS_LATE``), and a run killed by the hard time
    limit is handed back to the broker (``acks_on_timeout=False``; acknowledged, it would leave
    its batch "berjalan" for ever): every delivery is counted on the batch and the one after
    ``IMPORT_MAX_ATTEMPTS`` starts fails it (``import_run``)."""
    from dinsos.importing import import_run

    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    return import_run(batch).status
