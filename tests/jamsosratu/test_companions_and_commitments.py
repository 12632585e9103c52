"""Pendamping (a pendamping Jamsosratu of the household's kecamatan; reassignment keeps the
history), caseloads against the cycle's maximum, commitments per member and tranche (frozen
once the tranche's payment exists) and the commitment rule applied end to end."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dinsos.models import Wilayah
from jamsosratu import calculations, selectors, services
from jamsosratu.models import Commitment, Companion, Payment
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, cycle_with_tranches
from tests.jamsosratu.factories import (
    ADULT,
    DESA_CIMANGGU,
    ELDER,
    KEC_CIMANGGU,
    KEC_MALINGPING,
    KEC_SUMUR,
    PUPIL,
    TODDLER,
    VISIT,
    enrol,
    household,
    pendamping_in,
    record_commitments,
    tksk_of,
    worker_with_role,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


@pytest.fixture
def active(cycle, province_operator):
    return enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")


def assign(actor, enrolment, worker, start=VISIT):
    return services.companion_assign(actor=actor, enrolment=enrolment, worker=worker,
                                     start_date=start)


# --- pendamping -------------------------------------------------------------------------------

def test_a_pendamping_jamsosratu_of_the_kecamatan_is_assigned(active, province_operator):
    worker = pendamping_in(KEC_SUMUR)
    companion = assign(province_operator, active, worker)
    assert (companion.enrolment, companion.worker, companion.start_date, companion.end_date) == (
        active, worker, VISIT, None)


@pytest.mark.parametrize("make", [
    lambda: tksk_of(KEC_SUMUR),  # a TKSK is not a pendamping
    lambda: worker_with_role(KEC_SUMUR, "pendamping_pkh", end=None),
    lambda: pendamping_in(KEC_CIMANGGU),  # another kecamatan
    lambda: pendamping_in(DESA_CIMANGGU),
    lambda: pendamping_in(KEC_MALINGPING),
    lambda: pendamping_in(KEC_SUMUR, end=VISIT - datetime.timedelta(1)),  # ended before
    lambda: pendamping_in(KEC_SUMUR, start=VISIT + datetime.timedelta(1)),  # not yet started
], ids=["tksk", "pendamping-pkh", "other-kecamatan", "desa-of-other-kecamatan", "other-kab",
        "ended", "not-started"])
def test_only_a_pendamping_jamsosratu_of_the_kecamatan_may_accompany(active, province_operator,
                                                                     make):
    worker = make()
    with pytest.raises(ValidationError) as exc_info:
        assign(province_operator, active, worker)
    assert exc_info.value.message_dict == {"worker": [
        f"{worker.name} bukan pendamping Jamsosratu di kecamatan rumah tangga ini."]}
    assert not Companion.objects.exists()


@pytest.mark.parametrize("status", ["calon", "terverifikasi", "graduasi", "dikeluarkan"])
def test_only_decreed_or_active_households_get_a_pendamping(cycle, province_operator, status):
    enrolment = enrol(province_operator, household(), cycle, status)
    with pytest.raises(ValidationError):
        assign(province_operator, enrolment, pendamping_in(KEC_SUMUR))


def test_a_district_operator_assigns_only_in_its_own_area(active, lebak_operator):
    with pytest.raises(PermissionDenied):
        assign(lebak_operator, active, pendamping_in(KEC_SUMUR))


def test_reassigning_ends_the_previous_pendamping(active, province_operator):
    first, second = pendamping_in(KEC_SUMUR), pendamping_in(KEC_SUMUR)
    assign(province_operator, active, first, start=D(2026, 1, 5))
    same = assign(province_operator, active, first, start=D(2026, 2, 1))  # already assigned
    assert (same.worker, same.start_date) == (first, D(2026, 1, 5))
    assign(province_operator, active, second, start=D(2026, 3, 1))
    assert list(Companion.objects.order_by("start_date").values_list(
        "worker", "start_date", "end_date")) == [
        (first.pk, D(2026, 1, 5), D(2026, 2, 28)),
        (second.pk, D(2026, 3, 1), None),
    ]
    assert Companion.objects.filter(end_date__isnull=True).count() == 1


def test_the_database_keeps_one_active_pendamping(active, province_operator):
    assign(province_operator, active, pendamping_in(KEC_SUMUR))
    with pytest.raises(IntegrityError), transaction.atomic():
        Companion.objects.create(enrolment=active, worker=pendamping_in(KEC_SUMUR),
                                 start_date=VISIT)


# --- caseloads --------------------------------------------------------------------------------

def test_caseloads_flag_a_pendamping_over_the_cycles_maximum(cycle, province_operator):
    cycle.max_caseload = 2
    cycle.save()
    # Yati works in Sumur in 2025, then in Cimanggu from 2026
    yati = pendamping_in(KEC_SUMUR, start=D(2025, 1, 2), end=D(2025, 12, 31))
    pendamping_in(KEC_CIMANGGU, start=D(2026, 1, 1), end=None, worker=yati)
    yati.name = "Yati"
    yati.save()
    budi = pendamping_in(KEC_SUMUR, end=None)
    budi.name = "Budi"
    budi.save()
    sumur = [enrol(province_operator, household(desa), cycle, "aktif")
             for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG, DESA_PANDEGLANG_2)]
    for enrolment in sumur:
        assign(province_operator, enrolment, yati, start=D(2025, 11, 20))
    cimanggu = enrol(province_operator, household(DESA_CIMANGGU), cycle, "ditetapkan")
    assign(province_operator, cimanggu, yati, start=D(2026, 1, 10))
    handed_over = enrol(province_operator, household(), cycle, "aktif")
    assign(province_operator, handed_over, yati, start=D(2025, 11, 20))
    assign(province_operator, handed_over, budi, start=D(2025, 12, 1))
    graduated = enrol(province_operator, household(), cycle, "aktif")
    assign(province_operator, graduated, budi, start=D(2025, 12, 1))
    services.enrolment_transition(actor=province_operator, enrolment=graduated,
                                  to_status="graduasi")

    rows = selectors.caseloads(user=province_operator, cycle=cycle)
    assert [(r["worker__name"], r["kecamatan"], r["cases"], r["max"], r["over"])
            for r in rows] == [
        ("Yati", KEC_SUMUR, 3, 2, True),
        ("Budi", KEC_SUMUR, 1, 2, False),
        ("Yati", KEC_CIMANGGU, 1, 2, False),
    ]
    assert {r["worker_id"] for r in rows} == {yati.pk, budi.pk}
    # the page names the kecamatan, not only its code (figures audit)
    assert [r["kecamatan_name"] for r in rows] == [
        Wilayah.objects.get(kode=k).nama for k in (KEC_SUMUR, KEC_SUMUR, KEC_CIMANGGU)]
    assert rows[0]["kecamatan_name"]


def test_caseloads_of_a_district_operator_stay_in_its_area(cycle, province_operator,
                                                           lebak_operator,
                                                           pandeglang_operator):
    enrolment = enrol(province_operator, household(), cycle, "aktif")
    assign(province_operator, enrolment, pendamping_in(KEC_SUMUR))
    lebak = enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    assign(province_operator, lebak, pendamping_in(KEC_MALINGPING))
    assert [r["kecamatan"] for r in selectors.caseloads(user=lebak_operator, cycle=cycle)] == [
        KEC_MALINGPING]
    assert [r["kecamatan"] for r in selectors.caseloads(user=pandeglang_operator,
                                                        cycle=cycle)] == [KEC_SUMUR]


# --- commitments ------------------------------------------------------------------------------

@pytest.fixture
def big_family(cycle, province_operator):
    """An active household with a toddler and a pupil: two qualifying members."""
    hh = household(DESA_PANDEGLANG, [ADULT, TODDLER, {"birth_date": PUPIL, "schooling": "sd"}])
    return enrol(province_operator, hh, cycle, "aktif")


def test_commitments_are_recorded_per_member_and_tranche(big_family, cycle, province_operator):
    first, second = cycle.tranches.order_by("number")
    toddler = big_family.members.get(condition="balita")
    pupil = big_family.members.get(condition="anak_sekolah")
    record = services.commitment_record
    record(actor=province_operator, member=toddler, tranche=first, kind="kesehatan",
           status="tidak_terpenuhi")
    record(actor=province_operator, member=pupil, tranche=first, kind="pendidikan",
           status="terpenuhi")
    record(actor=province_operator, member=toddler, tranche=second, kind="kesehatan",
           status="terpenuhi")
    # a correction replaces the status of the same member, tranche and kind
    corrected = record(actor=province_operator, member=toddler, tranche=first,
                       kind="kesehatan", status="terpenuhi")
    assert (corrected.status, corrected.recorded_by) == ("terpenuhi", province_operator)
    assert sorted(Commitment.objects.values_list("member__condition", "tranche__number", "kind",
                                                 "status")) == [
        ("anak_sekolah", 1, "pendidikan", "terpenuhi"),
        ("balita", 1, "kesehatan", "terpenuhi"),
        ("balita", 2, "kesehatan", "terpenuhi"),
    ]


def test_commitments_are_frozen_once_the_tranches_payment_exists(big_family, cycle,
                                                                 province_operator):
    first, second = cycle.tranches.order_by("number")
    toddler = big_family.members.get(condition="balita")
    services.commitment_record(actor=province_operator, member=toddler, tranche=first,
                               kind="kesehatan", status="terpenuhi")
    assert services.payments_generate(tranche=first) == 1
    with pytest.raises(ValidationError) as exc_info:
        services.commitment_record(actor=province_operator, member=toddler, tranche=first,
                                   kind="kesehatan", status="tidak_terpenuhi")
    assert exc_info.value.messages == [
        "Penyaluran tahap ini sudah dibuat; komitmen tidak dapat diubah."]
    assert Commitment.objects.get().status == "terpenuhi"
    # the next tranche is still open
    services.commitment_record(actor=province_operator, member=toddler, tranche=second,
                               kind="kesehatan", status="tidak_terpenuhi")
    assert Commitment.objects.count() == 2


def test_a_commitment_for_a_tranche_of_another_cycle_is_refused(big_family, province_operator):
    other = cycle_with_tranches(2027, "1750000", ("1", "1"))
    with pytest.raises(ValidationError) as exc_info:
        services.commitment_record(actor=province_operator,
                                   member=big_family.members.first(),
                                   tranche=other.tranches.first(), kind="kesehatan",
                                   status="terpenuhi")
    assert "tranche" in exc_info.value.message_dict


def test_a_district_operator_records_commitments_only_in_its_area(big_family, cycle,
                                                                  lebak_operator):
    with pytest.raises(PermissionDenied):
        services.commitment_record(actor=lebak_operator, member=big_family.members.first(),
                                   tranche=cycle.tranches.first(), kind="kesehatan",
                                   status="terpenuhi")


# --- the commitment rule end to end ------------------------------------------------------------

def test_payments_follow_the_commitment_rule(cycle, province_operator):
    first = cycle.tranches.get(number=1)

    def family(statuses):
        hh = household(DESA_PANDEGLANG, [ADULT, TODDLER, ELDER])
        enrolment = enrol(province_operator, hh, cycle, "aktif")
        record_commitments(province_operator, enrolment, first, statuses)
        return enrolment

    all_met = family(["terpenuhi", "terpenuhi"])
    one_unmet = family(["terpenuhi", "tidak_terpenuhi"])
    all_unmet = family(["tidak_terpenuhi", "tidak_terpenuhi"])
    not_applicable = family(["terpenuhi", "tidak_berlaku"])
    none_recorded = family([])

    assert services.payments_generate(tranche=first) == 5
    paid = {p.enrolment_id: p for p in Payment.objects.filter(tranche=first)}
    assert [(paid[e.pk].tranche_amount, paid[e.pk].amount, paid[e.pk].outcome,
             paid[e.pk].status)
            for e in (all_met, one_unmet, all_unmet, not_applicable, none_recorded)] == [
        (Decimal(875000), Decimal(875000), "penuh", "dijadwalkan"),
        (Decimal(875000), Decimal(656250), "dikurangi", "dijadwalkan"),
        (Decimal(875000), Decimal(0), "ditangguhkan", "ditangguhkan"),
        (Decimal(875000), Decimal(875000), "penuh", "dijadwalkan"),
        (Decimal(875000), Decimal(875000), "penuh", "dijadwalkan"),
    ]
    explanation = dict(paid[one_unmet.pk].explanation)
    assert Decimal(explanation.pop("benefit")) == Decimal(1750000)  # "1750000.00" on PostgreSQL
    assert explanation == {"tranche_amount": "875000", "met": 1, "unmet": 1,
                           "unmet_ratio": "0.5000", "factor": "0.7500", "rule": "dikurangi"}
    assert paid[all_unmet.pk].explanation["factor"] == "0"


def test_stored_rules_where_some_unmet_started_at_one_percent_count_any_unmet(cycle):
    """Cycles stored with "some unmet" from 1 % (the rule as first seeded) are moved by the
    data migration: 1 unmet of 101 is then 25 % less; the migration reverses."""
    migration = importlib.import_module("jamsosratu.migrations.0006_some_unmet_from_any")
    cycle.condition_rules.filter(outcome="dikurangi").update(min_unmet_ratio=Decimal("0.01"))

    def outcome():
        rules = list(cycle.condition_rules.values_list("min_unmet_ratio", "outcome",
                                                       "reduction_share"))
        return calculations.commitment_outcome(met=100, unmet=1, rules=rules)[:2]

    assert outcome() == ("penuh", Decimal(1))
    migration.forwards(apps, None)
    assert outcome() == ("dikurangi", Decimal("0.75"))
    assert [str(rule) for rule in cycle.condition_rules.all()] == [
        "≥0%: Dibayar penuh", "≥0,01%: Dikurangi", "≥100%: Ditangguhkan"]
    migration.backwards(apps, None)
    assert cycle.condition_rules.get(outcome="dikurangi").min_unmet_ratio == Decimal("0.01")


def test_a_reassignment_cannot_start_before_the_current_pendamping(active, province_operator):
    first, second = pendamping_in(KEC_SUMUR), pendamping_in(KEC_SUMUR)
    assign(province_operator, active, first, start=D(2026, 3, 1))
    with pytest.raises(ValidationError):
        assign(province_operator, active, second, start=D(2026, 1, 1))
    assert list(Companion.objects.values_list("worker", "end_date")) == [(first.pk, None)]
