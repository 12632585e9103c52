"""What the apps contribute to pages they don't own, gathered without naming them.

- Beranda: each app's ``selectors.dashboard(*, user)`` returns a :class:`Panel` (figures,
  charts, "Menunggu Anda") or None.
- The person page (pmks) shows what later apps know about a person (Jamsosratu enrolments and
  payments): ``selectors.person_section(*, user, person)`` returns a :class:`Section` or None.

Every number comes from the app's own scoped selectors, so a kab/kota operator sees only its
area; dependencies keep pointing one way."""

from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import module_has_submodule

from dinsos.money import format_rupiah
from dinsos.templatetags.dinsos_format import angka


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


def person_sections(*, user, person) -> list[Section]:
    return _collect("person_section", user=user, person=person)
