"""A copy link (``?salinan=``) whose moment has no time in the calendar once read in UTC (the
database) or WIB (the file's name) is refused naming ``salinan``, on the API (400) and on the
staff page (back to the cycle page with the message) — it was a 500 (``OverflowError: date
value out of range``; review of 2 December 2026)."""

import datetime
from datetime import UTC

import pytest
from django.urls import reverse

from jamsosratu import banking
from jamsosratu.models import Payment
from tests.helpers import client_for
from tests.jamsosratu.test_bank_file import URL, cycle, scheduled  # noqa: F401

pytestmark = pytest.mark.django_db

REFUSAL = ("Waktu kiriman '{v}' tidak dikenal; pakai tautan salinan pada halaman siklus.")
#: before 0001-01-01 in UTC; after 9999-12-31 in UTC; in UTC, but after 9999-12-31 in WIB
FAR = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "9999-12-31T20:00:00+00:00")


@pytest.mark.parametrize("moment", FAR)
def test_the_api_refuses_a_copy_moment_out_of_the_calendar_naming_salinan(
        scheduled, province_operator, api_as, moment):  # noqa: F811
    client = api_as(province_operator)
    client.raise_request_exception = False

    response = client.get(URL, {"salinan": moment})

    assert response.status_code == 400
    assert response.json()["errors"] == {"salinan": [REFUSAL.format(v=moment)]}
    assert not Payment.objects.filter(sent_at__isnull=False).exists()  # nothing handed out


@pytest.mark.parametrize("moment", FAR)
def test_the_staff_page_refuses_a_copy_moment_out_of_the_calendar(
        scheduled, province_operator, moment):  # noqa: F811
    client = client_for(province_operator)
    client.raise_request_exception = False

    response = client.get(reverse("jamsosratu:bank-file", args=[2026, 1]), {"salinan": moment},
                          follow=True)

    assert response.redirect_chain == [(reverse("jamsosratu:cycle-detail", args=[2026]), 302)]
    assert [str(m) for m in response.context["messages"]] == [REFUSAL.format(v=moment)]
    assert not Payment.objects.filter(sent_at__isnull=False).exists()


def test_the_moments_at_the_edges_of_the_calendar_are_read():
    """The first moment with a UTC time and the last with a WIB time are moments like any
    other (a copy of no kiriman then is the transfer service's to answer)."""
    for text, utc in (("0001-01-01T00:00:00+00:00", datetime.datetime(1, 1, 1, tzinfo=UTC)),
                      ("9999-12-31T16:59:59+00:00",
                       datetime.datetime(9999, 12, 31, 16, 59, 59, tzinfo=UTC))):
        assert banking.parse_dispatch(text) == utc
