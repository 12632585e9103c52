"""A re-import skips the rows it wrote before (issue #11, re-import): each person and household
the COPY path writes keeps the fingerprint of the row's cells with its ``updated_at``
(``pmks.staging._fingerprint``); a row whose records still hold it is staged from them, not
read, matched and compared again. These tests hold that short way to the answers of the row
path, which has no fingerprints: the in-file rules in both directions, another district, a
record someone changed since, records imported before fingerprints existed."""

import datetime
import io

import pytest
from django.db import connection, transaction

from dinsos import names
from dinsos.models import Change
from pmks import importing, services, staging
from pmks.models import Household, Person
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.pmks.test_import import csv_bytes, row
from tests.pmks.test_import_paths import D1, D2, D3, nik, snapshot

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (the COPY path; runs in the PostgreSQL pass)"),
]

@pytest.fixture(autouse=True)
def _row_by_row(monkeypatch):
    """These tests are about the rows the COPY path stages from their records; a file all of
    whose rows are unchanged is answered before that, at once (``staging.unchanged_file``,
    its own tests in ``test_import_unchanged_file.py``): here it never is."""
    monkeypatch.setattr(staging, "unchanged_file", lambda *args, **kwargs: None)


KK = {name: f"36010112041600{serial}" for name, serial in
      (("A", 21), ("B", 22), ("C", 23), ("D", 24), ("E", 25))}
AHMAD = row(no_kk=KK["A"], nik=nik(D1, "L", 1), nama="Ahmad Kepala", tanggal_lahir="1980-08-17")
ANI = row(no_kk=KK["A"], nik=nik(D2, "P", 2), nama="Ani", tanggal_lahir="1985-03-19",
          jenis_kelamin="P", hubungan="pasangan")
NENG = row(no_kk=KK["B"], alamat="Kp. B", nik=nik(D3, "P", 5), nama="Neng",
           tanggal_lahir="2010-02-01", jenis_kelamin="P")
UJANG = row(no_kk=KK["B"], alamat="Kp. B", nik=nik(D3, "L", 6), nama="Ujang",
            tanggal_lahir="2010-02-01", hubungan="anak")
DEDI = row(no_kk=KK["D"], alamat="Kp. D", nik=nik(D1, "L", 7), nama="Dedi",
           tanggal_lahir="1980-08-17")
FIRST = [AHMAD, ANI, NENG, UJANG, DEDI]
NOTHING = {"rejected": 0, "keluarga_baru": 0, "keluarga_diubah": 0, "orang_baru": 0,
           "orang_diubah": 0}
#: every in-file rule between a row that is unchanged (staged from its records) and one that is
#: not, in both orders (row numbers: the header is row 1)
SECOND = [
    {**DEDI, "no_kk": KK["E"], "alamat": "Kp. E"},  # 2: Dedi moves to a new No. KK
    ANI,                                            # 3: unchanged
    {**AHMAD, "alamat": "Alamat lain"},             # 4: differs from row 3 (same No. KK)
    {**NENG, "alamat": "Kp. B baru"},               # 5: the household changes
    UJANG,                                          # 6: unchanged, but differs from row 5
    ANI,                                            # 7: unchanged, NIK of row 3 again
    {**ANI, "no_kk": KK["C"], "alamat": "Kp. C"},   # 8: NIK of row 3, another No. KK
    DEDI,                                           # 9: unchanged, NIK of row 2
]


def counted(monkeypatch) -> list[int]:
    """From now on, each COPY-path import appends how many rows took a short way: staged from
    their records, or left out by the whole-file check (``staging.unchanged_file``)."""
    seen, left = [], []
    close, check = staging.Stage.close, staging.unchanged_file

    def checked(*args, **kwargs):
        found = check(*args, **kwargs)
        left.append(found.skipped if found is not None else 0)
        if found is not None and found.read is None:  # answered whole: no staging table
            seen.append(found.skipped)
        return found

    monkeypatch.setattr(staging, "unchanged_file", checked)
    monkeypatch.setattr(staging.Stage, "close",
                        lambda stage, **kwargs: seen.append(stage.same + left[-1])
                        or close(stage, **kwargs))
    return seen


def import_rows(actor, rows, **kwargs):
    return importing.households_import(actor=actor, fileobj=io.BytesIO(csv_bytes(rows)),
                                       filename="keluarga.csv", dry_run=False, **kwargs)


def imported(path, monkeypatch, steps, *, chunk_size=None):
    """``steps``: [(actor, rows)] imported in turn on ``path``, rolled back after: the last
    report, the stored state, and how many rows the last import staged from their records."""
    monkeypatch.setattr(importing, "PATH", path)
    seen = counted(monkeypatch)
    with transaction.atomic():
        for actor, rows in steps:
            report = import_rows(actor, rows, chunk_size=chunk_size)
        state = snapshot()
        transaction.set_rollback(True)
    return report, state, seen[-1] if path == "copy" else None


def assert_same_answers(rows, copy):
    assert copy[0].errors == rows[0].errors
    assert copy[0].totals() == rows[0].totals()
    for part in ("households", "persons", "changes"):
        assert copy[1][part] == rows[1][part]


@pytest.mark.parametrize("chunk_size", [None, 1, 2])
def test_unchanged_rows_still_meet_the_in_file_rules_in_both_directions(
        pandeglang_operator, monkeypatch, chunk_size):
    steps = [(pandeglang_operator, FIRST), (pandeglang_operator, SECOND)]
    rows = imported("rows", monkeypatch, steps, chunk_size=chunk_size)
    copy = imported("copy", monkeypatch, steps, chunk_size=chunk_size)
    assert_same_answers(rows, copy)
    assert [(e["row"], e["column"]) for e in rows[0].errors] == [
        (4, "alamat"), (6, "alamat"), (7, "nik"), (8, "nik"), (9, "nik")]
    if chunk_size is None:  # one chunk: rows 3, 6, 7 and 9 took the short way
        assert copy[2] == 4


def test_a_re_import_of_the_same_file_stages_every_row_from_its_records(
        pandeglang_operator, monkeypatch):
    steps = [(pandeglang_operator, FIRST)] * 2
    rows = imported("rows", monkeypatch, steps)
    copy = imported("copy", monkeypatch, steps)
    assert_same_answers(rows, copy)
    assert copy[0].totals() == {**NOTHING, "rows": 5, "accepted": 5, "keluarga_tetap": 3,
                                "orang_tetap": 5}
    assert copy[2] == 5


def test_another_district_does_not_take_the_short_way(
        pandeglang_operator, lebak_operator, monkeypatch):
    steps = [(pandeglang_operator, FIRST), (lebak_operator, FIRST)]
    rows = imported("rows", monkeypatch, steps)
    copy = imported("copy", monkeypatch, steps)
    assert_same_answers(rows, copy)
    assert copy[0].totals()["rejected"] == 5 and copy[2] == 0


def test_a_record_changed_since_is_read_again_and_set_back(pandeglang_operator, monkeypatch):
    """An officer's edit moves the record's ``updated_at``: its fingerprint no longer holds, so
    the row is read again and the file's values are written back, as on the row path."""
    monkeypatch.setattr(importing, "PATH", "copy")
    seen = counted(monkeypatch)

    def run():
        return import_rows(pandeglang_operator, FIRST).totals(), seen[-1]

    run()
    ani = Person.objects.get(nik=ANI["nik"])
    services.person_update(actor=pandeglang_operator, person=ani, occupation="Guru")
    household = Household.objects.get(no_kk=KK["B"])
    services.household_update(actor=pandeglang_operator, household=household, rt="009")
    totals, same = run()
    assert totals["orang_diubah"] == 1 and totals["keluarga_diubah"] == 1
    assert same == 2  # Ahmad and Dedi; Ani changed, Neng and Ujang's household changed
    assert Person.objects.get(nik=ANI["nik"]).occupation == "Buruh tani"
    assert Household.objects.get(no_kk=KK["B"]).rt == "001"
    assert run()[1] == 5  # written back by the import: the short way again


def test_records_registered_before_get_their_fingerprint_without_a_new_version(
        pandeglang_operator, monkeypatch):
    """A registry imported before fingerprints (or entered by hand) is read the long way
    once; each unchanged record then gets its fingerprint, and neither its version
    (``updated_at``) nor the sync change log moves."""
    monkeypatch.setattr(importing, "PATH", "copy")
    household = HouseholdFactory(no_kk=KK["A"], desa_id=DESA_PANDEGLANG, address="Kp. Sumur RT 01",
                                 rt="001", rw="002", decile=1, floor="tanah", wall="bambu",
                                 water_source="sumur_terlindung", lighting="pln_450",
                                 cooking_fuel="kayu", toilet="bersama")
    person = PersonFactory(nik=AHMAD["nik"], name="Ahmad Kepala",
                           name_key=names.name_key("Ahmad Kepala"), birth_date=D1, sex="L",
                           birth_place="Pandeglang", relationship="kepala", disability="tidak",
                           schooling="sd", occupation="Buruh tani", desa_id=DESA_PANDEGLANG,
                           household=household)
    household.head = person
    household.save()
    versions = (Person.objects.get().updated_at, Household.objects.get().updated_at)
    fed = Change.objects.count()
    seen = counted(monkeypatch)

    def run():
        return import_rows(pandeglang_operator, [AHMAD]).totals(), seen[-1]

    assert run() == ({**NOTHING, "rows": 1, "accepted": 1, "keluarga_tetap": 1,
                      "orang_tetap": 1}, 0)
    assert (Person.objects.get().updated_at, Household.objects.get().updated_at) == versions
    assert Change.objects.count() == fed
    assert Person.objects.get().import_digest and Household.objects.get().import_digest
    assert run()[1] == 1


def test_a_row_read_by_python_leaves_no_fingerprint(pandeglang_operator, monkeypatch):
    """Only the fast lane fingerprints a row (its cells as they are in the file); a row in
    another form is read by the Python parsers every time."""
    monkeypatch.setattr(importing, "PATH", "copy")
    seen = counted(monkeypatch)
    day_first = {**AHMAD, "tanggal_lahir": "17 Agustus 1980"}
    for _ in range(2):
        assert import_rows(pandeglang_operator, [day_first]).totals()["accepted"] == 1
    assert seen == [0, 0]
    assert Person.objects.get().import_digest is None


def test_a_write_in_the_same_second_breaks_the_fingerprint(pandeglang_operator, monkeypatch):
    """The fingerprint reads the record's ``updated_at`` to the microsecond."""
    monkeypatch.setattr(importing, "PATH", "copy")
    seen = counted(monkeypatch)
    import_rows(pandeglang_operator, [AHMAD])
    person = Person.objects.get()
    Person.objects.filter(pk=person.pk).update(
        updated_at=person.updated_at + datetime.timedelta(microseconds=1))
    import_rows(pandeglang_operator, [AHMAD])
    import_rows(pandeglang_operator, [AHMAD])
    assert seen == [0, 0, 1]


def test_the_reader_thread_hands_the_gil_back_quickly_and_the_interval_is_restored(
        pandeglang_operator, monkeypatch):
    """While the reader thread prepares the next chunk, each statement's return waits for the
    GIL: the import shortens Python's switch interval for its duration only, even when the
    import fails."""
    import sys

    monkeypatch.setattr(importing, "PATH", "copy")
    before = sys.getswitchinterval()
    during = []
    write = staging.Stage.write
    monkeypatch.setattr(staging.Stage, "write",
                        lambda stage: during.append(sys.getswitchinterval()) or write(stage))
    import_rows(pandeglang_operator, [AHMAD])
    assert during == [importing.READER_SWITCH_INTERVAL] and sys.getswitchinterval() == before

    def fail(stage):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(staging.Stage, "write", fail)
    with pytest.raises(RuntimeError):
        import_rows(pandeglang_operator, [AHMAD])
    assert sys.getswitchinterval() == before


def test_overlapping_imports_restore_the_interval_when_the_last_one_ends():
    """A thread-pool worker may run two imports at once: the second must not take the first's
    short interval for the one to restore (a plain save and restore left it short for good)."""
    import sys

    before = sys.getswitchinterval()
    first, second = importing._short_switch_interval(), importing._short_switch_interval()
    first.__enter__()
    second.__enter__()
    assert sys.getswitchinterval() == importing.READER_SWITCH_INTERVAL
    first.__exit__(None, None, None)  # the first ends while the second still reads
    assert sys.getswitchinterval() == importing.READER_SWITCH_INTERVAL
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before


def test_two_cells_that_trade_places_are_a_change(pandeglang_operator, monkeypatch):
    """A fingerprint is one hash per cell, seeded with its place: cells that trade places (RT
    and RW of the household, birth place and occupation of the person) are a changed row, as
    on the row path, never staged as unchanged."""
    before = {**AHMAD, "rt": "001", "rw": "002", "tempat_lahir": "Pandeglang",
              "pekerjaan": "Petani"}
    after = {**before, "rt": "002", "rw": "001", "tempat_lahir": "Petani",
             "pekerjaan": "Pandeglang"}
    steps = [(pandeglang_operator, [before]), (pandeglang_operator, [after])]
    rows = imported("rows", monkeypatch, steps)
    copy = imported("copy", monkeypatch, steps)
    assert_same_answers(rows, copy)
    assert copy[0].totals() == {**NOTHING, "rows": 1, "accepted": 1, "keluarga_diubah": 1,
                                "orang_diubah": 1}
    assert copy[2] == 0
