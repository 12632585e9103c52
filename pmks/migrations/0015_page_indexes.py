"""Searching the registry by a part of a name (the person list's ``q``, the admin's search)
reads a million rows without an index for ``LIKE '%…%'``: on PostgreSQL two trigram indexes
serve it, one on the name as the search compares it (``UPPER(name)``) and one on the folded
name key (``REPLACE(name_key, 'y', 'i')``, the spelling variants; pmks.filters.PersonFilterSet)."""

from django.db import migrations

from pmks.calculations import SEARCH_FOLD

INDEXES = {
    "pmks_person_name_trgm": 'UPPER("name"::text)',
    "pmks_person_folded_key_trgm": f"REPLACE(\"name_key\", '{SEARCH_FOLD[0]}', '{SEARCH_FOLD[1]}')",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON pmks_person "
            f"USING gin (({expression}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("pmks", "0014_dates_not_before_1900")]

    operations = [migrations.RunPython(create, drop)]
