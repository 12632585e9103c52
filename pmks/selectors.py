"""Reads of the registry: each applies the user's scope and the FilterSet, so the API, the
staff pages and the exports return the same rows."""

import functools

from django.db.models import (
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Substr
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from dinsos.dashboard import Chart, Figure, Panel, Waiting, cached_count, cached_rows
from dinsos.models import Wilayah
from dinsos.scoping import area_q, shown_within, user_area, within_area
from pmks import calculations
from pmks.choices import CaseStatus, DuplicateStatus
from pmks.filters import (
    CaseFilterSet,
    DuplicateCandidateFilterSet,
    HouseholdFilterSet,
    PersonFilterSet,
    ServiceFilterSet,
)
from pmks.models import (
    Case,
    CaseTransition,
    DuplicateCandidate,
    Household,
    HouseholdAsset,
    HouseholdProgram,
    Person,
    PersonMerge,
    Service,
)


@functools.lru_cache(maxsize=64)
def member_count(area):
    """The members of one household a user of ``area`` (``user_area``) may see — those
    registered inside the area, as the household page lists them (a member registered in
    another kab/kota is not counted: the count would tell of him) — counted per row of the
    page (a correlated subquery with the area's condition) instead of grouping every member
    of the area before the page is cut. Built once per area: an expression is copied when a
    queryset resolves it, so one serves every list of that area (building it — a Person
    queryset and its subquery — was a third of a list's queryset)."""
    members = (Person.objects.filter(area_q("desa", area), household=OuterRef("pk")).order_by()
               .annotate(n=Func("pk", function="COUNT")).values("n"))
    return Coalesce(Subquery(members, output_field=IntegerField()), 0)


def household_names(area) -> dict:
    """A household row reads, of its desa and head, only the name — as annotations next to
    the key they were read for (``read_name``): a page builds one model instance per
    household, not three (the desa's and the head's, only to read a name, were a fifth of a
    list request's CPU). The head's name only when the head is registered inside ``area``
    (``shown_within``: NULL for a head of another kab/kota — the page's "tercatat di luar
    wilayah Anda"), so the API, the sync feed, the export and the admin name no person the
    user may not see."""
    return {"read_desa": F("desa_id"), "read_desa_nama": F("desa__nama"),
            "read_head": F("head_id"),
            "read_head_name": shown_within(area, Person, "head", F("head__name"))}


class _Codes(Func):
    """The codes of a household's list entries as one text ("lahan,sepeda"), NULL for none:
    GROUP_CONCAT on SQLite, string_agg on PostgreSQL. Not an aggregate to Django (no GROUP
    BY): it joins one household's rows, in a subquery per row of the page (``member_count``)."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra)


def _codes(through, target: str):
    rows = (through.objects.filter(household=OuterRef("pk")).order_by()
            .annotate(codes=_Codes(F(f"{target}__code"), Value(","))).values("codes"))
    return Subquery(rows, output_field=CharField())


#: A household row reads its assets' and programs' codes in its own query, as text (no
#: model instance per entry, no query per row or per list): ``household_codes``.
HOUSEHOLD_CODES = {"read_assets_codes": _codes(HouseholdAsset, "asset"),
                   "read_programs_codes": _codes(HouseholdProgram, "program")}


def household_codes(household, relation: str) -> list[str]:
    """The codes of a household's ``assets`` or ``programs``, sorted: from the list's
    annotation (``HOUSEHOLD_CODES``) when it was read with one, otherwise through the
    relation (a household just written, or read another way)."""
    key = f"read_{relation}_codes"
    if key in household.__dict__:
        codes = household.__dict__[key]
        return sorted(codes.split(",")) if codes else []
    return sorted(getattr(household, relation).values_list("code", flat=True))


#: A person row of an API list or export reads of its desa only the name, the same way.
PERSON_NAMES = {"read_desa": F("desa_id"), "read_desa_nama": F("desa__nama")}


def read_name(obj, relation: str, attr: str):
    """``obj.<relation>.<attr>`` (None without a related record): from the list's annotations
    (``household_names``, ``PERSON_NAMES``) while the relation still has the key they were read
    for, otherwise through the relation (a record made or changed since, or read another
    way)."""
    values = obj.__dict__
    key = f"read_{relation}"
    if key in values and values[key] == getattr(obj, f"{relation}_id"):
        return values[f"{key}_{attr}"]
    related = getattr(obj, relation)
    return None if related is None else getattr(related, attr)


def household_list(*, user, filters=None):
    area = user_area(user)
    qs = Household.objects.for_user(user).annotate(member_count=member_count(area),
                                                   **household_names(area), **HOUSEHOLD_CODES)
    return HouseholdFilterSet(filters, qs, user=user).qs if filters is not None else qs


def household_with_members(*, user):
    """``household_list`` with each household's ``members`` — only those the user may see
    (``person_list``: a member registered in another kab/kota is absent, as a missing one)
    — in one query for all."""
    return household_list(user=user).prefetch_related(
        Prefetch("members", queryset=person_list(user=user).order_by("id")))


def household_get(*, user, pk) -> Household:
    return get_object_or_404(household_with_members(user=user), pk=pk)


def head_name(household, *, user) -> str | None:
    """The name of the household's head as ``user`` may see it: None when the head is
    registered outside the user's area. From the list's annotation (``household_names``)
    when it was read with one, otherwise asked of the loaded head (``within_area``)."""
    values = household.__dict__
    if "read_head" in values and values["read_head"] == household.head_id:
        return values["read_head_name"]
    head = household.head
    return head.name if head is not None and within_area(head, user) else None


def household_file(*, user, household: Household) -> dict:
    """What the household page shows besides its fields: its members inside the user's area
    (a member registered in another district is not shown — the head neither: ``head`` is
    None then, ``head_elsewhere`` True), its assets and programs."""
    members = list(person_list(user=user).filter(household_id=household.pk)
                   .order_by("birth_date", "id"))
    head = None
    if household.head_id is not None:
        head = next((m for m in members if m.pk == household.head_id), None) or (
            person_list(user=user).filter(pk=household.head_id).first())
    return {"members": members, "head": head,
            "head_elsewhere": household.head_id is not None and head is None,
            "assets": household.assets.all(), "programs": household.programs.all()}


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


def person_get(*, user, pk) -> Person:
    return get_object_or_404(person_list(user=user).select_related("household", "desa__induk"),
                             pk=pk)


def person_file(*, user, person: Person) -> dict:
    """What the person page shows: household members, cases with their transitions and
    services, all within the user's area, the duplicate records merged into the person, and
    whether its household's page is open to the user (``household_open``)."""
    members = (person_list(user=user).filter(household_id=person.household_id)
               .order_by("birth_date") if person.household_id else Person.objects.none())
    cases = (case_list(user=user).filter(Q(person=person) | Q(household_id=person.household_id)
                                         if person.household_id else Q(person=person))
             .prefetch_related(
                 Prefetch("transitions", queryset=CaseTransition.objects.select_related("actor")
                          .order_by("at", "id")),
                 Prefetch("services", queryset=Service.objects.select_related("service_type")
                          .order_by("start_date")))
             .order_by("-identified_on", "-id"))
    merges = (PersonMerge.objects.filter(kept=person).select_related("merged", "actor")
              .order_by("-at", "-id"))
    # a person of the area may hold a KK recorded in another kab/kota: its page (household_get)
    # answers 404 to this user, so the person page offers no way there
    household_open = person.household_id is not None and within_area(person.household, user)
    return {"members": members, "cases": cases, "merges": merges,
            "household_open": household_open}


def duplicate_get(*, user, pk) -> DuplicateCandidate:
    return get_object_or_404(duplicate_list(user=user).select_related(
        "person_a__desa", "person_b__desa", "person_a__household", "person_b__household"), pk=pk)


def dashboard(*, user):
    if not user.has_perm("pmks.view_person"):
        return None
    cases = case_list(user=user)
    open_cases = cases.filter(status__in=calculations.OPEN_STATUSES)
    by_status = dict(cached_rows(cases.values_list("status").annotate(n=Count("id")).order_by(),
                                 rows_of=cases))
    status_chart = Chart(
        "chart-cases-status", _("Kasus menurut status"), "doughnut",
        [label for value, label in CaseStatus.choices],
        [{"label": _("Kasus"), "data": [by_status.get(v, 0) for v in CaseStatus.values]}])
    # PMKS (open cases) per category and kab/kota: the five commonest categories, the rest summed
    rows = cached_rows(open_cases.annotate(kab_kota=Substr("desa_id", 1, 5))
                       .values("kab_kota", "category__name").annotate(n=Count("id")).order_by(),
                       rows_of=open_cases)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["category__name"]] = totals.get(row["category__name"], 0) + row["n"]
    top = sorted(totals, key=lambda name: -totals[name])[:5]
    units = sorted({row["kab_kota"] for row in rows})
    names = dict(Wilayah.objects.filter(kode__in=units).values_list("kode", "nama"))
    series = {name: dict.fromkeys(units, 0) for name in [*top, _("Lainnya")]}
    for row in rows:
        name = row["category__name"] if row["category__name"] in top else _("Lainnya")
        series[name][row["kab_kota"]] += row["n"]
    category_chart = Chart(
        "chart-cases-category", _("PMKS (kasus terbuka) per kategori dan kab/kota"), "bar",
        [names.get(u, u) for u in units],
        [{"label": name, "data": [values[u] for u in units]}
         for name, values in series.items() if any(values.values())], stacked=True)
    waiting = []
    if user.has_perm("pmks.change_person"):
        pairs = duplicate_list(user=user).filter(status=DuplicateStatus.OPEN).count()
        if pairs:
            waiting.append(Waiting(_("Pasangan data ganda untuk diputuskan"), pairs,
                                   reverse("pmks:duplicates")))
    return Panel(
        _("Registri PMKS"),
        figures=[
            Figure(_("Orang terdaftar"), cached_count(person_list(user=user)),
                   reverse("pmks:person-list")),
            Figure(_("Kasus terbuka"), cached_count(open_cases)),
            Figure(_("Keluarga"), cached_count(Household.objects.for_user(user))),
        ],
        charts=[category_chart, status_chart], waiting=waiting)


def case_get(*, user, pk, person: Person) -> Case:
    """A case of this person (or of its household) inside the user's area."""
    subject = Q(person=person)
    if person.household_id:
        subject |= Q(household_id=person.household_id)
    return get_object_or_404(case_list(user=user).filter(subject), pk=pk)


def service_get(*, user, pk, person: Person) -> Service:
    """A service on a case of this person (or of its household) inside the user's area."""
    case = case_get(user=user, pk=get_object_or_404(service_list(user=user), pk=pk).case_id,
                    person=person)
    return get_object_or_404(service_list(user=user).select_related("case"), pk=pk, case=case)


COMPARED_FIELDS = ("nik", "name", "birth_place", "birth_date", "sex", "desa", "household",
                   "relationship", "life_status", "occupation")


def duplicate_comparison(pair: DuplicateCandidate) -> list[dict]:
    """Field by field, A beside B, flagged where they differ (values as shown to staff)."""
    rows = []
    for name in COMPARED_FIELDS:
        field = Person._meta.get_field(name)
        a, b = getattr(pair.person_a, name), getattr(pair.person_b, name)
        rows.append({"name": name, "label": field.verbose_name, "a": a, "b": b,
                     "a_display": _display(pair.person_a, field), "b_display":
                     _display(pair.person_b, field), "differs": a != b})
    return rows


def _display(person: Person, field) -> object:
    if field.choices:
        return getattr(person, f"get_{field.name}_display")()
    return getattr(person, field.name)
