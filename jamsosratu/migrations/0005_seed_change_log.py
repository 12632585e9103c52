"""Every enrolment, verification, commitment and payment that exists before its changes feed gets one "upsert" row in the change log,
so a first pull from the feed returns the whole area (issue #14)."""

from django.db import migrations
from django.utils import timezone

#: model name -> the path to its area (the model's scope_field)
FEEDS = {"enrolment": "desa", "verification": "enrolment__desa",
         "commitment": "member__enrolment__desa", "payment": "desa"}


def seed(apps, schema_editor):
    Change = apps.get_model("dinsos", "Change")
    now = timezone.now()
    for name, path in FEEDS.items():
        model = apps.get_model("jamsosratu", name)
        rows = model.objects.order_by("pk").values_list("pk", path)
        Change.objects.bulk_create(
            (Change(resource=f"jamsosratu.{name}", object_id=pk, kind="upsert", area=area or "",
                    at=now) for pk, area in rows.iterator(chunk_size=5000)),
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("dinsos", "0007_change_log"),
        ("jamsosratu", "0004_tranche_job"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
