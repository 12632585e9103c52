"""A Jamsosratu service asked (by any door) to write a record of another kab/kota refuses
without naming that record's desa — as PMKS does (README: no refusal names the wilayah of a
stored record outside the area; ``ensure_in_area(…, typed=False)``). Every record these
services touch is stored (an enrolment, its member, a payment, the household proposed), so none
is "what the user typed"."""

import pytest

from dinsos.scoping import OutsideArea
from jamsosratu import services
from jamsosratu.models import Payment
from tests.factories import DESA_LEBAK, cycle_with_tranches
from tests.jamsosratu.factories import enrol, household

pytestmark = pytest.mark.django_db


@pytest.fixture
def lebak(province_operator):
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"))
    enrolment = enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    return {"cycle": cycle, "enrolment": enrolment,
            "payment": Payment.objects.get(enrolment=enrolment)}


@pytest.mark.parametrize("write", [
    lambda actor, r: services.enrolment_propose(actor=actor, household=household(DESA_LEBAK),
                                                cycle=r["cycle"]),
    lambda actor, r: services.enrolment_update(actor=actor, enrolment=r["enrolment"],
                                               account_number="009811112222"),
    lambda actor, r: services.enrolment_transition(actor=actor, enrolment=r["enrolment"],
                                                   to_status="dikeluarkan", reason="uji"),
    lambda actor, r: services.payment_mark(actor=actor, payment=r["payment"], status="gagal",
                                           failure_reason="uji"),
], ids=["enrolment_propose", "enrolment_update", "enrolment_transition", "payment_mark"])
def test_a_write_on_a_record_of_another_kab_kota_names_no_wilayah(write, lebak,
                                                                   pandeglang_operator):
    with pytest.raises(OutsideArea) as refused:
        write(pandeglang_operator, lebak)
    assert DESA_LEBAK not in str(refused.value)
    assert "36.02" not in str(refused.value)
    assert "luar wilayah kerja Anda" in str(refused.value)
