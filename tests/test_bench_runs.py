"""`make bench` keeps running as the code changes: its jobs that write or read the tables by
their own SQL (import with its baseline and floors, payouts, reports, lists, duplicates) at the
smallest size (1,000 persons, 500 workers), on the suite's PostgreSQL run, in about a minute
(the throughput and page jobs go through the application only, and take minutes). A bench
broken by a change elsewhere (its own run written by raw SQL had missed a new column of the run
table) fails here, in CI, not in the next `make bench` at province scale. The figures at this
size are not judged — a ratio at 1,000 rows says nothing — only that every job ran and the table
was printed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.helpers import postgres_only

ROOT = Path(__file__).resolve().parent.parent
#: a row each job prints (bench/jobs.py), in the table at the end
JOB_ROWS = ("| import_pmks |", "| re-import, nothing changes |",
            "| floor: the persons' INSERT alone, indexed |",
            "| compute_payouts, first computation |", "| recompute with lines present |",
            "| Daftar Nominatif XLSX", "| households list, p95 |", "| admin search by exact NIK |",
            "| find_duplicates")


@postgres_only
@pytest.mark.xdist_group("bench")
def test_every_bench_job_runs_to_its_table():
    database = settings.DATABASES["default"]
    url = (f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/"
           f"{database['NAME']}_benchrun")  # its own test_… database, created and dropped
    env = {**os.environ, "DATABASE_URL": url, "BENCH_SIZES": "1k",
           "BENCH_ONLY": "import,payouts,reports,lists,duplicates"}
    env.pop("BENCH_KEEPDB", None)
    done = subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-4000:]  # 1: a figure missed its goal
    assert "figures miss their goal" in done.stdout, done.stdout[-4000:]
    missing = [row for row in JOB_ROWS if row not in done.stdout]
    assert not missing, (missing, done.stdout[-4000:])
