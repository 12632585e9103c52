"""Rupiah amounts: conversion, the one rounding policy, splitting, formatting and words.

Money is always :class:`~decimal.Decimal`, never ``float``: every function here raises
``TypeError`` when given a float (or a bool), because a float has already lost the exact value.

Rounding policy
---------------
Amounts are paid in whole rupiah. :func:`round_rupiah` is the only place amounts are rounded:
to the whole rupiah with ``ROUND_HALF_UP`` as the :mod:`decimal` module defines it, i.e. a half
rupiah goes **away from zero**: ``0.5 → 1``, ``1.49 → 1``, ``2.5 → 3``, ``-0.5 → -1``,
``-2.5 → -3``. Negative amounts (corrections, refunds) thus round like their positive
counterparts with the sign in front: ``round_rupiah(-x) == -round_rupiah(x)``. The result
is a Decimal with exponent 0 (``Decimal("3")``, never ``Decimal("3.00")`` or ``-0``).

:func:`split_rupiah` divides a total into whole-rupiah parts that add up exactly to
``round_rupiah(total)``: every part but one is rounded toward zero and the remainder goes to the
last part (the last with a non-zero weight), the way installment amounts are usually computed.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from num2words import num2words

__all__ = [
    "MONTH_NAMES",
    "format_bulan",
    "format_rupiah",
    "format_tanggal",
    "format_waktu",
    "round_rupiah",
    "rupiah_in_words",
    "split_rupiah",
    "to_decimal",
]

_ONE = Decimal(1)
_CENT = Decimal("0.01")
_JAKARTA = ZoneInfo("Asia/Jakarta")

#: Indonesian month names, index 1–12 (index 0 unused).
MONTH_NAMES = (
    "",
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

# Scale words for groups of three digits: satuan, ribu, juta, miliar, triliun, kuadriliun.
_SCALES = ("", "ribu", "juta", "miliar", "triliun", "kuadriliun")


def to_decimal(value: str | int | Decimal) -> Decimal:
    """Convert a str, int or Decimal to a finite Decimal.

    Strings are plain numbers (``"1500000"``, ``"-2.5"``), not formatted Rupiah. Raises
    ``TypeError`` for float, bool and other types, ``ValueError`` for text that is not a number
    and for NaN/infinity.
    """
    if isinstance(value, float):
        raise TypeError("Rupiah amounts must not be float; use Decimal, int or str")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"Cannot use {type(value).__name__} as a Rupiah amount")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    else:
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"Not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"Not a finite amount: {value!r}")
    return result


def round_rupiah(value: str | int | Decimal) -> Decimal:
    """Round to whole rupiah, half away from zero (``ROUND_HALF_UP``); exponent 0."""
    result = to_decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP)
    return result if result else Decimal(0)  # no Decimal("-0")


def _weights(parts: int | Sequence[int | Decimal]) -> list[Decimal]:
    if isinstance(parts, bool):
        raise TypeError("parts must be a count or a sequence of weights, not bool")
    if isinstance(parts, int):
        if parts <= 0:
            raise ValueError(f"The number of parts must be positive, not {parts}")
        return [_ONE] * parts
    if isinstance(parts, str | bytes) or not isinstance(parts, Sequence):
        raise TypeError("parts must be a count or a sequence of weights")
    weights = [to_decimal(weight) for weight in parts]
    if not weights:
        raise ValueError("At least one weight is needed")
    if any(weight < 0 for weight in weights):
        raise ValueError("Weights must not be negative")
    if not any(weights):
        raise ValueError("At least one weight must be greater than zero")
    return weights


def split_rupiah(
    total: str | int | Decimal,
    parts: int | Sequence[int | Decimal],
) -> list[Decimal]:
    """Split ``total`` into whole-rupiah parts that add up exactly to ``round_rupiah(total)``.

    ``parts`` is a count (equal parts) or a sequence of non-negative weights (proportional
    parts). Each part is rounded toward zero; the remainder goes to the last part with a
    non-zero weight, so a zero weight always gets 0. For example 1.000.000 in 12 parts gives
    eleven times 83.333 and 83.337 last. Raises ``ValueError`` for a count below 1, a negative
    weight, an empty sequence or all-zero weights, ``TypeError`` for float values.
    """
    amount = round_rupiah(total)
    weights = _weights(parts)
    weight_sum = sum(weights, Decimal(0))
    result = [
        (amount * weight / weight_sum).quantize(_ONE, rounding=ROUND_DOWN) or Decimal(0)
        for weight in weights
    ]
    last = max(index for index, weight in enumerate(weights) if weight)
    result[last] += amount - sum(result, Decimal(0))
    return result


def _group_thousands(digits: str) -> str:
    return f"{int(digits):,}".replace(",", ".")


def format_rupiah(value: str | int | Decimal, *, decimals: bool = False) -> str:
    """Format as Rupiah: ``Rp1.500.000``, ``-Rp1.500.000``, or ``Rp1.500.000,50`` with decimals.

    Without ``decimals`` the amount is first rounded with :func:`round_rupiah`; with it, to
    whole sen (2 places, half away from zero).
    """
    if decimals:
        amount = to_decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    else:
        amount = round_rupiah(value)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    text = f"{sign}Rp{_group_thousands(whole)}"
    return f"{text},{fraction}" if decimals else text


def _words_below_thousand(number: int) -> str:
    return num2words(number, lang="id")


def rupiah_in_words(value: str | int | Decimal) -> str:
    """The amount in Indonesian words for payment documents, e.g. "satu juta lima ratus ribu
    rupiah".

    The amount is rounded with :func:`round_rupiah` first. ``num2words`` spells each group of
    three digits; the groups are joined here so that one thousand is always "seribu" (num2words
    writes "satu juta satu ribu" for 1.001.000), zero is "nol rupiah" and a negative amount
    starts with "minus".
    """
    amount = int(round_rupiah(value))
    if amount == 0:
        return "nol rupiah"
    groups = []
    rest = abs(amount)
    while rest:
        rest, group = divmod(rest, 1000)
        groups.append(group)
    if len(groups) > len(_SCALES):
        raise ValueError(f"Amount too large to write in words: {amount}")
    words = []
    for scale, group in reversed(list(enumerate(groups))):
        if not group:
            continue
        if scale == 1 and group == 1:
            words.append("seribu")
        else:
            words.append(_words_below_thousand(group))
            if _SCALES[scale]:
                words.append(_SCALES[scale])
    sign = "minus " if amount < 0 else ""
    return f"{sign}{' '.join(words)} rupiah"


def format_tanggal(date: datetime.date) -> str:
    """Format a date the Indonesian way: ``17 Agustus 2024``.

    An aware datetime is first converted to Jakarta time (WIB); a naive one is taken as it is.
    """
    if not isinstance(date, datetime.date):
        raise TypeError(f"Expected a date, not {type(date).__name__}")
    if isinstance(date, datetime.datetime) and date.tzinfo is not None:
        date = date.astimezone(_JAKARTA)
    return f"{date.day} {MONTH_NAMES[date.month]} {date.year}"


def format_waktu(moment: datetime.datetime) -> str:
    """A moment in Jakarta time: ``30 November 2026 14.05 WIB``."""
    if not isinstance(moment, datetime.datetime):
        raise TypeError(f"Expected a datetime, not {type(moment).__name__}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(_JAKARTA)
    return f"{format_tanggal(moment)} {moment:%H.%M} WIB"


def format_bulan(date: datetime.date) -> str:
    """A month (payout period): ``November 2026``."""
    if not isinstance(date, datetime.date):
        raise TypeError(f"Expected a date, not {type(date).__name__}")
    return f"{MONTH_NAMES[date.month]} {date.year}"
