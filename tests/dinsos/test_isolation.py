"""Issue #9: the access policy holds on every surface, proved by enumeration. The tests walk
the URL resolver (every API router endpoint, every staff page with an object in its URL) and
``admin.site`` (every ModelAdmin) and fail when one is not declared in tests/scoped_endpoints.py;
then, for every declared surface and every role of a Kabupaten Pandeglang office, objects of
Kabupaten Lebak never appear (lists, details, forms, filter forms, browsable API, admin pages)
and answer exactly like missing ones."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.viewsets import ViewSetMixin

from dinsos import roles
from dinsos.admin_base import PolicyAdminMixin
from dinsos.api.serializers import ScopedSerializerMixin
from dinsos.filters import FilterSet
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, PersonFactory, WorkerFactory
from tests.helpers import client_for
from tests.scoped_endpoints import (
    ADMIN_OBJECTS,
    ADMIN_UNSCOPED,
    OTHER_ENDPOINTS,
    PROVINCE,
    REFERENCE,
    SCOPED_ENDPOINTS,
    STAFF_AREA_PAGES,
    STAFF_PAGES,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"dinsos", "pmks", "psks", "jamsosratu", "incentives"}
#: What a Lebak object shows when it leaks: the planted name, or the region part of a Lebak
#: NIK / No. KK (persons, workers and households print it, masked, in their names).
LEBAK_MARKS = ("RAHASIA LEBAK", "360201")


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern, namespace


def api_endpoints() -> dict[str, type]:
    """'<namespace>:<basename>' -> viewset class, for every router route of the API."""
    found = {}
    for route, pattern, namespace in _walk(get_resolver().url_patterns):
        cls = getattr(pattern.callback, "cls", None)
        basename = getattr(pattern.callback, "initkwargs", {}).get("basename")
        if route.startswith("api/") and cls and issubclass(cls, ViewSetMixin) and basename:
            found[f"{namespace}:{basename}" if namespace else basename] = cls
    return found


def staff_pages() -> set[str]:
    """URL names of non-admin, non-API pages whose URL carries a parameter (an object)."""
    names = set()
    for route, pattern, namespace in _walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/", "i18n/")) or "<" not in route:
            continue
        names.add(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))
    return names


def our_admins():
    return {model: model_admin for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in OUR_APPS}



@pytest.fixture
def pandeglang_users(make_user):
    """One user of every role, all working in the Kabupaten Pandeglang office."""
    return {role: make_user(role, "36.01") for role in roles.ROLE_NAMES}


@pytest.fixture
def planted(db):
    """A Lebak person and worker whose names must never reach a Pandeglang user."""
    return (PersonFactory(desa_id=DESA_LEBAK, name="RAHASIA LEBAK"),
            WorkerFactory(desa_id=DESA_LEBAK, name="RAHASIA LEBAK"))


def assert_no_lebak(text: str, where: str) -> None:
    for mark in LEBAK_MARKS:
        assert mark not in text, f"{where}: shows a Lebak object ({mark})"


# --- nothing escapes the coverage map -------------------------------------------------------


def test_every_api_endpoint_is_covered():
    endpoints = api_endpoints()
    assert "pmks-api:household" in endpoints  # the walk finds the routers
    missing = set(endpoints) - set(SCOPED_ENDPOINTS) - set(OTHER_ENDPOINTS)
    assert not missing, f"declare these in tests/scoped_endpoints.py: {sorted(missing)}"
    assert not (set(SCOPED_ENDPOINTS) | set(OTHER_ENDPOINTS)) - set(endpoints)


def test_every_registered_admin_is_covered_and_asks_the_policy():
    admins = our_admins()
    missing = set(admins) - set(ADMIN_OBJECTS) - ADMIN_UNSCOPED
    assert not missing, f"declare these in tests/scoped_endpoints.py: {sorted(map(str, missing))}"
    assert not (set(ADMIN_OBJECTS) | ADMIN_UNSCOPED) - set(admins)
    for model, model_admin in admins.items():
        assert isinstance(model_admin, PolicyAdminMixin), model


def test_every_staff_page_with_an_object_is_covered():
    missing = staff_pages() - set(STAFF_PAGES) - set(STAFF_AREA_PAGES)
    assert not missing, f"declare these in tests/scoped_endpoints.py: {sorted(missing)}"


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_serializer_and_filterset_derives_from_the_policy_bases():
    """Related-object fields get their scoped querysets from the bases, never by hand."""
    import django_filters
    from rest_framework import serializers

    ours = [cls for base in (serializers.BaseSerializer, django_filters.FilterSet)
            for cls in _subclasses(base) if cls.__module__.split(".")[0] in OUR_APPS]
    assert len(ours) > 40
    for cls in ours:
        if issubclass(cls, django_filters.FilterSet):
            assert issubclass(cls, FilterSet), cls
        else:
            assert issubclass(cls, ScopedSerializerMixin), cls
    for name, viewset in api_endpoints().items():
        filterset = getattr(viewset, "filterset_class", None)
        assert filterset is None or issubclass(filterset, FilterSet), name


def test_third_party_admins_are_closed_to_district_roles(pandeglang_users, rf):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in OUR_APPS:
            continue
        request = rf.get("/admin/")
        request.user = pandeglang_users[roles.OPERATOR_KAB_KOTA]
        assert not model_admin.has_view_permission(request), model


# --- API: every scoped endpoint, every role ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCOPED_ENDPOINTS))
def test_no_role_of_a_district_reaches_another_district(name, pandeglang_users, api_as):
    make = SCOPED_ENDPOINTS[name]
    own, other = make(DESA_PANDEGLANG), make(DESA_LEBAK)
    missing_pk = other.pk + 10_000
    for role, user in pandeglang_users.items():
        client = api_as(user)
        listing = client.get(reverse(f"{name}-list"))
        if listing.status_code == 403:  # the role may not read this at all
            assert client.get(reverse(f"{name}-detail", args=[other.pk])).status_code == 403
            continue
        listed = {row["id"]: row for row in listing.json()["results"]}
        assert own.pk in listed and other.pk not in listed, (role, name)
        if hasattr(api_endpoints()[name], "changes"):  # its sync feed: same rows, same masks
            fed = {e["id"]: e for e in client.get(reverse(f"{name}-changes")).json()["results"]}
            assert other.pk not in fed and fed[own.pk]["data"] == listed[own.pk], (role, name)
        other_answer = client.get(reverse(f"{name}-detail", args=[other.pk]))
        missing_answer = client.get(reverse(f"{name}-detail", args=[missing_pk]))
        assert other_answer.status_code == missing_answer.status_code == 404, (role, name)
        assert other_answer.json() == missing_answer.json(), (role, name)


@pytest.mark.parametrize("name", sorted(OTHER_ENDPOINTS))
def test_reference_and_province_endpoints(name, pandeglang_operator, province_operator, api_as):
    kind = OTHER_ENDPOINTS[name]
    try:
        url = reverse(f"{name}-list")
    except Exception:  # noqa: BLE001 - a viewset without a list route
        pytest.skip("no list route")
    params = {"cycle": "2026"} if "coverage" in name else {}  # lists refuse unknown parameters
    district = api_as(pandeglang_operator).get(url, params)
    if kind == PROVINCE:
        assert district.status_code == 403
    elif kind == REFERENCE:
        assert district.status_code == 200
        assert api_as(pandeglang_operator).post(url, {}, format="json").status_code in (403, 405)


# --- forms: the browsable API, filter forms, admin forms -------------------------------------


@pytest.mark.parametrize("name", sorted(SCOPED_ENDPOINTS))
def test_browsable_api_forms_list_no_other_district(name, planted, pandeglang_operator):
    SCOPED_ENDPOINTS[name](DESA_LEBAK)
    own = SCOPED_ENDPOINTS[name](DESA_PANDEGLANG)
    client = client_for(pandeglang_operator)
    for url in (reverse(f"{name}-list"), reverse(f"{name}-detail", args=[own.pk])):
        response = client.get(url, {"format": "api"}, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert_no_lebak(response.content.decode(), url)


def test_out_of_area_id_filter_answers_like_a_missing_id(pandeglang_operator, api_as):
    lebak = PersonFactory(desa_id=DESA_LEBAK)
    client = api_as(pandeglang_operator)
    url = reverse("pmks-api:case-list")
    other, missing = client.get(url, {"person": lebak.pk}), client.get(url, {"person": 999_999})
    assert other.status_code == missing.status_code == 400
    assert other.json()["errors"].keys() == missing.json()["errors"].keys() == {"person"}


@pytest.mark.parametrize("model", sorted(ADMIN_OBJECTS, key=str), ids=str)
def test_admin_pages_show_no_other_district(model, planted, pandeglang_users):
    make = ADMIN_OBJECTS[model]
    own, other = make(DESA_PANDEGLANG), make(DESA_LEBAK)
    opts = model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    for role, user in pandeglang_users.items():
        client = client_for(user)
        changelist = client.get(reverse(f"{base}_changelist"))
        assert changelist.status_code in (200, 403), (role, model)
        if changelist.status_code == 403:
            continue
        assert_no_lebak(changelist.content.decode(), f"{role} {model} changelist")
        for page in (f"{base}_change", f"{base}_history", f"{base}_auditlog"):
            try:
                other_url = reverse(page, args=[other.pk])
            except Exception:  # noqa: BLE001 - a page this admin doesn't have
                continue
            answer = client.get(other_url)
            assert answer.status_code in (302, 404), (role, page)
            assert_no_lebak(answer.content.decode(), f"{role} {page}")
            own_page = client.get(reverse(page, args=[own.pk]))
            assert own_page.status_code == 200, (role, page)
            assert_no_lebak(own_page.content.decode(), f"{role} {page} (own)")
    add = client_for(pandeglang_users[roles.OPERATOR_KAB_KOTA]).get(reverse(f"{base}_add"))
    if add.status_code == 200:
        assert_no_lebak(add.content.decode(), f"{model} add form")


@pytest.mark.parametrize("model", sorted(ADMIN_OBJECTS, key=str), ids=str)
def test_admin_lookups_show_no_other_district(model, planted, pandeglang_operator):
    """Raw-id popups (a changelist with _popup) list only the user's rows."""
    ADMIN_OBJECTS[model](DESA_LEBAK)
    opts = model._meta
    client = client_for(pandeglang_operator)
    popup = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
                       {"_popup": "1", "_to_field": "id"})
    if popup.status_code == 200:
        assert_no_lebak(popup.content.decode(), f"{model} raw-id popup")


def autocomplete_fields() -> list[tuple[str, str, str]]:
    """(app_label, model_name, field) of every autocomplete field of our admins and their
    inlines: each is a search-as-you-type list served by ``admin:autocomplete``."""
    found = set()
    for model, model_admin in our_admins().items():
        sources = [(model, model_admin)]
        sources += [(inline.model, inline) for inline in model_admin.inlines]
        for source, owner in sources:
            for field in owner.autocomplete_fields:
                found.add((source._meta.app_label, source._meta.model_name, field))
    return sorted(found)


def test_autocomplete_fields_are_found():
    assert ("pmks", "household", "desa") in autocomplete_fields()
    assert ("psks", "meeting", "attendees") in autocomplete_fields()


@pytest.mark.parametrize("source", autocomplete_fields(), ids="-".join)
def test_admin_autocomplete_shows_no_other_district(source, planted, pandeglang_operator):
    """Every autocomplete field, searched by nothing, by the planted name and by Lebak's
    region code, offers no Lebak record — a region (desa, kecamatan) only inside the area."""
    from dinsos.models import Wilayah

    app_label, model_name, field = source
    target = apps.get_model(app_label, model_name)._meta.get_field(field).related_model
    client = client_for(pandeglang_operator)
    for term in ("", "RAHASIA LEBAK", Wilayah.objects.get(kode=DESA_LEBAK).nama, "36.02"):
        answer = client.get(reverse("admin:autocomplete"), {
            "term": term, "app_label": app_label, "model_name": model_name,
            "field_name": field})
        assert answer.status_code == 200, (source, term)
        assert_no_lebak(answer.content.decode(), f"autocomplete {source} {term!r}")
        if target is Wilayah:
            ids = [row["id"] for row in answer.json()["results"]]
            assert all(i.startswith("36.01") for i in ids), (source, term, ids)


def test_staff_pages_answer_404_for_another_district(pandeglang_operator):
    client = client_for(pandeglang_operator)
    for name, kwargs_for in STAFF_PAGES.items():
        assert client.get(reverse(name, kwargs=kwargs_for(DESA_LEBAK))).status_code == 404, name


@pytest.mark.parametrize("name", sorted(STAFF_PAGES))
def test_no_role_of_a_district_opens_another_districts_staff_page(name, pandeglang_users):
    """Every role of a Pandeglang office: a Lebak object's page is missing (404) or closed to
    the role (403), for GET and POST alike (405 where the page takes no POST, before any
    object is looked up)."""
    url = reverse(name, kwargs=STAFF_PAGES[name](DESA_LEBAK))
    for role, user in pandeglang_users.items():
        client = client_for(user)
        for method in (client.get, client.post):
            status = method(url).status_code
            assert status in (403, 404, 405), (name, role, method.__name__, status)


@pytest.mark.parametrize("name", sorted(STAFF_AREA_PAGES))
def test_area_pages_show_no_role_of_a_district_another_district(name, pandeglang_users):
    url = reverse(name, kwargs=STAFF_AREA_PAGES[name](DESA_LEBAK))
    for role, user in pandeglang_users.items():
        response = client_for(user).get(url)
        assert response.status_code in (200, 403), (name, role, response.status_code)
        assert_no_lebak(response.content.decode(), f"{name} as {role}")
