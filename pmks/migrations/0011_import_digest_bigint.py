"""The import fingerprint becomes a 64-bit hash (``hashtextextended``) instead of an md5 as a
uuid: the same answer at a third of the cost per row. The stored md5 fingerprints cannot be
cast; they are dropped, and the next import of each row gives its record the new one."""

from django.db import migrations, models


def _digest():
    return models.BigIntegerField(blank=True, editable=False, null=True,
                                  verbose_name="sidik baris impor")


class Migration(migrations.Migration):

    dependencies = [
        ("pmks", "0010_import_digest"),
    ]

    operations = [
        migrations.RemoveField(model_name="household", name="import_digest"),
        migrations.AddField(model_name="household", name="import_digest", field=_digest()),
        migrations.RemoveField(model_name="person", name="import_digest"),
        migrations.AddField(model_name="person", name="import_digest", field=_digest()),
    ]
