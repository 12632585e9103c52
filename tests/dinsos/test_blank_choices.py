"""A required choice sent as spaces only ("   ") is answered "harus diisi", not "Masukkan
pilihan yang valid.    bukan salah satu…" (Django's and DRF's choice fields do not strip). Every
form and serializer of the project is enumerated — staff forms, the admin's forms and inline
forms, API serializers — so a new one cannot miss it."""

import importlib

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import get_resolver
from rest_framework import serializers

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PROJECT_APPS = ("dinsos", "pmks", "psks", "incentives", "jamsosratu")
SPACES = "   "
REQUIRED = "Bidang ini harus diisi."


def _project(cls) -> bool:
    return cls.__module__.split(".")[0] in PROJECT_APPS


def _subclasses(base) -> set:
    found, todo = set(), [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def _load_project_modules() -> None:
    for app in PROJECT_APPS:
        for module in ("forms", "admin", "api.serializers"):
            try:
                importlib.import_module(f"{app}.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.{module}" and exc.name != f"{app}.api":
                    raise
    assert get_resolver().url_patterns  # imports every serializer the URLconf's views use


def _required_choices(fields) -> list[str]:
    return [name for name, field in fields.items()
            if isinstance(field, forms.ChoiceField) and field.required
            and not isinstance(field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField))]


def _bound(form_class, data):
    """The form bound to ``data`` with its declared fields (its own ``__init__``, which wants
    the record or the user, is not needed for this)."""
    form = form_class.__new__(form_class)
    base = forms.BaseModelForm if issubclass(form_class, forms.BaseModelForm) else forms.BaseForm
    base.__init__(form, data=data)
    return form


def _staff_forms():
    _load_project_modules()
    return sorted((c for c in _subclasses(forms.BaseForm) if _project(c)
                   and _required_choices(c.base_fields)), key=lambda c: c.__qualname__)


def _assert_required(form_class) -> None:
    names = _required_choices(form_class.base_fields)
    assert names
    form = _bound(form_class, dict.fromkeys(names, SPACES))
    for name in names:  # the field's own "required" message (a few name what to choose)
        required = str(form_class.base_fields[name].error_messages["required"])
        assert form.errors.get(name) == [required], (form_class, name, form.errors.get(name))


def test_the_enumeration_finds_the_forms_it_should():
    names = {c.__qualname__ for c in _staff_forms()}
    assert {"ImportUploadForm", "CaseTransitionForm", "VerificationForm"} <= names


@pytest.mark.parametrize("form_class", _staff_forms(), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_staff_form_answers_spaces_in_a_required_choice_as_required(form_class):
    _assert_required(form_class)


def test_admin_forms_answer_spaces_in_a_required_choice_as_required():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_superuser=True)
    checked = []
    for model, model_admin in admin.site._registry.items():
        if not _project(model_admin) or not model_admin.has_add_permission(request):
            continue
        form_classes = [model_admin.get_form(request)] + [
            inline.get_formset(request).form
            for inline in model_admin.get_inline_instances(request)]
        for form_class in form_classes:
            if _required_choices(form_class.base_fields):
                _assert_required(form_class)
                checked.append(model._meta.label)
    assert {"pmks.Person", "dinsos.ImportBatch"} <= set(checked)


def project_serializers():
    """(class, its fields) of every serializer of the project that is not a base class."""
    _load_project_modules()
    for cls in _subclasses(serializers.Serializer):
        if (not _project(cls) or issubclass(cls, serializers.ListSerializer)
                or (issubclass(cls, serializers.ModelSerializer) and not hasattr(cls, "Meta"))):
            continue  # a base class
        try:
            fields = cls(context={}).fields
        except TypeError:  # wants arguments of its own: none of the project's does
            pytest.fail(f"{cls} cannot be built")
        yield cls, fields


def _serializers():
    found = []
    for cls, fields in project_serializers():
        if any(isinstance(f, serializers.ChoiceField)
               and not isinstance(f, serializers.MultipleChoiceField)
               and f.required and not f.read_only and not f.allow_blank
               for f in fields.values()):
            found.append(cls)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


@pytest.mark.parametrize("serializer_class", _serializers(),
                         ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_serializer_answers_spaces_in_a_required_choice_as_required(serializer_class, rf):
    request = rf.post("/api/v1/")
    request.user = UserFactory(is_superuser=True)
    fields = serializer_class(context={"request": request}).fields
    names = [name for name, f in fields.items()
             if isinstance(f, serializers.ChoiceField)
             and not isinstance(f, serializers.MultipleChoiceField)
             and f.required and not f.read_only and not f.allow_blank]
    for name in names:
        serializer = serializer_class(data={name: SPACES}, context={"request": request})
        assert not serializer.is_valid()
        assert serializer.errors.get(name) == [REQUIRED], (name, serializer.errors.get(name))
        assert serializer.errors[name][0].code == "required"


def test_the_serializers_found_include_the_api_of_every_app():
    modules = {c.__module__.split(".")[0] for c in _serializers()}
    assert {"pmks", "psks", "jamsosratu"} <= modules, modules


def test_an_optional_choice_of_spaces_is_empty():
    from dinsos.forms import Form

    class Optional(Form):
        choice = forms.ChoiceField(choices=[("a", "A")], required=False)

    form = Optional(data={"choice": SPACES})
    assert form.is_valid() and form.cleaned_data["choice"] == ""


def test_every_project_app_is_searched():
    assert {a.label for a in apps.get_app_configs()} >= set(PROJECT_APPS)


@pytest.mark.parametrize("body", [[], ["x"], "teks", 5])
def test_a_json_body_that_is_no_object_is_a_400_not_a_500(body, api_as, pandeglang_operator):
    """The required-choice check reads the body only when it is an object: a JSON array,
    string or number is DRF's own 400 (it was an AttributeError, a 500)."""
    client = api_as(pandeglang_operator)
    client.raise_request_exception = False
    response = client.post("/api/v1/pmks/persons/", body, format="json")
    assert response.status_code == 400, (response.status_code, response.content[:300])


def test_a_serializer_given_a_list_is_invalid_not_an_error():
    from pmks.api.serializers import PersonSerializer

    serializer = PersonSerializer(data=["bukan", "objek"])
    assert serializer.is_valid() is False
    assert serializer.errors["non_field_errors"]
