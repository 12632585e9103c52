"""Bad input answers 4xx with an Indonesian message naming the field, never 500, and a refused
request writes nothing (issue #9 point 13). Query parameters are parsed by one set of fields
(`dinsos/api/fields.py`), so every integer/year/month parameter is covered by the same rules."""

from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from dinsos import roles
from incentives.models import BudgetCeiling
from jamsosratu.models import EnrolmentMember
from pmks.models import Household, Person
from tests.factories import (
    DESA_LEBAK,
    EnrolmentFactory,
    PersonFactory,
    cycle_with_tranches,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/"


def _field_error(response, field: str) -> str:
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    assert body["code"] and body["detail"]
    return " ".join(body["errors"][field])


@pytest.fixture
def keuangan(make_user):
    return make_user(roles.KEUANGAN)


@pytest.mark.parametrize("value", ["²", "٢٠٢٦", "0", "99999", "-1", "2026.0", " "])
def test_jamsosratu_coverage_cycle_is_checked(api_as, province_operator, value):
    cycle_with_tranches(2026)
    response = api_as(province_operator).get(f"{API}jamsosratu/coverage/", {"cycle": value})
    assert "tahun" in _field_error(response, "cycle").lower()


def test_jamsosratu_coverage_unknown_cycle_is_not_found(api_as, province_operator):
    response = api_as(province_operator).get(f"{API}jamsosratu/coverage/", {"cycle": 2031})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["99999", "0", "²", "abc", "١٩٩٩"])
def test_realisation_year_is_checked(api_as, keuangan, value):
    response = api_as(keuangan).get(f"{API}incentives/runs/realisation/",
                                    {"year": value, "fmt": "csv"})
    assert "tahun" in _field_error(response, "year").lower()


def test_realisation_valid_year_still_works(api_as, keuangan):
    response = api_as(keuangan).get(f"{API}incentives/runs/realisation/",
                                    {"year": "2026", "fmt": "csv"})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["0000-01", "2026-13", "²０２６-01", "2026-1", "99999-01"])
def test_psks_coverage_month_is_checked(api_as, province_operator, value):
    response = api_as(province_operator).get(f"{API}psks/coverage/", {"month": value})
    assert "bulan" in _field_error(response, "month").lower()


@pytest.mark.parametrize("value", ["0000-01", "2026-00", "10000-01"])
def test_payout_run_period_is_checked(api_as, keuangan, value):
    response = api_as(keuangan).post(f"{API}incentives/runs/", {"period": value},
                                     format="json")
    assert "bulan" in _field_error(response, "period").lower()


def test_options_on_person_by_nik_describes_the_upsert(api_as, pandeglang_operator):
    person = PersonFactory()
    response = api_as(pandeglang_operator).options(
        f"{API}pmks/persons/by-nik/{person.nik}/")
    assert response.status_code == 200, response.content
    assert "name" in response.json()["actions"]["PUT"]


def test_admin_auditlog_of_an_out_of_area_or_missing_record_is_404(client, pandeglang_operator):
    lebak = PersonFactory(desa_id=DESA_LEBAK)
    client.force_login(pandeglang_operator)
    for pk in (lebak.pk, 987654):
        response = client.get(f"/admin/pmks/person/{pk}/auditlog/")
        assert response.status_code == 404, pk
    own = PersonFactory()
    assert client.get(f"/admin/pmks/person/{own.pk}/auditlog/").status_code == 200


def _enrolled_household():
    enrolment = EnrolmentFactory(cycle=cycle_with_tranches(2026))
    member = PersonFactory(household=enrolment.household, desa_id=enrolment.desa_id)
    enrolment.household.head = member
    enrolment.household.save()
    EnrolmentMember.objects.create(enrolment=enrolment, person=member, condition="balita")
    return enrolment.household, member


def test_deleting_a_household_with_a_jamsosratu_enrolment_is_refused(api_as,
                                                                     pandeglang_operator):
    household, member = _enrolled_household()
    entries = LogEntry.objects.count()
    response = api_as(pandeglang_operator).delete(f"{API}pmks/households/{household.pk}/")
    assert response.status_code == 400, response.content
    body = response.json()
    assert "jamsosratu" in str(body).lower()
    household.refresh_from_db()
    member.refresh_from_db()
    assert household.head_id == member.pk and member.household_id == household.pk
    assert LogEntry.objects.count() == entries


def test_deleting_a_person_enrolled_in_jamsosratu_is_refused(api_as, pandeglang_operator):
    household, member = _enrolled_household()
    response = api_as(pandeglang_operator).delete(f"{API}pmks/persons/{member.pk}/")
    assert response.status_code == 400, response.content
    assert "jamsosratu" in str(response.json()).lower()
    assert Person.objects.filter(pk=member.pk).exists()
    assert Household.objects.get(pk=household.pk).head_id == member.pk


def test_ceilings_honour_idempotency_key_and_go_through_the_service(api_as, make_user):
    client = api_as(make_user(roles.ADMIN))
    body = {"year": 2026, "component": "insentif", "funding_source": "apbd_provinsi",
            "amount": "1000000000", "legal_basis": "DPA 2026"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "pagu-2026-1"}
    first = client.post(f"{API}incentives/ceilings/", body, format="json", **headers)
    assert first.status_code == 201, first.content
    again = client.post(f"{API}incentives/ceilings/", body, format="json", **headers)
    assert (again.status_code, again.json()["id"], again["Idempotent-Replayed"]) == (
        201, first.json()["id"], "true")
    assert BudgetCeiling.objects.count() == 1
    # the same pagu under a new key: refused naming the fields, in Indonesian
    other = client.post(f"{API}incentives/ceilings/", body, format="json",
                        HTTP_IDEMPOTENCY_KEY="pagu-2026-2")
    assert other.status_code == 400
    assert "sudah ada" in str(other.json()).lower()
    assert BudgetCeiling.objects.get().amount == Decimal("1000000000")
    audit = LogEntry.objects.filter(content_type__model="budgetceiling")
    assert audit.count() in (0, 1)


# --- the same classes of bug on every list endpoint -----------------------------------------

HOSTILE = ["²", "99999999999999999999", "0000-01", "1.5"]
PARAMS = ["page", "page_size", "year", "cycle", "month", "period", "on", "fmt", "wilayah",
          "household", "decile", "min_score", "tranche", "ordering", "level"]


def test_no_list_endpoint_answers_500_to_hostile_query_values(api_as, make_user):
    from drf_spectacular.generators import EndpointEnumerator

    client = api_as(make_user(roles.ADMIN))
    lists = sorted({path for path, _r, method, _v in EndpointEnumerator().get_api_endpoints()
                    if method == "GET" and path.startswith(API) and "{" not in path})
    assert len(lists) > 30
    for path in lists:
        for value in HOSTILE:
            response = client.get(path, dict.fromkeys(PARAMS, value))
            assert response.status_code < 500, (path, value)


def _simple_list_filters():
    """(changelist URL, parameter) of every SimpleListFilter of every registered ModelAdmin."""
    from django.contrib import admin
    from django.urls import reverse

    for model, model_admin in admin.site._registry.items():
        for item in model_admin.list_filter:
            spec = item[1] if isinstance(item, tuple) else item
            if isinstance(spec, type) and issubclass(spec, admin.SimpleListFilter):
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
                yield url, spec.parameter_name


def test_no_admin_list_filter_answers_500_to_a_value_it_does_not_offer(make_user):
    """Security audit (December 2026): the audit-log list's "tindakan" and "jenis" filters
    passed ``?tindakan=abc`` to the ORM as an id: a 500 on every such request. Every admin
    list filter of our own, given a value it never offers, answers as the admin does for a
    wrong filter (the list, or its redirect), never a 500."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    filters = sorted(set(_simple_list_filters()))
    assert ("/admin/auditlog/logentry/", "tindakan") in filters and len(filters) > 5, filters
    for url, parameter in filters:
        for value in ("abc", "1.5", "-", "٢", "9" * 30):
            response = client.get(url, {parameter: value})
            assert response.status_code in (200, 302), (url, parameter, value,
                                                        response.status_code)
