"""Review of 8713b93 / 49fcabe: the two lanes of the PMKS import (row by row and COPY +
set-based SQL) must give the same errors, totals and stored records — here for files that
leave out optional columns and rows without NIK that find a registered person with a NIK."""

import datetime
import io

import pytest
from django.db import connection, transaction

from dinsos.validators import build_nik, build_no_kk
from pmks import importing
from pmks.models import Household, Person
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.pmks.test_import import HEADER, csv_bytes, row

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (compares the COPY lane with the row lane)"),
]

KK_A = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 21)
KK_B = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 22)
D1, D2 = datetime.date(1980, 8, 17), datetime.date(1985, 3, 19)
NIK_BUDI = build_nik("36.01.01", D1, "L", 31)
NIK_SITI = build_nik("36.01.01", D2, "P", 32)
NIK_JOKO = build_nik("36.01.01", D1, "L", 33)


def persons() -> list:
    return sorted((p.nik or "", p.name, p.sex, p.relationship, p.occupation, p.schooling,
                   p.household.no_kk if p.household else None, p.life_status)
                  for p in Person.objects.select_related("household"))


def changed() -> list:
    """The sync change log by natural keys."""
    from dinsos.models import Change

    names = {("pmks.person", p.pk): p.nik or p.name for p in Person.objects.all()}
    names |= {("pmks.household", h.pk): h.no_kk for h in Household.objects.all()}
    return sorted((c.resource, c.kind, str(names.get((c.resource, c.object_id))), c.area)
                  for c in Change.objects.all())


def households() -> list:
    return sorted((h.no_kk, h.address, h.head.name if h.head else None)
                  for h in Household.objects.select_related("head"))


def through(path, actor, monkeypatch, data: bytes, *, chunk_size=None, before=None):
    """Import ``data`` on ``path`` and roll back: (errors, totals, persons, households)."""
    monkeypatch.setattr(importing, "PATH", path)
    with transaction.atomic():
        if before:
            before()
        report = importing.households_import(actor=actor, fileobj=io.BytesIO(data),
                                             filename="keluarga.csv", dry_run=False,
                                             chunk_size=chunk_size)
        state = (report.errors, report.totals(), persons(), households())
        transaction.set_rollback(True)
    return state


@pytest.fixture
def family():
    """KK_A: Budi (kepala, NIK, head), Siti (pasangan, NIK)."""
    home = HouseholdFactory(no_kk=KK_A, desa_id=DESA_PANDEGLANG, address="Kp. Sumur RT 01")
    budi = PersonFactory(nik=NIK_BUDI, name="Budi Santoso", name_key="budisantoso",
                         birth_date=D1, sex="L", household=home, relationship="kepala",
                         occupation="Buruh tani")
    home.head = budi
    home.save()
    PersonFactory(nik=NIK_SITI, name="Siti Aminah", name_key="sitiaminah", birth_date=D2,
                  sex="P", household=home, relationship="pasangan", occupation="")
    return home


def kk_a(**values):
    return row(no_kk=KK_A, **values)


@pytest.mark.parametrize("nik_row_first", [True, False])
@pytest.mark.parametrize("chunk_size", [None, 1])
def test_a_nik_row_and_a_nik_less_row_of_one_person_give_the_same_answer_on_both_lanes(
        family, pandeglang_operator, monkeypatch, nik_row_first, chunk_size):
    """Two rows of one file name the same registered person: one by her NIK, one without NIK
    (her name and birth date in her household, which since 49fcabe finds her although she
    has a NIK). Expected: both lanes give the same errors, totals and stored person (and no
    error on PostgreSQL). Ideally the second row is refused as the person named twice, like a
    NIK twice."""
    with_nik = kk_a(nik=NIK_SITI, nama="Siti Aminah", tanggal_lahir="1985-03-19",
                    jenis_kelamin="P", hubungan="pasangan", pekerjaan="Pedagang")
    without = kk_a(nik="", nama="Siti Aminah", tanggal_lahir="1985-03-19", jenis_kelamin="P",
                   hubungan="pasangan", pekerjaan="Penjahit")
    data = csv_bytes([with_nik, without] if nik_row_first else [without, with_nik])
    rows = through("rows", pandeglang_operator, monkeypatch, data, chunk_size=chunk_size)
    copy = through("copy", pandeglang_operator, monkeypatch, data, chunk_size=chunk_size)
    assert copy[0] == rows[0]  # errors
    assert copy[1] == rows[1]  # totals
    assert copy[2] == rows[2]  # persons


def test_a_file_without_hubungan_moving_a_kepala_into_a_household_with_a_kepala(
        family, pandeglang_operator, monkeypatch):
    """A file without the ``hubungan`` column moves Budi (kepala of KK_A, so he stays
    'kepala': the column is absent) into KK_B, whose living kepala Joko the file does not
    touch. Expected: both lanes give the same answer, and KK_B never ends with two living
    kepala (one kepala per Kartu Keluarga)."""
    other = HouseholdFactory(no_kk=KK_B, desa_id=DESA_PANDEGLANG, address="Kp. B")
    joko = PersonFactory(nik=NIK_JOKO, name="Joko", name_key="joko", birth_date=D1, sex="L",
                         household=other, relationship="kepala")
    other.head = joko
    other.save()
    header = [c for c in HEADER if c != "hubungan"]
    data = csv_bytes([row(no_kk=KK_B, alamat="Kp. B", nik=NIK_BUDI, nama="Budi Santoso",
                          tanggal_lahir="1980-08-17", pekerjaan="Buruh tani")], header=header)
    rows = through("rows", pandeglang_operator, monkeypatch, data)
    copy = through("copy", pandeglang_operator, monkeypatch, data)
    for _errors, _totals, stored, _households in (rows, copy):
        kepala_of_b = [p for p in stored if p[6] == KK_B and p[3] == "kepala"]
        assert len(kepala_of_b) == 1, kepala_of_b
    assert copy[0] == rows[0]
    assert copy[2] == rows[2]


def test_a_re_import_finds_the_member_with_nik_on_the_whole_file_check_too(
        pandeglang_operator, monkeypatch):
    """Since 49fcabe a row without NIK finds the LAST registered member of its household with
    its name key and birth date, with a NIK or not (``_by_name``, ``_match_persons``). The
    whole-file re-import check (``staging.unchanged_file``) still looks only at members
    without NIK: a file whose NIK-less row was written into Ani (no NIK), re-imported after
    Ani's namesake with a NIK was registered in the household, is answered 'nothing changed'
    on the COPY lane while the row lane updates the member it finds. Expected: both lanes
    give the same totals and stored persons."""
    monkeypatch.setattr(importing, "PATH", "copy")
    data = csv_bytes([
        kk_a(nik=NIK_BUDI, nama="Budi Santoso", tanggal_lahir="1980-08-17"),
        kk_a(nik="", nama="Ani", tanggal_lahir="2005-01-01", jenis_kelamin="P",
             hubungan="anak", pekerjaan="Pelajar", pendidikan="sma"),
    ])
    importing.households_import(actor=pandeglang_operator, fileobj=io.BytesIO(data),
                                filename="keluarga.csv", dry_run=False)
    ani = Person.objects.get(name="Ani")
    assert ani.nik is None and ani.import_digest is not None

    def namesake():  # registered later, with a NIK, in the same household
        PersonFactory(nik=build_nik("36.01.01", datetime.date(2005, 1, 1), "P", 34),
                      name="Ani", name_key=ani.name_key, birth_date=ani.birth_date, sex="P",
                      household=ani.household, relationship="famili", occupation="",
                      schooling="", desa_id=ani.desa_id)

    rows = through("rows", pandeglang_operator, monkeypatch, data, before=namesake)
    copy = through("copy", pandeglang_operator, monkeypatch, data, before=namesake)
    assert copy[1] == rows[1]  # totals: rows says orang_diubah 1
    assert copy[2] == rows[2]


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("chunk_size", [None, 1, 2])
@pytest.mark.parametrize("left_out", [("rt", "lantai", "desil"), ("hubungan", "pekerjaan"),
                                      ("disabilitas", "tempat_lahir", "rt", "nik")])
def test_files_without_columns_give_the_same_answer_on_both_lanes(
        family, pandeglang_operator, monkeypatch, dry_run, chunk_size, left_out):
    """(Checked, passes) a file without some optional columns, over stored and new
    households, on both lanes, in chunks and in a dry run: the same errors, totals, records."""
    header = [c for c in HEADER if c not in left_out]
    data = csv_bytes([
        kk_a(nik=NIK_BUDI, nama="Budi Santoso", tanggal_lahir="1980-08-17", rt="009"),
        kk_a(nik=NIK_SITI, nama="Siti Aminah", tanggal_lahir="1985-03-19", jenis_kelamin="P",
             hubungan="pasangan", lantai="keramik"),  # differs from row 2 where lantai is read
        kk_a(nik="", nama="Anak Baru", tanggal_lahir="2010-01-01", hubungan="anak"),
        row(no_kk=KK_B, alamat="Kp. B", nik="", nama="Kepala B", tanggal_lahir="1970-01-01"),
        row(no_kk=KK_B, alamat="Kp. B", nik="", nama="Kepala B2", tanggal_lahir="1971-01-01"),
    ], header=header)

    def state(path):
        monkeypatch.setattr(importing, "PATH", path)
        with transaction.atomic():
            report = importing.households_import(
                actor=pandeglang_operator, fileobj=io.BytesIO(data), filename="k.csv",
                dry_run=dry_run, chunk_size=chunk_size)
            full = (report.errors, report.totals(), persons(), sorted(
                (h.no_kk, h.address, h.rt, h.rw, h.decile, h.floor, h.head and h.head.name)
                for h in Household.objects.select_related("head")), changed())
            transaction.set_rollback(True)
        return full

    rows, copy = state("rows"), state("copy")
    assert copy == rows


def test_a_re_import_without_hubungan_of_a_household_with_two_recorded_kepala(
        family, pandeglang_operator, monkeypatch):
    """A household recorded with two living kepala before the one-kepala rule (``Person.
    check_one_kepala`` keeps such records editable): Budi (its head) and Dedi. A file
    without the ``hubungan`` column names both; it sets no relationship, so the row lane
    accepts both rows every time. The COPY lane accepts them the first time, but on the
    re-import of the same file both rows are 'same' (``_same_sql`` stages the STORED
    relationship, 'kepala') and the in-file rule refuses Dedi's row as a second kepala.
    Expected: the second import answers as the first, and as the row lane (no error)."""
    home = family
    PersonFactory(nik=build_nik("36.01.01", D1, "L", 35), name="Dedi", name_key="dedi",
                  birth_date=D1, sex="L", household=home, relationship="kepala")
    header = [c for c in HEADER if c != "hubungan"]
    data = csv_bytes([
        kk_a(nik=NIK_BUDI, nama="Budi Santoso", tanggal_lahir="1980-08-17"),
        kk_a(nik=build_nik("36.01.01", D1, "L", 35), nama="Dedi", tanggal_lahir="1980-08-17"),
    ], header=header)

    def twice(path):
        monkeypatch.setattr(importing, "PATH", path)
        with transaction.atomic():
            answers = [importing.households_import(
                actor=pandeglang_operator, fileobj=io.BytesIO(data), filename="k.csv",
                dry_run=False).errors for _ in range(2)]
            transaction.set_rollback(True)
        return answers

    rows, copy = twice("rows"), twice("copy")
    assert rows == [[], []]
    assert copy == rows
