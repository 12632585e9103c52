"""The embedded file broker of ``make run``: kombu's filesystem transport, quick to stop.

The broker cannot wake a waiting worker, so Celery's worker polls it: each turn of its loop
waits up to 2 s for a message, and a warm shutdown (Ctrl-C) waits out the turn it interrupts
and one more. That came to 5-7 s, longer than honcho gives a process before its SIGKILL. Here a
wait is cut into slices of ``SLICE`` seconds and ends after the slice in which the worker was
told to stop; otherwise every caller still waits its whole timeout, and messages are picked up
at the transport's polling interval as before."""

from time import monotonic

from celery.worker import state
from kombu.transport import filesystem

SLICE = 0.25


def _stopping() -> bool:
    return any(flag is not None and flag is not False
               for flag in (state.should_stop, state.should_terminate))


class Transport(filesystem.Transport):
    def drain_events(self, connection, timeout=None):
        if timeout is None:
            return super().drain_events(connection)
        deadline = monotonic() + timeout
        while True:
            try:
                return super().drain_events(
                    connection, timeout=max(0.0, min(SLICE, deadline - monotonic())))
            except TimeoutError:  # socket.timeout
                if _stopping() or monotonic() >= deadline:
                    raise
