"""Review of the DTKS household page and filters (3fb8d93..1cae471)."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from pmks.models import Household
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_household_page_does_not_show_a_head_registered_in_another_district(
        pandeglang_operator):
    """Expected: the page promises (``selectors.household_file``) that a member registered
    in another district is not shown — that holds for the kepala keluarga too. Now: the
    members table is scoped (``person_list(user)``) but the "Kepala keluarga" line prints
    ``household.head.name`` unscoped, so a Lebak person's name reaches a Pandeglang
    operator."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    head = PersonFactory(household=household, desa_id=DESA_LEBAK, name="RAHASIA LEBAK")
    Household.objects.filter(pk=household.pk).update(head=head)
    page = client_for(pandeglang_operator).get(
        reverse("pmks:household-detail", args=[household.pk])).content.decode()
    assert "RAHASIA LEBAK" not in page


def test_household_page_logs_the_read_of_the_members_it_shows(pandeglang_operator):
    """Expected (UU 27/2022, as the person list/page log each person shown): the members
    listed on the household page (name, birth date, hubungan, life status) are logged as
    read. Now: ``HouseholdDetailView.read_records`` returns only the household."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    member = PersonFactory(household=household, desa_id=DESA_PANDEGLANG, name="Ujang Sobari")
    page = client_for(pandeglang_operator).get(
        reverse("pmks:household-detail", args=[household.pk])).content.decode()
    assert "Ujang Sobari" in page
    # one entry naming the members shown (as a list page's: one INSERT, whatever the count)
    reads = [entry.additional_data for entry in LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, content_type__model="person")]
    assert [(r["read"], r["rows"]) for r in reads] == [("anggota keluarga", [str(member.pk)])]


def test_a_long_aset_filter_is_refused_with_a_400_not_a_500(pandeglang_operator, api_as):
    """Expected: the comma list of ``?aset=`` is bounded like every list of the API (an
    Indonesian 400 naming ``aset``), or at worst answers an empty page. Now: every code adds
    its own EXISTS subquery (``pmks/filters.py::_holding``) with no bound — 1,200 codes make
    one query of 1,200 subqueries (a 500 on SQLite's expression depth; on PostgreSQL a slow
    plan any district user can ask for)."""
    codes = ",".join(f"x{i}" for i in range(1200))
    response = api_as(pandeglang_operator).get("/api/v1/pmks/households/", {"aset": codes})
    assert response.status_code == 400, response.status_code
    assert response.json()["errors"] == {"aset": ["Paling banyak 30 kode, dipisah koma."]}
