"""Tests for dinsos.money (no database). Expected values are written out by hand."""

import datetime
from decimal import Decimal

import pytest

from dinsos.money import (
    format_rupiah,
    format_tanggal,
    round_rupiah,
    rupiah_in_words,
    split_rupiah,
    to_decimal,
)

# --- to_decimal -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1500000, Decimal("1500000")),
        ("1500000", Decimal("1500000")),
        (" 1500000.50 ", Decimal("1500000.50")),
        ("-2.5", Decimal("-2.5")),
        (Decimal("0.01"), Decimal("0.01")),
        (0, Decimal("0")),
    ],
)
def test_to_decimal(value, expected):
    result = to_decimal(value)
    assert isinstance(result, Decimal)
    assert result == expected


@pytest.mark.parametrize("value", [1.5, 0.0, float("nan"), True, None, [1], b"1"])
def test_to_decimal_refuses_float_and_other_types(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize(
    "value", ["", "abc", "Rp1.500.000", "1,5", "NaN", "Infinity", Decimal("NaN")]
)
def test_to_decimal_refuses_non_numbers(value):
    with pytest.raises(ValueError):
        to_decimal(value)


# --- round_rupiah ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.5"), "1"),
        (Decimal("1.49"), "1"),
        (Decimal("1.5"), "2"),
        (Decimal("2.5"), "3"),  # half up, not banker's rounding (which gives 2)
        (Decimal("0.49"), "0"),
        ("1500000.50", "1500001"),
        ("1500000.499", "1500000"),
        (1500000, "1500000"),
        (Decimal("1500000.00"), "1500000"),
        (Decimal("1E+3"), "1000"),
        # Negatives: a half goes away from zero, the mirror image of the positive case.
        (Decimal("-0.5"), "-1"),
        (Decimal("-1.49"), "-1"),
        (Decimal("-2.5"), "-3"),
        (Decimal("-0.4"), "0"),  # no negative zero
    ],
)
def test_round_rupiah(value, expected):
    result = round_rupiah(value)
    assert isinstance(result, Decimal)
    assert str(result) == expected  # also checks there are no decimal places
    assert result.as_tuple().exponent == 0


def test_round_rupiah_refuses_float():
    with pytest.raises(TypeError):
        round_rupiah(0.5)


# --- split_rupiah ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (1_000_000, 12, [83_333] * 11 + [83_337]),
        (1_750_000, 2, [875_000, 875_000]),  # Jamsosratu 2019 in two tahap
        (1_655_000, 4, [413_750, 413_750, 413_750, 413_750]),
        (100, 3, [33, 33, 34]),
        (10, 4, [2, 2, 2, 4]),
        (1, 3, [0, 0, 1]),
        (0, 3, [0, 0, 0]),
        (500, 1, [500]),
        (Decimal("100.50"), 2, [50, 51]),  # total is rounded first: 101
        (Decimal("100.49"), 2, [50, 50]),
        ("-10", 3, [-3, -3, -4]),  # negatives mirror positives
        # Weights: proportional parts.
        (1_000_000, [1, 1, 2], [250_000, 250_000, 500_000]),
        (1_000, [1, 2], [333, 667]),
        (100, [Decimal("0.1"), Decimal("0.2"), Decimal("0.7")], [10, 20, 70]),
        (101, [Decimal("0.5"), Decimal("0.5")], [50, 51]),
        (2_000_000, (3, 0, 1), [1_500_000, 0, 500_000]),
        # The remainder goes to the last part with a non-zero weight.
        (11, [1, 1, 0], [5, 6, 0]),
        (7, [0, 1], [0, 7]),
    ],
)
def test_split_rupiah(total, parts, expected):
    result = split_rupiah(total, parts)
    assert result == [Decimal(value) for value in expected]
    assert all(isinstance(part, Decimal) and part.as_tuple().exponent == 0 for part in result)
    assert sum(result) == sum(expected)


def test_split_rupiah_one_million_in_twelve_sums_exactly():
    result = split_rupiah(1_000_000, 12)
    assert result[:11] == [Decimal(83_333)] * 11
    assert result[11] == Decimal(83_337)
    assert sum(result) == Decimal(1_000_000)
    assert 83_333 * 11 + 83_337 == 1_000_000


@pytest.mark.parametrize(
    ("parts", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        ([], ValueError),
        ([0, 0], ValueError),
        ([1, -1, 2], ValueError),
        ([Decimal("-0.5"), Decimal("1.5")], ValueError),
        ([1.0, 2.0], TypeError),
        (True, TypeError),
        ("12", TypeError),
        (None, TypeError),
    ],
)
def test_split_rupiah_refuses_bad_parts(parts, error):
    with pytest.raises(error):
        split_rupiah(1_000_000, parts)


def test_split_rupiah_refuses_float_total():
    with pytest.raises(TypeError):
        split_rupiah(1_000_000.0, 12)


# --- format_rupiah --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_500_000, "Rp1.500.000"),
        (Decimal("1500000"), "Rp1.500.000"),
        ("2250000", "Rp2.250.000"),
        (-1_500_000, "-Rp1.500.000"),
        (0, "Rp0"),
        (999, "Rp999"),
        (1_000, "Rp1.000"),
        (50_000_000_000, "Rp50.000.000.000"),
        (Decimal("1500000.50"), "Rp1.500.001"),  # rounded half up to whole rupiah
        (Decimal("1500000.49"), "Rp1.500.000"),
        (Decimal("-0.4"), "Rp0"),
    ],
)
def test_format_rupiah(value, expected):
    assert format_rupiah(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1500000.50"), "Rp1.500.000,50"),
        (Decimal("1500000.5"), "Rp1.500.000,50"),
        (1_500_000, "Rp1.500.000,00"),
        (Decimal("-1500000.50"), "-Rp1.500.000,50"),
        (Decimal("0.005"), "Rp0,01"),
        (Decimal("1234.567"), "Rp1.234,57"),
        (Decimal("-0.001"), "Rp0,00"),
    ],
)
def test_format_rupiah_with_decimals(value, expected):
    assert format_rupiah(value, decimals=True) == expected


def test_format_rupiah_refuses_float():
    with pytest.raises(TypeError):
        format_rupiah(1500000.0)


# --- rupiah_in_words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_500_000, "satu juta lima ratus ribu rupiah"),
        (1_000_000, "satu juta rupiah"),
        (2_250_000, "dua juta dua ratus lima puluh ribu rupiah"),
        (1_655_000, "satu juta enam ratus lima puluh lima ribu rupiah"),
        (1_750_000, "satu juta tujuh ratus lima puluh ribu rupiah"),
        (2_000_000, "dua juta rupiah"),
        (1_000, "seribu rupiah"),
        (1_500, "seribu lima ratus rupiah"),
        (0, "nol rupiah"),
        (1, "satu rupiah"),
        (10, "sepuluh rupiah"),
        (11, "sebelas rupiah"),
        (100, "seratus rupiah"),
        (100_000, "seratus ribu rupiah"),
        (21_000, "dua puluh satu ribu rupiah"),
        (101_000, "seratus satu ribu rupiah"),
        # num2words alone writes "satu ribu" here.
        (1_001_000, "satu juta seribu rupiah"),
        (1_001_001_000, "satu miliar satu juta seribu rupiah"),
        (50_000_000_000, "lima puluh miliar rupiah"),
        (-1_500_000, "minus satu juta lima ratus ribu rupiah"),
        (Decimal("1500000.50"), "satu juta lima ratus ribu satu rupiah"),  # rounded first
        (Decimal("0.4"), "nol rupiah"),
        ("1000", "seribu rupiah"),
    ],
)
def test_rupiah_in_words(value, expected):
    assert rupiah_in_words(value) == expected


def test_rupiah_in_words_refuses_float():
    with pytest.raises(TypeError):
        rupiah_in_words(1500000.0)


# --- format_tanggal -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.date(2024, 8, 17), "17 Agustus 2024"),
        (datetime.date(2024, 1, 5), "5 Januari 2024"),
        (datetime.date(2019, 2, 1), "1 Februari 2019"),
        (datetime.date(2015, 3, 31), "31 Maret 2015"),
        (datetime.date(2015, 4, 9), "9 April 2015"),
        (datetime.date(2015, 5, 9), "9 Mei 2015"),
        (datetime.date(2015, 6, 9), "9 Juni 2015"),
        (datetime.date(2015, 7, 9), "9 Juli 2015"),
        (datetime.date(2015, 9, 9), "9 September 2015"),
        (datetime.date(2015, 10, 9), "9 Oktober 2015"),
        (datetime.date(2015, 11, 9), "9 November 2015"),
        (datetime.date(2015, 12, 25), "25 Desember 2015"),
        (datetime.datetime(2024, 8, 17, 23, 59), "17 Agustus 2024"),  # naive: as is
        # Aware: shown in WIB (UTC+7), 16 Aug 20:00 UTC is 17 Aug 03:00 in Jakarta.
        (datetime.datetime(2024, 8, 16, 20, 0, tzinfo=datetime.UTC), "17 Agustus 2024"),
    ],
)
def test_format_tanggal(value, expected):
    assert format_tanggal(value) == expected


@pytest.mark.parametrize("value", ["2024-08-17", None, 20240817])
def test_format_tanggal_refuses_non_dates(value):
    with pytest.raises(TypeError):
        format_tanggal(value)
