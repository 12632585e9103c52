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
        row(no_kk=KK_A, nik=nik(D1, "L", 1), nama="Ahmad Kepala", tanggal_lahir="17-08-1980"),
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
            tanggal_lahir="1980-08-17"),  # another district's NIK
        row(no_kk=KK_C, alamat="Baru", nik=nik(D1, "L", 901), nama="Joko Widodo",
            tanggal_lahir="1980-08-17"),  # a different person's name on a stored NIK: held
        row(no_kk=KK_C, alamat="Baru", nik=nik(D2, "P", 902), nama="Siti Aminah",
            tanggal_lahir="1985-03-19", jenis_kelamin="P", hubungan="pasangan"),  # case only
        row(no_kk=KK_C, alamat="Baru", nik="", nama="Mak Icih", tanggal_lahir="2010-02-01",
            jenis_kelamin="P", hubungan="kepala", pekerjaan="Pedagang"),  # found again
        row(no_kk=KK_B, alamat="Kp. B", nik=nik(D3, "P", 5),
            nama="Neng", tanggal_lahir="01-02-2010", jenis_kelamin="P", hubungan="kepala"),
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
             p.occupation, p.desa_id, p.household.no_kk if p.household else None)
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
        (7, "no_kk", False), (8, "nik", False), (9, "nama", True)]
    assert copy.totals() == {"rows": 11, "accepted": 5, "rejected": 5, "ditahan": 1,
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
    assert entry.object_pk == "" and entry.additional_data["rows"] == [2, 12]
    assert audit.entry_changes(entry, icih) == (LogEntry.Action.UPDATE, {
        "relationship": ["famili", "kepala"], "occupation": ["", "Pedagang"],
        "schooling": ["", "sd"]})
    ani = Person.objects.get(name="Ani")
    assert audit.entry_changes(audit.entries_for(ani).get(), ani) == (LogEntry.Action.CREATE,
                                                                      {})
    # the person page's Riwayat reads it like any entry
    shown = history(obj=icih)
    assert [h["action"] for h in shown] == ["diubah", "dibuat"]
    assert {c["field"]: c["text"] for c in shown[0]["changes"]} == {
        "Pekerjaan": "— → Pedagang", "Pendidikan": "— → SD/sederajat",
        "Hubungan dengan kepala keluarga": "Famili lain → Kepala keluarga"}


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
