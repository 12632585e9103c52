"""A re-import of a CSV file that changes nothing is answered from the whole file at once
(issue #11, re-import ≤ 2× the COPY): the database's own CSV reader loads the file and one join
finds every row to be the row its stored records were last written from
(``pmks.staging.unchanged_file``). These tests hold that answer to the row path's — the same
report, nothing written, no version or change-log row moved — and show that every file it
cannot vouch for takes the usual way: a changed or new row, a row twice, an officer's edit, a
head removed behind the import's back, another district, and the forms the two CSV readers
read apart (a quote inside a cell, a line ``\\.``, a cell that begins with a tab)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from dinsos import names
from pmks import importing, services, staging
from pmks.models import Household, Person
from tests.factories import PersonFactory
from tests.helpers import postgres_only
from tests.pmks.test_import import HEADER, row, xlsx_bytes
from tests.pmks.test_import_fingerprints import AHMAD, ANI, DEDI, KK, NENG, NOTHING, UJANG
from tests.pmks.test_import_paths import D1, nik, snapshot
from tests.pmks.test_import_review import ICIH

pytestmark = [pytest.mark.django_db, postgres_only]

MAK = ICIH
ROWS = [AHMAD, ANI, MAK, NENG, UJANG, DEDI]
UNCHANGED = {**NOTHING, "rows": 6, "accepted": 6, "keluarga_tetap": 3, "orang_tetap": 6}


def text(rows, *, delimiter=",", lineterminator="\r\n", header=HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows([values.get(c, "") for c in header] for values in rows)
    return out.getvalue()


def run(path, monkeypatch, steps, *, dry_run=False):
    """``steps``: (actor, file bytes) imported in turn, or a callable run between them, in a
    transaction rolled back after (``dry_run``: the last import). The last import's report,
    the stored state, and whether ``unchanged_file`` answered it (None: it was not asked)."""
    monkeypatch.setattr(importing, "PATH", path)
    answers = spy(monkeypatch)
    with transaction.atomic():
        for step in steps:
            if callable(step):
                step()
                continue
            actor, data, *name = step
            answers.append(False)  # not asked (yet)
            report = importing.households_import(
                actor=actor, fileobj=io.BytesIO(data), filename=(name or ["keluarga.csv"])[0],
                dry_run=dry_run and step is steps[-1])
        state = snapshot()
        transaction.set_rollback(True)
    return report, state, whole(answers[-1])


def spy(monkeypatch) -> list:
    """From now on, what ``unchanged_file`` answers each import (``Unchanged`` or None)."""
    answers = []
    check = staging.unchanged_file
    monkeypatch.setattr(staging, "unchanged_file",
                        lambda *args, **kwargs: answers.append(check(*args, **kwargs))
                        or answers[-1])
    return answers


def whole(answer):
    """True: answered whole; "some": only some rows read; False: every row read."""
    if answer is None or answer is False:
        return False
    return True if answer.read is None else "some"


def both(monkeypatch, steps, *, dry_run=False):
    """The row path's answer and the COPY path's, which must be the same."""
    rows = run("rows", monkeypatch, steps, dry_run=dry_run)
    copy = run("copy", monkeypatch, steps, dry_run=dry_run)
    assert copy[0].errors == rows[0].errors
    assert copy[0].totals() == rows[0].totals()
    for part in ("households", "persons", "changes"):  # heads too; the change log
        assert copy[1][part] == rows[1][part]
    return copy[0], copy[2], copy[1]


@pytest.mark.parametrize("form", [
    {},
    {"lineterminator": "\n"},
    {"delimiter": ";", "bom": True},
    {"encoding": "cp1252"},
])
def test_an_unchanged_file_is_answered_whole_as_the_row_path_answers(
        pandeglang_operator, monkeypatch, form):
    form = dict(form)
    bom, encoding = form.pop("bom", False), form.pop("encoding", "utf-8")
    rows = [*ROWS[:-1], {**DEDI, "nama": "Dédi Rohendi"}]  # é: cp1252 is not UTF-8
    data = (("\ufeff" if bom else "") + text(rows, **form)).encode(encoding)
    report, whole, state = both(monkeypatch, [(pandeglang_operator, data)] * 2)
    assert whole is True
    assert report.totals() == UNCHANGED


def test_a_dry_run_and_a_province_operator_are_answered_whole(
        pandeglang_operator, province_operator, monkeypatch):
    data = text(ROWS).encode()
    steps = [(pandeglang_operator, data), (province_operator, data)]
    report, whole, _state = both(monkeypatch, steps, dry_run=True)
    assert whole is True and report.totals() == UNCHANGED


def test_twins_without_nik_are_answered_whole(pandeglang_operator, monkeypatch):
    """Two persons without NIK born the same day in one No. KK, of two names: each row finds
    its own person, so the file is answered whole."""
    data = text([*ROWS, {**MAK, "nama": "Mak Iyah"}]).encode()
    report, whole, _state = both(monkeypatch, [(pandeglang_operator, data)] * 2)
    assert whole is True
    assert report.totals() == {**UNCHANGED, "rows": 7, "accepted": 7, "orang_tetap": 7}


def changed_row():
    return [*ROWS[:-1], {**DEDI, "pekerjaan": "Guru"}]


def officer_edit(actor):
    def edit():
        services.person_update(actor=actor, person=Person.objects.get(nik=ANI["nik"]),
                               occupation="Guru")
    return edit


def head_removed():
    """A write that leaves ``updated_at`` behind (a queryset update): the fingerprint still
    holds, but the row path would make the head the head again."""
    Household.objects.filter(no_kk=KK["A"]).update(head=None)


def later_namesake():
    """Another person without NIK, same household, name and birth date, registered later: the
    row path finds this one (the last), which holds no fingerprint."""
    PersonFactory(nik=None, name="Mak Icih", name_key=names.name_key("Mak Icih"),
                  birth_date=MAK["tanggal_lahir"], sex="P", household=Household.objects.get(
                      no_kk=KK["A"]), desa_id=MAK["kode_desa"])


#: 30 more unchanged rows (10 households of 3), so a few changes leave most rows unread
FILLER = [
    row(no_kk=f"3601011204161{h:03d}", alamat=f"Kp. Isi {h}", nik=nik(D1, sex, 300 + 3 * h + m),
        nama=f"Warga {chr(65 + h)}{chr(65 + m)}", tanggal_lahir="1980-08-17",
        jenis_kelamin=sex, hubungan=relation)
    for h in range(10)
    for m, (sex, relation) in enumerate([("L", "kepala"), ("P", "pasangan"), ("L", "anak")])
]


@pytest.mark.parametrize("filled", [False, True])
@pytest.mark.parametrize("case", ["changed", "new row", "row twice", "officer", "head",
                                  "namesake", "without NIK twice", "other district",
                                  "first import"])
def test_a_file_that_changes_something_takes_the_usual_way(
        pandeglang_operator, lebak_operator, monkeypatch, case, filled):
    """The import reads every row of a file that changed more than ``PARTIAL_SHARE``, and
    only the changed rows and the rows they touch of one that changed less (``filled``: 30
    more unchanged rows): the answers are the row path's either way."""
    tail = FILLER if filled else []

    def upload(rows, actor=pandeglang_operator):
        return actor, text([*rows, *tail]).encode()

    first = upload(ROWS)
    twice = upload([*ROWS, MAK])  # one person without NIK twice
    again = {
        "changed": [first, upload(changed_row())],
        "new row": [first, upload([*ROWS, {**UJANG, "nik": NENG["nik"][:-1] + "9",
                                           "nama": "Asep"}])],
        "row twice": [first, upload([*ROWS, ANI])],
        "officer": [first, officer_edit(pandeglang_operator), first],
        "head": [first, head_removed, first],
        "namesake": [first, later_namesake, first],
        "without NIK twice": [twice, twice],
        "other district": [first, upload(ROWS, lebak_operator)],
        "first import": [first],
    }[case]
    report, whole, state = both(monkeypatch, again)
    if case in ("other district", "first import"):
        assert whole is False
    else:
        assert whole == "some" if filled else whole in (False, "some")
    if case == "head":  # the same report, but the import made Ahmad the head again
        assert [h[5] for h in state["households"] if h[0] == KK["A"]] == [AHMAD["nik"]]
    elif case == "without NIK twice":
        assert [(e["row"], e["column"]) for e in report.errors] == [(8, "nama")]
    elif not filled:
        assert report.totals() != UNCHANGED


@pytest.mark.parametrize("case", ["quote inside", "end marker", "guard kept", "blank line",
                                  "header below", "short row", "xlsx"])
def test_a_file_the_two_csv_readers_may_read_apart_takes_the_usual_way(
        pandeglang_operator, monkeypatch, case):
    """Each second file reads, through PostgreSQL's CSV reader, as the rows stored from the
    first; through the import's reader (Python's csv module, which the row path takes) it may
    not. ``quote inside`` and ``guard kept`` differ: answered whole, they would have been
    reported unchanged while the row path changes a name and a birth place."""
    first_rows, second = ROWS, None
    if case == "quote inside":  # PostgreSQL drops the quotes: Ahmad Dede Kepala
        first_rows = [{**AHMAD, "nama": "Ahmad Dede Kepala"}, *ROWS[1:]]
        second = text(first_rows).replace("Ahmad Dede Kepala", 'Ahmad "Dede" Kepala')
    elif case == "end marker":  # before PostgreSQL 17, the data ends at a line "\."
        second = text(ROWS) + "\\.\r\n" + text([{**NENG, "nik": "", "nama": "Lain"}])[
            len(",".join(HEADER)) + 2:]
    elif case == "guard kept":  # a guard apostrophe read once more reads otherwise
        first_rows = [{**AHMAD, "tempat_lahir": "'\t'=Pandeglang"}, *ROWS[1:]]  # '=Pan…
        second = text([{**AHMAD, "tempat_lahir": "'=Pandeglang"}, *ROWS[1:]])  # reads =Pan…
    elif case == "blank line":
        second = text(ROWS) + "\r\n"
    elif case == "header below":
        second = ",,,\r\n" + text(ROWS)
    elif case == "short row":
        second = text(ROWS)[:-len("\r\n")].rsplit(",", 1)[0] + "\r\n"  # its last cell left out
    steps = [(pandeglang_operator, text(first_rows).encode())]
    if case == "xlsx":
        steps.append((pandeglang_operator, xlsx_bytes(ROWS), "keluarga.xlsx"))
    else:
        steps.append((pandeglang_operator, second.encode()))
    report, whole, state = both(monkeypatch, steps)
    assert whole is False
    if case == "quote inside":
        assert report.totals()["orang_diubah"] == 1
        assert report.totals() != UNCHANGED
    if case == "guard kept":
        assert report.totals()["orang_diubah"] == 1


@pytest.mark.parametrize("path", ["rows", "copy"])
def test_a_guard_apostrophe_before_a_tab_leaves_no_tab(pandeglang_operator, monkeypatch, path):
    """The CSV reader stripped a cell before taking its guard apostrophe off, so ``'\tKp``
    read ``\tKp``: the row path strips each cell again, the COPY path's fast lane took it as
    it was and stored the tab (and took a cell ``'\t`` for a filled address)."""
    monkeypatch.setattr(importing, "PATH", path)
    report = importing.households_import(
        actor=pandeglang_operator, filename="keluarga.csv", dry_run=False,
        fileobj=io.BytesIO(text([{**AHMAD, "tempat_lahir": "'\tPandeglang"},
                                 {**ANI, "alamat": "'\t"}]).encode()))
    assert [(e["row"], e["column"]) for e in report.errors] == [(3, "alamat")]
    assert Person.objects.get().birth_place == "Pandeglang"


def test_a_batch_re_import_is_answered_whole_with_its_progress(
        pandeglang_operator, monkeypatch, settings, tmp_path):
    """Through the upload and the task (``import_submit`` → ``import_run``): the stored file is
    read from its start, the batch is imported and shows every row done."""
    from dinsos import importing as kernel
    from dinsos.models import ImportBatch

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(importing, "PATH", "copy")
    answers = spy(monkeypatch)
    data = ("\ufeff" + text(ROWS)).encode()

    def submit():
        batch = kernel.import_submit(actor=pandeglang_operator, kind="pmks_keluarga",
                                     upload=SimpleUploadedFile("keluarga.csv", data),
                                     dry_run=False, run_now=True)
        batch.refresh_from_db()
        return batch

    first = submit()
    assert first.status == ImportBatch.Status.IMPORTED and answers == [None]
    again = submit()
    assert [whole(a) for a in answers] == [False, True]
    assert again.status == ImportBatch.Status.IMPORTED
    assert (again.rows_done, again.rows_total) == (6, 6)
    assert again.totals == UNCHANGED and again.errors == []


@pytest.mark.parametrize("change", ["occupation", "moves household"])
def test_a_few_changed_rows_are_read_with_the_rows_they_touch_and_no_other(
        pandeglang_operator, monkeypatch, change):
    """Dedi's occupation changes: his row alone is read (his household has no other row).
    Neng moves to Ahmad's No. KK: her row, every row of the household she joins and of the
    one she leaves (its head may change). The 30 filler rows are never read."""
    second = {"occupation": changed_row(),
              "moves household": [*ROWS[:3], {**NENG, "no_kk": KK["A"]}, *ROWS[4:]]}[change]
    steps = [(pandeglang_operator, text([*ROWS, *FILLER]).encode()),
             (pandeglang_operator, text([*second, *FILLER]).encode())]
    report, whole, _state = both(monkeypatch, steps)
    assert whole == "some"
    answers = spy(monkeypatch)
    run("copy", monkeypatch, steps)
    found = answers[-1]
    read = {"occupation": {7}, "moves household": {2, 3, 4, 5, 6}}[change]
    assert (found.read, found.skipped) == (read, 36 - len(read))
    assert found.households == {"occupation": 12, "moves household": 11}[change]
    assert report.rows == 36 and report.totals()["orang_tetap"] >= found.skipped
