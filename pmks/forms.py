"""Forms of the staff pages. They parse input only; the services decide (and their errors are
put back next to the fields they name)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dinsos.choices import DESA_KELURAHAN
from dinsos.forms import Form, ModelForm, RupiahField, TanggalField
from dinsos.models import Office, Wilayah
from dinsos.scoping import ALL, restrict, user_area
from dinsos.services import check_field
from pmks import calculations
from pmks.choices import CaseStatus, CloseReason
from pmks.models import Case, Category, Household, Person, Service, ServiceType


class DesaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.nama} — {obj.induk.nama} ({obj.kode})"


def desa_field(user, **kwargs) -> DesaChoiceField:
    """Desa/kelurahan inside the user's area only."""
    area = user_area(user)
    qs = Wilayah.objects.filter(tingkat__in=DESA_KELURAHAN).select_related("induk")
    if area is not ALL:
        qs = qs.within(area) if area else qs.none()
    return DesaChoiceField(queryset=qs.order_by("kode"), **kwargs)


class ServiceValidatedForm(ModelForm):
    """A model form whose model validation is the service's job (with the actor): it only
    builds the instance. But a form refused already (a date it could not read) never reaches
    the service, so the rules of the model's own fields are asked here of every other value
    the officer wrote (``check_field``, the model field's validators: no rule copied), and
    every wrong field is named in one round, not one after the other."""

    def _post_clean(self):
        forms.models.construct_instance(self, self.instance, self._meta.fields)
        if not self._errors:
            return  # the service asks every rule, these too
        for name in self.changed_data:  # a stored value is asked only when written
            value = self.cleaned_data.get(name)
            if name in self._errors or value in self.fields[name].empty_values:
                continue
            try:
                check_field(self._meta.model, name, value)
            except ValidationError as exc:
                self._update_errors(exc)


class PersonForm(ServiceValidatedForm):
    class Meta:
        model = Person
        fields = ["nik", "name", "birth_place", "birth_date", "sex", "desa", "marital_status",
                  "disability", "chronic_illness", "schooling", "occupation"]
        field_classes = {"birth_date": TanggalField}
        help_texts = {"nik": _("16 angka; kosongkan bila belum punya NIK.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desa"] = desa_field(user, label=_("Desa/kelurahan domisili"))
        self.fields["nik"].required = False


class HouseholdForm(ServiceValidatedForm):
    """A household's DTKS data: address, desil, housing, and what it owns and takes part in
    (checkbox groups). Its No. KK, desa and head are not changed here (the head follows the
    members' hubungan)."""

    class Meta:
        model = Household
        fields = ["address", "rt", "rw", "decile", "floor", "wall", "water_source", "lighting",
                  "cooking_fuel", "toilet", "assets", "programs"]
        widgets = {"assets": forms.CheckboxSelectMultiple,
                   "programs": forms.CheckboxSelectMultiple}
        help_texts = {"assets": _("Aset bergerak dan tidak bergerak yang dimiliki keluarga."),
                      "programs": _("Program perlindungan sosial yang diikuti keluarga.")}


class CaseOpenForm(Form):
    category = forms.ModelChoiceField(Category.objects.order_by("number"), label=_("Kategori PPKS"))
    identified_on = TanggalField(label=_("Tanggal teridentifikasi"))
    source = forms.ChoiceField(label=_("Sumber"), choices=Case._meta.get_field("source").choices)
    description = forms.CharField(label=_("Uraian"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class ServiceForm(ServiceValidatedForm):
    """A service delivered on one case (one form per case on the person page)."""

    class Meta:
        model = Service
        fields = ["service_type", "start_date", "end_date", "value_amount", "funding_source",
                  "provider_office", "provider_name", "note"]
        field_classes = {"start_date": TanggalField, "end_date": TanggalField,
                         "value_amount": RupiahField}
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, case, user, choices=None, **kwargs):
        """``choices``: a dict the forms of one page share, so the lists of service types and
        offices are read once per page, not once per case or service."""
        kwargs.setdefault("prefix", f"s{case.pk}")
        super().__init__(*args, **kwargs)
        self.case = case
        if "service_type" in self.fields:
            self.fields["service_type"].queryset = (ServiceType.objects.filter(active=True)
                                                    .order_by("pillar", "name"))
            self.fields["service_type"].label_from_instance = (
                lambda t: f"{t.name} ({t.get_pillar_display()})")
        self.fields["provider_office"].queryset = restrict(Office.objects.order_by("name"), user)
        if choices is not None:
            for name in ("service_type", "provider_office"):
                if name in self.fields:
                    if name not in choices:
                        choices[name] = list(self.fields[name].choices)
                    self.fields[name].choices = choices[name]


class ServiceChangeForm(ServiceForm):
    """A recorded service corrected (its type stays: another type is another service)."""

    class Meta(ServiceForm.Meta):
        fields = [f for f in ServiceForm.Meta.fields if f != "service_type"]

    def __init__(self, *args, service, user, **kwargs):
        kwargs.setdefault("prefix", f"l{service.pk}")
        super().__init__(*args, case=service.case, user=user, instance=service, **kwargs)
        self.service = service


class CaseTransitionForm(Form):
    """One form per allowed target status of a case."""

    status = forms.ChoiceField(choices=CaseStatus.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Alasan"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    close_reason = forms.ChoiceField(label=_("Alasan penutupan"), required=False,
                                     choices=[("", "—"), *CloseReason.choices])

    def __init__(self, *args, case, target, **kwargs):
        kwargs.setdefault("prefix", f"c{case.pk}-{target}")
        super().__init__(*args, initial={"status": target}, **kwargs)
        self.case, self.target = case, target
        self.target_label = CaseStatus(target).label
        if target in calculations.REASON_REQUIRED:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = _("Alasan wajib diisi untuk "
                                                                 "status ini.")
        if target != CaseStatus.DITUTUP:
            del self.fields["close_reason"]


def transition_forms(case, *, bound=None) -> list[CaseTransitionForm]:
    """A form for every status the case may move to (the bound one keeps its errors — also
    when the case moved on meanwhile, so a refused stale form shows why)."""
    forms_ = []
    mine = bound is not None and bound.case.pk == case.pk
    for target in sorted(calculations.CASE_TRANSITIONS.get(case.status, ())):
        if mine and bound.target == target:
            forms_.append(bound)
        else:
            forms_.append(CaseTransitionForm(case=case, target=target))
    if mine and bound not in forms_ and bound.errors:
        forms_.append(bound)
    return forms_


class MergeForm(Form):
    decision = forms.ChoiceField(
        label=_("Keputusan"), widget=forms.RadioSelect,
        choices=[("a", _("Pertahankan data kiri (A), gabungkan B ke A")),
                 ("b", _("Pertahankan data kanan (B), gabungkan A ke B")),
                 ("bukan", _("Bukan orang yang sama"))])
    reason = forms.CharField(label=_("Catatan"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
