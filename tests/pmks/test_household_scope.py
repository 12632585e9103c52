"""A household's fields that come from a person registered in another kab/kota — its head's
name, its members, their count, a search by the head's name — reach no door of a district user
(API list, detail and sync feed, export, admin), as the staff page already said "(tercatat di
luar wilayah Anda)". Decided once: ``pmks.selectors`` (``household_names``, ``member_count``,
``household_with_members``) through ``dinsos.scoping.shown_within``/``scope_q``; found by the
audit of 2 December 2026 (H2, H3, M5, M6, L1)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pmks.models import Household
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

SECRET = "RAHASIA LEBAK"


@pytest.fixture
def split_household():
    """A Pandeglang KK whose kepala (and head) is registered in Lebak, and one member at home."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    head = PersonFactory(household=household, desa_id=DESA_LEBAK, name=SECRET,
                         relationship="kepala")
    at_home = PersonFactory(household=household, desa_id=DESA_PANDEGLANG, name="Ujang Sobari",
                            relationship="anak")
    Household.objects.filter(pk=household.pk).update(head=head)
    return household, head, at_home


def test_api_household_detail_lists_only_members_inside_the_area(split_household,
                                                                   pandeglang_operator, api_as):
    """GET households/<id>/ lists only the members the user may see (no Lebak name or NIK)."""
    household, head, at_home = split_household
    body = api_as(pandeglang_operator).get(f"/api/v1/pmks/households/{household.pk}/").json()
    assert [m["id"] for m in body["members"]] == [at_home.pk]
    assert head.nik not in str(body)


def test_api_household_does_not_name_a_head_registered_in_another_district(
        split_household, pandeglang_operator, api_as):
    """head_name is not given (None) when the head is outside the user's area, on list and
    detail, as the staff page says 'tercatat di luar wilayah Anda'."""
    household, _head, _home = split_household
    client = api_as(pandeglang_operator)
    detail = client.get(f"/api/v1/pmks/households/{household.pk}/").json()
    listed = client.get("/api/v1/pmks/households/").json()["results"]
    assert SECRET not in str(detail)
    assert SECRET not in str(listed)


def test_api_household_member_count_counts_only_members_inside_the_area(
        split_household, pandeglang_operator, api_as):
    """member_count is the members the user may see (1), not a count that tells of a
    person registered in another district (2)."""
    household, _head, _home = split_household
    listed = api_as(pandeglang_operator).get("/api/v1/pmks/households/").json()["results"]
    assert [row["member_count"] for row in listed] == [1]


def test_household_export_does_not_name_a_head_registered_in_another_district(
        split_household, pandeglang_operator, api_as):
    """The export's kepala_keluarga column is empty for a head outside the user's area."""
    response = api_as(pandeglang_operator).get("/api/v1/pmks/households/export/",
                                               {"fmt": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["kepala_keluarga"] != SECRET


def test_admin_household_list_does_not_name_a_head_registered_in_another_district(
        split_household, pandeglang_operator):
    """The admin's household changelist ('head' column) does not print the Lebak head's
    name to a Pandeglang operator."""
    page = client_for(pandeglang_operator).get(
        reverse("admin:pmks_household_changelist")).content.decode()
    assert "Kp. Contoh" in page or "3601" in page  # the household itself is listed
    assert SECRET not in page

def test_admin_household_search_does_not_match_the_name_of_a_head_in_another_district(
        split_household, pandeglang_operator):
    """The admin's household search (search_fields head__name) does not find a household by
    the name of a person the user may not see: the hit confirms that person's existence and
    KK."""
    household, _head, _home = split_household
    response = client_for(pandeglang_operator).get(
        reverse("admin:pmks_household_changelist"), {"q": "RAHASIA"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


def test_api_household_search_does_not_match_the_name_of_a_head_in_another_district(
        split_household, pandeglang_operator, api_as):
    """GET households/?q=<name> does not find a household by the name of a head the user may
    not see (HouseholdFilterSet.search reads head__name unscoped)."""
    body = api_as(pandeglang_operator).get("/api/v1/pmks/households/", {"q": "RAHASIA"}).json()
    assert body["count"] == 0


def test_api_household_detail_logs_the_read_of_the_members_it_shows(pandeglang_operator,
                                                                     api_as):
    """GET households/<id>/ shows each member's NIK, name and birth date: like the staff
    household page (ReadLoggedPage.read_lists, 1469610) it writes one Person ACCESS entry
    naming the members shown (UU 27/2022)."""
    from auditlog.models import LogEntry

    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    member = PersonFactory(household=household, desa_id=DESA_PANDEGLANG, name="Ujang Sobari")
    body = api_as(pandeglang_operator).get(f"/api/v1/pmks/households/{household.pk}/").json()
    assert [m["id"] for m in body["members"]] == [member.pk]
    reads = [entry.additional_data for entry in LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, content_type__model="person")]
    assert [str(member.pk)] in [r.get("rows") for r in reads], reads


def test_person_page_does_not_link_to_a_household_page_the_user_cannot_open(
        pandeglang_operator):
    """A Pandeglang person whose KK is recorded in Lebak: the person page offers no link to
    /pmks/keluarga/<id>/ (that page answers 404 to this user); the household's data shown is
    what the user may read."""
    household = HouseholdFactory(desa_id=DESA_LEBAK)
    person = PersonFactory(household=household, desa_id=DESA_PANDEGLANG, name="Ujang Sobari")
    client = client_for(pandeglang_operator)
    link = reverse("pmks:household-detail", args=[household.pk])
    assert client.get(link).status_code == 404
    page = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    assert "Ujang Sobari" in page
    assert f'href="{link}"' not in page


def test_household_changes_feed_does_not_name_a_head_registered_in_another_district(
        split_household, pandeglang_operator, api_as):
    """The sync feed (households/changes/) mirrors the list: no Lebak head's name in a
    Pandeglang mirror."""
    response = api_as(pandeglang_operator).get("/api/v1/pmks/households/changes/")
    assert response.status_code == 200
    assert response.json()["results"], "the household is in the feed"
    assert SECRET not in response.content.decode()


# --- what stays: the province's view, a district's own heads, one query per page -----------------


def test_the_province_sees_the_head_and_every_member_of_a_split_household(
        split_household, province_operator, api_as):
    """The scope narrows only a district's view: the province office is told the Lebak head's
    name, counts and lists both members, and finds the KK by the head's name."""
    household, head, at_home = split_household
    client = api_as(province_operator)
    detail = client.get(f"/api/v1/pmks/households/{household.pk}/").json()
    assert (detail["head_name"], detail["member_count"]) == (SECRET, 2)
    assert sorted(m["id"] for m in detail["members"]) == sorted([head.pk, at_home.pk])
    found = client.get("/api/v1/pmks/households/", {"q": "RAHASIA"}).json()["results"]
    assert [row["id"] for row in found] == [household.pk]
    admin_page = client_for(province_operator).get(
        reverse("admin:pmks_household_changelist"), {"q": "RAHASIA"})
    assert admin_page.context["cl"].result_count == 1
    assert SECRET in admin_page.content.decode()


def test_a_district_is_told_the_name_of_a_head_of_its_own_area(pandeglang_operator, api_as):
    """A head registered inside the district is named on the list, the export and the admin
    list, and found by the search, as before."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    head = PersonFactory(household=household, desa_id=DESA_PANDEGLANG, name="Ujang Sobari",
                         relationship="kepala")
    Household.objects.filter(pk=household.pk).update(head=head)
    client = api_as(pandeglang_operator)
    listed = client.get("/api/v1/pmks/households/", {"q": "Sobari"}).json()["results"]
    assert [(row["id"], row["head_name"], row["member_count"]) for row in listed] == [
        (household.pk, "Ujang Sobari", 1)]
    exported = client.get("/api/v1/pmks/households/export/", {"fmt": "csv"})
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    assert [row["kepala_keluarga"] for row in csv.DictReader(io.StringIO(text))] == [
        "Ujang Sobari"]
    page = client_for(pandeglang_operator).get(reverse("admin:pmks_household_changelist"))
    assert "Ujang Sobari" in page.content.decode()


def test_the_scoped_head_name_and_count_ask_no_query_per_row(pandeglang_operator, api_as):
    """The head's name and the member count the district may see are read in the page's own
    query (a CASE and a subquery with the area's condition): 1 or 6 split households, the
    same number of queries."""
    def split(n):
        for _ in range(n):
            household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
            head = PersonFactory(household=household, desa_id=DESA_LEBAK, relationship="kepala")
            PersonFactory(household=household, desa_id=DESA_PANDEGLANG)
            Household.objects.filter(pk=household.pk).update(head=head)

    client = api_as(pandeglang_operator)
    counts = []
    for n in (1, 5):
        split(n)
        client.get("/api/v1/pmks/households/")  # per-process caches filled
        with CaptureQueriesContext(connection) as queries:
            rows = client.get("/api/v1/pmks/households/").json()["results"]
        assert {(row["head_name"], row["member_count"]) for row in rows} == {(None, 1)}
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_admin_household_change_page_does_not_name_a_head_registered_in_another_district(
        split_household, pandeglang_operator):
    """The admin's change page of the household (its head's raw-id field, its member inline)
    does not print the Lebak head's name either."""
    household, _head, _home = split_household
    response = client_for(pandeglang_operator).get(
        reverse("admin:pmks_household_change", args=[household.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ujang Sobari" in page  # the member at home is shown
    assert SECRET not in page


def test_a_form_naming_the_household_does_not_name_a_head_in_another_district(
        split_household, pandeglang_operator):
    """The admin's person change page names the member's household next to its raw-id field
    by its No. KK and head (``Household.label_for``): not by the Lebak head's name."""
    household, _head, at_home = split_household
    page = client_for(pandeglang_operator).get(
        reverse("admin:pmks_person_change", args=[at_home.pk])).content.decode()
    assert household.no_kk in page  # the household is named (the operator sees it whole)
    assert SECRET not in page
