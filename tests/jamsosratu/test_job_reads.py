"""A bank result job shows, on a refused line, the payment's stored account number whole
("rekening X tidak sama dengan yang dikirim (Y)"): its page and the API's job detail write
ONE read naming the payments whose numbers they show, as the payment list does."""

import pytest
from django.urls import reverse

from jamsosratu.models import Payment
from tests.helpers import client_for, reads
from tests.jamsosratu.test_bank_result import (  # noqa: F401  (fixtures)
    cycle,
    job,
    media,
    payments,
)

pytestmark = pytest.mark.django_db


def test_the_api_job_detail_logs_the_payments_whose_account_it_shows(
        job, payments, province_operator, api_as):  # noqa: F811
    ok, failed, wrong = payments
    before = len(reads(Payment))
    body = api_as(province_operator).get(f"/api/v1/jamsosratu/jobs/{job.pk}/")
    assert body.status_code == 200
    assert wrong.account_number in body.content.decode()  # whole, for the province operator
    [entry] = reads(Payment)[before:]
    assert entry.additional_data["rows"] == [str(wrong.pk)]  # the refused line's payment only
    assert entry.additional_data["read"] == "hasil bank"


def test_the_api_job_list_writes_no_payment_read(job, province_operator, api_as):  # noqa: F811
    before = len(reads(Payment))
    assert api_as(province_operator).get("/api/v1/jamsosratu/jobs/").status_code == 200
    assert len(reads(Payment)) == before  # the list shows no line


def test_the_job_page_logs_the_payments_whose_account_it_shows(
        job, payments, province_operator):  # noqa: F811
    ok, failed, wrong = payments
    client = client_for(province_operator)
    for shown in ("", "ditolak"):
        before = len(reads(Payment))
        page = client.get(reverse("jamsosratu:job-detail", args=[job.pk]), {"tampil": shown})
        assert page.status_code == 200
        assert wrong.account_number in page.content.decode()
        [entry] = reads(Payment)[before:]
        assert entry.additional_data["rows"] == [str(wrong.pk)], shown
