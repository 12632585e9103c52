"""The import fingerprint is now the XOR of one seeded hash per cell (``pmks.staging._cells``)
instead of a hash of the cells as one record's text: half the cost per row. A stored
fingerprint of the old kind would never match again, so they are cleared (without moving any
record's ``updated_at``: no new version, nothing in the sync feed) and the next import of each
row gives its record the new one."""

from django.db import migrations

CLEAR = [f"UPDATE {table} SET import_digest = NULL WHERE import_digest IS NOT NULL"
         for table in ("pmks_person", "pmks_household")]


class Migration(migrations.Migration):

    dependencies = [
        ("pmks", "0011_import_digest_bigint"),
    ]

    operations = [
        migrations.RunSQL(CLEAR, reverse_sql=CLEAR),
    ]
