"""Issue #11: no finance document is made inside a web request. Every report/download route of
the payouts — found by walking the URLconf, admin included — answers 202 (a page that asks
again, or a status URL) while the Celery task writes the stored file, and then serves that
file. The renderers are patched to fail during the requests, so a route that renders in the
request fails here; a new route that is not declared below fails too."""

import re
from unittest import mock

import pytest
from django.urls import reverse

from incentives import reports
from incentives.models import RunDocument
from tests.helpers import named_routes
from tests.incentives.factories import OCT, approve, tksk

pytestmark = pytest.mark.django_db

RENDERERS = ("write_document", "nominatif_xlsx", "nominatif_pdf", "write_bank_csv",
             "funding_summary_rows", "nominatif_body")

#: Every payout route that serves a document, and how to ask it for one of a run.
DOCUMENT_ROUTES = {
    "incentives:run-report": lambda run, kind: reverse("incentives:run-report",
                                                       args=[run.pk, kind]),
    "admin:incentives_payoutrun_report": lambda run, kind: reverse(
        "admin:incentives_payoutrun_report", args=[run.pk, kind]),
    "incentives-api:run-report": lambda run, kind: reverse("incentives-api:run-report",
                                                           args=[run.pk, kind]),
}
#: Payout routes that match the pattern but serve no run document, and why.
NOT_DOCUMENTS = {
    "incentives-api:document-detail": "the status of a document (JSON), never the document",
    "incentives-api:run-realisation": "pagu vs paid per component × funding source: one "
                                      "GROUP BY, a handful of rows (tested below)",
}
DOCUMENT_WORDS = re.compile(r"report|laporan|realisa|nominatif|document|dokumen|unduh|download")


def payout_document_routes() -> set[str]:
    return {name for route, name in named_routes()
            if name.startswith(("incentives:", "incentives-api:", "admin:incentives_"))
            and DOCUMENT_WORDS.search(route + name)}


def test_every_payout_document_route_is_declared():
    assert payout_document_routes() == set(DOCUMENT_ROUTES) | set(NOT_DOCUMENTS)


@pytest.fixture
def run(keuangan, keuangan_b, pimpinan):
    from incentives import services

    tksk(name="Ahmad Fauzi")
    tksk(name="Cecep Lebak", kab_kota="36.02")
    return approve(services.run_compute(actor=keuangan, period=OCT), verifier=keuangan_b,
                   approver=pimpinan)


@pytest.fixture
def no_rendering():
    """The renderers fail when called (as they would inside a request)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a document was rendered inside the request")

    with mock.patch.multiple(reports, **{name: mock.Mock(side_effect=refuse)
                                         for name in RENDERERS}) as mocks:
        yield mocks


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("route", sorted(DOCUMENT_ROUTES))
def test_route_answers_202_and_the_task_makes_the_file(route, run, keuangan, api_as, settings,
                                                       tmp_path,
                                                       django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = api_as(keuangan)
    url = {kind: DOCUMENT_ROUTES[route](run, kind) for kind in reports.REPORT_KINDS}
    callbacks = []
    with mock.patch.multiple(reports, **dict.fromkeys(RENDERERS, mock.DEFAULT)) as mocks:
        for name in RENDERERS:
            mocks[name].side_effect = AssertionError(f"{name} called inside the request")
        for kind in reports.REPORT_KINDS:
            with django_capture_on_commit_callbacks(execute=False) as queued:
                response = client.get(url[kind])
            assert response.status_code == 202, (kind, response.status_code)
            assert len(queued) == 1  # the render task, after commit
            callbacks += queued
            again = client.get(url[kind])  # asked again: still waiting, no second task
            assert again.status_code == 202
        assert all(not m.called for m in mocks.values())
    assert set(RunDocument.objects.values_list("kind", "status")) == {
        (kind, "menunggu") for kind in reports.REPORT_KINDS}
    for callback in callbacks:  # the Celery task, outside any request
        callback()
    assert set(RunDocument.objects.values_list("status", flat=True)) == {"siap"}
    for kind in reports.REPORT_KINDS:
        response = client.get(url[kind])
        assert response.status_code == 200, kind
        assert {"nominatif-xlsx": b"PK", "nominatif-pdf": b"%PDF", "bank-csv": b"rekening,",
                "summary-csv": b"sumber_dana,", "summary-xlsx": b"PK"}[kind] in _body(response)[:20]


def test_staff_page_polls_then_starts_the_download(run, keuangan, api_as, settings, tmp_path,
                                                   django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = api_as(keuangan)
    url = reverse("incentives:run-report", args=[run.pk, "nominatif-pdf"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = client.get(url)
    assert page.status_code == 202
    assert "sedang dibuat di latar belakang" in page.content.decode()
    assert f'hx-get="{url}"' in page.content.decode()
    queued[0]()
    polled = client.get(url, headers={"HX-Request": "true"})
    assert (polled.status_code, polled["HX-Redirect"]) == (200, url)
    assert _body(client.get(url)).startswith(b"%PDF")


def test_unknown_kind_is_404_on_every_route(run, keuangan, api_as):
    client = api_as(keuangan)
    for make_url in DOCUMENT_ROUTES.values():
        assert client.get(make_url(run, "rahasia")).status_code == 404


def test_realisation_is_one_bounded_aggregate(run, keuangan, api_as, no_rendering,
                                              django_assert_max_num_queries):
    client = api_as(keuangan)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("incentives-api:run-realisation") + "?year=2026&fmt=csv")
    assert response.status_code == 200
    assert all(not m.called for m in no_rendering.values())


# --- who gets which copy ----------------------------------------------------------------------

def _document_text(kind: str, body: bytes) -> str:
    import io
    import zipfile

    from tests.incentives.test_reports import pdf_text

    if kind.endswith("pdf"):
        return pdf_text(body)
    if kind.endswith("xlsx"):
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "".join(book.read(name).decode() for name in book.namelist())
    return body.decode("utf-8-sig")


@pytest.mark.parametrize("route", sorted(DOCUMENT_ROUTES))
@pytest.mark.parametrize("role", ["Pimpinan", "Auditor", "Operator Provinsi"])
def test_roles_that_see_accounts_masked_get_a_masked_copy_and_no_bank_file(
        route, role, run, make_user, keuangan, api_as, settings, tmp_path,
        django_capture_on_commit_callbacks):
    """Found by a browser walk: the Auditor, the Pimpinan and the Operator Provinsi (who see
    payout lines with accounts masked) downloaded the Daftar Nominatif and the bank file with
    whole account numbers — one stored file per run and kind served to every role."""
    from dinsos.scoping import mask

    settings.MEDIA_ROOT = tmp_path
    accounts = list(run.lines.exclude(account_number="").values_list("account_number",
                                                                    flat=True).distinct())
    assert accounts
    reader, finance = api_as(make_user(role)), api_as(keuangan)
    for kind in reports.REPORT_KINDS:
        url = DOCUMENT_ROUTES[route](run, kind)
        if kind == "bank-csv":
            refused = reader.get(url)
            assert refused.status_code == 403, (route, kind)
            assert "nomor rekening utuh" in refused.content.decode()
            continue
        for client in (reader, finance):
            with django_capture_on_commit_callbacks(execute=True):
                assert client.get(url).status_code == 202
        masked_text = _document_text(kind, _body(reader.get(url)))
        whole_text = _document_text(kind, _body(finance.get(url)))
        if kind.startswith("nominatif"):
            for account in accounts:
                assert account not in masked_text and mask("account_number", account) in \
                    masked_text, (route, kind)
                assert account in whole_text, (route, kind)
    assert finance.get(DOCUMENT_ROUTES[route](run, "bank-csv")).status_code == 202


def test_the_run_page_offers_the_bank_file_only_to_who_may_have_it(run, make_user, keuangan,
                                                                   api_as):
    bank = reverse("incentives:run-report", args=[run.pk, "bank-csv"])
    page = reverse("incentives:run-detail", args=[run.pk])
    assert bank in api_as(keuangan).get(page).content.decode()
    assert bank not in api_as(make_user("Pimpinan")).get(page).content.decode()


def test_a_document_handed_out_is_an_audited_read(run, keuangan, api_as, settings, tmp_path,
                                                  django_capture_on_commit_callbacks):
    from auditlog.models import LogEntry

    settings.MEDIA_ROOT = tmp_path
    client, url = api_as(keuangan), DOCUMENT_ROUTES["incentives:run-report"](run, "bank-csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url)
    before = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    assert client.get(url).status_code == 200
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("pk")
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == before + 1
    assert entry.additional_data["query"] == {"run": str(run.pk), "kind": "bank-csv",
                                              "masked": "False"}


# --- before the approval: no bank file, a draft Daftar Nominatif -------------------------------

@pytest.fixture(params=["dihitung", "diverifikasi"])
def unapproved_run(request, keuangan, keuangan_b):
    """Found by the figures audit: a run computed or verified, not approved, gave a bank file
    with control totals and a Daftar Nominatif that looked final."""
    from incentives import services

    tksk(name="Ahmad Fauzi")
    run = services.run_compute(actor=keuangan, period=OCT)
    if request.param == "diverifikasi":
        run = services.run_verify(actor=keuangan_b, run=run)
    assert run.status == request.param
    return run


@pytest.mark.parametrize("route", sorted(DOCUMENT_ROUTES))
def test_no_bank_file_before_the_approval_on_any_door(route, unapproved_run, keuangan, api_as,
                                                      django_capture_on_commit_callbacks):
    client = api_as(keuangan)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.get(DOCUMENT_ROUTES[route](unapproved_run, "bank-csv"))
    assert response.status_code == 409, route
    text = response.content.decode()
    assert ("Berkas transfer bank hanya dibuat untuk perhitungan yang sudah disetujui "
            "Pimpinan") in text
    assert unapproved_run.get_status_display() in text
    assert queued == [] and not RunDocument.objects.exists()  # nothing made, nothing queued


@pytest.mark.parametrize("route", sorted(DOCUMENT_ROUTES))
def test_a_cancelled_run_has_no_document_on_any_door(route, keuangan, api_as,
                                                     django_capture_on_commit_callbacks):
    """Review: a cancelled run (its lines deleted, never to be approved) was offered a Daftar
    Nominatif marked "DRAF — belum disetujui"."""
    from incentives import services

    tksk(name="Ahmad Fauzi")
    run = services.run_compute(actor=keuangan, period=OCT)
    run = services.run_cancel(actor=keuangan, run=run, reason="Laporan belum lengkap")
    assert reports.kinds_for_run(run) == {}
    client = api_as(keuangan)
    for kind in reports.REPORT_KINDS:
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = client.get(DOCUMENT_ROUTES[route](run, kind))
        assert response.status_code == 409, (route, kind)
        assert "dibatalkan" in response.content.decode()
        assert queued == []
    assert not RunDocument.objects.exists()


def test_the_renderer_refuses_the_bank_file_of_a_run_not_approved(unapproved_run):
    import io

    with pytest.raises(reports.NotApproved):
        reports.write_document(unapproved_run, "bank-csv", io.BytesIO())


def test_the_run_page_and_the_admin_offer_no_bank_file_before_the_approval(
        unapproved_run, keuangan, api_as):
    client = api_as(keuangan)
    page = client.get(reverse("incentives:run-detail", args=[unapproved_run.pk]))
    admin = client.get(reverse("admin:incentives_payoutrun_change", args=[unapproved_run.pk]))
    for response, route in ((page, "incentives:run-report"),
                            (admin, "admin:incentives_payoutrun_report")):
        assert response.status_code == 200
        html = response.content.decode()
        assert reverse(route, args=[unapproved_run.pk, "bank-csv"]) not in html
        assert reverse(route, args=[unapproved_run.pk, "nominatif-pdf"]) in html
        assert "Daftar Nominatif (PDF, DRAF — belum disetujui)" in html


def test_a_draft_made_before_the_approval_is_not_served_after_it(
        keuangan, keuangan_b, pimpinan, api_as, settings, tmp_path,
        django_capture_on_commit_callbacks):
    from incentives import services
    from tests.incentives.test_reports import pdf_text

    settings.MEDIA_ROOT = tmp_path
    tksk(name="Ahmad Fauzi")
    run = services.run_verify(actor=keuangan_b,
                              run=services.run_compute(actor=keuangan, period=OCT))
    client = api_as(keuangan)
    url = reverse("incentives:run-report", args=[run.pk, "nominatif-pdf"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url).status_code == 202
    draft = client.get(url)
    assert draft.status_code == 200 and "DRAF" in draft["Content-Disposition"]
    assert reports.DRAFT_MARK in pdf_text(_body(draft))
    services.run_approve(actor=pimpinan, run=run)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url).status_code == 202  # a new document, not the draft
    final = client.get(url)
    assert final.status_code == 200 and "DRAF" not in final["Content-Disposition"]
    text = pdf_text(_body(final))
    assert reports.DRAFT_MARK not in text and reports.document_number(run) in text
    assert "Bendahara Pengeluaran" in text
    assert RunDocument.objects.filter(run=run, kind="nominatif-pdf").count() == 2


def test_a_failed_document_keeps_the_error_text_for_the_log(run, keuangan, monkeypatch,
                                                            settings, tmp_path, api_as):
    """Review (December 2026): as a tranche job did, a finance document that failed stored
    the exception's own text (``str(exc)``: a key's value such as an account number) in
    ``RunDocument.error``, which the status URL returns to every province role. The text goes
    to the worker's log now; the answer names the document's number."""
    from incentives import services, tasks

    settings.MEDIA_ROOT = tmp_path
    document = services.document_request(actor=keuangan, run=run, kind="bank-csv")
    leak = "DETAIL: Key (account_number)=(0012345678) already exists."
    monkeypatch.setattr(reports, "write_document", mock.Mock(side_effect=RuntimeError(leak)))
    with pytest.raises(RuntimeError):
        tasks.render_run_document(document.pk)
    answer = api_as(keuangan).get(f"/api/v1/incentives/documents/{document.pk}/")
    assert answer.status_code == 200
    assert answer.json()["error"] == (
        f"Kesalahan sistem saat membuat dokumen; hubungi admin dan sebutkan nomor dokumen "
        f"{document.pk}.")
