"""The admin removes an area-bound record only through the service the API's DELETE calls
(dinsos.admin_base.ScopedModelAdmin): no second write path that skips a service's rules, its
change log or its refusal. Found by an isolation review: a district operator deleted a paid
Jamsosratu payment (Rp875.000) in the admin while the API answers 405."""

import datetime

import pytest
from django.test import RequestFactory
from django.urls import reverse

from dinsos import roles
from dinsos.admin_base import ScopedModelAdmin
from dinsos.models import Change
from dinsos.scoping import scope_fields
from jamsosratu.models import Payment
from pmks.models import Household, Person
from tests.dinsos.test_isolation import our_admins
from tests.factories import (
    DESA_PANDEGLANG,
    EnrolmentFactory,
    HouseholdFactory,
    PaymentFactory,
    PersonFactory,
)
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

DOMAIN = {"pmks", "psks", "jamsosratu", "incentives"}
#: The records the API deletes (each through its service); nothing else of an area goes.
DELETED_BY_A_SERVICE = {"pmks.Household", "pmks.Person", "pmks.Service", "psks.Meeting"}


def area_bound_admins():
    return {model._meta.label: model_admin for model, model_admin in our_admins().items()
            if model._meta.app_label in DOMAIN and scope_fields(model)}


def test_area_bound_admins_are_found():
    found = area_bound_admins()
    assert {"pmks.Person", "jamsosratu.Payment", "pmks.PersonMerge"} <= set(found)
    assert set(found) >= DELETED_BY_A_SERVICE


@pytest.mark.parametrize("role", [roles.OPERATOR_KAB_KOTA, roles.OPERATOR_PROVINSI, roles.ADMIN])
def test_no_admin_deletes_an_area_bound_record_without_its_service(role, make_user):
    user = make_user(role, "36.01" if role == roles.OPERATOR_KAB_KOTA else "36")
    request = RequestFactory().post("/")
    request.user = user
    deletes = set()
    for label, model_admin in area_bound_admins().items():
        if model_admin.has_delete_permission(request):
            assert isinstance(model_admin, ScopedModelAdmin), label
            assert model_admin.delete_via_service is not None, label
            deletes.add(label)
        assert "delete_selected" not in model_admin.get_actions(request), label
    assert deletes == DELETED_BY_A_SERVICE


def test_a_district_operator_cannot_delete_a_paid_payment_in_the_admin(make_user):
    payment = PaymentFactory(
        enrolment=EnrolmentFactory(household=HouseholdFactory(desa_id=DESA_PANDEGLANG)),
        status="disalurkan", paid_on=datetime.date(2026, 6, 15), reference="TRX-1")
    client = client_for(make_user(roles.OPERATOR_KAB_KOTA, "36.01"))
    assert client.delete(f"/api/v1/jamsosratu/payments/{payment.pk}/").status_code == 405
    url = reverse("admin:jamsosratu_payment_delete", args=[payment.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_deleting_a_household_in_the_admin_goes_through_its_service(make_user):
    """The service records its members' leaving in the sync feed (the admin's own delete set
    their household to NULL without a change entry, so a district system kept them in it)."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    member = PersonFactory(desa_id=DESA_PANDEGLANG, household=household)
    last_change = Change.objects.filter(resource="pmks.person", object_id=member.pk).get().pk
    client = client_for(make_user(roles.OPERATOR_KAB_KOTA, "36.01"))
    answer = client.post(reverse("admin:pmks_household_delete", args=[household.pk]),
                         {"post": "yes"})
    assert answer.status_code == 302
    assert not Household.objects.filter(pk=household.pk).exists()
    member = Person.objects.get(pk=member.pk)
    assert member.household_id is None
    newest = Change.objects.filter(resource="pmks.person", object_id=member.pk).get()
    assert newest.pk > last_change
