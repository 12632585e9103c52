"""Review of 49fcabe: a row without NIK now finds a registered member WITH a NIK (by
household, name key and birth date) and updates him. What a row carrying that NIK may not do,
the NIK-less row must not do either. Runs on both lanes (``import_path``)."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError

from dinsos.validators import build_nik, build_no_kk, validate_nik_matches
from pmks.importing import households_import
from pmks.models import Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.pmks.test_import import csv_bytes, row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]

KK_A = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 41)
D2 = datetime.date(1985, 3, 19)


def run(actor, rows):
    return households_import(actor=actor, fileobj=io.BytesIO(csv_bytes(rows)),
                             filename="keluarga.csv", dry_run=False)


def test_a_row_without_nik_cannot_update_a_member_registered_in_another_district(
        pandeglang_operator):
    """Siti has a NIK and lives (desa) in Lebak, as a member of a Pandeglang household. A
    row carrying her NIK from a Pandeglang operator is refused ('sudah terdaftar': another
    district's NIK) and a Pandeglang operator cannot edit her (``person_update`` checks her
    desa). A row WITHOUT her NIK, with her name and birth date, now finds her (49fcabe) and
    rewrites her — occupation, and her desa moved into the operator's area. Expected: the
    row is refused as the NIK row is, and Siti is unchanged."""
    home = HouseholdFactory(no_kk=KK_A, desa_id=DESA_PANDEGLANG)
    siti = PersonFactory(nik=build_nik("36.02.01", D2, "P", 51), name="Siti Aminah",
                         name_key="sitiaminah", birth_date=D2, sex="P", household=home,
                         relationship="pasangan", desa_id=DESA_LEBAK, occupation="Guru")
    with_nik = row(no_kk=KK_A, nik=siti.nik, nama="Siti Aminah", tanggal_lahir="1985-03-19",
                   jenis_kelamin="P", hubungan="pasangan", pekerjaan="Pedagang")
    report = run(pandeglang_operator, [with_nik])
    assert [e["column"] for e in report.errors] == ["nik"]  # as it should be

    report = run(pandeglang_operator, [{**with_nik, "nik": ""}])

    siti.refresh_from_db()
    assert (siti.desa_id, siti.occupation) == (DESA_LEBAK, "Guru")
    assert report.errors, "the NIK-less row was accepted"


def test_a_row_without_nik_cannot_give_a_member_a_sex_his_nik_contradicts(pandeglang_operator):
    """Siti's NIK says a woman (day of birth + 40). A row carrying her NIK with sex L is
    refused ('NIK tidak sesuai jenis kelamin'). The same row without NIK now finds her by name
    and birth date (49fcabe) and stores sex L beside her woman's NIK: a record
    ``Person.clean`` (validate_nik_matches) refuses. Expected: the row is refused (or the sex
    left as the NIK says); the stored person always agrees with her NIK."""
    home = HouseholdFactory(no_kk=KK_A, desa_id=DESA_PANDEGLANG)
    siti = PersonFactory(nik=build_nik("36.01.01", D2, "P", 52), name="Siti Aminah",
                         name_key="sitiaminah", birth_date=D2, sex="P", household=home,
                         relationship="pasangan")
    with_nik = row(no_kk=KK_A, nik=siti.nik, nama="Siti Aminah", tanggal_lahir="1985-03-19",
                   jenis_kelamin="L", hubungan="pasangan")
    assert [e["column"] for e in run(pandeglang_operator, [with_nik]).errors] == ["nik"]

    run(pandeglang_operator, [{**with_nik, "nik": ""}])

    siti.refresh_from_db()
    try:
        validate_nik_matches(siti.nik, birth_date=siti.birth_date, sex=siti.sex)
    except ValidationError as exc:
        pytest.fail(f"stored NIK {siti.nik} with sex {siti.sex}: {exc.messages}")


def test_a_nik_row_and_a_nik_less_row_of_one_new_person_give_one_answer_whatever_the_chunks(
        pandeglang_operator, import_path):
    """Row 2 registers Ani with her NIK; row 3, without NIK, names her again (same No. KK,
    name, birth date). Whether row 3 finds her depends on where the chunk ends: in one chunk
    she is not stored yet and row 3 adds a second Ani without NIK; with ``chunk_size=1`` row 3
    finds the Ani row 2 wrote (49fcabe) and overwrites her. Expected: the same persons
    whatever the chunk size (ideally row 3 refused as the person named twice)."""
    ani_nik = build_nik("36.01.01", datetime.date(2005, 1, 1), "P", 53)
    rows = [row(no_kk=KK_A, nik=ani_nik, nama="Ani", tanggal_lahir="2005-01-01",
                jenis_kelamin="P", hubungan="anak", pekerjaan="Pelajar"),
            row(no_kk=KK_A, nik="", nama="Ani", tanggal_lahir="2005-01-01",
                jenis_kelamin="P", hubungan="anak", pekerjaan="Penjahit")]
    from django.db import transaction

    results = []
    for chunk_size in (None, 1):
        with transaction.atomic():
            households_import(actor=pandeglang_operator,
                              fileobj=io.BytesIO(csv_bytes(rows)), filename="k.csv",
                              dry_run=False, chunk_size=chunk_size)
            results.append(sorted((p.nik or "", p.name, p.occupation)
                                  for p in Person.objects.all()))
            transaction.set_rollback(True)
    assert results[0] == results[1]
