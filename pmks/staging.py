"""The household import on PostgreSQL: COPY into a staging table, then set-based SQL.

First, the whole file is checked (``unchanged_file``): PostgreSQL's own CSV reader COPYs a
CSV into a temporary table and one join finds the rows that are exactly the rows their stored
records were last written from (the fingerprints of 1. below). A file that changes nothing is
answered at once; of one with a few changed rows only those and the rows they touch are read
below; any other file — or one the two CSV readers might read apart — is read whole.

``pmks.importing`` hands this module the file in chunks of rows. Per chunk:

1. two lanes into a TEMP staging table that holds the whole file (so in-file rules see
   earlier chunks), both by COPY (psycopg2 ``copy_expert``): the fast lane copies plain
   text rows as they are into a raw table and checks the canonical forms in SQL (ISO or
   day-first dates, labels and sexes by a lookup the Python parsers fill, No. KK and NIK as
   ``dinsos.validators`` checks them, the desa of the area, the required cells), typing the
   rows that pass (``raw_text``, ``copy_raw``); every other row — another form, an error, an
   Excel number cell — is read by ``pmks.importing.parse_row`` as on the row path, so its
   message is the row path's, and copied typed if it passes (``load``).
   Before that, a raw row that is exactly the row its stored person and household were
   last written from — the same cells, and neither record written since — is staged from
   those records as 'same' and skips the checks, matching and comparisons below (a re-import
   of an unchanged file reads each row once): every record the fast lane writes keeps the
   fingerprint of its row's cells and the ``updated_at`` it was written with
   (``import_digest``, ``import_stamp``), and every other write moves ``updated_at``, so the
   fingerprint holds only while nothing else wrote the record (``_same_sql``, ``_fingerprints``).
   A household's DTKS lists (``aset``, ``program``) are staged as their sorted codes joined
   by ";", read in SQL by the lookup (``_list_sql``) or by ``HouseholdLists`` in Python;
2. the rules that need other rows are set-based: the first row of a No. KK defines the
   household (later rows that differ are rejected, naming the columns), a NIK appears once,
   and so does a person without NIK (name key and birth date in one No. KK) and a kepala
   keluarga (one per No. KK); a row that makes someone the kepala of a stored household that
   has another living kepala is refused unless the file's rows so far change that one
   (``one_kepala``);
   a stored No. KK or NIK of another area answers as any registration of an existing one;
   only a stored NIK whose name differs goes back to Python (``names.same_name``, the
   identity-clash hold of the row path). Every statement reads only the chunk's range of
   row numbers (one index probe per row for "the first row of this No. KK / NIK");
3. households and persons that are new or differ (one join with the stored rows) are
   upserted with ``INSERT … ON CONFLICT … DO UPDATE … WHERE (changed)`` (a person without
   NIK: matched by household, name key and birth date), so a re-import that changes nothing
   writes — and locks — nothing (only an unchanged record that lacks its row's fingerprint
   gets it, once, without a new version); the lists that differ are replaced in the link
   tables in one statement (``_write_lists``); heads of household follow set-based;
4. ONE audit entry per chunk and model (``dinsos.audit.log_batch``) names the row range, the
   ids created and each updated id's old → new values, so one person's history is still
   read from it; the sync change log gets every created or changed row in one INSERT.

The same rules and the same row errors (row, column, reason) as the row-by-row path that
SQLite takes; ``tests/pmks/test_import_paths.py`` runs the import files through both, and
each form of cell through both lanes; ``tests/pmks/test_import_fingerprints.py`` holds the
'same' rows to the row path's answers.
"""

import csv
import io
import json
import re
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos import audit, changes, names
from dinsos.importing import EARLIEST_BIRTH, already_registered
from dinsos.scoping import ALL
from dinsos.tabular import csv_delimiter
from dinsos.validators import VALID_PROVINCE_CODES
from pmks.calculations import OPEN_STATUSES
from pmks.importing import (
    HOUSEHOLD_MAP,
    KEPALA_STORED,
    KEPALA_TWICE,
    KEPT_WHEN_ABSENT,
    LIST_COLUMNS,
    MATCHED_OUTSIDE,
    MATCHED_SEX,
    PERSON_MAP,
    SAME_PERSON,
    TEXT_LIMITS,
)
from pmks.models import (
    Asset,
    Case,
    Household,
    HouseholdAsset,
    HouseholdProgram,
    Person,
    Program,
)

STAGE = "pmks_import_stage"
TEMP_BUFFERS = "256MB"  # the session's buffers for the staging tables (PostgreSQL temp_buffers)
CHUNK_WORK_MEM = "64MB"  # the session's work_mem for the chunks' statements (see _session)
RAW = "pmks_import_raw"  # the fast lane: one chunk of the file's cells, as text
LOOKUP = "pmks_import_lookup"  # (column, cell text) -> value: desa codes, labels, sexes
HOUSEHOLD_COLUMNS = ["address", "rt", "rw", "desa_id", "decile", "floor", "wall",
                     "water_source", "lighting", "cooking_fuel", "toilet"]
PERSON_COLUMNS = ["name", "birth_place", "birth_date", "sex", "relationship", "disability",
                  "schooling", "occupation", "desa_id", "name_key", "household_id",
                  "marital_status", "chronic_illness"]
#: the person's staged fields, in COPY order (``load``)
PERSON_STAGED = ["nik", "name", "name_key", "birth_place", "birth_date", "sex", "relationship",
                 "disability", "schooling", "occupation", "marital_status", "chronic_illness"]
#: staged columns, in COPY order
STAGED = ["row", "no_kk", *HOUSEHOLD_COLUMNS, *PERSON_STAGED]
#: the person fields written as '' where the staging table holds NULL (a new person, a
#: column the file leaves out)
EMPTY_AS_BLANK = ("birth_place", "relationship", "schooling", "occupation", "marital_status",
                  "chronic_illness")
#: a new person's value where the staging table holds NULL (a column the file leaves out)
PERSON_DEFAULT = {**dict.fromkeys(EMPTY_AS_BLANK, "''"), "disability": "'tidak'"}
NULLABLE = ["decile", "nik", "birth_date", "sex"]  # an empty cell is NULL, not ''
#: the file's columns read through LOOKUP (choices, sex, desa) and the staged field they fill
LOOKED_UP = {"lantai": "floor", "dinding": "wall", "sumber_air": "water_source",
             "penerangan": "lighting", "bahan_bakar": "cooking_fuel", "jamban": "toilet",
             "hubungan": "relationship", "disabilitas": "disability", "pendidikan": "schooling",
             "status_kawin": "marital_status", "penyakit_kronis": "chronic_illness",
             "jenis_kelamin": "sex", "kode_desa": "desa_id"}
#: the file's text columns, staged as they are
AS_IS = {"alamat": "address", "rt": "rt", "rw": "rw", "tempat_lahir": "birth_place",
         "pekerjaan": "occupation"}
#: the household's DTKS lists: staged field → (link table, its item column, item table). A
#: list is staged as its codes, sorted (byte order, as Python sorts them) and joined by ";"
#: ("" for none), as ``pmks.importing.HouseholdLists.read`` gives them
LISTS = {"assets": (HouseholdAsset._meta.db_table, "asset_id", Asset._meta.db_table),
         "programs": (HouseholdProgram._meta.db_table, "program_id", Program._meta.db_table)}
#: the file's cells a household is written from (``pmks.importing.HOUSEHOLD_MAP``; the lists
#: last, so a file without them fingerprints as before they were added: ``_cells``)
HOUSEHOLD_CELLS = ("no_kk", "alamat", "rt", "rw", "kode_desa", "desil", "lantai", "dinding",
                   "sumber_air", "penerangan", "bahan_bakar", "jamban", *LIST_COLUMNS)
#: the file's cells a person is written from (its desa is the row's, its household the No. KK's)
PERSON_CELLS = ("no_kk", "kode_desa", "nik", "nama", "tempat_lahir", "tanggal_lahir",
                "jenis_kelamin", "hubungan", "disabilitas", "pendidikan", "pekerjaan",
                *KEPT_WHEN_ABSENT)


def _held(field: str, household: str) -> str:
    """SQL: the stored list ``field`` of the household whose id is ``household``, as staged
    (codes sorted in byte order, joined by ";"; "" for none)."""
    link, item, items = LISTS[field]
    return (f"""(SELECT coalesce(string_agg(i.code, ';' ORDER BY i.code COLLATE "C"), '')
                 FROM {link} x JOIN {items} i ON i.id = x.{item}
                 WHERE x.household_id = {household})""")


def _lists_differ(household: str, staged: str, fields) -> str:
    """SQL: a staged row's lists ``fields`` (those the file has) differ from those its
    household (id ``household``) holds."""
    return "(" + (" OR ".join(f"{staged}.{f} IS DISTINCT FROM {_held(f, household)}"
                              for f in fields) or "false") + ")"


def _as_dict(diff) -> dict:
    """A jsonb diff as the driver returns it (a dict, or its text)."""
    return json.loads(diff) if isinstance(diff, str) else dict(diff)


def _distinct(left: str, right: str, columns) -> str:
    return (f"({', '.join(f'{left}.{c}' for c in columns)}) IS DISTINCT FROM "
            f"({', '.join(f'{right}.{c}' for c in columns)})")


def _valid_day(year: str, month: str, day: str) -> str:
    """SQL: whether the integers ``year``-``month``-``day`` make a calendar date (arithmetic
    only, so it never raises; NULL when a part is NULL)."""
    leap = f"(mod({year}, 4) = 0 AND (mod({year}, 100) <> 0 OR mod({year}, 400) = 0))"
    return (f"({year} >= 1 AND {day} >= 1 AND {day} <= (ARRAY[31, 29, 31, 30, 31, 30, 31, 31, "
            f"30, 31, 30, 31])[{month}] - CASE WHEN {month} = 2 AND NOT {leap} THEN 1 ELSE 0 "
            "END)")


def _region_and_serial(number: str) -> str:
    """SQL, for 16 digits: a known province, a kab/kota other than 00, a serial other than
    0000 (``dinsos.validators``: ``_check_region`` and ``_check_serial``)."""
    return (f"substr({number}, 1, 2) = ANY(%(provinces)s) AND substr({number}, 3, 2) <> '00' "
            f"AND substr({number}, 13, 4) <> '0000'")


def _cells(alias: str, columns) -> str:
    """SQL: the fingerprint of a raw row's cells: a 64-bit hash of each cell, seeded with its
    position (so two cells that trade places change it), all XOR-ed together. It is only ever
    compared with the fingerprint of the row that wrote the same record, so a clash needs one
    changed row in 2^64. Hashing the cells as one record's text (``ROW(…)::text``) cost twice
    as much per row, an md5 as a uuid three times more again. A NULL cell (the file's cells
    never are) makes no fingerprint: such a row takes the ordinary way — except a column a
    file may leave out (``KEPT_WHEN_ABSENT``), NULL where the file has no such column: it adds
    nothing, so a file without it fingerprints as before the column was added, and apart
    from one that has it empty (which clears the stored value)."""
    return "(" + " # ".join(
        f"coalesce(hashtextextended({alias}.{c}, {_seed(c, i)}), 0)" if c in KEPT_WHEN_ABSENT
        else f"hashtextextended({alias}.{c}, {i:d})" for i, c in enumerate(columns)) + ")"


def _seed(column: str, position: int) -> str:
    """SQL: the seed of a cell's hash in a fingerprint (``_cells``): its position — and for a
    list cell also a digest of its list's entries (code and name, read once per statement):
    what a cell names depends on them, so a code or name the province edits in the admin
    (lemari-es → kulkas) changes every fingerprint of a row with that list, and the same file
    is read again (by ``_list_sql`` or ``HouseholdLists``: the old code a row error on both
    lanes), never answered "unchanged" from the rows' fingerprints."""
    if column not in LIST_COLUMNS:
        return f"{position:d}"
    items = LISTS[LIST_COLUMNS[column]][2]
    return (f"({position:d} # (SELECT hashtextextended(coalesce(string_agg("
            f"code || chr(31) || name, chr(30) ORDER BY code COLLATE \"C\"), ''), 0) "
            f"FROM {items}))")


def _holds(record: str, cells: str) -> str:
    """SQL: ``record`` was last written from a row with these ``cells`` and by nothing since:
    it keeps their fingerprint (``import_digest``) and the ``updated_at`` it was written with
    (``import_stamp``), and every write of a record moves ``updated_at`` — its version, which
    the API's ETag and the staff pages' If-Match read (``dinsos.versions``)."""
    return (f"coalesce({record}.import_digest = {cells} "
            f"AND {record}.import_stamp = {record}.updated_at, false)")


def _outside(area, column: str) -> str:
    """SQL: the desa in ``column`` is outside ``area`` (``ALL``: never)."""
    if area is ALL:
        return "false"
    area = str(area).replace("'", "")
    return f"NOT ({column} = '{area}' OR {column} LIKE '{area}.%%')"


def _diff(old: str, new: str, columns) -> str:
    """A jsonb {column: [old, new]} of the columns that differ (values as text)."""
    parts = [f"CASE WHEN {old}.{c} IS DISTINCT FROM {new}.{c} THEN jsonb_build_object("
             f"'{c}', jsonb_build_array({old}.{c}::text, {new}.{c}::text)) ELSE '{{}}' END"
             for c in columns]
    return "(" + " || ".join(parts) + ")"


def fingerprinted(cursor) -> bool:
    """Whether some stored person keeps the fingerprint of an import row."""
    cursor.execute("SELECT EXISTS (SELECT FROM pmks_person WHERE import_digest IS NOT NULL)")
    return cursor.fetchone()[0]


def _session(cursor) -> None:
    """The import's settings for its own session and transaction."""
    # the staging tables live in the session's local buffers, 8 MB by default: a chunk's
    # statements would write them out and read them back through the disk. The size can only
    # grow before the session's first temporary table (a session that has had one keeps its
    # size); the memory is taken only as the tables fill it.
    try:
        with transaction.atomic():
            cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
    except DatabaseError:
        pass
    # short statements over one chunk: compiling them (JIT) costs more than it saves
    cursor.execute("SET LOCAL jit = off")
    # a chunk's materialized steps (25,000 rows of cells) in memory: with the default 4 MB
    # the fast lane's conversion wrote 16 MB of temporary files a chunk and read them back
    cursor.execute("SELECT set_config('work_mem', %s, true)", [CHUNK_WORK_MEM])


class Stage:
    """The staging table of one import and the set-based steps over one chunk of it."""

    def __init__(self, *, report, area, dry_run: bool, columns=(), lookup=(), today=None,
                 absent=(), whole=None):
        """``columns``: the file's columns, in the order ``raw_text`` writes them; ``lookup``:
        (column, cell text, value) of every text the fast lane may read by lookup, as the
        Python parsers read it; ``today``: the day birth dates must not pass; ``absent``: the
        columns of ``KEPT_WHEN_ABSENT`` the file has not — never copied, staged NULL, and
        their persons keep what they hold (``_keep_absent``); ``whole``: {list column: a
        regular expression of the names holding a separator} (``HouseholdLists.whole_sql``)."""
        self.report, self.area, self.dry_run = report, area, dry_run
        self.whole = whole or {}
        self.columns, self.today = list(columns), today
        self.absent = [c for c in KEPT_WHEN_ABSENT if c in absent]
        self.copied = [c for c in self.columns if c not in self.absent]  # raw_text, copy_raw
        absent_fields = {PERSON_MAP[c] for c in self.absent if c in PERSON_MAP}
        self.person_staged = [f for f in PERSON_STAGED if f not in absent_fields]  # load
        self.household_absent = [HOUSEHOLD_MAP[c] for c in self.absent if c in HOUSEHOLD_MAP]
        self.household_staged = [f for f in HOUSEHOLD_COLUMNS  # load
                                 if f not in self.household_absent]
        # the lists the file has; one it has not is staged NULL and never compared or written
        absent_lists = {LIST_COLUMNS[c] for c in self.absent if c in LIST_COLUMNS}
        self.lists_staged = [f for f in LISTS if f not in absent_lists]
        self.grown = 0  # persons this import created since the registry's statistics
        self.lo = self.hi = 0  # the row numbers of the current chunk (staged rows)
        self.analyzed = 0  # the last row number staged when the staging table was analyzed
        self.same = 0  # rows staged from their stored records (``_same_sql``)
        self.fed_households: set = set()  # the chunk's households written (and so fed)
        self.now = timezone.now()
        self.cursor = connection.cursor()
        self.cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = "
                            "'pmks_person'::regclass")
        self.known = self.cursor.fetchone()[0]  # persons the statistics know of
        # no stored fingerprint (an empty registry, or one never imported by COPY): no row
        # can be 'same', and the first import looks for none (one probe per row saved)
        self.fingerprinted = fingerprinted(self.cursor)
        _session(self.cursor)
        self.cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        self.cursor.execute(f"""
            CREATE TEMP TABLE {STAGE} (
                row integer PRIMARY KEY, no_kk text NOT NULL,
                address text, rt text, rw text, desa_id text, decile smallint, floor text,
                wall text, water_source text, lighting text, cooking_fuel text, toilet text,
                nik text, name text, name_key text, birth_place text, birth_date date,
                sex text, relationship text, disability text, schooling text, occupation text,
                marital_status text, chronic_illness text, assets text, programs text,
                kk_bad boolean NOT NULL DEFAULT false,
                dup boolean NOT NULL DEFAULT false,  -- rejected as a NIK or person twice
                -- NULL: accepted so far; 'rejected' or 'held'; 'same': accepted so far, and
                -- the row its person and household were last written from (copy_raw)
                state text,
                household_id bigint, person_id bigint, person_created boolean,
                h_cells bigint, p_cells bigint  -- the raw cells' fingerprints (fast lane only)
            ) WITH (fillfactor = 50) ON COMMIT DROP""")  # room for HOT updates
        self.cursor.execute(f"CREATE INDEX ON {STAGE} (no_kk, row)")
        self.cursor.execute(f"CREATE INDEX ON {STAGE} (nik, row) WHERE nik IS NOT NULL")
        if self.columns:
            self._fast_lane(lookup)

    def _fast_lane(self, lookup) -> None:
        self.cursor.execute(f"DROP TABLE IF EXISTS {RAW}, {LOOKUP}")
        self.cursor.execute(f"""
            CREATE TEMP TABLE {RAW} (row integer, {', '.join(f'{c} text' for c in self.columns)},
                                     name text, name_key text) ON COMMIT DROP""")
        self.cursor.execute(f"""CREATE TEMP TABLE {LOOKUP} (col text, text text, value text,
                                PRIMARY KEY (col, text)) ON COMMIT DROP""")
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(lookup)
        buffer.seek(0)
        self.cursor.copy_expert(f"COPY {LOOKUP} FROM STDIN WITH (FORMAT csv)", buffer)
        self.cursor.execute(f"ANALYZE {LOOKUP}")

    def close(self, *, failed: bool = False) -> None:
        """Drop the staging tables. After a failed statement (``failed``) the transaction is
        aborted and they go with its rollback (ON COMMIT DROP): nothing more is sent, so the
        error that failed the import is the one raised — a DROP here would replace it with
        PostgreSQL's "current transaction is aborted"."""
        try:
            if not failed:
                self.cursor.execute(f"DROP TABLE IF EXISTS {STAGE}, {RAW}, {LOOKUP}")
        finally:
            self.cursor.close()

    def _sql(self, sql: str, params=()):
        self.cursor.execute(sql, params)
        return self.cursor

    def _rows(self, alias: str = "") -> str:
        """The current chunk's staged rows: a range of the primary key, so no statement over
        one chunk reads the rows of the chunks before it."""
        column = f"{alias}.row" if alias else "row"
        return f"{column} BETWEEN {self.lo:d} AND {self.hi:d}"

    # --- 1. COPY --------------------------------------------------------------------------

    def begin(self, first: int, last: int) -> None:
        """A chunk: the rows numbered ``first`` to ``last`` of the file."""
        self.lo, self.hi = first, last

    def raw_text(self, rows) -> bytes:
        """The fast lane's COPY data of ``rows`` ([(row number, {column: cell text})] of plain
        text cells), UTF-8. Python only, no database: the import prepares the next chunk's
        data in a thread while the database works on the current one (``copy_raw``). Bytes,
        one per character of the usual file: a str read back through ``io.StringIO`` would be
        copied at four bytes per character."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        columns = self.copied
        for number, values in rows:
            name = " ".join(values.get("nama", "").split())
            writer.writerow([number, *[values.get(c, "") for c in columns], name,
                             names.name_key(name)])
        return buffer.getvalue().encode()

    def copy_raw(self, text: bytes) -> list[tuple[int, dict]]:
        """The fast lane. ``text``: plain text rows as ``raw_text`` writes them. Their cells go
        as they are into a raw table with one COPY, and SQL checks the forms
        the generated files and most staff files use — ISO or day-first dates with four-digit
        years, the labels and codes of ``lookup``, No. KK and NIK of 16 digits (region,
        registration date, serial; the NIK agreeing with birth date and sex), a known desa,
        the required cells — exactly as ``pmks.importing.parse_row`` and
        ``dinsos.validators`` do; the rows that pass go to the staging table typed. The
        others are returned (in row order) for the Python parsers, which accept them or say
        what is wrong, with the same messages whichever lane a row took."""
        columns = self.copied
        if not text:
            return []
        if b"\x00" in text:  # PostgreSQL text holds no NUL: the Python parsers answer
            return [(int(cells[0]), dict(zip(columns, cells[1:-2], strict=True)))
                    for cells in csv.reader(io.StringIO(text.decode()))]
        self.cursor.execute(f"TRUNCATE {RAW}")
        self.cursor.copy_expert(f"COPY {RAW} (row, {', '.join(columns)}, name, name_key) "
                                "FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')",
                                io.BytesIO(text))  # a column left out (absent) stays NULL
        if self.fingerprinted:
            self.same += self._sql(self._same_sql()).rowcount
        refused = self._sql(self._convert_sql(), {
            "provinces": sorted(VALID_PROVINCE_CODES), "today": self.today,
            "earliest": EARLIEST_BIRTH,
            **{f"whole_{c}": pattern for c, pattern in self.whole.items()}}).fetchall()
        return [(row, dict(zip(columns, cells, strict=True))) for row, *cells in refused]

    def _same_sql(self) -> str:
        """One statement: the raw rows that are exactly the rows their stored person and
        household were last written from — same cells, and neither record written since
        (``_holds``) — are staged from the stored records as 'same', never converted,
        matched or compared again. Only a NIK of 16 digits finds its person (one index probe
        per row; any other form takes the ordinary way). The in-file rules still see these
        rows (``check``): a later row that differs from them is rejected as before, and they
        are rejected in their turn by an earlier row that differs."""
        # what the in-file rules and the heads read of a row; the rest of the person stays
        # NULL (a narrower staging row: nothing reads it for a 'same' row)
        staged = ["row", "no_kk", *HOUSEHOLD_COLUMNS, *self.lists_staged, "nik", "name_key",
                  "birth_date", "relationship", "state", "household_id", "person_id",
                  "person_created"]
        return f"""
            INSERT INTO {STAGE} ({', '.join(staged)})
            SELECT r.row, h.no_kk, {', '.join(f'h.{c}' for c in HOUSEHOLD_COLUMNS)},
                   {''.join(f'{_held(f, "h.id")}, ' for f in self.lists_staged)}p.nik,
                   p.name_key, p.birth_date, p.relationship, 'same', h.id, p.id, false
            FROM {RAW} r
            CROSS JOIN LATERAL (SELECT * FROM pmks_person p WHERE p.nik = r.nik OFFSET 0) p
            CROSS JOIN LATERAL (SELECT * FROM pmks_household h WHERE h.id = p.household_id
                                OFFSET 0) h
            WHERE h.no_kk = r.no_kk
              AND {_holds('p', _cells('r', PERSON_CELLS))}
              AND {_holds('h', _cells('r', HOUSEHOLD_CELLS))}
              AND NOT {self._outside('p.desa_id')} AND NOT {self._outside('h.desa_id')}"""

    def _convert_sql(self) -> str:
        """One statement: the raw rows that are in canonical form go to the staging table
        typed; the others are returned with their cells."""
        joins = " ".join(f"LEFT JOIN {LOOKUP} l_{c} ON l_{c}.col = '{c}' AND l_{c}.text = r.{c}"
                         for c in LOOKED_UP)
        optional = [c for c in LOOKED_UP if c not in ("jenis_kelamin", "kode_desa")]
        values = {
            "row": "r.row", "no_kk": "r.no_kk",
            **{field: f"r.{c}" for c, field in AS_IS.items()},
            **{field: f"CASE WHEN r.{c} = '' THEN '' ELSE l_{c}.value END"
               for c, field in LOOKED_UP.items() if c in optional},
            "disability": "CASE WHEN r.disabilitas = '' THEN 'tidak' ELSE l_disabilitas.value "
                          "END",
            "sex": "l_jenis_kelamin.value", "desa_id": "l_kode_desa.value",
            "decile": "CASE WHEN r.desil ~ '^([1-9]|10)$' THEN r.desil::smallint END",
            "nik": "NULLIF(r.nik, '')", "name": "r.name", "name_key": "r.name_key",
            "birth_date": "r.birth",
            **{field: f"r.{column}_codes" for column, field in LIST_COLUMNS.items()},
            "h_cells": _cells("r", HOUSEHOLD_CELLS), "p_cells": _cells("r", PERSON_CELLS),
        }
        nik_date = ("substr(r.nik, 7, 2)::int = r.dd + CASE WHEN l_jenis_kelamin.value = 'P' "
                    "THEN 40 ELSE 0 END AND substr(r.nik, 9, 2)::int = r.m "
                    "AND substr(r.nik, 11, 2)::int = mod(r.y, 100)")
        ok = " AND ".join([
            # validate_no_kk: 16 digits, region, registration date DDMMYY (20YY), serial
            f"""CASE WHEN r.no_kk ~ '^[0-9]{{16}}$' THEN {_region_and_serial('r.no_kk')} AND
                {_valid_day("2000 + substr(r.no_kk, 11, 2)::int", "substr(r.no_kk, 9, 2)::int",
                            "substr(r.no_kk, 7, 2)::int")} ELSE false END""",
            "r.alamat <> ''", "r.name <> ''", "l_kode_desa.value IS NOT NULL",
            # each text cell fits its field (parse_row names the column of one that does not)
            *(f"length(r.{c}) <= {limit:d}" for c, limit in TEXT_LIMITS.items()
              if c not in self.absent),
            "l_jenis_kelamin.value IS NOT NULL",
            "r.birth BETWEEN %(earliest)s AND %(today)s",
            *(["(r.desil = '' OR r.desil ~ '^([1-9]|10)$')"] if "desil" not in self.absent
              else []),
            *(f"(r.{c} = '' OR l_{c}.value IS NOT NULL)" for c in optional
              if c not in self.absent),
            # every entry of a list cell a code or name of its list (``_list_sql``)
            *(f"r.{c}_codes IS NOT NULL" for c in LIST_COLUMNS if c not in self.absent),
            # parse_nik + validate_nik_matches: region, serial, DDMMYY of the birth date
            # (+40 on the day for a woman); a NIK that agrees names a real day
            f"""CASE WHEN r.nik = '' THEN true
                     WHEN r.nik ~ '^[0-9]{{16}}$' AND r.birth IS NOT NULL THEN
                         {_region_and_serial('r.nik')} AND {nik_date}
                     ELSE false END""",
        ])
        # the dates the fast lane reads: YYYY-MM-DD, or DD-MM-YYYY with - / or . twice (plain
        # regular expressions: a back-reference would make PostgreSQL's matcher backtrack)
        form = """CASE WHEN tanggal_lahir ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN 1
                       WHEN tanggal_lahir ~ '^[0-9]{2}[-/.][0-9]{2}[-/.][0-9]{4}$'
                        AND substr(tanggal_lahir, 3, 1) = substr(tanggal_lahir, 6, 1) THEN 2
                  END"""

        def part(iso: int, day_first: int, length: int) -> str:
            return (f"CASE form WHEN 1 THEN substr(tanggal_lahir, {iso}, {length})::int "
                    f"WHEN 2 THEN substr(tanggal_lahir, {day_first}, {length})::int END")

        birth = (f"CASE WHEN {_valid_day('y', 'm', 'dd')} AND y >= 1900 "
                 "THEN make_date(y, m, dd) END")
        lists = "".join(f", {self._list_sql(c)} AS {c}_codes" for c in LIST_COLUMNS)
        # the rows _same_sql staged already (none when nothing holds a fingerprint)
        unstaged = (f"WHERE NOT EXISTS (SELECT FROM {STAGE} s WHERE s.row = {RAW}.row)"
                    if self.fingerprinted else "")
        return f"""
            WITH f AS MATERIALIZED (SELECT *, {form} AS form FROM {RAW} {unstaged}),
            d AS (SELECT *, {part(1, 7, 4)} AS y, {part(6, 4, 2)} AS m, {part(9, 1, 2)} AS dd
                  FROM f),
            r AS MATERIALIZED (SELECT *, {birth} AS birth{lists} FROM d),  -- each computed once
            c AS (SELECT r.*, {', '.join(f'{v} AS v_{k}' for k, v in values.items())},
                         coalesce({ok}, false) AS ok
                  FROM r {joins}),
            staged AS (INSERT INTO {STAGE} ({', '.join(values)})
                       SELECT {', '.join(f'v_{k}' for k in values)} FROM c WHERE ok)
            SELECT row, {', '.join(self.copied)} FROM c WHERE NOT ok ORDER BY row"""

    def _list_sql(self, column: str) -> str:
        """SQL: a list cell of the raw row ``d`` as ``HouseholdLists.read`` reads it — its
        entries (split at ; , or a line break) each looked up by ``list_key`` in the lookup,
        the codes sorted and joined by ";" — or NULL (the column absent, an entry unknown, or
        a cell not of printable ASCII, whose spaces and case SQL and Python might fold
        apart, or one naming an entry whose name holds a separator, which Python reads whole
        first): the Python lane reads it then, and names what is wrong."""
        if column in self.absent:
            return "NULL::text"
        key = ("btrim(regexp_replace(translate(lower(t.entry), '-_', '  '), ' +', ' ', 'g'))")
        # such a name holds a ; or , itself (a line break is no printable ASCII): only a
        # cell with one is matched against them
        whole = (f"""WHEN (strpos(d.{column}, ';') > 0 OR strpos(d.{column}, ',') > 0)
                          AND d.{column} ~* %(whole_{column})s THEN NULL"""
                 if column in self.whole else "")
        return f"""CASE WHEN d.{column} = '' THEN ''
                        {whole}
                        WHEN d.{column} ~ '^[ -~]*$' THEN (
            SELECT CASE WHEN count(*) = count(l.value) THEN coalesce(string_agg(
                       DISTINCT l.value COLLATE "C", ';' ORDER BY l.value COLLATE "C"), '') END
            FROM regexp_split_to_table(d.{column}, '[;,]') AS t(entry)
            LEFT JOIN {LOOKUP} l ON l.col = '{column}' AND l.text = {key}
            WHERE {key} <> '') END"""

    def load(self, parsed) -> None:
        """``parsed``: [(row number, household fields, person fields)] that passed the row
        checks in Python, streamed into the staging table with one COPY."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for number, household, person in parsed:
            writer.writerow([
                number, household["no_kk"],
                *("" if household[c] is None else household[c] for c in self.household_staged),
                *(household[c] for c in self.lists_staged),
                *("" if person[c] is None else person[c] for c in self.person_staged),
            ])
        if buffer.tell():
            buffer.seek(0)
            staged = ["row", "no_kk", *self.household_staged, *self.lists_staged,
                      *self.person_staged]
            self.cursor.copy_expert(
                f"COPY {STAGE} ({', '.join(staged)}) FROM STDIN WITH (FORMAT csv, "
                f"FORCE_NULL ({', '.join(NULLABLE)}))", buffer)
        # a TEMP table has no statistics otherwise; the columns the plans filter and join on,
        # again each time the staged rows have doubled (chunks 1, 2, 4, 8…: a chunk's
        # statements read only its range, which the planner bounds by the index itself)
        if self.hi > 2 * self.analyzed:
            self.cursor.execute(f"ANALYZE {STAGE} (row, no_kk, nik, state)")
            self.analyzed = self.hi

    # --- 2. rules over other rows ---------------------------------------------------------

    def check(self) -> None:
        """Reject or hold the chunk's rows the way the row path does, in its order: first the
        in-file rules (row order), then the stored records (row order)."""
        self._keep_absent_households()
        hh = [*HOUSEHOLD_COLUMNS, *self.lists_staged]  # a No. KK's rows agree on its lists too
        columns = {"address": "alamat", "rt": "rt", "rw": "rw", "desa_id": "kode_desa",
                   "decile": "desil", "floor": "lantai", "wall": "dinding",
                   "water_source": "sumber_air", "lighting": "penerangan",
                   "cooking_fuel": "bahan_bakar", "toilet": "jamban",
                   **{field: column for column, field in LIST_COLUMNS.items()}}
        differs = ", ".join(f"CASE WHEN s.{f} IS DISTINCT FROM f.{f} THEN '{col}' END"
                            for f, col in columns.items())
        # each row looks up the first row of its No. KK / NIK through the (no_kk, row) and
        # (nik, row) indexes: one index probe per row of the chunk, whatever came before
        kk_bad = self._sql(f"""
            WITH bad AS (
                SELECT s.row, f.row AS first, array_remove(ARRAY[{differs}], NULL) AS columns
                FROM {STAGE} s CROSS JOIN LATERAL (
                    SELECT * FROM {STAGE} t WHERE t.no_kk = s.no_kk ORDER BY t.row LIMIT 1) f
                WHERE {self._rows('s')} AND f.row < s.row AND {_distinct('s', 'f', hh)})
            UPDATE {STAGE} s SET kk_bad = true, state = 'rejected' FROM bad
            WHERE s.row = bad.row AND {self._rows('s')}
            RETURNING s.row, bad.first, bad.columns""").fetchall()
        nik_dup = self._later_rows("t.nik = s.nik", "{a}.nik IS NOT NULL AND NOT {a}.kk_bad")
        # a person without NIK twice: the same name key and birth date in one No. KK
        # one person twice, one of the rows without NIK: the first row of the No. KK, name key
        # and birth date stands (as the row path's 'named' keys); two NIKs are two persons
        person_dup = self._sql(f"""
            WITH dup AS (
                SELECT s.row, f.first FROM {STAGE} s CROSS JOIN LATERAL (
                    SELECT t.row AS first, t.nik AS first_nik FROM {STAGE} t
                    WHERE t.no_kk = s.no_kk AND t.name_key = s.name_key
                      AND t.birth_date = s.birth_date AND NOT t.kk_bad AND NOT t.dup
                    ORDER BY t.row LIMIT 1) f
                WHERE {self._rows('s')} AND NOT s.kk_bad AND NOT s.dup AND f.first < s.row
                  AND (s.nik IS NULL OR f.first_nik IS NULL))
            UPDATE {STAGE} s SET state = 'rejected', dup = true FROM dup
            WHERE s.row = dup.row AND {self._rows('s')}
            RETURNING s.row, dup.first""").fetchall()
        # a second kepala keluarga of one No. KK (the first among the rows no rule above
        # rejected, as the row path's seen keys record them)
        # (none when the file has no hubungan: no row names a kepala — a 'same' row holds its
        # person's stored relationship, which may be one of two kepala recorded before the
        # rule, as the row path never sees it)
        kepala_dup = [] if "hubungan" in self.absent else self._later_rows(
            "t.no_kk = s.no_kk", "{a}.relationship = 'kepala' AND NOT {a}.kk_bad AND NOT {a}.dup")
        rejected = [(row, [(col, _("berbeda dengan baris %(n)d untuk No. KK yang sama")
                            % {"n": first}) for col in cols]) for row, first, cols in kk_bad]
        rejected += [(row, [("nik", _("NIK sama dengan baris %(n)d") % {"n": first})])
                     for row, first in nik_dup]
        rejected += [(row, [("nama", SAME_PERSON % {"n": first})]) for row, first in person_dup]
        rejected += [(row, [("hubungan", KEPALA_TWICE % {"n": first})])
                     for row, first in kepala_dup]
        for row, problems in sorted(rejected):
            self.report.reject(row, problems)
        self._stored_checks()
        self._match_persons()  # new households get their id here, so they are written
        self._keep_absent()
        self.one_kepala()      # with their head (no UPDATE of every new household after)

    def _later_rows(self, same: str, kind: str) -> list[tuple[int, int]]:
        """Reject (``dup``) each of the chunk's rows of a ``kind`` (a predicate on the row
        ``{a}``) that a row of the same kind before it in the file has already (``same``,
        comparing the earlier row ``t`` with this one ``s``): (row, first row) pairs."""
        return self._sql(f"""
            WITH dup AS (
                SELECT s.row, f.first FROM {STAGE} s CROSS JOIN LATERAL (
                    SELECT t.row AS first FROM {STAGE} t
                    WHERE {same} AND {kind.format(a='t')} ORDER BY t.row LIMIT 1) f
                WHERE {self._rows('s')} AND {kind.format(a='s')} AND f.first < s.row)
            UPDATE {STAGE} s SET state = 'rejected', dup = true FROM dup
            WHERE s.row = dup.row AND {self._rows('s')}
            RETURNING s.row, dup.first""").fetchall()

    def one_kepala(self) -> None:
        """One kepala keluarga per stored household, as ``pmks.importing._Chunk._one_kepala``
        checks it row by row: a chunk's accepted row that makes someone the kepala of a
        stored household is refused while another living, not merged member is its kepala
        and no accepted row of the chunk makes that member something else or moves him away
        (an earlier chunk's rows are written already). A row about a member who already is
        its kepala, or who died or moved away, is not. Set-based; again until no row is
        refused (a refused row keeps its person where he was). The households are locked
        first, as ``pmks.services.lock_households`` locks them for a single save."""
        self._sql(f"""
            SELECT h.id FROM pmks_household h
            WHERE h.id IN (SELECT household_id FROM {STAGE} WHERE {self._rows()}
                             AND state IS NULL AND relationship = 'kepala')
            ORDER BY h.id FOR NO KEY UPDATE""")
        while True:
            refused = [row for (row,) in self._sql(f"""
                WITH kepala AS MATERIALIZED (  -- the stored kepala of the rows' households
                    SELECT q.id, q.household_id FROM pmks_person q
                    WHERE q.household_id IN (
                            SELECT household_id FROM {STAGE} WHERE {self._rows()}
                              AND state IS NULL AND relationship = 'kepala')
                      AND q.relationship = 'kepala' AND q.life_status = 'hidup'
                      AND q.merged_into_id IS NULL),
                staying AS MATERIALIZED (
                    SELECT k.id, k.household_id FROM kepala k WHERE NOT EXISTS (
                        SELECT FROM {STAGE} t WHERE {self._rows('t')} AND t.state IS NULL
                          AND t.person_id = k.id
                          AND (t.relationship IS DISTINCT FROM 'kepala'
                               OR t.household_id IS DISTINCT FROM k.household_id))),
                refused AS (
                    SELECT s.row FROM {STAGE} s LEFT JOIN pmks_person own
                                                ON own.id = s.person_id
                    WHERE {self._rows('s')} AND s.state IS NULL AND s.relationship = 'kepala'
                      AND NOT coalesce(own.life_status <> 'hidup'
                                       OR own.household_id = s.household_id
                                          AND own.relationship = 'kepala', false)
                      AND EXISTS (SELECT FROM staying k WHERE k.household_id = s.household_id
                                    AND k.id IS DISTINCT FROM s.person_id))
                UPDATE {STAGE} s SET state = 'rejected', person_id = NULL,
                                     person_created = NULL
                FROM refused WHERE s.row = refused.row AND {self._rows('s')}
                RETURNING s.row""").fetchall()]  # matched already: no person of its own
            if not refused:
                return
            for row in sorted(refused):
                self.report.reject(row, [("hubungan", KEPALA_STORED)])

    def _outside(self, column: str) -> str:
        return _outside(self.area, column)

    def _stored_checks(self) -> None:
        found = []  # (row, kind, stored name, new name)
        found += [(r, "no_kk", None, None) for (r,) in self._sql(f"""
            SELECT s.row FROM {STAGE} s JOIN pmks_household h ON h.no_kk = s.no_kk
            WHERE {self._rows('s')} AND s.state IS NULL AND {self._outside('h.desa_id')}"""
                                                                 ).fetchall()]
        found += [(r, kind, stored, new) for r, kind, stored, new in self._sql(f"""
            SELECT s.row, CASE WHEN {self._outside('p.desa_id')} THEN 'nik' ELSE 'name' END,
                   p.name, s.name
            FROM {STAGE} s JOIN pmks_person p ON p.nik = s.nik
            WHERE {self._rows('s')} AND s.state IS NULL
              AND ({self._outside('p.desa_id')} OR p.name <> s.name)""").fetchall()]
        # a row without NIK: the member it finds (``_match_persons``, ``importing._by_name``)
        # recorded outside the area, or with a NIK that says another sex
        found += [(r, kind, None, None) for r, kind in self._sql(f"""
            SELECT s.row, CASE WHEN {self._outside('p.desa_id')} THEN 'outside' ELSE 'sex' END
            FROM {STAGE} s JOIN pmks_household h ON h.no_kk = s.no_kk
            CROSS JOIN LATERAL (
                SELECT p.nik, p.desa_id FROM pmks_person p
                WHERE p.household_id = h.id AND p.name_key = s.name_key
                  AND p.birth_date = s.birth_date AND p.merged_into_id IS NULL
                ORDER BY p.id DESC LIMIT 1) p
            WHERE {self._rows('s')} AND s.state IS NULL AND s.nik IS NULL
              AND ({self._outside('p.desa_id')} OR p.nik IS NOT NULL AND s.sex
                   <> CASE WHEN substr(p.nik, 7, 2)::int > 40 THEN 'P' ELSE 'L' END)"""
                                                     ).fetchall()]
        seen, held, rejected, keep_name = set(), [], [], []
        for row, kind, stored, new in sorted(found, key=lambda f: (f[0], f[1] != "no_kk")):
            if row in seen:
                continue
            if kind == "no_kk":
                rejected.append(row)
                self.report.reject(row, [("no_kk", already_registered(Household, "no_kk"))])
            elif kind == "nik":
                rejected.append(row)
                self.report.reject(row, [("nik", already_registered(Person, "nik"))])
            elif kind == "outside":
                rejected.append(row)
                self.report.reject(row, [("nama", MATCHED_OUTSIDE)])
            elif kind == "sex":
                rejected.append(row)
                self.report.reject(row, [("jenis_kelamin", MATCHED_SEX)])
            elif not names.same_name(stored, new):
                held.append(row)
                self.report.hold_identity_clash(row, stored=stored, new=new)
            elif stored.casefold() == new.casefold():
                keep_name.append((row, stored))  # only the case differs: keep the stored one
            else:
                continue
            seen.add(row)
        if rejected:
            self._sql(f"UPDATE {STAGE} SET state = 'rejected' WHERE row = ANY(%s)", [rejected])
        if held:
            self._sql(f"UPDATE {STAGE} SET state = 'held' WHERE row = ANY(%s)", [held])
        if keep_name:
            self._sql(f"""UPDATE {STAGE} s SET name = v.name FROM (SELECT unnest(%s::int[]) AS
                          row, unnest(%s::text[]) AS name) v
                          WHERE s.row = v.row AND {self._rows('s')}""",
                      [[r for r, _n in keep_name], [n for _r, n in keep_name]])

    # --- 3. writes ------------------------------------------------------------------------

    def write(self) -> None:
        hh = HOUSEHOLD_COLUMNS
        firsts = f"""(SELECT DISTINCT ON (no_kk) * FROM {STAGE}
                      WHERE {self._rows()} AND state IS NULL ORDER BY no_kk, row)"""
        # the report counts a household once per file, in the chunk of its first accepted
        # row: a later chunk finds it as an earlier one wrote it (or, in a dry run, did not)
        counted = f"""NOT EXISTS (SELECT FROM {STAGE} e WHERE e.no_kk = s.no_kk
                      AND e.row < {self.lo:d} AND (e.state IS NULL OR e.state = 'same'))"""
        differs = f"({_distinct('h', 's', hh)} OR {_lists_differ('h.id', 's', self.lists_staged)})"
        new, changed, same = self._sql(f"""
            SELECT count(*) FILTER (WHERE h.id IS NULL),
                   count(*) FILTER (WHERE h.id IS NOT NULL AND {differs}),
                   count(*) FILTER (WHERE h.id IS NOT NULL AND NOT {differs})
            FROM {firsts} s LEFT JOIN pmks_household h ON h.no_kk = s.no_kk
            WHERE {counted}""").fetchone()
        # the chunk's households all of whose rows are 'same', and its 'same' rows
        same_households, same_persons = self._sql(f"""
            SELECT count(*) FILTER (WHERE same = rows AND {counted}),
                   coalesce(sum(same), 0)::bigint
            FROM (SELECT no_kk, count(*) AS rows, count(*) FILTER (WHERE state = 'same') AS same
                  FROM {STAGE} WHERE {self._rows()} AND (state IS NULL OR state = 'same')
                  GROUP BY no_kk) s WHERE same > 0""").fetchone()
        same += same_households
        self.report.count("keluarga_baru", new)
        self.report.count("keluarga_diubah", changed)
        if same:
            self.report.count("keluarga_tetap", same)
        if not self.dry_run:  # the rows' persons and households are matched (check)
            # the stored households the chunk changes (a field or a list) are locked first,
            # as every service locks a household before it changes it (``FOR NO KEY UPDATE``
            # in id order: ``pmks.services.lock_households``); the writes that follow read
            # them again (statements of their own), so a save committed while the import
            # waited is what they replace and what the audit entry names as the old value
            self._sql(f"""
                SELECT h.id FROM {firsts} s JOIN pmks_household h ON h.no_kk = s.no_kk
                WHERE {differs} ORDER BY h.id FOR NO KEY UPDATE OF h""")
            created, updated = self._write_households(firsts)
            # ONE audit entry for the chunk's households: a household whose fields and lists
            # both changed is one change of it, naming both
            diffs = {pk: [_as_dict(diff), old, new] for pk, diff, old, new in updated}
            for pk, diff, old, new in self._write_lists(firsts):
                diffs.setdefault(pk, [{}, old, new])[0].update(_as_dict(diff))
            self._log(Household, created, [(pk, *d) for pk, d in diffs.items()])
            self.fed_households = {pk for pk, _a in created} | diffs.keys()
        new, changed, same = self._sql(f"""
            SELECT count(*) FILTER (WHERE p.id IS NULL),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND {self._person_differs()}),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND NOT {self._person_differs()})
            FROM {STAGE} s LEFT JOIN pmks_person p ON p.id = s.person_id
            WHERE {self._rows('s')} AND s.state IS NULL""").fetchone()
        same += same_persons
        self.report.count("orang_baru", new)
        self.report.count("orang_diubah", changed)
        if same:
            self.report.count("orang_tetap", same)
        if not self.dry_run:
            self._write_persons()
            self._heads()
            self._fingerprints(firsts)
            self._statistics(new)

    def _fingerprints(self, firsts: str) -> None:
        """The chunk's accepted fast-lane rows now describe their person and the
        first one its household: where the record does not hold that row's fingerprint yet
        (written before fingerprints, or by someone else since and now the same again), it
        gets it — with the record's own ``updated_at``, so its version and the sync feed do
        not move. A record this import created has it already."""
        self._sql(f"""
            UPDATE pmks_person p SET import_digest = s.p_cells, import_stamp = p.updated_at
            FROM {STAGE} s
            WHERE {self._rows('s')} AND s.state IS NULL
              AND s.p_cells IS NOT NULL AND NOT s.person_created AND p.id = s.person_id
              AND NOT {_holds('p', 's.p_cells')}""")
        self._sql(f"""
            UPDATE pmks_household h SET import_digest = s.h_cells, import_stamp = h.updated_at
            FROM {firsts} s
            WHERE h.no_kk = s.no_kk AND s.h_cells IS NOT NULL AND h.created_at <> %s
              AND NOT {_holds('h', 's.h_cells')}""", [self.now])

    def _statistics(self, created: int) -> None:
        """Once the import has more than doubled the registry its statistics describe (an
        empty one: after the first chunk), ANALYZE the two tables and the change log — a
        transaction's ANALYZE sees its own rows — so the next chunks' lookups are planned for
        the real sizes, not as if the tables were empty (a few times per import: 1, 2, 4…
        chunks). Without it the change log's DELETE of an updated record's previous rows read
        the whole log: 433 of 1,161 s of a 1M import."""
        self.grown += created
        if self.grown > self.known:
            self._sql("ANALYZE pmks_household, pmks_person, dinsos_change")
            self.known, self.grown = self.known + self.grown, 0

    def _write_households(self, firsts: str) -> tuple[list, list]:
        hh = HOUSEHOLD_COLUMNS
        cols = ", ".join(hh)
        updated = self._sql(f"""
            SELECT h.id, {_diff('h', 's', hh)}, h.desa_id, s.desa_id
            FROM {firsts} s JOIN pmks_household h ON h.no_kk = s.no_kk
            WHERE {_distinct('h', 's', hh)}""").fetchall()
        # a new household is written with its id (given by _match_persons) and its head: the
        # chunk's first member registered as head (the foreign key is checked at commit)
        created = self._sql(f"""
            INSERT INTO pmks_household (id, no_kk, head_id, {cols}, created_at, updated_at,
                                        import_digest, import_stamp)
            SELECT s.household_id, s.no_kk, head.person_id,
                   {', '.join(f"COALESCE(s.{c}, '')" if c not in ('decile',) else
                              f"s.{c}" for c in hh)}, %s, %s,
                   s.h_cells, %s
            FROM {firsts} s LEFT JOIN pmks_household h ON h.no_kk = s.no_kk
            LEFT JOIN LATERAL (SELECT t.person_id FROM {STAGE} t
                               WHERE t.no_kk = s.no_kk AND {self._rows('t')}
                                 AND t.state IS NULL AND t.relationship = 'kepala'
                               ORDER BY t.row LIMIT 1) head ON h.id IS NULL
            WHERE h.id IS NULL OR {_distinct('h', 's', hh)}  -- a same row is not even locked
            ON CONFLICT (no_kk) DO UPDATE SET
                {', '.join(f'{c} = EXCLUDED.{c}' for c in hh)}, updated_at = EXCLUDED.updated_at,
                import_digest = EXCLUDED.import_digest, import_stamp = EXCLUDED.import_stamp
            WHERE {_distinct('pmks_household', 'EXCLUDED', hh)}
            RETURNING id, (xmax = 0), desa_id""", [self.now] * 3).fetchall()
        return [(pk, desa) for pk, inserted, desa in created if inserted], updated

    def _write_lists(self, firsts: str) -> list:
        """The lists of the chunk's households (written or new) that differ from what they
        hold, replaced in one statement: only the entries removed are deleted and the ones
        added inserted, set-based; such a household is a new version (``updated_at``, with
        its row's fingerprint, as ``_write_households`` writes it); returned as
        [(id, {list: [old, new]}, desa, desa)] for the chunk's audit entry (``write``: one
        with the fields' changes) and the sync feed. A list the file has not is kept: never
        read or written."""
        if not self.lists_staged:
            return []
        changed = ", ".join(f"s.{f} AS new_{f}, {_held(f, 'h.id')} AS old_{f}"
                            for f in self.lists_staged)
        writes = []
        for field in self.lists_staged:
            link, item, items = LISTS[field]
            differs = f"c.new_{field} IS DISTINCT FROM c.old_{field}"
            writes.append(f"""
                del_{field} AS (DELETE FROM {link} x USING changed c, {items} i
                    WHERE {differs} AND x.household_id = c.id AND i.id = x.{item}
                      AND NOT i.code = ANY(string_to_array(c.new_{field}, ';'))),
                add_{field} AS (INSERT INTO {link} (household_id, {item})
                    SELECT c.id, i.id FROM changed c
                    CROSS JOIN LATERAL unnest(string_to_array(c.new_{field}, ';')) AS n(code)
                    JOIN {items} i ON i.code = n.code
                    WHERE {differs}
                    ON CONFLICT (household_id, {item}) DO NOTHING)""")
        diff = " || ".join(
            f"""CASE WHEN c.new_{f} IS DISTINCT FROM c.old_{f} THEN jsonb_build_object(
                    '{f}', jsonb_build_array(c.old_{f}, c.new_{f})) ELSE '{{}}' END"""
            for f in self.lists_staged)
        updated = self._sql(f"""
            WITH changed AS MATERIALIZED (
                SELECT * FROM (SELECT h.id, h.desa_id, h.created_at, s.h_cells, {changed}
                               FROM {firsts} s JOIN pmks_household h ON h.no_kk = s.no_kk) d
                WHERE {' OR '.join(f'new_{f} IS DISTINCT FROM old_{f}'
                                   for f in self.lists_staged)}),
            {', '.join(writes)},
            moved AS (UPDATE pmks_household h SET updated_at = %s, import_digest = c.h_cells,
                                                  import_stamp = %s
                      FROM changed c WHERE h.id = c.id)
            SELECT c.id, {diff}, c.desa_id, c.desa_id FROM changed c
            WHERE c.created_at <> %s  -- one this import created: in its entry as created
            ORDER BY c.id""", [self.now] * 3).fetchall()
        return updated

    def _match_persons(self) -> None:
        """Each accepted row's household and person, in one pass over the chunk: the person by
        NIK, or without NIK by household, name key and birth date (index probes per row,
        whatever the statistics); a new person gets its id here (not in a dry run), so each
        staged row knows its person before the writes."""
        new_id = ("NULL" if self.dry_run else
                  "nextval(pg_get_serial_sequence('pmks_person', 'id'))")
        new_household = ("NULL::bigint" if self.dry_run else
                         "nextval(pg_get_serial_sequence('pmks_household', 'id'))")
        self._sql(f"""
            -- the chunk's new No. KK, each with its new id, as ONE jsonb value read by key:
            -- never a join that the planner could run as a loop over both sides
            WITH fresh AS MATERIALIZED (
                SELECT jsonb_object_agg(d.no_kk, {new_household}) AS ids
                FROM (SELECT DISTINCT no_kk FROM {STAGE}
                      WHERE {self._rows()} AND state IS NULL) d
                WHERE NOT EXISTS (SELECT FROM pmks_household h WHERE h.no_kk = d.no_kk))
            UPDATE {STAGE} s SET household_id = m.household_id,
                                 person_id = COALESCE(m.found, {new_id}),
                                 person_created = m.found IS NULL
            FROM (SELECT t.row, COALESCE(h.id, ((SELECT ids FROM fresh) ->> t.no_kk)::bigint)
                             AS household_id, CASE
                      WHEN t.nik IS NOT NULL THEN (SELECT p.id FROM pmks_person p
                                                   WHERE p.nik = t.nik)
                      -- the household's members with this name key and birth date, with a
                      -- NIK or not (``pmks.importing._by_name``), by the household and name
                      -- key indexes only (OFFSET 0: never a walk of the primary key or of
                      -- "merged_into IS NULL", i.e. of every person)
                      ELSE (SELECT m.id FROM (
                                SELECT p.id, p.merged_into_id FROM pmks_person p
                                WHERE p.household_id = h.id AND p.name_key = t.name_key
                                  AND p.birth_date = t.birth_date OFFSET 0) m
                            WHERE m.merged_into_id IS NULL
                            ORDER BY m.id DESC LIMIT 1) END
                      AS found
                  FROM {STAGE} t LEFT JOIN LATERAL (SELECT h.id FROM pmks_household h
                                                    WHERE h.no_kk = t.no_kk) h ON true
                  WHERE {self._rows('t')} AND t.state IS NULL) m
            WHERE s.row = m.row AND {self._rows('s')}""")
        # only the case of the name differs from the stored one: keep the stored spelling
        self._sql(f"""UPDATE {STAGE} s SET name = p.name FROM pmks_person p
                      WHERE {self._rows('s')} AND s.state IS NULL AND p.id = s.person_id
                        AND p.name <> s.name AND lower(p.name) = lower(s.name)""")

    def _keep_absent_households(self) -> None:
        """A household column the file leaves out (``absent``): each row of a stored No. KK
        takes the value the household holds, the rows of a new one what it is written with
        ('' or NULL) — before the in-file rules compare a No. KK's rows (two chunks may hold
        one No. KK's rows: the first written, the second finding it stored)."""
        if not self.household_absent:
            return
        fields = self.household_absent
        self._sql(f"""UPDATE {STAGE} s SET {', '.join(f'{f} = h.{f}' for f in fields)}
                      FROM pmks_household h
                      WHERE {self._rows('s')} AND s.state IS DISTINCT FROM 'same'
                        AND h.no_kk = s.no_kk""")
        if blank := [f for f in fields if f != "decile"]:
            self._sql(f"""UPDATE {STAGE} s SET {', '.join(f"{f} = coalesce({f}, '')"
                                                            for f in blank)}
                          WHERE {self._rows('s')} AND s.{blank[0]} IS NULL""")

    def _keep_absent(self) -> None:
        """A person column the file leaves out (``absent``): each matched person keeps the
        value it holds (a new one gets its ``PERSON_DEFAULT`` when written)."""
        fields = [PERSON_MAP[c] for c in self.absent if c in PERSON_MAP]
        if not fields:
            return
        self._sql(f"""UPDATE {STAGE} s SET {', '.join(f'{f} = p.{f}' for f in fields)}
                      FROM pmks_person p
                      WHERE {self._rows('s')} AND s.state IS NULL AND p.id = s.person_id""")

    def _person_differs(self, p: str = "p", s: str = "s") -> str:
        staged = [f"{s}.{c}" for c in PERSON_COLUMNS]
        return (f"({', '.join(f'{p}.{c}' for c in PERSON_COLUMNS)}) IS DISTINCT FROM "
                f"({', '.join(staged)})")

    def _write_persons(self) -> None:
        cols = ", ".join(PERSON_COLUMNS)
        values = ", ".join(f"COALESCE(s.{col}, {PERSON_DEFAULT[col]})" if col in PERSON_DEFAULT
                           else f"s.{col}" for col in PERSON_COLUMNS)
        # with the households a changed person left and joined, where its name changed too
        # (what a household shows of its members: their count, its head's name)
        updated = self._sql(f"""
            SELECT p.id, {_diff('p', 's', PERSON_COLUMNS)}, p.desa_id, s.desa_id,
                   CASE WHEN (p.household_id, p.name) IS DISTINCT FROM (s.household_id, s.name)
                        THEN ARRAY[p.household_id, s.household_id] END
            FROM {STAGE} s JOIN pmks_person p ON p.id = s.person_id
            WHERE {self._rows('s')} AND s.state IS NULL AND {self._person_differs()}"""
                            ).fetchall()
        self._sql(f"""
            INSERT INTO pmks_person (id, nik, {cols}, life_status, created_at, updated_at,
                                     import_digest, import_stamp)
            SELECT s.person_id, s.nik, {values}, 'hidup', %s, %s,
                   s.p_cells, %s
            FROM {STAGE} s LEFT JOIN pmks_person p ON p.id = s.person_id
            WHERE {self._rows('s')} AND s.state IS NULL
              AND (s.person_created OR s.nik IS NOT NULL AND {self._person_differs()})
            ON CONFLICT (nik) DO UPDATE SET
                {', '.join(f'{col} = EXCLUDED.{col}' for col in PERSON_COLUMNS)},
                updated_at = EXCLUDED.updated_at, import_digest = EXCLUDED.import_digest,
                import_stamp = EXCLUDED.import_stamp
            WHERE {self._person_differs('pmks_person', 'EXCLUDED')}""",
                  [self.now] * 3)
        self._sql(f"""UPDATE pmks_person p SET {', '.join(
                          f'{col} = s.{col}' if col not in PERSON_DEFAULT else
                          f"{col} = COALESCE(s.{col}, {PERSON_DEFAULT[col]})"
                          for col in PERSON_COLUMNS)},
                          updated_at = %s, import_digest = s.p_cells, import_stamp = %s
                      FROM {STAGE} s WHERE {self._rows('s')} AND s.state IS NULL
                        AND s.nik IS NULL AND NOT coalesce(s.person_created, false)
                        AND p.id = s.person_id AND {self._person_differs()}""",
                  [self.now] * 2)
        created = self._sql(f"""SELECT person_id, desa_id, household_id FROM {STAGE}
                                WHERE {self._rows()} AND person_created ORDER BY row"""
                            ).fetchall()
        self._log(Person, [(pk, area) for pk, area, _h in created],
                  [row[:4] for row in updated])
        # the households whose members these are, fed again (the chunk's own households are
        # fed already: their rows are read with their data at the time of the pull)
        households = {h for *_r, h in created} | {h for *_r, pair in updated for h in pair or ()}
        changes.refresh(Household, sorted(households - {None} - self.fed_households))

    def _heads(self) -> None:
        """The services' rules after saved persons and households (``persons_after_save``,
        ``cases_follow``), set-based over the chunk's accepted rows: open cases follow their
        person and their household; a head who left a household is no longer its head; the
        first member registered as head becomes the head of a household that has none."""
        moved = [pk for (pk,) in self._sql(f"""
            SELECT DISTINCT s.person_id FROM {STAGE} s
            JOIN pmks_case k ON k.person_id = s.person_id
            JOIN pmks_person p ON p.id = s.person_id
            WHERE {self._rows('s')} AND s.state IS NULL AND k.status = ANY(%s)
              AND k.desa_id <> p.desa_id""", [list(OPEN_STATUSES)]).fetchall()]
        if moved:  # rare: the services' own rule, for these persons only
            from pmks.services import cases_follow

            cases_follow(persons=list(Person.objects.filter(pk__in=moved)))
        self._household_cases_follow()
        changed = self._sql(f"""
            WITH lost AS (  -- a stored person who heads a household he no longer belongs to
                SELECT h.id FROM {STAGE} s JOIN pmks_household h ON h.head_id = s.person_id
                WHERE {self._rows('s')} AND (s.state IS NULL OR s.state = 'same')
                  AND s.person_created IS NOT TRUE
                  AND s.household_id IS DISTINCT FROM h.id),
            candidate AS (  -- the first row of a household's living kepala
                SELECT DISTINCT ON (s.household_id) s.household_id AS id, s.person_id
                FROM {STAGE} s JOIN pmks_person p ON p.id = s.person_id
                WHERE {self._rows('s')} AND (s.state IS NULL OR s.state = 'same')
                  AND s.relationship = 'kepala' AND s.household_id IS NOT NULL
                  AND p.life_status = 'hidup'
                ORDER BY s.household_id, s.row),
            change AS (
                SELECT h.id, h.head_id AS old, c.person_id AS new
                FROM lost l JOIN pmks_household h ON h.id = l.id
                LEFT JOIN candidate c ON c.id = h.id
                UNION  -- a household without head, or whose head is no longer its kepala,
                       -- died, moved away or was merged
                SELECT h.id, h.head_id, c.person_id FROM candidate c
                JOIN pmks_household h ON h.id = c.id
                LEFT JOIN pmks_person hp ON hp.id = h.head_id  -- a join, never a subplan
                WHERE h.head_id IS DISTINCT FROM c.person_id  -- a new household's is set
                  AND (hp.id IS NULL OR hp.relationship <> 'kepala'
                       OR hp.life_status <> 'hidup' OR hp.merged_into_id IS NOT NULL))
            UPDATE pmks_household h SET head_id = change.new, updated_at = %s FROM change
            WHERE h.id = change.id AND h.head_id IS DISTINCT FROM change.new
            RETURNING h.id, jsonb_build_object('head', jsonb_build_array(
                change.old::text, change.new::text)), h.desa_id, h.desa_id""",
                            [self.now]).fetchall()
        self._log(Household, [], changed)

    def _household_cases_follow(self) -> None:
        """``cases_follow`` for the chunk's households, in a fixed number of statements
        whatever their number: an open case of a household (Fakir Miskin) whose KK the
        chunk moved to another desa moves with it — its move's locks taken as a case's save
        takes them (``changes.moving``), then the row locked (``FOR NO KEY UPDATE``, in id
        order, as ``case_transition`` locks it), its ``desa`` and version (``updated_at``)
        written — and the chunk's audit entry and the sync feed name it (``left_area`` for
        the kab/kota it left, ``upsert`` for its new one). The rows that follow a case (its
        services, read through ``case__desa``) are fed again as a case's save feeds them
        (``changes.saved_without_signal``). A closed case stays where it happened."""
        moving = f"""
                FROM pmks_case k JOIN pmks_household h ON h.id = k.household_id
                WHERE k.household_id IN (SELECT s.household_id FROM {STAGE} s
                                         WHERE {self._rows('s')} AND s.state IS NULL)
                  AND k.status = ANY(%s) AND k.desa_id <> h.desa_id"""
        ids = [pk for (pk,) in self._sql(f"SELECT k.id {moving}", [list(OPEN_STATUSES)]
                                          ).fetchall()]
        if not ids:
            return
        changes.moving(Case, ids)
        moved = self._sql(f"""
            WITH moved AS MATERIALIZED (
                SELECT k.id, k.desa_id AS old, h.desa_id AS new {moving}
                ORDER BY k.id FOR NO KEY UPDATE OF k)
            UPDATE pmks_case k SET desa_id = moved.new, updated_at = %s FROM moved
            WHERE k.id = moved.id
            RETURNING k.id, jsonb_build_object('desa', jsonb_build_array(moved.old, moved.new)),
                      moved.old, moved.new""", [list(OPEN_STATUSES), self.now]).fetchall()
        self._log(Case, [], moved)
        changes.saved_without_signal(Case, [pk for pk, _d, _o, _n in moved])

    # --- 4. trail and change log ----------------------------------------------------------

    def _log(self, model, created, updated) -> None:
        """``created``: [(pk, area)]; ``updated``: [(pk, {field: [old, new]}, old, new area)]."""
        if not created and not updated:
            return
        rows = self._sql(f"SELECT min(row), max(row) FROM {STAGE} WHERE {self._rows()}"
                         ).fetchone()  # the staged rows of the chunk, by its range
        audit.log_batch(model, rows=rows, created=[pk for pk, _a in created],
                        updated={pk: json.loads(diff) if isinstance(diff, str) else diff
                                 for pk, diff, _o, _n in updated})
        changes.record_saved_bulk(model, [(pk, None, area) for pk, area in created])
        changes.record_saved_bulk(model, [(pk, old, new) for pk, _d, old, new in updated])




# --- 0. a file that changes nothing -------------------------------------------------------

FILE = "pmks_import_file"  # the whole file, as the database's own CSV reader reads it
FILE_WORK_MEM = "128MB"  # the three hash joins and aggregates of the check, in memory
PROBE_ROWS = 1_000  # the file's first rows, checked before the whole file
CHANGED = "pmks_import_changed"  # the file's rows that are not 'same'
TOUCHED_KK = "pmks_import_touched_kk"  # No. KK and NIK whose rows the import must read
TOUCHED_NIK = "pmks_import_touched_nik"
#: the share of the file's rows the import may have to read for the others to be left out
PARTIAL_SHARE = 0.2


class _NotPlain(Exception):
    """The file holds a form the database's CSV reader may read otherwise than the import's."""


class _Plain:
    """The file's bytes for COPY, checked as they stream by. The database's CSV reader and the
    import's (Python's csv module, ``dinsos.tabular``) read a well-formed CSV alike: a quote
    only opens a cell, doubles inside a quoted cell, or closes one before a delimiter or a line
    end. Anywhere else they part (``a "b" c``, ``Pandeglang""``, ``"a"b``: PostgreSQL reads a
    quoted part, Python keeps the quotes), as they do at a line holding only ``\\.`` (before
    PostgreSQL 17, the end of the data: the rest would not be read) and where the import's
    reader changes a cell — it strips spaces and a guard apostrophe before = + - @ tab
    (``tabular._csv_text``), so a cell that begins with an apostrophe, a tab or a carriage
    return may read otherwise. A file with any of these is not checked here (``_NotPlain``):
    the import reads it as usual."""

    def __init__(self, fileobj, delimiter: bytes):
        self.fileobj, self.last = fileobj, b"\n"  # the file begins as after a line
        self.odd_start = re.compile(rb"[" + re.escape(delimiter) + rb"\n](?:\"?['\t]|\"\r)")
        self.edges = frozenset(delimiter + b"\r\n")  # what stands before or after a cell
        self.quoted = False  # inside a quoted cell
        self.pending = False  # a quote inside a quoted cell ended the last block

    def read(self, size: int = -1) -> bytes:
        block = self.fileobj.read(size)
        data = self.last + block  # the previous block's last byte: a pattern across blocks
        ends = len(data) - 1 if block else len(data)  # its last byte waits for the next one
        if b"\\." in data or self.odd_start.search(data, 0, ends):
            raise _NotPlain
        if self.quoted or b'"' in block:
            self._quotes(block)
        self.last = data[-1:]
        return block

    def _quotes(self, block: bytes) -> None:
        """Follow the quotes of ``block`` (b"" at the end of the file) as a well-formed CSV has
        them; raise ``_NotPlain`` at any other."""
        at, size = 0, len(block)
        if self.pending:
            self.pending = False
            if not block or block[0] in self.edges:
                self.quoted = False  # it closed the cell
            elif block[:1] == b'"':
                at = 1  # a doubled quote, inside the cell
            else:
                raise _NotPlain
        while (quote := block.find(b'"', at)) >= 0:
            if not self.quoted:  # it must open a cell
                before = block[quote - 1] if quote else self.last[0]
                if before not in self.edges:
                    raise _NotPlain
                self.quoted, at = True, quote + 1
            elif quote + 1 == size:  # the next byte decides, in the next block
                self.pending = True
                return
            elif block[quote + 1] == ord('"'):
                at = quote + 2
            elif block[quote + 1] in self.edges:
                self.quoted, at = False, quote + 1
            else:
                raise _NotPlain
        if not block and self.quoted:  # a quoted cell the file never closes
            raise _NotPlain


@dataclass(frozen=True)
class Unchanged:
    """What the whole-file check found. ``read`` None: every row is unchanged, and the report
    says so. Otherwise ``read`` holds the rows the import must still read — the changed ones,
    every row of a household they touch (their No. KK, the households their persons belong to
    or head) and every row of a NIK they hold, to closure, so no in-file rule and no head
    links a row read with one left out; the ``skipped`` rows left out are unchanged, in
    ``households`` households of their own."""

    read: frozenset | None
    skipped: int
    households: int


def unchanged_file(fileobj, table, *, report, area) -> Unchanged | None:
    """A re-import of a file that changes nothing, answered with one COPY and one join: when
    every row of a plain CSV file is the row its stored person and household were last written
    from — the same cells, and neither record written since (``_holds``, as ``_same_sql``
    checks each row), a person without NIK found in its household as the row path finds it —
    and no in-file rule can fire (no NIK or person without NIK twice, no kepala who is not
    his household's head, no head heading another household, no cell the Python reader
    refuses), the import would stage every
    row as 'same' and write nothing: this fills ``report`` as the import would (``Unchanged``
    with ``read`` None). When a few rows changed (at most ``PARTIAL_SHARE`` of the file, with
    the rows they touch), the import reads only those (``Unchanged.read``). A file the
    database's CSV reader cannot vouch for (``_Plain``), an XLSX, or one that changed more
    returns None having written nothing, and the import reads the file as usual (``fileobj``
    is left where it was).

    Why: reading the file in Python alone takes as long as the database's COPY of it (5.7 s
    for 1M rows), so through the Python reader a re-import that changes nothing could not come
    near the COPY's time, however little it did per row."""
    names = list(table.header)
    if (table.encoding not in ("utf-8-sig", "cp1252") or table.header_row != 1
            or not all(names) or not fileobj.seekable()):  # UTF-16 or an XLSX: read as usual
        return None
    cursor = connection.cursor()
    if not fingerprinted(cursor):
        return None
    _session(cursor)
    position: dict[str, int] = {}
    for index, name in enumerate(names):
        position.setdefault(name, index)
    columns = ", ".join(f"c{i}" for i in range(len(names)))
    typed = ", ".join(f"c{i} text" for i in range(len(names)))
    # a column a file may leave out reads NULL where it does (``_cells``), the others ''
    read = ", ".join(f"c{position[c]} AS {c}" if c in position else
                     f"NULL::text AS {c}" if c in KEPT_WHEN_ABSENT else f"''::text AS {c}"
                     for c in sorted(set(PERSON_CELLS) | set(HOUSEHOLD_CELLS)))
    encoding = "WIN1252" if table.encoding == "cp1252" else "UTF8"
    where = fileobj.tell()
    work_mem = _sql(cursor, "SELECT current_setting('work_mem')").fetchone()[0]
    try:
        with transaction.atomic():  # a savepoint: a COPY the reader refuses leaves nothing
            fileobj.seek(0)
            first = fileobj.readline()
            if first.count(b'"') % 2:  # a header cell across lines: the reader reads one line
                raise _NotPlain
            delimiter = csv_delimiter(first.decode("latin-1"))  # as the import's reader
            if delimiter == "\t":  # its quoting rules against COPY's: not vouched for
                raise _NotPlain
            fileobj.seek(0)
            cursor.execute(f"""CREATE TEMP TABLE {FILE} (
                                   row integer GENERATED ALWAYS AS IDENTITY (START WITH 2),
                                   {typed}) ON COMMIT DROP""")  # the reader's row numbers
            with connection.wrap_database_errors:  # psycopg2's errors as Django's
                cursor.copy_expert(
                    f"COPY {FILE} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, "
                    f"DELIMITER '{delimiter}', ENCODING '{encoding}', "
                    f"FORCE_NOT_NULL ({columns}))",
                    # the block size positional: Django's CursorDebugWrapper (DEBUG=1, the
                    # .env of ``make venv``) passes no keyword arguments on
                    _Plain(fileobj, delimiter.encode()), 1024 * 1024)
            cursor.execute("SELECT set_config('work_mem', %s, true)", [FILE_WORK_MEM])
            found = _same_file(cursor, read, columns, area)
            cursor.execute(f"DROP TABLE IF EXISTS {FILE}, {CHANGED}, {TOUCHED_KK}, "
                           f"{TOUCHED_NIK}")
    except (_NotPlain, DatabaseError):
        found = None
    finally:
        fileobj.seek(where)
        cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
    if found is not None and found.read is None:
        report.rows = found.skipped
        for key, n in (("keluarga_baru", 0), ("keluarga_diubah", 0),
                       ("keluarga_tetap", found.households), ("orang_baru", 0),
                       ("orang_diubah", 0), ("orang_tetap", found.skipped)):
            report.count(key, n)
    return found


def _sql(cursor, sql: str, params=()):
    cursor.execute(sql, params)
    return cursor


def _same_file(cursor, read: str, columns: str, area) -> Unchanged | None:
    """What the file's table holds (``Unchanged``), or None. The first rows are checked
    first, so a file of new rows is told at once."""
    person, household = _cells("r", PERSON_CELLS), _cells("r", HOUSEHOLD_CELLS)
    # the person and household hold the row's fingerprints; a kepala is the household's head
    # (else the import might name him head, or refuse him as a second kepala) and the person
    # heads no household but his own (the import would take it from him: a head who left a
    # household, ``_heads``)
    records = f"""{_holds('p', person)} AND {_holds('h', household)}
                  AND NOT {_outside(area, 'p.desa_id')} AND NOT {_outside(area, 'h.desa_id')}
                  AND NOT (p.relationship = 'kepala' AND h.head_id IS DISTINCT FROM p.id)"""
    # a row with a NIK: its person by NIK, in the row's household (as _same_sql)
    with_nik = f"""h.no_kk = r.no_kk AND {records}"""
    elsewhere = "EXISTS (SELECT FROM pmks_household o WHERE o.head_id = p.id AND o.id <> h.id)"
    # without: the member of the row's household the row path finds (the last one with the
    # row's name key and birth date), holding the row's fingerprint
    without_nik = f"""EXISTS (
        SELECT FROM pmks_household h JOIN pmks_person p ON p.household_id = h.id
        WHERE h.no_kk = r.no_kk AND p.merged_into_id IS NULL AND {records}
          AND NOT {elsewhere}
          AND NOT EXISTS (  -- by the household's index only (OFFSET 0): on the name key's,
                            -- the planner read ~190 persons per row (5.5 s of a 1M re-import)
                SELECT FROM (SELECT q.id, q.merged_into_id, q.name_key, q.birth_date
                             FROM pmks_person q WHERE q.household_id = h.id OFFSET 0) q
                WHERE q.merged_into_id IS NULL AND q.name_key = p.name_key
                  AND q.birth_date = p.birth_date AND q.id > p.id))"""

    def differ(rows: str = "", select: str = "count(*), count(*) FILTER (WHERE NOT $same)",
               where: str = "") -> str:
        """``select`` (and ``where``) over the file's rows, ``$same`` standing for whether a
        row is 'same'. Over the whole file the records are hash-joined and the households
        each person heads counted once for all rows; over its first rows (``rows``: a LIMIT),
        each looked up by its index (a hash join would read every person for 1,000 rows)."""
        heads, head_elsewhere = "", elsewhere
        records = """LEFT JOIN LATERAL (SELECT * FROM pmks_person p WHERE p.nik = r.nik
                                         AND r.nik <> '' OFFSET 0) p ON true
                     LEFT JOIN LATERAL (SELECT * FROM pmks_household h
                                        WHERE h.id = p.household_id OFFSET 0) h ON true"""
        if not rows:
            heads = """LEFT JOIN (SELECT head_id, count(*) AS heads, min(id) AS one
                                  FROM pmks_household WHERE head_id IS NOT NULL
                                  GROUP BY head_id) o ON o.head_id = p.id"""
            head_elsewhere = "NOT (o.head_id IS NULL OR o.heads = 1 AND o.one = h.id)"
            records = """LEFT JOIN pmks_person p ON p.nik = r.nik AND r.nik <> ''
                         LEFT JOIN pmks_household h ON h.id = p.household_id"""
        same = f"""coalesce(CASE WHEN r.nik <> '' THEN {with_nik} AND NOT {head_elsewhere}
                                 ELSE {without_nik} END, false)"""
        return f"""
            SELECT {select.replace('$same', same)}
            FROM (SELECT row, {read} FROM {FILE} {rows}) r {records} {heads}
            {where.replace('$same', same)}"""

    # a cell longer than the import's reader reads (Python's csv module): it refuses the file
    # (its length in bytes first, which PostgreSQL reads without going through the text)
    limit, cells = csv.field_size_limit(), columns.split(", ")
    if _sql(cursor, f"""SELECT EXISTS (SELECT FROM {FILE}
                        WHERE greatest({', '.join(f'octet_length({c})' for c in cells)}) > {limit:d}
                          AND greatest({', '.join(f'length({c})' for c in cells)}) > {limit:d})"""
            ).fetchone()[0]:
        return None
    probed, other = _sql(cursor, differ(f"LIMIT {PROBE_ROWS:d}")).fetchone()
    if other > PARTIAL_SHARE * probed:  # a file of new or changed rows: read as usual
        return None
    # the rows that are not 'same'
    cursor.execute(f"CREATE TEMP TABLE {CHANGED} ON COMMIT DROP AS "
                   + differ(select="r.row, r.no_kk, r.nik", where="WHERE NOT $same"))
    changed = cursor.rowcount
    rows = _sql(cursor, f"SELECT count(*) FROM {FILE}").fetchone()[0]
    if not rows or changed > PARTIAL_SHARE * rows:
        return None
    file = f"(SELECT row, {read} FROM {FILE})"
    households = f"SELECT count(*) FROM (SELECT f.no_kk FROM {file} f {{}} GROUP BY f.no_kk) k"
    if not changed and not _sql(cursor, f"""
            SELECT EXISTS (SELECT FROM {file} f WHERE f.nik <> ''
                           GROUP BY f.nik HAVING count(*) > 1)
                OR EXISTS (SELECT FROM {file} f WHERE f.nik = ''
                           GROUP BY f.no_kk, f.nama, f.tanggal_lahir HAVING count(*) > 1)"""
                                ).fetchone()[0]:  # every row unchanged, none twice
        return Unchanged(read=None, skipped=rows,
                         households=_sql(cursor, households.format("")).fetchone()[0])
    # what the import must read: the changed rows' No. KK, the households their persons
    # belong to and head, their NIKs, and every NIK or person without NIK the file holds
    # twice (an in-file rule rejects the second); then, to closure, every NIK of those
    # households and every household of those NIKs
    cursor.execute(f"""
        CREATE TEMP TABLE {TOUCHED_KK} ON COMMIT DROP AS
        SELECT no_kk FROM {CHANGED}
        UNION SELECT h.no_kk FROM {CHANGED} c JOIN pmks_person p ON p.nik = c.nik
              JOIN pmks_household h ON h.id = p.household_id WHERE c.nik <> ''
        UNION SELECT o.no_kk FROM {CHANGED} c JOIN pmks_person p ON p.nik = c.nik
              JOIN pmks_household o ON o.head_id = p.id WHERE c.nik <> ''
        UNION SELECT f.no_kk FROM {file} f WHERE f.nik = ''
              GROUP BY f.no_kk, f.nama, f.tanggal_lahir HAVING count(*) > 1""")
    cursor.execute(f"""
        CREATE TEMP TABLE {TOUCHED_NIK} ON COMMIT DROP AS
        SELECT nik FROM {CHANGED} WHERE nik <> ''
        UNION SELECT f.nik FROM {file} f WHERE f.nik <> '' GROUP BY f.nik HAVING count(*) > 1""")
    cursor.execute(f"ALTER TABLE {TOUCHED_KK} ADD PRIMARY KEY (no_kk)")
    cursor.execute(f"ALTER TABLE {TOUCHED_NIK} ADD PRIMARY KEY (nik)")
    grew = True
    while grew:
        grew = bool(_sql(cursor, f"""
            INSERT INTO {TOUCHED_NIK} SELECT DISTINCT f.nik FROM {file} f
            JOIN {TOUCHED_KK} k ON k.no_kk = f.no_kk WHERE f.nik <> ''
            ON CONFLICT DO NOTHING""").rowcount)
        grew = bool(_sql(cursor, f"""
            INSERT INTO {TOUCHED_KK} SELECT DISTINCT f.no_kk FROM {file} f
            JOIN {TOUCHED_NIK} n ON n.nik = f.nik
            ON CONFLICT DO NOTHING""").rowcount) or grew
    read_rows = frozenset(row for (row,) in _sql(cursor, f"""
        SELECT f.row FROM {file} f
        WHERE EXISTS (SELECT FROM {TOUCHED_KK} k WHERE k.no_kk = f.no_kk)
           OR EXISTS (SELECT FROM {TOUCHED_NIK} n WHERE n.nik = f.nik)""").fetchall())
    if len(read_rows) > PARTIAL_SHARE * rows or len(read_rows) == rows:
        return None
    return Unchanged(read=read_rows, skipped=rows - len(read_rows), households=_sql(
        cursor, households.format(f"WHERE NOT EXISTS (SELECT FROM {TOUCHED_KK} t "
                                  "WHERE t.no_kk = f.no_kk)")).fetchone()[0])
