"""name_key folding changed (old spelling folded per word, j→y): recompute stored keys."""

from django.db import migrations

from dinsos.names import name_key


def recompute(apps, schema_editor):
    Person = apps.get_model("pmks", "Person")
    batch = []
    for person in Person.objects.only("pk", "name", "name_key").iterator(chunk_size=5000):
        key = name_key(person.name)
        if key != person.name_key:
            person.name_key = key
            batch.append(person)
        if len(batch) >= 5000:
            Person.objects.bulk_update(batch, ["name_key"])
            batch.clear()
    Person.objects.bulk_update(batch, ["name_key"])


class Migration(migrations.Migration):
    dependencies = [("pmks", "0002_reference_data")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
