"""Staff pages of the registry: search, register, the person page with cases (a form for
every allowed transition), duplicates side by side. Thin: parse, one service or selector,
render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from dinsos import dashboard
from dinsos import selectors as kernel_selectors
from dinsos.pages import (
    REFUSALS,
    IfMatchPage,
    ReadLoggedPage,
    RecordFormPage,
    StaffPage,
    TransitionPage,
    form_errors_from,
)
from dinsos.pagination import BoundedPaginator
from dinsos.scoping import can, sees_identifiers
from dinsos.versions import current_versions
from pmks import selectors, services
from pmks.choices import CaseStatus
from pmks.filters import PersonFilterSet
from pmks.forms import (
    CaseOpenForm,
    CaseTransitionForm,
    HouseholdForm,
    MergeForm,
    PersonForm,
    ServiceChangeForm,
    ServiceForm,
    transition_forms,
)
from pmks.models import Household, Person, Service


class PersonListView(ReadLoggedPage, StaffPage, TemplateView):
    """The search: the persons found, NIK whole for the roles that see it (a read, logged)."""

    permission_required = ("pmks.view_person",)
    template_name = "pmks/person_list.html"
    read_model = Person

    def get_context_data(self, **kwargs):
        filterset = PersonFilterSet(self.request.GET or None,
                                    selectors.person_list(user=self.request.user),
                                    request=self.request)
        people = filterset.qs.order_by("name", "id") if filterset.is_bound else None
        page = (BoundedPaginator(people, 25).get_page(self.request.GET.get("page"))
                if people is not None else None)
        # roles that see NIKs masked find a person by the whole NIK only (dinsos.filters)
        return super().get_context_data(
            filter=filterset, page=page,
            nik_prefix=sees_identifiers(self.request.user, Person), **kwargs)


class PersonCreateView(StaffPage, TemplateView):
    permission_required = ("pmks.add_person",)
    writes_without_version = "creates a person: nothing it could be stale against"
    template_name = "pmks/person_form.html"

    def get_context_data(self, form=None, **kwargs):
        return super().get_context_data(form=form or PersonForm(user=self.request.user), **kwargs)

    def post(self, request, *args, **kwargs):
        form = PersonForm(request.POST, user=request.user)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                person = services.person_register(actor=request.user, **data)
            except REFUSALS as exc:
                form_errors_from(form, exc)
            else:
                return redirect("pmks:person-detail", pk=person.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PersonUpdateView(RecordFormPage, StaffPage, TemplateView):
    """Change a person's data with the registration form, as the page showed it (its
    version); the service checks the area and the NIK rules."""

    permission_required = ("pmks.change_person",)
    template_name = "pmks/person_form.html"

    def get_context_data(self, form=None, **kwargs):
        person = self.get_record(kwargs["pk"])
        return super().get_context_data(
            person=person, form=form or PersonForm(instance=person, user=self.request.user),
            **kwargs)

    def get_record(self, pk):
        return selectors.person_get(user=self.request.user, pk=pk)

    def get_form(self, person, pk):
        return PersonForm(self.request.POST, instance=person, user=self.request.user)

    def perform(self, person, form, pk):
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.person_update(actor=self.request.user, person=person, **data)

    def done(self, person, form, pk):
        messages.success(self.request, _("Data orang disimpan."))
        return redirect("pmks:person-detail", pk=pk)


class HouseholdDetailView(ReadLoggedPage, StaffPage, TemplateView):
    """A household (Kartu Keluarga): its DTKS data — housing, assets, programs — and its
    members inside the user's area. Opening it writes an ACCESS entry, like the API."""

    permission_required = ("pmks.view_household",)
    template_name = "pmks/household_detail.html"

    def read_records(self, context):
        return [context["household"]]

    def read_lists(self, context):
        return [(Person, "anggota keluarga", context["members"])]

    def get_context_data(self, **kwargs):
        user = self.request.user
        household = selectors.household_get(user=user, pk=kwargs["pk"])
        return super().get_context_data(
            household=household, **selectors.household_file(user=user, household=household),
            can_edit=can(user, "change", Household, household), **kwargs)


class HouseholdUpdateView(RecordFormPage, StaffPage, TemplateView):
    """Change a household's DTKS data as the page showed it (its version); the service checks
    the area and writes the lists."""

    permission_required = ("pmks.change_household",)
    template_name = "pmks/household_form.html"

    def get_context_data(self, form=None, **kwargs):
        household = self.get_record(kwargs["pk"])
        return super().get_context_data(
            household=household, form=form or HouseholdForm(instance=household), **kwargs)

    def get_record(self, pk):
        return selectors.household_get(user=self.request.user, pk=pk)

    def get_form(self, household, pk):
        return HouseholdForm(self.request.POST, instance=household)

    def perform(self, household, form, pk):
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.household_update(actor=self.request.user, household=household, **data)

    def done(self, household, form, pk):
        messages.success(self.request, _("Data keluarga disimpan."))
        return redirect("pmks:household-detail", pk=pk)


class PersonDetailView(ReadLoggedPage, StaffPage, TemplateView):
    """The person's file. Opening it writes an ACCESS entry (UU 27/2022), like the API."""

    permission_required = ("pmks.view_person",)
    template_name = "pmks/person_detail.html"

    def read_records(self, context):
        return [context["person"]]

    def get_context_data(self, open_form=None, bound_transition=None, bound_service=None,
                         bound_service_change=None, **kwargs):
        user = self.request.user
        person = selectors.person_get(user=user, pk=kwargs["pk"])
        file = selectors.person_file(user=user, person=person)
        can_change = user.has_perm("pmks.change_case")
        can_serve = can(user, "add", Service)
        can_correct = can(user, "change", Service)
        self.choices = {}  # the service forms' lists, read once for the page
        cases = [(case, transition_forms(case, bound=bound_transition) if can_change else [],
                  self.service_form(case, bound_service) if can_serve else None,
                  [(service, self.service_change_form(service, bound_service_change)
                    if can_correct else None) for service in case.services.all()])
                 for case in file["cases"]]
        records = [person, *file["cases"], *(s for _c, _f, _s, served in cases
                                             for s, _form in served)]
        return super().get_context_data(
            person=person, members=file["members"], cases=cases, merges=file["merges"],
            household_open=file["household_open"],
            if_match_versions=current_versions(records),
            can_edit=can(user, "change", Person, person),
            sections=dashboard.person_sections(user=user, person=person),
            history=kernel_selectors.history(obj=person, user=user),
            opened=kernel_selectors.access_summary(obj=person),
            open_form=open_form or (CaseOpenForm() if user.has_perm("pmks.add_case") else None),
            **kwargs)

    def service_form(self, case, bound):
        """The bound form of this case (with its errors), else a new one where the case may
        get a service."""
        if bound is not None and bound.case.pk == case.pk:
            return bound
        if case.status in services.SERVICEABLE:
            return ServiceForm(case=case, user=self.request.user, choices=self.choices)
        return None

    def service_change_form(self, service, bound):
        if bound is not None and bound.service.pk == service.pk:
            return bound
        return ServiceChangeForm(service=service, user=self.request.user, choices=self.choices)


class CaseOpenView(RecordFormPage, PersonDetailView):
    permission_required = ("pmks.add_case",)
    bound_form_context = "open_form"

    def get_record(self, pk):
        return selectors.person_get(user=self.request.user, pk=pk)

    def get_form(self, person, pk):
        return CaseOpenForm(self.request.POST)

    def perform(self, person, form, pk):
        services.case_open(actor=self.request.user, person=person, **form.cleaned_data)

    def done(self, person, form, pk):
        return redirect(reverse("pmks:person-detail", args=[pk]) + "#kasus")


class CaseTransitionView(TransitionPage, PersonDetailView):
    """POST one transition of one case (status, reason); back to the person page."""

    permission_required = ("pmks.change_case",)
    targets = tuple(CaseStatus.values)
    bound_form_context = "bound_transition"

    def get_record(self, pk, case_pk, target):
        person = selectors.person_get(user=self.request.user, pk=pk)
        return selectors.case_get(user=self.request.user, pk=case_pk, person=person)

    def get_form(self, case, pk, case_pk, target):
        return CaseTransitionForm(self.request.POST, case=case, target=target)

    def perform(self, case, form, pk, case_pk, target):
        services.case_transition(actor=self.request.user, case=case, to_status=target,
                                 reason=form.cleaned_data["reason"],
                                 close_reason=form.cleaned_data.get("close_reason", ""))

    def done(self, case, form, pk, case_pk, target):
        return redirect(reverse("pmks:person-detail", args=[pk]) + f"#kasus-{case.pk}")


class ServiceRecordView(RecordFormPage, PersonDetailView):
    """POST a service delivered on one case of the person; back to the case."""

    permission_required = ("pmks.add_service",)
    bound_form_context = "bound_service"

    def get_record(self, pk, case_pk):
        person = selectors.person_get(user=self.request.user, pk=pk)
        return selectors.case_get(user=self.request.user, pk=case_pk, person=person)

    def get_form(self, case, pk, case_pk):
        return ServiceForm(self.request.POST, case=case, user=self.request.user)

    def perform(self, case, form, pk, case_pk):
        services.service_record(actor=self.request.user, case=case, **form.cleaned_data)

    def done(self, case, form, pk, case_pk):
        messages.success(self.request, _("Layanan dicatat."))
        return redirect(reverse("pmks:person-detail", args=[pk]) + f"#kasus-{case.pk}")


class ServiceUpdateView(RecordFormPage, PersonDetailView):
    """POST a correction of a recorded service (service_update); back to its case."""

    permission_required = ("pmks.change_service",)
    bound_form_context = "bound_service_change"

    def get_record(self, pk, service_pk):
        person = selectors.person_get(user=self.request.user, pk=pk)
        return selectors.service_get(user=self.request.user, pk=service_pk, person=person)

    def get_form(self, service, pk, service_pk):
        return ServiceChangeForm(self.request.POST, service=service, user=self.request.user)

    def perform(self, service, form, pk, service_pk):
        services.service_update(actor=self.request.user, service=service, **form.cleaned_data)

    def done(self, service, form, pk, service_pk):
        messages.success(self.request, _("Layanan disimpan."))
        return redirect(reverse("pmks:person-detail", args=[pk]) + f"#kasus-{service.case_id}")


class DuplicateListView(StaffPage, TemplateView):
    permission_required = ("pmks.view_duplicatecandidate",)
    template_name = "pmks/duplicate_list.html"

    def get_context_data(self, **kwargs):
        filters = self.request.GET.copy()
        filters.setdefault("status", "terbuka")
        pairs = selectors.duplicate_list(user=self.request.user, filters=filters)
        page = BoundedPaginator(pairs.order_by("-score", "id"), 25).get_page(
            self.request.GET.get("page"))
        return super().get_context_data(page=page, **kwargs)


class DuplicateDetailView(ReadLoggedPage, IfMatchPage, StaffPage, TemplateView):
    """Both persons side by side, then the decision: keep A, keep B, or not the same person.
    Opening it is a read of both persons' data (an ACCESS entry in each one's history)."""

    permission_required = ("pmks.view_duplicatecandidate",)
    template_name = "pmks/duplicate_detail.html"

    def read_records(self, context):
        return [context["pair"].person_a, context["pair"].person_b]

    def get_context_data(self, form=None, **kwargs):
        user = self.request.user
        pair = selectors.duplicate_get(user=user, pk=kwargs["pk"])
        return super().get_context_data(
            pair=pair, rows=selectors.duplicate_comparison(pair),
            form=form or (MergeForm() if user.has_perm("pmks.change_person") else None),
            **kwargs)

    def post(self, request, pk):
        if not request.user.has_perm("pmks.change_person"):
            raise PermissionDenied
        pair = selectors.duplicate_get(user=request.user, pk=pk)
        form = MergeForm(request.POST)
        if form.is_valid():
            decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
            try:
                with transaction.atomic():
                    self.check_if_match(pair, pair.person_a, pair.person_b)
                    if decision == "bukan":
                        services.duplicate_dismiss(actor=request.user, candidate=pair)
                    else:
                        kept, merged = ((pair.person_a, pair.person_b) if decision == "a"
                                        else (pair.person_b, pair.person_a))
                        services.person_merge(actor=request.user, kept=kept, merged=merged,
                                              reason=reason)
            except REFUSALS as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Keputusan disimpan."))
                return redirect("pmks:duplicates")
        return self.render_to_response(self.get_context_data(pk=pk, form=form), status=400)
