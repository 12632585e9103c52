"""Issue #12 point 8: Bahasa Indonesia whatever the browser says, Indonesian labels on every
field, amounts and dates the Indonesian way; and the import result page of the admin."""

import datetime
from decimal import Decimal
from html import unescape

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from dinsos import roles
from dinsos.models import ImportBatch

PROJECT_APPS = ("dinsos", "pmks", "psks", "jamsosratu", "incentives")


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "en", "fr-FR,en;q=0.5"])
def test_admin_stays_indonesian_for_an_english_browser(make_user, accept):
    client = Client(HTTP_ACCEPT_LANGUAGE=accept)
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get("/admin/").content.decode()
    assert 'lang="id"' in page
    assert "Keluar" in page and "Log out" not in page
    assert "Data Induk dan Pengguna" in page  # the kernel's group, no longer "Kernel Dinas Sosial"


def _models():
    for label in PROJECT_APPS:
        yield from apps.get_app_config(label).get_models()


@pytest.mark.parametrize("model", list(_models()), ids=lambda m: m._meta.label)
def test_every_field_and_model_has_an_explicit_indonesian_label(model):
    """A label Django derives from the English attribute name ("cancelled by", "person a")
    would show in the admin and the pages: every field names its verbose_name."""
    assert "verbose_name" in model._meta.original_attrs, model._meta.label
    missing = [
        f.name for f in model._meta.get_fields()
        if f.concrete and not f.auto_created and f._verbose_name is None
    ]
    assert missing == []


def test_formatting_filters():
    rendered = Template(
        "{% load dinsos_format %}{{ a|rupiah }}|{{ d|tanggal }}|{{ m|bulan }}|{{ t|waktu }}"
    ).render(Context({
        "a": Decimal("1500000.00"), "d": datetime.date(2026, 11, 30),
        "m": datetime.date(2026, 2, 1),
        "t": datetime.datetime(2026, 11, 30, 7, 5, tzinfo=datetime.UTC),
    }))
    assert rendered == "Rp1.500.000|30 November 2026|Februari 2026|30 November 2026 14.05 WIB"


@pytest.mark.django_db
def test_import_result_page_of_the_admin_opens(make_user, settings, tmp_path):
    """Was a 500 (KeyError 'kind' in ImportUploadForm) for every user."""
    settings.MEDIA_ROOT = tmp_path
    user = make_user(roles.OPERATOR_PROVINSI)
    batch = ImportBatch.objects.create(
        kind="pmks_keluarga", filename="a.csv", sha256="0" * 64, dry_run=True, area_id="36",
        created_by=user, file=SimpleUploadedFile("a.csv", b"x"), status="gagal",
        errors=[{"row": 2, "column": "nik", "message": "NIK harus 16 angka."}],
    )
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:dinsos_importbatch_change", args=[batch.pk]))
    assert response.status_code == 200
    assert "NIK harus 16 angka." in response.content.decode()


@pytest.mark.django_db
def test_admin_run_page_starts_with_the_summary_and_shows_labels_not_codes(make_user):
    """Was: totals after 14 mostly empty fields, "Rincian pagu" raw JSON, codes
    (`apbd_provinsi`, `dibayarkan`) in the summary and reports named `nominatif-pdf`."""
    from incentives import services as payouts
    from incentives.models import BudgetCeiling
    from tests.incentives.factories import OCT, tksk

    BudgetCeiling.objects.create(year=2026, component="insentif",
                                 funding_source="apbd_provinsi", amount=500_000)
    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    html = client.get(reverse("admin:incentives_payoutrun_change", args=[run.pk])
                      ).content.decode()
    form = html[html.index('id="payoutrun_form"'):]
    assert "APBD Provinsi" in form and "Dapat dibayar" in form and "Rp500.000" in form
    assert "Daftar Nominatif (PDF, DRAF — belum disetujui)" in form
    for code in ("apbd_provinsi", "dibayarkan", "funding_source", ">nominatif-pdf<"):
        assert code not in form, code
    assert form.index("Ringkasan") < form.index("Dihitung oleh")


@pytest.mark.django_db
def test_admin_run_page_links_its_lines_instead_of_listing_them_inline(make_user):
    """Was 57,727 px tall: every line of the run inline."""
    from incentives import services as payouts
    from tests.incentives.factories import OCT, tksk

    for _n in range(3):
        tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    html = client.get(reverse("admin:incentives_payoutrun_change", args=[run.pk])
                      ).content.decode()
    assert "payoutline_set" not in html and "lines-TOTAL_FORMS" not in html
    count = run.lines.count()
    assert f"?run__id__exact={run.pk}" in html and f"{count} baris pembayaran" in html
    listed = client.get(reverse("admin:incentives_payoutline_changelist"),
                        {"run__id__exact": run.pk})
    assert listed.status_code == 200 and len(listed.context["cl"].result_list) == count


@pytest.mark.django_db
def test_a_form_sent_with_a_stale_token_gets_the_apps_indonesian_page(pandeglang_operator,
                                                                      settings):
    """The language audit: a form sent after its CSRF token went stale (the officer logged in
    again in another tab, or the session ended) got Django's bare page - an English
    "403 Forbidden", a developer's hint ("Informasi lebih lanjut tersedia dengan DEBUG=True"),
    no way back. templates/403_csrf.html is now the app's page: the form expired, nothing was
    saved, reload and send again, back to Beranda."""
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(pandeglang_operator)
    response = client.post(reverse("pmks:person-create"), {"name": "Siti"})
    assert response.status_code == 403
    page = response.content.decode()
    for text in ("Formulir sudah kedaluwarsa", "Tidak ada yang disimpan.",
                 "Muat ulang", "Kembali ke Beranda", 'lang="id"',
                 'href="/pmks/orang/baru/"'):
        assert text in page, text
    for text in ("Forbidden", "DEBUG", "CSRF", "Referer", "cookie"):
        assert text not in page, text


@pytest.mark.django_db
def test_a_stale_logout_is_not_offered_a_reload_that_answers_405(pandeglang_operator, settings):
    """Review: the page's "Muat ulang formulir" link is the address the form was sent to; for
    Keluar (POST only) that link answered 405. That page offers Beranda only."""
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    client.force_login(pandeglang_operator)
    page = client.post(reverse("logout")).content.decode()
    assert "Kembali ke Beranda" in page
    assert "Muat ulang formulir" not in page and 'href="/keluar/"' not in page


@pytest.mark.django_db
def test_the_login_form_sent_the_next_morning_gets_the_same_page(settings):
    """The login form left open overnight and sent the next morning: the same bare English
    page, its reason ("request 'same-origin'") shown to the officer."""
    settings.DEBUG = False
    response = Client(enforce_csrf_checks=True).post("/masuk/", {"username": "x",
                                                               "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Formulir sudah kedaluwarsa" in page and "Kembali ke Beranda" in page
    assert "Forbidden" not in page and "same-origin" not in page


def _check_constraints():
    from django.db.models import CheckConstraint

    for model in _models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                yield pytest.param(constraint, id=f"{model._meta.label}.{constraint.name}")


@pytest.mark.parametrize("constraint", list(_check_constraints()))
def test_every_check_constraint_says_its_rule_in_words(constraint):
    """The accessibility audit: a model form validates the model's constraints, and one without
    violation_error_message is shown as 'Batasan “<name>” dilanggar.' (seen:
    pmks_case_one_subject on Admin > Kasus > Tambah, jamsosratu_cycle_benefit_positive on a
    cycle with besaran 0). Every CheckConstraint of the project's models - a new one too -
    names its rule in Indonesian."""
    assert constraint.violation_error_message != constraint.default_violation_error_message
    assert constraint.name not in str(constraint.violation_error_message)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name, typo, right", [
    ("admin:index", "Rubah atau tampilkan tautan kunjungan",
     "Tautan untuk mengubah atau melihat daftar"),  # the sidebar's hidden table headers
    ("admin:dinsos_user_add", "Autentidikasi", "Autentikasi dengan kata sandi"),
    ("admin:dinsos_user_add", "merubah", "Anda dapat mengubah pilihan pengguna lainnya"),
    ("admin:jsi18n", "utnuk", "Ketik di kotak ini untuk menyaring daftar"),
])
def test_djangos_misspelt_indonesian_is_overridden(make_user, url_name, typo, right):
    """The language audit: Django's own Indonesian catalog misspells some admin strings, and
    screen readers read them aloud ("Rubah" means fox). The project's locale/id (LOCALE_PATHS
    wins, in the JavaScript catalog too) says them right."""
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse(url_name)).content.decode()
    assert typo not in page
    assert right in page


@pytest.mark.django_db
def test_an_invalid_admin_form_says_di_bawah(make_user):
    """"Harap perbaiki kesalahan dibawah." (should be "di bawah") on every invalid admin form."""
    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.post(reverse("admin:pmks_person_add"), {}).content.decode()
    assert "kesalahan dibawah" not in page
    assert "Harap perbaiki kesalahan di bawah ini." in page


@pytest.mark.django_db
def test_the_scheduled_task_form_is_indonesian(make_user):
    """The language audit: Admin > Tugas Terjadwal > Tambah sent empty showed
    django-celery-beat's own English errors ("Need name of task", "One of clocked, interval,
    crontab, or solar must be set.", "Unable to parse JSON: ...") beside the Indonesian ones,
    and English help texts ("Set to False to disable the schedule", "If True, the schedule
    will only run the task a single time", "Interval Schedule to run the task on")."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    url = reverse("admin:django_celery_beat_periodictask_add")
    page = client.get(url).content.decode()
    for english in ("Set to False to disable the schedule", "If True, the schedule",
                    "Interval Schedule to run the task on", "Run the task at clocked time"):
        assert english not in page, english
    assert "Hapus centang untuk menonaktifkan jadwal" in page
    response = client.post(url, {})
    page = unescape(response.content.decode())
    assert response.status_code == 200
    for english in ("Need name of task", "must be set", "Unable to parse JSON"):
        assert english not in page, english
    for indonesian in ("Nama tugas wajib diisi", "bukan JSON yang sah"):
        assert indonesian in page, indonesian
    response = client.post(url, {"name": "Uji", "task": "dinsos.tasks.x", "args": "[1,",
                                 "kwargs": "{'a': 1}", "priority": "", "enabled": "on"})
    page = unescape(response.content.decode())
    assert "Expecting" not in page and "line 1" not in page
    assert "bukan JSON yang sah: terhenti di baris 1 kolom 4" in page
    assert "bukan JSON yang sah: terhenti di baris 1 kolom 2" in page
    response = client.post(url, {"name": "Uji", "task": "dinsos.tasks.x", "args": "[]",
                                 "kwargs": "{}", "priority": "", "enabled": "on"})
    assert "Pilih satu jadwal: jam tertentu, interval, crontab atau matahari." in unescape(
        response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("url_name, field_id", [
    ("admin:psks_institution_add", "id_board_members-0-name"),
    ("admin:psks_institution_add", "id_board_members-0-position"),
    ("admin:jamsosratu_cycle_add", "id_quotas-__prefix__-kab_kota"),  # a row added
    ("admin:jamsosratu_cycle_add", "id_tranches-__prefix__-number"),
])
def test_an_admin_inline_rows_inputs_are_named(make_user, url_name, field_id):
    """The accessibility audit (axe 'label', critical): the tabular inlines (Lembaga >
    pengurus; Siklus > tahap and kuota, whose kab/kota <select> too) drew each row's inputs
    under a column <th> with no <label for> nor aria-label: a screen reader announced "edit
    text" for each. Every input of an inline row is named by its column and its row."""
    import re

    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse(url_name)).content.decode()
    tag = re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', page)
    assert tag, field_id
    assert re.search(r'aria-label="[^"]+, baris (1|baru)"', tag.group(0)), tag.group(0)
