from celery import shared_task
from django.db import OperationalError

from jamsosratu import services
from jamsosratu.models import Tranche


@shared_task(name="jamsosratu.generate_tranche_payments", autoretry_for=(OperationalError,),
             retry_backoff=True, max_retries=5)
def generate_tranche_payments(tranche_id: int) -> int:
    """Build a tranche's payment list; safe to repeat (one payment per enrolment/tranche)."""
    return services.payments_generate(tranche=Tranche.objects.select_related("cycle").get(
        pk=tranche_id))


@shared_task(name="jamsosratu.run_tranche_job")
def run_tranche_job(job_id: int) -> str:
    """A job queued from the tranche pages (payment list or bank result), with progress."""
    return services.tranche_job_run(job_id=job_id).status
