"""Money rules of the payment list and the bank file, each found by the money audit of
December 2026 (a failing test first): no Rp0 transfer, no household without a qualifying
member paid, the year's split frozen once paid, the account sent is the current one, the
list and the file agree, a failed transfer can be sent again, the pagu is asked."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from jamsosratu import banking, services
from jamsosratu.models import Payment
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    DESA_PANDEGLANG_2,
    cycle_with_tranches,
)
from tests.jamsosratu.factories import (
    ADULT,
    PUPIL,
    TODDLER,
    account_checker,
    enrol,
    household,
    record_commitments,
    tksk_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def test_no_rp0_transfer_is_sent_to_the_bank(cycle, province_operator):
    """A rule reducing the tahap by 100 % gives Rp0: the payment is suspended with a reason
    and the bank file holds no transfer of 0 (audit 16)."""
    cycle.condition_rules.filter(outcome="dikurangi").update(reduction_share=Decimal(1))
    enrolment = enrol(province_operator, household(members=(ADULT, TODDLER, PUPIL)), cycle,
                      "aktif")
    first = cycle.tranches.get(number=1)
    record_commitments(province_operator, enrolment, first, ["terpenuhi", "tidak_terpenuhi"])
    services.payments_generate(tranche=first)
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    assert payment.amount == 0
    assert payment.status == "ditangguhkan"
    assert payment.failure_reason
    text, count, total = banking.transfer_file(first)
    assert (count, total) == (0, 0), text


def _suspended_for_no_member(enrolment, tranche):
    payment = Payment.objects.get(enrolment=enrolment, tranche=tranche)
    assert (payment.status, payment.amount) == ("ditangguhkan", 0)
    assert "anggota yang memenuhi syarat" in payment.failure_reason
    return payment


def test_a_household_that_moved_away_is_not_paid_the_next_tahap(cycle, province_operator):
    """The whole household moved out of Banten (findings applied): tahap 2 is suspended with
    its reason, not sent (audit 8)."""
    hh = household()
    enrolment = enrol(province_operator, hh, cycle, "aktif")
    assert enrolment.members.count() == 1  # the toddler
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    visit = services.verification_record(
        actor=province_operator, enrolment=enrolment, verifier=tksk_of(enrolment.desa_id[:8]),
        visit_date=datetime.date(2026, 7, 1), result="tidak_sesuai",
        notes="Seluruh keluarga pindah ke luar provinsi",
        findings=[{"person": person.pk, "finding": "pindah"} for person in hh.people])
    services.verification_apply_findings(actor=province_operator, verification=visit)
    second = cycle.tranches.get(number=2)
    services.payments_generate(tranche=second)
    _suspended_for_no_member(enrolment, second)
    assert banking.transfer_totals(second) == (0, 0)


def test_a_member_gone_since_the_last_refresh_is_not_counted(cycle, province_operator):
    """The stored member list is not the authority: a toddler moved to another KK through the
    registry (no verification) leaves the household without a qualifying member."""
    from pmks import services as pmks_services

    hh = household()
    enrolment = enrol(province_operator, hh, cycle, "aktif")
    pmks_services.person_update(actor=province_operator, person=hh.people[1], household=None,
                                relationship="")
    assert enrolment.members.count() == 1  # stored, not refreshed
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    _suspended_for_no_member(enrolment, first)
    assert enrolment.members.count() == 0  # refreshed by the list


def test_one_child_registered_twice_does_not_keep_paying_two_households(cycle,
                                                                        province_operator):
    """A toddler registered in two KK, both households active on that child; the duplicate is
    merged into A's record: B is suspended at tahap 2, A is paid (audit 9)."""
    from pmks import services as pmks_services

    child = {"birth_date": TODDLER, "name": "Rafa Aditya", "sex": "L"}
    a = household(members=(ADULT, dict(child)))
    b = household(DESA_PANDEGLANG_2, members=(datetime.date(1987, 3, 3), dict(child)))
    first_household = enrol(province_operator, a, cycle, "aktif")
    second_household = enrol(province_operator, b, cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    pmks_services.person_merge(actor=province_operator, kept=a.people[1], merged=b.people[1],
                               reason="Anak yang sama tercatat di dua KK")
    tranche = cycle.tranches.get(number=2)
    services.payments_generate(tranche=tranche)
    _suspended_for_no_member(second_household, tranche)
    assert Payment.objects.get(enrolment=first_household, tranche=tranche).status == (
        "dijadwalkan")
    assert banking.transfer_totals(tranche) == (1, Decimal(875000))


# --- the year's split is frozen once paid (audit 7) ----------------------------------------


def test_a_tranche_added_after_payments_never_pays_more_than_the_years_benefit(
        cycle, province_operator):
    """Tahap 1 paid at 875.000, then a third tahap slipped in by any door: tahap 2's list is
    refused (naming the weights) instead of paying thirds of the year on top of a half."""
    from jamsosratu.models import Tranche

    enrolment = enrol(province_operator, household(), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    Tranche.objects.create(cycle=cycle, number=3, share=Decimal(1), planned_month=11)
    with pytest.raises(ValidationError) as refused:
        services.payments_generate(tranche=cycle.tranches.get(number=2))
    assert "share" in refused.value.message_dict
    year = Payment.objects.filter(enrolment=enrolment).aggregate(s=Sum("amount"))["s"]
    assert year <= cycle.benefit_amount


def test_the_service_refuses_a_new_split_once_paid(cycle, province_operator):
    enrol(province_operator, household(), cycle, "aktif")
    services.cycle_terms_check(cycle=cycle, benefit_amount="2000000",
                               tranches=[(1, "1"), (2, "2")])  # nothing paid yet: free
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    services.cycle_terms_check(cycle=cycle, benefit_amount="1750000",
                               tranches=[(2, "1.0000"), (1, "1")])  # the same: passes
    for change, field in [({"benefit_amount": "2000000"}, "benefit_amount"),
                          ({"tranches": [(1, "1"), (2, "1"), (3, "1")]}, "share"),
                          ({"tranches": [(1, "1"), (2, "2")]}, "share"),
                          ({"tranches": [(1, "1")]}, "share")]:
        with pytest.raises(ValidationError) as refused:
            services.cycle_terms_check(cycle=cycle, **change)
        assert "sudah dibuat" in refused.value.message_dict[field][0]


def test_the_admin_refuses_a_third_tahap_or_another_benefit_once_paid(cycle, make_user):
    from django.test import Client

    from dinsos import roles
    from tests.jamsosratu.test_admin import _FormFields

    user = make_user(roles.ADMIN)
    enrol(user, household(), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    client = Client()
    client.force_login(user)
    url = f"/admin/jamsosratu/cycle/{cycle.pk}/change/"
    parser = _FormFields()
    parser.feed(client.get(url).content.decode())
    data = {k: v for k, v in parser.values.items() if "__prefix__" not in k}
    data["qualifying_conditions"] = cycle.qualifying_conditions
    response = client.post(url, {**data, "tranches-TOTAL_FORMS": "3",
                                 "tranches-2-number": "3", "tranches-2-share": "1",
                                 "tranches-2-planned_month": "11"})
    assert response.status_code == 200
    assert "Tahap dan bobotnya tidak dapat diubah" in response.content.decode()
    assert cycle.tranches.count() == 2
    response = client.post(url, {**data, "benefit_amount": "2000000"})
    assert response.status_code == 200
    assert "Manfaat per RTS per tahun tidak dapat diubah" in response.content.decode()
    cycle.refresh_from_db()
    assert cycle.benefit_amount == Decimal(1750000)
    response = client.post(url, {**data, "tranches-0-planned_month": "6"})
    assert response.status_code == 302  # the planned month is not the split


# --- the account sent is the enrolment's current one (audit 11) ----------------------------


def test_an_account_corrected_before_the_bank_file_is_the_one_sent(cycle, province_operator):
    """The list is made, the account is corrected: the file sends to the new account; a
    payment already paid keeps the account it was paid to."""
    paid = enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    done = Payment.objects.get(enrolment=paid)
    services.payment_mark(actor=province_operator, payment=done, status="disalurkan",
                          paid_on=datetime.date(2026, 6, 1), reference="BB-1")
    services.enrolment_update(actor=province_operator, enrolment=enrolment,
                              account_number="0098765432101")
    services.enrolment_update(actor=province_operator, enrolment=paid,
                              account_number="0098765432102")
    assert banking.transfer_totals(first) == (0, 0)  # the new account waits for four eyes
    services.enrolment_account_verify(actor=account_checker(), enrolment=enrolment)
    text, _count, _total = banking.transfer_file(first)
    sent = [line.split(",")[1] for line in text.splitlines()[1:-1]]
    assert sent == ["0098765432101"]
    assert Payment.objects.get(pk=done.pk).account_number == done.account_number


# --- the list and the file agree (audit 10) -------------------------------------------------


def test_a_graduated_household_is_sent_the_tahap_it_earned(cycle, province_operator):
    """Three households scheduled in tahap 1, one graduates before the file is made: its
    earned tahap is sent (the file's control line and the list's scheduled payments agree);
    tahap 2 is not made for it."""
    actives = [enrol(province_operator, household(desa), cycle, "aktif")
               for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG_2, DESA_LEBAK)]
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    services.enrolment_transition(actor=province_operator, enrolment=actives[0],
                                  to_status="graduasi")
    scheduled = Payment.objects.filter(tranche=first, status="dijadwalkan",
                                       channel="bank_banten")
    assert banking.transfer_totals(first) == (
        scheduled.count(), scheduled.aggregate(s=Sum("amount"))["s"]) == (3, Decimal(2625000))
    second = cycle.tranches.get(number=2)
    services.payments_generate(tranche=second)
    assert not Payment.objects.filter(enrolment=actives[0], tranche=second).exists()
    assert banking.transfer_totals(second) == (2, Decimal(1750000))


# --- a failed transfer can be sent again (audit 13) -----------------------------------------


@pytest.fixture
def failed(cycle, province_operator):
    """Tahap 1's transfer failed by the bank's result (account closed)."""
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    banking.transfer_file(first)  # handed to the bank
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    result = (f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
              f"{payment.pk},{payment.account_number},875000,gagal,,,Rekening tidak aktif\n")
    banking.bank_result_import(actor=province_operator, tranche=first,
                               fileobj=io.BytesIO(result.encode()), filename="hasil.csv")
    payment.refresh_from_db()
    assert payment.status == "gagal"
    return payment


def test_a_failed_transfer_can_be_sent_again_once_the_account_is_fixed(failed,
                                                                      province_operator):
    from auditlog.models import LogEntry

    enrolment = failed.enrolment
    services.enrolment_update(actor=province_operator, enrolment=enrolment,
                              account_number="0098765432101")
    assert Payment.objects.get(pk=failed.pk).account_number != "0098765432101"  # as sent
    services.payment_reschedule(actor=province_operator, payment=failed)
    payment = Payment.objects.get(pk=failed.pk)
    assert (payment.status, payment.account_number, payment.failure_reason) == (
        "dijadwalkan", "0098765432101", "")
    assert banking.transfer_totals(failed.tranche) == (0, 0)  # not before four eyes
    services.enrolment_account_verify(actor=account_checker(), enrolment=enrolment)
    text, count, total = banking.transfer_file(failed.tranche)
    assert (count, total) == (1, Decimal(875000))
    assert text.splitlines()[1].split(",")[1] == "0098765432101"
    assert LogEntry.objects.get_for_object(payment).filter(
        changes__icontains="dijadwalkan").exists()
    with pytest.raises(ValidationError) as refused:  # only a failed one
        services.payment_reschedule(actor=province_operator, payment=payment)
    assert "status" in refused.value.message_dict


def test_an_excluded_households_failed_transfer_is_not_rescheduled(failed, province_operator):
    services.enrolment_transition(actor=province_operator, enrolment=failed.enrolment,
                                  to_status="dikeluarkan", reason="Tidak memenuhi syarat")
    with pytest.raises(ValidationError) as refused:
        services.payment_reschedule(actor=province_operator, payment=failed)
    assert "dikeluarkan" in refused.value.message_dict["status"][0].lower()


def test_reschedule_through_the_api_is_for_province_payment_staff(
        failed, province_operator, pandeglang_operator, auditor, api_as):
    url = f"/api/v1/jamsosratu/payments/{failed.pk}/reschedule/"
    for user in (pandeglang_operator, auditor):
        assert api_as(user).post(url).status_code in (403, 404)
    assert Payment.objects.get(pk=failed.pk).status == "gagal"
    from auditlog.models import LogEntry

    response = api_as(province_operator).post(url)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "dijadwalkan"
    entry = LogEntry.objects.get_for_object(failed).filter(
        changes__icontains="dijadwalkan").latest("timestamp")
    assert entry.actor == province_operator


# --- the cycle's pagu (audit 14) ---------------------------------------------------------


@pytest.fixture
def two_households_under_a_pagu(cycle, province_operator):
    """Two active households at Rp1.750.000 a year (Rp3.500.000)."""
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    return cycle


def _pagu(cycle, amount):
    from jamsosratu.models import Cycle

    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(amount))
    cycle.refresh_from_db()


def test_the_cycles_pagu_is_not_passed_by_one_rupiah_without_anyone_deciding(
        two_households_under_a_pagu, province_operator):
    cycle = two_households_under_a_pagu
    _pagu(cycle, "3499999")
    services.payments_generate(tranche=cycle.tranches.get(number=1))  # 1.750.000: within
    second = cycle.tranches.get(number=2)
    with pytest.raises(ValidationError) as refused:
        services.payments_generate(tranche=second)
    assert "melampaui pagu Rp3.499.999" in refused.value.message_dict["budget_ceiling"][0]
    assert not Payment.objects.filter(tranche=second).exists()  # no half list either
    with pytest.raises(ValidationError):  # the job is refused on the page, before it queues
        services.tranche_job_start(actor=province_operator, tranche=second, kind="penyaluran")


def test_exactly_the_pagu_passes(two_households_under_a_pagu):
    cycle = two_households_under_a_pagu
    _pagu(cycle, "3500000")
    for number in (1, 2):
        services.payments_generate(tranche=cycle.tranches.get(number=number))
    assert Payment.objects.filter(tranche__cycle=cycle).aggregate(s=Sum("amount"))["s"] == (
        Decimal(3500000))


def test_pimpinan_records_the_reason_to_go_over_the_pagu(
        two_households_under_a_pagu, province_operator, make_user, api_as):
    from dinsos import roles

    cycle = two_households_under_a_pagu
    _pagu(cycle, "3499999")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    second = cycle.tranches.get(number=2)
    url = "/api/v1/jamsosratu/cycles/2026/tranches/2/over-budget/"
    body = {"over_budget_reason": "Tambahan sasaran sesuai Pergub perubahan"}
    assert api_as(province_operator).post(url, body, format="json").status_code == 403
    pimpinan = make_user(roles.PIMPINAN)
    assert api_as(pimpinan).post(url, {"over_budget_reason": " "},
                                 format="json").status_code == 400
    assert api_as(pimpinan).post(url, body, format="json").status_code == 204
    second.refresh_from_db()
    assert (second.over_budget_by, second.over_budget_reason) == (
        pimpinan, body["over_budget_reason"])
    services.payments_generate(tranche=second)
    assert banking.transfer_totals(second) == (2, Decimal(1750000))


# --- a transfer in the bank's hands (audit 12) ---------------------------------------------


def test_the_banks_success_for_a_payment_sent_before_an_exclusion_is_recorded(
        cycle, province_operator):
    """The transfer file went to the bank, then the household is excluded: the payment is in
    the bank's hands (not suspended), and the bank's success is recorded as paid; a payment
    not yet in a file is suspended by the exclusion as before."""
    from jamsosratu import selectors

    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    text, count, total = banking.transfer_file(first)
    assert (count, total) == (1, Decimal(875000))
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    assert payment.sent_at is not None
    services.enrolment_update(actor=province_operator, enrolment=enrolment,
                              account_number="0098765432101")
    assert Payment.objects.get(pk=payment.pk).account_number == payment.account_number
    services.enrolment_transition(actor=province_operator, enrolment=enrolment,
                                  to_status="dikeluarkan", reason="Tidak lagi memenuhi syarat")
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"
    result = (f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
              f"{payment.pk},{payment.account_number},875000,berhasil,BB-2026-0001,"
              f"2026-06-15,\n")
    report = banking.bank_result_import(actor=province_operator, tranche=first,
                                        fileobj=io.BytesIO(result.encode()),
                                        filename="hasil.csv")
    assert report.lines[0]["outcome"] == "disalurkan", report.lines[0]
    assert Payment.objects.get(pk=payment.pk).status == "disalurkan"
    assert Decimal(selectors.budget_used(user=province_operator, cycle=cycle)["used"]) == (
        Decimal(875000))


def test_an_exclusion_suspends_a_payment_not_yet_sent(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    services.enrolment_transition(actor=province_operator, enrolment=enrolment,
                                  to_status="dikeluarkan", reason="Pindah domisili")
    payment = Payment.objects.get(enrolment=enrolment, tranche=first)
    assert (payment.status, payment.sent_at) == ("ditangguhkan", None)


def test_a_rescheduled_payment_is_not_yet_sent(failed, province_operator):
    from django.utils import timezone

    Payment.objects.filter(pk=failed.pk).update(sent_at=timezone.now())  # its first file
    services.payment_reschedule(actor=province_operator, payment=failed)
    assert Payment.objects.get(pk=failed.pk).sent_at is None
