"""Issue #12, point 9: every staff page has a title of its own (the tab, the history, a screen
reader's first words). Enumerated from the URLconf, not listed by hand: the pages without URL
parameters, and those with one through the objects tests/scoped_endpoints.py makes."""

import re
from html import unescape

import pytest
from django.urls import reverse

from dinsos import roles
from tests.factories import DESA_PANDEGLANG
from tests.helpers import client_for, named_routes
from tests.scoped_endpoints import STAFF_AREA_PAGES, STAFF_PAGES

SITE = "Dinas Sosial Provinsi Banten"


def _staff_pages(client):
    """(name, html) of every staff page that answers 200 with HTML."""
    for route, name in named_routes():
        if route.startswith(("admin/", "api/", "i18n/")):
            continue
        maker = STAFF_PAGES.get(name) or STAFF_AREA_PAGES.get(name)
        if "<" in route and maker is None:
            continue  # a download or a POST-only action (the isolation test declares them)
        response = client.get(reverse(name, kwargs=maker(DESA_PANDEGLANG) if maker else {}))
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        yield name, response.content.decode()


@pytest.mark.django_db
def test_every_staff_page_has_a_title_of_its_own(make_user):
    client = client_for(make_user(roles.ADMIN, is_superuser=True))
    titles = {}
    for name, html in _staff_pages(client):
        found = re.search(r"<title>(.*?)</title>", html, re.S)
        assert found, name
        title = " ".join(unescape(found[1]).split())
        assert title.endswith(f"· {SITE}") and title != SITE, (name, title)
        titles[name] = title
    assert len(titles) >= 25, sorted(titles)


@pytest.mark.django_db
def test_no_staff_page_gives_two_elements_one_id(make_user):
    """Found in a browser walk: the run page's line section and its heading were both
    ``id="baris"`` (the section was labelled by itself, and ``#baris`` is ambiguous)."""
    client = client_for(make_user(roles.ADMIN, is_superuser=True))
    seen = 0
    for name, html in _staff_pages(client):
        ids = re.findall(r'<[a-zA-Z][^>]*?\sid="([^"]+)"', html)
        twice = sorted({i for i in ids if ids.count(i) > 1})
        assert not twice, (name, twice)
        seen += 1
    assert seen >= 25
