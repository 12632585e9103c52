"""An update's answer shows the record as the list does: the update services return the row
they re-read under lock, without the list's annotations (found by a review of December 2026)."""

import pytest

from tests.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/pmks/households/"


def test_household_patch_response_keeps_member_count(api_as, province_operator):
    household = HouseholdFactory()
    for i in range(3):
        PersonFactory(household=household, name=f"Anggota {i}")
    client = api_as(province_operator)
    before = client.get(f"{HOUSEHOLDS}{household.pk}/").json()
    assert before["member_count"] == 3
    response = client.patch(f"{HOUSEHOLDS}{household.pk}/", {"address": "Jl. Baru 1"},
                            format="json")
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "Jl. Baru 1"
    assert response.json()["member_count"] == 3
