"""A web request never waits long for rows another process holds (``dinsos.locks``): an
import or a payout run keeps its rows until it commits, and a request that needed one waited
as long — until gunicorn killed its worker and answered 502 to every request on it. Now web
connections carry ``lock_timeout`` and the request is answered 503 "coba lagi" with
``Retry-After``, in JSON on the API and as the Indonesian page on staff pages, nothing stored."""

import threading
from html import unescape

import pytest
from django.db import connection, transaction
from django.db.backends.signals import connection_created

from dinsos import locks
from pmks.models import Person
from tests.helpers import client_for, postgres_only, version_in
from tests.web.test_if_match_pages import person_update

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MESSAGE = "Data ini sedang diubah oleh proses lain"


@pytest.fixture
def web_process(settings):
    """As ``dinsos/wsgi.py`` sets up a web process, with a short timeout; a new connection."""
    settings.WEB_LOCK_TIMEOUT = 0.5
    locks.for_requests()
    connection.close()
    yield
    connection_created.disconnect(dispatch_uid="dinsos.locks")
    connection.close()


def held(person: Person):
    """A thread holding the person's row (as an import's transaction does) until released."""
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Person.objects.select_for_update().get(pk=person.pk)
                holding.set()
                release.wait(timeout=20)
        finally:
            holding.set()
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(timeout=20)
    return thread, release


def test_only_web_processes_get_the_timeout(settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"  # a worker or command: waits as long as it must


def test_the_api_answers_503_with_retry_after_and_stores_nothing(web_process, make_user,
                                                                  api_as):
    s = person_update(make_user)
    person = Person.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "500ms"
    thread, release = held(person)
    try:
        response = api_as(s["user"]).patch(f"/api/v1/pmks/persons/{person.pk}/",
                                           {"occupation": "Nelayan"}, format="json")
    finally:
        release.set()
        thread.join(timeout=30)
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(locks.RETRY_AFTER)
    assert response.json()["code"] == "sedang_dikunci"
    assert response.json()["detail"].startswith(MESSAGE)
    assert Person.objects.get(pk=person.pk).occupation != "Nelayan"


def test_a_staff_page_answers_the_indonesian_503_page(web_process, make_user):
    s = person_update(make_user)
    person = Person.objects.get()
    client = client_for(s["user"])
    url, post = s["b"]
    version = version_in(client.get(s["page"]).content.decode(),
                         None if url == s["page"] else url)
    before = s["state"]()
    thread, release = held(person)
    try:
        response = client.post(url, {**post, "if_match": version})
    finally:
        release.set()
        thread.join(timeout=30)
    assert response.status_code == 503
    assert response["Retry-After"] == str(locks.RETRY_AFTER)
    page = unescape(response.content.decode())
    assert MESSAGE in page and "Coba lagi" in page
    assert s["state"]() == before


class _Cause(Exception):
    pgcode = locks.DEADLOCK_DETECTED


@pytest.mark.parametrize("path", ["/api/v1/pmks/persons/", "/pmks/"])
def test_a_deadlock_victim_is_answered_503_coba_lagi(path, make_user, monkeypatch, api_as):
    """Two writers that lock the same rows in opposite orders (an If-Match check on an
    assignment and a worker's stop): PostgreSQL cancels one — a 500 before; now the same
    503 "coba lagi" as a lock wait too long (nothing of it was stored)."""
    from django.db import OperationalError

    from dinsos import roles

    def deadlocked(*args, **kwargs):
        try:
            raise _Cause("deadlock detected")
        except _Cause as cause:
            raise OperationalError("deadlock detected") from cause

    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    monkeypatch.setattr("pmks.selectors.person_list", deadlocked)
    monkeypatch.setattr("pmks.selectors.household_list", deadlocked, raising=False)
    client = api_as(user) if path.startswith("/api/") else client_for(user)
    response = client.get(path)
    assert response.status_code == 503, response.content[:500]
    assert response["Retry-After"] == str(locks.RETRY_AFTER)
    assert MESSAGE in unescape(response.content.decode())
