"""The default "hitung draf" task's message expires 6 hours after beat sends it: a worker that
was down from the 31st to the 1st drafted the new month (the task drafts the month of the day
it runs). Only a task with no expiry of its own is changed (``dinsos.schedule``)."""

from django.db import migrations
from django.utils import timezone

NAME = "Insentif: hitung draf bulan berjalan (tanggal 25 s.d. akhir bulan, 01.00 WIB)"
TASK = "incentives.compute_monthly_run"
EXPIRE_SECONDS = 6 * 3600


def forward(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    _changed(apps, PeriodicTask.objects.filter(
        name=NAME, task=TASK, expires__isnull=True, expire_seconds__isnull=True,
    ).update(expire_seconds=EXPIRE_SECONDS))


def backward(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    _changed(apps, PeriodicTask.objects.filter(
        name=NAME, task=TASK, expire_seconds=EXPIRE_SECONDS).update(expire_seconds=None))


def _changed(apps, updated: int) -> None:
    """A running beat reloads its schedule when this mark moves (a bulk update sends no
    signal, the way ``PeriodicTask.save`` would)."""
    if updated:
        apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("dinsos", "0012_importbatch_attempts_cap"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forward, backward)]
