"""Every record that exists before the change log gets one "upsert" row, so a first pull from
the feed returns the whole area."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    Change = apps.get_model("dinsos", "Change")
    now = timezone.now()
    for name in ("household", "person", "case"):
        model = apps.get_model("pmks", name)
        rows = model.objects.order_by("pk").values_list("pk", "desa_id")
        if name == "person":
            rows = rows.filter(merged_into__isnull=True)
        Change.objects.bulk_create(
            (Change(resource=f"pmks.{name}", object_id=pk, kind="upsert", area=desa, at=now)
             for pk, desa in rows.iterator(chunk_size=5000)),
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("dinsos", "0007_change_log"),
        ("pmks", "0006_list_indexes"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
