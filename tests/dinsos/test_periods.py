"""The kernel's one month parser (dinsos.periods.parse_month) and the surfaces that read a month
with it: the coverage API's ``month`` (MonthField) and the payout ``period`` (API field, line
filter, compute_payouts command) accept and refuse exactly the same texts."""

import datetime

import pytest
from rest_framework import serializers

from dinsos.api.fields import MonthField
from dinsos.periods import parse_month
from incentives.api.serializers import PeriodField
from incentives.filters import PeriodFormField

D = datetime.date
GOOD = [("2026-11", D(2026, 11, 1)), ("2026-11-01", D(2026, 11, 1)), (" 2000-01 ", D(2000, 1, 1)),
        ("2100-12", D(2100, 12, 1)), (D(2026, 11, 17), D(2026, 11, 1))]
BAD = ["2026-13", "2026-1", "2026-00", "abc", "", "2026-11-02", "1950-01", "2101-01",
       "２０２６-11", "2026-11-1", "Oktober 2026", "2026/11"]


@pytest.mark.parametrize(("text", "first"), GOOD)
def test_a_month_is_its_first_day(text, first):
    assert parse_month(text) == first


@pytest.mark.parametrize("text", BAD)
def test_a_bad_month_is_refused_in_indonesian_naming_what_was_given(text):
    with pytest.raises(ValueError) as error:
        parse_month(text)
    message = str(error.value)
    assert message.startswith("Periode harus YYYY-MM dengan bulan 01–12 dan tahun 2000–2100")
    assert f"diterima: {text.strip()[:20]}." in message
    assert parse_month.__module__ == "dinsos.periods"


def _field_result(field, text):
    try:
        return field.run_validation(text)
    except serializers.ValidationError as exc:
        return ("error", str(exc.detail[0]))


@pytest.mark.parametrize("text", [t for t, _f in GOOD if isinstance(t, str)] + BAD)
def test_every_surface_reads_a_month_the_same_way(text):
    """The coverage month, the payout period (API and line filter) and the kernel parser agree
    on every text; their messages differ only in the word naming the field."""
    month = _field_result(MonthField(), text)
    period = _field_result(PeriodField(), text)
    form = PeriodFormField(required=False)
    try:
        filtered = form.clean(text)
    except Exception as exc:  # django ValidationError
        filtered = ("error", exc.messages[0])
    try:
        expected = parse_month(text)
    except ValueError as exc:
        expected = ("error", str(exc))
    if isinstance(expected, tuple):
        assert month[0] == period[0] == "error"
        assert period[1] == expected[1]
        assert month[1] == expected[1].replace("Periode", "Bulan", 1)
        if text.strip():  # an empty filter value means "no filter"
            assert filtered == expected
    else:
        assert month == period == filtered == expected
