"""``dinsos.unique``: a unique index's refusal (SQLSTATE 23505) read back as the validators'
answer — the field and the model's uniqueness message, never the value (PostgreSQL)."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, transaction

from dinsos import unique
from pmks.models import DuplicateCandidate, Household
from tests.factories import HouseholdFactory
from tests.helpers import postgres_only
from tests.pmks.factories import RegistryPersonFactory

pytestmark = [postgres_only, pytest.mark.django_db]


def _refused(write):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return unique.refusal(caught.value)


def test_a_unique_field_is_named_with_its_message():
    household = HouseholdFactory()
    refusal = _refused(lambda: Household.objects.create(no_kk=household.no_kk,
                                                        desa_id=household.desa_id))
    assert refusal.message_dict == {"no_kk": ["Keluarga dengan No. KK telah ada."]}
    assert household.no_kk not in str(refusal)


def test_a_constraint_on_two_fields_is_a_non_field_error():
    a, b = sorted((RegistryPersonFactory(), RegistryPersonFactory()), key=lambda p: p.pk)
    DuplicateCandidate.objects.create(person_a=a, person_b=b, score=90, reasons=[])
    refusal = _refused(lambda: DuplicateCandidate.objects.create(person_a=a, person_b=b,
                                                                 score=80, reasons=[]))
    assert list(refusal.message_dict) == [NON_FIELD_ERRORS]


def test_other_errors_are_not_refusals():
    assert unique.refusal(ValueError("x")) is None


def test_a_partial_constraint_says_only_one_may_be_in_force():
    """A constraint with a condition (one open run a month, one unfinished job a tranche, one
    active companion) was told as "… dengan Periode telah ada", as if only one could ever
    exist (found by the review of December 2026)."""
    from incentives.models import PayoutRun
    from tests.incentives.factories import OCT

    PayoutRun.objects.create(period=OCT)
    refusal = _refused(lambda: PayoutRun.objects.create(period=OCT))
    assert refusal.message_dict == {"period": [
        "Perhitungan bulanan lain yang masih berlaku untuk periode sudah ada; hanya satu yang "
        "boleh berlaku sekaligus."]}
