"""The Celery app. Configuration comes from Django settings (CELERY_*), tasks are
autodiscovered from every app's tasks.py, and periodic tasks live in the database
(django-celery-beat) so they are editable in the admin; their defaults are declared once in
``dinsos.schedule``."""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
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

app = Celery("dinsos", task_cls=AuditedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
