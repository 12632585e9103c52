"""Reads of the registry: each applies the user's scope and the FilterSet, so the API, the
staff pages and the exports return the same rows."""

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404

from pmks.filters import HouseholdFilterSet, PersonFilterSet
from pmks.models import Household, Person


def household_list(*, user, filters=None):
    qs = (
        Household.objects.for_user(user)
        .select_related("desa", "head")
        .annotate(member_count=Count("members"))
    )
    return HouseholdFilterSet(filters, qs).qs if filters is not None else qs


def household_get(*, user, pk) -> Household:
    members = Person.objects.order_by("id")
    return get_object_or_404(
        household_list(user=user).prefetch_related(Prefetch("members", queryset=members)), pk=pk
    )


def person_list(*, user, filters=None):
    qs = Person.objects.for_user(user).filter(merged_into__isnull=True).select_related("desa")
    return PersonFilterSet(filters, qs).qs if filters is not None else qs


def person_get_by_nik(*, user, nik: str) -> Person:
    return get_object_or_404(person_list(user=user), nik=nik)
