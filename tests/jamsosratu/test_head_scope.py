"""A Jamsosratu page or search names no household head registered in another kab/kota: the
enrolment list, its search by name, the enrolment and verification pages and the admin's
search read the head's name through ``selectors.head_name`` (``scoping.shown_within``), as the
PMKS doors do since the audit of 2 December 2026 (the helper that fixed those found these)."""

from html import unescape

import pytest
from django.urls import reverse

from jamsosratu.models import Enrolment, VerificationFinding
from pmks.models import Household
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, PersonFactory, cycle_with_tranches
from tests.helpers import client_for
from tests.jamsosratu.factories import enrol, household

pytestmark = pytest.mark.django_db
SECRET = "RAHASIA LEBAK"


@pytest.fixture
def split(province_operator):
    """A Pandeglang enrolment whose household head is registered in Lebak."""
    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"))
    enrolment = enrol(province_operator, household(DESA_PANDEGLANG), cycle)
    hh = enrolment.household
    head = PersonFactory(household=hh, desa_id=DESA_LEBAK, name=SECRET, relationship="kepala")
    Household.objects.filter(pk=hh.pk).update(head=head)
    return Enrolment.objects.get(pk=enrolment.pk)


def _page(user, url, **params):
    response = client_for(user).get(url, params)
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def test_the_pages_do_not_name_a_head_of_another_district(split, pandeglang_operator,
                                                          province_operator):
    listing = reverse("jamsosratu:enrolment-list", args=[2026])
    detail = reverse("jamsosratu:enrolment-detail", args=[split.pk])
    visit = reverse("jamsosratu:verification-create", args=[split.pk])
    for url in (listing, detail, visit):
        assert SECRET not in _page(pandeglang_operator, url), url
    assert "tercatat di luar wilayah Anda" in _page(pandeglang_operator, listing)
    # the province sees the whole of Banten, the head included
    assert SECRET in _page(province_operator, listing)
    assert SECRET in _page(province_operator, detail)


def test_the_search_by_name_finds_no_head_of_another_district(split, pandeglang_operator,
                                                              province_operator):
    listing = reverse("jamsosratu:enrolment-list", args=[2026])
    found = client_for(pandeglang_operator).get(listing, {"q": "RAHASIA"})
    assert list(found.context["page"]) == []
    found = client_for(province_operator).get(listing, {"q": "RAHASIA"})
    assert [e.pk for e in found.context["page"]] == [split.pk]
    admin = client_for(pandeglang_operator).get(
        reverse("admin:jamsosratu_enrolment_changelist"), {"q": "RAHASIA"})
    assert admin.status_code == 200
    assert list(admin.context["cl"].result_list) == []
    admin = client_for(province_operator).get(
        reverse("admin:jamsosratu_enrolment_changelist"), {"q": "RAHASIA"})
    assert [e.pk for e in admin.context["cl"].result_list] == [split.pk]


def test_no_door_records_a_finding_of_a_member_registered_in_another_district(
        split, pandeglang_operator, api_as):
    """The visit form no longer lists the Lebak head, and the API's relation field is scoped;
    the service itself (every door) refuses a finding or a pregnancy of that person too, as
    it refuses a person of another household."""
    import datetime

    from django.core.exceptions import ValidationError

    from jamsosratu import services
    from tests.jamsosratu.factories import tksk_of

    head = Household.objects.get(pk=split.household_id).head
    tksk = tksk_of(split.desa_id[:8])
    with pytest.raises(ValidationError) as refused:
        services.verification_record(
            actor=pandeglang_operator, enrolment=split, verifier=tksk,
            visit_date=datetime.date(2025, 11, 10), result="sesuai",
            findings=[{"person": head.pk, "finding": "meninggal"}])
    assert list(refused.value.message_dict) == ["findings"]
    response = api_as(pandeglang_operator).post("/api/v1/jamsosratu/verifications/", {
        "enrolment": split.pk, "verifier": tksk.pk, "visit_date": "2025-11-10",
        "result": "sesuai", "findings": [{"person": head.pk, "finding": "meninggal"}]},
        format="json")
    assert response.status_code == 400, response.content
    assert not VerificationFinding.objects.filter(person=head).exists()
