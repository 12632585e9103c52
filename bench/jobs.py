"""The benchmark jobs, one per row of issue #11's table. Each measures the system's own code
path and a baseline on the same data in the same run (so a shared machine cancels out)."""

import csv
import datetime
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from bench import production
from bench.generator import Registry, workforce
from bench.harness import measure, p95, rss_mb, timed_sql
from bench.report import Result, Table, seconds

IMPORT_MAX = int(os.environ.get("BENCH_IMPORT_MAX", "1000000"))
PERIOD = datetime.date(2026, 1, 1)
LIST_REQUESTS = int(os.environ.get("BENCH_LIST_REQUESTS", "20"))
HTTP_SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "10"))
HTTP_CLIENTS = 8
HTTP_SLICE_SECONDS = 2.0


def run_size(table: Table, size: str, persons: int, workers: int, *, only: set[str]) -> None:
    from dinsos.models import User

    actor, _created = User.objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True})
    workdir = Path(tempfile.mkdtemp(prefix="dinsos-bench-"))
    registry = Registry(persons, _desa_codes())
    path = workdir / "registry.csv"
    started = time.perf_counter()
    index_keys, rows = _write_csv(registry, path)
    print(f"  generated {persons:,} persons in {registry.households:,} households "
          f"({len(registry.planted):,} planted duplicate pairs) in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    if "import" not in only and _kept_registry(rows):
        print("  BENCH_KEEPDB=1: the kept database already holds this registry", flush=True)
    else:
        _reset_registry()
        if "import" in only and persons <= IMPORT_MAX:
            import_jobs(table, size, actor, path)
        else:
            _load_registry(path)
            if "import" in only:
                table.add(Result("import_pmks", size, "not run", "", None, "≤ 5×", None,
                                 note=f"above BENCH_IMPORT_MAX={IMPORT_MAX:,}: registry loaded "
                                      "by COPY"))
    _analyze()
    if {"payouts", "reports", "http"} & only:
        _load_workforce(workers, actor)
    if "payouts" in only:
        payout_jobs(table, size, actor, workers)
    if "reports" in only:
        report_jobs(table, size, actor, workers)
    if "lists" in only:
        list_jobs(table, size, actor, persons)
    if "http" in only:
        http_jobs(table, size, actor, persons)
    if "duplicates" in only:
        duplicate_jobs(table, size, actor, persons, registry, index_keys)
    if "pages" in only:
        _load_cases()
        _seed_demo(workers, actor)
        page_jobs(table, size)


# --- data -------------------------------------------------------------------------------------


def _desa_codes() -> list[str]:
    from dinsos.choices import DESA_KELURAHAN
    from dinsos.models import Wilayah

    return list(Wilayah.objects.filter(tingkat__in=DESA_KELURAHAN).values_list("kode", flat=True))


def _kept_registry(rows: int) -> bool:
    """With BENCH_KEEPDB=1 a kept database that already holds the generated registry (the same
    number of persons, none merged) is used as it is: generating and loading 1M persons is the
    slow part of a run."""
    from pmks.models import Person

    if os.environ.get("BENCH_KEEPDB") != "1":
        return False
    return Person.objects.count() == rows and not Person.objects.filter(
        merged_into__isnull=False).exists()


def _write_csv(registry: Registry, path: Path) -> tuple[dict[int, tuple], int]:
    """The import file; returns how to find each planted row after loading (by NIK or by
    (No. KK, name)) and the number of rows."""
    from pmks.importing import COLUMNS

    header = [c.name for c in COLUMNS]
    keys: dict[int, tuple] = {}
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in registry:
            values = row.import_values()
            writer.writerow([values.get(c, "") for c in header])
            keys[row.index] = (row.nik,) if row.nik else (row.no_kk, row.nama)
            rows += 1
    wanted = {i for pair in registry.planted for i in pair}
    return {i: k for i, k in keys.items() if i in wanted}, rows


def _reset_registry() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE pmks_duplicatecandidate, pmks_person, pmks_household, "
                       "auditlog_logentry RESTART IDENTITY CASCADE")


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _copy_staging(path: Path) -> float:
    """Baseline of the import: COPY of the same file into a table with a unique index on NIK."""
    from pmks.importing import COLUMNS

    columns = ", ".join(f"{c.name} text" for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_staging")
        cursor.execute(f"CREATE TABLE bench_staging ({columns})")
        cursor.execute("CREATE UNIQUE INDEX bench_staging_nik ON bench_staging (nik)")
        started = time.perf_counter()
        with path.open() as handle:
            cursor.copy_expert("COPY bench_staging FROM STDIN WITH (FORMAT csv, HEADER true)",
                               handle)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_staging")
    return elapsed


def _load_registry(path: Path) -> None:
    """Above BENCH_IMPORT_MAX the registry is loaded set-based, straight from the staging
    table (name keys computed in SQL-free Python while streaming the file)."""
    from dinsos.names import name_key
    from pmks.importing import SIAK_MARITAL_STATUS

    now = "now()"
    with connection.cursor() as cursor, path.open() as handle, \
            tempfile.TemporaryFile("w+") as buffer:
        cursor.execute("CREATE TEMP TABLE bench_rows (no_kk text, alamat text, kode_desa text, "
                       "desil smallint, nik text, nama text, name_key text, tanggal_lahir date, "
                       "jenis_kelamin text, hubungan text, status_kawin text)")
        reader = csv.DictReader(handle)
        writer = csv.writer(buffer)
        for r in reader:
            writer.writerow([r["no_kk"], r["alamat"], r["kode_desa"], r["desil"], r["nik"],
                             r["nama"], name_key(r["nama"]), r["tanggal_lahir"],
                             r["jenis_kelamin"], r["hubungan"],
                             SIAK_MARITAL_STATUS.get(r.get("status_kawin") or "", "")])
        buffer.seek(0)
        cursor.copy_expert("COPY bench_rows FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute(f"""
            INSERT INTO pmks_household (no_kk, address, rt, rw, desa_id, decile, floor, wall,
                water_source, lighting, cooking_fuel, toilet, created_at, updated_at)
            SELECT DISTINCT ON (no_kk) no_kk, alamat, '', '', kode_desa, desil, '', '', '', '',
                '', '', {now}, {now} FROM bench_rows ORDER BY no_kk""")
        cursor.execute(f"""
            INSERT INTO pmks_person (nik, name, name_key, birth_place, birth_date, sex,
                household_id, relationship, desa_id, marital_status, disability, chronic_illness,
                schooling, occupation, life_status, created_at, updated_at)
            SELECT NULLIF(r.nik, ''), r.nama, r.name_key, '', r.tanggal_lahir, r.jenis_kelamin,
                h.id, r.hubungan, r.kode_desa, r.status_kawin, 'tidak', '', '', '', 'hidup',
                {now}, {now}
            FROM bench_rows r JOIN pmks_household h ON h.no_kk = r.no_kk""")
        cursor.execute("""
            UPDATE pmks_household h SET head_id = p.id FROM pmks_person p
            WHERE p.household_id = h.id AND p.relationship = 'kepala'""")
        cursor.execute("DROP TABLE bench_rows")


def _load_workforce(n_workers: int, actor, *, append: bool = False) -> None:
    """Workers, their assignments, verified bank accounts and accepted reports for PERIOD
    (``append``: next to the workers there are, none a second TKSK of a kecamatan)."""
    from django.utils import timezone

    from dinsos.models import Office, User
    from psks.models import ActivityReport, Assignment, Bank, BankAccount, Worker

    if not append:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE incentives_payoutline, incentives_payoutrun, "
                           "psks_activityreport, psks_bankaccount, psks_assignment, psks_worker "
                           "RESTART IDENTITY CASCADE")
    taken = set(Assignment.objects.filter(role="tksk").values_list("area_id", flat=True))
    known = set(Worker.objects.values_list("nik", flat=True))
    people = [p for p in workforce(n_workers, _desa_codes())
              if p["nik"] not in known and not (p["role"] == "tksk" and p["area"] in taken)]
    now = timezone.now()
    Worker.objects.bulk_create(
        [Worker(nik=p["nik"], name=p["name"], sex=p["sex"], birth_date=p["birth_date"],
                desa_id=p["desa"]) for p in people], batch_size=5000)
    ids = dict(Worker.objects.values_list("nik", "id"))
    office = Office.objects.order_by("pk").first()
    Assignment.objects.bulk_create(
        [Assignment(worker_id=ids[p["nik"]], role=p["role"], area_id=p["area"],
                    decree_number=f"SK/{i}", decree_date=datetime.date(2024, 12, 1),
                    decree_office=office, start_date=datetime.date(2025, 1, 1),
                    end_date=datetime.date(2029, 12, 31) if p["role"] == "tksk" else None,
                    funding_source="apbd_provinsi") for i, p in enumerate(people)],
        batch_size=5000)
    checker, _c = User.objects.get_or_create(username="bench-verifier")
    bank = Bank.objects.order_by("pk").first()
    BankAccount.objects.bulk_create(
        [BankAccount(worker_id=ids[p["nik"]], bank=bank, account_number=f"{100000 + i:010d}",
                     holder_name=p["name"], created_by=actor, verified_by=checker,
                     verified_at=now, effective_from=datetime.date(2025, 1, 1))
         for i, p in enumerate(people) if p["has_account"]], batch_size=5000)
    ActivityReport.objects.bulk_create(
        [ActivityReport(worker_id=ids[p["nik"]], period=PERIOD, status="diterima",
                        submitted_at=now) for p in people if p["has_report"]], batch_size=5000)
    _analyze()


def _load_cases() -> None:
    """Cases for one person in twenty (and one household in sixty), of every category and
    status, and a service for one case in three: the registry's pages and Beranda read them.
    Kept when a kept database already has them."""
    from pmks.models import Case

    if Case.objects.count() > 1000:
        return
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH c AS (SELECT array_agg(id ORDER BY id) AS ids FROM pmks_category
                       WHERE NOT household_level),
                 s AS (SELECT ARRAY['teridentifikasi', 'terverifikasi', 'dalam_penanganan',
                                    'dirujuk', 'selesai', 'ditutup'] AS names)
            INSERT INTO pmks_case (created_at, updated_at, identified_on, source, source_note,
                description, status, close_reason, desa_id, category_id, person_id)
            SELECT now(), now(), DATE '2024-01-01' + (p.id % 700)::int, 'tksk', '', '',
                s.names[1 + p.id / 20 % 6], CASE WHEN p.id / 20 % 6 = 5 THEN 'pindah' ELSE '' END,
                p.desa_id, c.ids[1 + p.id / 20 % array_length(c.ids, 1)], p.id
            FROM pmks_person p, c, s WHERE p.id % 20 = 0""")
        cursor.execute("""
            WITH c AS (SELECT array_agg(id ORDER BY id) AS ids FROM pmks_category
                       WHERE household_level)
            INSERT INTO pmks_case (created_at, updated_at, identified_on, source, source_note,
                description, status, close_reason, desa_id, category_id, household_id)
            SELECT now(), now(), DATE '2024-01-01' + (h.id % 700)::int, 'tksk', '', '',
                'teridentifikasi', '', h.desa_id,
                c.ids[1 + h.id / 60 % array_length(c.ids, 1)], h.id
            FROM pmks_household h, c WHERE h.id % 60 = 0""")
        cursor.execute("""
            WITH t AS (SELECT array_agg(id ORDER BY id) AS ids,
                              array_agg(pillar ORDER BY id) AS pillars FROM pmks_servicetype)
            INSERT INTO pmks_service (created_at, updated_at, pillar, start_date, value_amount,
                funding_source, provider_name, note, case_id, service_type_id)
            SELECT now(), now(), t.pillars[1 + k.id / 3 % array_length(t.ids, 1)],
                k.identified_on + 7, 250000, 'apbd_provinsi', '', '', k.id,
                t.ids[1 + k.id / 3 % array_length(t.ids, 1)]
            FROM pmks_case k, t WHERE k.id % 3 = 0 AND k.status IN ('dalam_penanganan',
                                                                   'selesai')""")
    _analyze()


def _seed_demo(workers: int, actor) -> None:
    """The demo's accounts, offices and data of every app (cycles, enrolments, runs, reports,
    imports), then the bench's workforce next to the demo's and its payout run for PERIOD:
    every page has data, the registry's and the workforce's at scale. Kept when a kept
    database has them."""
    from django.contrib.auth import get_user_model

    from dinsos.demo import seed_all
    from incentives import services
    from incentives.models import PayoutRun

    if not get_user_model().objects.filter(username="operator_pandeglang").exists():
        with connection.cursor() as cursor:  # the demo's TKSK before the bench's
            cursor.execute("TRUNCATE incentives_payoutline, incentives_payoutrun, "
                           "psks_activityreport, psks_bankaccount, psks_assignment, psks_worker "
                           "RESTART IDENTITY CASCADE")
        seed_all()
        _load_workforce(workers, actor, append=True)
    if not PayoutRun.objects.filter(period=PERIOD).exists():
        services.run_compute(actor=actor, period=PERIOD)
    _analyze()


# --- jobs -------------------------------------------------------------------------------------


def import_jobs(table: Table, size: str, actor, path: Path) -> None:
    """The three imports, with the baseline COPY before, between and after them: the ratios
    use the median of its four runs (one COPY alone moved 2.9–4.7 s between two runs of the
    same day on this machine), and each note gives all four."""
    samples = [_copy_staging(path)]
    made = {}
    for job in ("import_pmks", "re-import, nothing changes"):
        made[job] = _import_in_worker(path, actor.username)
        samples.append(_copy_staging(path))
    # the same file with one cell changed in its last row: the import reads that row and the
    # rows it touches (``staging.Unchanged``), counts the others unchanged, writes the change
    changed = path.with_name("registry-one-changed.csv")
    _change_last_occupation(path, changed)
    made["re-import, one row changed"] = _import_in_worker(changed, actor.username)
    samples.append(_copy_staging(path))
    baseline = statistics.median(samples)
    against = (f"COPY + unique NIK index {seconds(baseline)} (median of "
               f"{', '.join(seconds(s) for s in samples)})")
    for job, goal in (("import_pmks", 5.0), ("re-import, nothing changes", 2.0)):
        run = made[job]
        ratio = run["seconds"] / baseline
        rss_ok = run["peak_rss_mb"] <= 300 if job == "import_pmks" else True
        table.add(Result(job, size, f"{seconds(run['seconds'])} "
                                    f"({run['rows'] / run['seconds']:,.0f} rows/s)",
                         against, ratio,
                         f"≤ {goal:g}×" + (", RSS ≤ 300 MB" if job == "import_pmks" else ""),
                         ratio <= goal and rss_ok, run["peak_rss_mb"], run["queries"],
                         note=f"{run['rejected']} rows rejected; run in a process of its own "
                              "(bench/importer.py), RSS is that process's peak"))
    _floor_jobs(table, size, baseline, against)
    run = made["re-import, one row changed"]
    table.add(Result("re-import, one row changed", size,
                     f"{seconds(run['seconds'])} ({run['rows'] / run['seconds']:,.0f} rows/s)",
                     against, run["seconds"] / baseline,
                     "", None, run["peak_rss_mb"], run["queries"],
                     note="no goal: the file a district sends after one edit (its last row's "
                          "occupation); the import reads the changed row and the rows it "
                          "touches, and leaves the others out as unchanged"))


def _floor_jobs(table: Table, size: str, baseline: float, against: str) -> None:
    """What writing the imported persons alone costs, against the same baseline: the rows the
    import stored, already typed and checked, INSERTed again into an empty copy of the person
    table — with its indexes (the import's own way), and without its secondary indexes, then
    building them (a load that would lock the registry). No household, no foreign key, no
    check, no log: a floor under any import of the file into this schema. No goal; it says
    how much of the first import's ratio the registry's indexes alone account for."""
    import re

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'pmks_person' "
                       "AND indexname NOT IN ('pmks_person_pkey', 'pmks_person_nik_key')")
        secondary = [re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ",
                            r"CREATE \1INDEX ON bench_floor ", definition)
                     for (definition,) in cursor.fetchall()]
    copy = "INSERT INTO bench_floor SELECT * FROM pmks_person"
    timed_sql("DROP TABLE IF EXISTS bench_floor")
    timed_sql("CREATE TABLE bench_floor (LIKE pmks_person INCLUDING ALL)")
    indexed = timed_sql(copy)
    timed_sql("DROP TABLE bench_floor")
    timed_sql("CREATE TABLE bench_floor (LIKE pmks_person INCLUDING DEFAULTS INCLUDING "
              "CONSTRAINTS)")
    timed_sql("ALTER TABLE bench_floor ADD PRIMARY KEY (id), ADD UNIQUE (nik)")
    bare = timed_sql(copy)
    built = sum(timed_sql(definition) for definition in secondary)
    timed_sql("DROP TABLE bench_floor")
    count = len(secondary) + 2
    for job, elapsed, how in (
            ("floor: the persons' INSERT alone, indexed", indexed,
             f"an empty copy of the person table with its {count} indexes"),
            ("floor: the persons' INSERT alone, indexes built after", bare + built,
             f"an empty copy with only the primary key and the NIK's unique index "
             f"({seconds(bare)}), then its other {len(secondary)} indexes built "
             f"({seconds(built)})")):
        table.add(Result(job, size, seconds(elapsed), against, elapsed / baseline, "", None,
                         note=f"the imported persons INSERTed again into {how}: no household, "
                              "no foreign key, no check, no log"))


def _change_last_occupation(path: Path, changed: Path) -> None:
    """``changed``: the file at ``path`` with its last row's ``pekerjaan`` cell changed (by its
    column's position in the header: the file's last columns are the household's lists)."""
    data = path.read_bytes()
    header = next(csv.reader([data[:data.index(b"\n")].decode()]))
    head, last = data.rstrip(b"\r\n").rsplit(b"\n", 1)
    cells = next(csv.reader([last.decode()]))
    cells[header.index("pekerjaan")] = "Pedagang keliling"
    line = io.StringIO()
    csv.writer(line).writerow(cells)
    changed.write_bytes(head + b"\n" + line.getvalue().encode())


def _import_in_worker(path: Path, username: str) -> dict:
    """Time, queries and peak RSS of one import run by a fresh process (bench/importer.py),
    against the bench database."""
    import json

    env = {**os.environ, "DATABASE_URL": _database_url()}
    done = subprocess.run([sys.executable, "-m", "bench.importer", str(path), username],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _insert_select_baseline(run_id: int) -> float:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_lines")
        cursor.execute("CREATE TABLE bench_lines (LIKE incentives_payoutline)")
    elapsed = timed_sql("INSERT INTO bench_lines SELECT * FROM incentives_payoutline "
                        "WHERE run_id = %s", [run_id])
    timed_sql("DROP TABLE bench_lines")
    return elapsed


def _same_table_baseline(run_id: int, *, delete_first: bool) -> float:
    """The same lines written into the payout line table itself — its indexes, checks and
    foreign keys (checked as at commit) — by one INSERT … SELECT, in a transaction that is
    rolled back: for a recompute after one DELETE of the run's lines, in their place; for a
    first computation into a run of a month without lines (the period moved on, so the
    one-regular-line constraint holds), so no deleted line of the run is in the way. New ids
    from the sequence, as the computation takes. This is the floor any computation that
    stores the lines pays; the bare-table baseline above has no index and no constraint."""
    from django.db import transaction

    from incentives.models import PayoutLine, PayoutRun

    columns = ", ".join(f.column for f in PayoutLine._meta.concrete_fields if not f.primary_key)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_keep ON COMMIT DROP AS "
                       "SELECT * FROM incentives_payoutline WHERE run_id = %s", [run_id])
        cursor.execute("ANALYZE bench_keep")
        if delete_first:
            target = run_id
            started = time.perf_counter()
            cursor.execute("DELETE FROM incentives_payoutline WHERE run_id = %s", [run_id])
        else:
            # a run of its own (through the model: every column the run table has, with its
            # defaults), rolled back with the lines
            target = PayoutRun.objects.create(period=datetime.date(2099, 1, 1)).pk
            cursor.execute("UPDATE bench_keep SET period = period + interval '73 years'")
            started = time.perf_counter()
        values = columns.replace("run_id", "%s", 1)
        cursor.execute(f"INSERT INTO incentives_payoutline ({columns}) "
                       f"SELECT {values} FROM bench_keep", [target])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def payout_jobs(table: Table, size: str, actor, workers: int) -> None:
    """Both baselines are printed; the goal is judged on the same lines written into the line
    table itself (see the README, Benchmarks: a bare copy has no index and no foreign key, so
    no computation that stores the lines where they are read can come near it)."""
    from incentives import services

    for job in ("compute_payouts, first computation", "recompute with lines present"):
        recompute = job.startswith("recompute")
        before = rss_mb()
        with measure() as m:
            run = services.run_compute(actor=actor, period=PERIOD)
        lines = run.lines.count()
        bare = _insert_select_baseline(run.pk)
        same_table = _same_table_baseline(run.pk, delete_first=recompute)
        ratio = m.seconds / same_table
        bounded = m.query_count <= 200
        after_delete = ", after its DELETE" if recompute else ""
        table.add(Result(job, f"{size} ({workers:,} workers, {lines:,} lines)",
                         seconds(m.seconds),
                         f"INSERT … SELECT into the line table{after_delete} "
                         f"{seconds(same_table)}", ratio,
                         "≤ 3×, queries independent of W", ratio <= 3 and bounded,
                         m.peak_rss_mb, m.query_count,
                         note=f"into a bare copy (no index, no constraint) {seconds(bare)}: "
                              f"{m.seconds / bare:.1f}× (the line table itself "
                              f"{same_table / bare:.1f}× the bare copy); RSS grew "
                              f"{m.peak_rss_mb - before:.0f} MB during the job"))


def report_jobs(table: Table, size: str, actor, workers: int) -> None:
    """The Daftar Nominatif made as the document task makes it (into a file), against a COPY
    of the same lines to CSV; then the download route over the Dockerfile's gunicorn: the
    request answers 202 at once, the task (run here in-process, as the worker would) makes
    the stored file, and the same URL then serves it."""
    from incentives import services
    from incentives.models import PayoutRun, RunDocument

    run = PayoutRun.objects.filter(period=PERIOD).first()
    if run is None:
        run = services.run_compute(actor=actor, period=PERIOD)
    lines = run.lines.count()
    started = time.perf_counter()
    with connection.cursor() as cursor, tempfile.TemporaryFile("w+") as out:
        cursor.copy_expert(f"COPY (SELECT * FROM incentives_payoutline WHERE run_id = {run.pk} "
                           "ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER true)", out)
    baseline = time.perf_counter() - started
    label = f"{size} ({workers:,} workers, {lines:,} lines)"
    for job, name, goal in (("Daftar Nominatif XLSX", "nominatif_xlsx", 5),
                            ("Daftar Nominatif PDF", "nominatif_pdf", 20)):
        made = _document_in_worker(run.pk, name)
        ratio = made["seconds"] / baseline
        table.add(Result(job, label, seconds(made["seconds"]),
                         f"COPY lines TO CSV {seconds(baseline)}", ratio,
                         f"≤ {goal}×, RSS ≤ 200 MB",
                         ratio <= goal and made["peak_rss_mb"] <= 200, made["peak_rss_mb"],
                         made["queries"],
                         note=f"{made['megabytes']:.1f} MB file; made in a process of its own "
                              "(bench/document.py), RSS is that process's peak"))
    RunDocument.objects.filter(run=run).delete()
    url = f"/api/v1/incentives/runs/{run.pk}/reports/nominatif-xlsx/"
    with _gunicorn(actor, warm=(f"/api/v1/incentives/runs/{run.pk}/",)) as get:
        first_status, first = get(url)
        (document,) = RunDocument.objects.filter(run=run, kind="nominatif-xlsx")
        started = time.perf_counter()
        services.document_render(document_id=document.pk)
        rendered = time.perf_counter() - started
        then_status, then = get(url)
        other_status, other = get(url.replace("nominatif-xlsx", "nominatif-pdf"))
    table.add(Result("GET runs/<id>/reports/nominatif-xlsx/ over gunicorn", label,
                     f"{first_status} after {seconds(first)}", "", None,
                     "no long work in a request (answer < 1 s)",
                     first_status == 202 and first < 1.0 and then_status == 200 and then < 1.0,
                     None, None,
                     note=f"task made the file in {seconds(rendered)}; then {then_status} "
                          f"(the stored file) after {seconds(then)}; the PDF asked next: "
                          f"{other_status} after {seconds(other)}"))


def _document_in_worker(run_id: int, name: str) -> dict:
    """Time, queries and peak RSS of one document made by a fresh process (bench/document.py),
    against the bench database."""
    import json

    env = {**os.environ, "DATABASE_URL": _database_url()}
    done = subprocess.run([sys.executable, "-m", "bench.document", str(run_id), name], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def _gunicorn(actor, warm=()):
    """The Dockerfile's gunicorn on a loopback port against the bench database, every worker
    warmed on /healthz and the ``warm`` paths; yields ``get(path) -> (status, seconds)`` with
    the actor's API token."""
    import http.client

    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(actor)
    port = _free_port()
    env = _server_env()
    log = tempfile.NamedTemporaryFile("w", prefix="dinsos-bench-gunicorn-", suffix=".log",  # noqa: SIM115 - kept for reading after a failure
                                      delete=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dinsos.wsgi", "--bind", f"127.0.0.1:{port}",
         "--config", "python:dinsos.gunicorn"], env=env,
        stdout=log, stderr=subprocess.STDOUT)
    print(f"  gunicorn on port {port}, its log: {log.name}", flush=True)
    headers = {"Authorization": f"Token {token}", "Host": production.HOST}

    def get(path: str) -> tuple[int, float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status, time.perf_counter() - started

    try:
        for _i in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for path in ("/healthz", *warm):  # every worker booted, its code imported
            _hammer(port, path, headers, 3.0)
        yield get
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _page_times(client, url: str, n: int, ok=(200,)) -> tuple[list[float], list]:
    times, last = [], None
    for _i in range(n):
        with measure() as m:
            response = client.get(url)
        assert response.status_code in ok, (url, response.status_code, response.content[:300])
        times.append(m.seconds)
        last = m
    return times, last


# The same pages by the simplest raw path: one psycopg2 cursor, the bounded count exactly as
# dinsos/pagination.py takes it (COUNT over a LIMITed subquery, EXPLAIN above the cap), the page
# with the response's columns, order and filter, rows zipped into dicts and json.dumps'ed.
RAW_COUNT = "SELECT count(*) FROM (SELECT id FROM {table} {where} LIMIT %s) page_count"
RAW_PAGES = {
    "households": ("pmks_household", "", """
        SELECT h.id, h.no_kk, h.address, h.rt, h.rw, h.desa_id AS desa, d.nama AS desa_nama,
               left(h.desa_id, 8) AS kecamatan, left(h.desa_id, 5) AS kab_kota,
               h.head_id AS head, p.name AS head_name,
               coalesce((SELECT count(*) FROM pmks_person m WHERE m.household_id = h.id), 0)
                   AS member_count,
               h.decile, h.floor, h.wall, h.water_source, h.lighting, h.cooking_fuel, h.toilet,
               h.created_at, h.updated_at
        FROM pmks_household h JOIN dinsos_wilayah d ON d.kode = h.desa_id
        LEFT JOIN pmks_person p ON p.id = h.head_id ORDER BY h.no_kk LIMIT 50"""),
    "persons": ("pmks_person", "WHERE merged_into_id IS NULL", """
        SELECT p.id, p.nik, p.nik IS NULL AS tanpa_nik, p.name, p.birth_place, p.birth_date,
               p.sex, p.household_id AS household, p.relationship, p.desa_id AS desa,
               d.nama AS desa_nama, left(p.desa_id, 8) AS kecamatan,
               left(p.desa_id, 5) AS kab_kota, p.marital_status, p.disability,
               p.chronic_illness, p.schooling, p.occupation,
               p.life_status, p.life_status_date, p.created_at, p.updated_at
        FROM pmks_person p JOIN dinsos_wilayah d ON d.kode = p.desa_id
        WHERE p.merged_into_id IS NULL ORDER BY p.name, p.id LIMIT 50"""),
}


def _json_value(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def raw_page(name: str) -> float:
    """Seconds to answer one list page by the raw path (see RAW_PAGES)."""
    import json

    from dinsos.nik_region import region_name_for_nik
    from dinsos.pagination import COUNT_CAP

    table, where, page = RAW_PAGES[name]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RAW_COUNT.format(table=table, where=where), [COUNT_CAP + 1])
        count = cursor.fetchone()[0]
        if count > COUNT_CAP:
            cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT * FROM {table} {where}")
            count = max(cursor.fetchone()[0][0]["Plan"]["Plan Rows"], count)
        cursor.execute(page)
        columns = [c.name for c in cursor.description]
        results = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if name == "persons":
        for row in results:
            row["nik_region"] = region_name_for_nik(row["nik"]) if row["nik"] else None
    json.dumps({"count": count, "next": None, "previous": None, "results": results},
               default=_json_value)
    return time.perf_counter() - started


def _interleaved(client, url: str, name: str, n: int):
    """System and raw path one after the other, n times each, so the load of a shared machine
    falls on both alike: (system times, raw times, the last system Measure)."""
    system, raw, last = [], [], None
    for _i in range(n):
        times, last = _page_times(client, url, 1)
        system += times
        with measure() as m:  # the same harness around both
            raw_page(name)
        raw.append(m.seconds)
    return system, raw, last


def list_jobs(table: Table, size: str, actor, persons: int) -> None:
    from django.contrib import admin
    from django.test import Client, RequestFactory
    from knox.models import AuthToken

    from pmks.models import Person

    _instance, token = AuthToken.objects.create(actor)
    client = Client(HTTP_HOST=production.HOST, HTTP_AUTHORIZATION=f"Token {token}")
    n = LIST_REQUESTS
    for job, url, name in (("households list, p95", "/api/v1/pmks/households/", "households"),
                           ("persons list province-wide, p95", "/api/v1/pmks/persons/",
                            "persons")):
        _page_times(client, url, 2)  # warm: URL resolver, serializer plans, connections
        system, raw, last = _interleaved(client, url, name, n)
        ratio = p95(system) / p95(raw)
        table.add(Result(job, size, seconds(p95(system)),
                         f"the same page by raw SQL + json.dumps, p95 {seconds(p95(raw))}",
                         ratio, "≤ 3×", ratio <= 3, last.peak_rss_mb, last.query_count,
                         note=f"its SQL: {seconds(sum(t for _s, t in last.queries))}; "
                              f"best of {n}: {seconds(min(system))} vs {seconds(min(raw))}"))
    indexed = min(timed_sql("SELECT * FROM pmks_person WHERE id > %s ORDER BY id LIMIT 50",
                            [persons // 2]) for _i in range(n))
    count = last.query_seconds("COUNT(")
    table.add(Result("COUNT(*) on a list page", size, seconds(count),
                     f"indexed page query {seconds(indexed)}", count / indexed,
                     "bounded: < 50 ms at any size", count < 0.05, None, None,
                     note="persons list province-wide"))

    nik = Person.objects.filter(nik__isnull=False).order_by("id").values_list(
        "nik", flat=True)[persons // 3]
    model_admin = admin.site._registry[Person]
    request = RequestFactory().get("/admin/pmks/person/", {"q": nik})
    request.user = actor
    searches = []
    for _i in range(n):
        started = time.perf_counter()
        qs, _distinct = model_admin.get_search_results(
            request, model_admin.get_queryset(request), nik)
        found = list(qs[:100])
        searches.append(time.perf_counter() - started)
    equality = min(timed_sql("SELECT * FROM pmks_person WHERE nik = %s", [nik])
                   for _i in range(n))
    worst = p95(searches)
    table.add(Result("admin search by exact NIK", size, seconds(worst),
                     f"indexed equality {seconds(equality)}", worst / equality, "< 100 ms",
                     worst < 0.1 and len(found) == 1, None, None,
                     note=f"{len(found)} found"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hammer(port: int, path: str, headers: dict, seconds_: float) -> float:
    """Requests per second that HTTP_CLIENTS threads get answered (200) in ``seconds_``."""
    import http.client

    done = [0] * HTTP_CLIENTS
    deadline = time.monotonic() + seconds_

    def client(slot: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:  # a 400 (host), 401 or 429 is no answer
                done[slot] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(HTTP_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds_ + 60)
    return sum(done) / seconds_


def http_jobs(table: Table, size: str, actor, persons: int) -> None:
    """The Dockerfile's gunicorn on a loopback port, against the bench database."""
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(actor)
    port = _free_port()
    env = _server_env()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dinsos.wsgi", "--bind", f"127.0.0.1:{port}",
         "--config", "python:dinsos.gunicorn"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _i in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        headers = {"Authorization": f"Token {token}", "Host": production.HOST}
        for path in ("/healthz", "/api/v1/pmks/persons/?page_size=20"):  # every worker booted
            _hammer(port, path, headers, min(5.0, HTTP_SECONDS))
        # alternated in slices, as the list pages are interleaved with their baseline: the load
        # of a shared machine falls on both alike instead of on whichever ran second
        slices = max(1, round(HTTP_SECONDS / HTTP_SLICE_SECONDS))
        health = persons_rate = 0.0
        for _i in range(slices):
            health += _hammer(port, "/healthz", headers, HTTP_SECONDS / slices) / slices
            persons_rate += _hammer(port, "/api/v1/pmks/persons/?page_size=20", headers,
                                    HTTP_SECONDS / slices) / slices
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a loaded machine: do not lose the figures
            server.kill()
            server.wait()
    share = persons_rate / health if health else 0.0
    table.add(Result(f"throughput persons/?page_size=20 vs /healthz, {HTTP_CLIENTS} clients",
                     size, f"{persons_rate:.1f} req/s", f"/healthz {health:.1f} req/s", share,
                     "≥ 0.5 (50 %)", share >= 0.5, None, None,
                     note=f"ratio here is the share of /healthz; the two alternated in "
                          f"{HTTP_SECONDS / HTTP_SLICE_SECONDS:.0f} slices"))


def _server_env() -> dict[str, str]:
    """The environment of a bench gunicorn: the bench database, production settings (as the
    Dockerfile runs; ``bench/production.py``) and budgets no bench client reaches."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "API_THROTTLE_USER": "1000000/hour",
           "API_THROTTLE_ANON": "1000000/hour", "API_THROTTLE_TOKEN": "1000000/hour"}
    production.apply(env)
    return env


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def duplicate_jobs(table: Table, size: str, actor, persons: int, registry: Registry,
                   keys: dict[int, tuple]) -> None:
    from pmks import services
    from pmks.models import DuplicateCandidate, Person

    ids: dict[tuple, int] = {}
    wanted = set(keys.values())
    for pk, nik, no_kk, name in Person.objects.values_list(
            "id", "nik", "household__no_kk", "name").iterator(chunk_size=20000):
        key = (nik,) if nik else (no_kk, name)
        if key in wanted:
            ids[key] = pk
    planted = {tuple(sorted((ids[keys[a]], ids[keys[b]]))) for a, b in registry.planted
               if keys[a] in ids and keys[b] in ids}
    DuplicateCandidate.objects.all().delete()
    with measure() as m:
        scan = services.duplicates_find(user=actor)
    found = set(DuplicateCandidate.objects.values_list("person_a_id", "person_b_id"))
    true = len(found & planted)
    recall = true / len(planted) if planted else 1.0
    precision = true / len(found) if found else 1.0
    limit = max(10.0, 120 * persons / 1_000_000)
    table.add(Result("find_duplicates, province-wide", size, seconds(m.seconds),
                     f"limit {seconds(limit)} (120 s at 1M)", m.seconds / limit,
                     "≤ 1 (time), recall ≥ 0.95, precision ≥ 0.90",
                     m.seconds <= limit and recall >= 0.95 and precision >= 0.90,
                     m.peak_rss_mb, m.query_count,
                     note=f"recall {recall:.3f}, precision {precision:.3f} "
                          f"({true} of {len(planted)} planted, {len(found)} pairs, "
                          f"{scan.persons:,} persons)"))


PAGE_REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "5"))
PAGE_GOAL_SECONDS = 0.5
PAGE_MAX_QUERIES = 30
#: the accounts the pages are opened as (the demo's): the province, and a kab/kota operator
PAGE_USERS = ("operator_provinsi", "operator_pandeglang")


def page_jobs(table: Table, size: str) -> None:
    """Every staff page and admin changelist (``bench/pages.py``: enumerated from the URLconf
    and the admin registry, with filters, searches, every sortable column and a deep page),
    opened with the test client as the province operator and as a kab/kota operator: p95 of
    PAGE_REQUESTS requests after a warm-up, and the queries of the last one. Goal: p95 ≤ 500 ms
    and at most PAGE_MAX_QUERIES queries (the test suite holds the count independent of the
    rows: tests/web/test_page_queries.py)."""
    from django.core.management import call_command
    from django.test import Client

    from bench import pages
    from dinsos.models import User

    call_command("collectstatic", interactive=False, verbosity=0)  # as the Dockerfile does
    for username in PAGE_USERS:
        user = User.objects.get(username=username)
        client = Client(HTTP_HOST=production.HOST)
        client.force_login(user)
        found, empty = pages.pages(user)
        if empty:
            print(f"  {username}: no data for {', '.join(empty)}", flush=True)
        for page in found:
            times, last = _page_times(client, page.url, 1, ok=(200, 202, 302))
            if last.seconds < 5:  # a page that slow is not asked five times more
                times, last = _page_times(client, page.url, PAGE_REQUESTS, ok=(200, 202, 302))
            figure = p95(times)
            met = figure <= PAGE_GOAL_SECONDS and last.query_count <= PAGE_MAX_QUERIES
            table.add(Result(f"{page} as {username}", size, seconds(figure), "", None,
                             f"p95 ≤ {seconds(PAGE_GOAL_SECONDS)}, ≤ {PAGE_MAX_QUERIES} queries",
                             met, None, last.query_count,
                             note=f"{page.url}; best {seconds(min(times))}"))
