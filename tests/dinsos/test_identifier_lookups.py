"""A masked identifier can't be read back through the admin list's URL lookups. Found by an
isolation review: as Auditor, ``/admin/pmks/person/?nik__startswith=36010365`` left 1 row of
50, so the hidden digits of a masked NIK could be guessed one by one by the row count (also
``__regex`` and account numbers). Every admin with an identifier field is enumerated."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from dinsos import roles
from dinsos.admin_base import masked_lookup
from dinsos.scoping import IDENTIFIER_FIELDS
from pmks.models import Person
from tests.dinsos.test_isolation import our_admins
from tests.factories import (
    DESA_PANDEGLANG,
    BankAccountFactory,
    EnrolmentFactory,
    HouseholdFactory,
    PaymentFactory,
    PayoutLineFactory,
    PersonFactory,
    WorkerFactory,
)
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def identifier_columns() -> list[tuple[str, str]]:
    """(model label, field) for every identifier field of a model our admin lists."""
    return sorted((model._meta.label, field.name) for model in our_admins()
                  for field in model._meta.concrete_fields if field.name in IDENTIFIER_FIELDS)


def changelist(label: str) -> str:
    app_label, name = label.lower().split(".")
    return reverse(f"admin:{app_label}_{name}_changelist")


#: One record of each model with an identifier (a new one must be added here: the test below
#: fails naming it).
MAKERS = {
    "pmks.Person": lambda: PersonFactory(desa_id=DESA_PANDEGLANG),
    "pmks.Household": lambda: HouseholdFactory(desa_id=DESA_PANDEGLANG),
    "psks.Worker": lambda: WorkerFactory(desa_id=DESA_PANDEGLANG, npwp="123456789012345"),
    "psks.BankAccount": lambda: BankAccountFactory(account_number="7000001012345"),
    "jamsosratu.Enrolment": lambda: EnrolmentFactory(account_number="0099123456789"),
    "jamsosratu.Payment": lambda: PaymentFactory(account_number="0098123456789"),
    "incentives.PayoutLine": lambda: PayoutLineFactory(account_number="0097123456789"),
}


def test_identifier_columns_are_found_and_each_has_a_record_maker():
    columns = identifier_columns()
    assert {("pmks.Person", "nik"), ("pmks.Household", "no_kk"),
            ("psks.BankAccount", "account_number")} <= set(columns)
    assert {label for label, _ in columns} <= set(MAKERS)


def stored_value(label: str, field: str) -> str:
    instance = MAKERS[label]()
    value = getattr(type(instance)._default_manager.get(pk=instance.pk), field)
    assert value, (label, field)
    return value


@pytest.mark.parametrize(("label", "field"), identifier_columns())
@pytest.mark.parametrize("lookup", ["startswith", "regex", "gte", "contains"])
def test_a_masked_identifier_refuses_a_partial_lookup(label, field, lookup, make_user):
    value = stored_value(label, field)
    client = client_for(make_user(roles.AUDITOR))
    answer = client.get(changelist(label), {f"{field}__{lookup}": value[:6]})
    assert answer.status_code == 400, (label, field, lookup)


@pytest.mark.parametrize(("label", "field"), identifier_columns())
def test_the_whole_number_still_finds_its_record(label, field, make_user):
    value = stored_value(label, field)
    client = client_for(make_user(roles.AUDITOR))
    answer = client.get(changelist(label), {field: value})
    assert answer.status_code == 200
    assert len(answer.context["cl"].result_list) == 1


def test_a_role_that_sees_identifiers_keeps_its_lookups(make_user):
    nik = stored_value("pmks.Person", "nik")
    client = client_for(make_user(roles.OPERATOR_PROVINSI))
    answer = client.get(reverse("admin:pmks_person_changelist"), {"nik__startswith": nik[:10]})
    assert answer.status_code == 200
    assert len(answer.context["cl"].result_list) == 1


def test_a_lookup_through_a_relation_is_asked_too(make_user):
    auditor = make_user(roles.AUDITOR)
    assert masked_lookup(Person, "household__no_kk__startswith", auditor)
    assert not masked_lookup(Person, "household__no_kk", auditor)
    assert not masked_lookup(Person, "name__startswith", auditor)


def test_the_list_read_records_its_filters(make_user):
    """The audit entry of a list read names what selected its rows (it stored ``{}``)."""
    client = client_for(make_user(roles.AUDITOR))
    client.get(reverse("admin:pmks_person_changelist"), {"sex": "P"})
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Person),
        action=LogEntry.Action.ACCESS).latest("pk")
    assert entry.additional_data["query"] == {"sex": "P"}


def test_the_api_orders_by_an_identifier_only_for_who_sees_it_whole(make_user, api_as):
    """Found by an isolation review: as Auditor, ``households/?ordering=no_kk`` was accepted —
    the order of masked numbers tells what the mask hides."""
    for _ in range(2):
        MAKERS["pmks.Household"]()
    url = "/api/v1/pmks/households/"
    refused = api_as(make_user(roles.AUDITOR)).get(url, {"ordering": "-no_kk"})
    assert refused.status_code == 400
    assert "no_kk" not in refused.json()["errors"]["ordering"][0].split("Pilihan:")[1]
    assert api_as(make_user(roles.OPERATOR_PROVINSI)).get(
        url, {"ordering": "-no_kk"}).status_code == 200


def test_auditor_household_list_is_sorted_by_the_hidden_no_kk(make_user, api_as):
    """Personal-data audit (December 2026): the API refused ``?ordering=no_kk`` to roles that
    see No. KK masked, yet the household list's DEFAULT ordering was ``no_kk`` for every role
    (``HouseholdViewSet.ordering``, ``Household.Meta``): households created so that id order
    differs from No. KK order came back to the Auditor in No. KK order, i.e. ordered by the
    digits the mask hides (registration date and serial). The ordering filter now leaves
    identifiers out of the default ordering for them (``scoping.ordering_as_seen``)."""
    import datetime

    from dinsos.validators import build_no_kk
    from pmks.models import Household

    kks = [build_no_kk(DESA_PANDEGLANG[:8], datetime.date(2015, month, 1), 7)
           for month in (9, 3, 6)]  # created: Sept, March, June
    for kk in kks:
        HouseholdFactory(no_kk=kk)
    auditor = make_user(roles.AUDITOR)
    client = api_as(auditor)
    assert client.get("/api/v1/pmks/households/", {"ordering": "no_kk"}).status_code == 400
    rows = client.get("/api/v1/pmks/households/").json()["results"]
    assert all("*" in r["no_kk"] for r in rows)  # masked, as the policy says
    order = [r["id"] for r in rows]
    by_hidden_digits = list(Household.objects.order_by("no_kk").values_list("pk", flat=True))
    by_id = sorted(order)
    assert by_id != by_hidden_digits  # the fixture can tell the two orders apart
    assert order != by_hidden_digits, "the masked role's list is ordered by the hidden No. KK"
    assert order == by_id
    operator = api_as(make_user(roles.OPERATOR_PROVINSI))
    assert [r["id"] for r in operator.get("/api/v1/pmks/households/").json()["results"]] == (
        by_hidden_digits)


def test_admin_lists_are_not_sorted_by_a_masked_identifier(rf, make_user):
    """Personal-data audit (December 2026): the admin's household changelist was sorted by
    ``Household.Meta.ordering`` (``no_kk``) for the Auditor too. Every admin of a model with
    an identifier now leaves it out of its default order for users who see it masked
    (``DinsosModelAdmin.get_ordering``) and keeps it for those who see it whole."""
    auditor, operator = make_user(roles.AUDITOR), make_user(roles.OPERATOR_PROVINSI)
    for model, model_admin in our_admins().items():
        request = rf.get("/")
        request.user = auditor
        ordering = model_admin.get_ordering(request) or model._meta.ordering
        named = [e.lstrip("-").split("__")[-1] for e in ordering if isinstance(e, str)]
        assert not set(named) & set(IDENTIFIER_FIELDS), (model._meta.label, ordering)
    request = rf.get("/")
    request.user = operator
    from pmks.models import Household

    household_admin = our_admins()[Household]
    assert list(household_admin.get_ordering(request) or Household._meta.ordering) == ["no_kk"]
    page = client_for(auditor).get(reverse("admin:pmks_household_changelist"))
    assert page.status_code == 200
    assert page.context["cl"].queryset.query.order_by[0] in ("id", "-pk", "pk", "-id")


def test_a_default_ordering_loses_only_the_identifiers_its_user_sees_masked(make_user):
    """``scoping.ordering_as_seen``, through relations too: ``id`` keeps the order whole."""
    from dinsos.scoping import ordering_as_seen

    auditor, operator = make_user(roles.AUDITOR), make_user(roles.OPERATOR_PROVINSI)
    ordering = ["-household__no_kk", "nik", "name"]
    assert ordering_as_seen(auditor, Person, ordering) == ["name", "id"]
    assert ordering_as_seen(operator, Person, ordering) == ordering
    assert ordering_as_seen(auditor, Person, ["name", "-id"]) == ["name", "-id"]
