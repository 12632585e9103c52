"""Every scoped API endpoint, with a way to make one of its objects inside a given desa.
tests/dinsos/test_scoping.py proves the district rules once for all of them; a new endpoint is
covered by adding one line here."""

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
    VerificationFactory,
    WorkerFactory,
)

SCOPED_ENDPOINTS = {
    "pmks-api:household": lambda desa: HouseholdFactory(desa_id=desa),
    "pmks-api:person": lambda desa: PersonFactory(desa_id=desa),
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
    "jamsosratu-api:payment": lambda desa: PaymentFactory(
        enrolment=EnrolmentFactory(household=HouseholdFactory(desa_id=desa))),
    "incentives-api:line": lambda desa: PayoutLineFactory(worker=WorkerFactory(desa_id=desa)),
}
