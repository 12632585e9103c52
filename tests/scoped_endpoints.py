"""Every scoped API endpoint, with a way to make one of its objects inside a given desa.
tests/dinsos/test_scoping.py proves the district rules once for all of them; a new endpoint is
covered by adding one line here."""

from tests.factories import HouseholdFactory, PersonFactory

SCOPED_ENDPOINTS = {
    "pmks-api:household": lambda desa: HouseholdFactory(desa_id=desa),
    "pmks-api:person": lambda desa: PersonFactory(desa_id=desa),
}
