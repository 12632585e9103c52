"""The household import carries the household's DTKS lists (``aset``, ``program``): codes or
names separated by ";" or ",", every row of a No. KK the same, an unknown entry a row error
naming it, an absent column keeping the stored lists and an empty cell clearing them — on both
lanes (each test runs through both on PostgreSQL: ``import_path``), with the same answers."""

import csv
import datetime
import io

import pytest
from django.db import connection, transaction

from dinsos import selectors as kernel_selectors
from dinsos.importing import template_rows
from dinsos.models import Change
from dinsos.validators import build_nik, build_no_kk
from pmks import importing, staging
from pmks.models import Asset, Household, Program
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.pmks.test_import import HEADER, csv_bytes, row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]

KK_A = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 41)
KK_B = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 42)
D1, D2, D3 = datetime.date(1980, 8, 17), datetime.date(1985, 3, 19), datetime.date(2010, 2, 1)
NIK_BUDI = build_nik("36.01.01", D1, "L", 41)
NIK_SITI = build_nik("36.01.01", D2, "P", 42)
NIK_RIZKY = build_nik("36.01.01", D3, "L", 43)
NIK_JOKO = build_nik("36.01.01", D1, "L", 44)


def budi(**values):
    return row(no_kk=KK_A, nik=NIK_BUDI, **values)


def siti(**values):
    return row(no_kk=KK_A, nik=NIK_SITI, nama="Siti Aminah", tanggal_lahir="1985-03-19",
               jenis_kelamin="P", hubungan="pasangan", **values)


def rizky(**values):
    return row(no_kk=KK_A, nik=NIK_RIZKY, nama="M. Rizky", tanggal_lahir="2010-02-01",
               hubungan="anak", **values)


def joko(**values):
    return row(no_kk=KK_B, alamat="Kp. B", nik=NIK_JOKO, nama="Joko", **values)


def run(actor, rows, *, header=HEADER, dry_run=False, chunk_size=None, data=None):
    return importing.households_import(
        actor=actor, fileobj=io.BytesIO(data or csv_bytes(rows, header=header)),
        filename="keluarga.csv", dry_run=dry_run, chunk_size=chunk_size)


def lists(no_kk) -> tuple[list[str], list[str]]:
    household = Household.objects.get(no_kk=no_kk)
    return (sorted(household.assets.values_list("code", flat=True)),
            sorted(household.programs.values_list("code", flat=True)))


def errors(report) -> list[tuple[int, str]]:
    return [(e["row"], e["column"]) for e in report.errors]


@pytest.fixture
def family(pandeglang_operator):
    """KK_A as a district file wrote it: Budi (kepala), Siti; a sepeda motor and land, PKH."""
    report = run(pandeglang_operator, [budi(aset="sepeda-motor;lahan", program="pkh"),
                                       siti(aset="sepeda-motor;lahan", program="pkh")])
    assert report.errors == []
    assert lists(KK_A) == (["lahan", "sepeda-motor"], ["pkh"])
    return Household.objects.get(no_kk=KK_A)


# --- reading a cell ---------------------------------------------------------------------------


@pytest.mark.parametrize(("aset", "program", "expected"), [
    ("sepeda-motor;lahan", "pkh;kis-pbi-jk", (["lahan", "sepeda-motor"], ["kis-pbi-jk", "pkh"])),
    ("sepeda-motor, lahan", "PKH, KIS/PBI JK", (["lahan", "sepeda-motor"], ["kis-pbi-jk", "pkh"])),
    ("Sepeda motor; Lahan ;", "bpnt/program sembako", (["lahan", "sepeda-motor"], ["bpnt"])),
    ("SEPEDA_MOTOR;lahan;sepeda-motor", "pkh;pkh", (["lahan", "sepeda-motor"], ["pkh"])),
    ("Tabung gas 5,5 kg atau lebih, Lemari es/kulkas", "", (["lemari-es", "tabung-gas"], [])),
    ("tabung-gas\nsepeda", "bpnt", (["sepeda", "tabung-gas"], ["bpnt"])),
])
def test_a_new_household_takes_its_lists_from_codes_or_names(
        pandeglang_operator, aset, program, expected):
    """Codes as the export writes them (";"), a comma, the names (whole, or before their
    parenthesis: "KIS/PBI JK"), any case, "_" for "-", a line break, an entry twice, an empty
    entry, and the one name that holds a comma itself."""
    report = run(pandeglang_operator, [budi(aset=aset, program=program)])
    assert report.errors == []
    assert lists(KK_A) == expected


def test_an_unknown_entry_rejects_the_row_naming_it_and_writes_nothing_of_it(
        pandeglang_operator):
    report = run(pandeglang_operator, [
        budi(aset="sepeda-motor;helikopter;kapal selam", program="pkh"),
        joko(aset="", program="pkh;bansos-x")])
    assert errors(report) == [(2, "aset"), (3, "program")]
    assert report.errors[0]["message"].startswith(
        "aset tidak dikenal: 'helikopter', 'kapal selam'")
    assert "'bansos-x'" in report.errors[1]["message"]
    assert not Household.objects.exists()


# --- a household's rows -----------------------------------------------------------------------


def test_every_row_of_a_no_kk_must_name_the_same_lists(pandeglang_operator):
    """A district export repeats the household's columns on each member's row: the order of
    the entries, their case and the separator do not matter, a different list does — the
    later row is refused on its column, naming the first, as for the other household
    columns; the first row defines the household."""
    report = run(pandeglang_operator, [
        budi(aset="sepeda-motor;lahan", program="pkh"),
        siti(aset="Lahan, SEPEDA-MOTOR", program="pkh"),
        rizky(aset="lahan", program="pkh;bpnt")])
    assert errors(report) == [(4, "aset"), (4, "program")]
    assert {e["message"] for e in report.errors} == {
        "berbeda dengan baris 2 untuk No. KK yang sama"}
    assert lists(KK_A) == (["lahan", "sepeda-motor"], ["pkh"])
    assert Household.objects.get(no_kk=KK_A).members.count() == 2


@pytest.mark.parametrize("chunk_size", [1, 2])
def test_a_no_kk_split_over_chunks_reads_as_in_one_chunk(pandeglang_operator, chunk_size):
    rows = [budi(aset="lahan", program="pkh"), siti(aset="lahan", program="pkh"),
            rizky(aset="mobil", program="pkh")]
    with transaction.atomic():
        whole = run(pandeglang_operator, rows)
        expected = (whole.errors, whole.totals(), lists(KK_A))
        transaction.set_rollback(True)
    split = run(pandeglang_operator, rows, chunk_size=chunk_size)
    assert (split.errors, split.totals(), lists(KK_A)) == expected
    assert errors(split) == [(4, "aset")]


# --- absent, empty, re-import -----------------------------------------------------------------


def test_an_absent_column_keeps_the_stored_lists_and_an_empty_cell_clears_them(
        family, pandeglang_operator):
    without = [c for c in HEADER if c not in ("aset", "program")]
    report = run(pandeglang_operator, [budi(pekerjaan="Petani"), siti()], header=without)
    assert report.errors == []
    assert lists(KK_A) == (["lahan", "sepeda-motor"], ["pkh"])
    only_aset = [c for c in HEADER if c != "program"]
    report = run(pandeglang_operator, [budi(aset=""), siti(aset="")], header=only_aset)
    assert report.totals()["keluarga_diubah"] == 1
    assert lists(KK_A) == ([], ["pkh"])
    report = run(pandeglang_operator, [budi(aset="", program=""), siti(aset="", program="")])
    assert lists(KK_A) == ([], [])


def test_a_new_household_from_a_file_without_the_columns_has_empty_lists(pandeglang_operator):
    without = [c for c in HEADER if c not in ("aset", "program")]
    assert run(pandeglang_operator, [budi(), siti()], header=without).errors == []
    assert lists(KK_A) == ([], [])


def test_a_re_import_that_changes_only_a_list_changes_the_household(family,
                                                                   pandeglang_operator):
    """Counted as a changed household, a new version (``updated_at``, the ETag), an entry in
    its history naming the list old → new, and a change in the sync feed — as the API's
    update records it; the persons stay as they were."""
    before = Household.objects.get(pk=family.pk).updated_at
    last = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    report = run(pandeglang_operator, [budi(aset="lahan", program="pkh;bpnt"),
                                       siti(aset="lahan", program="pkh;bpnt")])
    assert report.errors == []
    totals = report.totals()
    assert (totals["keluarga_diubah"], totals.get("keluarga_tetap", 0)) == (1, 0)
    assert (totals.get("orang_diubah", 0), totals["orang_tetap"]) == (0, 2)
    assert lists(KK_A) == (["lahan"], ["bpnt", "pkh"])
    assert Household.objects.get(pk=family.pk).updated_at > before
    assert Change.objects.filter(pk__gt=last, resource="pmks.household",
                                 object_id=family.pk).exists()
    texts = {c["text"] for entry in kernel_selectors.history(obj=family)
             for c in entry["changes"] if c["field"] in ("Aset", "Program bantuan")}
    # by name, as the other doors' list changes read (not the codes the entry keeps)
    assert {f"dihapus: {Asset.objects.get(code='sepeda-motor').name}",
            f"ditambah: {Program.objects.get(code='bpnt').name}"} <= texts


def test_the_same_file_again_changes_nothing(family, pandeglang_operator):
    household = Household.objects.get(pk=family.pk)
    last = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    for aset in ("sepeda-motor;lahan", "Lahan, sepeda motor"):  # another way, same lists
        report = run(pandeglang_operator, [budi(aset=aset, program="pkh"),
                                           siti(aset=aset, program="pkh")])
        assert report.errors == []
        totals = report.totals()
        assert (totals.get("keluarga_diubah", 0), totals["keluarga_tetap"]) == (0, 1)
    assert Household.objects.get(pk=family.pk).updated_at == household.updated_at
    assert not Change.objects.filter(pk__gt=last).exists()


def test_a_dry_run_counts_the_change_and_writes_nothing(family, pandeglang_operator):
    household = Household.objects.get(pk=family.pk)
    report = run(pandeglang_operator, [budi(aset="mobil", program=""),
                                       siti(aset="mobil", program="")], dry_run=True)
    assert report.totals()["keluarga_diubah"] == 1
    assert lists(KK_A) == (["lahan", "sepeda-motor"], ["pkh"])
    assert Household.objects.get(pk=family.pk).updated_at == household.updated_at


# --- export and template ----------------------------------------------------------------------


def test_the_household_export_cells_import_unchanged(pandeglang_operator, api_as):
    """The household export's ``aset`` and ``program`` cells, put on the members' rows of a
    file, read back the lists the household holds: nothing changes."""
    home = HouseholdFactory(no_kk=KK_A, desa_id=DESA_PANDEGLANG, address="Kp. Sumur RT 01",
                            rt="001", rw="002", decile=1, floor="tanah", wall="bambu",
                            water_source="sumur_terlindung", lighting="pln_450",
                            cooking_fuel="kayu", toilet="bersama")
    home.assets.set(Asset.objects.filter(code__in=["tabung-gas", "televisi-layar-datar",
                                                   "sepeda"]))
    home.programs.set(Program.objects.filter(code__in=["kis-pbi-jk", "pkh"]))
    head = PersonFactory(nik=NIK_BUDI, name="Budi Santoso", name_key="budisantoso",
                         birth_date=D1, sex="L", household=home, relationship="kepala",
                         birth_place="Pandeglang", schooling="sd", occupation="Buruh tani",
                         desa_id=DESA_PANDEGLANG, disability="tidak")
    home.head = head
    home.save()
    response = api_as(pandeglang_operator).get("/api/v1/pmks/households/export/",
                                               {"fmt": "csv"})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    exported = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(exported) == 1
    cells = {"aset": exported[0]["aset"], "program": exported[0]["program"]}
    before = Household.objects.get(pk=home.pk).updated_at
    report = run(pandeglang_operator, [budi(**cells)])
    assert report.errors == []
    assert report.totals()["keluarga_tetap"] == 1
    assert Household.objects.get(pk=home.pk).updated_at == before
    assert lists(KK_A) == (["sepeda", "tabung-gas", "televisi-layar-datar"],
                           ["kis-pbi-jk", "pkh"])


def test_the_template_has_the_columns_and_its_example_row_imports(pandeglang_operator):
    header, example, guide = template_rows(importing.KIND)
    assert header[-2:] == ["aset", "program"]
    help_text = {line[0]: line[2] for line in guide[1:] if len(line) == 3}
    assert "titik koma (;)" in str(help_text["aset"])
    assert "titik koma (;)" in str(help_text["program"])
    values = dict(zip(header, example[0], strict=True))
    values.update(no_kk=KK_A, kode_desa=DESA_PANDEGLANG, nik=NIK_BUDI, jenis_kelamin="L",
                  tanggal_lahir="17-08-1980")
    report = run(pandeglang_operator, [values])
    assert report.errors == []
    assert lists(KK_A) == (["sepeda-motor", "tabung-gas"], ["kis-pbi-jk", "pkh"])


# --- both lanes, compared (PostgreSQL) --------------------------------------------------------

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                 reason="needs PostgreSQL (compares the COPY lane)")


def _state(report):
    households = sorted((h.no_kk, h.address, *lists(h.no_kk)) for h in Household.objects.all())
    fed = sorted((c.resource, c.kind) for c in Change.objects.all())
    return report.errors, report.totals(), households, fed


SCENARIOS = {
    "new": [budi(aset="lahan;Sepeda motor", program="PKH"), siti(aset="sepeda-motor, lahan",
                                                               program="pkh"),
            joko(aset="Tabung gas 5,5 kg atau lebih", program="")],
    "disagree": [budi(aset="lahan", program="pkh"), siti(aset="mobil", program="pkh"),
                 rizky(aset="lahan", program="bpnt"), joko(aset="x", program="y")],
    "changed": [budi(aset="mobil", program=""), siti(aset="mobil", program=""),
                joko(aset="sepeda", program="kur")],
    # the fixture's first row again (on the COPY lane a 'same' row, staged from the stored
    # household), then a row of its No. KK with another list
    "same_then_other": [budi(aset="sepeda-motor;lahan", program="pkh"),
                        siti(aset="lahan", program="pkh"), rizky(aset="lahan;sepeda-motor",
                                                                 program="pkh")],
}


@on_postgres
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("chunk_size", [None, 1])
@pytest.mark.parametrize("header", ["all", "without"])
def test_the_lanes_give_the_same_answers(family, pandeglang_operator, monkeypatch, scenario,
                                         chunk_size, header):
    columns = HEADER if header == "all" else [c for c in HEADER if c not in ("aset", "program")]
    data = csv_bytes(SCENARIOS[scenario], header=columns)
    answers = {}
    for path in ("rows", "copy"):
        monkeypatch.setattr(importing, "PATH", path)
        with transaction.atomic():
            report = run(pandeglang_operator, [], data=data, chunk_size=chunk_size)
            answers[path] = _state(report)
            transaction.set_rollback(True)
    assert answers["copy"] == answers["rows"]


@on_postgres
def test_a_re_import_is_answered_unchanged_whole_only_when_no_list_changed(
        family, pandeglang_operator, monkeypatch):
    """The whole-file check (``staging.unchanged_file``): the file the COPY lane wrote is
    answered at once; one that changes only a list is not, and is written."""
    monkeypatch.setattr(importing, "PATH", "copy")
    rows = [budi(aset="lahan;sepeda-motor", program="pkh"),
            siti(aset="lahan;sepeda-motor", program="pkh")]
    run(pandeglang_operator, rows)  # the COPY lane writes the rows' fingerprints
    answered = []
    check = staging.unchanged_file
    monkeypatch.setattr(staging, "unchanged_file",
                        lambda *a, **k: answered.append(check(*a, **k)) or answered[-1])
    report = run(pandeglang_operator, rows)
    assert answered[-1] is not None and answered[-1].read is None
    assert report.totals()["keluarga_tetap"] == 1
    rows = [budi(aset="lahan", program="pkh"), siti(aset="lahan", program="pkh")]
    report = run(pandeglang_operator, rows)
    assert answered[-1] is None or answered[-1].read is not None
    assert report.totals()["keluarga_diubah"] == 1
    assert lists(KK_A) == (["lahan"], ["pkh"])
    report = run(pandeglang_operator, rows)  # and now that one is the unchanged file
    assert answered[-1] is not None and answered[-1].read is None


@on_postgres
def test_plain_list_cells_take_the_fast_lane_and_the_others_the_parsers(
        pandeglang_operator, monkeypatch):
    """The COPY path reads a list cell of codes or names in SQL; a cell SQL does not vouch for
    (an unknown entry, a name holding a comma, a line break, non-ASCII text) goes through
    ``parse_row`` like on the row path — so the lanes agree (above) without the fast lane
    being a Python lane in disguise."""
    monkeypatch.setattr(importing, "PATH", "copy")
    parsed = []
    parse_row = importing.parse_row

    def spy(table_row, *args, **kwargs):
        parsed.append(table_row.number)
        return parse_row(table_row, *args, **kwargs)

    monkeypatch.setattr(importing, "parse_row", spy)
    report = run(pandeglang_operator, [
        budi(aset="lahan;Sepeda motor", program="PKH, kis_pbi_jk"),
        siti(aset="sepeda-motor, LAHAN;;", program="pkh;kis-pbi-jk;pkh"),
        joko(aset="Tabung gas 5,5 kg atau lebih", program=""),
        row(no_kk=KK_B, alamat="Kp. B", nik="", nama="Ijah", tanggal_lahir="1990-01-01",
            jenis_kelamin="P", hubungan="anak", aset="Tabung gas 5,5 kg atau lebih",
            program="bantuan\u00a0x")])
    assert sorted(set(parsed)) == [4, 5]
    assert errors(report) == [(5, "program")]
    assert lists(KK_A) == (["lahan", "sepeda-motor"], ["kis-pbi-jk", "pkh"])
    assert lists(KK_B) == (["tabung-gas"], [])


def _households(n: int, aset: str, program: str) -> list[dict]:
    return [row(no_kk=build_no_kk("36.01.01", datetime.date(2016, 4, 12), 100 + i),
                nik=build_nik("36.01.01", D1, "L", 100 + i), alamat=f"Kp. {i}", aset=aset,
                program=program) for i in range(n)]


def test_the_lists_cost_no_query_per_household(pandeglang_operator):
    """A first import and a re-import that changes every household's lists: as many queries
    for 8 households as for 2 (one chunk) — the lists are read and written per chunk."""
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (2, 8):
        with transaction.atomic():
            for aset, program in (("lahan;mobil", "pkh"), ("sepeda", "")):
                with CaptureQueriesContext(connection) as queries:
                    report = run(pandeglang_operator, _households(n, aset, program))
                assert report.errors == []
                counts.append(len(queries))
            assert {tuple(map(tuple, lists(h.no_kk))) for h in Household.objects.all()} == {
                (("sepeda",), ())}
            transaction.set_rollback(True)
    # (the COPY path may ANALYZE once more as the registry grows: not a query per household)
    assert all(more - fewer <= 1 for fewer, more in zip(counts[:2], counts[2:], strict=True))
