"""The office's published rates (Dinas Sosial Provinsi Banten, 2015 — see DOMAIN.md). They are
data: a new regulation is a new row with its own valid_from, never an edit of these."""

import datetime
from decimal import Decimal

from django.db import migrations

BASIS = ("Insentif dan dana operasional PSKS, Dinas Sosial Provinsi Banten (dipublikasikan "
         "2015); sesuaikan dengan Pergub/Kepgub yang berlaku")
START = datetime.date(2015, 1, 1)

RATES = [
    # role, component, amount, unit, schedule, funding, paid_by_province, requires_report
    ("tksk", "insentif", "1000000", "per_bulan", "bulanan", "apbd_provinsi", True, True),
    ("tksk", "operasional", "1000000", "per_tahun", "bulanan", "apbd_provinsi", True, False),
    ("pendamping_jamsosratu", "insentif", "1500000", "per_bulan", "bulanan", "apbd_provinsi",
     True, True),
    ("pendamping_jamsosratu", "operasional", "2000000", "per_tahun", "bulanan", "apbd_provinsi",
     True, False),
    ("pendamping_pkh", "operasional", "2000000", "per_tahun", "triwulanan", "apbd_provinsi",
     True, False),
    ("pendamping_pkh", "operasional", "1500000", "per_tahun", "triwulanan", "apbn", False, False),
]


def seed(apps, schema_editor):
    Rate = apps.get_model("incentives", "Rate")
    for role, component, amount, unit, schedule, funding, by_province, report in RATES:
        Rate.objects.get_or_create(
            role=role, component=component, funding_source=funding, valid_from=START,
            defaults={"amount": Decimal(amount), "unit": unit, "schedule": schedule,
                      "paid_by_province": by_province, "requires_report": report,
                      "legal_basis": BASIS if by_province else
                      "Dana operasional pendamping PKH dari Kemensos (APBN), informasi"},
        )


class Migration(migrations.Migration):
    dependencies = [("incentives", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
