"""Issue #11 for Jamsosratu: no tranche work runs inside a web request. Every route of the
tranche work — found by walking the URLconf, API included — and every admin action of the
app is declared below; each one that starts work (the payment list, the bank's result file)
answers at once (202 with a status URL in the API, a redirect to the job's page elsewhere)
with a ``TrancheJob`` queued, while the work itself is patched to fail during the request.
The Celery task then does it, and the API's status URL gives the progress and the result:
for a bank result, every line and what became of it."""

import re
from unittest import mock

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from dinsos import roles
from jamsosratu import banking, services
from jamsosratu.models import Payment, TrancheJob
from tests.dinsos.test_schema_truth import _schema, _validate
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.helpers import named_routes
from tests.jamsosratu.factories import enrol, household

pytestmark = pytest.mark.django_db

API = "/api/v1/jamsosratu"
WORK_WORDS = re.compile(r"tahap|tranche|generate|buat|bank|hasil|job|proses")


def _result_file(payments) -> bytes:
    header = "id_penyaluran,rekening,jumlah,status,referensi,tanggal,keterangan"
    ok, failed, wrong = payments
    rows = [[ok.pk, ok.account_number, "875000", "berhasil", "BB-1", "2026-06-15", ""],
            [failed.pk, failed.account_number, "875000", "gagal", "", "", "Rekening tutup"],
            [wrong.pk, wrong.account_number, "870000", "berhasil", "BB-3", "2026-06-15", ""]]
    return "\n".join([header, *(",".join(str(c) for c in row) for row in rows)]).encode()


def _upload(payments):
    return SimpleUploadedFile("hasil.csv", _result_file(payments), content_type="text/csv")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page_generate(user, cycle, payments):
    return _client(user).post(reverse("jamsosratu:tranche-generate", args=[2026, 2]))


def _page_bank_result(user, cycle, payments):
    return _client(user).post(reverse("jamsosratu:bank-result", args=[2026, 1]),
                              {"file": _upload(payments)})


def _api_generate(user, cycle, payments):
    return _client(user).post(f"{API}/cycles/2026/tranches/2/generate/")


def _api_bank_result(user, cycle, payments):
    return _client(user).post(f"{API}/payments/bank-result/", {
        "tranche": cycle.tranches.get(number=1).pk, "file": _upload(payments)})


def _admin_generate(user, cycle, payments):
    return _client(user).post(reverse("admin:jamsosratu_cycle_changelist"), {
        "action": "generate_first_open_tranche", "_selected_action": [cycle.pk]})


#: every route and admin action that starts tranche work: how to ask, its answer, the job kind
STARTS_WORK = {
    "jamsosratu:tranche-generate": (_page_generate, 302, "penyaluran"),
    "jamsosratu:bank-result": (_page_bank_result, 302, "hasil_bank"),
    "jamsosratu-api:cycle-generate": (_api_generate, 202, "penyaluran"),
    "jamsosratu-api:payment-bank-result": (_api_bank_result, 202, "hasil_bank"),
    "admin:jamsosratu.cycle.generate_first_open_tranche": (_admin_generate, 302, "penyaluran"),
}
#: routes and admin actions that match the words but start no long work, and why
NO_LONG_WORK = {
    "jamsosratu:job-detail": "the state of a job (a page polled by htmx), never the work",
    "jamsosratu-api:job-list": "the jobs (JSON), never the work",
    "jamsosratu-api:job-detail": "the state and result of a job (JSON), never the work",
    "jamsosratu:bank-file": "the transfer file streamed from one query, line by line",
    "jamsosratu-api:cycle-bank-file": "the transfer file from one query, with its control "
                                      "figures in the headers",
    "jamsosratu-api:cycle-over-budget": "Pimpinan's reason to go over the pagu: one tahap row",
    "jamsosratu:tranche-over-budget": "Pimpinan's reason on the cycle page: one tahap row",
    "jamsosratu:failed-payments": "a tahap's failed transfers, one page of them",
    "jamsosratu:payment-reschedule": "one failed transfer scheduled again: one payment row",
    "admin:jamsosratu.enrolment.verify_status": "one transition of each selected enrolment",
    "admin:jamsosratu.enrolment.activate": "one transition of each selected enrolment",
    "admin:jamsosratu.enrolment.verify_account": "one account confirmed per selected enrolment",
}


def tranche_work_surfaces() -> set[str]:
    routes = {name for route, name in named_routes()
              if name.startswith(("jamsosratu:", "jamsosratu-api:"))
              and WORK_WORDS.search(route + name)}
    actions = {f"admin:{model._meta.label_lower}.{action}"
               for model, model_admin in admin.site._registry.items()
               if model._meta.app_label == "jamsosratu"
               for action in (model_admin.actions or ())}
    return routes | actions


def test_every_tranche_work_route_and_admin_action_is_declared():
    assert tranche_work_surfaces() == set(STARTS_WORK) | set(NO_LONG_WORK)


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


@pytest.fixture
def payments(cycle, province_operator):
    """Three active enrolments and their scheduled payments of the first tranche."""
    for desa in (DESA_PANDEGLANG, DESA_PANDEGLANG, DESA_LEBAK):
        enrol(province_operator, household(desa), cycle, "aktif")
    services.payments_generate(tranche=cycle.tranches.get(number=1))
    banking.transfer_file(cycle.tranches.get(number=1))  # handed to the bank
    return list(Payment.objects.order_by("pk"))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("name", sorted(STARTS_WORK))
def test_the_request_queues_a_job_and_the_task_does_the_work(
        name, cycle, payments, make_user, django_capture_on_commit_callbacks):
    ask, answer, kind = STARTS_WORK[name]
    user = make_user(roles.ADMIN) if name.startswith("admin:") else make_user(
        roles.OPERATOR_PROVINSI)
    before = sorted(Payment.objects.values_list("pk", "status"))
    with mock.patch.multiple(services, payments_generate=mock.Mock(
            side_effect=AssertionError("payment list made inside the request"))), \
            mock.patch.multiple(banking, bank_result_import=mock.Mock(
                side_effect=AssertionError("bank result applied inside the request"))), \
            django_capture_on_commit_callbacks(execute=False) as queued:
        response = ask(user, cycle, payments)
    assert response.status_code == answer, response.content[:500]
    job = TrancheJob.objects.get()
    assert (job.kind, job.status, job.requested_by) == (kind, "antre", user)
    assert sorted(Payment.objects.values_list("pk", "status")) == before
    if answer == 202:
        assert response["Location"].endswith(reverse("jamsosratu-api:job-detail",
                                                     args=[job.pk]))
    elif not name.startswith("admin:"):
        assert response["Location"] == reverse("jamsosratu:job-detail", args=[job.pk])

    for callback in queued:  # the worker, after the request
        callback()
    job.refresh_from_db()
    assert job.status == "selesai", job.message
    if kind == "penyaluran":
        assert job.totals == {"created": 3}
        assert Payment.objects.filter(tranche__number=2).count() == 3
    else:
        assert [line["outcome"] for line in job.lines] == ["disalurkan", "gagal", "ditolak"]


def test_the_admin_action_says_where_to_follow_the_job(cycle, payments, make_user):
    response = _client(make_user(roles.ADMIN)).post(
        reverse("admin:jamsosratu_cycle_changelist"),
        {"action": "generate_first_open_tranche", "_selected_action": [cycle.pk]}, follow=True)
    job = TrancheJob.objects.get()
    assert reverse("jamsosratu:job-detail", args=[job.pk]) in response.content.decode()
    busy = _client(make_user(roles.ADMIN)).post(
        reverse("admin:jamsosratu_cycle_changelist"),
        {"action": "generate_first_open_tranche", "_selected_action": [cycle.pk]}, follow=True)
    assert "Tahap ini sedang diproses" in busy.content.decode()
    assert TrancheJob.objects.count() == 1


def test_the_api_status_url_gives_progress_then_every_line(
        cycle, payments, province_operator, pandeglang_operator, api_as,
        django_capture_on_commit_callbacks):
    client = api_as(province_operator)
    schema = _schema(client)
    upload = {"tranche": cycle.tranches.get(number=1).pk, "file": _upload(payments)}
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(f"{API}/payments/bank-result/", upload, format="multipart")
    assert accepted.status_code == 202, accepted.content
    body = accepted.json()
    _validate(schema, "/api/v1/jamsosratu/payments/bank-result/", "post", 202, body)
    assert (body["status"], body["kind"], body["lines"]) == ("antre", "hasil_bank", [])
    assert accepted["Location"] == body["status_url"]

    result = client.get(body["status_url"])
    assert result.status_code == 200
    _validate(schema, "/api/v1/jamsosratu/jobs/{id}/", "get", 200, result.json())
    ok, failed, wrong = payments
    job = result.json()
    assert (job["status"], job["done"], job["total"], job["percent"]) == ("selesai", 3, 3, 100)
    assert job["totals"] == {"rows": 3, "accepted": 2, "rejected": 1, "disalurkan": 1,
                             "gagal": 1}
    assert job["lines"] == [
        {"row": 2, "id": str(ok.pk), "outcome": "disalurkan", "detail": ""},
        {"row": 3, "id": str(failed.pk), "outcome": "gagal", "detail": "Rekening tutup"},
        {"row": 4, "id": str(wrong.pk), "outcome": "ditolak",
         "detail": "jumlah Rp870.000 tidak sama dengan yang dikirim (Rp875.000)"}]
    assert Payment.objects.filter(pk__in=[ok.pk, failed.pk]).values_list(
        "status", "failure_reason").order_by("pk")[::1] == [("disalurkan", ""),
                                                           ("gagal", "Rekening tutup")]
    listed = client.get(f"{API}/jobs/", {"kind": "hasil_bank"}).json()["results"]
    assert [row["id"] for row in listed] == [job["id"]] and "lines" not in listed[0]

    # province work: a kab/kota user may not read a job, nor start one
    district = api_as(pandeglang_operator)
    assert district.get(body["status_url"]).status_code == 403
    assert district.post(f"{API}/cycles/2026/tranches/2/generate/").status_code == 403


def test_one_unfinished_job_per_tranche_through_the_api(cycle, payments, province_operator,
                                                        api_as,
                                                        django_capture_on_commit_callbacks):
    client = api_as(province_operator)
    url = f"{API}/cycles/2026/tranches/2/generate/"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert client.post(url).status_code == 202
        busy = client.post(url)
    assert busy.status_code == 400
    assert busy.json()["errors"] == {
        "non_field_errors": ["Tahap ini sedang diproses; tunggu sampai proses itu selesai."]}
    assert TrancheJob.objects.count() == 1
    for callback in queued:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url)  # the list is complete: making it again adds nothing
    assert again.status_code == 202
    assert client.get(again["Location"]).json()["totals"] == {"created": 0}
    assert client.post(f"{API}/cycles/2026/tranches/3/generate/").status_code == 404


def test_a_job_that_fails_unexpectedly_keeps_the_error_text_for_the_log(
        cycle, payments, make_user, django_capture_on_commit_callbacks, caplog):
    """Personal-data audit (December 2026): a job that failed unexpectedly showed the
    exception's own text on its page and in the API — English, table names, and a key's value
    such as an account number or a NIK (a unique violation's DETAIL). Like the import, the
    text goes to the log and the page names the job's number."""
    user = make_user(roles.OPERATOR_PROVINSI)
    leak = 'duplicate key value violates unique constraint DETAIL: Key (nik)=(3601011708850001)'
    with mock.patch.object(banking, "bank_result_import", side_effect=RuntimeError(leak)), \
            django_capture_on_commit_callbacks(execute=True):
        _page_bank_result(user, cycle, payments)
    job = TrancheJob.objects.get()
    assert job.status == "gagal"
    assert job.message == (f"Kesalahan sistem; yang sudah tercatat tetap tercatat. Jalankan "
                           f"lagi atau hubungi admin dan sebutkan nomor proses {job.pk}.")
    assert f"tranche job {job.pk} failed" in caplog.text and "RuntimeError" in caplog.text
