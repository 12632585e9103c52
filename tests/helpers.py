import re
from html import unescape

import pytest
from django.db import connection

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (runs in the PostgreSQL CI pass)"
)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> set:
    return {row["id"] for row in results(response)}


def version_in(html: str, action: str | None = None) -> str:
    """The hidden version (``if_match``, dinsos.pages.IfMatchPage) of the form posting to
    ``action``, or of the page's form without an action (posting to the page itself)."""
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
        head = form[:form.index(">")]
        target = re.search(r'action="([^"]*)"', head)
        if (action is None and target is None) or (target and unescape(target[1]) == action):
            found = re.search(r'name="if_match" value="([^"]*)"', form)
            assert found, f"the form to {action or 'this page'} carries no version"
            return unescape(found[1])
    raise AssertionError(f"no form posting to {action or 'this page'}")
