"""One finance document made in a process of its own, as the Celery worker makes it:
``python -m bench.document <run id> <nominatif_xlsx|nominatif_pdf>`` prints one JSON line with
the seconds, the queries, the file's size and the process's peak RSS (the bench process itself
holds the generated registry, so its RSS says nothing about the document)."""

import json
import os
import sys
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinsos.settings")


def main(run_id: int, name: str) -> None:
    django.setup()
    from django.db import connection

    from incentives import reports
    from incentives.models import PayoutRun

    run = PayoutRun.objects.get(pk=run_id)
    queries = []
    with tempfile.TemporaryFile() as out, connection.execute_wrapper(
            lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        started = time.perf_counter()
        getattr(reports, name)(run, out=out)
        seconds = time.perf_counter() - started
        size = out.tell()
    print(json.dumps({"seconds": seconds, "queries": len(queries), "megabytes": size / 1e6,
                      "peak_rss_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM; getrusage's maxrss keeps the bench
    process's peak across the exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
