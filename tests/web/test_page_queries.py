"""No staff page and no admin changelist asks the database once more for every row it shows: each
page is opened on the demo data with 3 more rows of every kind it lists (persons of the searched
name, members, cases and services of the person shown, duplicate pairs, workers, reports,
enrolments, payout lines), then with 30, and asks the same number of queries.

The pages are the bench's (``bench/pages.py``), enumerated from the URLconf and the admin
registry with their filters, searches and deep pages: a new page cannot escape (one without a
sample there fails here)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import pages as bench_pages
from dinsos.models import User
from dinsos.scoping import restrict
from tests.factories import (
    ActivityReportFactory,
    AssignmentFactory,
    EnrolmentFactory,
    HouseholdFactory,
    PaymentFactory,
    PayoutLineFactory,
    WorkerFactory,
    named,
)
from tests.helpers import client_for
from tests.pmks.factories import CaseFactory, ServiceFactory, category

pytestmark = pytest.mark.django_db

FEW, MANY = 3, 30


def _queries(client, urls, *, warm: bool) -> dict[str, int]:
    counts = {}
    for url in urls:
        if warm:  # per-process caches (permissions, estimates) filled
            client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code in (200, 202, 302), (url, response.status_code)
        counts[url] = len(queries)
    return counts


def _more_rows(user, start: int, stop: int) -> None:
    """Rows ``start`` to ``stop`` of every kind the pages list, where the sampled pages look."""
    from incentives.models import PayoutRun
    from jamsosratu.selectors import current_cycle
    from pmks.models import DuplicateCandidate, Person

    person = Person.objects.get(pk=bench_pages.SAMPLES["pmks:person-detail"](user)["pk"])
    surname = restrict(Person.objects.filter(nik__isnull=False), user).order_by(
        "pk").values_list("name", flat=True).first().split()[-1]
    slugs = ["anak-terlantar", "anak-jalanan", "pengemis", "pemulung", "gelandangan", "odha",
             "korban-napza", "korban-trafficking", "tuna-susila", "kelompok-minoritas"]
    run = restrict(PayoutRun.objects.all(), user).order_by("pk").first()
    cycle = current_cycle()
    tranche = cycle and cycle.tranches.order_by("number").first()  # bench_pages._tranche's
    for i in range(start, stop):
        member = named(f"Warga {surname} {i}", desa_id=person.desa_id,
                       household=person.household, relationship="anak")
        other = named(f"Warga {surname} {i}a", desa_id=person.desa_id)
        DuplicateCandidate.objects.create(person_a=member, person_b=other, score=90, reasons=[])
        case = CaseFactory(person=person, category=category(slugs[i % len(slugs)]),
                           status="dalam_penanganan")
        ServiceFactory(case=case)
        worker = WorkerFactory(desa_id=person.desa_id, name=f"Tenaga {surname} {i}")
        AssignmentFactory(worker=worker, role="pendamping_pkh", area_id=person.desa_id)
        ActivityReportFactory(worker=worker, status="diajukan",
                              submitted_at=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC))
        ActivityReportFactory(worker=worker, status="diterima")
        if cycle is not None:
            enrolment = EnrolmentFactory(household=HouseholdFactory(desa_id=person.desa_id),
                                         cycle=cycle)
            if tranche is not None:  # a failed transfer on the tahap's failed-payments page
                PaymentFactory(enrolment=enrolment, tranche=tranche, status="gagal",
                               failure_reason="Rekening tidak aktif",
                               account_number=enrolment.account_number)
        if run is not None:
            PayoutLineFactory(run=run, worker=worker, period=run.period,
                              area_id=person.desa_id[:8])


@pytest.mark.parametrize("username", ["operator_provinsi", "operator_pandeglang"])
def test_no_page_asks_once_more_per_row(demo_seeded, username):
    user = User.objects.get(username=username)
    found, _empty = bench_pages.pages(user)
    # orderings change no query; a changelist's filters and searches are Django's own
    urls = [p.url for p in found if not p.name.startswith("admin:") or not p.label]
    client = client_for(user)
    _more_rows(user, 0, FEW)
    before = _queries(client, urls, warm=True)
    _more_rows(user, FEW, MANY)
    after = _queries(client, urls, warm=False)
    grown = {url: (before[url], after[url]) for url in urls if after[url] > before[url]}
    assert not grown, grown


def test_every_staff_page_has_a_sample():
    """A staff page added without telling the bench how to open it fails here."""
    missing = set(bench_pages.staff_views()) - set(bench_pages.SAMPLES)
    assert not missing
