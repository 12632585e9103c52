"""One upsert row per record in the change log (``dinsos.changes._upsert``): two concurrent
writers of one record could each keep one (a DELETE then INSERT); the newer by (txid, id)
stays."""

from django.db import migrations, models

DUPLICATES = """
DELETE FROM dinsos_change WHERE kind = 'upsert' AND EXISTS (
    SELECT 1 FROM dinsos_change n
    WHERE n.resource = dinsos_change.resource AND n.object_id = dinsos_change.object_id
      AND n.kind = 'upsert' AND (n.txid > dinsos_change.txid
                                 OR n.txid = dinsos_change.txid AND n.id > dinsos_change.id))
"""


class Migration(migrations.Migration):
    dependencies = [("dinsos", "0009_logentry_batch_objects_index")]

    operations = [
        migrations.RunSQL(DUPLICATES, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="change",
            constraint=models.UniqueConstraint(
                condition=models.Q(kind="upsert"), fields=("resource", "object_id"),
                name="dinsos_change_one_upsert"),
        ),
    ]
