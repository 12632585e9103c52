"""Measuring one job: wall time, peak RSS of the process while it runs, and the SQL queries it
sent (count and time, so a list page's COUNT can be told apart)."""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Measure:
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    queries: list[tuple[str, float]] = field(default_factory=list)

    @property
    def query_count(self) -> int:
        return len(self.queries)

    def query_seconds(self, needle: str) -> float:
        return sum(t for sql, t in self.queries if needle in sql)


@contextmanager
def measure():
    """``with measure() as m: ...`` fills ``m`` when the block ends."""
    result = Measure()
    stop = threading.Event()
    peak = [rss_mb()]

    def sample():
        while not stop.wait(0.02):
            peak[0] = max(peak[0], rss_mb())

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            result.queries.append((sql, time.perf_counter() - started))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(record):
            yield result
    finally:
        result.seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        result.peak_rss_mb = max(peak[0], rss_mb())


def timed_sql(sql: str, params=None, *, repeat: int = 1) -> float:
    """Best of ``repeat`` wall times of one statement (its rows fetched)."""
    best = float("inf")
    with connection.cursor() as cursor:
        for _i in range(repeat):
            started = time.perf_counter()
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()
            best = min(best, time.perf_counter() - started)
    return best


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
