"""The PMKS import applies exactly the services' rules (issue #9 point 9): the same rows are
refused by both, and the rules that follow a saved person — a head who moves to another No. KK
is no longer head of the old household, open cases follow their person — hold for both."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from dinsos import importing
from pmks import services
from pmks.models import Case, Household, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG
from tests.pmks.factories import CaseFactory
from tests.pmks.test_import import KK_1, KK_3, NIK_HEAD, csv_bytes, family_rows, row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]

LEBAK_KK = "3602011204160009"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def run(actor, rows):
    batch = importing.import_submit(actor=actor, kind="pmks_keluarga",
                                    upload=SimpleUploadedFile("a.csv", csv_bytes(rows)),
                                    dry_run=False, run_now=True)
    batch.refresh_from_db()
    return batch


def with_services(actor, values: dict) -> None:
    """What the API does for one row: the household by No. KK, then the person by NIK."""
    household = Household.objects.filter(no_kk=values["no_kk"]).first()
    fields = {"address": values["alamat"], "desa_id": values["kode_desa"]}
    if household is None:
        household = services.household_create(actor=actor, no_kk=values["no_kk"], **fields)
    else:
        household = services.household_update(actor=actor, household=household, **fields)
    born = datetime.date.fromisoformat(values["tanggal_lahir"])
    services.person_upsert(actor=actor, nik=values["nik"], name=values["nama"],
                           birth_date=born, sex=values["jenis_kelamin"], household=household,
                           relationship=values["hubungan"], desa_id=values["kode_desa"])


def test_a_head_who_moves_to_a_new_no_kk_is_no_longer_head_of_the_old_household(
        pandeglang_operator):
    run(pandeglang_operator, family_rows())
    assert Household.objects.get(no_kk=KK_1).head.nik == NIK_HEAD

    batch = run(pandeglang_operator, [row(no_kk=KK_3, alamat="Kp. Baru")])

    assert batch.errors == []
    old, new = Household.objects.get(no_kk=KK_1), Household.objects.get(no_kk=KK_3)
    assert old.head_id is None  # not a non-member; the household can be edited again
    old.full_clean()
    assert new.head.nik == NIK_HEAD
    assert Person.objects.get(nik=NIK_HEAD).household == new


def test_an_open_case_follows_its_person_moved_to_another_district(province_operator):
    run(province_operator, family_rows())
    person = Person.objects.get(nik=NIK_HEAD)
    case = CaseFactory(person=person)
    closed = CaseFactory(person=person, status="ditutup", close_reason="lainnya")
    assert case.desa_id == DESA_PANDEGLANG

    batch = run(province_operator, [row(no_kk=LEBAK_KK, kode_desa=DESA_LEBAK)])

    assert batch.errors == []
    case.refresh_from_db()
    closed.refresh_from_db()
    assert case.desa_id == DESA_LEBAK  # the district that now serves the person sees the case
    assert closed.desa_id == DESA_PANDEGLANG  # history stays where it happened


SCENARIOS = [
    # (what, actor, row)
    ("head moves to a new No. KK", "pandeglang", row(no_kk=KK_3, alamat="Kp. Baru")),
    ("person with an open case moves to Lebak", "province",
     row(no_kk=LEBAK_KK, kode_desa=DESA_LEBAK, hubungan="famili")),
    ("second kepala of a stored No. KK", "pandeglang",
     row(nik="3601011708800099", nama="Kepala Kedua")),
    ("district operator moves a person to Lebak", "pandeglang",
     row(no_kk=LEBAK_KK, kode_desa=DESA_LEBAK)),
    ("NIK of another district", "pandeglang", row(no_kk=KK_3, nik="3602011708800001")),
    ("NIK disagrees with the birth date", "pandeglang", row(no_kk=KK_3, nik="3601011808800012")),
    ("invalid No. KK", "pandeglang", row(no_kk="3601011204160000", nik="3601011708800077")),
    ("unknown desa", "pandeglang", row(no_kk=KK_3, kode_desa="36.01.01.2999")),
    ("a new person", "pandeglang", row(no_kk=KK_3, nik="3601011708800099")),
]


def outcome(refused: bool) -> dict:
    return {
        "refused": refused,
        "heads": sorted(Household.objects.values_list("no_kk", "head__nik"), key=str),
        "members": sorted(Person.objects.values_list("nik", "household__no_kk", "desa_id"),
                          key=str),
        "open cases": sorted(Case.objects.filter(status="teridentifikasi")
                             .values_list("person__nik", "desa_id"), key=str),
    }


def test_the_import_and_the_services_refuse_and_handle_the_same_rows(
        pandeglang_operator, province_operator, lebak_operator):
    actors = {"pandeglang": pandeglang_operator, "province": province_operator}
    run(lebak_operator, [row(no_kk=LEBAK_KK, nik="3602011708800002", kode_desa=DESA_LEBAK,
                             nama="Orang Lebak", tanggal_lahir="1980-08-17"),
                         row(no_kk="3602011204160008", nik="3602011708800001",
                             kode_desa=DESA_LEBAK, nama="Orang Lebak Lain")])
    run(pandeglang_operator, family_rows())
    CaseFactory(person=Person.objects.get(nik=NIK_HEAD))
    disagreements = {}
    for what, actor, values in SCENARIOS:
        with transaction.atomic():
            refused = False
            try:
                with transaction.atomic():
                    with_services(actors[actor], {**values, "tanggal_lahir": "1980-08-17"})
            except (ValidationError, PermissionDenied):
                refused = True
            by_services = outcome(refused)
            transaction.set_rollback(True)
        with transaction.atomic():
            batch = run(actors[actor], [values])
            by_import = outcome(batch.totals["rejected"] == 1)
            transaction.set_rollback(True)
        if by_services != by_import:
            disagreements[what] = (by_services, by_import)
        assert by_services["refused"] is what.startswith(("district", "NIK", "invalid", "unknown",
                                                         "second kepala"))
    assert disagreements == {}
