"""Forms of the payout pages: they parse; the services decide."""


from django import forms
from django.utils.translation import gettext_lazy as _

from dinsos.forms import BulanField, Form


class ComputeForm(Form):
    period = BulanField(label=_("Bulan"), help_text=_("Bulan yang dihitung, mis. 11/2026."))


class VerifyForm(Form):
    """Nothing to enter: the confirmation page shows the totals."""


class ApproveForm(Form):
    override_reason = forms.CharField(
        label=_("Alasan menyetujui melampaui pagu"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, exceeded: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if exceeded:
            self.fields["override_reason"].required = True
            self.fields["override_reason"].error_messages["required"] = _(
                "Perhitungan melampaui pagu anggaran; tuliskan alasan persetujuan.")
        else:
            del self.fields["override_reason"]


class MarkPaidForm(Form):
    reference = forms.CharField(label=_("Referensi pembayaran (SP2D/bukti transfer)"),
                                max_length=100)


class CancelForm(Form):
    reason = forms.CharField(label=_("Alasan pembatalan"),
                             widget=forms.Textarea(attrs={"rows": 3}))
