"""A paginator whose COUNT stays cheap at province scale, for API lists and admin changelists.

Up to ``COUNT_CAP`` rows the count is exact, taken over a LIMITed subquery so it never reads
more than ``COUNT_CAP + 1`` rows; above that, on PostgreSQL, the planner's estimate of the
filtered query (EXPLAIN) stands in and ``estimated`` is True. On other databases the count
stays exact. The estimate is kept in the cache for ``ESTIMATE_SECONDS`` (keyed by the query
and the cap), so the next pages of a large list skip both the capped count and the EXPLAIN; a
count at or under the cap is never cached (it stays exact). Each process also keeps the
estimates it has read for ``LOCAL_SECONDS`` (``_local``), so a client walking the pages of a
list does not make a cache round trip per page either; an estimate is thus at most
``ESTIMATE_SECONDS + LOCAL_SECONDS`` old.
"""

import hashlib
import json
import time
from math import ceil

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000
ESTIMATE_SECONDS = 60
LOCAL_SECONDS = 10
LOCAL_MAX = 2_000  # estimates kept per process (the lists × users × filters seen lately)

#: cache key -> (estimate, monotonic time it expires): this process's copy of the cache's
_local: dict[str, tuple[int, float]] = {}
_clock = time.monotonic


def _local_get(key: str) -> int | None:
    found = _local.get(key)
    if found is None:
        return None
    if found[1] <= _clock():
        _local.pop(key, None)
        return None
    return found[0]


def _local_set(key: str, estimate: int) -> None:
    if len(_local) >= LOCAL_MAX:
        _local.clear()
    _local[key] = (estimate, _clock() + LOCAL_SECONDS)


def clear_local() -> None:
    _local.clear()
    _tables.clear()


#: table -> (its row estimate, monotonic time it expires): read from the catalogue
_tables: dict[str, tuple[int, float]] = {}


def table_rows_estimate(model, using: str = "default") -> int | None:
    """PostgreSQL's estimate of the rows of ``model``'s table (``pg_class.reltuples``, kept by
    ANALYZE and autovacuum), read at most every ESTIMATE_SECONDS per process; None elsewhere
    and for a table never analysed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    table = model._meta.db_table
    found = _tables.get(table)
    if found is not None and found[1] > _clock():
        return found[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    estimate = int(row[0]) if row and row[0] >= 0 else None
    _tables[table] = (estimate, _clock() + ESTIMATE_SECONDS)
    return estimate


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


def _estimate_key(queryset, cap: int, key: str | None) -> str | None:
    """The cache key of the estimate: the caller's ``key`` (an API list names the request's
    list, user and filters, so the query need not be compiled twice) or the query's SQL."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    if key is None:
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (pk__in=[]): counted as 0
            return None
        key = repr((sql, params))
    text = repr((connection.settings_dict["NAME"], cap, key))
    return "count-estimate:" + hashlib.sha256(text.encode()).hexdigest()


def bounded_count(queryset, cap: int = COUNT_CAP, *, key: str | None = None) -> tuple[int, bool]:
    """(count, estimated): exact up to ``cap``, the planner's estimate above it (cached under
    ``key`` when given: it must name everything the query depends on)."""
    key = _estimate_key(queryset, cap, key)
    if key is not None:
        cached = _local_get(key)
        if cached is None:
            cached = cache.get(key)
            if cached is not None:
                _local_set(key, cached)
        if cached is not None:
            return cached, True
    exact = queryset.order_by().values("pk")[: cap + 1].count()  # no annotations, no joins
    if exact <= cap:
        return exact, False
    estimate = estimated_count(queryset)
    if estimate is None:
        return queryset.count(), False
    estimate = max(estimate, cap + 1)
    cache.set(key, estimate, ESTIMATE_SECONDS)
    _local_set(key, estimate)
    return estimate, True


class BoundedPage(Page):
    """A page of an estimated count: whether a next page exists is read from the rows (one
    row more than the page is fetched), not from the estimate."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def end_index(self):
        return self.start_index() + len(self.object_list) - 1


class BoundedPaginator(Paginator):
    """Counts with :func:`bounded_count`. When the count is the planner's estimate, the pages
    do not trust it: any page number is asked of the rows themselves (a planner that
    underestimates hid every row past its "last page"), a page knows whether a next one
    exists from one row more, ``num_pages`` grows with the pages found, and a page past the
    real end falls back to an exact count and the real last page (as Django's ``get_page``
    does)."""

    estimated = False

    def __init__(self, *args, count_key: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key
        self._reached = 0

    @cached_property
    def count(self):
        if not hasattr(self.object_list, "query"):
            return super().count
        count, self.estimated = bounded_count(self.object_list, key=self.count_key)
        return count

    @property
    def num_pages(self):
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        pages = ceil(max(1, self.count - self.orphans) / self.per_page)
        return max(pages, self._reached) if self.estimated else pages

    def validate_number(self, number):
        if not (self.count and self.estimated):
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.estimated:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        more = len(rows) > self.per_page
        self._reached = max(self._reached, number + more)
        return BoundedPage(rows[:self.per_page], number, self, more=more)

    def get_page(self, number):
        try:
            return super().get_page(number)
        except EmptyPage:
            if not self.estimated:
                raise
            self.__dict__["count"], self.estimated = self.object_list.count(), False
            return super().get_page(number)
