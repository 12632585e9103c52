"""A web request never waits long for rows another process holds.

An import or a payout computation holds its rows until it commits, minutes for a province's
file; a request that needs one of those rows (an officer saving a kepala of a household the
import writes) waited as long, until gunicorn killed its worker (``GUNICORN_TIMEOUT``) and every
request on that worker got a 502. On PostgreSQL each database connection a web process opens
gets ``lock_timeout`` (``WEB_LOCK_TIMEOUT`` seconds, 0 leaves it unset). Only web processes:
``dinsos/wsgi.py`` calls ``for_requests``, so the Celery worker, beat and ``manage.py`` commands
wait as long as their work must. A request whose statement waited longer is answered 503 with
``Retry-After`` and one Indonesian message, and nothing of it is stored (its transaction rolls
back); so is one the server cancelled as one side of a deadlock. JSON through
``dinsos.api.errors``, a page through ``LockBusyMiddleware``."""

from django.conf import settings
from django.db import OperationalError
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy

#: PostgreSQL's SQLSTATEs: a lock not obtained within lock_timeout; two writers that each
#: waited for the other's rows, one of them cancelled by the server (its work rolled back)
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
#: seconds a client is told to wait before trying again
RETRY_AFTER = 30
MESSAGE = gettext_lazy(
    "Data ini sedang diubah oleh proses lain (misalnya impor berkas atau perhitungan "
    "pembayaran). Tidak ada yang disimpan; coba lagi dalam beberapa saat.")


def for_requests() -> None:
    """Every database connection this process opens from now on gets the web's lock_timeout."""
    connection_created.connect(_set_lock_timeout, dispatch_uid="dinsos.locks")


def _set_lock_timeout(sender, connection, **kwargs) -> None:
    milliseconds = int(settings.WEB_LOCK_TIMEOUT * 1000)
    if connection.vendor == "postgresql" and milliseconds > 0:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{milliseconds}ms"])


def is_lock_conflict(exc: BaseException) -> bool:
    """A statement that waited too long for rows another process holds, or was cancelled as
    one side of a deadlock: nothing of it was stored, and trying again works."""
    return (isinstance(exc, OperationalError) and getattr(exc.__cause__, "pgcode", None)
            in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED))
