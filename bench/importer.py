"""One PMKS import in a process of its own, as the Celery worker runs it: ``python -m
bench.importer <file> <username>`` prints one JSON line with the seconds, the queries, the rows,
the rejected rows and the process's peak RSS (the bench process itself holds the generated
registry, so its RSS says nothing about the import)."""

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinsos.settings")


def main(path: str, username: str) -> None:
    django.setup()
    from django.db import connection

    from bench.document import _peak_rss_mb
    from dinsos.models import User
    from pmks.importing import households_import

    actor = User.objects.get(username=username)
    queries = []
    with open(path, "rb") as handle, connection.execute_wrapper(
            lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        started = time.perf_counter()
        report = households_import(actor=actor, fileobj=handle, filename=os.path.basename(path),
                                   dry_run=False)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "queries": len(queries), "rows": report.rows,
                      "rejected": report.rejected, "peak_rss_mb": _peak_rss_mb()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
