"""The staff pages and the admin changelists, enumerated from the URLconf and the admin
registry — never listed by hand, so a new page cannot escape the bench (``pages`` job) nor the
query-count test (``tests/web/test_page_queries.py``).

A staff page is a URL pattern (outside ``api/`` and ``admin/``) whose view is a ``StaffPage``
or Beranda and answers GET; a view that only serves the POST of another page (it inherits that
page's GET: ``CaseTransitionView`` of ``PersonDetailView``) is that page. Each page needs its
URL's arguments: ``SAMPLES`` says how to find them in the database for a user, and a page
without an entry there is an error, not a page left out. ``VARIANTS`` are the filters, searches,
orderings and deep pages each page is asked with besides its bare URL."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dinsos.pages import StaffPage

#: the deep page every paginated list is asked for (50 rows a page: row 25,000)
DEEP_PAGE = 500


@dataclass(frozen=True)
class Page:
    name: str  # "pmks:person-list" or "admin:pmks_person_changelist"
    label: str  # what the variant asks, "" for the bare URL
    url: str

    def __str__(self):
        return f"{self.name} {self.label}".strip()


def staff_routes(patterns=None, namespace=None):
    """``("namespace:name", pattern, view class)`` of every URL pattern outside ``admin/`` and
    ``api/`` served by a class-based view: the one walk of the URLconf the staff pages' tests
    and this bench filter (``staff_views``; the If-Match test's pages with POST)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace != "admin" and not str(entry.pattern).startswith("api/"):
                yield from staff_routes(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None)
            if view is not None:
                yield f"{namespace}:{entry.name}" if namespace else entry.name, entry, view


def staff_views() -> dict[str, tuple[URLPattern, type]]:
    """``{"namespace:name": (pattern, view class)}`` of every staff page answering GET."""
    found = {name: (pattern, view) for name, pattern, view in staff_routes()
             if issubclass(view, StaffPage | LoginRequiredMixin) and hasattr(view, "get")}
    classes = {view for _pattern, view in found.values()}
    return {name: (pattern, view) for name, (pattern, view) in found.items()
            if not any(parent in classes for parent in view.__mro__[1:])}


def changelists(user) -> dict[str, type]:
    """``{"admin:<app>_<model>_changelist": model}`` of every registered model ``user`` may
    view in the admin."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return {f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist": model
            for model, model_admin in admin.site._registry.items()
            if model_admin.has_view_permission(request)}


# --- the URLs' arguments, found for a user (None: nothing of that kind in its area) ---------

def _person(user):
    from pmks.models import Case, Person

    with_case = Case.objects.for_user(user).filter(person__isnull=False).order_by("pk").values_list(
        "person_id", flat=True).first()
    return with_case or Person.objects.for_user(user).order_by("pk").values_list(
        "pk", flat=True).first()


def _household(user):
    """The household of the sampled person (its page lists the members the tests add)."""
    from pmks.models import Household

    person = _person(user)
    pk = person and Household.objects.for_user(user).filter(members=person).values_list(
        "pk", flat=True).first()
    return {"pk": pk} if pk else _one("pmks.Household")(user)


def _one(model_path: str, **filters) -> Callable:
    def find(user):
        from django.apps import apps

        from dinsos.scoping import restrict

        model = apps.get_model(model_path)
        pk = restrict(model.objects.filter(**filters), user).order_by("pk").values_list(
            "pk", flat=True).first()
        return None if pk is None else {"pk": pk}
    return find


def _cycle(user):
    from jamsosratu.selectors import current_cycle

    cycle = current_cycle()
    return None if cycle is None else {"year": cycle.year}


def _tranche(user):
    from jamsosratu.selectors import current_cycle

    cycle = current_cycle()
    tranche = cycle and cycle.tranches.order_by("number").first()
    return None if not tranche else {"year": cycle.year, "number": tranche.number}


def _run_report(user):
    found = _one("incentives.PayoutRun")(user)
    return found and {**found, "kind": "nominatif-xlsx"}


def _run_action(user):
    found = _one("incentives.PayoutRun")(user)
    return found and {**found, "action": "batalkan"}


def _run_period(user):
    from dinsos.scoping import restrict
    from incentives.models import PayoutRun

    period = restrict(PayoutRun.objects.all(), user).order_by("pk").values_list("period",
                                                                         flat=True).first()
    return None if period is None else {"period": f"{period:%Y-%m}"}


SAMPLES: dict[str, Callable] = {
    "home": lambda user: {},
    "imports": lambda user: {},
    "import-detail": _one("dinsos.ImportBatch"),
    "import-report": lambda user: (found := _one("dinsos.ImportBatch")(user)) and {
        **found, "fmt": "csv"},
    "import-template": lambda user: {"kind": "pmks_keluarga", "fmt": "csv"},
    "pmks:person-list": lambda user: {},
    "pmks:person-create": lambda user: {},
    "pmks:person-detail": lambda user: (pk := _person(user)) and {"pk": pk},
    "pmks:person-update": lambda user: (pk := _person(user)) and {"pk": pk},
    "pmks:household-detail": _household,
    "pmks:household-update": _household,
    "pmks:duplicates": lambda user: {},
    "pmks:duplicate-detail": _one("pmks.DuplicateCandidate"),
    "psks:worker-list": lambda user: {},
    "psks:coverage": lambda user: {},
    "psks:report-queue": lambda user: {},
    "psks:report-detail": _one("psks.ActivityReport"),
    "jamsosratu:cycle-list": lambda user: {},
    "jamsosratu:cycle-detail": _cycle,
    "jamsosratu:coverage": _cycle,
    "jamsosratu:enrolment-list": _cycle,
    "jamsosratu:enrolment-detail": _one("jamsosratu.Enrolment"),
    "jamsosratu:verification-create": _one("jamsosratu.Enrolment"),
    "jamsosratu:verification-apply": _one("jamsosratu.Verification"),
    "jamsosratu:bank-file": _tranche,
    "jamsosratu:bank-result": _tranche,
    "jamsosratu:failed-payments": _tranche,
    "jamsosratu:job-detail": _one("jamsosratu.TrancheJob"),
    "incentives:run-list": lambda user: {},
    "incentives:run-progress": _run_period,
    "incentives:run-detail": _one("incentives.PayoutRun"),
    "incentives:run-report": _run_report,
    "incentives:run-action": _run_action,
}


#: what a page needs in its query string besides its URL's arguments
QUERIES: dict[str, str] = {
    "incentives:run-progress": "?sejak=2000-01-01T00:00:00%2B07:00",  # a run computed since
}


def _query(**params) -> str:
    return "?" + urlencode(params)


def _person_variants(user) -> list[tuple[str, str]]:
    from pmks.models import Person

    person = Person.objects.for_user(user).filter(nik__isnull=False).order_by("pk").values(
        "name", "nik", "desa_id", "household__no_kk").first()
    if person is None:
        return []
    surname = person["name"].split()[-1]
    return [("search by name", _query(q=surname)),
            ("search by exact NIK", _query(q=person["nik"])),
            ("filter by kecamatan", _query(wilayah=person["desa_id"][:8])),
            ("filter by desa", _query(wilayah=person["desa_id"])),
            ("filter by kab/kota, deep page", _query(wilayah=person["desa_id"][:5],
                                                     page=DEEP_PAGE)),
            ("filter by sex, deep page", _query(sex="P", page=DEEP_PAGE))]


def _worker_variants(user) -> list[tuple[str, str]]:
    from psks.models import Worker

    worker = Worker.objects.for_user(user).order_by("pk").values("name", "nik", "desa_id").first()
    if worker is None:
        return []
    return [("search by name", _query(q=worker["name"].split()[-1])),
            ("search by exact NIK", _query(q=worker["nik"])),
            ("filter by kecamatan", _query(wilayah=worker["desa_id"][:8])),
            ("filter by role", _query(role="tksk")),
            ("deep page", _query(page=DEEP_PAGE))]


VARIANTS: dict[str, Callable] = {
    "pmks:person-list": _person_variants,
    "pmks:duplicates": lambda user: [("deep page", _query(page=DEEP_PAGE))],
    "psks:worker-list": _worker_variants,
    "psks:coverage": lambda user: [("kecamatan without a TKSK", _query(kurang="tksk"))],
    "psks:report-queue": lambda user: [("accepted, deep page",
                                        _query(status="diterima", page=DEEP_PAGE))],
}


def _admin_variants(user, name: str, model) -> list[tuple[str, str]]:
    """Search (a name, an exact NIK, an exact No. KK where the admin searches them), the
    kab/kota and kecamatan filters, every sortable column, a deep page."""
    from django.test import RequestFactory

    from dinsos.admin_base import KabKotaFilter

    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = user
    variants = [("deep page", _query(p=DEEP_PAGE))]
    search = model_admin.get_search_fields(request)
    if search:
        variants.append(("search by a name", _query(q="siti")))
        if any(f.lstrip("=").split("__")[-1] == "nik" for f in search):
            nik = _identifier(user, "nik")
            if nik:
                variants.append(("search by exact NIK", _query(q=nik)))
        if any(f.lstrip("=").split("__")[-1] == "no_kk" for f in search):
            no_kk = _identifier(user, "no_kk")
            if no_kk:
                variants.append(("search by exact No. KK", _query(q=no_kk)))
    filters = model_admin.get_list_filter(request)
    if any(isinstance(f, type) and issubclass(f, KabKotaFilter) for f in filters):
        kecamatan = _kecamatan(user)
        variants.append(("filter by kecamatan",
                         _query(kab_kota=kecamatan[:5], kecamatan=kecamatan)))
    columns = list(model_admin.get_list_display(request))
    if model_admin.get_actions(request):  # ``?o=`` counts the checkbox column, as Django does
        columns.insert(0, "action_checkbox")
    sortable = model_admin.get_sortable_by(request)
    for index, field in enumerate(columns):
        if field in sortable and _sortable(model_admin, model, field):
            label = getattr(field, "__name__", field)
            variants.append((f"sort by {label}", _query(o=index)))
            variants.append((f"sort by {label} desc, deep page",
                             _query(o=f"-{index}", p=DEEP_PAGE)))
    return variants


def _sortable(model_admin, model, field) -> bool:
    if callable(field):
        return bool(getattr(field, "admin_order_field", None))
    if field == "__str__" or field == "action_checkbox":
        return False
    try:
        model._meta.get_field(field)
        return True
    except Exception:  # noqa: BLE001 — a method or property of the admin or the model
        attr = getattr(model_admin, field, None) or getattr(model, field, None)
        return bool(getattr(attr, "admin_order_field", None))


def _identifier(user, field: str) -> str | None:
    from pmks.models import Household, Person

    if field == "nik":
        return Person.objects.for_user(user).filter(nik__isnull=False).order_by("pk").values_list(
            "nik", flat=True).first()
    return Household.objects.for_user(user).order_by("pk").values_list("no_kk", flat=True).first()


def _kecamatan(user) -> str:
    from pmks.models import Person

    desa = Person.objects.for_user(user).order_by("pk").values_list("desa_id", flat=True).first()
    return (desa or "36.01.01.2001")[:8]


def pages(user) -> tuple[list[Page], list[str]]:
    """Every page ``user`` may open, with its variants, and the names of the pages without a
    sample (nothing of that kind in the user's area: reported, not measured)."""
    found, empty = [], []
    from dinsos.scoping import ALL, user_area

    province = user_area(user) is ALL
    for name, (_pattern, view) in staff_views().items():
        if getattr(view, "province_only", False) and not province:
            continue  # a 404 for a kab/kota user, by design
        if name not in SAMPLES:
            raise LookupError(f"{name}: a staff page without an entry in bench.pages.SAMPLES")
        kwargs = SAMPLES[name](user)
        if kwargs is None:
            empty.append(name)
            continue
        url = reverse(name, kwargs=kwargs) + QUERIES.get(name, "")
        found.append(Page(name, "", url))
        for label, query in VARIANTS.get(name, lambda user: [])(user):
            found.append(Page(name, label, url + (query if "?" not in url
                                                  else "&" + query.lstrip("?"))))
    for name, model in changelists(user).items():
        url = reverse(name)
        found.append(Page(name, "", url))
        for label, query in _admin_variants(user, name, model):
            found.append(Page(name, label, url + query))
    return found, empty
