"""Issue #12 point 8, what an English browser and the admin still showed: dates typed month
first (``<input type="date">`` draws mm/dd/yyyy in an English Chromium), counts as ``6250``,
amounts as ``1000000,00``, a payout line's explanation as raw JSON, runs named ``2026-10
(Dihitung)``, and a 404 for /favicon.ico."""

import datetime
import importlib
import inspect
from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse

from dinsos import roles
from dinsos.admin_base import NOT_COUNTS, ReadableNumbersMixin, number_kind
from dinsos.forms import AdminTanggalWidget, BulanField, TanggalField, TanggalInput

PROJECT_APPS = ("dinsos", "pmks", "psks", "jamsosratu", "incentives")


# --- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["30/11/2026", "30-11-2026", "30.11.2026", "30112026",
                                   "2026-11-30", " 30/11/2026 "])
def test_a_date_is_read_day_first_or_iso(typed):
    assert TanggalField(label="tanggal kunjungan").clean(typed) == datetime.date(2026, 11, 30)


@pytest.mark.parametrize("typed", ["11/30/2026", "31/31/2026", "30 Nov 2026", "kemarin"])
def test_a_month_first_or_unreadable_date_is_refused_naming_the_field(typed):
    """Django's own Indonesian formats also read ``11/30/2026`` month first."""
    with pytest.raises(forms.ValidationError) as refused:
        TanggalField(label="tanggal kunjungan").clean(typed)
    assert refused.value.messages == [
        "Tanggal kunjungan: tanggal tidak dikenali. Tulis hari/bulan/tahun, misalnya 17/08/2026."]


def test_every_django_date_field_reads_day_first():
    """The formats (FORMAT_MODULE_PATH) hold for any DateField too: filters, third-party admin."""
    assert forms.DateField().clean("05/11/2026") == datetime.date(2026, 11, 5)
    with pytest.raises(forms.ValidationError):
        forms.DateField().clean("11/30/2026")


def test_the_date_input_is_text_shown_day_first_with_a_hint():
    html = TanggalInput().render("d", datetime.date(2026, 11, 30))
    assert 'type="text"' in html and 'value="30/11/2026"' in html
    assert 'placeholder="hh/bb/tttt"' in html and 'inputmode="numeric"' in html


def _form_classes():
    for label in PROJECT_APPS:
        try:
            module = importlib.import_module(f"{label}.forms")
        except ModuleNotFoundError:
            continue
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


@pytest.mark.parametrize("form_class", list(_form_classes()), ids=lambda c: c.__qualname__)
def test_every_staff_form_date_is_a_day_first_text_input(form_class):
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField):
            assert isinstance(field, TanggalField), name
            assert field.widget.input_type == "text", name


def test_no_template_draws_a_browser_date_picker():
    templates = Path(settings.BASE_DIR, "templates").rglob("*.html")
    assert [str(t) for t in templates if 'type="date"' in t.read_text()] == []


def _admins():
    for model, model_admin in admin.site._registry.items():
        yield model, model_admin
        for inline in model_admin.inlines:
            yield inline.model, inline(model, admin.site)


@pytest.mark.django_db
@pytest.mark.parametrize("model,model_admin", list(_admins()),
                         ids=lambda v: getattr(v, "__name__", type(v).__name__))
def test_every_admin_date_input_is_day_first(model, model_admin, make_user):
    request = RequestFactory().get("/")
    request.user = make_user(roles.ADMIN, is_superuser=True)
    for field in model._meta.concrete_fields:
        if type(field) is not models.DateField:
            continue
        formfield = model_admin.formfield_for_dbfield(field, request)
        html = formfield.widget.render(field.name, datetime.date(2026, 11, 30))
        if isinstance(formfield, BulanField):  # a month (a monthly report's "Bulan")
            assert 'value="11/2026"' in html, (model, field.name)
            continue
        assert 'value="30/11/2026"' in html, (model, field.name)
        if isinstance(model_admin, ReadableNumbersMixin):  # the project's admins
            assert isinstance(formfield, TanggalField), (model, field.name)
            assert isinstance(formfield.widget, AdminTanggalWidget), (model, field.name)


@pytest.mark.django_db
def test_admin_person_form_takes_a_day_first_birth_date(make_user):
    from tests.factories import PersonFactory

    person = PersonFactory(birth_date=datetime.date(1980, 8, 17))
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:pmks_person_change", args=[person.pk])).content.decode()
    assert 'value="17/08/1980"' in page and 'placeholder="hh/bb/tttt"' in page


# --- numbers -----------------------------------------------------------------------------------

def _number_fields():
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.IntegerField | models.DecimalField | models.FloatField):
                    yield field


@pytest.mark.parametrize("field", list(_number_fields()),
                         ids=lambda f: f"{f.model.__name__}.{f.name}")
def test_every_number_field_has_one_way_of_being_shown(field):
    """A money field reads Rp1.500.000, a count 6.250, a year, key or code stays as it is."""
    kind = number_kind(field)
    if field.primary_key or field.name in NOT_COUNTS:
        assert kind is None
    elif isinstance(field, models.DecimalField) and field.decimal_places == 2:
        assert kind == "rupiah" and field.max_digits == 15
    else:
        assert kind == "angka"


@pytest.mark.django_db
def test_admin_shows_counts_grouped_amounts_in_rupiah_and_years_plain(make_user):
    from tests.factories import cycle_with_tranches

    cycle = cycle_with_tranches(2026, "1750000", quota=6250)
    admin_client = Client()
    admin_client.force_login(make_user(roles.ADMIN, is_superuser=True))
    listed = admin_client.get(reverse("admin:jamsosratu_cycle_changelist")).content.decode()
    assert f">{cycle.year}<" in listed and f"{cycle.year:,}".replace(",", ".") not in listed
    assert "Rp1.750.000" in listed and "1750000,00" not in listed
    # the admin edits the quota: the input keeps the plain number
    change = reverse("admin:jamsosratu_cycle_change", args=[cycle.pk])
    edited = admin_client.get(change).content.decode()
    assert 'value="6250"' in edited
    # a reader sees it grouped
    reader = Client()
    reader.force_login(make_user(roles.AUDITOR))
    shown = reader.get(change).content.decode()
    assert "6.250" in shown and ">6250<" not in shown and 'value="6250"' not in shown
    assert f">{cycle.year}<" in shown


# --- runs and lines ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_run_is_named_by_its_month_in_indonesian_and_its_status(make_user):
    from incentives import services as payouts
    from incentives.models import PayoutRun
    from tests.incentives.factories import OCT, tksk

    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    assert str(run) == "Oktober 2026 — Dihitung"
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:incentives_payoutrun_change", args=[run.pk])).content.decode()
    assert "<title>Oktober 2026 — Dihitung |" in page and "2026-10" not in page
    lines = client.get(reverse("admin:incentives_payoutline_changelist")).content.decode()
    assert "Oktober 2026 — Dihitung" in lines  # the run filter's choices
    assert '<td class="field-bulan">Oktober 2026</td>' in lines  # the month a line pays
    line = run.lines.first()
    line_page = client.get(reverse("admin:incentives_payoutline_change", args=[line.pk])
                           ).content.decode()
    paid = line_page[line_page.index("Periode yang dibayar"):]
    assert paid[:paid.index("</div>") + 6].endswith('<div class="readonly">Oktober 2026</div>')
    assert "1 Oktober 2026</div>" not in line_page
    runs = client.get(reverse("admin:incentives_payoutrun_changelist")).content.decode()
    assert "Oktober 2026</a>" in runs and "1 Oktober 2026" not in runs  # a month, not its day 1
    assert PayoutRun.objects.count() == 1


@pytest.mark.django_db
def test_a_payout_line_explains_its_amount_in_an_indonesian_table(make_user):
    from incentives import services as payouts
    from tests.incentives.factories import OCT, tksk

    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    line = run.lines.exclude(explanation={}).filter(explanation__has_key="parts").first()
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:incentives_payoutline_change", args=[line.pk])
                      ).content.decode()
    why = page[page.index("Mengapa nilai ini"):]
    why = why[:why.index("</table>\n") if "</table>\n" in why else len(why)]
    assert "<pre>" not in page and '"parts"' not in page and "tax_rule" not in page
    for label in ("tarif", "periode yang dihitung", "rincian per tarif", "hari aktif",
                  "1 Oktober 2026 – 31 Oktober 2026", "PPh 21"):
        assert label in why, label
    part = line.explanation["parts"][0]
    from dinsos.money import format_rupiah

    assert format_rupiah(part["amount"]) in why
    # the line's own amounts
    assert format_rupiah(line.net_amount) in page and f"{line.net_amount}".replace(".", ",") \
        not in page


@pytest.mark.parametrize("explanation,shown", [
    ({"hold_reasons": ["tanpa_rekening"]}, "Belum ada rekening terverifikasi"),
    ({"balance": "-150000.00", "carried": "150000.00", "rule": "x"}, "-Rp150.000"),
    ({"carried_period": "2026-09", "amount": "Rp100.000"}, "September 2026"),
])
def test_explanation_keys_are_shown_by_their_meaning(explanation, shown, db):
    from incentives.admin import explanation_table

    html = explanation_table(explanation)
    assert shown in html and "_" not in html.replace("&#x27;", "")


# --- the icon -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_favicon_is_served_and_named_by_the_admin(make_user):
    client = Client()
    assert client.get("/favicon.ico").status_code == 200
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    assert 'rel="icon"' in client.get("/admin/").content.decode()
    assert 'rel="icon"' in client.get("/").content.decode()


def test_decimal_amounts_are_never_floats():
    from dinsos.admin_base import show_number

    assert show_number(Decimal("1500000.00"), "rupiah") == "Rp1.500.000"
    assert show_number(6250, "angka") == "6.250"
    assert show_number(Decimal("0.9667"), "angka") == "0,9667"
    assert show_number(None, "angka") == "—"


# --- names of records (admin titles, breadcrumbs, inline rows, the audit trail's names) ---------

def _named_records():
    from dinsos.models import ImportBatch, Wilayah
    from jamsosratu.models import Cycle, EnrolmentTransition, Quota
    from pmks.models import CaseTransition, Service, ServiceType
    from psks.models import ActivityReport, Meeting, Worker

    kecamatan = Wilayah(kode="36.01.01", nama="Sumur")
    worker = Worker(name="Usep Firdaus")
    yield CaseTransition(from_status="dalam_penanganan", to_status="selesai"), \
        "Dalam penanganan → Selesai"
    yield CaseTransition(to_status="teridentifikasi"), "— → Teridentifikasi"
    yield EnrolmentTransition(from_status="calon", to_status="terverifikasi"), None
    yield Service(service_type=ServiceType(name="Rehabilitasi sosial dalam panti"),
                  start_date=datetime.date(2026, 10, 21)), \
        "Rehabilitasi sosial dalam panti (21 Oktober 2026)"
    yield ActivityReport(worker=worker, period=datetime.date(2026, 9, 1)), \
        "Usep Firdaus September 2026"
    yield Meeting(kecamatan=kecamatan, date=datetime.date(2026, 9, 15), type="rakor"), None
    yield Quota(cycle=Cycle(year=2026), kab_kota=Wilayah(kode="36.01", nama="Kabupaten "
                                                          "Pandeglang"), quota=6250), \
        "2026 Kabupaten Pandeglang: 6.250"
    yield ImportBatch(kind="pmks_keluarga", filename="a.csv", status="gagal"), None


@pytest.mark.parametrize("record,expected", list(_named_records()),
                         ids=lambda v: type(v).__name__ if not isinstance(v, str | None) else "")
def test_records_are_named_without_codes_or_iso_dates(record, expected):
    import re

    name = str(record)
    assert not re.search(r"\d{4}-\d{2}", name), name
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", name), name
    if expected is not None:
        assert name == expected


@pytest.mark.django_db
def test_an_audit_entry_is_read_as_its_readable_row_not_a_raw_form(make_user):
    """Its change page showed "Action: update", "Actor", raw JSON and ISO timestamps."""
    from auditlog.models import LogEntry

    from tests.factories import PersonFactory

    PersonFactory()
    entry = LogEntry.objects.order_by("-pk").first()
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    for view in ("change", "history"):
        response = client.get(reverse(f"admin:auditlog_logentry_{view}", args=[entry.pk]))
        listed = reverse("admin:auditlog_logentry_changelist")
        assert response.status_code == 302 and response.url == f"{listed}?id__exact={entry.pk}"
    page = client.get(response.url)
    assert page.status_code == 200 and list(page.context["cl"].result_list) == [entry]
    html = page.content.decode()
    assert "dibuat" in html and "Actor" not in html and '"changes"' not in html


@pytest.mark.django_db
def test_cycle_conditions_and_payment_explanation_read_by_their_labels(make_user):
    """Were a JSON list of codes (``["hamil_nifas", …]``) and a payment's raw JSON."""
    from dinsos.admin_base import json_table
    from jamsosratu.admin import PAYMENT_EXPLANATION
    from tests.factories import cycle_with_tranches

    cycle = cycle_with_tranches(2026, "1750000")
    change = reverse("admin:jamsosratu_cycle_change", args=[cycle.pk])
    admin_client = Client()
    admin_client.force_login(make_user(roles.ADMIN, is_superuser=True))
    edited = admin_client.get(change).content.decode()
    assert 'type="checkbox" name="qualifying_conditions" value="hamil_nifas"' in edited
    assert "Ibu hamil/nifas" in edited and '["hamil_nifas"' not in edited
    reader = Client()
    reader.force_login(make_user(roles.AUDITOR))
    shown = reader.get(change).content.decode()
    assert "Ibu hamil/nifas, Anak balita" in shown and "hamil_nifas" not in shown

    table = json_table({"benefit": "1750000.00", "tranche_amount": "875000", "met": 4,
                        "unmet": 1, "unmet_ratio": "0.2500", "factor": "0.75",
                        "rule": "dikurangi"}, PAYMENT_EXPLANATION)
    for text in ("Rp1.750.000", "Rp875.000", "25 %", "75 %", "Dikurangi", "nilai tahap"):
        assert text in table, text
    assert "_" not in table


@pytest.mark.django_db
def test_admin_list_counts_its_rows_grouped(make_user):
    from dinsos.models import Wilayah

    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:dinsos_wilayah_changelist")).content.decode()
    count = Wilayah.objects.count()
    assert count >= 1000
    assert f"{count:,} wilayah".replace(",", ".") in page and f"{count} wilayah" not in page


@pytest.mark.django_db
def test_scheduled_tasks_admin_is_indonesian(make_user):
    """django-celery-beat ships no Indonesian: "Periodic Tasks", "periodic task"."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    index = client.get("/admin/").content.decode()
    assert "Tugas Terjadwal" in index and "Periodic Tasks" not in index
    listed = client.get(reverse("admin:django_celery_beat_periodictask_changelist")
                        ).content.decode()
    assert "Pilih tugas terjadwal untuk diubah" in listed and "periodic task" not in listed


@pytest.mark.django_db
def test_staff_cycle_pages_show_quotas_grouped_and_keep_attributes_plain(province_operator):
    """The quota read ``6250``; a <meter>'s max must stay a plain number (6.250 is 6,25)."""
    from tests.factories import cycle_with_tranches

    cycle_with_tranches(2026, "1750000", quota=6250)
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(province_operator)
    page = client.get(reverse("jamsosratu:cycle-detail", args=[2026])).content.decode()
    assert 'class="num">6.250</td>' in page and ">6250<" not in page
    assert 'max="6250"' in page and "dari 6.250" in page
    assert "/siklus/2026/" in page and "2.026" not in page
    coverage = client.get(reverse("jamsosratu:coverage", args=[2026]))
    assert coverage.status_code == 200 and ">6250<" not in coverage.content.decode()


@pytest.mark.django_db
def test_admin_search_counts_are_grouped(make_user):
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:dinsos_wilayah_changelist"), {"q": "3"}).content.decode()
    shown = page[page.index('class="small quiet"'):][:200]
    assert "buah" in shown and not __import__("re").search(r"\d{4} buah", shown), shown


@pytest.mark.parametrize("typed", ["11/2026", "11-2026", "11.2026", "2026-11", " 11/2026"])
def test_a_month_is_typed_month_slash_year_or_iso(typed):
    """The compute form's <input type="month"> read "October 2026" in an English browser."""
    from dinsos.forms import BulanField

    assert BulanField(label="Bulan").clean(typed) == datetime.date(2026, 11, 1)


def test_a_wrong_month_is_refused_naming_the_field_and_the_input_shows_it_month_first():
    from dinsos.forms import BulanField, BulanInput
    from incentives.forms import ComputeForm

    with pytest.raises(forms.ValidationError) as refused:
        BulanField(label="Bulan").clean("13/2026")
    assert refused.value.messages == [
        "Bulan: bulan tidak dikenali. Tulis bulan/tahun, misalnya 11/2026."]
    html = BulanInput().render("period", "2026-11")
    assert 'type="text"' in html and 'value="11/2026"' in html and "bb/tttt" in html
    assert isinstance(ComputeForm.base_fields["period"], BulanField)


@pytest.mark.django_db
def test_a_users_history_page_reads_its_audit_trail(make_user):
    """Said "Objek ini tidak memiliki riwayat perubahan" while the audit log had entries."""
    from auditlog.models import LogEntry

    officer = make_user(roles.OPERATOR_PROVINSI)
    officer.first_name = "Siti"
    officer.save()
    assert LogEntry.objects.get_for_object(officer).exists()
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:dinsos_user_history", args=[officer.pk])).content.decode()
    assert "tidak memiliki riwayat" not in page and "Siti" in page and "diubah" in page
