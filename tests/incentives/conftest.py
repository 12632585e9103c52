import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dinsos import roles


@pytest.fixture
def keuangan(make_user):
    """Keuangan user A: computes."""
    return make_user(roles.KEUANGAN, username="keuangan_a")


@pytest.fixture
def keuangan_b(make_user):
    """Keuangan user B: verifies (another person than the one who computed)."""
    return make_user(roles.KEUANGAN, username="keuangan_b")


@pytest.fixture
def pimpinan(make_user):
    return make_user(roles.PIMPINAN, username="pimpinan")


TODAY = datetime.datetime(2027, 2, 15, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture(autouse=True)
def _today():
    """The payouts tests run on 15 February 2027 (WIB): the months they compute (up to January
    2027) have begun, and months after February 2027 are in the future."""
    with time_machine.travel(TODAY, tick=True):
        yield TODAY.date()
