"""Reference data every installation needs: the Banten region tree (Kemendagri), the nine
Dinas Sosial offices and the six roles with their permissions."""

from django.db import migrations

from dinsos import roles, services


def load(apps, schema_editor):
    Wilayah = apps.get_model("dinsos", "Wilayah")
    Office = apps.get_model("dinsos", "Office")
    services.wilayah_load(model=Wilayah)
    services.offices_ensure(wilayah_model=Wilayah, office_model=Office)
    roles.create_all_permissions(apps)
    roles.sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("dinsos", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
