"""Personal data kept out of the application's logs (UU 27/2022).

A NIK travels in URLs (``persons/by-nik/<nik>/``, a search ``?q=<nik>``), and whatever logs a
request's path or query — Django's ``django.request`` ("Not Found: <path>"), the development
server, the CSRF refusal, gunicorn's access log — would write it whole into the container log,
outside the audit trail's masking. ``MaskIdentifiers`` masks every run of 15–16 digits in a
record (its message and its traceback) the way identifiers are shown to masked roles
(``dinsos.validators.mask_identity_numbers_in``); settings.LOGGING puts it on those loggers
and on the console handler, and ``dinsos.gunicorn.MaskedLogger`` does the same for gunicorn's
access log.
"""

import logging

from dinsos.validators import mask_identity_numbers_in


class MaskIdentifiers(logging.Filter):
    """Rewrites the record in place (its handlers and any later one see the masked text);
    never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_identity_numbers_in(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:  # a database error quotes the row's values
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_identity_numbers_in(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_identity_numbers_in(record.stack_info)
        return True
