"""The tables the province-scale jobs write in bulk carry no index twice (issue #11).

Every index is written by every row an import, a payout run or the change log adds (1M persons
at a province's first load). An index whose columns (with their operator classes) are the
leading columns of another full index answers nothing the other does not — Django's default
index of a foreign key beside a composite index that starts with it, or beside a LIKE index of
the same column. Read from PostgreSQL's own catalogue, so a new index is checked too."""

import pytest
from django.db import connection

from tests.helpers import postgres_only

#: the tables the bulk jobs write: the PMKS import (persons, households, the change log and
#: the audit trail) and the payout run (its lines)
BULK_TABLES = ["pmks_person", "pmks_household", "dinsos_change", "auditlog_logentry",
               "incentives_payoutline"]

REDUNDANT = """
    SELECT c.relname, i1.indexrelid::regclass::text, i2.indexrelid::regclass::text
    FROM pg_index i1 JOIN pg_index i2
         ON i1.indrelid = i2.indrelid AND i1.indexrelid <> i2.indexrelid
    JOIN pg_class c ON c.oid = i1.indrelid
    WHERE c.relname = ANY(%s) AND NOT i1.indisunique AND i1.indpred IS NULL
      AND i2.indpred IS NULL AND i1.indexprs IS NULL AND i2.indexprs IS NULL
      AND i1.indnatts <= i2.indnatts
      AND (i2.indkey::int2[])[0:i1.indnatts - 1] = (i1.indkey::int2[])[0:i1.indnatts - 1]
      AND (i2.indclass::oid[])[0:i1.indnatts - 1] = (i1.indclass::oid[])[0:i1.indnatts - 1]
    ORDER BY 1, 2"""


@postgres_only
@pytest.mark.django_db
def test_no_bulk_written_table_has_an_index_another_index_already_is():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s)", [BULK_TABLES])
        assert sorted(r for (r,) in cursor.fetchall()) == sorted(BULK_TABLES)
        cursor.execute(REDUNDANT, [BULK_TABLES])
        assert cursor.fetchall() == []


def plans(table: str, column: str) -> list[str]:
    """The plans of a desa (=) and an area (the prefix LIKE of ``dinsos.scoping``) lookup on
    ``column``, sequential scans off so only an index that answers the condition is used."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for where in (f"{column} = '36.01.01.2001'", f"{column} LIKE '36.01.%%'"):
            cursor.execute(f"EXPLAIN SELECT id FROM {table} WHERE {where}")
            found.append(" ".join(r for (r,) in cursor.fetchall()))
    return found


@postgres_only
@pytest.mark.django_db
def test_the_area_like_and_the_desa_equality_use_the_one_person_index():
    """The person's desa has one index (pattern ops, then birth date) for both lookups the
    lists make: a desa, and an area by code prefix."""
    for plan in plans("pmks_person", "desa_id"):
        assert "pmks_person_desa_birth" in plan, plan


@postgres_only
@pytest.mark.django_db
def test_the_area_like_and_equality_use_the_one_payout_line_index():
    """A kab/kota operator's lines are found by area code (= and prefix LIKE, dinsos.scoping)
    through one index; the foreign-key check of a deleted wilayah by the same."""
    for plan in plans("incentives_payoutline", "area_id"):
        assert "incentives_line_area" in plan, plan
