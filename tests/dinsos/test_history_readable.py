"""Issue #12: the admin's audit-log list, its per-record audit-log page and Django's history
page are readable — Indonesian, who / when / which field by its label / old → new with choice
labels, identifiers masked — through the one formatter of the person page's "Riwayat"
(``dinsos.selectors.describe_entries``)."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from dinsos import roles
from dinsos.validators import mask_nik
from incentives import services as payouts
from pmks.models import Case
from tests.factories import DESA_LEBAK, HouseholdFactory, PersonFactory
from tests.incentives.factories import OCT, tksk
from tests.pmks.factories import CaseFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2026, 11, 30, 14, 5, tzinfo=ZoneInfo("Asia/Jakarta"))
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
INTERNALS = ("pmks.Case.None", "pmks.Person.None", "None", "apbd_provinsi", "dibayarkan",
             "pasangan", "sd", "Audit log", "create", "update", "system")


@pytest.fixture
def admin_client(make_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.force_login(make_user(roles.ADMIN, is_superuser=True, first_name="Rina",
                                 last_name="Admin"))
    return client


@pytest.fixture
def person(make_user):
    operator = make_user(roles.OPERATOR_PROVINSI, first_name="Dedi", last_name="Operator")
    from dinsos.audit import audit_context

    with time_machine.travel(MOMENT, tick=False), audit_context(source="web", actor=operator):
        person = PersonFactory(name="Siti Aminah", relationship="pasangan", schooling="sd")
        person.schooling, person.relationship = "sma", "anak"
        person.save()
    return person


def words(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def assert_readable(html: str) -> None:
    text = words(html)
    for internal in INTERNALS:
        assert not re.search(rf"(?<![\w.]){re.escape(internal)}(?![\w.])", text), internal
    assert not ISO.search(text), ISO.search(text).group()


def test_audit_log_page_of_a_record_is_indonesian_and_readable(admin_client, person):
    html = admin_client.get(reverse("admin:pmks_person_auditlog", args=[person.pk])
                            ).content.decode()
    assert "Riwayat" in html
    assert "30 November 2026 14.05" in html
    assert "Dedi Operator" in html and "halaman staf" in html
    assert "Pendidikan</strong>: SD/sederajat → SMA/sederajat" in html
    assert "Hubungan dengan kepala keluarga</strong>: Suami/istri → Anak" in html
    assert mask_nik(person.nik) in html and person.nik not in html
    assert_readable(html[html.index('id="content-main"'):])


def test_django_history_page_shows_the_same_readable_trail(admin_client, person):
    html = admin_client.get(reverse("admin:pmks_person_history", args=[person.pk])
                            ).content.decode()
    assert "Pendidikan</strong>: SD/sederajat → SMA/sederajat" in html
    assert_readable(html[html.index('id="content-main"'):])


def test_person_page_history_uses_the_same_formatter(person, make_user):
    client = Client()
    client.force_login(make_user(roles.OPERATOR_PROVINSI))
    html = client.get(reverse("pmks:person-detail", args=[person.pk])).content.decode()
    history = html[html.index('id="riwayat"'):]
    assert "Pendidikan: SD/sederajat → SMA/sederajat" in history
    assert "30 November 2026 14.05" in history
    assert_readable(history)


def test_audit_log_list_names_fields_and_labels_not_codes(admin_client, make_user):
    tksk()
    with time_machine.travel(MOMENT, tick=False):
        run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
        case = CaseFactory(status="dalam_penanganan")
        case.status = "selesai"
        case.save()
    html = admin_client.get(reverse("admin:auditlog_logentry_changelist")).content.decode()
    body = html[html.index('id="changelist"'):]
    assert "Jejak audit" in html
    assert "Status</strong>: Dalam penanganan → Selesai" in body
    assert "Rincian pagu</strong>: diperbarui" in body  # the JSON summary, no codes inside
    assert f"/admin/incentives/payoutrun/{run.pk}/auditlog/" in body
    assert_readable(body[:body.index('id="changelist-filter"')])
    assert Case.objects.filter(pk=case.pk, status="selesai").exists()


def test_changelists_link_the_history_in_indonesian(admin_client, person):
    html = admin_client.get(reverse("admin:pmks_person_changelist")).content.decode()
    assert ">Riwayat<" in html or "Riwayat</a>" in html
    assert ">Lihat</a>" in html and "Audit log" not in html


def test_a_related_record_outside_the_viewers_area_is_not_named(pandeglang_operator):
    from auditlog.models import LogEntry

    from dinsos.selectors import describe_entries

    lebak = HouseholdFactory(desa_id=DESA_LEBAK)
    own = PersonFactory()
    entry = LogEntry.objects.get_for_object(own).first()
    entry.changes = {"household": [None, str(lebak.pk)]}
    shown = describe_entries([entry], user=pandeglang_operator)[0]["changes"]
    assert shown == [{"field": "Keluarga", "old": "—", "new": f"#{lebak.pk}",
                      "text": f"#{lebak.pk}"}]
