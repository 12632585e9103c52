"""The bulk import's audit entries (``dinsos.audit.log_batch``) list the ids they touched in
``additional_data -> 'objects'``; on PostgreSQL a GIN index finds one record's entries."""

from django.db import migrations

INDEX = "dinsos_logentry_batch_objects"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON auditlog_logentry "
            "USING gin ((additional_data -> 'objects') jsonb_path_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("dinsos", "0008_import_progress"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(create, drop)]
