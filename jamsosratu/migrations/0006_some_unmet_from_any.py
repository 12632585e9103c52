"""The commitment rule's "some unmet" (25 % less) started at 1 % unmet: a household with 1 of
101 commitments unmet was paid in full. It starts at the smallest ratio a rule stores (0,0001),
which ``calculations.commitment_outcome`` gives every household with any unmet commitment. The
cycles' rules as seeded (``dikurangi`` from 0,01, nothing below it) move there."""

from decimal import Decimal

from django.db import migrations

OLD, NEW = Decimal("0.01"), Decimal("0.0001")


def move(apps, frm, to):
    ConditionRule = apps.get_model("jamsosratu", "ConditionRule")
    for rule in ConditionRule.objects.filter(outcome="dikurangi", min_unmet_ratio=frm):
        between = (ConditionRule.objects.filter(cycle_id=rule.cycle_id, min_unmet_ratio__gt=0,
                                                min_unmet_ratio__lt=max(frm, to))
                   .exclude(pk=rule.pk))
        if not between.exists():
            rule.min_unmet_ratio = to
            rule.save(update_fields=["min_unmet_ratio"])


def forwards(apps, schema_editor):
    move(apps, OLD, NEW)


def backwards(apps, schema_editor):
    move(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [("jamsosratu", "0005_seed_change_log")]

    operations = [migrations.RunPython(forwards, backwards)]
