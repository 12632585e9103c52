import io
import re
import time
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (runs in the PostgreSQL CI pass)"
)


def client_for(user) -> Client:
    """A page client signed in as ``user`` (no password round trip)."""
    client = Client()
    client.force_login(user)
    return client


def reads(model) -> list:
    """The ACCESS entries of ``model`` (a record's read, or a list/export/feed read naming
    its rows), oldest first."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    return list(LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                        action=LogEntry.Action.ACCESS).order_by("pk"))


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


def pull(client, name, cursor=None, page_size=500, between_pages=None, **params):
    """Follow the changes feed of the list ``name`` (``"pmks-api:person"``) from ``cursor`` to
    its end; return (entries, cursor). ``between_pages`` runs once, after the first page."""
    query = {"page_size": page_size, **params, **({"cursor": cursor} if cursor else {})}
    response = client.get(reverse(f"{name}-changes"), query)
    entries = []
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        entries += body["results"]
        if not body["next"]:
            return entries, body["cursor"]
        if between_pages:
            between_pages()
            between_pages = None
        response = client.get(body["next"])


def apply(mirror: dict, entries) -> dict:
    """A sync client's mirror after ``entries``: upserts written, tombstones removed."""
    for entry in entries:
        if entry["change"] == "upsert":
            mirror[entry["id"]] = entry["data"]
        else:
            assert entry["data"] is None
            mirror.pop(entry["id"], None)
    return mirror


def named_routes(patterns=None, prefix="", namespace=""):
    """(route, "<namespace>:<name>") of every named URL pattern, walking the URLconf."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from named_routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), namespace + pattern.name


def lock_waited(seconds: float = 10, done=None) -> bool:
    """For the PostgreSQL race tests: wait until a session of this test database waits for a
    lock (True), or until ``done()`` is true — the other thread ran through without waiting —
    or ``seconds`` passed (False)."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and not (done and done()):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def photo_upload(name: str = "rumah.jpg", fmt: str = "JPEG"):
    """A real (tiny) picture as an upload: the photo fields read it with Pillow."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 120, 40)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")
