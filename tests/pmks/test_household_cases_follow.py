"""An open case of a household (Fakir Miskin) lives where its KK is recorded: when the KK moves
to another kab/kota — the API, the admin, the staff page, the sync's upsert
(``pmks.services.household_save``/``household_upsert``) and both paths of the import — its open
cases follow (``services.cases_follow``; ``staging.Stage._household_cases_follow`` in SQL), so
the kab/kota that now serves the KK sees and continues the case, the one it left is fed
``left_area``, and the move is in the case's audit trail. A refusal of a second open case
describes the open one only to a user who may see it (``Case.clean``). Audit of 2 December
2026, finding A."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dinsos import audit
from dinsos.models import Change
from dinsos.validators import build_nik, build_no_kk
from pmks import importing as pmks_importing
from pmks import services
from pmks.models import Case, Category, Household
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for, pull
from tests.pmks.factories import CaseFactory, ServiceFactory
from tests.pmks.test_dates_and_open_cases import INLINES
from tests.pmks.test_import import KK_1, family_rows, row
from tests.pmks.test_import_rules import run  # the import of rows through its batch

pytestmark = pytest.mark.django_db

CASES = "pmks-api:case"
SERVICES = "pmks-api:service"
FAKIR_MISKIN = "fakir-miskin"


def open_household_case(actor, household, on=datetime.date(2026, 11, 15)) -> Case:
    return services.case_open(actor=actor, household=household,
                              category=Category.objects.get(slug=FAKIR_MISKIN),
                              identified_on=on, source="tksk")


def desa_moves(case) -> list:
    """The case's audit entries that moved its desa: [[old, new]] (an entry of its own, or
    the import's batch entry naming it)."""
    moves = []
    for entry in audit.entries_for(case):
        action, diff = audit.entry_changes(entry, case)
        if action == LogEntry.Action.UPDATE and "desa" in diff:
            moves.append(list(diff["desa"]))
    return moves


def test_an_open_household_case_follows_its_kk_moved_by_the_api(
        province_operator, pandeglang_operator, lebak_operator, api_as):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    PersonFactory(household=household, relationship="kepala")
    case = open_household_case(province_operator, household)
    closed = CaseFactory(person=None, household=household, category=Category.objects.get(
        slug=FAKIR_MISKIN), status="ditutup", close_reason="lainnya")
    pandeglang, lebak = api_as(pandeglang_operator), api_as(lebak_operator)
    p_cursor = pull(pandeglang, CASES)[1]
    l_cursor = pull(lebak, CASES)[1]

    moved = api_as(province_operator).patch(f"/api/v1/pmks/households/{household.pk}/",
                                            {"desa": DESA_LEBAK}, format="json")

    assert moved.status_code == 200, moved.content
    case.refresh_from_db()
    closed.refresh_from_db()
    assert case.desa_id == DESA_LEBAK  # the kab/kota that now serves the KK has the case
    assert closed.desa_id == DESA_PANDEGLANG  # history stays where it happened
    assert [(e["id"], e["change"]) for e in pull(pandeglang, CASES, p_cursor)[0]] == [
        (case.pk, "left_area")]
    assert [(e["id"], e["change"]) for e in pull(lebak, CASES, l_cursor)[0]] == [
        (case.pk, "upsert")]
    assert desa_moves(case) == [[DESA_PANDEGLANG, DESA_LEBAK]]
    # Lebak lists it under its KK, and a second report continues it
    listed = lebak.get("/api/v1/pmks/cases/", {"household": household.pk})
    assert [c["id"] for c in listed.json()["results"]] == [case.pk]
    again = lebak.post("/api/v1/pmks/cases/", {
        "household": household.pk, "category": FAKIR_MISKIN, "identified_on": "2026-11-20",
        "source": "tksk"}, format="json")
    assert again.status_code == 400
    assert again.json()["errors"]["category"] == [
        "Keluarga ini sudah punya kasus Fakir Miskin yang masih terbuka (teridentifikasi "
        "15 November 2026, status Teridentifikasi); lanjutkan kasus itu."]
    assert pandeglang.get(f"/api/v1/pmks/cases/{case.pk}/").status_code == 404


def test_the_sync_upsert_and_a_prepared_save_move_the_case_with_the_kk(province_operator):
    """``household_upsert`` (the sync's upsert) and ``household_save`` (the admin's form)."""
    by_upsert = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    by_admin = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    first, second = (open_household_case(province_operator, h) for h in (by_upsert, by_admin))

    services.household_upsert(actor=province_operator, no_kk=by_upsert.no_kk,
                              desa_id=DESA_LEBAK)
    by_admin.desa_id = DESA_LEBAK
    services.household_save(actor=province_operator, household=by_admin, written=["desa"])

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.desa_id, second.desa_id) == (DESA_LEBAK, DESA_LEBAK)


def test_the_refusal_of_a_second_case_does_not_describe_one_outside_the_area(
        province_operator, lebak_operator, api_as):
    """A case recorded in Pandeglang for a KK now in Lebak (one moved before the rule, or
    by a write outside the services): Lebak may not see it, so the refusal says only that
    an open case of that category exists and whom to ask — not its date or status."""
    household = HouseholdFactory(desa_id=DESA_LEBAK)
    stale = CaseFactory(person=None, household=household, desa_id=DESA_PANDEGLANG,
                        category=Category.objects.get(slug=FAKIR_MISKIN),
                        identified_on=datetime.date(2026, 11, 15), status="terverifikasi")

    refused = api_as(lebak_operator).post("/api/v1/pmks/cases/", {
        "household": household.pk, "category": FAKIR_MISKIN, "identified_on": "2026-11-20",
        "source": "tksk"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"category": [
        "Keluarga ini sudah punya kasus Fakir Miskin yang masih terbuka, tercatat di luar "
        "wilayah Anda; hubungi Dinas Sosial Provinsi Banten untuk melanjutkan atau "
        "memindahkan kasus itu."]}
    # the province, which sees it, is told which one
    with pytest.raises(ValidationError) as told:
        open_household_case(province_operator, household)
    assert told.value.message_dict["category"] == [
        "Keluarga ini sudah punya kasus Fakir Miskin yang masih terbuka (teridentifikasi "
        "15 November 2026, status Terverifikasi); lanjutkan kasus itu."]
    # the admin's form asks the same rule for the same user
    admin = client_for(lebak_operator).post(reverse("admin:pmks_case_add"), {
        "household": household.pk, "category": Category.objects.get(slug=FAKIR_MISKIN).pk,
        "identified_on": "2026-11-20", "source": "tksk", **INLINES})
    assert admin.status_code == 200  # the form again, with the error
    page = admin.content.decode()
    assert "tercatat di luar wilayah Anda; hubungi Dinas Sosial Provinsi Banten" in page
    assert "15 November 2026" not in page
    assert Case.objects.filter(household=household).get() == stale
    # whom it names can set it right: a save of the KK brings its open case along
    saved = api_as(province_operator).patch(f"/api/v1/pmks/households/{household.pk}/",
                                            {"desa": DESA_LEBAK}, format="json")
    assert saved.status_code == 200, saved.content
    stale.refresh_from_db()
    assert stale.desa_id == DESA_LEBAK
    listed = api_as(lebak_operator).get("/api/v1/pmks/cases/", {"household": household.pk})
    assert [c["id"] for c in listed.json()["results"]] == [stale.pk]


# --- the import, both paths (the ``import_path`` fixture: rows; and COPY on PostgreSQL) ------

@pytest.fixture
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.usefixtures("import_path", "_media")
def test_the_import_moves_the_open_case_of_a_kk_it_moves(
        province_operator, pandeglang_operator, lebak_operator, api_as):
    assert run(province_operator, family_rows()).errors == []
    household = Household.objects.get(no_kk=KK_1)
    case = open_household_case(province_operator, household)
    other = HouseholdFactory(desa_id=DESA_PANDEGLANG)  # a KK the file does not name
    untouched = open_household_case(province_operator, other)
    pandeglang, lebak = api_as(pandeglang_operator), api_as(lebak_operator)
    p_cursor = pull(pandeglang, CASES)[1]
    l_cursor = pull(lebak, CASES)[1]

    batch = run(province_operator, [row(kode_desa=DESA_LEBAK)])

    assert batch.errors == []
    household.refresh_from_db()
    case.refresh_from_db()
    untouched.refresh_from_db()
    assert household.desa_id == DESA_LEBAK
    assert (case.desa_id, untouched.desa_id) == (DESA_LEBAK, DESA_PANDEGLANG)
    assert [(e["id"], e["change"]) for e in pull(pandeglang, CASES, p_cursor)[0]] == [
        (case.pk, "left_area")]
    assert [(e["id"], e["change"]) for e in pull(lebak, CASES, l_cursor)[0]] == [
        (case.pk, "upsert")]
    assert desa_moves(case) == [[DESA_PANDEGLANG, DESA_LEBAK]]


@pytest.mark.usefixtures("import_path", "_media")
def test_the_import_moves_the_services_of_the_case_it_moves(
        province_operator, pandeglang_operator, lebak_operator, api_as):
    """A service is read through its case (``case__desa``): when the import moves the case
    with its KK, the services feed tells Pandeglang the service left and gives it to Lebak —
    on the COPY path too, whose raw UPDATE of the case sends no save signal (review of 2
    December 2026: there the services stayed in Pandeglang's feed and never reached
    Lebak's). A service of a case the file does not move is not fed again."""
    assert run(province_operator, family_rows()).errors == []
    household = Household.objects.get(no_kk=KK_1)
    case = open_household_case(province_operator, household)
    first, second = ServiceFactory(case=case), ServiceFactory(case=case)
    other = ServiceFactory(case=open_household_case(
        province_operator, HouseholdFactory(desa_id=DESA_PANDEGLANG)))
    pandeglang, lebak = api_as(pandeglang_operator), api_as(lebak_operator)
    p_cursor = pull(pandeglang, SERVICES)[1]
    l_cursor = pull(lebak, SERVICES)[1]

    assert run(province_operator, [row(kode_desa=DESA_LEBAK)]).errors == []

    case.refresh_from_db()
    assert case.desa_id == DESA_LEBAK
    assert sorted((e["id"], e["change"]) for e in pull(pandeglang, SERVICES, p_cursor)[0]) == [
        (first.pk, "left_area"), (second.pk, "left_area")]
    assert sorted((e["id"], e["change"]) for e in pull(lebak, SERVICES, l_cursor)[0]) == [
        (first.pk, "upsert"), (second.pk, "upsert")]
    # Lebak reads them now, Pandeglang no longer; the unmoved case's service stays where it was
    assert lebak.get(f"/api/v1/pmks/services/{first.pk}/").status_code == 200
    assert pandeglang.get(f"/api/v1/pmks/services/{first.pk}/").status_code == 404
    assert pandeglang.get(f"/api/v1/pmks/services/{other.pk}/").status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL (the COPY path; runs in the PostgreSQL pass)")
@pytest.mark.usefixtures("_media")
def test_the_copy_path_moves_the_cases_with_no_query_per_household(province_operator,
                                                                   monkeypatch):
    """The COPY path moves the chunk's household cases, and feeds their services again, in
    a fixed number of statements: a file that moves 6 KK with an open case each (two
    services a case) costs the queries of one that moves 2."""
    monkeypatch.setattr(pmks_importing, "PATH", "copy")

    def households(n: int, desa: str) -> list[dict]:
        return [row(no_kk=build_no_kk("36.01.01", datetime.date(2016, 4, 12), 100 + i),
                    nik=build_nik("36.01.01", datetime.date(1980, 8, 17), "L", 100 + i),
                    alamat=f"Kp. {i}", kode_desa=desa) for i in range(n)]

    counts = []
    for n in (2, 6):
        with transaction.atomic():
            assert run(province_operator, households(n, DESA_PANDEGLANG)).errors == []
            cases = [open_household_case(province_operator, h) for h in Household.objects.all()]
            fed = [ServiceFactory(case=c) for c in cases for _ in range(2)]
            with CaptureQueriesContext(connection) as queries:
                assert run(province_operator, households(n, DESA_LEBAK)).errors == []
            counts.append(len(queries))
            assert set(Case.objects.filter(pk__in=[c.pk for c in cases])
                       .values_list("desa_id", flat=True)) == {DESA_LEBAK}
            assert set(Change.objects.filter(
                resource="pmks.service", kind="upsert",
                object_id__in=[s.pk for s in fed]).values_list("area", flat=True)) == {
                DESA_LEBAK}
            transaction.set_rollback(True)
    fewer, more = counts
    assert more - fewer <= 1  # (the COPY path may ANALYZE once more as the registry grows)
