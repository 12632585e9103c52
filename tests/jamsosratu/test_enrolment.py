"""Enrolments through the services: proposal, the status machine with its rules (a qualifying
member and a passed verification before the decree, the quota per kab/kota, the decree number,
exclusion with a reason that ends the pendamping), one enrolment per household and cycle, and
the transition history with its actor."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jamsosratu import services
from jamsosratu.models import Companion, Enrolment, EnrolmentTransition, Verification
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, cycle_with_tranches
from tests.helpers import postgres_only
from tests.jamsosratu.factories import (
    ADULT,
    ELDER,
    PUPIL,
    TODDLER,
    VISIT,
    enrol,
    household,
    pendamping_in,
    tksk_of,
)

pytestmark = pytest.mark.django_db

D = datetime.date
SK = "SK Gubernur Banten 460/Kep.12-Huk/2026"


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"), quota=100)


def verify(actor, enrolment, result="sesuai", visit=VISIT):
    return services.verification_record(actor=actor, enrolment=enrolment,
                                        verifier=tksk_of(enrolment.desa_id[:8]),
                                        visit_date=visit, result=result)


def move(actor, enrolment, to_status, **kwargs):
    return services.enrolment_transition(actor=actor, enrolment=enrolment, to_status=to_status,
                                         **kwargs)


def messages(exc_info) -> str:
    return " ".join(exc_info.value.messages)


# --- proposal ---------------------------------------------------------------------------------

def test_proposal_takes_the_desa_and_decile_and_works_out_the_members(cycle, province_operator):
    hh = household(DESA_PANDEGLANG_2, [ADULT, TODDLER, {"birth_date": PUPIL, "schooling": "sd"},
                                       ELDER], decile=1)
    enrolment = services.enrolment_propose(actor=province_operator, household=hh, cycle=cycle,
                                           source="DTSEN", account_number="009800000001")
    assert (enrolment.status, enrolment.desa_id, enrolment.decile, enrolment.channel) == (
        "calon", DESA_PANDEGLANG_2, 1, "bank_banten")
    assert sorted((m.person.birth_date, m.condition) for m in enrolment.members.all()) == [
        (ELDER, "lansia"), (PUPIL, "anak_sekolah"), (TODDLER, "balita")]
    assert list(enrolment.transitions.values_list("from_status", "to_status", "actor")) == [
        ("", "calon", province_operator.pk)]


def test_a_district_operator_proposes_only_in_its_own_area(cycle, pandeglang_operator):
    with pytest.raises(PermissionDenied):
        services.enrolment_propose(actor=pandeglang_operator, household=household(DESA_LEBAK),
                                   cycle=cycle)
    assert not Enrolment.objects.exists()


def test_a_district_operator_cannot_move_another_districts_enrolment(
        cycle, province_operator, lebak_operator):
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    verify(province_operator, enrolment)
    with pytest.raises(PermissionDenied):
        move(lebak_operator, enrolment, "terverifikasi")
    assert Enrolment.objects.get().status == "calon"


# --- the rules of the status machine ----------------------------------------------------------

def test_full_path_is_recorded_with_its_actor(cycle, province_operator, pandeglang_operator):
    enrolment = enrol(province_operator, household(), cycle)
    verify(pandeglang_operator, enrolment)
    move(pandeglang_operator, enrolment, "terverifikasi")
    move(province_operator, enrolment, "ditetapkan", decree_number=SK)
    move(pandeglang_operator, enrolment, "aktif")
    move(province_operator, enrolment, "graduasi", reason="Naik grade: usaha mandiri")
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.decree_number) == ("graduasi", SK)
    p, k = province_operator.pk, pandeglang_operator.pk
    assert list(EnrolmentTransition.objects.filter(enrolment=enrolment).values_list(
        "from_status", "to_status", "actor", "reason")) == [
        ("", "calon", p, "Diusulkan: uji"),
        ("calon", "terverifikasi", k, ""),
        ("terverifikasi", "ditetapkan", p, ""),
        ("ditetapkan", "aktif", k, ""),
        ("aktif", "graduasi", p, "Naik grade: usaha mandiri"),
    ]


@pytest.mark.parametrize(("reached", "to_status"), [
    ("calon", "ditetapkan"), ("calon", "aktif"), ("terverifikasi", "aktif"),
    ("ditetapkan", "graduasi"), ("aktif", "calon"), ("graduasi", "aktif"),
    ("dikeluarkan", "calon"),
])
def test_a_transition_outside_the_table_is_refused(cycle, province_operator, reached,
                                                   to_status):
    enrolment = enrol(province_operator, household(), cycle, reached)
    before = enrolment.transitions.count()
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, to_status, decree_number=SK, reason="alasan")
    assert "tidak dapat diubah menjadi" in messages(exc_info)
    assert Enrolment.objects.get().status == reached
    assert enrolment.transitions.count() == before


def test_a_household_with_no_qualifying_member_cannot_be_decreed(cycle, province_operator):
    # two adults of 40 and a son of 25: none pregnant, under five, at school or elderly
    hh = household(members=[ADULT, ADULT, {"birth_date": D(2000, 5, 5), "schooling": "sma"}])
    enrolment = enrol(province_operator, hh, cycle, "terverifikasi")
    assert not enrolment.members.exists()
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "ditetapkan", decree_number=SK)
    assert "Tidak ada anggota yang memenuhi syarat" in messages(exc_info)
    assert Enrolment.objects.get().status == "terverifikasi"


def test_without_verification_there_is_no_terverifikasi(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle)
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "terverifikasi")
    assert "Belum ada verifikasi" in messages(exc_info)


def test_a_failed_verification_blocks_terverifikasi(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle)
    verify(province_operator, enrolment, "tidak_sesuai")
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "terverifikasi")
    assert "hasil sesuai" in messages(exc_info)
    assert Enrolment.objects.get().status == "calon"
    # the household can still be excluded
    move(province_operator, enrolment, "dikeluarkan", reason="Tidak sesuai: rumah layak")
    assert Enrolment.objects.get().status == "dikeluarkan"


def test_a_later_failed_verification_blocks_the_decree(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle, "terverifikasi")
    verify(province_operator, enrolment, "tidak_sesuai", visit=VISIT + datetime.timedelta(1))
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "ditetapkan", decree_number=SK)
    assert "gagal verifikasi tidak dapat ditetapkan" in messages(exc_info)
    # a new visit that finds the household as registered lifts the block
    verify(province_operator, enrolment, "sesuai", visit=VISIT + datetime.timedelta(2))
    assert move(province_operator, enrolment, "ditetapkan", decree_number=SK).status == (
        "ditetapkan")


@pytest.mark.parametrize("decree", ["", "   "])
def test_the_decree_number_is_required(cycle, province_operator, decree):
    enrolment = enrol(province_operator, household(), cycle, "terverifikasi")
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "ditetapkan", decree_number=decree)
    assert exc_info.value.message_dict == {"decree_number": ["Nomor SK penetapan wajib diisi."]}
    assert Enrolment.objects.get().status == "terverifikasi"


def test_the_decree_number_is_stored_trimmed(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle, "terverifikasi")
    move(province_operator, enrolment, "ditetapkan", decree_number=f"  {SK} ")
    assert Enrolment.objects.get().decree_number == SK


def test_an_active_bank_enrolment_needs_an_account(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle, "ditetapkan", account_number="")
    with pytest.raises(ValidationError):
        move(province_operator, enrolment, "aktif")
    assert Enrolment.objects.get().status == "ditetapkan"
    pos = enrol(province_operator, household(DESA_PANDEGLANG_2), cycle, "aktif", channel="pos")
    assert (pos.status, pos.account_number) == ("aktif", "")


# --- quota per kab/kota -----------------------------------------------------------------------

def test_the_quota_of_a_kab_kota_cannot_be_exceeded(province_operator):
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=1)
    first = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "ditetapkan")
    second = enrol(province_operator, household(DESA_PANDEGLANG_2), cycle, "terverifikasi")

    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, second, "ditetapkan", decree_number=SK)
    assert messages(exc_info) == "Kuota Kabupaten Pandeglang sudah penuh (1 dari 1 RTS)."
    assert Enrolment.objects.get(pk=second.pk).status == "terverifikasi"

    # another kab/kota has its own quota
    lebak = enrol(province_operator, household(DESA_LEBAK), cycle, "ditetapkan")
    assert lebak.status == "ditetapkan"

    # active and graduated households keep their place; an excluded one frees it
    move(province_operator, first, "aktif")
    with pytest.raises(ValidationError):
        move(province_operator, second, "ditetapkan", decree_number=SK)
    move(province_operator, first, "dikeluarkan", reason="Pindah ke luar Banten")
    assert move(province_operator, second, "ditetapkan", decree_number=SK).status == (
        "ditetapkan")


def test_a_kab_kota_without_quota_cannot_decree(province_operator):
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=5)
    cycle.quotas.filter(kab_kota_id="36.01").delete()
    enrolment = enrol(province_operator, household(), cycle, "terverifikasi")
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "ditetapkan", decree_number=SK)
    assert messages(exc_info) == "Kuota 36.01 untuk siklus 2026 belum ditetapkan."


# --- exclusion --------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "  "])
def test_exclusion_needs_a_reason(cycle, province_operator, reason):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    with pytest.raises(ValidationError) as exc_info:
        move(province_operator, enrolment, "dikeluarkan", reason=reason)
    assert exc_info.value.message_dict == {"reason": ["Alasan dikeluarkan wajib diisi."]}
    assert Enrolment.objects.get().status == "aktif"


def test_exclusion_ends_the_pendamping_and_keeps_the_reason(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    worker = pendamping_in("36.01.01")
    services.companion_assign(actor=province_operator, enrolment=enrolment, worker=worker,
                              start_date=VISIT)
    move(province_operator, enrolment, "dikeluarkan", reason=" Meninggal seluruh anggota ")
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.exit_reason) == (
        "dikeluarkan", "Meninggal seluruh anggota")
    companion = Companion.objects.get()
    assert (companion.worker, companion.end_date) == (worker, timezone.localdate())
    assert enrolment.transitions.last().reason == " Meninggal seluruh anggota "


# --- one enrolment per household and cycle ----------------------------------------------------

def test_one_enrolment_per_household_and_cycle(cycle, province_operator):
    hh = household()
    enrol(province_operator, hh, cycle)
    with pytest.raises(ValidationError) as exc_info:
        services.enrolment_propose(actor=province_operator, household=hh, cycle=cycle)
    assert exc_info.value.message_dict == {
        "household": ["Keluarga ini sudah terdaftar pada siklus 2026."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(household=hh, cycle=cycle, desa_id=hh.desa_id)
    assert Enrolment.objects.count() == 1
    # the next year is a new cycle
    next_year = cycle_with_tranches(2027, "1750000", ("1", "1"))
    assert enrol(province_operator, hh, next_year).cycle == next_year


def test_an_excluded_household_cannot_be_proposed_again_in_the_cycle(cycle, province_operator):
    hh = household()
    enrol(province_operator, hh, cycle, "dikeluarkan")
    with pytest.raises(ValidationError):
        services.enrolment_propose(actor=province_operator, household=hh, cycle=cycle)


def test_proposal_from_the_registry_skips_households_already_in_the_cycle(
        cycle, pandeglang_operator, province_operator):
    poor = [household(DESA_PANDEGLANG, decile=d) for d in (1, 2, 3)]
    household(DESA_PANDEGLANG, decile=5)
    household(DESA_LEBAK, decile=1)  # outside the operator's area
    enrol(province_operator, poor[0], cycle)
    created = services.enrolments_propose_from_registry(actor=pandeglang_operator, cycle=cycle,
                                                        max_decile=3)
    assert created == 2
    assert set(Enrolment.objects.values_list("household", flat=True)) == {h.pk for h in poor}
    assert set(Enrolment.objects.values_list("source", flat=True)) == {"uji", "DTSEN desil ≤ 3"}


def test_verification_alone_never_changes_the_status(cycle, province_operator):
    enrolment = enrol(province_operator, household(), cycle)
    verify(province_operator, enrolment)
    assert Verification.objects.count() == 1
    assert Enrolment.objects.get().status == "calon"


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_decrees_cannot_exceed_the_quota(province_operator):
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=1)
    enrolments = [enrol(province_operator, household(desa), cycle, "terverifikasi")
                  for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG_2)]
    barrier = threading.Barrier(2)
    outcome = {"ok": [], "refused": [], "other": []}

    def decree(enrolment):
        try:
            barrier.wait(timeout=10)
            outcome["ok"].append(move(province_operator, enrolment, "ditetapkan",
                                      decree_number=SK))
        except ValidationError as exc:
            outcome["refused"].append(exc)
        except Exception as exc:  # noqa: BLE001 - asserted empty below
            outcome["other"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=decree, args=(e,)) for e in enrolments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert (len(outcome["ok"]), len(outcome["refused"]), outcome["other"]) == (1, 1, [])
    assert "sudah penuh" in " ".join(outcome["refused"][0].messages)
    assert Enrolment.objects.filter(status="ditetapkan").count() == 1


# --- the 5-year targeting limit ---------------------------------------------------------------

def targeted_in(hh, *years, status="aktif"):
    for year in years:
        Enrolment.objects.create(household=hh, cycle=cycle_with_tranches(year), status=status,
                                 desa_id=hh.desa_id, account_number=f"0098{year:08d}")


def test_a_household_targeted_five_years_is_not_proposed_again(cycle, province_operator):
    hh = household(decile=1)
    targeted_in(hh, 2021, 2022, 2023)
    targeted_in(hh, 2024, status="graduasi")
    targeted_in(hh, 2025, status="ditetapkan")
    with pytest.raises(ValidationError) as error:
        services.enrolment_propose(actor=province_operator, household=hh, cycle=cycle)
    assert error.value.message_dict["household"] == [
        "Rumah tangga ini sudah menjadi sasaran Jamsosratu selama 5 tahun (2021, 2022, 2023, "
        "2024, 2025); batasnya 5 tahun."]
    assert services.enrolments_propose_from_registry(actor=province_operator, cycle=cycle,
                                                     max_decile=1) == 0
    assert not Enrolment.objects.filter(cycle=cycle).exists()


def test_four_years_or_years_never_decreed_do_not_count_against_the_limit(cycle,
                                                                          province_operator):
    hh = household(decile=1)
    targeted_in(hh, 2021, 2022, 2023, 2024)
    targeted_in(hh, 2025, status="dikeluarkan")  # proposed, never decreed
    assert services.enrolments_propose_from_registry(actor=province_operator, cycle=cycle,
                                                     max_decile=1) == 1
    assert Enrolment.objects.get(household=hh, cycle=cycle).status == "calon"


def test_the_limit_is_checked_again_at_the_decree(cycle, province_operator):
    hh = household(decile=1)
    enrolment = enrol(province_operator, hh, cycle, "terverifikasi")
    targeted_in(hh, 2019, 2020, 2021, 2022, 2023)  # recorded after the proposal
    with pytest.raises(ValidationError) as error:
        move(province_operator, enrolment, "ditetapkan", decree_number=SK)
    assert "batasnya 5 tahun" in messages(error)


def test_an_edit_from_an_older_copy_keeps_a_transition_made_meanwhile(cycle, province_operator):
    """``enrolment_update`` works on the stored row (read under FOR UPDATE), not the caller's
    copy: an exclusion committed after the edit form was read is kept."""
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    stale = Enrolment.objects.get(pk=enrolment.pk)
    move(province_operator, enrolment, "dikeluarkan", reason="Pindah ke luar provinsi")
    services.enrolment_update(actor=province_operator, enrolment=stale, source="Koreksi")
    stored = Enrolment.objects.get(pk=enrolment.pk)
    assert (stored.status, stored.exit_reason, stored.source) == (
        "dikeluarkan", "Pindah ke luar provinsi", "Koreksi")


def _with_a_scheduled_payment(province_operator):
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"), quota=100)
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    return enrolment


def test_an_exclusion_with_a_long_reason_keeps_it_whole_on_the_enrolment(province_operator,
                                                                         pandeglang_operator,
                                                                         api_as):
    """Security audit (December 2026): each scheduled payment gets "Peserta dikeluarkan: " and
    the reason (255 characters); a reason that fits the enrolment's own field overflowed the
    payment's: a database error, a 500 through the API and the page, and the household stayed
    in. The payment's note is cut with "…"; the whole reason is the enrolment's."""
    enrolment = _with_a_scheduled_payment(province_operator)
    reason = "Data ganda. " + "x" * 243
    response = api_as(pandeglang_operator).post(
        f"/api/v1/jamsosratu/enrolments/{enrolment.pk}/transition/",
        {"status": "dikeluarkan", "reason": reason}, format="json")
    assert response.status_code == 200, response.content[:300]
    enrolment.refresh_from_db()
    payment = enrolment.payments.get()
    assert (enrolment.status, enrolment.exit_reason) == ("dikeluarkan", reason)
    assert payment.status == "ditangguhkan" and len(payment.failure_reason) == 255
    assert payment.failure_reason.startswith("Peserta dikeluarkan: Data ganda. xxx")


def test_an_exclusion_reason_longer_than_its_field_is_refused_on_reason(province_operator,
                                                                        pandeglang_operator,
                                                                        api_as):
    """The reason over the enrolment's 255 characters is refused naming ``reason`` (the field
    the client sent), not ``exit_reason``; the staff page's form has the same limit, so the
    officer reads it next to the field instead of a 500 page (it allowed 500 characters)."""
    from jamsosratu.forms import EnrolmentTransitionForm

    enrolment = _with_a_scheduled_payment(province_operator)
    response = api_as(pandeglang_operator).post(
        f"/api/v1/jamsosratu/enrolments/{enrolment.pk}/transition/",
        {"status": "dikeluarkan", "reason": "x" * 256}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["reason"]
    form = EnrolmentTransitionForm({f"e{enrolment.pk}-dikeluarkan-reason": "x" * 256},
                                   enrolment=enrolment, target="dikeluarkan")
    assert not form.is_valid() and list(form.errors) == ["reason"]
    enrolment.refresh_from_db()
    assert enrolment.status == "aktif" and enrolment.payments.get().status == "dijadwalkan"


def test_only_the_exclusion_reason_has_the_exit_reasons_limit(province_operator):
    """Review (December 2026): the form had capped every transition's reason at 255 characters
    when only the exclusion's becomes the 255-character exit reason; the others are kept in
    the transition's history (text), as the API keeps them."""
    from jamsosratu.forms import EnrolmentTransitionForm

    enrolment = _with_a_scheduled_payment(province_operator)
    graduation = EnrolmentTransitionForm({f"e{enrolment.pk}-graduasi-reason": "x" * 400},
                                         enrolment=enrolment, target="graduasi")
    assert graduation.is_valid(), graduation.errors
