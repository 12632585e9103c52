"""Kernel forms, shared by the admin and the staff pages."""

import contextlib
import datetime
import re
from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from dinsos import importing
from dinsos.models import ImportBatch
from dinsos.periods import parse_month
from dinsos.tabular import TableError
from dinsos.validators import validate_not_negative, validate_whole_rupiah


def _spaces_only(value) -> bool:
    return isinstance(value, str) and value != "" and not value.strip()


class BlankChoiceMixin:
    """A choice sent as spaces only is no choice: it is read as empty, so a required choice
    field answers "Bidang ini harus diisi." (Django's ChoiceField does not strip: "   " was
    answered "Masukkan pilihan yang valid.    bukan salah satu dari pilihan yang tersedia.").
    Every form of the project has it: ``Form`` and ``ModelForm`` below, and the admin's forms
    (``dinsos.admin_base``: ``with_blank_choices``)."""

    def full_clean(self):
        if self.is_bound:
            names = [bf.html_name for bf in self
                     if isinstance(bf.field, forms.ChoiceField)
                     and not isinstance(bf.field, (forms.MultipleChoiceField,
                                                   forms.ModelMultipleChoiceField))
                     and _spaces_only(self.data.get(bf.html_name))]
            if names:
                self.data = self.data.copy()
                for name in names:
                    self.data[name] = ""
        super().full_clean()


class StoredValuesMixin:
    """A model form editing a stored record asks a field's own rules (the model field's
    validators) only of a value the user changed, as the services do (``clean_written``): a
    phone stored before ``psks/0013`` ("+62 812-3456 WA") no longer blocks renaming its worker
    in the admin; typing a new phone is asked the rule. The model's ``clean`` and the
    services' checks still run."""

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.instance.pk is not None and self.is_bound:
            exclude |= {name for name in self.fields if name not in self.changed_data}
        return exclude


class Form(BlankChoiceMixin, forms.Form):
    """The base of every plain form of the project."""


class ModelForm(BlankChoiceMixin, StoredValuesMixin, forms.ModelForm):
    """The base of every model form of the project (and of the admin's)."""


def with_blank_choices(form_class: type) -> type:
    """``form_class`` with ``BlankChoiceMixin`` and, for a model form, ``StoredValuesMixin``
    (forms the admin builds from Django's own, such as the user forms of
    ``django.contrib.auth``)."""
    mixins = [m for m in (BlankChoiceMixin, StoredValuesMixin)
              if not issubclass(form_class, m)
              and (m is BlankChoiceMixin or issubclass(form_class, forms.BaseModelForm))]
    if not mixins:
        return form_class
    return type(form_class.__name__, (*mixins, form_class), {})


class ImportUploadForm(ModelForm):
    kind = forms.ChoiceField(label=_("Jenis data"))
    # required here: the stored batch's file may be removed later (IMPORT_FILE_DAYS)
    file = forms.FileField(label=_("Berkas"))

    class Meta:
        model = ImportBatch
        fields = ["kind", "file", "dry_run"]
        help_texts = {"dry_run": _("Periksa dulu tanpa menyimpan; unggah lagi tanpa centang "
                                   "untuk menyimpan baris yang benar.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # absent on the read-only result page
            self.fields["kind"].choices = [(k, i.label) for k, i in importing.IMPORTERS.items()]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.upload_check(upload)  # limits and file kind, before anything is stored
        except TableError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload


# --- Dates, day first whatever the browser's language -------------------------------------
# An <input type="date"> is drawn by the browser in the browser's language (mm/dd/yyyy in an
# English Chromium). Dates are typed as text instead: shown and read as hh/bb/tttt (also with
# - or ., eight digits, or ISO — settings' FORMAT_MODULE_PATH, dinsos/formats/id/formats.py).

DATE_PLACEHOLDER = _("hh/bb/tttt")
DATE_ATTRS = {"inputmode": "numeric", "placeholder": DATE_PLACEHOLDER, "autocomplete": "off",
              "size": 10}


class TanggalInput(forms.DateInput):
    """A text input for a date, day first: ``30/11/2026``."""

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs={**DATE_ATTRS, **(attrs or {})}, format=format)


class AdminTanggalWidget(AdminDateWidget):
    """The admin's date input (with its calendar), with the same hint."""

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs={**DATE_ATTRS, **(attrs or {})}, format=format)


class TanggalField(forms.DateField):
    """A date typed day first; an unreadable one is refused naming the field."""

    widget = TanggalInput

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code != "invalid" or "invalid" in self._custom_messages:
                raise
            raise ValidationError(
                _("%(field)s: tanggal tidak dikenali. Tulis hari/bulan/tahun, misalnya "
                  "17/08/2026."), code="invalid",
                params={"field": capfirst(str(self.label or _("tanggal")))}) from exc

    def __init__(self, *args, **kwargs):
        self._custom_messages = dict(kwargs.get("error_messages") or {})
        super().__init__(*args, **kwargs)


_GROUPED = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{3})+")  # 1.500.000: dots group thousands
_NO_CENTS = re.compile(r",0{1,2}$")


class RupiahField(forms.DecimalField):
    """An amount typed as Indonesians write it: ``1.500.000``, ``Rp 1.500.000``,
    ``1.500.000,00`` or ``1500000``. Dots are read as thousands only where they group three
    digits each (``1.5`` stays one and a half, refused as not whole rupiah)."""

    widget = forms.TextInput
    default_validators = [validate_whole_rupiah, validate_not_negative]

    def prepare_value(self, value):
        """A stored amount shown the way it is typed: 1500000.00 as 1.500.000."""
        if isinstance(value, Decimal) and value == value.to_integral_value() and value >= 0:
            return f"{int(value):,}".replace(",", ".")
        return super().prepare_value(value)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "inputmode": "numeric",
                "placeholder": "1.500.000"}

    def to_python(self, value):
        if isinstance(value, str):
            text = re.sub(r"^rp\.?", "", value.strip(), flags=re.I).strip().replace(" ", "")
            text = _NO_CENTS.sub("", text)  # 1.500.000,00: no cents
            if _GROUPED.fullmatch(text):
                text = text.replace(".", "")
            elif text.count(",") == 1 and "." not in text:
                text = text.replace(",", ".")  # 1500,5: a decimal comma (not whole rupiah)
            # ASCII digits only: Python's Decimal also reads "１０" (full-width) as 10
            value = text if text.isascii() else "x"
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code != "invalid":
                raise
            raise ValidationError(
                _("%(field)s: angka tidak dikenali. Tulis rupiah penuh, misalnya 1.500.000."),
                code="invalid", params={"field": capfirst(str(self.label or _("nilai")))},
            ) from exc


class BulanInput(forms.TextInput):
    """A month as text, ``bb/tttt`` (an ``<input type="month">`` names the month in the
    browser's language)."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"inputmode": "numeric", "placeholder": _("bb/tttt"),
                                "autocomplete": "off", "size": 7, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime.date):
            return f"{value:%m/%Y}"
        match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", str(value or "").strip())
        return f"{match[2]}/{match[1]}" if match else super().format_value(value)


_MONTH_BY_NAME = {name: number for number, names in importing.MONTHS.items() for name in names}


class BulanField(forms.CharField):
    """A month typed ``11/2026`` (also ``11-2026``, ``11.2026``, ``2026-11``, ``November 2026``
    or ``Nov 2026``) → its first day, read by the one month parser
    (``dinsos.periods.parse_month``). With ``any_day`` a date of the month (``15/11/2026``,
    ``2026-11-15``) also names it: a form of a monthly record whose officer types a day."""

    widget = BulanInput

    def __init__(self, *args, any_day=False, **kwargs):
        self.any_day = any_day
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, datetime.date):
            value = f"{value:%Y-%m}"
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        named = re.fullmatch(r"([A-Za-z]+)\.?\s*([0-9]{4})", text)
        if named and named[1].lower() in _MONTH_BY_NAME:
            text = f"{named[2]}-{_MONTH_BY_NAME[named[1].lower()]:02d}"
        match = re.fullmatch(r"([0-9]{1,2})[/.-]([0-9]{4})", text)
        if match:
            text = f"{match[2]}-{int(match[1]):02d}"
        day = re.fullmatch(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})", text)
        iso = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", text)
        if self.any_day and (day or iso):
            year, month, number = ((day[4], day[3], day[1]) if day else (iso[1], iso[2], iso[3]))
            with contextlib.suppress(ValueError):  # no such day: refused below
                text = f"{datetime.date(int(year), int(month), int(number)):%Y-%m}"
        try:
            return parse_month(text, label=capfirst(str(self.label or _("bulan"))))
        except ValueError:
            raise ValidationError(
                _("%(field)s: bulan tidak dikenali. Tulis bulan/tahun, misalnya 11/2026."),
                code="invalid",
                params={"field": capfirst(str(self.label or _("bulan")))}) from None


class LockoutPasswordChangeForm(PasswordChangeForm):
    """The password change form whose old password is checked as a login is: through
    ``authenticate``, so django-axes counts each wrong one and, past ``AXES_FAILURE_LIMIT``,
    refuses even the right one (its lockout page). Django's form asked ``check_password``,
    which nothing counts: a session left open could guess the old password without limit and
    then set a new one."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(),
                        password=old_password) is None:
            raise ValidationError(self.error_messages["password_incorrect"],
                                  code="password_incorrect")
        return old_password
