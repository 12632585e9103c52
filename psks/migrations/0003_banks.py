from django.db import migrations

BANKS = [
    ("bank_banten", "Bank Banten"),
    ("bjb", "Bank BJB"),
    ("bri", "Bank Rakyat Indonesia (BRI)"),
    ("bni", "Bank Negara Indonesia (BNI)"),
    ("mandiri", "Bank Mandiri"),
    ("bsi", "Bank Syariah Indonesia (BSI)"),
    ("btn", "Bank Tabungan Negara (BTN)"),
    ("bca", "Bank Central Asia (BCA)"),
]


def load(apps, schema_editor):
    Bank = apps.get_model("psks", "Bank")
    for code, name in BANKS:
        Bank.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("psks", "0002_postgres_exclusion")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
