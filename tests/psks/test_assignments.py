"""Assignments (penugasan): one TKSK per kecamatan, no overlapping assignments of one role for
a worker, the 5-year decree, the area of a TKSK, ending with a reason, and the same rules
under concurrency and in the PostgreSQL exclusion constraints."""

import datetime
import threading
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from dinsos import roles
from psks import selectors, services
from psks.models import Assignment
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, WorkerFactory
from tests.helpers import lock_waited, postgres_only
from tests.psks.factories import (
    DESA_CIMANGGU,
    END,
    KEC_CIMANGGU,
    KEC_MALINGPING,
    KEC_SUMUR,
    START,
    assign,
    office,
    tksk_row,
)

D = datetime.date


@pytest.fixture
def dede(db):
    return WorkerFactory(name="Dede Kurnia", desa_id=DESA_PANDEGLANG)


@pytest.fixture
def asep(db):
    return WorkerFactory(name="Asep Saepudin", desa_id=DESA_PANDEGLANG_2)


# --- one TKSK per kecamatan -------------------------------------------------------------------


def test_second_overlapping_tksk_in_a_kecamatan_is_refused_naming_the_first(
        province_operator, dede, asep):
    assign(province_operator, dede, area=KEC_SUMUR)
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, asep, area=KEC_SUMUR, start=D(2026, 3, 1),
               end=D(2031, 2, 28))
    assert exc.value.message_dict == {"area": [
        "Kecamatan ini sudah memiliki TKSK Dede Kurnia pada 2 Januari 2025 – "
            "31 Desember 2029; satu "
        "kecamatan hanya satu TKSK."]}
    assert Assignment.objects.filter(role="tksk", area_id=KEC_SUMUR).count() == 1


@pytest.mark.parametrize(("start", "end", "allowed"), [
    (D(2024, 1, 1), D(2025, 1, 1), True),  # ends the day before the first starts
    (D(2024, 1, 1), D(2025, 1, 2), False),  # touches the first day
    (D(2026, 1, 1), D(2026, 12, 31), False),  # inside
    (D(2029, 12, 31), D(2034, 12, 30), False),  # touches the last day
    (D(2030, 1, 1), D(2034, 12, 31), True),  # starts the day after the first ends
])
def test_tksk_periods_in_one_kecamatan(province_operator, dede, asep, start, end, allowed):
    assign(province_operator, dede, area=KEC_SUMUR)  # 2025-01-02 … 2029-12-31
    if allowed:
        assign(province_operator, asep, area=KEC_SUMUR, start=start, end=end)
        assert Assignment.objects.filter(role="tksk", area_id=KEC_SUMUR).count() == 2
    else:
        with pytest.raises(ValidationError, match="sudah memiliki TKSK Dede Kurnia"):
            assign(province_operator, asep, area=KEC_SUMUR, start=start, end=end)


def test_new_tksk_allowed_once_the_first_is_ended(province_operator, dede, asep):
    first = assign(province_operator, dede, area=KEC_SUMUR)
    services.assignment_end(actor=province_operator, assignment=first, end_date=D(2026, 6, 30),
                            reason="Mengundurkan diri")
    with pytest.raises(ValidationError, match="sudah memiliki TKSK Dede Kurnia"):
        assign(province_operator, asep, area=KEC_SUMUR, start=D(2026, 6, 30),
               end=D(2031, 6, 29))
    second = assign(province_operator, asep, area=KEC_SUMUR, start=D(2026, 7, 1),
                    end=D(2031, 6, 30))
    assert second.pk is not None
    assert list(Assignment.objects.filter(area_id=KEC_SUMUR).order_by("start_date")
                .values_list("worker__name", "start_date", "end_date")) == [
        ("Dede Kurnia", D(2025, 1, 2), D(2026, 6, 30)),
        ("Asep Saepudin", D(2026, 7, 1), D(2031, 6, 30)),
    ]


def test_tksk_in_another_kecamatan_is_allowed(province_operator, dede):
    other = WorkerFactory(name="Cecep", desa_id=DESA_CIMANGGU)
    assign(province_operator, dede, area=KEC_SUMUR)
    assign(province_operator, other, area=KEC_CIMANGGU)
    assert set(Assignment.objects.values_list("area_id", flat=True)) == {KEC_SUMUR, KEC_CIMANGGU}


def test_other_roles_may_share_a_kecamatan_with_the_tksk(province_operator, dede, asep):
    assign(province_operator, dede, area=KEC_SUMUR)
    assign(province_operator, asep, role="psm", area=KEC_SUMUR, end=None)
    assign(province_operator, WorkerFactory(), role="psm", area=KEC_SUMUR, end=None)
    assert Assignment.objects.filter(area_id=KEC_SUMUR).count() == 3


# --- one worker, one role at a time -----------------------------------------------------------


def test_overlapping_assignments_of_one_role_for_a_worker_are_refused(province_operator, dede):
    assign(province_operator, dede, role="psm", area=DESA_PANDEGLANG, start=D(2025, 1, 1),
           end=None, decree_number="460/1/2025")
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede, role="psm", area=DESA_PANDEGLANG_2, start=D(2025, 6, 1),
               end=D(2025, 12, 31))
    assert exc.value.message_dict == {"start_date": [
        "Tenaga ini sudah bertugas sebagai Pekerja Sosial Masyarakat (PSM) pada "
        "1 Januari 2025 – … (SK 460/1/2025)."]}


def test_one_worker_cannot_be_tksk_of_two_kecamatan(province_operator, dede):
    assign(province_operator, dede, area=KEC_SUMUR)
    with pytest.raises(ValidationError, match="sudah bertugas sebagai Tenaga Kesejahteraan"):
        assign(province_operator, dede, area=KEC_CIMANGGU)


def test_different_roles_of_one_worker_may_overlap(province_operator, dede):
    assign(province_operator, dede, role="tksk", area=KEC_SUMUR)
    assign(province_operator, dede, role="pendamping_pkh", area=DESA_PANDEGLANG, end=None)
    assign(province_operator, dede, role="tagana", area=KEC_SUMUR, end=None)
    assert sorted(dede.assignments.values_list("role", flat=True)) == [
        "pendamping_pkh", "tagana", "tksk"]


def test_same_role_again_after_the_first_ended(province_operator, dede):
    assign(province_operator, dede, role="psm", area=DESA_PANDEGLANG, start=D(2020, 1, 1),
           end=D(2024, 12, 31))
    assign(province_operator, dede, role="psm", area=DESA_PANDEGLANG, start=D(2025, 1, 1),
           end=None)
    assert dede.assignments.count() == 2


# --- the decree: at most 5 years ----------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "limit"), [
    (D(2025, 1, 2), D(2029, 12, 31), None),
    (D(2025, 1, 2), D(2030, 1, 1), None),
    (D(2025, 1, 2), D(2030, 1, 2), "2 Januari 2030"),
    (D(2025, 1, 2), D(2032, 6, 30), "2 Januari 2030"),
    # 29 February: the fifth anniversary falls on 28 February
    (D(2024, 2, 29), D(2029, 2, 27), None),
    (D(2024, 2, 29), D(2029, 2, 28), "28 Februari 2029"),
    (D(2024, 2, 29), D(2029, 3, 1), "28 Februari 2029"),
    (D(2028, 2, 29), D(2033, 2, 28), "28 Februari 2033"),
])
def test_tksk_decree_lasts_at_most_five_years(province_operator, dede, start, end, limit):
    if limit is None:
        assert assign(province_operator, dede, start=start, end=end).end_date == end
        return
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede, start=start, end=end)
    assert exc.value.message_dict == {"end_date": [
        f"SK TKSK berlaku paling lama 5 tahun (sampai sebelum {limit}); perpanjangan dibuat "
        "sebagai penugasan baru."]}
    assert not Assignment.objects.exists()


def test_five_year_limit_is_only_for_tksk(province_operator, dede):
    psm = assign(province_operator, dede, role="psm", start=D(2025, 1, 2), end=D(2035, 1, 1))
    assert psm.end_date == D(2035, 1, 1)


# --- area and end date of a TKSK ------------------------------------------------------------


@pytest.mark.parametrize("area", [DESA_PANDEGLANG, "36.01"])
def test_tksk_area_must_be_a_kecamatan(province_operator, dede, area):
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede, area=area)
    assert "Wilayah tugas TKSK harus sebuah kecamatan." in exc.value.message_dict["area"]
    assert not Assignment.objects.exists()


def test_other_roles_may_serve_a_desa(province_operator, dede):
    psm = assign(province_operator, dede, role="psm", area=DESA_PANDEGLANG, end=None)
    assert (psm.area_id, psm.end_date) == (DESA_PANDEGLANG, None)


def test_tksk_needs_an_end_date(province_operator, dede):
    with pytest.raises(ValidationError):
        assign(province_operator, dede, end=None)
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(("end", "message"), [
    (None, "Penugasan TKSK wajib memiliki tanggal selesai (SK paling lama 5 tahun)."),
    (D(2024, 1, 1), "Tanggal selesai tidak boleh sebelum tanggal mulai."),
])
def test_end_date_errors_name_the_field(province_operator, dede, end, message):
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede, end=end)
    assert exc.value.message_dict == {"end_date": [message]}


def test_end_before_start_is_refused_for_every_role(province_operator, dede):
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede, role="psm", start=D(2025, 1, 2), end=D(2025, 1, 1))
    assert exc.value.message_dict == {"end_date": [
        "Tanggal selesai tidak boleh sebelum tanggal mulai."]}


def test_database_refuses_a_tksk_without_end_date(dede):
    with pytest.raises(IntegrityError, match="psks_assignment_tksk_has_end"), \
            transaction.atomic():
        tksk_row(dede, KEC_SUMUR, START, None).save()


# --- ending an assignment -----------------------------------------------------------------------


def test_ending_keeps_the_assignment_with_its_reason(province_operator, dede):
    tksk = assign(province_operator, dede)
    services.assignment_end(actor=province_operator, assignment=tksk, end_date=D(2026, 3, 31),
                            reason="Meninggal dunia")
    tksk.refresh_from_db()
    assert (tksk.start_date, tksk.end_date, tksk.end_reason) == (
        START, D(2026, 3, 31), "Meninggal dunia")
    assert Assignment.objects.count() == 1


@pytest.mark.parametrize(("end_date", "reason", "errors"), [
    (D(2026, 3, 31), "", {"end_reason": ["Alasan wajib diisi."]}),
    (D(2026, 3, 31), "   ", {"end_reason": ["Alasan wajib diisi."]}),
    (D(2024, 12, 31), "Salah SK", {"end_date": ["Tanggal selesai sebelum tanggal mulai."]}),
    (D(2030, 6, 30), "Diperpanjang", {"end_date": ["Untuk memperpanjang, buat penugasan baru."]}),
])
def test_ending_needs_a_reason_and_a_date_inside_the_period(province_operator, dede, end_date,
                                                            reason, errors):
    tksk = assign(province_operator, dede)
    with pytest.raises(ValidationError) as exc:
        services.assignment_end(actor=province_operator, assignment=tksk, end_date=end_date,
                                reason=reason)
    assert exc.value.message_dict == errors
    tksk.refresh_from_db()
    assert (tksk.end_date, tksk.end_reason) == (END, "")


def test_stopping_a_worker_ends_the_open_assignments(province_operator, dede):
    tksk = assign(province_operator, dede)
    services.worker_set_status(actor=province_operator, worker=dede, status="berhenti",
                               on=D(2026, 5, 31), reason="Pindah domisili")
    tksk.refresh_from_db()
    assert (tksk.end_date, tksk.end_reason) == (D(2026, 5, 31),
                                                "Tenaga berhenti: Pindah domisili")


def test_stopping_a_worker_leaves_no_later_assignment(province_operator, dede):
    assign(province_operator, dede, start=D(2026, 7, 1), end=D(2031, 6, 30))
    services.worker_set_status(actor=province_operator, worker=dede, status="berhenti",
                               on=D(2026, 5, 31), reason="Mengundurkan diri")
    assert not selectors.active_on(dede.assignments.all(), D(2026, 8, 1)).exists()
    assert KEC_SUMUR in {k.kode for k in selectors.kecamatan_without_tksk(
        user=province_operator, on=D(2026, 8, 1))}


# --- who can be assigned, and by whom ---------------------------------------------------------


@pytest.mark.parametrize("status", ["nonaktif", "berhenti"])
def test_only_an_active_worker_can_be_assigned(province_operator, dede, status):
    services.worker_set_status(actor=province_operator, worker=dede, status=status,
                               on=D(2025, 1, 1), reason="Diskors")
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, dede)
    assert exc.value.message_dict == {"worker": [
        "Hanya tenaga berstatus aktif yang dapat ditugaskan."]}
    assert not Assignment.objects.exists()


def test_district_operator_cannot_assign_in_another_kab_kota(pandeglang_operator, dede):
    with pytest.raises(PermissionDenied) as exc:
        assign(pandeglang_operator, dede, area=KEC_MALINGPING)
    assert str(exc.value) == (f"Wilayah 36.02.01 berada di luar wilayah kerja Anda "
                              f"({office('36.01').name}).")
    with pytest.raises(PermissionDenied, match="36.02.01.2002 berada di luar wilayah kerja"):
        assign(pandeglang_operator, WorkerFactory(desa_id=DESA_LEBAK), area=KEC_SUMUR)
    assert not Assignment.objects.exists()
    assert assign(pandeglang_operator, dede, area=KEC_SUMUR).pk


def test_district_operator_cannot_end_another_kab_kota_assignment(province_operator,
                                                                  pandeglang_operator):
    lebak = assign(province_operator, WorkerFactory(desa_id=DESA_LEBAK))
    with pytest.raises(PermissionDenied):
        services.assignment_end(actor=pandeglang_operator, assignment=lebak,
                                end_date=D(2026, 1, 31), reason="Coba")
    lebak.refresh_from_db()
    assert lebak.end_date == END


def test_read_only_roles_cannot_assign_through_the_api(make_user, api_as, dede):
    payload = {"worker": dede.pk, "role": "tksk", "area": KEC_SUMUR, "decree_number": "1/2025",
               "decree_date": "2025-01-02", "decree_office": office().pk,
               "start_date": "2025-01-02", "end_date": "2029-12-31",
               "funding_source": "apbd_provinsi"}
    for role in (roles.AUDITOR, roles.KEUANGAN, roles.PIMPINAN):
        response = api_as(make_user(role)).post("/api/v1/psks/assignments/", payload,
                                                format="json")
        assert response.status_code == 403, role
    assert not Assignment.objects.exists()


# --- PostgreSQL: concurrency and the exclusion constraints ------------------------------------


def _race(*calls) -> dict[str, list]:
    """Run the calls in threads released together by a barrier; each thread closes its own
    database connection."""
    barrier = threading.Barrier(len(calls))
    outcome: dict[str, list] = {"ok": [], "refused": [], "other": []}

    def run(call):
        try:
            barrier.wait(timeout=10)
            outcome["ok"].append(call())
        except ValidationError as exc:
            outcome["refused"].append(exc)
        except Exception as exc:  # noqa: BLE001 - asserted empty by the caller
            outcome["other"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcome


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_tksk_for_one_kecamatan_only_one_wins(make_user):
    actor = make_user(roles.OPERATOR_PROVINSI)
    for kecamatan in (KEC_SUMUR, KEC_CIMANGGU, KEC_MALINGPING):  # three rounds
        first, second = WorkerFactory(), WorkerFactory()
        outcome = _race(
            partial(assign, actor, first, area=kecamatan, start=D(2025, 1, 2)),
            partial(assign, actor, second, area=kecamatan, start=D(2025, 3, 1),
                    end=D(2030, 2, 28)),
        )
        assert outcome["other"] == []
        assert len(outcome["ok"]) == 1
        assert len(outcome["refused"]) == 1
        assert "satu kecamatan hanya satu TKSK" in " ".join(outcome["refused"][0].messages)
        assert Assignment.objects.filter(role="tksk", area_id=kecamatan).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_same_role_for_one_worker_in_two_areas_only_one_wins(make_user):
    """Two areas means two different row locks: here the exclusion constraint decides, and the
    loser still gets a ValidationError."""
    actor = make_user(roles.OPERATOR_PROVINSI)
    worker = WorkerFactory()
    outcome = _race(
        partial(assign, actor, worker, area=KEC_SUMUR),
        partial(assign, actor, worker, area=KEC_CIMANGGU),
    )
    assert outcome["other"] == []
    assert (len(outcome["ok"]), len(outcome["refused"])) == (1, 1)
    assert worker.assignments.count() == 1


@postgres_only
@pytest.mark.django_db
def test_database_refuses_two_overlapping_tksk_in_one_kecamatan(dede, asep):
    with pytest.raises(IntegrityError, match="psks_one_tksk_per_kecamatan"), \
            transaction.atomic():
        Assignment.objects.bulk_create([
            tksk_row(dede, KEC_SUMUR, D(2025, 1, 2), D(2029, 12, 31)),
            tksk_row(asep, KEC_SUMUR, D(2029, 12, 31), D(2034, 12, 30)),
        ])
    assert not Assignment.objects.exists()
    tksk_row(dede, KEC_SUMUR, D(2025, 1, 2), D(2029, 12, 31)).save()
    with pytest.raises(IntegrityError, match="psks_one_tksk_per_kecamatan"), \
            transaction.atomic():
        tksk_row(asep, KEC_SUMUR, D(2027, 1, 1), D(2027, 12, 31)).save()
    # touching is not overlapping: the next one may start the day after
    tksk_row(asep, KEC_SUMUR, D(2030, 1, 1), D(2034, 12, 31)).save()
    assert Assignment.objects.count() == 2


@postgres_only
@pytest.mark.django_db
def test_database_refuses_overlapping_assignments_of_one_role_for_a_worker(dede):
    psm = tksk_row(dede, DESA_PANDEGLANG, D(2025, 1, 1), None)
    psm.role = "psm"
    psm.save()
    other = tksk_row(dede, DESA_PANDEGLANG_2, D(2026, 1, 1), D(2026, 12, 31))
    other.role = "psm"
    with pytest.raises(IntegrityError, match="psks_no_overlap_same_role"), transaction.atomic():
        other.save()
    other.role = "tagana"  # another role may overlap
    other.save()
    assert dede.assignments.count() == 2


@postgres_only
@pytest.mark.django_db
def test_service_turns_a_constraint_violation_into_a_validation_error(
        province_operator, dede, asep, monkeypatch):
    """If the service's own check were bypassed (a race), the constraint has the last word and
    the caller still gets a ValidationError, not a 500."""
    assign(province_operator, dede, area=KEC_SUMUR)
    monkeypatch.setattr(services, "_check_assignment", lambda assignment: None)
    with pytest.raises(ValidationError) as exc:
        assign(province_operator, asep, area=KEC_SUMUR, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert exc.value.code == "assignment_overlap"
    assert Assignment.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_second_assignment_of_the_worker_waits_for_the_first_and_reads_its_clash(make_user):
    """Two areas are two area locks, so the worker's row is locked too: a second assignment of
    the same worker and role waits for the first to commit and then meets it in the service's
    check (the exact clash, on its field). It used to pass the check, wait inside the
    exclusion constraint and get the generic overlap message — or, when both inserts met in
    the constraint at once, "deadlock detected" and a 500 (seen once in CI)."""
    actor = make_user(roles.OPERATOR_PROVINSI)
    worker = WorkerFactory()
    first_saved, release = threading.Event(), threading.Event()
    outcome: dict[str, list] = {"first": [], "second": []}

    def first():
        try:
            with transaction.atomic():
                outcome["first"].append(assign(actor, worker, area=KEC_SUMUR))
                first_saved.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def second():
        try:
            first_saved.wait(timeout=10)
            assign(actor, worker, area=KEC_CIMANGGU)
        except ValidationError as exc:
            outcome["second"].append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_saved.wait(timeout=10)
    lock_waited(5)  # the second is waiting for a lock the first holds
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcome["first"]) == 1 and len(outcome["second"]) == 1
    refusal = outcome["second"][0]
    assert list(refusal.message_dict) == ["start_date"]
    assert "sudah bertugas sebagai" in refusal.message_dict["start_date"][0]
    assert worker.assignments.count() == 1


def test_a_worker_stopped_with_a_long_reason_is_stopped(province_operator, dede):
    """Security audit (December 2026): the assignment's end reason is "Tenaga berhenti: " and
    the worker's reason; a reason that fits the worker's own field (255) overflowed the
    assignment's, so a worker with a detailed reason could not be stopped (a refusal naming
    ``end_reason``, a field the caller never sent). The derived text is cut with "…"; the
    whole reason stays on the worker."""
    tksk = assign(province_operator, dede)
    reason = "Mengundurkan diri. " + "x" * 236
    services.worker_set_status(actor=province_operator, worker=dede, status="berhenti",
                               on=D(2026, 5, 31), reason=reason)
    tksk.refresh_from_db()
    dede.refresh_from_db()
    assert dede.status_reason == reason and len(reason) == 255
    assert len(tksk.end_reason) == 255 and tksk.end_reason.endswith("x…")
    assert tksk.end_reason.startswith("Tenaga berhenti: Mengundurkan diri. xxx")
