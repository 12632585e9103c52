"""`make bench` (= ``python -m bench``): the province-scale benchmarks of issue #11.

Runs on PostgreSQL (DATABASE_URL) in a database of its own (``test_<name>``, created and
dropped like the test suite's; BENCH_KEEPDB=1 keeps it). Sizes by BENCH_SIZES, comma-separated:
``10k`` (default: 10,000 persons and 5,000 workers), ``100k``, ``1M``. Every job prints the
system's figure, a baseline measured in the same run on the same data, the ratio, the peak RSS
and the number of queries, and the run exits 1 when a figure misses its goal. BENCH_ONLY=a,b
runs only the named jobs (import, payouts, reports, lists, http, duplicates, pages).

The bench process and the gunicorn it starts run on production settings (DEBUG off, a
generated secret key, plain HTTP on loopback): ``bench/production.py``.
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinsos.settings")

SIZES = {"1k": (1_000, 500), "10k": (10_000, 5_000), "100k": (100_000, 50_000),
         "1m": (1_000_000, 50_000)}
JOBS = ("import", "payouts", "reports", "lists", "http", "duplicates", "pages")


def _sizes() -> list[tuple[str, int, int]]:
    names = [s.strip().lower() for s in os.environ.get("BENCH_SIZES", "10k").split(",")
             if s.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        sys.exit(f"BENCH_SIZES: unknown size {unknown}; use {', '.join(SIZES)}")
    return [(name, *SIZES[name]) for name in names]


def main() -> int:
    from bench import production

    production.setup()  # before the settings are read
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://...")
    from bench import jobs
    from bench.report import Table

    only = {j.strip() for j in os.environ.get("BENCH_ONLY", "").split(",") if j.strip()}
    keep = os.environ.get("BENCH_KEEPDB") == "1"
    old_name = connection.settings_dict["NAME"]
    # serialize=False: Django would otherwise read a kept database's whole registry into memory
    # (for test rollbacks the bench never does), and every RSS figure would carry it
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep,
                                       serialize=False)
    table = Table()
    started = time.perf_counter()
    try:
        for name, persons, workers in _sizes():
            print(f"\n== {name}: {persons:,} persons, {workers:,} workers ==", flush=True)
            jobs.run_size(table, name, persons, workers, only=only or set(JOBS))
    finally:
        if not keep:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    table.print(elapsed=time.perf_counter() - started)
    return 0 if table.all_met() else 1


if __name__ == "__main__":
    sys.exit(main())
