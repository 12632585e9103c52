"""The default "hitung draf" schedule becomes daily from the 25th to the month's end (a day beat
was down is caught up the next day). Only a task still on the old default is changed: an
edited schedule belongs to the admin (``dinsos.schedule``)."""

from django.db import migrations

OLD = "Insentif: hitung draf bulan berjalan (tanggal 25, 01.00 WIB)"
NEW = "Insentif: hitung draf bulan berjalan (tanggal 25 s.d. akhir bulan, 01.00 WIB)"
DEFAULT = {"minute": "0", "hour": "1", "month_of_year": "*", "day_of_week": "*"}


def forward(apps, schema_editor):
    _move(apps, OLD, "25", NEW, "25-31")


def backward(apps, schema_editor):
    _move(apps, NEW, "25-31", OLD, "25")


def _move(apps, name, days, new_name, new_days):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    task = PeriodicTask.objects.filter(name=name, crontab__day_of_month=days,
                                       **{f"crontab__{k}": v for k, v in DEFAULT.items()}).first()
    if task is None or PeriodicTask.objects.filter(name=new_name).exists():
        return
    schedule, _ = CrontabSchedule.objects.get_or_create(
        timezone=task.crontab.timezone, day_of_month=new_days, **DEFAULT)
    task.name, task.crontab = new_name, schedule
    task.save(update_fields=["name", "crontab"])


class Migration(migrations.Migration):
    dependencies = [
        ("dinsos", "0010_change_one_upsert"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(forward, backward)]
