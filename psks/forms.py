"""Forms of the workforce pages. They parse input only; the services decide (their errors are
put back next to the fields they name)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dinsos.forms import BulanField, Form

#: what the coverage page lists
MISSING = {"": _("Semua kecamatan"), "tksk": _("Tanpa TKSK"), "rakor": _("Tanpa rakor")}


class ReportReturnForm(Form):
    """Returning a monthly report to the worker: the reason is required (and shown to them)."""

    reason = forms.CharField(
        label=_("Alasan pengembalian"), widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Alasan pengembalian wajib diisi.")},
        help_text=_("Apa yang harus diperbaiki tenaga sebelum mengajukan lagi."))


class CoverageForm(Form):
    """The coverage page's question: which month (``bb/tttt``, typed the same in any browser
    language) and which kecamatan."""

    bulan = BulanField(label=_("Bulan"), required=False)
    kurang = forms.ChoiceField(label=_("Tampilkan"), choices=list(MISSING.items()),
                               required=False)
