"""PostgreSQL guarantee for rates (``services.rate_create`` checks the same rule on every
database, and is the only door): two rates of one role × component × funding source are never
in force on the same day. A write that bypasses the service (a shell, a script, a bad data
migration) is refused by the database. Exclusion constraints exist only on PostgreSQL, so it is
added here rather than in Meta, as ``psks/migrations/0002_postgres_exclusion.py`` does."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import Func
from django.db.models.fields import DateField


class DateRange(Func):
    function = "DATERANGE"
    output_field = DateField()


CONSTRAINT = ExclusionConstraint(
    name="incentives_rate_no_overlap",
    expressions=[("role", RangeOperators.EQUAL), ("component", RangeOperators.EQUAL),
                 ("funding_source", RangeOperators.EQUAL),
                 (DateRange("valid_from", "valid_to", Func(template="'[]'")),
                  RangeOperators.OVERLAPS)],
)


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_constraint(apps.get_model("incentives", "Rate"), CONSTRAINT)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_constraint(apps.get_model("incentives", "Rate"), CONSTRAINT)


class Migration(migrations.Migration):
    dependencies = [("incentives", "0012_run_stale"), ("psks", "0002_postgres_exclusion")]

    operations = [BtreeGistExtension(), migrations.RunPython(add, remove)]
