"""The staff-page doors of the two money actions that were API-only: "Jadwalkan ulang" of a
tahap's failed transfers (``services.payment_reschedule``) and Pimpinan's reason to go over the
cycle's pagu (``services.tranche_over_budget_allow``) — the API's services, its access policy
(area, role), Indonesian refusals on the page (never a 500), CSRF and POST-redirect-GET."""

import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from dinsos import roles
from jamsosratu import banking, services
from jamsosratu.models import Cycle, Payment, TrancheJob
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.helpers import client_for, version_in
from tests.jamsosratu.factories import enrol, household

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def fail(actor, payment) -> Payment:
    """The bank's result file says the transfer failed (a closed account)."""
    payment.refresh_from_db()
    if payment.sent_at is None:
        banking.transfer_file(payment.tranche)  # handed to the bank
        payment.refresh_from_db()
    result = (f"id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan\n"
              f"{payment.pk},{payment.account_number},{payment.amount:.0f},gagal,,,"
              f"Rekening tidak aktif\n")
    banking.bank_result_import(actor=actor, tranche=payment.tranche,
                               fileobj=io.BytesIO(result.encode()), filename="hasil.csv")
    payment.refresh_from_db()
    assert payment.status == "gagal"
    return payment


@pytest.fixture
def failed(cycle, province_operator):
    """Tahap 1 made for a Pandeglang and a Lebak household; both transfers failed."""
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    return {p.desa_id[:5]: fail(province_operator, p)
            for p in Payment.objects.filter(tranche__number=1)}


FAILED_PAGE = "/jamsosratu/siklus/2026/tahap/1/gagal/"


def reschedule_url(payment) -> str:
    return reverse("jamsosratu:payment-reschedule", args=[2026, 1, payment.pk])


def post_reschedule(client, payment):
    """The button as the page shows it (with the payment's version)."""
    version = version_in(client.get(FAILED_PAGE).content.decode(), reschedule_url(payment))
    return client.post(reschedule_url(payment), {"if_match": version})


# --- Jadwalkan ulang ---------------------------------------------------------------------------

def test_the_cycle_page_leads_to_the_failed_transfers_and_the_officer_schedules_one_again(
        failed, province_operator):
    from jamsosratu.models import Enrolment

    payment = failed["36.01"]
    # the household's account was corrected after the failure: the new one is sent
    Enrolment.objects.filter(pk=payment.enrolment_id).update(account_number="5550001112")
    client = client_for(province_operator)
    cycle_page = text(client.get("/jamsosratu/siklus/2026/"))
    assert f'href="{FAILED_PAGE}"' in cycle_page
    assert "2 penyaluran gagal" in cycle_page

    page = client.get(FAILED_PAGE)
    assert page.status_code == 200
    assert text(page).count(">Jadwalkan ulang</button>") == 2
    answer = post_reschedule(client, payment)
    assert answer.status_code == 302 and answer["Location"] == FAILED_PAGE  # POST-redirect-GET
    payment.refresh_from_db()
    assert (payment.status, payment.account_number, payment.failure_reason) == (
        "dijadwalkan", "5550001112", "")
    after = text(client.get(FAILED_PAGE))
    assert "dijadwalkan ulang; saluran: Rekening Bank Banten." in after
    assert "Dijadwalkan: 1 rumah tangga, Rp875.000" in after
    assert "Gagal: 1 rumah tangga, Rp875.000" in after
    assert after.count(">Jadwalkan ulang</button>") == 1


def test_a_district_operator_reads_its_own_failed_transfers_without_a_button(
        failed, pandeglang_operator):
    """As the API: payments are read in the user's area; rescheduling is province work."""
    client = client_for(pandeglang_operator)
    page = client.get(FAILED_PAGE)
    assert page.status_code == 200
    body = text(page)
    assert f'data-testid="gagal-{failed["36.01"].pk}"' in body
    assert f'data-testid="gagal-{failed["36.02"].pk}"' not in body
    assert "Jadwalkan ulang</button>" not in body
    for payment in failed.values():  # its own payment too: 404 as every province page
        assert client.post(reschedule_url(payment)).status_code == 404
        payment.refresh_from_db()
        assert payment.status == "gagal"


@pytest.mark.parametrize("role", [roles.KEUANGAN, roles.PIMPINAN, roles.AUDITOR])
def test_province_roles_that_do_not_work_on_payments_get_no_button_and_a_403(
        failed, make_user, role):
    client = client_for(make_user(role))
    page = client.get(FAILED_PAGE)
    assert page.status_code == 200
    assert "Jadwalkan ulang</button>" not in text(page)
    assert client.post(reschedule_url(failed["36.01"])).status_code == 403
    assert Payment.objects.get(pk=failed["36.01"].pk).status == "gagal"


def test_a_payment_of_another_tahap_is_a_404(failed, province_operator):
    payment = failed["36.01"]
    url = reverse("jamsosratu:payment-reschedule", args=[2026, 2, payment.pk])
    assert client_for(province_operator).post(url).status_code == 404


def test_the_services_refusal_stands_on_the_page_in_indonesian(failed, province_operator):
    """An excluded household is not scheduled again: 400, the page again with the reason."""
    payment = failed["36.01"]
    client = client_for(province_operator)
    version = version_in(client.get(FAILED_PAGE).content.decode(), reschedule_url(payment))
    services.enrolment_transition(actor=province_operator, enrolment=payment.enrolment,
                                  to_status="dikeluarkan", reason="Pindah ke luar Banten")
    answer = client.post(reschedule_url(payment), {"if_match": version})
    assert answer.status_code == 400
    assert ("tidak dijadwalkan ulang: Peserta berstatus Dikeluarkan; penyalurannya tidak dapat "
            "dijadwalkan ulang.") in text(answer)
    assert Payment.objects.get(pk=payment.pk).status == "gagal"


def test_the_reschedule_needs_the_csrf_token(failed, province_operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(province_operator)
    payment = failed["36.01"]
    version = version_in(client.get(FAILED_PAGE).content.decode(), reschedule_url(payment))
    assert client.post(reschedule_url(payment), {"if_match": version}).status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == "gagal"


# --- the pagu: Pimpinan's decision on the page ---------------------------------------------------

def _pagu(cycle, amount):
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=Decimal(amount))


def test_a_reschedule_over_the_pagu_is_refused_and_the_tahap_waits_for_pimpinan(
        failed, cycle, province_operator, make_user):
    """Tahap 1's two failures (Rp1.750.000) left the pagu's use; tahap 2 took the room: the
    reschedule is refused on the page, and Pimpinan gets the form on the cycle page."""
    _pagu(cycle, "1750000")
    services.payments_generate(tranche=cycle.tranches.get(number=2))
    payment = failed["36.01"]
    answer = post_reschedule(client_for(province_operator), payment)
    assert answer.status_code == 400
    assert "melampaui pagu Rp1.750.000" in text(answer)
    assert Payment.objects.get(pk=payment.pk).status == "gagal"

    officer = text(client_for(province_operator).get("/jamsosratu/siklus/2026/"))
    assert 'data-testid="menunggu-pimpinan-1"' in officer
    assert "Catat alasan melampaui pagu" not in officer  # not the officer's to decide
    pimpinan = client_for(make_user(roles.PIMPINAN))
    page = pimpinan.get("/jamsosratu/siklus/2026/").content.decode()
    url = reverse("jamsosratu:tranche-over-budget", args=[2026, 1])
    answer = pimpinan.post(url, {"tahap1-over_budget_reason": "Susulan rekening ditutup bank",
                                 "if_match": version_in(page, url)})
    assert answer.status_code == 302
    assert answer["Location"] == "/jamsosratu/siklus/2026/#tahap-1"
    assert post_reschedule(client_for(province_operator), payment).status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == "dijadwalkan"


def test_a_list_refused_for_the_pagu_waits_for_pimpinan_who_records_the_reason(
        cycle, province_operator, make_user, django_capture_on_commit_callbacks):
    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    _pagu(cycle, "3499999")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    officer = client_for(province_operator)
    refused = officer.post(reverse("jamsosratu:tranche-generate", args=[2026, 2]), follow=True)
    assert refused.status_code == 200
    assert "melampaui pagu Rp3.499.999" in text(refused)
    assert not Payment.objects.filter(tranche__number=2).exists()
    job = TrancheJob.objects.get(tranche__number=2)  # the refusal, kept on the tahap
    assert (job.status, job.totals) == ("gagal", {"melampaui_pagu": True})
    cycle_page = text(officer.get("/jamsosratu/siklus/2026/"))
    assert 'data-testid="menunggu-pimpinan-2"' in cycle_page
    # the refusal says once what it is: the job's message, not a second sentence on the pagu
    note = cycle_page.split('data-testid="menunggu-pimpinan-2"', 1)[1].split("</div>", 1)[0]
    assert note.count("Rp3.499.999") == 1 and "melampaui pagu siklus" not in note, note

    url = reverse("jamsosratu:tranche-over-budget", args=[2026, 2])
    assert officer.post(url, {"tahap2-over_budget_reason": "x"}).status_code == 403
    assert client_for(make_user(roles.OPERATOR_KAB_KOTA, "36.01")).post(
        url, {"tahap2-over_budget_reason": "x"}).status_code == 404
    pimpinan_user = make_user(roles.PIMPINAN)
    pimpinan = client_for(pimpinan_user)
    page = pimpinan.get("/jamsosratu/siklus/2026/").content.decode()
    assert "Catat alasan melampaui pagu" in page
    version = version_in(page, url)
    empty = pimpinan.post(url, {"tahap2-over_budget_reason": "  ", "if_match": version})
    assert empty.status_code == 400
    assert "Tuliskan alasan penyaluran melampaui pagu." in text(empty)

    done = pimpinan.post(url, {"tahap2-over_budget_reason": "Tambahan sasaran, Pergub perubahan",
                               "if_match": version}, follow=True)
    assert "Alasan melampaui pagu tahap 2 tercatat" in text(done)
    assert "Melampaui pagu diizinkan Pimpinan" in text(done)
    assert 'data-testid="menunggu-pimpinan-2"' not in text(done)
    tranche = cycle.tranches.get(number=2)
    assert (tranche.over_budget_by, tranche.over_budget_reason) == (
        pimpinan_user, "Tambahan sasaran, Pergub perubahan")
    with django_capture_on_commit_callbacks(execute=True):  # the job, run by the worker
        officer.post(reverse("jamsosratu:tranche-generate", args=[2026, 2]))
    assert Payment.objects.filter(tranche__number=2).count() == 2


def test_a_list_refused_for_the_pagu_over_the_api_with_a_key_waits_for_pimpinan(
        cycle, province_operator, api_as):
    """The API's refusal sent with an Idempotency-Key is kept as the staff page's is: the
    failed job commits with the stored 400 (review of 2 December 2026: the key's transaction
    rolled it back, so the tahap showed no wait and Pimpinan got no form). The same key again
    answers the same 400 and records nothing twice."""
    from jamsosratu.selectors import tranche_overview

    for desa in (DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    _pagu(cycle, "3499999")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    client = api_as(province_operator)
    url = "/api/v1/jamsosratu/cycles/2026/tranches/2/generate/"
    response = client.post(url, HTTP_IDEMPOTENCY_KEY="gen-t2")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["budget_ceiling"]
    assert "melampaui pagu Rp3.499.999" in response.json()["errors"]["budget_ceiling"][0]
    job = TrancheJob.objects.get(tranche__number=2)
    assert (job.status, job.totals) == ("gagal", {"melampaui_pagu": True})
    rows = tranche_overview(user=province_operator, cycle=Cycle.objects.get(pk=cycle.pk))
    assert [row["waits_for_pimpinan"] for row in rows] == [False, True]

    again = client.post(url, HTTP_IDEMPOTENCY_KEY="gen-t2")
    assert (again.status_code, again.json()) == (400, response.json())
    assert again["Idempotent-Replayed"] == "true"
    assert TrancheJob.objects.filter(tranche__number=2).count() == 1
    assert not Payment.objects.filter(tranche__number=2).exists()


def test_no_pagu_no_waiting(failed, province_operator, make_user):
    """A cycle without a pagu never waits for Pimpinan, whatever failed."""
    page = text(client_for(make_user(roles.PIMPINAN)).get("/jamsosratu/siklus/2026/"))
    assert "menunggu-pimpinan" not in page and "Catat alasan melampaui pagu" not in page


def test_a_failed_transfer_that_cannot_be_scheduled_again_does_not_make_the_tahap_wait(
        failed, cycle, province_operator, make_user):
    """Lebak's household is excluded: its failed transfer is never scheduled again (and its
    tahap 2 payment is suspended), so only Pandeglang's Rp875.000 could come back — exactly
    the pagu's room: nothing waits for Pimpinan, and the reschedule passes."""
    _pagu(cycle, "1750000")
    services.payments_generate(tranche=cycle.tranches.get(number=2))
    services.enrolment_transition(actor=province_operator, enrolment=failed["36.02"].enrolment,
                                  to_status="dikeluarkan", reason="Pindah ke luar Banten")
    page = text(client_for(make_user(roles.PIMPINAN)).get("/jamsosratu/siklus/2026/"))
    assert "menunggu-pimpinan" not in page
    assert post_reschedule(client_for(province_operator), failed["36.01"]).status_code == 302


def test_the_new_pages_ask_for_a_login(failed):
    for url in (FAILED_PAGE, reschedule_url(failed["36.01"]),
                reverse("jamsosratu:tranche-over-budget", args=[2026, 1])):
        for method in (Client().get, Client().post):
            answer = method(url)
            assert answer.status_code == 302 and answer["Location"].startswith("/masuk/"), url
    assert Payment.objects.get(pk=failed["36.01"].pk).status == "gagal"
