"""Deterministic two-writer races on PostgreSQL (the concurrency audit of December 2026).

``Held(fn)`` runs ``fn`` in a thread inside a transaction and keeps that transaction open
(its row locks held, its writes uncommitted) until ``release()``: the moment "one request has
done its work but not yet committed". ``Thread(fn)`` runs the other writer to its end.
``wait_for_lock_waiter()`` returns once a backend of this database waits on a lock
(``pg_stat_activity.wait_event_type = 'Lock'``): the other writer is parked exactly where it
meets the held transaction. No sleep is used as proof: each test asserts that the waiter was
seen (or that the second writer needed no lock at all and finished while the first was held).
``RACE_DEBUG=1`` (with ``-s``) prints the statement the waiting backend is parked on.
"""

import os
import threading

from django.db import connection, transaction

from tests.helpers import lock_waited

TIMEOUT = 30


class Thread:
    """Run ``fn`` in a thread of its own (its own database connection)."""

    def __init__(self, fn, name="second"):
        self.fn = fn
        self.result = None
        self.error = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self):
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - the test asserts on it
            self.error = exc
        finally:
            connection.close()
            self.finished.set()

    def start(self):
        self.thread.start()
        return self

    def join(self):
        self.thread.join(timeout=TIMEOUT)
        assert not self.thread.is_alive(), f"{self.thread.name} still running"
        return self


class Held(Thread):
    """Run ``fn`` inside ``transaction.atomic()`` and hold the transaction open after it."""

    def __init__(self, fn, name="held"):
        super().__init__(fn, name=name)
        self.done = threading.Event()
        self._release = threading.Event()

    def _run(self):
        try:
            with transaction.atomic():
                self.result = self.fn()
                self.done.set()
                assert self._release.wait(TIMEOUT), "never released"
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
        finally:
            self.done.set()
            connection.close()
            self.finished.set()

    def start(self):
        super().start()
        assert self.done.wait(TIMEOUT), "held work did not finish"
        if self.error is not None:
            raise self.error
        return self

    def release(self):
        self._release.set()
        return self.join()


def wait_for_lock_waiter(other: Thread | None = None) -> None:
    """Until a backend waits on a lock (the other writer meets the held transaction). Fails
    when ``other`` finishes first or nothing waits within the timeout."""
    done = other.finished.is_set if other is not None else None
    if lock_waited(TIMEOUT, done=done):
        if os.environ.get("RACE_DEBUG"):
            with connection.cursor() as cursor:
                cursor.execute("SELECT query FROM pg_stat_activity WHERE datname = "
                               "current_database() AND wait_event_type = 'Lock'")
                print("WAITING:", cursor.fetchall())
        return
    if other is not None and other.finished.is_set():
        raise AssertionError(f"{other.thread.name} finished without waiting for a lock: "
                             f"{other.error!r}")
    raise AssertionError("no backend waited on a lock")


def api(user, method, path, data):
    """One API request of ``user`` as a writer for ``Thread``/``Held``: as a district system
    or a browser sends it (no If-Match: it is optional)."""
    from rest_framework.test import APIClient

    def call():
        client = APIClient()
        client.force_login(user)
        return getattr(client, method)(path, data, format="json")
    return call
