"""The admin's reads of personal data, door by door: every registered ModelAdmin whose change
page or changelist shows a whole identifier (NIK, No. KK, NPWP, account number) of its records,
and every inline that lists one of its rows', writes an ACCESS entry naming them — as the API
(``test_audit.test_every_api_list_showing_identifiers_logs_its_reads``) and the staff pages do.
Walked from the admin site's registry, so a new admin or inline cannot escape it."""

import itertools

import factory
import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.forms.models import _get_foreign_key
from django.urls import reverse

from dinsos import roles
from dinsos.scoping import IDENTIFIER_FIELDS
from tests import factories
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

_accounts = itertools.count(770000000001)


def _identifiers(model) -> list[str]:
    return [f.name for f in model._meta.fields if f.name in IDENTIFIER_FIELDS]


def _factory_for(model):
    for value in vars(factories).values():
        if (isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory)
                and value._meta.model is not None
                and value._meta.get_model_class() is model):
            return value
    raise AssertionError(f"{model.__name__} shows identifiers in the admin: add its factory "
                         "to tests/factories.py so this walk can open its pages")


def _make(model, **kwargs):
    """A record of ``model`` with every account number filled (a distinct one each time);
    NIK and No. KK come from the factories."""
    accounts = {name: str(next(_accounts)) for name in _identifiers(model)
                if name == "account_number"}
    return _factory_for(model)(**accounts, **kwargs)


def _shown(obj, html: str) -> list[str]:
    """The identifiers of ``obj`` the page shows whole."""
    return [name for name in _identifiers(type(obj))
            if getattr(obj, name) and getattr(obj, name) in html]


def _read(obj) -> bool:
    """An ACCESS entry names ``obj``: its own read, or a list read naming its row."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj),
                                      action=LogEntry.Action.ACCESS)
    return any(e.object_pk == str(obj.pk)
               or str(obj.pk) in (e.additional_data or {}).get("rows", ()) for e in entries)


def _url(model, view, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_admin_page_showing_whole_identifiers_logs_its_reads(make_user):
    """Personal-data audit (December 2026): the payments' and payout lines' admin showed whole
    account numbers without an entry, and a household's change page listed its members' whole
    NIK (a worker's, its account numbers) where only the household (the worker) was logged."""
    client = client_for(make_user(roles.ADMIN, is_superuser=True))
    showing, missing = set(), {}
    for model, model_admin in admin.site._registry.items():
        name = type(model_admin).__name__
        if _identifiers(model):
            record = _make(model)
            for view, args in (("change", [record.pk]), ("changelist", [])):
                page = client.get(_url(model, view, *args))
                assert page.status_code == 200, (name, view, page.status_code)
                if shown := _shown(record, page.content.decode()):
                    showing.add(f"{name} {view}")
                    if not _read(record):
                        missing[f"{name} {view}"] = shown
        for inline in model_admin.inlines:
            if not _identifiers(inline.model):
                continue
            parent = _make(model)
            key = _get_foreign_key(model, inline.model, fk_name=inline.fk_name)
            row = _make(inline.model, **{key.name: parent})
            page = client.get(_url(model, "change", parent.pk))
            assert page.status_code == 200, (name, inline.__name__, page.status_code)
            if shown := _shown(row, page.content.decode()):
                showing.add(f"{name}.{inline.__name__}")
                if not _read(row):
                    missing[f"{name}.{inline.__name__}"] = shown
    assert {"PersonAdmin change", "HouseholdAdmin change", "WorkerAdmin change",
            "BankAccountAdmin changelist", "EnrolmentAdmin changelist", "PaymentAdmin change",
            "PayoutLineAdmin change", "HouseholdAdmin.PersonInline",
            "WorkerAdmin.BankAccountInline"} <= showing, sorted(showing)
    assert not missing, missing


def test_an_inline_writes_one_entry_naming_the_rows_it_lists(pandeglang_operator):
    """A household's members on its change page: ONE entry for all of them (not one INSERT
    per row), beside the household's own."""
    from pmks.models import Household, Person

    household = factories.HouseholdFactory()
    members = [factories.PersonFactory(household=household) for _ in range(3)]
    page = client_for(pandeglang_operator).get(_url(Household, "change", household.pk))
    assert page.status_code == 200 and members[0].nik in page.content.decode()
    [entry] = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Person),
                                      action=LogEntry.Action.ACCESS)
    assert sorted(entry.additional_data["rows"]) == sorted(str(m.pk) for m in members)
    assert _read(household)


def test_an_inline_shown_masked_is_still_a_read(make_user):
    """A role that sees a worker's account numbers masked still read the rows listed: the
    entry is written as for a whole number (as the API logs whatever the mask)."""
    from psks.models import BankAccount, Worker

    account = _make(BankAccount)
    viewer = make_user(roles.PIMPINAN)
    page = client_for(viewer).get(_url(Worker, "change", account.worker_id))
    assert page.status_code == 200
    assert account.account_number not in page.content.decode()
    assert account.account_number[-4:] in page.content.decode()
    assert _read(account)
