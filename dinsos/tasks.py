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
             max_retries=3)
def run_import(batch_id: int) -> str:
    from dinsos.importing import import_run

    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    return import_run(batch).status
