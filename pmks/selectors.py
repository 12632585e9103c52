"""Reads of the registry: each applies the user's scope and the FilterSet, so the API, the
staff pages and the exports return the same rows."""

from django.db.models import Func, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from dinsos.scoping import area_q, user_area
from pmks.filters import (
    CaseFilterSet,
    DuplicateCandidateFilterSet,
    HouseholdFilterSet,
    PersonFilterSet,
    ServiceFilterSet,
)
from pmks.models import Case, DuplicateCandidate, Household, Person, Service


def _member_count():
    """Members of one household, counted per row of the page (a correlated subquery) instead
    of grouping every member of the area before the page is cut."""
    members = (Person.objects.filter(household=OuterRef("pk")).order_by()
               .annotate(n=Func("pk", function="COUNT")).values("n"))
    return Coalesce(Subquery(members, output_field=IntegerField()), 0)


def household_list(*, user, filters=None):
    qs = (
        Household.objects.for_user(user)
        .select_related("desa", "head")
        .annotate(member_count=_member_count())
    )
    return HouseholdFilterSet(filters, qs, user=user).qs if filters is not None else qs


def household_get(*, user, pk) -> Household:
    members = Person.objects.order_by("id")
    return get_object_or_404(
        household_list(user=user).prefetch_related(Prefetch("members", queryset=members)), pk=pk
    )


def person_list(*, user, filters=None):
    qs = Person.objects.for_user(user).filter(merged_into__isnull=True).select_related("desa")
    return PersonFilterSet(filters, qs, user=user).qs if filters is not None else qs


def person_get_by_nik(*, user, nik: str) -> Person:
    return get_object_or_404(person_list(user=user), nik=nik)


def case_list(*, user, filters=None):
    qs = Case.objects.for_user(user).select_related("category")
    return CaseFilterSet(filters, qs, user=user).qs if filters is not None else qs


def service_list(*, user, filters=None):
    qs = Service.objects.for_user(user).select_related("service_type")
    return ServiceFilterSet(filters, qs, user=user).qs if filters is not None else qs


def duplicate_list(*, user, filters=None):
    """A pair is listed only when the user may see both persons."""
    qs = (
        DuplicateCandidate.objects.for_user(user)
        .filter(area_q("person_b__desa", user_area(user)))
        .select_related("person_a", "person_b", "reviewed_by")
    )
    return DuplicateCandidateFilterSet(filters, qs, user=user).qs if filters is not None else qs
