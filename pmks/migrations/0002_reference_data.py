from django.db import migrations

from pmks.reference import load_reference


class Migration(migrations.Migration):
    dependencies = [("pmks", "0001_initial")]

    operations = [migrations.RunPython(load_reference, migrations.RunPython.noop)]
