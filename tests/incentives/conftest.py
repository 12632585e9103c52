import pytest

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
