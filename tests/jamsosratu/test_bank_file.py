"""The transfer file through the API streams (review of 2 December 2026): it built the whole
CSV in memory (``"".join``) only to send its control headers first — at province scale,
100,000 lines and more, many MB per request. Now the file is written once, its payments read a
chunk at a time, into a temporary file (memory, then disk past ``SPOOL_MEMORY``) that the
response streams; its headers are the control line of what was written; its bytes, headers
and file name are those of before, and what a GET, a HEAD and a copy hand out is unchanged."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from jamsosratu import banking, services
from jamsosratu.models import Payment
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, DESA_PANDEGLANG_2, cycle_with_tranches
from tests.helpers import client_for
from tests.jamsosratu.factories import enrol, household

URL = "/api/v1/jamsosratu/cycles/2026/tranches/1/bank-file/"
NOTE = "kontrol: jumlah baris, jumlah Rp"


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


@pytest.fixture
def scheduled(cycle, province_operator):
    """Five scheduled Bank Banten payments of the first tahap in three desa, each of another
    amount (so a total is not a count times one amount), in the order of the file."""
    for desa in (DESA_LEBAK, DESA_PANDEGLANG_2, DESA_PANDEGLANG, DESA_LEBAK, DESA_PANDEGLANG):
        enrol(province_operator, household(desa), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    payments = list(Payment.objects.filter(tranche__number=1).order_by("pk"))
    for step, payment in enumerate(payments):
        payment.amount = Decimal(875000 + 1000 * step)
        Payment.objects.filter(pk=payment.pk).update(amount=payment.amount)
    return sorted(payments, key=lambda p: (p.desa_id, p.pk))


def body(response) -> str:
    assert response.streaming, "the transfer file is built whole in memory, not streamed"
    return b"".join(response.streaming_content).decode()


def expected_file(payments, control_note: str = NOTE) -> str:
    """The file as the bank has always received it, written here from the payments."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id_penyaluran", "rekening", "nama", "jumlah", "keterangan"])
    for p in payments:
        writer.writerow([p.pk, p.account_number, p.enrolment.household.head.name,
                         f"{p.amount:.0f}", "Jamsosratu 2026 tahap 1"])
    total = sum(p.amount for p in payments)
    writer.writerow(["TOTAL", len(payments), "", f"{total:.0f}", control_note])
    return out.getvalue()


def control_of(text: str) -> tuple[str, str]:
    """(lines, rupiah) added up from the body's payment lines, not read from its control line."""
    lines = list(csv.reader(io.StringIO(text)))[1:-1]
    return str(len(lines)), f"{sum(Decimal(line[3]) for line in lines):.0f}"


@pytest.mark.django_db
def test_the_api_streams_the_file_of_before_with_the_headers_of_its_lines(
        scheduled, province_operator, api_as):
    client = api_as(province_operator)
    response = client.get(URL)
    assert response.status_code == 200
    text = body(response)
    assert text == expected_file(scheduled)
    assert (response["X-Control-Count"], response["X-Control-Total"]) == control_of(text) == (
        "5", "4385000")
    kiriman = datetime.datetime.fromisoformat(response["X-Kiriman"])
    assert {p.sent_at for p in Payment.objects.all()} == {kiriman}
    assert response["Content-Disposition"] == (
        'attachment; filename="jamsosratu-2026-tahap-1-kiriman-'
        f'{timezone.localtime(kiriman):%Y%m%d-%H%M%S}.csv"')


@pytest.mark.django_db
def test_a_head_request_tells_the_next_file_and_marks_nothing(scheduled, province_operator,
                                                              api_as):
    client = api_as(province_operator)
    probe = client.head(URL)
    assert probe.status_code == 200
    assert (probe["X-Control-Count"], probe["X-Control-Total"]) == ("5", "4385000")
    assert "X-Kiriman" not in probe
    assert probe["Content-Disposition"] == 'attachment; filename="jamsosratu-2026-tahap-1.csv"'
    assert not Payment.objects.filter(sent_at__isnull=False).exists()
    handed = client.get(URL)
    assert (handed["X-Control-Count"], handed["X-Control-Total"]) == control_of(body(handed)) \
        == (probe["X-Control-Count"], probe["X-Control-Total"])


@pytest.mark.django_db
def test_a_copy_marks_nothing_and_is_the_same_file_on_both_doors(
        cycle, scheduled, province_operator, api_as):
    client = api_as(province_operator)
    kiriman = client.get(URL)
    body(kiriman)
    late = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))  # one more, not sent
    copy = client.get(URL, {"salinan": kiriman["X-Kiriman"]})
    text = body(copy)
    moment = timezone.localtime(datetime.datetime.fromisoformat(kiriman["X-Kiriman"]))
    assert text == expected_file(scheduled, f"SALINAN kiriman {moment:%d-%m-%Y %H:%M:%S} "
                                            f"(jangan dikirim ulang); {NOTE}")
    assert (copy["X-Control-Count"], copy["X-Control-Total"], copy["X-Kiriman"]) == (
        *control_of(text), kiriman["X-Kiriman"])
    assert Payment.objects.get(enrolment=late).sent_at is None  # the copy sent nothing new
    page = client_for(province_operator).get(reverse("jamsosratu:bank-file", args=[2026, 1]),
                                             {"salinan": kiriman["X-Kiriman"]})
    assert (body(page), page["Content-Disposition"]) == (text, copy["Content-Disposition"])
    assert copy["Content-Disposition"].endswith('-salinan.csv"')
    assert client.get(URL)["X-Control-Count"] == "1"  # the late payment's kiriman


@pytest.mark.django_db
def test_the_rows_are_read_a_chunk_at_a_time_into_a_file_on_disk(
        scheduled, province_operator, api_as, monkeypatch):
    """Memory stays one chunk of payments, whatever their number: the payments made from the
    database never run more than a chunk ahead of the lines written, and the written file
    leaves memory for the disk past ``SPOOL_MEMORY``. Before, all five were read into one
    string, and the API sent it whole."""
    monkeypatch.setattr(banking, "TRANSFER_CHUNK", 2)
    monkeypatch.setattr(banking, "SPOOL_MEMORY", 200)
    made, ahead, rolled = [], [], []
    from_db = Model.from_db.__func__

    def counted(cls, db, field_names, values):
        made.append(values)
        return from_db(cls, db, field_names, values)

    class Watched(banking.SpooledTemporaryFile):
        lines = 0

        def write(self, data):
            ahead.append(len(made) - max(self.lines - 1, 0))  # the first line is the header
            self.lines += 1
            return super().write(data)

        def rollover(self):
            rolled.append(self.lines)
            return super().rollover()

    monkeypatch.setattr(Payment, "from_db", classmethod(counted))
    monkeypatch.setattr(banking, "SpooledTemporaryFile", Watched)
    response = api_as(province_operator).get(URL)
    assert (response.status_code, response["X-Control-Count"]) == (200, "5")
    assert len(made) == 5 and max(ahead) <= 2, ahead
    assert rolled, "the file stayed in memory past SPOOL_MEMORY"
    assert body(response) == expected_file(scheduled)


@pytest.mark.django_db
@pytest.mark.parametrize("copy", [False, True], ids=["kiriman", "salinan"])
def test_the_headers_are_those_of_the_body_when_a_payment_changes_meanwhile(
        scheduled, province_operator, api_as, copy):
    """Review of 2 December 2026: the headers came from an aggregate, the lines from a later
    read while the body streamed — a payment failed and scheduled again in between made the
    headers say 5 lines and Rp4.385.000 over a body of 4. The file is now written once and its
    headers are its own control line, whatever happens after."""
    client = api_as(province_operator)
    response = client.get(URL)
    if copy:
        body(response)
        response = client.get(URL, {"salinan": response["X-Kiriman"]})
    failed = Payment.objects.order_by("pk").first()
    services.payment_mark(actor=province_operator, payment=failed, status="gagal",
                          failure_reason="Rekening ditutup")
    services.payment_reschedule(actor=province_operator, payment=failed)
    text = body(response)
    assert (response["X-Control-Count"], response["X-Control-Total"]) == control_of(text)
    assert control_of(text) == ("5", "4385000")  # the file as handed out, whole
