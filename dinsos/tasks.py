from celery import shared_task


@shared_task(name="dinsos.ping")
def ping() -> str:
    """Liveness of the worker; scheduled by default so `make run` shows beat → worker working."""
    return "pong"
