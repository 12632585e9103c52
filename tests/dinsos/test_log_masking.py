"""No whole NIK in the application's logs (UU 27/2022): a NIK travels in URLs (the path of
``persons/by-nik/<nik>/``, a search ``?q=<nik>``), and the loggers that write a request's path
or query mask every run of 15–16 digits (``dinsos.log_filters.MaskIdentifiers`` in
settings.LOGGING; gunicorn's access log: ``dinsos.gunicorn.MaskedLogger``). Each test goes
through the real logger: Django's request handling into ``django.request``, gunicorn's logger
built from ``dinsos/gunicorn.py`` as ``--config python:dinsos.gunicorn`` builds it."""

import datetime
import logging
import sys
import types

import pytest

from dinsos.validators import build_nik, mask_identity_number, mask_identity_numbers_in

pytestmark = pytest.mark.django_db


def test_by_nik_lookup_that_misses_logs_the_nik_masked(pandeglang_operator, api_as, caplog):
    """Personal-data audit (December 2026): P7 — a GET persons/by-nik/<nik>/ of an
    unregistered (or out-of-area) NIK answers 404 and Django's request logger wrote
    "Not Found: …/by-nik/<whole NIK>/" into the application log, outside the audit trail's
    masking and retention."""
    nik = build_nik("36.01.01", datetime.date(1990, 5, 10), "P", 4321)
    with caplog.at_level(logging.INFO):
        response = api_as(pandeglang_operator).get(f"/api/v1/pmks/persons/by-nik/{nik}/")
    assert response.status_code == 404
    lines = [r.getMessage() for r in caplog.records]
    leaked = [line for line in lines if nik in line]
    assert not leaked, f"whole NIK in the application log: {leaked[0][:80] if leaked else ''}"
    assert f"Not Found: /api/v1/pmks/persons/by-nik/{mask_identity_number(nik)}/" in lines


def test_by_nik_refused_upsert_logs_the_nik_masked(pandeglang_operator, api_as, caplog):
    """Personal-data audit (December 2026): P7 — a refused PUT persons/by-nik/<nik>/ (a 400
    for a bad field) logged "Bad Request: …/by-nik/<whole NIK>/": every refused sync write of
    a district client put a NIK in the log."""
    nik = build_nik("36.01.01", datetime.date(1990, 5, 10), "P", 4322)
    with caplog.at_level(logging.INFO):
        response = api_as(pandeglang_operator).put(
            f"/api/v1/pmks/persons/by-nik/{nik}/", {"name": ""}, format="json",
            HTTP_IDEMPOTENCY_KEY="audit-pii-1")
    assert response.status_code == 400
    leaked = [r.getMessage() for r in caplog.records if nik in r.getMessage()]
    assert not leaked, f"whole NIK in the application log: {leaked[0][:80] if leaked else ''}"
    assert any(mask_identity_number(nik) in r.getMessage() for r in caplog.records)


def test_gunicorn_access_log_masks_a_nik_searched_by_get(capsys):
    """Personal-data audit (December 2026): P7 — production runs gunicorn with
    ``accesslog = "-"`` and its default format, whose ``"%(r)s"`` is the request line with
    the query string and ``"%(f)s"`` the Referer: the staff search ``GET /pmks/?q=<NIK>``
    (and every by-nik call, and the Referer of the next page) wrote whole NIKs into the
    container's access log. The settings module now names a logger class that masks them."""
    from gunicorn.config import Config

    from dinsos import gunicorn as conf

    cfg = Config()
    for name in cfg.settings:  # as gunicorn reads a python: config module
        if hasattr(conf, name):
            cfg.set(name, getattr(conf, name))
    assert cfg.accesslog == "-"  # the access log is on
    nik = "3601011708850001"
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/pmks/?q={nik}", "PATH_INFO": "/pmks/",
               "QUERY_STRING": f"q={nik}", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "10.0.0.1", "HTTP_REFERER": f"https://dinsos.test/pmks/?q={nik}"}
    resp = types.SimpleNamespace(status="200 OK", sent=100, headers=[])
    logger = cfg.logger_class(cfg)
    logger.access(resp, [], environ, datetime.timedelta(milliseconds=5))
    line = capsys.readouterr().out
    assert "GET /pmks/?q=" in line  # the line was written
    assert nik not in line, f"access log line: {line[:120]}"
    assert f'"GET /pmks/?q={mask_identity_number(nik)} HTTP/1.1" 200 100' in line
    for fmt in ("%(U)s?%(q)s", "%(f)s", "%({raw_uri}e)s", "%({query_string}e)s"):
        assert nik not in fmt % logger.atoms(resp, [], environ, datetime.timedelta()), fmt


def test_the_filter_masks_a_tracebacks_identifiers_and_leaves_other_numbers():
    """A database error logged with its traceback quotes the row (``DETAIL: Key (nik)=(…)``):
    the filter masks it too; a shorter number (an id, an amount) and a longer one are left."""
    from dinsos.log_filters import MaskIdentifiers

    nik = "3601011708850001"
    try:
        raise ValueError(f"Key (nik)=({nik}) already exists.")
    except ValueError:
        record = logging.LogRecord("dinsos.importing", logging.ERROR, __file__, 1,
                                   "import %s failed at %s", (7, nik), exc_info=sys.exc_info())
    assert MaskIdentifiers().filter(record) is True
    text = logging.Formatter().format(record)
    assert nik not in text and mask_identity_number(nik) in text
    assert mask_identity_numbers_in("id 12345678901234 rp 1500000 x 12345678901234567") == (
        "id 12345678901234 rp 1500000 x 12345678901234567")


def test_a_celery_worker_log_masks_a_nik(tmp_path):
    """Personal-data audit (December 2026): a Celery worker replaces the root logger's handlers
    with its own, so the masking console handler of settings.LOGGING was gone in the worker
    and beat: a task's traceback quoting a row's NIK (a unique violation's DETAIL) reached
    their log whole. Celery's own logging setup (as ``celery worker`` runs it, into a file
    here) now gives its handlers the same filter."""
    from celery.app import log as celery_log

    from dinsos.celery import app

    root = logging.getLogger()
    saved = (root.handlers[:], root.level, celery_log.Logging._setup)
    nik = build_nik("36.01.01", datetime.date(1985, 8, 17), "L", 1)
    logfile = tmp_path / "worker.log"
    try:
        celery_log.Logging._setup = False
        app.log.setup(loglevel=logging.INFO, logfile=str(logfile), redirect_stdouts=False,
                      colorize=False, hostname="uji")
        try:
            raise RuntimeError(f"duplicate key value DETAIL: Key (nik)=({nik}) already exists.")
        except RuntimeError:
            logging.getLogger("dinsos.importing").exception("import batch 7 failed")
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in root.handlers:
            if handler not in saved[0]:
                handler.close()
        root.handlers[:], root.level = saved[0], saved[1]
        celery_log.Logging._setup = saved[2]
    written = logfile.read_text()
    assert "import batch 7 failed" in written and "RuntimeError" in written
    assert nik not in written and mask_identity_number(nik) in written
