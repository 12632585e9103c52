"""The four-eyes rule on Jamsosratu accounts under two writers (PostgreSQL; the review of
2 December 2026 proved it broken: the file's UPDATE waited on the payment row the account
change held, then re-checked only the payment's columns and sent the new, unverified
account)."""

import pytest

from jamsosratu import banking, services
from jamsosratu.models import Enrolment, Payment
from tests.factories import DESA_PANDEGLANG, cycle_with_tranches
from tests.helpers import postgres_only
from tests.jamsosratu.factories import enrol, household
from tests.races import Held, Thread, wait_for_lock_waiter


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_account_changed_while_the_file_is_handed_out_is_not_sent_unverified(
        province_operator, make_user):
    """A payment whose account is changed (not yet verified by another user) while the bank
    file is handed out is never a line of that file: the file sends only verified accounts."""
    from dinsos import roles

    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"))
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    assert Enrolment.objects.get(pk=enrolment.pk).account_is_verified
    changer = make_user(roles.OPERATOR_PROVINSI)
    new_account = "0011223344556"

    held = Held(lambda: services.enrolment_update(
        actor=changer, enrolment=Enrolment.objects.get(pk=enrolment.pk),
        account_number=new_account)).start()  # the new account saved, not yet committed
    download = Thread(lambda: banking.transfer_file(first), name="download").start()
    wait_for_lock_waiter(download)
    held.release()
    held.join()
    download.join()
    assert download.error is None, download.error
    text, count, _total = download.result
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    assert payment.account_number == new_account
    assert not Enrolment.objects.get(pk=enrolment.pk).account_is_verified
    # the unverified account went to the bank in the file
    assert new_account not in text, text
    assert payment.sent_at is None
