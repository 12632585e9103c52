"""Cells of a data officer's spreadsheet that the import used to misread (the import audit of
December 2026, /tmp/aud-imp-report): each is refused on its row and column with an Indonesian
reason — or read as the cell shows it — the same way on both paths (row by row, and COPY on
PostgreSQL) and both lanes of the COPY path."""


import pytest

from pmks.models import Household, Person
from tests.pmks.test_import import KK_1, KK_2, NIK_HEAD, row
from tests.pmks.test_import_excel import csv_bytes, run, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]


def errors(batch) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for error in batch.errors:
        found.setdefault(error["row"], []).append((error["column"], error["message"]))
    return found


# --- over-long text cells ---------------------------------------------------------------------

LONG = {
    "rt": ("RT 001", 3),
    "alamat": ("Kp. Sumur " + "x" * 353, 255),
    "nama": ("Budi " + "Santoso " * 21 + "Jaya", 150),
    "tempat_lahir": ("P" * 101, 100),
    "pekerjaan": ("Buruh " * 17, 100),
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
def test_a_cell_longer_than_its_field_is_refused_on_its_column(fmt, dry_run,
                                                               pandeglang_operator):
    """A cell longer than its field (RT "RT 001" for three characters): the dry run said
    "accepted" and the real import on PostgreSQL failed the whole batch with "current
    transaction is aborted"; SQLite stored it."""
    rows = [row(nik="", nama=f"Orang {column}", tanggal_lahir="1950-01-01", hubungan="famili",
                **{column: text}) if column != "nama" else
            row(nik="", tanggal_lahir="1950-01-01", hubungan="famili", nama=text)
            for column, (text, _limit) in LONG.items()]
    rows = [row()] + [{**r, "no_kk": KK_2} for r in rows]  # a good row, then the long ones
    content = xlsx(rows) if fmt == "xlsx" else csv_bytes(rows)
    batch = run(pandeglang_operator, content, f"keluarga.{fmt}", dry_run=dry_run)
    assert batch.status == ("diperiksa" if dry_run else "diimpor"), batch.message
    assert batch.totals["rejected"] == len(LONG)
    found = errors(batch)
    for number, (column, (text, limit)) in enumerate(LONG.items(), start=3):
        assert (column, f"paling banyak {limit} karakter; sel ini berisi {len(text.strip())} "
                        "karakter") in found[number], found
    if not dry_run:
        assert Person.objects.get().nik == NIK_HEAD
        assert list(Household.objects.values_list("no_kk", flat=True)) == [KK_1]
