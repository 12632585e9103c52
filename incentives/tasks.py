"""Thin Celery tasks: JSON-safe arguments (ids, ISO dates), one service call, retries on
transient database/mail errors. Acknowledged late (settings), so a killed worker's task runs
again; the services make that safe."""

import datetime
import logging
import smtplib

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError
from django.utils import timezone
from django.utils.translation import gettext as _

from incentives import services
from incentives.choices import RunStatus
from incentives.models import PayoutRun

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, smtplib.SMTPException, ConnectionError)


@shared_task(name="incentives.compute_monthly_run",
             autoretry_for=(OperationalError, IntegrityError), retry_backoff=True, max_retries=5)
def compute_monthly_run(period: str | None = None, actor_id: int | None = None) -> int | None:
    """Compute the run of a month (ISO date of any day in it) for the staff member who asked
    for it on the run page; without a period, the scheduler's draft of this month
    (``services.run_compute_scheduled``: only when the month has no run yet)."""
    try:
        if period is None:
            run = services.run_compute_scheduled(day=timezone.localdate())
        else:
            actor = get_user_model().objects.get(pk=actor_id) if actor_id else None
            run = services.run_compute(actor=actor,
                                       period=datetime.date.fromisoformat(period).replace(day=1))
    except ValidationError as exc:  # already verified/approved: nothing to do
        log.info("compute_monthly_run %s skipped: %s", period, exc.messages)
        return None
    return run.pk if run is not None else None


@shared_task(name="incentives.send_run_reports", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def send_run_reports(run_id: int) -> bool:
    return services.run_reports_send(run_id=run_id)


@shared_task(name="incentives.send_pending_reports", autoretry_for=TRANSIENT,
             retry_backoff=True, max_retries=3)
def send_pending_reports() -> int:
    """Catch-up: approved runs whose reports were not sent yet (e.g. mail was down)."""
    pending = PayoutRun.objects.filter(status__in=[RunStatus.DISETUJUI, RunStatus.DIBAYAR],
                                       reports_sent_at__isnull=True).values_list("pk", flat=True)
    return sum(services.run_reports_send(run_id=pk) for pk in pending)


@shared_task(name="incentives.render_run_document", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=3)
def render_run_document(document_id: int) -> str:
    """Make one finance document of a run into the storage (see services.document_render)."""
    try:
        return services.document_render(document_id=document_id).status
    except TRANSIENT:
        raise
    except ValidationError as exc:  # a refusal, said in Indonesian for the page
        services.document_fail(document_id=document_id, error=" ".join(exc.messages))
        raise
    except Exception:
        # the exception's text (English, a key's value such as an account number) is for the
        # worker's log, where the raise below puts it; the page names the document's number
        services.document_fail(document_id=document_id, error=_(
            "Kesalahan sistem saat membuat dokumen; hubungi admin dan sebutkan nomor dokumen "
            "%(id)s.") % {"id": document_id})
        raise
