"""Bahasa Indonesia formats for this project (``FORMAT_MODULE_PATH``): Django's own, with
dates always day first. Django's list also reads ``10/25/2009`` as month first, so
``11/05/2026`` typed by an officer could silently become a date in November; here a date is
``hh/bb/tttt`` (or ``-``/``.`` between, or eight digits), or ISO, nothing else. Shown dates
read ``30 November 2026`` and ``30 November 2026 14.05`` like ``dinsos.money``."""

from django.conf.locale.id.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y H.i T"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H.i"

# The first one is also how a date is written into an input (the admin's and the pages').
DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # '25/10/2026'
    "%d-%m-%Y",  # '25-10-2026'
    "%d.%m.%Y",  # '25.10.2026'
    "%d%m%Y",    # '25102026' (a phone's number pad has no slash)
    "%Y-%m-%d",  # ISO, what a date picker or a script sends
]
DATETIME_INPUT_FORMATS = [
    f"{date} {time}"
    for date in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
    for time in ("%H.%M.%S", "%H.%M", "%H:%M:%S", "%H:%M")
] + ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
TIME_INPUT_FORMATS = ["%H.%M.%S", "%H.%M", "%H:%M:%S", "%H:%M"]
