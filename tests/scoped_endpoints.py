"""THE coverage map of the isolation tests (tests/dinsos/test_isolation.py, test_scoping.py).

Every API router endpoint, every registered ModelAdmin and every staff page that takes an
object id must be declared here; the tests enumerate the URL resolver and ``admin.site`` and
FAIL when something is missing. To cover a new surface, add one line:

* an area-bound API endpoint: ``SCOPED_ENDPOINTS["<app>-api:<basename>"] = lambda desa: obj``
  (an object of that endpoint placed in ``desa``);
* any other API endpoint: ``OTHER_ENDPOINTS["<app>-api:<basename>"] = REFERENCE | PROVINCE |
  OWN`` (reference data every role reads; province data a kab/kota user may not read; answers
  computed from the user's own rows by a selector);
* a ModelAdmin of an area-bound model: ``ADMIN_OBJECTS[Model] = lambda desa: obj``; of
  reference or province data: ``ADMIN_UNSCOPED`` gets the model;
* a staff page with an object in its URL: ``STAFF_PAGES["<namespace>:<name>"] = lambda desa:
  {url kwargs}`` (kwargs that open an object placed in ``desa``).
"""

import datetime

from dinsos.models import ImportBatch, Office, User, Wilayah
from incentives.models import BudgetCeiling, PayoutLine, PayoutRun, Rate
from jamsosratu.models import (
    Commitment,
    Cycle,
    Enrolment,
    Payment,
    Verification,
)
from pmks.models import (
    Asset,
    Case,
    Category,
    DuplicateCandidate,
    Household,
    Person,
    PersonMerge,
    Program,
    Service,
    ServiceType,
)
from psks.models import (
    ActivityReport,
    Assignment,
    Bank,
    BankAccount,
    Institution,
    Meeting,
    Worker,
)
from tests.factories import (
    ActivityReportFactory,
    AssignmentFactory,
    BankAccountFactory,
    EnrolmentFactory,
    HouseholdFactory,
    InstitutionFactory,
    MeetingFactory,
    PaymentFactory,
    PayoutLineFactory,
    PersonFactory,
    UserFactory,
    VerificationFactory,
    WorkerFactory,
    office_for,
)
from tests.jamsosratu.factories import CommitmentFactory
from tests.pmks.factories import CaseFactory, ServiceFactory

SCOPED_ENDPOINTS = {
    "pmks-api:household": lambda desa: HouseholdFactory(desa_id=desa),
    "pmks-api:person": lambda desa: PersonFactory(desa_id=desa),
    "pmks-api:case": lambda desa: CaseFactory(person=PersonFactory(desa_id=desa)),
    "pmks-api:service": lambda desa: ServiceFactory(
        case=CaseFactory(person=PersonFactory(desa_id=desa), status="dalam_penanganan")),
    "pmks-api:duplicate": lambda desa: DuplicateCandidate.objects.create(
        person_a=PersonFactory(desa_id=desa), person_b=PersonFactory(desa_id=desa), score=90),
    "psks-api:worker": lambda desa: WorkerFactory(desa_id=desa),
    "psks-api:assignment": lambda desa: AssignmentFactory(worker=WorkerFactory(desa_id=desa)),
    "psks-api:bankaccount": lambda desa: BankAccountFactory(worker=WorkerFactory(desa_id=desa)),
    "psks-api:institution": lambda desa: InstitutionFactory(desa_id=desa),
    "psks-api:activityreport": lambda desa: ActivityReportFactory(
        worker=WorkerFactory(desa_id=desa)),
    "psks-api:meeting": lambda desa: MeetingFactory(kecamatan_id=desa[:8]),
    "jamsosratu-api:enrolment": lambda desa: EnrolmentFactory(
        household=HouseholdFactory(desa_id=desa)),
    "jamsosratu-api:verification": lambda desa: VerificationFactory(
        enrolment=EnrolmentFactory(household=HouseholdFactory(desa_id=desa))),
    "jamsosratu-api:condition": lambda desa: CommitmentFactory(
        member__enrolment=EnrolmentFactory(household=HouseholdFactory(desa_id=desa))),
    "jamsosratu-api:payment": lambda desa: PaymentFactory(
        enrolment=EnrolmentFactory(household=HouseholdFactory(desa_id=desa))),
    "incentives-api:line": lambda desa: PayoutLineFactory(worker=WorkerFactory(desa_id=desa)),
}

#: Lists of area-bound records that have NO changes feed (``<list>/changes/``, issue #14), each
#: with the reason; tests/dinsos/test_sync_feeds.py fails for any other list without a feed.
NOT_SYNCED = {
    "pmks-api:duplicate": "a review queue of the province's matcher, not a district record; "
                          "its outcome reaches a mirror as 'merged' tombstones of persons",
    "psks-api:coverage": "a computed summary per kecamatan, not records",
    "importbatch": "the uploads of import files; the records an import writes reach a mirror "
                   "through their own feeds",
    "jamsosratu-api:coverage": "a computed summary per area, not records",
}

REFERENCE, PROVINCE, OWN = "reference", "province", "own"
OTHER_ENDPOINTS = {
    "wilayah": REFERENCE,
    "importbatch": OWN,  # the user's own uploads (scoped by area)
    "pmks-api:category": REFERENCE,
    "pmks-api:servicetype": REFERENCE,
    "pmks-api:asset": REFERENCE,
    "pmks-api:program": REFERENCE,
    "psks-api:bank": REFERENCE,
    "psks-api:coverage": OWN,
    "jamsosratu-api:cycle": REFERENCE,
    "jamsosratu-api:coverage": OWN,
    "jamsosratu-api:job": PROVINCE,  # tranche jobs (payment list, bank result)
    "incentives-api:rate": PROVINCE,
    "incentives-api:ceiling": PROVINCE,
    "incentives-api:run": PROVINCE,
    "incentives-api:document": PROVINCE,  # generated run reports
    "incentives-api:run-status": OWN,  # run status + totals of the lines of the user's area
}

ADMIN_OBJECTS = {
    Household: SCOPED_ENDPOINTS["pmks-api:household"],
    Person: SCOPED_ENDPOINTS["pmks-api:person"],
    Case: SCOPED_ENDPOINTS["pmks-api:case"],
    Service: SCOPED_ENDPOINTS["pmks-api:service"],
    DuplicateCandidate: SCOPED_ENDPOINTS["pmks-api:duplicate"],
    PersonMerge: lambda desa: PersonMerge.objects.create(
        kept=PersonFactory(desa_id=desa), merged=PersonFactory(desa_id=desa),
        actor=UserFactory(), snapshot={}),
    Worker: SCOPED_ENDPOINTS["psks-api:worker"],
    Assignment: SCOPED_ENDPOINTS["psks-api:assignment"],
    BankAccount: SCOPED_ENDPOINTS["psks-api:bankaccount"],
    Institution: SCOPED_ENDPOINTS["psks-api:institution"],
    ActivityReport: SCOPED_ENDPOINTS["psks-api:activityreport"],
    Meeting: SCOPED_ENDPOINTS["psks-api:meeting"],
    Enrolment: SCOPED_ENDPOINTS["jamsosratu-api:enrolment"],
    Verification: SCOPED_ENDPOINTS["jamsosratu-api:verification"],
    Commitment: SCOPED_ENDPOINTS["jamsosratu-api:condition"],
    Payment: SCOPED_ENDPOINTS["jamsosratu-api:payment"],
    PayoutLine: SCOPED_ENDPOINTS["incentives-api:line"],
    Office: lambda desa: office_for(desa[:5]),
    User: lambda desa: UserFactory(office=office_for(desa[:5])),
    ImportBatch: lambda desa: ImportBatch.objects.create(
        kind="pmks_persons", filename="x.csv", sha256="0" * 64, area_id=desa[:5],
        created_by=UserFactory(office=office_for(desa[:5]))),
}
ADMIN_UNSCOPED = {Wilayah, Category, ServiceType, Asset, Program, Bank, Cycle, Rate,
                  BudgetCeiling, PayoutRun}

#: Staff pages (non-admin, non-API URLs) that open one object: name -> kwargs for an object
#: in ``desa``. The enumeration test fails when a page with a URL parameter is missing here.
def _person(desa):
    from tests.factories import PersonFactory

    return PersonFactory(desa_id=desa)


def _report(desa):
    return ActivityReportFactory(worker=WorkerFactory(desa_id=desa), status="diajukan")


def _import_batch(desa):
    from tests.factories import UserFactory

    return ImportBatch.objects.create(kind="pmks_keluarga", filename="a.csv", sha256="0" * 64,
                                      area_id=desa[:5], created_by=UserFactory(), file="a.csv")


def _run():
    """A computed run of October 2026 (one per period)."""
    return PayoutRun.objects.get_or_create(period=datetime.date(2026, 10, 1),
                                           defaults={"status": "dihitung"})[0]


STAFF_PAGES: dict = {
    "pmks:person-detail": lambda desa: {"pk": _person(desa).pk},
    "pmks:person-update": lambda desa: {"pk": _person(desa).pk},
    "pmks:case-open": lambda desa: {"pk": _person(desa).pk},
    "pmks:case-transition": lambda desa: {"pk": _person(desa).pk, "case_pk": 1,
                                          "target": "dirujuk"},
    "pmks:service-record": lambda desa: {"pk": _person(desa).pk, "case_pk": 1},
    "pmks:service-update": lambda desa: {"pk": _person(desa).pk, "service_pk": 1},
    "pmks:household-detail": lambda desa: {"pk": HouseholdFactory(desa_id=desa).pk},
    "pmks:household-update": lambda desa: {"pk": HouseholdFactory(desa_id=desa).pk},
    "pmks:duplicate-detail": lambda desa: {"pk": DuplicateCandidate.objects.create(
        person_a=_person(desa), person_b=_person(desa), score=90, reasons=[]).pk},
    "psks:report-detail": lambda desa: {"pk": _report(desa).pk},
    "psks:report-review": lambda desa: {"pk": _report(desa).pk, "action": "terima"},
    # payout pages are province-only: a kab/kota user gets 404 whatever the object
    "incentives:run-detail": lambda desa: {"pk": _run().pk},
    "incentives:run-action": lambda desa: {"pk": _run().pk, "action": "verifikasi"},
    "incentives:run-report": lambda desa: {"pk": _run().pk, "kind": "bank-csv"},
    "incentives:run-progress": lambda desa: {"period": "2026-10"},
    "import-detail": lambda desa: {"pk": _import_batch(desa).pk},
    "import-report": lambda desa: {"pk": _import_batch(desa).pk, "fmt": "csv"},
    # templates are no one's object: same file for every district
    "import-template": lambda desa: {"kind": "tidak-ada", "fmt": "csv"},
    "jamsosratu:enrolment-detail": lambda desa: {"pk": _enrolment(desa).pk},
    "jamsosratu:enrolment-transition": lambda desa: {"pk": _enrolment(desa).pk,
                                                     "target": "dikeluarkan"},
    "jamsosratu:verification-create": lambda desa: {"pk": _enrolment(desa).pk},
    "jamsosratu:enrolment-account-verify": lambda desa: {"pk": _enrolment(desa).pk},
    "jamsosratu:verification-apply": lambda desa: {"pk": VerificationFactory(
        enrolment=_enrolment(desa)).pk},
    # tranche work is the province's: a kab/kota user gets 404 whatever the tranche
    "jamsosratu:tranche-generate": lambda desa: {"year": _enrolment(desa).cycle.year,
                                                 "number": 1},
    "jamsosratu:bank-file": lambda desa: {"year": _enrolment(desa).cycle.year, "number": 1},
    "jamsosratu:bank-result": lambda desa: {"year": _enrolment(desa).cycle.year, "number": 1},
    "jamsosratu:job-detail": lambda desa: {"pk": _tranche_job(desa).pk},
    "jamsosratu:tranche-over-budget": lambda desa: {"year": _enrolment(desa).cycle.year,
                                                    "number": 1},
    "jamsosratu:payment-reschedule": lambda desa: _failed_payment_kwargs(desa),
}


def _failed_payment(desa):
    """A failed transfer of tahap 1 to a household in ``desa`` (its head the planted name)."""
    enrolment = _enrolment(desa)
    return PaymentFactory(enrolment=enrolment, tranche=enrolment.cycle.tranches.get(number=1),
                          status="gagal", failure_reason="Rekening tidak aktif",
                          account_number="1234567890", explanation={"rule": "penuh"})


def _failed_payment_kwargs(desa):
    payment = _failed_payment(desa)
    return {"year": payment.tranche.cycle.year, "number": 1, "pk": payment.pk}


def _enrolment(desa):
    """An enrolment in ``desa`` whose head of household is the planted name."""
    from tests.factories import PersonFactory

    enrolment = EnrolmentFactory(household=HouseholdFactory(desa_id=desa))
    head = PersonFactory(desa_id=desa, household=enrolment.household, name="RAHASIA LEBAK")
    enrolment.household.head = head
    enrolment.household.save(update_fields=["head"])
    return enrolment


def _tranche_job(desa):
    from jamsosratu.models import TrancheJob

    tranche = _enrolment(desa).cycle.tranches.first()
    return TrancheJob.objects.create(tranche=tranche, kind="penyaluran",
                                     requested_by=UserFactory())


def _planted_only(_obj) -> dict:
    return {}  # a page without URL parameters; the object is only planted


#: Staff pages whose URL names no area-bound object (a cycle year) but whose content is the
#: user's area: every role opens them (or is refused by its permission) and sees nothing of
#: another district. name -> kwargs, given ``desa`` where a record that must not leak is
#: planted. Pages with a URL parameter must be here or in STAFF_PAGES.
STAFF_AREA_PAGES: dict = {
    "jamsosratu:cycle-list": lambda desa: _planted_only(_enrolment(desa)),
    "jamsosratu:cycle-detail": lambda desa: {"year": _enrolment(desa).cycle.year},
    "jamsosratu:enrolment-list": lambda desa: {"year": _enrolment(desa).cycle.year},
    "jamsosratu:coverage": lambda desa: {"year": _enrolment(desa).cycle.year},
    "jamsosratu:failed-payments": lambda desa: {
        "year": _failed_payment(desa).tranche.cycle.year, "number": 1},
}
