"""The demo seeded on a day years from now: its decrees and records are dated from the seeding
day, not from fixed dates. A module of its own: the demo seeded once per module for the other
demo tests (``demo_seeded``) would already be there, dated from today."""

import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import DEMO_PASSWORD


@pytest.mark.django_db
def test_the_demo_seeded_years_from_now_still_has_workers_on_duty(settings):
    """The demo's decrees ran to fixed dates (TKSK to 2028-12-31, pendamping to 2026-12-31):
    seeded from 2029 on, no TKSK was on duty for the verification visits nor the payout runs
    of the recent months, and the demo site (and the schema test that reads it) went empty."""
    from incentives.models import PayoutLine
    from jamsosratu.models import Verification
    from psks.models import Assignment

    settings.DEMO_PASSWORD = DEMO_PASSWORD
    with time_machine.travel(datetime.datetime(2031, 3, 2, 9, tzinfo=ZoneInfo("Asia/Jakarta")),
                             tick=False):
        call_command("seed_demo", stdout=StringIO())
        today = timezone.localdate()
    assert today == datetime.date(2031, 3, 2)
    on_duty = Assignment.objects.filter(start_date__lte=today, end_date__gte=today)
    assert on_duty.filter(role="tksk").count() > 100
    assert on_duty.exclude(role="tksk").count() == Assignment.objects.exclude(role="tksk").count()
    assert Verification.objects.exists()
    assert PayoutLine.objects.filter(run__period__year=2031).exists()
