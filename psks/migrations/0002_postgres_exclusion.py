"""PostgreSQL guarantees for assignments (the service checks the same rules on every database):
one TKSK per kecamatan on any day, and no overlapping assignments of one role for a worker.
Exclusion constraints exist only on PostgreSQL, so they are added here rather than in Meta."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import Func, Q
from django.db.models.fields import DateField


class DateRange(Func):
    function = "DATERANGE"
    output_field = DateField()


def _period():
    return DateRange("start_date", "end_date", Func(template="'[]'"))


CONSTRAINTS = [
    ExclusionConstraint(
        name="psks_one_tksk_per_kecamatan",
        expressions=[("area", RangeOperators.EQUAL), (_period(), RangeOperators.OVERLAPS)],
        condition=Q(role="tksk"),
    ),
    ExclusionConstraint(
        name="psks_no_overlap_same_role",
        expressions=[("worker", RangeOperators.EQUAL), ("role", RangeOperators.EQUAL),
                     (_period(), RangeOperators.OVERLAPS)],
    ),
]


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Assignment = apps.get_model("psks", "Assignment")
    for constraint in CONSTRAINTS:
        schema_editor.add_constraint(Assignment, constraint)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Assignment = apps.get_model("psks", "Assignment")
    for constraint in CONSTRAINTS:
        schema_editor.remove_constraint(Assignment, constraint)


class Migration(migrations.Migration):
    dependencies = [("psks", "0001_initial")]

    operations = [BtreeGistExtension(), migrations.RunPython(add, remove)]
