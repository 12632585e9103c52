"""The embedded file broker of `make run` (dinsos.broker): a worker told to stop leaves its wait
at once, so Ctrl-C ends the worker within honcho's 5 s instead of a SIGKILL; any other wait
still lasts its whole timeout, and messages still arrive."""

import time

import pytest
from kombu import Connection

from dinsos import broker
from dinsos.celery import app  # noqa: F401 - registers the transport for filesystem://


@pytest.fixture
def connection(tmp_path):
    folder = str(tmp_path)
    with Connection("filesystem://", transport_options={
            "data_folder_in": folder, "data_folder_out": folder,
            "control_folder": folder, "store_processed": False}) as conn:
        yield conn


def _waited(conn, timeout: float) -> float:
    queue = conn.SimpleQueue("warten")
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        conn.drain_events(timeout=timeout)
    queue.close()
    return time.monotonic() - start


def test_an_idle_wait_lasts_its_whole_timeout(connection):
    assert _waited(connection, 0.8) >= 0.8


def test_a_stopping_worker_leaves_its_wait_within_a_slice(connection, monkeypatch):
    # Celery's warm shutdown sets should_stop to the exit code, 0 (falsy) on a normal stop
    monkeypatch.setattr(broker.state, "should_stop", 0)
    # within a slice or two (0.25 s each), not the whole timeout: a bound far from both, so a
    # busy CI machine cannot fail it
    assert _waited(connection, 6.0) < 3.0


def test_a_message_is_delivered_through_the_sliced_wait(connection):
    queue = connection.SimpleQueue("pesan")
    queue.put({"halo": 1})
    assert queue.get(block=True, timeout=3).payload == {"halo": 1}
    queue.close()


def test_filesystem_urls_get_it(connection):
    assert isinstance(connection.transport, broker.Transport)
