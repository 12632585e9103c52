"""Forms of the Jamsosratu pages. They parse input only; the services decide (and their errors
are put back next to the fields they name)."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dinsos.forms import Form, TanggalField
from dinsos.money import format_tanggal
from dinsos.validators import mask_nik
from jamsosratu import calculations
from jamsosratu.choices import EnrolmentStatus, Finding, VerificationResult
from jamsosratu.models import Enrolment, Tranche

#: What a transition asks for, beside the button: the service refuses without it.
NEEDS = {EnrolmentStatus.DITETAPKAN: "decree_number", EnrolmentStatus.DIKELUARKAN: "reason"}


class EnrolmentTransitionForm(Form):
    """One form per status the enrolment may move to."""

    reason = forms.CharField(label=_("Alasan"), required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))
    decree_number = forms.CharField(label=_("Nomor SK penetapan"), required=False,
                                    max_length=100)

    def __init__(self, *args, enrolment, target, **kwargs):
        kwargs.setdefault("prefix", f"e{enrolment.pk}-{target}")
        super().__init__(*args, **kwargs)
        self.enrolment, self.target = enrolment, target
        self.target_label = EnrolmentStatus(target).label
        if target == EnrolmentStatus.DIKELUARKAN:
            # the reason becomes the enrolment's exit reason (255 characters)
            limit = Enrolment._meta.get_field("exit_reason").max_length
            self.fields["reason"].max_length = limit
            self.fields["reason"].validators.append(MaxLengthValidator(limit))
            self.fields["reason"].widget.attrs["maxlength"] = str(limit)
            self.fields["reason"].required = True
            self.fields["reason"].label = _("Alasan dikeluarkan")
            self.fields["reason"].error_messages["required"] = _("Alasan dikeluarkan wajib "
                                                                 "diisi.")
        if target == EnrolmentStatus.DITETAPKAN:
            self.fields["decree_number"].required = True
            self.fields["decree_number"].error_messages["required"] = _(
                "Nomor SK penetapan wajib diisi.")
        else:
            del self.fields["decree_number"]


def transition_forms(enrolment, *, bound=None) -> list[EnrolmentTransitionForm]:
    """A form for every status the enrolment may move to (the bound one keeps its errors)."""
    result = []
    for target in [s for s in EnrolmentStatus.values
                   if calculations.transition_allowed(enrolment.status, s)]:
        if bound is not None and bound.target == target:
            result.append(bound)
        else:
            result.append(EnrolmentTransitionForm(enrolment=enrolment, target=target))
    return result


class WorkerChoiceField(forms.ModelChoiceField):
    """A verifier told apart from a namesake: name, duty (role and area, from the selector's
    ``duties``) and the NIK as every role may see it (masked)."""

    def label_from_instance(self, obj):
        today = timezone.localdate()
        duties = ", ".join(f"{duty.get_role_display()} {duty.area.get_tingkat_display()} "
                           f"{duty.area.nama}"
                           + (_(" (bertugas s.d. %(date)s)") % {"date": format_tanggal(
                               duty.end_date)} if duty.end_date and duty.end_date < today
                              else "")
                           for duty in getattr(obj, "duties", ()))
        return f"{obj.name} — {duties} · NIK {mask_nik(obj.nik)}" if duties else str(obj)


class VerificationForm(Form):
    """The visit by name by address, as the TKSK/pendamping reports it: a phone-sized form.
    Findings per member (died, moved, not in the KK…) and pregnancy seen at the visit."""

    verifier = WorkerChoiceField(queryset=None, label=_("Verifikator (TKSK/pendamping)"),
                                 empty_label=_("— pilih —"),
                                 error_messages={"required": _("Pilih verifikator."),
                                                 "invalid_choice": _(
                                                     "Verifikator ini tidak bertugas di "
                                                     "kecamatan rumah tangga ini pada tanggal "
                                                     "kunjungan.")})
    visit_date = TanggalField(label=_("Tanggal kunjungan"),
                              error_messages={"required": _("Isi tanggal kunjungan.")})
    result = forms.ChoiceField(label=_("Hasil"), choices=VerificationResult.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("Pilih hasil verifikasi.")})
    notes = forms.CharField(label=_("Catatan"), required=False,
                            help_text=_("Anggota baru yang belum terdaftar: tulis di sini."),
                            widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.ImageField(label=_("Foto rumah (boleh dikosongkan)"), required=False,
                             widget=forms.ClearableFileInput(
                                 attrs={"accept": "image/*", "capture": "environment"}))

    def __init__(self, *args, verifiers, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = verifiers
        self.fields["visit_date"].initial = timezone.localdate()
        self.members = list(members)
        finding_choices = [("", _("Sesuai (tidak ada temuan)")),
                           *[c for c in Finding.choices if c[0] != Finding.ANGGOTA_BARU]]
        for person in self.members:
            self.fields[f"temuan_{person.pk}"] = forms.ChoiceField(
                label=person.name, required=False, choices=finding_choices)
            if person.sex == "P":
                self.fields[f"hamil_{person.pk}"] = forms.BooleanField(
                    label=_("%(name)s hamil/nifas") % {"name": person.name}, required=False)

    def member_rows(self):
        """(person, finding field, pregnancy field or None) for the template."""
        return [(p, self[f"temuan_{p.pk}"],
                 self[f"hamil_{p.pk}"] if f"hamil_{p.pk}" in self.fields else None)
                for p in self.members]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "verifier": data["verifier"], "visit_date": data["visit_date"],
            "result": data["result"], "notes": data["notes"], "photo": data.get("photo"),
            "findings": [{"person": p.pk, "finding": data[f"temuan_{p.pk}"]}
                         for p in self.members if data.get(f"temuan_{p.pk}")],
            "pregnant_person_ids": [p.pk for p in self.members if data.get(f"hamil_{p.pk}")],
        }


class BankResultForm(Form):
    file = forms.FileField(label=_("Berkas hasil bank (CSV atau XLSX)"),
                           error_messages={"required": _("Pilih berkas hasil bank."),
                                           "empty": _("Berkas ini kosong.")})


class RescheduleForm(Form):
    """"Jadwalkan ulang" of one failed transfer: a button; the service decides."""


class OverBudgetForm(Form):
    """Pimpinan's reason for a tahap's list to go over the cycle's pagu
    (``services.tranche_over_budget_allow``), one form per tahap waiting for it."""

    over_budget_reason = forms.CharField(
        label=_("Alasan melampaui pagu"),
        max_length=Tranche._meta.get_field("over_budget_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Tuliskan alasan penyaluran melampaui pagu.")})

    def __init__(self, *args, tranche, **kwargs):
        kwargs.setdefault("prefix", f"tahap{tranche.number}")
        super().__init__(*args, **kwargs)
        self.tranche = tranche
