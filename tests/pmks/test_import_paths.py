"""The two paths of the PMKS import give the same answer (issue #11): row by row (SQLite, and
the reference) and COPY into a staging table + set-based SQL (PostgreSQL). One file with every
rule at once — rows that fail the row checks, a No. KK whose later row differs, a NIK twice,
another district's No. KK and NIK, a dissimilar name under a stored NIK (held), a name that
differs only in case, a person without NIK found again, a head who moved — goes through both
paths on the same stored data; the row errors (row, column, reason), the totals, the stored
households and persons, the heads and the sync change log must be equal. The other import
tests run through both paths too (the ``import_path`` fixture)."""

import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.db import connection, transaction

from dinsos import audit
from dinsos.models import Change
from dinsos.selectors import history
from dinsos.validators import build_nik, build_no_kk
from pmks import importing
from pmks.models import Household, Person
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, PersonFactory
from tests.pmks.test_import import csv_bytes, row

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (the COPY path; runs in the PostgreSQL pass)"),
]

KK_A = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 11)
KK_B = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 12)
KK_C = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 13)
KK_LEBAK = build_no_kk("36.02.01", datetime.date(2016, 4, 12), 14)


def nik(day: datetime.date, sex: str, serial: int, region="36.01.01") -> str:
    return build_nik(region, day, sex, serial)


D1, D2, D3 = datetime.date(1980, 8, 17), datetime.date(1985, 3, 19), datetime.date(2010, 2, 1)


@pytest.fixture
def stored():
    """What is already registered before the file comes."""
    from tests.factories import HouseholdFactory

    lebak = HouseholdFactory(no_kk=KK_LEBAK, desa_id=DESA_LEBAK)
    PersonFactory(nik=nik(D1, "L", 900, "36.02.01"), name="Orang Lebak", desa_id=DESA_LEBAK,
                  household=lebak)
    home = HouseholdFactory(no_kk=KK_C, desa_id=DESA_PANDEGLANG, address="Lama")
    head = PersonFactory(nik=nik(D1, "L", 901), name="Budi Santoso", household=home,
                         relationship="kepala", birth_date=D1)
    home.head = head
    home.save()
    PersonFactory(nik=nik(D2, "P", 902), name="SITI AMINAH", birth_date=D2, sex="P",
                  name_key="sitiaminah", household=home, relationship="pasangan")
    PersonFactory(nik=None, name="Mak Icih", name_key="makicih", birth_date=D3, sex="P",
                  household=home, relationship="famili")
    return home


def the_file() -> bytes:
    return csv_bytes([
        row(no_kk=KK_A, nik=nik(D1, "L", 1), nama="Ahmad Kepala", tanggal_lahir="17-08-1980",
            status_kawin="2", penyakit_kronis="Asma"),
        row(no_kk=KK_A, nik=nik(D2, "P", 2), nama="Ani", tanggal_lahir="19/03/1985",
            jenis_kelamin="P", hubungan="pasangan"),
        row(no_kk=KK_A, alamat="Alamat lain", nik=nik(D3, "L", 3), nama="Beda Alamat",
            tanggal_lahir="2010-02-01", hubungan="anak"),  # differs from row 2: rejected
        row(no_kk=KK_B, nik=nik(D1, "L", 1), nama="Ahmad Lagi", tanggal_lahir="1980-08-17",
            alamat="Kp. B"),  # NIK of row 2 again
        row(no_kk=KK_B, nik="", nama="Tanpa Tanggal", tanggal_lahir="31-02-1990",
            alamat="Kp. B"),  # no such date
        row(no_kk=KK_LEBAK, kode_desa=DESA_PANDEGLANG, nik=nik(D3, "L", 4), nama="X",
            tanggal_lahir="2010-02-01", hubungan="anak"),  # another district's No. KK
        row(no_kk=KK_B, alamat="Kp. B", nik=nik(D1, "L", 900, "36.02.01"), nama="Orang Lebak",
            tanggal_lahir="1980-08-17", hubungan="famili"),  # another district's NIK
        row(no_kk=KK_C, alamat="Baru", nik=nik(D1, "L", 901), nama="Joko Widodo",
            tanggal_lahir="1980-08-17", hubungan="famili"),  # another's name on a NIK: held
        row(no_kk=KK_C, alamat="Baru", nik=nik(D2, "P", 902), nama="Siti Aminah",
            tanggal_lahir="1985-03-19", jenis_kelamin="P", hubungan="pasangan"),  # case only
        row(no_kk=KK_C, alamat="Baru", nik="", nama="Mak Icih", tanggal_lahir="2010-02-01",
            jenis_kelamin="P", hubungan="orang_tua", pekerjaan="Pedagang",
            status_kawin="Cerai Mati"),  # found again
        row(no_kk=KK_B, alamat="Kp. B", nik=nik(D3, "P", 5),
            nama="Neng", tanggal_lahir="01-02-2010", jenis_kelamin="P", hubungan="kepala"),
        row(no_kk=KK_C, alamat="Baru", nik=nik(D1, "L", 6), nama="Kepala Baru",
            tanggal_lahir="1980-08-17"),  # KK_C has its living kepala (row 9 held): refused
        row(no_kk=KK_B, alamat="Kp. B", nik=nik(D3, "L", 7), nama="Kepala Kedua",
            tanggal_lahir="2010-02-01", hubungan="Kepala Keluarga"),  # row 12 is: refused
    ])


def snapshot() -> dict:
    """The stored state by natural keys (ids differ between two runs)."""
    persons = {p.pk: p for p in Person.objects.select_related("household")}
    households = {h.pk: h for h in Household.objects.all()}

    def key(model, pk):
        if model is Person:
            p = persons.get(pk)
            return p and (p.nik or p.name)
        h = households.get(pk)
        return h and h.no_kk

    return {
        "households": sorted(
            (h.no_kk, h.address, h.desa_id, h.decile, h.floor, key(Person, h.head_id))
            for h in households.values()),
        "persons": sorted(
            (p.nik or "", p.name, p.name_key, p.birth_date, p.sex, p.relationship,
             p.occupation, p.marital_status, p.chronic_illness, p.desa_id,
             p.household.no_kk if p.household else None)
            for p in persons.values()),
        "changes": sorted(
            (c.resource, c.kind, str(key(Person if c.resource == "pmks.person" else Household,
                                         c.object_id)), c.area)
            for c in Change.objects.all()),
        "history": sorted(
            (str(p.nik or p.name), action, tuple(sorted(diff)))
            for p in persons.values()
            for action, diff in (audit.entry_changes(e, p) for e in audit.entries_for(p))),
    }


def through(path: str, actor, monkeypatch, *, times=1, dry_run=False, chunk_size=None):
    monkeypatch.setattr(importing, "PATH", path)
    with transaction.atomic():
        for _ in range(times):
            report = importing.households_import(actor=actor, fileobj=io.BytesIO(the_file()),
                                                 filename="keluarga.csv", dry_run=dry_run,
                                                 chunk_size=chunk_size)
        state = snapshot()
        entries = LogEntry.objects.count()
        transaction.set_rollback(True)
    return report, state, entries


@pytest.mark.parametrize("dry_run", [False, True])
def test_both_paths_give_the_same_errors_totals_and_records(
        stored, pandeglang_operator, monkeypatch, dry_run):
    rows, rows_state, _ = through("rows", pandeglang_operator, monkeypatch, dry_run=dry_run)
    copy, copy_state, _ = through("copy", pandeglang_operator, monkeypatch, dry_run=dry_run)
    assert copy.errors == rows.errors
    assert copy.totals() == rows.totals()
    assert copy.message() == rows.message()
    assert copy_state["households"] == rows_state["households"]
    assert copy_state["persons"] == rows_state["persons"]
    assert copy_state["changes"] == rows_state["changes"]
    # what the file holds, so equal answers are also right answers
    assert [(e["row"], e["column"], e.get("held", False)) for e in rows.errors] == [
        (6, "tanggal_lahir", False), (4, "alamat", False), (5, "nik", False),
        (14, "hubungan", False), (7, "no_kk", False), (8, "nik", False), (9, "nama", True),
        (13, "hubungan", False)]
    assert copy.totals() == {"rows": 13, "accepted": 5, "rejected": 7, "ditahan": 1,
                             "keluarga_baru": 2, "keluarga_diubah": 1, "orang_baru": 3,
                             "orang_diubah": 2}
    assert rows.errors[1]["message"] == "berbeda dengan baris 2 untuk No. KK yang sama"
    if not dry_run:
        persons = {p[0] or p[1]: p for p in rows_state["persons"]}
        assert persons[nik(D2, "P", 902)][1] == "SITI AMINAH"  # stored spelling kept
        assert persons[nik(D1, "L", 901)][1] == "Budi Santoso"  # held, not applied
        assert persons["Mak Icih"][6] == "Pedagang"  # found again without NIK
        households = {h[0]: h for h in rows_state["households"]}
        assert households[KK_A][5] == nik(D1, "L", 1)
        assert households[KK_B][5] == nik(D3, "P", 5)


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_both_paths_agree_when_the_rules_span_chunks(
        stored, pandeglang_operator, monkeypatch, chunk_size):
    """Each chunk's statements read only that chunk's rows of the staging table (a range of
    row numbers), yet the in-file rules still see every earlier chunk: the first row of a No.
    KK and a NIK seen before, in another chunk (or in a chunk whose rows were all rejected)."""
    rows, rows_state, _ = through("rows", pandeglang_operator, monkeypatch,
                                  chunk_size=chunk_size)
    copy, copy_state, _ = through("copy", pandeglang_operator, monkeypatch,
                                  chunk_size=chunk_size)
    assert copy.errors == rows.errors
    assert copy.totals() == rows.totals()
    for part in ("households", "persons", "changes"):
        assert copy_state[part] == rows_state[part]


def test_a_second_import_of_the_same_file_writes_nothing_on_both_paths(
        stored, pandeglang_operator, monkeypatch):
    once_rows, state_once, entries_once = through("rows", pandeglang_operator, monkeypatch)
    twice_rows, state_rows, entries_rows = through("rows", pandeglang_operator, monkeypatch,
                                                   times=2)
    _, state_copy_once, entries_copy_once = through("copy", pandeglang_operator, monkeypatch)
    twice_copy, state_copy, entries_copy = through("copy", pandeglang_operator, monkeypatch,
                                                   times=2)
    assert twice_copy.totals() == twice_rows.totals()
    assert twice_copy.totals()["keluarga_baru"] == twice_copy.totals()["orang_baru"] == 0
    assert twice_copy.totals()["keluarga_diubah"] == twice_copy.totals()["orang_diubah"] == 0
    assert (state_copy, state_rows) == (state_copy_once, state_once)
    assert entries_rows == entries_once and entries_copy == entries_copy_once
    # the COPY path writes one entry per chunk and model, not one per row
    assert entries_copy_once < entries_once


def test_history_of_one_person_is_read_from_the_chunk_entry(
        stored, pandeglang_operator, monkeypatch):
    monkeypatch.setattr(importing, "PATH", "copy")
    importing.households_import(actor=pandeglang_operator, fileobj=io.BytesIO(the_file()),
                                filename="keluarga.csv", dry_run=False)
    icih = Person.objects.get(name="Mak Icih")
    entry = audit.entries_for(icih).latest("pk")
    assert entry.object_pk == "" and entry.additional_data["rows"] == [2, 14]
    assert audit.entry_changes(entry, icih) == (LogEntry.Action.UPDATE, {
        "relationship": ["famili", "orang_tua"], "occupation": ["", "Pedagang"],
        "schooling": ["", "sd"], "marital_status": ["", "cerai_mati"]})
    ani = Person.objects.get(name="Ani")
    assert audit.entry_changes(audit.entries_for(ani).get(), ani) == (LogEntry.Action.CREATE,
                                                                      {})
    # the person page's Riwayat reads it like any entry
    shown = history(obj=icih)
    assert [h["action"] for h in shown] == ["diubah", "dibuat"]
    assert {c["field"]: c["text"] for c in shown[0]["changes"]} == {
        "Pekerjaan": "— → Pedagang", "Pendidikan": "— → SD/sederajat",
        "Hubungan dengan kepala keluarga": "Famili lain → Orang tua",
        "Status perkawinan": "— → Cerai mati"}


def test_the_admin_history_of_a_person_shows_the_chunk_entry(
        stored, pandeglang_operator, make_user, monkeypatch):
    from django.test import Client
    from django.urls import reverse

    from dinsos import roles

    monkeypatch.setattr(importing, "PATH", "copy")
    importing.households_import(actor=pandeglang_operator, fileobj=io.BytesIO(the_file()),
                                filename="keluarga.csv", dry_run=False)
    icih = Person.objects.get(name="Mak Icih")
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    html = client.get(reverse("admin:pmks_person_auditlog", args=[icih.pk])).content.decode()
    assert "Pekerjaan</strong>: — → Pedagang" in html


# The COPY path's fast lane: plain text rows are copied as they are and checked in SQL; only
# the rows SQL cannot vouch for go through the Python parsers. Each case is one row of one file
# (its own No. KK and NIK, so the in-file rules stay out of it) and says which lane it must
# take: "sql" (read in SQL, never parsed in Python) or "python" (another form, or an error:
# the parsers say what is wrong, with the row path's very message).
D_LEAP = datetime.date(2000, 2, 29)
LANE_CASES = [
    # dates: ISO and day-first with four-digit years in SQL, every other form in Python
    ({"tanggal_lahir": "1980-08-17", "nik": ""}, "sql"),
    ({"tanggal_lahir": "17-08-1980", "nik": ""}, "sql"),
    ({"tanggal_lahir": "17/08/1980", "nik": ""}, "sql"),
    ({"tanggal_lahir": "17.08.1980", "nik": ""}, "sql"),
    ({"tanggal_lahir": "29-02-2000", "nik": ""}, "sql"),
    ({"tanggal_lahir": "01-01-1900", "nik": ""}, "sql"),
    ({"tanggal_lahir": "29-02-1900", "nik": ""}, "python"),  # 1900 is no leap year
    ({"tanggal_lahir": "29-02-1981", "nik": ""}, "python"),
    ({"tanggal_lahir": "31-04-1980", "nik": ""}, "python"),
    ({"tanggal_lahir": "00-08-1980", "nik": ""}, "python"),
    ({"tanggal_lahir": "17-13-1980", "nik": ""}, "python"),
    ({"tanggal_lahir": "1899-12-31", "nik": ""}, "python"),
    ({"tanggal_lahir": "2099-01-01", "nik": ""}, "python"),  # in the future
    ({"tanggal_lahir": "17-08/1980", "nik": ""}, "python"),
    ({"tanggal_lahir": "0000-01-01", "nik": ""}, "python"),
    ({"tanggal_lahir": "17 Agustus 1980", "nik": ""}, "python"),
    ({"tanggal_lahir": "17-08-80", "nik": ""}, "python"),
    ({"tanggal_lahir": "1980-8-17", "nik": ""}, "python"),
    ({"tanggal_lahir": "", "nik": ""}, "python"),
    # sexes and labels: the texts of the lookup in SQL, any other in Python
    ({"jenis_kelamin": "l", "nik": ""}, "sql"),
    ({"jenis_kelamin": "Laki-laki", "nik": ""}, "sql"),
    ({"jenis_kelamin": "PR", "nik": ""}, "sql"),
    ({"jenis_kelamin": "2", "nik": ""}, "sql"),
    ({"jenis_kelamin": "Laki - laki", "nik": ""}, "python"),
    ({"jenis_kelamin": "X", "nik": ""}, "python"),
    ({"jenis_kelamin": "", "nik": ""}, "python"),
    ({"hubungan": "Kepala Keluarga"}, "sql"),
    ({"hubungan": "ISTRI"}, "sql"),
    ({"hubungan": "4"}, "sql"),
    ({"hubungan": "anak kandung"}, "sql"),
    ({"hubungan": "Anak  Kandung"}, "python"),
    ({"hubungan": "xx"}, "python"),
    ({"hubungan": ""}, "sql"),
    ({"lantai": "Tanah"}, "sql"),
    ({"lantai": "TANAH"}, "sql"),
    ({"lantai": "bogus"}, "python"),
    ({"lantai": ""}, "sql"),
    ({"sumber_air": "sumur terlindung"}, "sql"),
    ({"disabilitas": ""}, "sql"),
    ({"disabilitas": "Tidak"}, "sql"),
    ({"disabilitas": "bogus"}, "python"),
    ({"status_kawin": "2"}, "sql"),  # SIAK's codes and labels
    ({"status_kawin": "Belum Kawin"}, "sql"),
    ({"status_kawin": "KAWIN"}, "sql"),
    ({"status_kawin": "Cerai Hidup"}, "sql"),
    ({"status_kawin": "cerai_mati"}, "sql"),
    ({"status_kawin": ""}, "sql"),
    ({"status_kawin": "5"}, "python"),
    ({"status_kawin": "duda"}, "python"),
    ({"penyakit_kronis": "Hipertensi (darah tinggi)"}, "sql"),
    ({"penyakit_kronis": "TBC"}, "sql"),
    ({"penyakit_kronis": "kencing manis"}, "sql"),
    ({"penyakit_kronis": ""}, "sql"),
    ({"penyakit_kronis": "flu"}, "python"),
    ({"desil": ""}, "sql"),
    ({"desil": "10"}, "sql"),
    ({"desil": "0"}, "python"),
    ({"desil": "11"}, "python"),
    ({"desil": "01"}, "python"),
    ({"desil": "x"}, "python"),
    ({"kode_desa": DESA_LEBAK}, "python"),  # outside the operator's area
    ({"kode_desa": "99.99.99.9999"}, "python"),
    ({"kode_desa": ""}, "python"),
    ({"nama": "Budi   Santoso"}, "sql"),  # spaces folded on the way in
    ({"nama": ""}, "python"),
    ({"alamat": ""}, "python"),
    ({"rt": "", "rw": "", "tempat_lahir": "", "pekerjaan": ""}, "sql"),
    # No. KK: 16 digits, region, registration date (20YY), serial
    ({"no_kk": "3601012902160001"}, "sql"),
    ({"no_kk": "3601012902150001"}, "python"),  # 2015 is no leap year
    ({"no_kk": "3601013102160001"}, "python"),
    ({"no_kk": "3601011213160001"}, "python"),
    ({"no_kk": "3601010004160001"}, "python"),
    ({"no_kk": "3601011204160000"}, "python"),
    ({"no_kk": "9901011204160001"}, "python"),
    ({"no_kk": "3600011204160001"}, "python"),
    ({"no_kk": "360101120416001"}, "python"),
    ({"no_kk": "3601 0112 0416 0099"}, "python"),  # accepted: the spaces are removed
    ({"no_kk": ""}, "python"),
    # NIK: 16 digits, region, serial, agreeing with birth date and sex (+40 for a woman)
    ({"nik": nik(D2, "P", 77), "tanggal_lahir": "19-03-1985", "jenis_kelamin": "P"}, "sql"),
    ({"nik": nik(D_LEAP, "L", 78), "tanggal_lahir": "2000-02-29"}, "sql"),
    ({"nik": nik(D2, "P", 79), "tanggal_lahir": "19-03-1985", "jenis_kelamin": "L"}, "python"),
    ({"nik": nik(D2, "L", 80), "tanggal_lahir": "19-03-1984"}, "python"),
    ({"nik": "3601011708800000"}, "python"),
    ({"nik": "9901011708800001"}, "python"),
    ({"nik": "3600011708800001"}, "python"),
    ({"nik": "360101170880001"}, "python"),
    ({"nik": "3601.0117.0880.0081"}, "python"),  # accepted: the dots are removed
    ({"nik": nik(D1, "L", 82), "tanggal_lahir": "31-02-1980"}, "python"),
]


def lane_file() -> bytes:
    rows = []
    for i, (values, _lane) in enumerate(LANE_CASES):
        rows.append(row(**{"no_kk": build_no_kk("36.01.01", datetime.date(2016, 4, 12), 100 + i),
                           "nik": nik(D1, "L", 100 + i), **values}))
    return csv_bytes(rows)


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_fast_lane_reads_plain_rows_in_sql_and_gives_the_row_path_answers(
        pandeglang_operator, monkeypatch, dry_run):
    answers = {}
    parse_row = importing.parse_row
    for path in ("rows", "copy"):
        monkeypatch.setattr(importing, "PATH", path)
        parsed = []

        def spy(table_row, *args, _seen=parsed, _parse=parse_row, **kwargs):
            _seen.append(table_row.number)
            return _parse(table_row, *args, **kwargs)

        monkeypatch.setattr(importing, "parse_row", spy)
        with transaction.atomic():
            report = importing.households_import(
                actor=pandeglang_operator, fileobj=io.BytesIO(lane_file()),
                filename="keluarga.csv", dry_run=dry_run)
            answers[path] = (report, snapshot(), parsed)
            transaction.set_rollback(True)
    rows, copy = answers["rows"], answers["copy"]
    assert copy[0].errors == rows[0].errors
    assert copy[0].totals() == rows[0].totals()
    assert copy[1]["households"] == rows[1]["households"]
    assert copy[1]["persons"] == rows[1]["persons"]
    # each row took the lane the case names (row 1 is the header)
    assert copy[2] == [i + 2 for i, (_v, lane) in enumerate(LANE_CASES) if lane == "python"]
    assert len(rows[2]) == len(LANE_CASES)
    # and the Python lane is not only errors: a few of its rows are accepted
    rejected = {e["row"] for e in rows[0].errors}
    assert set(copy[2]) - rejected == {i + 2 for i, (v, _lane) in enumerate(LANE_CASES) if v in (
        {"tanggal_lahir": "17 Agustus 1980", "nik": ""},
        {"tanggal_lahir": "17-08-80", "nik": ""}, {"tanggal_lahir": "1980-8-17", "nik": ""},
        {"jenis_kelamin": "Laki - laki", "nik": ""}, {"hubungan": "Anak  Kandung"},
        {"desil": "01"}, {"no_kk": "3601 0112 0416 0099"},
        {"nik": "3601.0117.0880.0081"})}


def test_a_re_import_that_changes_nothing_does_not_even_lock_the_rows(
        stored, pandeglang_operator, monkeypatch):
    """The writes take only the rows that are new or differ (one join of the staging table to
    the stored rows): an ``ON CONFLICT … DO UPDATE … WHERE`` that finds nothing to change
    still locks the row it met, and writes its page and WAL."""
    monkeypatch.setattr(importing, "PATH", "copy")
    importing.households_import(actor=pandeglang_operator, fileobj=io.BytesIO(the_file()),
                                filename="keluarga.csv", dry_run=False)

    def locked():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pmks_person WHERE xmax <> '0'")
            persons = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM pmks_household WHERE xmax <> '0'")
            return persons, cursor.fetchone()[0]

    before = locked()
    report = importing.households_import(actor=pandeglang_operator,
                                         fileobj=io.BytesIO(the_file()),
                                         filename="keluarga.csv", dry_run=False)
    assert report.totals()["orang_tetap"] == 5
    assert locked() == before


@pytest.mark.parametrize("path", ["rows", "copy"])
def test_an_import_feeds_the_households_whose_members_it_wrote(
        path, pandeglang_operator, monkeypatch):
    """A household shows its member count: an import that moves a member from one stored
    household to another and adds one, the households' own cells unchanged, feeds both."""
    monkeypatch.setattr(importing, "PATH", path)
    head_a = row(no_kk=KK_A, alamat="Kp. A", nik=nik(D1, "L", 21), nama="Kepala A")
    head_b = row(no_kk=KK_B, alamat="Kp. B", nik=nik(D1, "L", 23), nama="Kepala B")
    mover = row(no_kk=KK_A, alamat="Kp. A", nik=nik(D2, "P", 22), nama="Pindah",
                tanggal_lahir="1985-03-19", jenis_kelamin="P", hubungan="famili")
    added = row(no_kk=KK_B, alamat="Kp. B", nik=nik(D3, "L", 24), nama="Anak Baru",
                tanggal_lahir="2010-02-01", hubungan="anak")

    def run(rows):
        report = importing.households_import(actor=pandeglang_operator, dry_run=False,
                                             filename="keluarga.csv",
                                             fileobj=io.BytesIO(csv_bytes(rows)))
        assert not report.errors, report.errors

    run([head_a, mover, head_b])
    before = Change.objects.order_by("-id").values_list("id", flat=True).first()
    run([head_a, head_b, {**mover, "no_kk": KK_B, "alamat": "Kp. B"}, added])
    fed = set(Change.objects.filter(resource="pmks.household", kind=Change.Kind.UPSERT,
                                    id__gt=before).values_list("object_id", flat=True))
    assert fed == set(Household.objects.filter(no_kk__in=[KK_A, KK_B])
                      .values_list("pk", flat=True))
