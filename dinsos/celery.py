"""The Celery app. Configuration comes from Django settings (CELERY_*), tasks are
autodiscovered from every app's tasks.py, and periodic tasks live in the database
(django-celery-beat) so they are editable in the admin; their defaults are declared once in
``dinsos.schedule``."""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import after_setup_logger, after_setup_task_logger
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinsos.settings")


class AuditedTask(DjangoTask):
    """Every task's writes are audited with source ``task:<name>``; ``delay_on_commit`` (from
    DjangoTask) dispatches only after the surrounding transaction commits."""

    def __call__(self, *args, **kwargs):
        from dinsos.audit import audit_context

        with audit_context(source=f"task:{self.name}"):
            return super().__call__(*args, **kwargs)


# filesystem:// (the embedded broker of `make run`) is kombu's, stopping quicker: dinsos.broker
TRANSPORT_ALIASES["filesystem"] = "dinsos.broker:Transport"

@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_identifiers(logger, **kwargs):
    """A worker or beat replaces the root logger's handlers with its own (the console handler
    of settings.LOGGING, which masks every NIK, is gone there): its handlers get the same
    filter, so a task's traceback quoting a row's NIK is masked in the worker's log too."""
    from dinsos.log_filters import MaskIdentifiers

    for handler in logger.handlers:
        if not any(isinstance(f, MaskIdentifiers) for f in handler.filters):
            handler.addFilter(MaskIdentifiers())


app = Celery("dinsos", task_cls=AuditedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
