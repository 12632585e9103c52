"""The import fingerprint is now the XOR of one seeded hash per cell (``pmks.staging._cells``)
instead of a hash of the cells as one record's text: half the cost per row. A stored
fingerprint of the old kind would never match again, so the column is dropped and added back
empty — on PostgreSQL both are changes of the catalogue only, where an UPDATE would rewrite
every person of a province — and the next import of each row gives its record the new one.
No record's ``updated_at`` moves: no new version, nothing in the sync feed."""

from django.db import migrations, models


def _digest():
    return models.BigIntegerField(blank=True, editable=False, null=True,
                                  verbose_name="sidik baris impor")


class Migration(migrations.Migration):

    dependencies = [
        ("pmks", "0011_import_digest_bigint"),
    ]

    operations = [
        migrations.RemoveField(model_name="household", name="import_digest"),
        migrations.AddField(model_name="household", name="import_digest", field=_digest()),
        migrations.RemoveField(model_name="person", name="import_digest"),
        migrations.AddField(model_name="person", name="import_digest", field=_digest()),
    ]
