"""Review of the import of the household's DTKS lists (branch import-lists): each test fails on
the merged code (da38e8f) and names the behaviour the README promises."""

import re

import pytest

from dinsos import selectors as kernel_selectors
from dinsos.importing import ImportReport
from pmks.models import Household
from tests.factories import DESA_PANDEGLANG
from tests.pmks.test_import import HEADER, csv_bytes
from tests.pmks.test_import_excel import run as run_batch
from tests.pmks.test_import_lists import budi, family, run, siti  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db]

#: what no stored message may hold: the C0 control characters but tab and line breaks
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # what the task commits
@pytest.mark.usefixtures("import_path")
@pytest.mark.parametrize("cell", ["lahan\x00", "lahan;mobil\x00"])
def test_a_nul_in_a_list_cell_is_a_row_error_not_a_batch_left_running(pandeglang_operator, cell):
    """A NUL character in an aset cell is a row error on `aset`: the batch ends "diimpor" with
    its errors stored. (It echoed the NUL into the message; PostgreSQL's jsonb refuses it, so
    the batch's own save failed AFTER the import committed the file's other rows: the batch
    stayed "berjalan" with no errors, the task failed and was delivered again.)"""
    from dinsos.models import ImportBatch
    from tests.pmks.test_import_lists import joko

    content = csv_bytes([budi(aset=cell, program="pkh"), joko(aset="", program="")])
    try:
        batch = run_batch(pandeglang_operator, content, "keluarga.csv")
    except Exception as exc:  # noqa: BLE001 - the batch's own save failed: the defect
        state = list(ImportBatch.objects.values_list("status", flat=True))
        stored = Household.objects.count()
        pytest.fail(f"the batch could not be saved ({exc.__class__.__name__}); batch {state}, "
                    f"{stored} household(s) committed")
    assert batch.status == "diimpor", batch.message
    assert [(e["row"], e["column"]) for e in batch.errors] == [(2, "aset")]
    assert "\x00" not in batch.errors[0]["message"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("import_path")
@pytest.mark.parametrize(("column", "cell"), [
    ("alamat", "Kp. Sumur\x00 RT 01"), ("kode_desa", "\x00" + DESA_PANDEGLANG),
    ("program", "pkh\x00"), ("nama", "Budi\x07 Santoso")])
def test_a_control_character_in_any_cell_is_a_row_error_naming_its_column(
        pandeglang_operator, column, cell):
    """Not only the lists: a NUL (or another control character) in any cell is a row error on
    that column alone, its message without it; the file's other rows are imported and the
    batch ends "diimpor" (a NUL in alamat or kode_desa also reached PostgreSQL)."""
    from tests.pmks.test_import_lists import joko

    content = csv_bytes([budi(**{"aset": "lahan", "program": "pkh", column: cell}),
                         joko(aset="", program="")])
    batch = run_batch(pandeglang_operator, content, "keluarga.csv")
    assert batch.status == "diimpor", batch.message
    assert [(e["row"], e["column"]) for e in batch.errors] == [(2, column)]
    assert not CONTROL.search(batch.errors[0]["message"])
    assert list(Household.objects.values_list("address", flat=True)) == ["Kp. B"]


@pytest.mark.usefixtures("import_path")
def test_a_control_character_in_a_column_the_import_does_not_read_rejects_nothing(
        pandeglang_operator):
    """A column the importer does not know is not read (a note says so): a control character
    in it stores nothing and rejects no row."""
    report = run(pandeglang_operator, [{**budi(aset="lahan", program="pkh"),
                                        "catatan": "x\x00y"}], header=[*HEADER, "catatan"])
    assert report.errors == []
    assert Household.objects.count() == 1


def test_a_rejected_rows_message_is_stored_without_control_characters():
    """The guard behind the reader: whatever message echoes a cell, the report stores it
    without the control characters jsonb (NUL) or a person's screen cannot take."""
    report = ImportReport()
    report.reject(2, [("aset", "aset tidak dikenal: 'lahan\x00\x1b'")])
    report.hold(3, "nama\x00", "nama 'Budi\x00'")
    assert [(e["column"], e["message"]) for e in report.errors] == [
        ("aset", "aset tidak dikenal: 'lahan'"), ("nama", "nama 'Budi'")]


def _history(household):
    return [sorted(c["field"] for c in entry["changes"])
            for entry in kernel_selectors.history(obj=household)]


@pytest.mark.usefixtures("import_path")
def test_one_import_that_changes_a_field_and_a_list_is_one_history_entry(
        family, pandeglang_operator):  # noqa: F811
    """A re-import that changes a household's address and its aset is ONE entry in the
    household's history naming both (as the row lane writes it; README: one audit entry per
    chunk and model), not one entry for the fields and a second one for the lists."""
    before = len(_history(family))
    report = run(pandeglang_operator, [budi(alamat="Kp. Baru", aset="mobil", program="pkh"),
                                       siti(alamat="Kp. Baru", aset="mobil", program="pkh")])
    assert report.errors == []
    entries = _history(Household.objects.get(pk=family.pk))
    assert len(entries) == before + 1
    assert entries[0] == ["Alamat", "Aset", "Aset"]  # the aset added and the ones removed


@pytest.mark.usefixtures("import_path")
def test_a_list_code_renamed_since_the_last_import_reads_the_same_on_both_lanes(
        pandeglang_operator):
    """The province renames an asset's code in the admin (Aset "Lemari es/kulkas": lemari-es →
    kulkas). The same file imported again names the old code: every lane answers as the row
    lane does — a row error on `aset` naming 'lemari-es' — not "unchanged" from the rows'
    fingerprints (the cells are the same, what they mean is not)."""
    from pmks.models import Asset

    rows = [budi(aset="lemari-es", program="pkh"), siti(aset="lemari-es", program="pkh")]
    assert run(pandeglang_operator, rows).errors == []
    Asset.objects.filter(code="lemari-es").update(code="kulkas")
    report = run(pandeglang_operator, rows)
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, "aset"), (3, "aset")]
    assert "'lemari-es'" in report.errors[0]["message"]


@pytest.mark.usefixtures("import_path")
def test_a_name_with_a_comma_added_by_the_province_is_read_whole_on_both_lanes(
        pandeglang_operator):
    """An asset the province adds whose name holds a comma ("Sepeda, sepeda motor") is read
    whole, as ``HouseholdLists`` promises — on the COPY fast lane too, which split it into
    two other known entries (sepeda; sepeda-motor)."""
    from pmks.models import Asset

    Asset.objects.create(code="roda-dua", name="Sepeda, sepeda motor", order=99)
    report = run(pandeglang_operator, [budi(aset="Sepeda, sepeda motor", program="")])
    assert report.errors == []
    household = Household.objects.get(no_kk=budi()["no_kk"])
    assert sorted(household.assets.values_list("code", flat=True)) == ["roda-dua"]


@pytest.mark.usefixtures("import_path")
def test_an_imported_list_change_reads_in_the_history_as_every_other_door_writes_it(
        family, pandeglang_operator):  # noqa: F811
    """The household's Riwayat names an imported list change as the API, admin and staff page
    changes read ("ditambah: Mobil", "dihapus: …" with the entries' names: README, the
    household's lists), not as the codes joined by ";" ("lahan;sepeda-motor → mobil") that the
    import's one entry per chunk keeps (review finding 6, decided at read time)."""
    report = run(pandeglang_operator, [budi(aset="mobil", program="pkh"),
                                       siti(aset="mobil", program="pkh")])
    assert report.errors == []
    texts = [c["text"] for entry in kernel_selectors.history(
        obj=Household.objects.get(pk=family.pk)) for c in entry["changes"]
        if c["field"] == "Aset"]
    assert "ditambah: Mobil" in texts[:2], texts
    assert any(t.startswith("dihapus:") and "Lahan" in t and "Sepeda motor" in t
               for t in texts[:2]), texts
    assert not any(";" in t for t in texts), texts
