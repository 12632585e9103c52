"""A paginator whose COUNT stays cheap at province scale, for API lists and admin changelists.

Up to ``COUNT_CAP`` rows the count is exact, taken over a LIMITed subquery so it never reads
more than ``COUNT_CAP + 1`` rows; above that, on PostgreSQL, the planner's estimate of the
filtered query (EXPLAIN) stands in and ``estimated`` is True. On other databases the count
stays exact.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def estimated_count(queryset) -> int | None:
    """PostgreSQL's row estimate for ``queryset`` (None elsewhere)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, estimated): exact up to ``cap``, the planner's estimate above it."""
    exact = queryset.order_by().values("pk")[: cap + 1].count()  # no annotations, no joins
    if exact <= cap:
        return exact, False
    estimate = estimated_count(queryset)
    if estimate is None:
        return queryset.count(), False
    return max(estimate, cap + 1), True


class BoundedPaginator(Paginator):
    estimated = False

    @cached_property
    def count(self):
        if not hasattr(self.object_list, "query"):
            return super().count
        count, self.estimated = bounded_count(self.object_list)
        return count
