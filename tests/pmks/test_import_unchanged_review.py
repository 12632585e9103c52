"""A review of the whole-file answer (``pmks.staging.unchanged_file``): files and steps where it
answers while the row path (and the usual COPY path) might answer otherwise. Each case runs the
same steps on the row path and on the COPY path (``run`` of ``test_import_unchanged_file``).
The five the review found parted on the code before (strict xfails then); each is mended."""


import pytest

from dinsos.tabular import TableError
from pmks import services
from pmks.models import Household, Person
from tests.helpers import postgres_only
from tests.pmks.test_import import HEADER
from tests.pmks.test_import_unchanged_file import (
    AHMAD,
    DEDI,
    KK,
    MAK,
    NENG,
    ROWS,
    UNCHANGED,
    both,
    run,
    text,
)

pytestmark = [pytest.mark.django_db, postgres_only]


# --- found by the review, mended ---------------------------------------------------------

@pytest.mark.parametrize("case", ["doubled quote", "quote across lines", "quotes before a guard"])
def test_a_quote_inside_an_unquoted_cell(pandeglang_operator, monkeypatch, case):
    """PostgreSQL's CSV reader honours a quote anywhere in a cell, Python's only at a cell's
    start: ``Pandeglang""`` reads Pandeglang in PostgreSQL and Pandeglang"" in Python;
    ``Buruh"`` + line break + ``"tani`` is one cell in PostgreSQL and two records in Python;
    ``""'=Pandeglang`` is '=Pandeglang in PostgreSQL (the value stored from '\t'=Pandeglang)
    and =Pandeglang in Python. Each was answered 'all unchanged' while the row path changed a
    person or rejected a row; ``_Plain`` now follows the quotes as a well-formed CSV has them."""
    if case == "doubled quote":
        first = text(ROWS)
        second = first.replace(",Pandeglang,1980-08-17", ',Pandeglang"",1980-08-17', 1)
    elif case == "quotes before a guard":  # '\t'=Pandeglang is stored '=Pandeglang; ""'=P…
        first = text([{**AHMAD, "tempat_lahir": "'\t'=Pandeglang"}, *ROWS[1:]])
        second = first.replace("'\t'=Pandeglang", "\"\"'=Pandeglang")  # reads =Pandeglang
    else:  # the last row's last cell holds a line break (stored from a quoted cell)
        last = {**DEDI, "pekerjaan": "Buruh\r\ntani"}
        first = text([*ROWS[:-1], last])
        second = first.replace('"Buruh\r\ntani"', 'Buruh"\r\n"tani')
    assert second != first
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, first.encode()),
                                               (pandeglang_operator, second.encode())])
    assert whole is False
    assert report.totals() != UNCHANGED


def test_a_header_cell_across_two_lines(pandeglang_operator, monkeypatch):
    """COPY … HEADER skips the whole first record; the import's reader reads the header from
    the first line only, so the line ``x"`` is a data row to it (rejected, 7 rows): the whole
    file answered 6 rows all unchanged."""
    first = text(ROWS)
    header, body = first.split("\r\n", 1)
    second = header.replace(",pekerjaan", ',"pekerjaan\r\nx"') + "\r\n" + body
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, first.encode()),
                                               (pandeglang_operator, second.encode())])
    assert whole is False
    assert report.rows == 7 and report.rejected == 1


@pytest.mark.parametrize("path", ["rows", "copy"])
def test_a_long_cell_in_an_unknown_column(pandeglang_operator, monkeypatch, path):
    """A cell longer than Python's csv module reads (131,072 characters): PostgreSQL read it,
    the column is not fingerprinted, and the whole file answered 'all unchanged'; the import
    failed with a bare ``_csv.Error`` (a system error for the batch). Now the whole file does
    not answer, and the import refuses the file with the row, in Indonesian."""
    header = [*HEADER, "catatan"]
    first = text(ROWS, header=header)
    second = text([{**ROWS[0], "catatan": "x" * 140_000}, *ROWS[1:]], header=header)
    with pytest.raises(TableError, match="baris 2: sel lebih panjang dari 131.072 karakter"):
        run(path, monkeypatch, [(pandeglang_operator, first.encode()),
                                (pandeglang_operator, second.encode())])


def test_a_namesake_of_another_spelling_with_a_lower_id(pandeglang_operator, monkeypatch):
    """Two persons without NIK of one household, name key and birth date but two spellings
    (Mak Icih, imported; Mak Icihh, registered earlier, moved into the household by an
    officer). The COPY path finds the last registered; the row path built its lookup in
    Person's default ordering (by name), so the last by NAME won: it matched Mak Icihh and
    changed her. A row-path defect: the lookup is now by id."""
    def register():
        services.person_register(actor=pandeglang_operator, nik=None, name="Mak Icihh",
                                 birth_date=MAK["tanggal_lahir"], sex="P",
                                 desa_id=MAK["kode_desa"])

    def move():
        services.person_update(actor=pandeglang_operator,
                               person=Person.objects.get(name="Mak Icihh"),
                               household=Household.objects.get(no_kk=KK["A"]))

    data = text(ROWS).encode()
    report, _whole, _state = both(monkeypatch, [register, (pandeglang_operator, data), move,
                                                (pandeglang_operator, data)])
    assert report.totals() == UNCHANGED


def test_a_head_who_lives_in_another_household(pandeglang_operator, monkeypatch):
    """A household's head set (by a queryset update, which leaves the fingerprints) to a
    person of the file who lives in another household. The row path's ``persons_after_save``
    takes the household from a head who left it and gives it to its kepala (Ahmad); the COPY
    path's ``_heads`` left 'same' rows out of that rule and the whole file answered as if
    nothing were to do (head: Neng). Now both make Ahmad the head again."""
    def head_elsewhere():
        Household.objects.filter(no_kk=KK["A"]).update(head=Person.objects.get(nik=NENG["nik"]))

    data = text(ROWS).encode()
    _report, whole, state = both(monkeypatch, [(pandeglang_operator, data), head_elsewhere,
                                               (pandeglang_operator, data)])
    assert whole is False
    assert [h[5] for h in state["households"] if h[0] == KK["A"]] == [AHMAD["nik"]]


# --- cases that held -----------------------------------------------------------------------

def test_quoted_cells_both_readers_read_alike_are_answered_whole(
        pandeglang_operator, monkeypatch):
    """A doubled quote and a delimiter inside a quoted cell, a line break inside a quoted cell,
    an unknown column, a header alias (No. KK) and a column named twice (both readers read the
    first)."""
    rows = [{**AHMAD, "pekerjaan": 'Buruh "tani", harian'}, *ROWS[1:-1],
            {**DEDI, "pekerjaan": "Buruh\r\ntani"}]
    first = text(rows)
    header = ["No. KK" if c == "no_kk" else c for c in HEADER] + ["catatan", "Nama Lengkap"]
    second = text([{**r, "No. KK": r["no_kk"], "catatan": "bebas", "Nama Lengkap": "Lain"}
                   for r in rows], header=header)  # Nama Lengkap: nama again, not read
    assert '"Buruh ""tani"", harian"' in second and '"Buruh\r\ntani"' in second
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, first.encode()),
                                               (pandeglang_operator, second.encode())])
    assert whole is True and report.totals() == UNCHANGED


@pytest.mark.parametrize("edge", ["\u00a0", "\u2003", " ", "\x1c"])
def test_white_space_at_a_cell_edge_takes_the_usual_way(pandeglang_operator, monkeypatch, edge):
    """Python strips a cell (NBSP, EM SPACE, the separators too), PostgreSQL does not: the
    fingerprint differs, so the file is read as usual, and both paths report it unchanged."""
    first = text(ROWS)
    second = first.replace("Ahmad Kepala", f"{edge}Ahmad Kepala{edge}", 1)
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, first.encode()),
                                               (pandeglang_operator, second.encode())])
    assert whole is False and report.totals() == UNCHANGED


def test_an_officer_move_and_a_queryset_move_back_takes_the_usual_way(
        pandeglang_operator, monkeypatch):
    """Ani moved to No. KK B by an officer (a new version), then back by a queryset update
    (no new version): her fingerprint no longer holds."""
    def officer_move():
        services.person_update(actor=pandeglang_operator,
                               person=Person.objects.get(nik=ROWS[1]["nik"]),
                               household=Household.objects.get(no_kk=KK["B"]))

    def move_back():
        Person.objects.filter(nik=ROWS[1]["nik"]).update(
            household=Household.objects.get(no_kk=KK["A"]))

    data = text(ROWS).encode()
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, data), officer_move,
                                               move_back, (pandeglang_operator, data)])
    assert whole is False and report.totals() == UNCHANGED


def test_two_persons_whose_niks_swap_take_the_usual_way(pandeglang_operator, monkeypatch):
    """The file swaps the names of two persons (Neng, Ujang: same birth date): each NIK finds
    a person whose fingerprint is the other row's."""
    first = text(ROWS)
    neng, ujang = ROWS[3]["nik"], ROWS[4]["nik"]
    second = first.replace(neng, "#").replace(ujang, neng).replace("#", ujang)
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, first.encode()),
                                               (pandeglang_operator, second.encode())])
    assert whole is False and report.totals() != UNCHANGED
