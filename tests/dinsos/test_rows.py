"""Issue #11: list pages are turned into JSON through ``dinsos.api.rows`` (a plan per serializer
class) instead of DRF's per-row field machinery — and must give exactly DRF's output, masking
and scope included. Every list endpoint of the coverage map is read by every role both ways."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework import serializers

from dinsos import roles
from dinsos.api.rows import RowPlan
from dinsos.api.serializers import PlannedListSerializer
from pmks.api.serializers import (
    DuplicateCandidateSerializer,
    HouseholdSerializer,
    PersonSerializer,
)
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.scoped_endpoints import OTHER_ENDPOINTS, SCOPED_ENDPOINTS

pytestmark = pytest.mark.django_db

#: whole identifiers (province operator), masked ones (auditor, keuangan), a district's rows
ROLE_AREAS = [(roles.OPERATOR_PROVINSI, "36"), (roles.AUDITOR, "36"), (roles.KEUANGAN, "36"),
              (roles.OPERATOR_KAB_KOTA, "36.01")]


def _drf(self, data):
    return serializers.ListSerializer.to_representation(self, data)


def _body(client, url):
    response = client.get(url)
    return response.status_code, json.loads(response.content) if response.content else None


@pytest.fixture
def objects(db):
    for name, make in SCOPED_ENDPOINTS.items():
        for desa in (DESA_PANDEGLANG, DESA_LEBAK):
            make(desa)
        if name == "pmks-api:person":
            PersonFactory(desa_id=DESA_PANDEGLANG, nik=None)  # an infant without NIK


@pytest.mark.parametrize(("role", "area"), ROLE_AREAS)
def test_every_list_gives_drf_output(objects, make_user, monkeypatch, role, area):
    client = Client()
    client.force_login(make_user(role, area))
    compared = 0
    for name in [*SCOPED_ENDPOINTS, *OTHER_ENDPOINTS]:
        try:
            url = reverse(f"{name}-list")
        except Exception:  # noqa: BLE001 - endpoints without a list route
            continue
        planned = _body(client, url)
        with monkeypatch.context() as patch:
            patch.setattr(PlannedListSerializer, "rows", _drf)
            plain = _body(client, url)
        assert planned == plain, name
        compared += planned[0] == 200 and bool(planned[1])
    assert compared >= 5  # the lists were really read, not only refused


def test_masking_follows_the_policy_per_request(make_user):
    """The plan is per class; whether identifiers are whole is asked per request."""
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    bodies = {}
    for role in (roles.OPERATOR_PROVINSI, roles.AUDITOR):
        client = Client()
        client.force_login(make_user(role))
        bodies[role] = client.get(reverse("pmks-api:person-list")).json()["results"][0]["nik"]
    assert bodies[roles.OPERATOR_PROVINSI] == person.nik
    assert bodies[roles.AUDITOR] == f"{person.nik[:6]}********{person.nik[-2:]}"


def test_person_and_household_lists_need_no_drf_field():
    for serializer_class in (PersonSerializer, HouseholdSerializer):
        plan = RowPlan.of(serializer_class)
        assert plan is not None and not plan.needs_fields, serializer_class


def test_a_serializer_with_its_own_representation_is_left_to_drf():
    class Custom(PersonSerializer):
        def to_representation(self, instance):
            return {"x": instance.pk}

    assert RowPlan.of(Custom) is None
    person = PersonFactory(desa_id=DESA_PANDEGLANG)
    assert Custom([person], many=True).data == [{"x": person.pk}]


def test_list_request_queries_do_not_grow_with_rows(make_user, django_assert_max_num_queries):
    client = Client()
    client.force_login(make_user(roles.AUDITOR))
    for _i in range(30):
        HouseholdFactory(desa_id=DESA_PANDEGLANG)
    client.get(reverse("pmks-api:household-list"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("pmks-api:household-list")).status_code == 200


def test_columns_across_relations_are_read_without_drf_and_agree_with_it(make_user,
                                                                          monkeypatch):
    """A column across a relation (``reviewed_by.username`` of a duplicate pair) is read by
    the plan (no DRF get_attribute per row); a household's ``head_name`` and ``desa_nama`` and a
    person's ``desa_nama`` come from the list's annotations (method fields,
    ``pmks.selectors.read_name``), and a household without a head gives ``head_name: null`` as
    DRF does."""
    headless = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    headed = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    headed.head = PersonFactory(household=headed, desa_id=DESA_PANDEGLANG, name="Kepala Satu")
    headed.save()
    steps = {name: getter for kind, name, getter, _c
             in RowPlan.of(DuplicateCandidateSerializer).steps if kind == "plain"}
    assert not hasattr(steps["reviewed_by"], "__self__")  # not a DRF field's bound method
    kinds = {name: kind for kind, name, _g, _c in RowPlan.of(HouseholdSerializer).steps}
    assert (kinds["head_name"], kinds["desa_nama"]) == ("method", "method")
    kinds = {name: kind for kind, name, _g, _c in RowPlan.of(PersonSerializer).steps}
    assert kinds["desa_nama"] == "method"
    client = Client()
    client.force_login(make_user(roles.OPERATOR_PROVINSI))
    url = reverse("pmks-api:household-list")
    planned = _body(client, url)
    with monkeypatch.context() as patch:
        patch.setattr(PlannedListSerializer, "rows", _drf)
        assert _body(client, url) == planned
    names = {row["id"]: row["head_name"] for row in planned[1]["results"]}
    assert (names[headless.pk], names[headed.pk]) == (None, "Kepala Satu")
