"""The audit trail (django-auditlog): every door — admin, API (token), service call, command,
Celery task — writes LogEntry rows with the actor and ``additional_data["source"]``."""

import datetime
import json
import re
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client

from dinsos import roles
from dinsos.audit import audit_context, current_context
from dinsos.celery import app
from dinsos.models import Office, Wilayah
from dinsos.services import token_issue
from dinsos.validators import build_nik, build_no_kk, mask_identity_number
from pmks import services as pmks_services
from pmks.models import Household, Person
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for, postgres_only

pytestmark = pytest.mark.django_db

CREATE, UPDATE, DELETE, ACCESS = 0, 1, 2, 3
HOUSEHOLDS = "/api/v1/pmks/households/"


def entries_for(obj, action=None):
    qs = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk)
    ).order_by("id")
    if action is not None:
        qs = qs.filter(action=action)
    return list(qs)


def only_entry(obj, action):
    found = entries_for(obj, action)
    assert len(found) == 1, [(e.action, e.additional_data) for e in found]
    return found[0]


@pytest.fixture
def admin_user(make_user):
    return make_user(roles.ADMIN, is_superuser=True, username="admin_audit")


# --- (a) Django admin ------------------------------------------------------------------------


def test_admin_change_is_logged_with_actor_source_and_diff(admin_user):
    office = Office.objects.get(wilayah_id="36.01")
    assert office.address == ""
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/dinsos/office/{office.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "wilayah": "36.01",
        "name": office.name,
        "address": "Jl. Bhayangkara No. 1, Pandeglang",
        "head_name": "",
        "head_nip": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    office.refresh_from_db()
    assert office.address == "Jl. Bhayangkara No. 1, Pandeglang"

    entry = only_entry(office, UPDATE)
    assert entry.actor == admin_user
    assert entry.actor_email is None  # the factory user has no e-mail
    assert entry.additional_data["source"] == "admin"
    assert entry.changes == {"address": ["", "Jl. Bhayangkara No. 1, Pandeglang"]}
    assert entry.remote_addr == "127.0.0.1"


# --- (b) API with a knox token ---------------------------------------------------------------


def test_api_create_with_token_logs_the_token_user(pandeglang_operator):
    _token, key = token_issue(user=pandeglang_operator, days=30)
    no_kk = build_no_kk("36.01.01", datetime.date(2016, 4, 2), 77)
    client = Client()  # no session: the actor can only come from the token
    response = client.post(
        HOUSEHOLDS,
        data=json.dumps({"no_kk": no_kk, "address": "Kp. Sumur RT 1", "desa": DESA_PANDEGLANG}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 201, response.content
    household = Household.objects.get(no_kk=no_kk)
    assert response.json()["id"] == household.pk

    entry = only_entry(household, CREATE)
    assert entry.actor == pandeglang_operator
    assert entry.additional_data == {"source": "api"}
    assert entry.changes["address"] == [None, "Kp. Sumur RT 1"]
    assert entry.changes["desa"] == [None, DESA_PANDEGLANG]


def test_api_update_with_session_logs_actor_and_diff(pandeglang_operator, api_as):
    household = HouseholdFactory(address="Alamat Lama")
    response = api_as(pandeglang_operator).patch(
        f"{HOUSEHOLDS}{household.pk}/", {"address": "Alamat Baru"}, format="json"
    )
    assert response.status_code == 200, response.content
    entry = only_entry(household, UPDATE)
    assert entry.actor == pandeglang_operator
    assert entry.additional_data["source"] == "api"
    assert entry.changes == {"address": ["Alamat Lama", "Alamat Baru"]}


def test_api_delete_is_logged(pandeglang_operator, api_as):
    household = HouseholdFactory()
    response = api_as(pandeglang_operator).delete(f"{HOUSEHOLDS}{household.pk}/")
    assert response.status_code == 204
    entry = only_entry(household, DELETE)
    assert entry.actor == pandeglang_operator
    assert entry.additional_data["source"] == "api"


def test_anonymous_api_request_writes_nothing():
    before = LogEntry.objects.count()
    response = Client().post(HOUSEHOLDS, data="{}", content_type="application/json")
    assert response.status_code == 401
    assert LogEntry.objects.count() == before


# --- (c) service call inside audit_context ---------------------------------------------------


def test_service_call_in_audit_context(pandeglang_operator):
    no_kk = build_no_kk("36.01.01", datetime.date(2017, 5, 3), 12)
    with audit_context(source="command:x", actor=pandeglang_operator):
        household = pmks_services.household_create(
            actor=pandeglang_operator, no_kk=no_kk, address="Kp. Baru", desa_id=DESA_PANDEGLANG
        )
    entry = only_entry(household, CREATE)
    assert entry.actor == pandeglang_operator
    assert entry.additional_data == {"source": "command:x"}


def test_nested_context_inherits_and_overrides(pandeglang_operator):
    with audit_context(source="command:outer", actor=pandeglang_operator, batch="b1"):
        with audit_context(source="task:inner", run=7) as inner:
            assert inner.actor == pandeglang_operator
            office = Office.objects.get(wilayah_id="36.02")
            office.head_name = "Kepala Lebak"
            office.save()
        assert current_context().source == "command:outer"
    assert current_context() is None
    entry = only_entry(office, UPDATE)
    assert entry.actor == pandeglang_operator
    assert entry.additional_data == {"source": "task:inner", "batch": "b1", "run": 7}


def test_write_outside_any_context_has_no_source():
    office = Office.objects.get(wilayah_id="36.03")
    office.head_name = "Tanpa Konteks"
    office.save()
    entry = only_entry(office, UPDATE)
    assert entry.actor is None
    assert entry.additional_data is None


def test_group_membership_change_is_logged_as_m2m(make_user):
    from django.contrib.auth.models import Group

    user = make_user(None, "36.01")
    with audit_context(source="command:x"):
        user.groups.add(Group.objects.get(name="Auditor"))
    entry = [e for e in entries_for(user, UPDATE) if "groups" in (e.changes or {})][-1]
    assert entry.changes["groups"] == {"type": "m2m", "operation": "add",
                                       "objects": ["Auditor"]}
    assert entry.additional_data == {"source": "command:x"}


def test_web_login_writes_no_audit_noise(make_user):
    user = make_user(roles.AUDITOR)
    user.set_password("rahasia-sekali-123")
    user.save()
    before = LogEntry.objects.count()
    response = Client().post("/masuk/", {"username": user.username,
                                         "password": "rahasia-sekali-123"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    assert LogEntry.objects.count() == before  # last_login is excluded from the trail


# --- (d) management command ------------------------------------------------------------------


def test_management_command_creating_an_office_is_logged():
    Office.objects.filter(wilayah_id="36.74").delete()
    call_command("load_wilayah", stdout=StringIO())
    office = Office.objects.get(wilayah_id="36.74")
    entry = only_entry(office, CREATE)
    assert entry.additional_data == {"source": "command:load_wilayah"}
    assert entry.actor is None
    assert entry.changes["name"] == [None, "Dinas Sosial Kota Tangerang Selatan"]


def test_load_wilayah_restoring_a_renamed_wilayah_is_in_the_trail():
    """Regression: the bulk upsert sends no signals; its changes must still be audited."""
    Wilayah.objects.filter(kode="36.01.01.2001").update(nama="Salah Nama")
    call_command("load_wilayah", stdout=StringIO())
    entry = only_entry(Wilayah.objects.get(kode="36.01.01.2001"), UPDATE)
    assert entry.additional_data["source"] == "command:load_wilayah"
    assert entry.changes["nama"] == ["Salah Nama", "Sumberjaya"]


# --- (e) Celery task -------------------------------------------------------------------------


@app.task(bind=False, name="tests.audit.set_office_head")
def set_office_head(kode: str, head: str) -> str:
    office = Office.objects.get(wilayah_id=kode)
    office.head_name = head
    office.save()
    return current_context().source


def test_task_writes_are_logged_with_task_source():
    result = set_office_head.apply(args=["36.71", "Kepala Kota Tangerang"])
    assert result.successful()
    assert result.get() == "task:tests.audit.set_office_head"
    office = Office.objects.get(wilayah_id="36.71")
    assert office.head_name == "Kepala Kota Tangerang"
    entry = only_entry(office, UPDATE)
    assert entry.additional_data == {"source": "task:tests.audit.set_office_head"}
    assert entry.actor is None
    assert entry.changes == {"head_name": ["", "Kepala Kota Tangerang"]}


def test_task_delay_eager_uses_the_same_audited_base():
    assert set_office_head.delay("36.72", "Kepala Cilegon").get() == (
        "task:tests.audit.set_office_head"
    )
    entry = only_entry(Office.objects.get(wilayah_id="36.72"), UPDATE)
    assert entry.additional_data["source"] == "task:tests.audit.set_office_head"


# --- (f) identifiers are masked --------------------------------------------------------------


def test_nik_is_masked_in_changes(pandeglang_operator):
    nik = build_nik("36.01.01", datetime.date(1985, 8, 17), "L", 4321)
    with audit_context(source="command:x", actor=pandeglang_operator):
        person = pmks_services.person_register(
            actor=pandeglang_operator, nik=nik, name="Budi Santoso",
            birth_date=datetime.date(1985, 8, 17), sex="L", desa_id=DESA_PANDEGLANG,
        )
    entry = only_entry(person, CREATE)
    _old, new = entry.changes["nik"]
    assert new != nik
    assert len(new) == 16 and "*" in new
    assert nik not in json.dumps(entry.changes)
    assert nik not in entry.changes_text
    assert entry.changes["name"] == [None, "Budi Santoso"]


def test_nik_change_is_masked_on_both_sides(pandeglang_operator, api_as):
    person = PersonFactory(birth_date=datetime.date(1990, 1, 5), sex="L")
    old_nik = person.nik
    new_nik = build_nik("36.01.01", datetime.date(1990, 1, 5), "L", 9876)
    response = api_as(pandeglang_operator).patch(
        f"/api/v1/pmks/persons/{person.pk}/", {"nik": new_nik}, format="json"
    )
    assert response.status_code == 200, response.content
    entry = only_entry(person, UPDATE)
    dumped = json.dumps(entry.changes)
    assert old_nik not in dumped
    assert new_nik not in dumped
    assert "nik" in entry.changes


def test_no_kk_is_masked_in_changes():
    household = HouseholdFactory()
    entry = only_entry(household, CREATE)
    assert household.no_kk not in json.dumps(entry.changes)


def test_password_is_never_in_the_trail(make_user):
    user = make_user(roles.AUDITOR)
    user.set_password("rahasia-sekali-123")
    user.save()
    for entry in entries_for(user):
        assert "password" not in (entry.changes or {})
        assert user.password not in json.dumps(entry.changes)


def test_object_repr_masks_the_identifier():
    person = PersonFactory()
    household = HouseholdFactory()
    person_entry = only_entry(person, CREATE)
    household_entry = only_entry(household, CREATE)
    assert person.nik not in person_entry.object_repr
    assert person_entry.object_repr == f"{person.name} ({mask_identity_number(person.nik)})"
    assert household.no_kk not in household_entry.object_repr
    assert household_entry.object_repr == f"KK {mask_identity_number(household.no_kk)}"


def _visible_digits(*masked: str) -> str:
    merged = ["*"] * 16
    for value in masked:
        for i, char in enumerate(value):
            if char != "*":
                merged[i] = char
    return "".join(merged)


def test_full_nik_cannot_be_rebuilt_from_one_log_entry():
    """Regression: two different masks (auditlog's first-half mask in changes, the project's
    6+2 mask in object_repr) plus birth_date/sex in the same entry gave the whole NIK back."""
    person = PersonFactory(birth_date=datetime.date(1979, 11, 23), sex="P")
    entry = only_entry(person, CREATE)
    repr_masked = re.search(r"\(([0-9*]{16})\)", entry.object_repr).group(1)
    changes_masked = entry.changes["nik"][1]
    rebuilt = list(_visible_digits(repr_masked, changes_masked))
    birth = datetime.date.fromisoformat(entry.changes["birth_date"][1])
    day = birth.day + (40 if entry.changes["sex"][1] == "P" else 0)
    rebuilt[6:8] = f"{day:02d}"
    assert "".join(rebuilt) != person.nik
    # What the rest of the system shows (API for read-only roles, object_repr):
    assert changes_masked == mask_identity_number(person.nik)


# --- (g) reading a person is logged ----------------------------------------------------------


def test_person_detail_get_writes_an_access_entry(pandeglang_operator, api_as):
    person = PersonFactory()
    client = api_as(pandeglang_operator)
    assert entries_for(person, ACCESS) == []
    response = client.get(f"/api/v1/pmks/persons/{person.pk}/")
    assert response.status_code == 200
    entry = only_entry(person, ACCESS)
    assert entry.action == 3
    assert entry.actor == pandeglang_operator
    assert entry.additional_data == {"source": "api"}
    client.get(f"/api/v1/pmks/persons/{person.pk}/")
    assert len(entries_for(person, ACCESS)) == 2


def test_person_lookup_by_nik_writes_an_access_entry(pandeglang_operator, api_as):
    person = PersonFactory()
    response = api_as(pandeglang_operator).get(f"/api/v1/pmks/persons/by-nik/{person.nik}/")
    assert response.status_code == 200
    entry = only_entry(person, ACCESS)
    assert entry.actor == pandeglang_operator


def test_person_list_writes_no_access_entry(pandeglang_operator, api_as):
    person = PersonFactory()
    assert api_as(pandeglang_operator).get("/api/v1/pmks/persons/").status_code == 200
    assert entries_for(person, ACCESS) == []


def test_a_list_page_writes_one_read_entry_with_actor_source_address_and_rows(
        pandeglang_operator, api_as):
    """The read log of a list page (written without the ORM on PostgreSQL) holds what the
    ORM path holds: the actor and e-mail, the door, the client address and the rows shown."""
    pandeglang_operator.email = "operator@pandeglang.test"
    pandeglang_operator.save()
    shown = sorted(PersonFactory.create_batch(2), key=lambda p: (p.name, p.pk))
    response = api_as(pandeglang_operator).get("/api/v1/pmks/persons/", {"page_size": 1},
                                               REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    (entry,) = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Person),
                                       action=ACCESS, object_pk="")
    assert (entry.actor, entry.actor_email, entry.remote_addr) == (
        pandeglang_operator, "operator@pandeglang.test", "10.1.2.3")
    assert entry.object_repr == f"daftar {Person._meta.verbose_name_plural}"
    assert entry.additional_data == {"read": "daftar", "rows": [str(shown[0].pk)],
                                     "query": {}, "source": "api"}
    assert entry.timestamp is not None and entry.changes_text == "" and entry.object_id is None


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_read_log_in_autocommit_is_written_and_its_commit_setting_does_not_leak():
    """Outside a transaction (as in a request) the entry is its own transaction whose commit
    does not wait for the WAL flush; the next statements on the connection commit as before."""
    from django.db import connection

    from dinsos.audit import log_read

    with audit_context(source="api"):
        log_read(Person, what="daftar", pks=[7, 8])
    entry = LogEntry.objects.get(action=ACCESS, object_pk="")
    assert entry.additional_data == {"read": "daftar", "rows": ["7", "8"], "query": {},
                                     "source": "api"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_out_of_area_person_detail_writes_no_access_entry(lebak_operator, api_as):
    person = PersonFactory()
    assert api_as(lebak_operator).get(f"/api/v1/pmks/persons/{person.pk}/").status_code == 404
    assert entries_for(person, ACCESS) == []
    assert Person.objects.filter(pk=person.pk).exists()



# --- the query of a read entry keeps no whole identifier --------------------------------------


def test_read_entry_of_an_admin_search_masks_the_nik_searched(make_user):
    """Personal-data audit (December 2026): P8 — a changelist read logs
    ``log_read(query=request.GET.dict())``, and a search by a whole NIK (the only search a
    masked role may make) stored that NIK whole in the ACCESS entry's ``additional_data``.
    ``audit.log_read`` now masks every 15–16-digit run of the query (``masked_query``)."""
    person = PersonFactory()
    auditor = make_user(roles.AUDITOR)
    assert client_for(auditor).get("/admin/pmks/person/", {"q": person.nik}).status_code == 200
    entry = LogEntry.objects.filter(action=ACCESS).latest("pk")
    assert person.nik not in json.dumps(entry.additional_data), (
        "whole NIK stored in the audit trail's read entry")
    assert entry.additional_data["query"]["q"] == mask_identity_number(person.nik)


def test_read_entry_of_an_export_masks_the_nik_of_its_filter(pandeglang_operator, api_as):
    """Personal-data audit (December 2026): P8 — the API export logs
    ``query=request.query_params.dict()`` the same way: an export filtered by ``?q=<NIK>``
    stored the whole NIK in the ACCESS entry; now masked in ``log_read``, the one place every
    caller goes through."""
    person = PersonFactory()
    response = api_as(pandeglang_operator).get("/api/v1/pmks/persons/export/",
                                               {"fmt": "csv", "q": person.nik})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = LogEntry.objects.filter(action=ACCESS).latest("pk")
    assert person.nik not in json.dumps(entry.additional_data), (
        "whole NIK stored in the audit trail's export entry")
    assert entry.additional_data["query"] == {"fmt": "csv",
                                              "q": mask_identity_number(person.nik)}


def _api_viewsets():
    """Every viewset class routed under /api/ (from the URLconf)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None)
                if view is not None and getattr(pattern.callback, "actions", None):
                    yield view

    return {view for view in walk(get_resolver().url_patterns)
            if view.__module__.split(".")[-2:-1] == ["api"] or ".api." in view.__module__}


def _identifier_fields(serializer_class, seen=()) -> set[str]:
    """The identifier fields (NIK, No. KK, NPWP, account number) a serializer shows, nested
    serializers included."""
    from rest_framework import serializers

    from dinsos.scoping import IDENTIFIER_FIELDS

    if serializer_class in seen:
        return set()
    found = set()
    for name, field in serializer_class().fields.items():
        field = getattr(field, "child", field)
        if name in IDENTIFIER_FIELDS:
            found.add(name)
        if isinstance(field, serializers.BaseSerializer):
            found |= {f"{name}.{n}" for n in _identifier_fields(type(field),
                                                                (*seen, serializer_class))}
    return found


def test_every_api_list_showing_identifiers_logs_its_reads():
    """Personal-data audit (December 2026): the Jamsosratu enrolments and payments (whole
    account numbers, No. KK) were served by viewsets that did not log their reads, as the
    duplicates and the payout lines had not. Every routed API viewset whose answer carries an
    identifier logs its reads (``log_access``): its list pages, records, exports and feeds."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    missing, showing = {}, set()
    for view in _api_viewsets():
        serializers = set()
        for action in ("list", "retrieve"):
            instance = view(action=action, request=Request(APIRequestFactory().get("/")),
                            format_kwarg=None, kwargs={})
            try:
                serializers.add(instance.get_serializer_class())
            except (AssertionError, AttributeError):
                continue
        shown = set().union(*(_identifier_fields(s) for s in serializers)) if serializers else set()
        if shown:
            showing.add(view.__name__)
        if shown and not getattr(view, "log_access", False):
            missing[view.__name__] = sorted(shown)
    assert {"PersonViewSet", "HouseholdViewSet", "WorkerViewSet", "BankAccountViewSet",
            "DuplicateCandidateViewSet"} <= showing, showing
    assert not missing, missing
