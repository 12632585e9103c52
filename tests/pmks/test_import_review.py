"""Review of the re-import's short way (``pmks.staging._same_sql``): sequences of imports and
edits after which the COPY path, with fingerprints set by an earlier import, must answer as
the row path does (row errors, totals, stored records, heads, sync change log)."""

import datetime
import io

import pytest
from django.db import connection, transaction

from dinsos.models import Change
from pmks import importing, services
from pmks.models import Household, Person
from tests.pmks.test_import import csv_bytes, row, xlsx_bytes
from tests.pmks.test_import_fingerprints import AHMAD, ANI, DEDI, FIRST, KK, NENG, UJANG, counted
from tests.pmks.test_import_paths import D1, nik

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (the COPY path; runs in the PostgreSQL pass)"),
]

ICIH = row(no_kk=KK["A"], nik="", nama="Mak Icih", tanggal_lahir="1950-01-01",
           jenis_kelamin="P", hubungan="famili")


def state() -> dict:
    """What ``snapshot`` compares (persons without household too), and life status, merges
    and each person's head."""
    persons = {p.pk: p for p in Person.objects.select_related("household__head")}
    households = {h.pk: h for h in Household.objects.select_related("head")}

    def key(resource, pk):
        if resource == "pmks.person":
            return persons[pk].nik or persons[pk].name if pk in persons else None
        return households[pk].no_kk if pk in households else None

    return {
        "households": sorted(
            (h.no_kk, h.address, h.desa_id, h.decile, h.floor, h.head and (h.head.nik or ""))
            for h in households.values()),
        "persons": sorted(
            (p.nik or "", p.name, p.name_key, p.birth_date, p.sex, p.relationship,
             p.occupation, p.desa_id, p.household.no_kk if p.household else "", p.life_status,
             p.merged_into_id is not None)
            for p in persons.values()),
        "changes": sorted(
            (c.resource, c.kind, str(key(c.resource, c.object_id)), c.area)
            for c in Change.objects.all()),
    }


def run(path, monkeypatch, steps, *, chunk_size=None):
    """``steps``: (actor, rows[, options]) imports and callables (edits between them), in turn,
    rolled back after: the last report, the stored state, the rows the last import staged from
    their records."""
    monkeypatch.setattr(importing, "PATH", path)
    seen = counted(monkeypatch)
    with transaction.atomic():
        for step in steps:
            if callable(step):
                step()
                continue
            actor, rows, *options = step
            options = dict(options[0]) if options else {}
            xlsx = options.pop("xlsx", False)
            content = xlsx_bytes(rows) if xlsx else csv_bytes(rows)
            report = importing.households_import(
                actor=actor, fileobj=io.BytesIO(content),
                filename="keluarga.xlsx" if xlsx else "keluarga.csv",
                dry_run=options.pop("dry_run", False), chunk_size=chunk_size)
        result = state()
        transaction.set_rollback(True)
    return report, result, seen[-1] if path == "copy" and seen else None


def compare(monkeypatch, steps, *, chunk_size=None):
    rows = run("rows", monkeypatch, steps, chunk_size=chunk_size)
    copy = run("copy", monkeypatch, steps, chunk_size=chunk_size)
    assert copy[0].errors == rows[0].errors
    assert copy[0].totals() == rows[0].totals()
    assert copy[1] == rows[1]
    return copy


def person(value) -> Person:
    return Person.objects.get(nik=value)


CHUNKS = [None, 1, 2]


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_a_line_twice_in_the_file(pandeglang_operator, monkeypatch, chunk_size):
    file = [*FIRST, ANI, AHMAD]
    copy = compare(monkeypatch, [(pandeglang_operator, file)] * 2, chunk_size=chunk_size)
    assert copy[2] == 7  # both copies of a line take the short way; the second is rejected


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_persons_without_nik_beside_unchanged_rows(pandeglang_operator, monkeypatch, chunk_size):
    file = [ICIH, AHMAD, ANI, NENG, {**ICIH, "no_kk": KK["B"], "alamat": "Kp. B"}, UJANG]
    changed = [{**ICIH, "pekerjaan": "Pedagang"}, AHMAD, ANI, NENG,
               {**ICIH, "no_kk": KK["B"], "alamat": "Kp. B", "hubungan": "kepala"}, UJANG]
    op = pandeglang_operator
    compare(monkeypatch, [(op, file), (op, file)], chunk_size=chunk_size)
    copy = compare(monkeypatch, [(op, file), (op, changed)], chunk_size=chunk_size)
    assert copy[2] == 4


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_heads_when_a_head_moves_and_a_new_kepala_comes(pandeglang_operator, monkeypatch,
                                                        chunk_size):
    op = pandeglang_operator
    moved = [ANI, NENG, UJANG, {**AHMAD, "no_kk": KK["B"], "alamat": "Kp. B"}, DEDI]
    budi = row(no_kk=KK["A"], nik=nik(D1, "L", 30), nama="Budi Baru", tanggal_lahir="1980-08-17")
    compare(monkeypatch, [(op, FIRST), (op, moved)], chunk_size=chunk_size)
    compare(monkeypatch, [(op, FIRST), (op, moved), (op, [*moved, budi])],
                   chunk_size=chunk_size)
    # the head moves back: A had no head, Ahmad's row is kepala again
    compare(monkeypatch, [(op, FIRST), (op, moved), (op, FIRST)], chunk_size=chunk_size)
    # Ani becomes kepala of A after losing the head, then a re-import
    ani_head = {**ANI, "hubungan": "kepala"}
    compare(monkeypatch, [(op, FIRST), (op, moved), (op, [ani_head, *moved[1:]]),
                                 (op, [ani_head, *moved[1:]])], chunk_size=chunk_size)


def edits(op):
    def merge_ani_into_neng():
        services.person_merge(actor=op, kept=person(NENG["nik"]), merged=person(ANI["nik"]))

    def merge_ahmad_into_ani():
        services.person_merge(actor=op, kept=person(ANI["nik"]), merged=person(AHMAD["nik"]))

    def merge_ani_into_ahmad():
        services.person_merge(actor=op, kept=person(AHMAD["nik"]), merged=person(ANI["nik"]))

    def merge_into_nikless():
        kept = Person.objects.get(name="Mak Icih")
        services.person_merge(actor=op, kept=kept, merged=person(UJANG["nik"]))

    def delete_ani():
        services.person_delete(actor=op, person=person(ANI["nik"]))

    def delete_ahmad():
        services.person_delete(actor=op, person=person(AHMAD["nik"]))

    def delete_household_b():
        services.household_delete(actor=op, household=Household.objects.get(no_kk=KK["B"]))

    def nik_removed():
        services.person_update(actor=op, person=person(ANI["nik"]), nik=None)

    def nik_changed():
        services.person_update(actor=op, person=person(ANI["nik"]),
                               nik=nik(datetime.date(1985, 3, 19), "P", 77))

    def dead():
        services.person_update(actor=op, person=person(AHMAD["nik"]), life_status="meninggal",
                               life_status_date=datetime.date(2024, 1, 1))

    def left_kk():
        services.person_update(actor=op, person=person(AHMAD["nik"]), household=None,
                               relationship="")

    def renamed():
        services.person_update(actor=op, person=person(ANI["nik"]), name="Rina Marlina")

    def head_to_ani():  # the KK changed: Ani is its kepala now, and named head
        services.person_update(actor=op, person=person(AHMAD["nik"]), relationship="pasangan")
        services.person_update(actor=op, person=person(ANI["nik"]), relationship="kepala")
        h = Household.objects.get(no_kk=KK["A"])
        services.household_update(actor=op, household=h, head=person(ANI["nik"]))

    return {f.__name__: f for f in (
        merge_ani_into_neng, merge_ahmad_into_ani, merge_ani_into_ahmad, merge_into_nikless,
        delete_ani, delete_ahmad, delete_household_b, nik_removed, nik_changed, dead, left_kk,
        renamed, head_to_ani)}


EDITS = ["merge_ani_into_neng", "merge_ahmad_into_ani", "merge_ani_into_ahmad",
         "merge_into_nikless", "delete_ani", "delete_ahmad", "delete_household_b", "nik_removed",
         "nik_changed", "dead", "left_kk", "renamed", "head_to_ani"]


@pytest.mark.parametrize(("chunk_size", "dry_run"), [(None, False)])
@pytest.mark.parametrize("edit", EDITS)
def test_an_edit_between_two_imports(pandeglang_operator, monkeypatch, edit, chunk_size,
                                     dry_run):
    """An officer's edit (merge, delete, NIK removed or changed, death, a household deleted,
    a head set), then the same file again (a dry run too), then once more."""
    op = pandeglang_operator
    file = [*FIRST, {**ICIH, "no_kk": KK["B"], "alamat": "Kp. B"}]
    steps = [(op, file), edits(op)[edit], (op, file, {"dry_run": dry_run})]
    copy = compare(monkeypatch, steps, chunk_size=chunk_size)
    assert copy[2] > 0
    if not dry_run:
        compare(monkeypatch, [*steps, (op, file)], chunk_size=chunk_size)


LEBAK_KK = "3602011204160031"
LEBAK = row(no_kk=LEBAK_KK, alamat="Kp. Lebak", kode_desa="36.02.01.2001",
            nik=nik(D1, "L", 31, "36.02.01"), nama="Orang Lebak", tanggal_lahir="1980-08-17")


@pytest.mark.parametrize("chunk_size", [None])
@pytest.mark.parametrize("order", ["province_first", "district_first", "lebak_after"])
def test_province_and_district_users_import_the_same_file(
        province_operator, pandeglang_operator, lebak_operator, monkeypatch, order, chunk_size):
    file = [AHMAD, LEBAK, ANI, NENG, UJANG, DEDI]
    p, d, lebak = province_operator, pandeglang_operator, lebak_operator
    steps = {"province_first": [(p, file), (d, file)],
             "district_first": [(d, file), (p, file)],
             "lebak_after": [(p, file), (lebak, file)]}[order]
    copy = compare(monkeypatch, steps, chunk_size=chunk_size)
    assert copy[2] == (0 if order == "lebak_after" else 5)  # never the other area's rows


@pytest.mark.parametrize("chunk_size", [None])
@pytest.mark.parametrize("variant", ["case", "spaces", "xlsx_after_csv", "csv_after_xlsx",
                                     "python_lane_first", "excel_numbers_first"])
def test_cell_forms_and_excel(pandeglang_operator, monkeypatch, variant, chunk_size):
    op = pandeglang_operator
    if variant == "case":
        second = [{**AHMAD, "lantai": "Tanah", "nama": "AHMAD KEPALA"}, ANI,
                  {**NENG, "jenis_kelamin": "p"}, UJANG, DEDI]
        steps = [(op, FIRST), (op, second), (op, FIRST)]
    elif variant == "spaces":
        second = [{**AHMAD, "alamat": " Kp. Sumur RT 01 ", "nama": "Ahmad  Kepala"}, ANI,
                  {**NENG, "pekerjaan": " Buruh tani"}, UJANG, DEDI]
        steps = [(op, FIRST), (op, second), (op, FIRST), (op, second)]
    elif variant == "xlsx_after_csv":
        steps = [(op, FIRST), (op, FIRST, {"xlsx": True})]
    elif variant == "csv_after_xlsx":
        steps = [(op, FIRST, {"xlsx": True}), (op, FIRST)]
    elif variant == "python_lane_first":
        second = [{**AHMAD, "tanggal_lahir": "17 Agustus 1980"}, ANI, NENG, UJANG, DEDI]
        steps = [(op, FIRST), (op, second)]
    else:
        second = [{**AHMAD, "desil": 1, "rt": 1}, ANI, {**NENG, "desil": 1}, UJANG, DEDI]
        steps = [(op, FIRST), (op, second, {"xlsx": True})]
    compare(monkeypatch, steps, chunk_size=chunk_size)


def test_a_person_without_nik_on_two_differing_rows(pandeglang_operator, monkeypatch):
    """Stored: Mak Icih, Guru. The file: Mak Icih, Buruh tani, then Mak Icih, Guru. The import
    cannot tell which row is the person, so the second is rejected on both paths, as a NIK
    twice is. Before, the row path applied both rows in turn (the last won: Guru, orang_diubah
    2) and the COPY path compared both with the stored record (Buruh tani, orang_diubah 1)."""
    op = pandeglang_operator
    guru = {**ICIH, "pekerjaan": "Guru"}
    report = compare(monkeypatch, [(op, [AHMAD, guru]), (op, [AHMAD, ICIH, guru])])[0]
    assert [(e["row"], e["column"], e["message"][:30]) for e in report.errors] == [
        (4, "nama", "orang tanpa NIK yang sama (nam")]
    assert {k: report.totals()[k] for k in ("orang_diubah", "orang_tetap")} == {
        "orang_diubah": 1, "orang_tetap": 1}  # Mak Icih is Buruh tani now; Ahmad the same
