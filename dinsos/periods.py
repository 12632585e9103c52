"""The one parser of a month written ``YYYY-MM``: payout periods, report months, query
parameters, command options. Every surface (API fields, filters, commands) calls
:func:`parse_month` and shows its message, so a month is read and refused the same way
everywhere."""

import datetime
import re

from django.utils.translation import gettext as _

YEAR_MIN, YEAR_MAX = 2000, 2100
# ASCII digits only: int() and str.isdigit() also take "²", "٢٠٢٦" or full-width digits.
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})(?:-01)?")


def parse_month(value, *, label: str | None = None) -> datetime.date:
    """``YYYY-MM`` (or its first day ``YYYY-MM-01``, or a date) → the first day of the month.

    ``ValueError`` with an Indonesian message naming ``label`` (default "Periode") otherwise:
    2026-13, 2026-1, 2026-00, abc, a year outside YEAR_MIN..YEAR_MAX."""
    if isinstance(value, datetime.date):
        return datetime.date(value.year, value.month, 1)
    text = str(value).strip()
    match = _MONTH.fullmatch(text)
    if (match is None or not YEAR_MIN <= int(match[1]) <= YEAR_MAX
            or not 1 <= int(match[2]) <= 12):
        raise ValueError(_("%(label)s harus YYYY-MM dengan bulan 01–12 dan tahun %(min)s–%(max)s, "
                           "mis. 2026-11; diterima: %(value)s.")
                         % {"label": label or _("Periode"), "min": YEAR_MIN, "max": YEAR_MAX,
                            "value": text[:20]})
    return datetime.date(int(match[1]), int(match[2]), 1)
