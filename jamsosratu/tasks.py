from celery import shared_task

from jamsosratu import services


@shared_task(name="jamsosratu.run_tranche_job")
def run_tranche_job(job_id: int) -> str:
    """A job queued from the tranche pages, the API or the admin (payment list or bank
    result), with progress."""
    return services.tranche_job_run(job_id=job_id).status
