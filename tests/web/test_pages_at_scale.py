"""What the staff pages and the admin changelists did at province scale (1M persons, measured by
``make bench``'s ``pages`` job), each pinned by a test that needs no million rows.

The pages are enumerated like the bench's (``bench/pages.py``: the URLconf and the admin
registry), so a new list cannot escape."""

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench import pages as bench_pages
from dinsos import admin_base, dashboard, pagination
from dinsos.pagination import BoundedPaginator
from tests.factories import PersonFactory
from tests.helpers import client_for, postgres_only

pytestmark = pytest.mark.django_db


@pytest.fixture
def clean_caches():
    cache.clear()
    pagination.clear_local()
    yield
    cache.clear()
    pagination.clear_local()


def test_every_staff_list_counts_with_the_bounded_paginator(demo_seeded):
    """The staff lists counted with Django's Paginator: ``COUNT(*)`` of every matching row on
    every page (a million persons: 250 ms; a name search: a second)."""
    from dinsos.models import User

    user = User.objects.get(username="operator_provinsi")
    client = client_for(user)
    found, _empty = bench_pages.pages(user)
    unbounded = []
    for page in found:
        if page.name.startswith("admin:"):
            continue
        response = client.get(page.url)
        listed = (response.context or {}).get("page") if hasattr(response, "context") else None
        paginator = getattr(listed, "paginator", None)
        if paginator is not None and hasattr(paginator.object_list, "query") and not isinstance(
                paginator, BoundedPaginator):
            unbounded.append(str(page))
    assert not unbounded


def test_a_big_table_sorts_only_by_columns_an_index_orders(monkeypatch, province_operator):
    """``?o=`` on an unindexed column (the birth date, the sex, the desa through a join) of a
    million persons sorted them all for every page: 1–3 s. Above COUNT_CAP rows a changelist
    sorts only by the columns leading an index."""
    monkeypatch.setattr(admin_base, "table_rows_estimate", lambda model: 1_000_000)
    request = RequestFactory().get("/admin/")
    request.user = province_operator
    offending = {}
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, admin_base.DinsosModelAdmin):
            continue
        indexed = admin_base.leading_index_fields(model)
        wrong = [name for name in model_admin.get_sortable_by(request)
                 if admin_base._order_field(model_admin, name) not in indexed]
        if wrong:
            offending[model.__name__] = wrong
    assert not offending
    person = admin.site._registry[PersonFactory._meta.model]
    assert list(person.get_sortable_by(request)) == ["name", "nik"]


def test_a_big_table_refuses_a_sort_by_an_unindexed_column_from_the_url(monkeypatch,
                                                                      province_operator):
    """Django reads ``?o=`` for every column: a bookmarked sort by a column no longer offered
    on a big table still sorted the million rows (review)."""
    monkeypatch.setattr(admin_base, "table_rows_estimate", lambda model: 1_000_000)
    PersonFactory.create_batch(3)
    client = client_for(province_operator)
    url = reverse("admin:pmks_person_changelist")
    changelist = client.get(url).context["cl"]
    assert "birth_date" not in changelist.sortable_by
    column = changelist.list_display.index("birth_date")
    response = client.get(url, {"o": str(column)})
    assert response.status_code == 200
    ordering = [str(o) for o in response.context["cl"].queryset.query.order_by]
    assert not any("birth_date" in o for o in ordering), ordering
    by_name = changelist.list_display.index("name")
    ordering = client.get(url, {"o": str(by_name)}).context["cl"].queryset.query.order_by
    assert any("name" in str(o) for o in ordering)


def test_a_small_table_sorts_by_every_column(province_operator):
    request = RequestFactory().get("/admin/")
    request.user = province_operator
    person = admin.site._registry[PersonFactory._meta.model]
    assert "birth_date" in person.get_sortable_by(request)


def test_the_person_changelist_lists_the_categories_without_reading_the_cases(province_operator):
    """The "kategori" filter offered only the categories the user's persons' cases refer to:
    a DISTINCT over a join of every person with its cases, on every page (500–650 ms at 1M).
    Categories are reference data every role sees."""
    PersonFactory()
    with CaptureQueriesContext(connection) as queries:
        response = client_for(province_operator).get(reverse("admin:pmks_person_changelist"))
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "pmks_category" in q["sql"]
                and "pmks_case" in q["sql"]]


def test_a_word_search_leaves_out_the_identifier_fields(province_operator):
    """``?q=siti`` was OR-ed with ``UPPER(nik) = 'SITI'`` and the No. KK through a join to the
    households, so no index of the name could serve it (6–18 s at 1M)."""
    PersonFactory(name="Siti Aminah")
    with CaptureQueriesContext(connection) as queries:
        response = client_for(province_operator).get(
            reverse("admin:pmks_person_changelist"), {"q": "siti"})
    assert response.status_code == 200
    assert "Siti Aminah" in [p.name for p in response.context["cl"].result_list]
    assert not [q["sql"] for q in queries if "pmks_household" in q["sql"]]
    only_ids = client_for(province_operator).get(reverse("admin:pmks_household_changelist"),
                                                 {"q": "siti"})
    assert only_ids.status_code == 200


@pytest.mark.usefixtures("clean_caches")
def test_beranda_counts_a_big_registry_once_every_few_minutes(monkeypatch, province_operator):
    """Beranda counted the whole registry on every visit: ``COUNT(*)`` of a million persons,
    of the households and a GROUP BY of the cases per kab/kota (700 ms at 1M). Above
    COUNT_CAP rows the figure is taken once and kept FIGURE_SECONDS."""
    monkeypatch.setattr(dashboard, "COUNT_CAP", 2)
    PersonFactory.create_batch(3)
    client = client_for(province_operator)
    def registered(response):
        return next(f.value for p in response.context["panels"] for f in p.figures
                    if f.label == "Orang terdaftar")

    counted = registered(client.get("/"))
    PersonFactory()
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/")
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT COUNT(*) AS "__count"')
                and "pmks_person" in q["sql"]]
    assert registered(again) == counted


@pytest.mark.usefixtures("clean_caches")
def test_beranda_says_when_its_big_figures_were_taken(monkeypatch, province_operator):
    """A cached figure stood as if current (review): right after an import Beranda showed the
    old count next to the person list's new one, with no sign. The page says when the big
    figures were taken and how often they are renewed; small ones stay exact, without it."""
    import datetime
    from types import SimpleNamespace

    client = client_for(province_operator)
    PersonFactory.create_batch(3)
    assert client.get("/").context["figures_as_of"] is None  # all exact
    assert "Angka di atas 10.000" not in client.get("/").content.decode()
    monkeypatch.setattr(dashboard, "COUNT_CAP", 2)
    taken = datetime.datetime(2027, 2, 15, 9, 5, tzinfo=datetime.UTC)  # 16.05 WIB
    monkeypatch.setattr(dashboard, "timezone", SimpleNamespace(now=lambda: taken))
    client.get("/")
    later = taken + datetime.timedelta(minutes=3)
    monkeypatch.setattr(dashboard, "timezone", SimpleNamespace(now=lambda: later))
    response = client.get("/")
    assert response.context["figures_as_of"] == taken
    assert ("Angka di atas 10.000 dihitung pukul 16.05 WIB dan diperbarui paling lama tiap 5 "
            "menit; daftar di tiap halaman selalu terkini.") in response.content.decode()


@postgres_only
def test_the_name_search_and_the_report_queue_have_their_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname IN "
                       "('pmks_person_name_trgm', 'pmks_person_folded_key_trgm', "
                       "'psks_report_queue')")
        assert {row[0] for row in cursor.fetchall()} == {
            "pmks_person_name_trgm", "pmks_person_folded_key_trgm", "psks_report_queue"}
