"""What the apps contribute to pages they don't own, gathered without naming them.

- Beranda: each app's ``selectors.dashboard(*, user)`` returns a :class:`Panel` (figures,
  charts, "Menunggu Anda") or None.
- The person page (pmks) shows what later apps know about a person (Jamsosratu enrolments and
  payments): ``selectors.person_section(*, user, person)`` returns a :class:`Section` or None.

Every number comes from the app's own scoped selectors, so a kab/kota operator sees only its
area; dependencies keep pointing one way. Figures over the registry (a COUNT of a million
persons, a GROUP BY of the cases per kab/kota) are read through :func:`cached_count` and
:func:`cached_rows`: above COUNT_CAP rows, computed at most once every ``FIGURE_SECONDS`` for
the same query."""

import datetime
import hashlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from dinsos.money import format_rupiah
from dinsos.pagination import COUNT_CAP
from dinsos.templatetags.dinsos_format import angka

#: how long Beranda's figures over more than COUNT_CAP rows are kept: they say how things stand,
#: not this second (a figure over fewer rows is exact and fresh on every visit)
FIGURE_SECONDS = 300


def _figure_key(queryset, what: str) -> str:
    """The cache key of a figure: the query's SQL and parameters (which carry the user's area,
    so two areas never share a figure) and the database."""
    sql, params = queryset.query.sql_with_params()
    text = repr((connections[queryset.db].settings_dict["NAME"], what, sql, params))
    return "dashboard-figure:" + hashlib.sha256(text.encode()).hexdigest()


def _capped_count(queryset) -> int:
    """The rows of ``queryset``, read up to COUNT_CAP + 1 only (dinsos.pagination)."""
    try:
        return queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    except EmptyResultSet:
        return 0


#: the time the oldest cached figure of the Beranda being built was taken (``collect_as_of``)
_oldest: ContextVar[datetime.datetime | None] = ContextVar("dashboard_oldest", default=None)


def _cached(key: str, compute):
    """``compute()``, kept for FIGURE_SECONDS under ``key`` with the time it was taken; the
    oldest such time of the page is noted for its reader (``collect_as_of``)."""
    taken, value = cache.get(key) or (None, None)
    if taken is None:
        taken, value = timezone.now(), compute()
        cache.set(key, (taken, value), FIGURE_SECONDS)
    oldest = _oldest.get()
    if oldest is None or taken < oldest:
        _oldest.set(taken)
    return value


def cached_count(queryset) -> int:
    """``queryset.count()``: exact and fresh up to COUNT_CAP rows, above it the exact count
    taken at most once every FIGURE_SECONDS (a province's million persons)."""
    capped = _capped_count(queryset)
    if capped <= COUNT_CAP:
        return capped
    return _cached(_figure_key(queryset.order_by(), "count"), queryset.count)


def cached_rows(queryset, *, rows_of) -> list:
    """The rows of an aggregate of ``rows_of`` (a GROUP BY), cached like :func:`cached_count`
    when ``rows_of`` has more than COUNT_CAP rows."""
    if _capped_count(rows_of) <= COUNT_CAP:
        return list(queryset)
    return _cached(_figure_key(queryset, "rows"), lambda: list(queryset))


def _shown(value) -> str:
    """A count the Indonesian way (6.119); anything else as given."""
    return angka(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


@dataclass
class Figure:
    label: str
    value: object
    url: str = ""
    note: str = ""

    @property
    def shown(self) -> str:
        return _shown(self.value)


@dataclass
class Chart:
    """A chart drawn by the vendored Chart.js; ``datasets`` are ``{"label", "data"}`` dicts.
    The same numbers are in a table under the chart (keyboard and screen-reader users)."""

    key: str  # the element id of its data, e.g. "chart-cases-status"
    title: str
    kind: str  # bar | doughnut | line
    labels: list
    datasets: list
    stacked: bool = False
    money: bool = False

    def spec(self) -> dict:
        return {"kind": self.kind, "labels": self.labels, "datasets": self.datasets,
                "stacked": self.stacked, "money": self.money}

    def rows(self):
        shown = format_rupiah if self.money else _shown
        return [(label, [shown(d["data"][i]) for d in self.datasets])
                for i, label in enumerate(self.labels)]


@dataclass
class Waiting:
    label: str
    count: int
    url: str


@dataclass
class Panel:
    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list]
    empty: str = ""


def _providers(hook: str):
    for config in apps.get_app_configs():
        if Path(config.path).parent != settings.BASE_DIR:
            continue  # third-party apps
        if module_has_submodule(config.module, "selectors"):
            provider = getattr(import_module(f"{config.name}.selectors"), hook, None)
            if provider is not None:
                yield provider


def _collect(hook: str, **kwargs) -> list:
    return [part for provider in _providers(hook) if (part := provider(**kwargs)) is not None]


def collect(*, user) -> list[Panel]:
    return _collect("dashboard", user=user)


def collect_as_of(*, user) -> tuple[list[Panel], datetime.datetime | None]:
    """The panels, and when the oldest of their cached figures was taken (None: every figure
    is exact and fresh), for the page to say so."""
    token = _oldest.set(None)
    try:
        panels = collect(user=user)
        return panels, _oldest.get()
    finally:
        _oldest.reset(token)


def person_sections(*, user, person) -> list[Section]:
    return _collect("person_section", user=user, person=person)
