"""Kernel forms, shared by the admin and the staff pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dinsos import importing
from dinsos.models import ImportBatch
from dinsos.tabular import TableError


class ImportUploadForm(forms.ModelForm):
    kind = forms.ChoiceField(label=_("jenis data"))

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
