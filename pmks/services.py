"""Writes of the PMKS registry. Every write checks the actor's area and validates the whole
object (field validators, constraints, cross-field rules) before saving; the audit trail is
written by the registered models, whoever calls."""

import json
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations, groupby
from operator import itemgetter

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos import audit, changes, names
from dinsos.money import round_rupiah
from dinsos.scoping import area_q, ensure_in_area, restrict
from dinsos.services import assign_fields, clean_written, delete_or_refuse, field_values, locked
from pmks import calculations
from pmks.choices import CaseStatus, CloseReason, DuplicateStatus, LifeStatus, Relationship
from pmks.models import (
    Case,
    CaseTransition,
    Category,
    DuplicateCandidate,
    Household,
    Person,
    PersonMerge,
    Service,
    ServiceType,
)

HOUSEHOLD_FIELDS = {
    "no_kk", "address", "rt", "rw", "desa", "desa_id", "head", "head_id", "decile", "floor",
    "wall", "water_source", "lighting", "cooking_fuel", "toilet",
}
PERSON_FIELDS = {
    "nik", "name", "birth_place", "birth_date", "sex", "household", "household_id",
    "relationship", "desa", "desa_id", "marital_status", "disability", "chronic_illness",
    "schooling", "occupation", "life_status", "life_status_date",
}


UPSERT_CREATED, UPSERT_UPDATED, UPSERT_UNCHANGED = "created", "updated", "unchanged"


def _normalise_nik(value):
    value = (value or "").strip()
    return value or None


# --- households -------------------------------------------------------------------------------



#: a household's DTKS lists (many-to-many): a list sent replaces the stored one; one not sent
#: (None, or absent from an update or an upsert) keeps it
HOUSEHOLD_LISTS = ("assets", "programs")


def _take_lists(fields: dict) -> dict:
    """The DTKS lists among ``fields`` (taken out of it): {name: records or None}."""
    return {name: fields.pop(name) for name in HOUSEHOLD_LISTS if name in fields}


def _lists_differ(household: Household, lists: dict) -> bool:
    return any(values is not None and set(getattr(household, name).values_list("pk", flat=True))
               != {value.pk for value in values} for name, values in lists.items())


def _write_lists(household: Household, lists: dict) -> None:
    """Replace the lists sent: only the entries added and removed are written, each audited
    (``Household``'s ``m2m_fields``) and fed to the sync clients (``changes.register``)."""
    for name, values in lists.items():
        if values is not None:
            getattr(household, name).set(list(values))


@transaction.atomic
def household_save(*, actor, household: Household, written=None, assets=None,
                   programs=None) -> Household:
    """Validate and save a prepared household (new or changed), e.g. from an admin form;
    ``written``: the fields an update wrote (``clean_written``); ``assets``, ``programs``:
    the lists of the DTKS form that replace the stored ones (None: kept)."""
    ensure_in_area(actor, household.desa_id, field="desa")
    clean_written(household, written)
    adding = household._state.adding
    household.save()
    _write_lists(household, {"assets": assets, "programs": programs})
    if not adding:
        cases_follow(households=[household])
    return household


def household_create(*, actor, **fields) -> Household:
    lists = _take_lists(fields)
    household = Household()
    assign_fields(household, fields, HOUSEHOLD_FIELDS)
    return household_save(actor=actor, household=household, **lists)


@transaction.atomic
def household_update(*, actor, household: Household, **fields) -> Household:
    """Change the given fields of the stored household (``locked``), never the caller's copy:
    a head set meanwhile (a kepala registered) is kept. Returns the saved row."""
    household = locked(household)
    ensure_in_area(actor, household.desa_id, typed=False)
    lists = _take_lists(fields)
    head = household.head_id
    changed = assign_fields(household, fields, HOUSEHOLD_FIELDS)
    _check_new_head(household, before=head)
    return household_save(actor=actor, household=household, written=changed, **lists)


def _check_new_head(household: Household, *, before) -> None:
    """A head named by hand (API, admin, sync) is the member registered as the household's
    living kepala keluarga: the head follows the KK, so another member (a child while the
    father is kepala) is refused. To change the head, change the members' ``hubungan``."""
    if household.head_id is None or household.head_id == before:
        return
    head = Person.objects.filter(pk=household.head_id, household_id=household.pk).first()
    if head is not None and not head.counts_as_kepala:
        raise ValidationError({"head": _(
            "%(name)s tidak tercatat sebagai kepala keluarga yang masih hidup di KK ini; "
            "kepala keluarga mengikuti hubungan anggota — ubah dulu hubungan anggotanya.")
            % {"name": head.name}})


@transaction.atomic
def household_upsert(*, actor, no_kk: str, **fields) -> tuple[Household, str]:
    """Create or update the household with this No. KK (district sync): ``created``,
    ``updated`` or ``unchanged`` (nothing saved)."""
    no_kk = (no_kk or "").strip()
    existing = restrict(Household.objects.select_for_update(), actor).filter(no_kk=no_kk).first()
    if existing is None:  # another district's No. KK: refused by its uniqueness, as on POST
        return household_create(actor=actor, no_kk=no_kk, **fields), UPSERT_CREATED

    head = existing.head_id
    lists = _take_lists(fields)  # a list the row does not send is kept
    lists_differ = _lists_differ(existing, lists)

    def check(household, changed):
        ensure_in_area(actor, household.desa_id, field="desa")
        _check_new_head(household, before=head)
        clean_written(household, changed)

    outcome = _save_if_changed(existing, fields, HOUSEHOLD_FIELDS, check=check,
                               after_save=lambda h: cases_follow(households=[h]),
                               changed_besides=lists_differ)
    if lists_differ:
        _write_lists(existing, lists)
    return existing, outcome


def _save_if_changed(record, fields: dict, allowed: set, *, check, after_save=None,
                     changed_besides: bool = False) -> str:
    """An upsert's update: assign, validate with ``check`` (given the changed fields, for
    ``clean_written``), and save only when a stored value differs, or ``changed_besides``
    (a household's lists: its ``updated_at``, and so its ETag, moves with them);
    ``unchanged`` writes nothing, so no change is fed to sync clients."""
    before = field_values(record)
    changed = assign_fields(record, fields, allowed)
    check(record, changed)
    if field_values(record) == before and not changed_besides:
        return UPSERT_UNCHANGED
    record.save()
    if after_save is not None:
        after_save(record)
    return UPSERT_UPDATED


@transaction.atomic
def household_delete(*, actor, household: Household) -> None:
    ensure_in_area(actor, household.desa_id, typed=False)
    if household.cases.exists():
        raise ValidationError(_("Keluarga yang memiliki kasus tidak dapat dihapus."))
    Household.objects.filter(pk=household.pk).update(head=None)
    changes.update(household.members.all(), household=None)
    delete_or_refuse(household)


# --- persons ----------------------------------------------------------------------------------

def lock_households(ids) -> None:
    """Lock households before their kepala keluarga are read (``Person.check_one_kepala``):
    every writer that may make someone a household's kepala takes this lock first — a single
    save here, the import lanes (``pmks.importing``, and ``pmks.staging`` in SQL) — so two of
    them can never both find the household without one. ``FOR NO KEY UPDATE``: a member
    added meanwhile (his foreign key's ``KEY SHARE``) does not wait. In id order, so two
    writers never deadlock on each other's households."""
    list(Household.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
         .values_list("pk", flat=True))


def _household_id(value):
    return getattr(value, "pk", value)


def locked_person(person: Person, fields: dict | None = None) -> Person:
    """The stored row of ``person`` under lock, in the order every writer takes them — its
    households first (``lock_households``: the one it lives in, and the one
    ``fields`` move it to), then the person — so a merge or a kepala registered meanwhile is
    seen by the checks, and two writers never deadlock. The household is the stored one (the
    caller's copy may be a form's, already changed); one it moved to in between the two reads
    is locked after."""
    fields = fields or {}
    stored_household = (Person._base_manager.filter(pk=person.pk)
                        .values_list("household_id", flat=True).first())
    households = {stored_household, _household_id(fields.get("household")),
                  fields.get("household_id")} - {None}
    lock_households(households)
    stored = locked(person)
    if stored.household_id and stored.household_id not in households:
        lock_households([stored.household_id])
    return stored


def _person_check(person: Person, actor, written=None) -> None:
    """The checks of a person being saved (``written``: the fields an update wrote, None for
    a new or wholly prepared person). The household's area is asked when the household is
    written: a person of the user's area whose KK is recorded in another kab/kota stays
    editable (a death, a new occupation), and the refusal names no wilayah of that KK."""
    ensure_in_area(actor, person.desa_id, field="desa")
    if person.household_id and (written is None or {"household", "household_id"} & set(written)):
        ensure_in_area(actor, person.household.desa_id, field="household", typed=False)
    if person.counts_as_kepala and person.household_id:
        lock_households([person.household_id])
    person.nik = _normalise_nik(person.nik)
    person.name = " ".join((person.name or "").split())
    person.name_key = names.name_key(person.name)
    clean_written(person, written)
    if person.merged_into_id:
        raise ValidationError(_("Orang ini sudah digabung ke data lain dan tidak dapat diubah."))


def cases_follow(*, persons=(), households=()) -> None:
    """Open cases live where their subject lives — a person's case where the person lives, a
    household's (Fakir Miskin) where its KK is recorded — so scoping follows a move or a
    merge: the kab/kota that now serves the subject sees, continues and is fed its open case,
    the one it left gets ``left_area``. For saved ``persons`` and ``households`` (the
    services, the row import; the COPY import does the same in SQL: ``Stage._heads``); each
    case moved is saved, so its audit entry and sync change are written as for any save. A
    closed case stays where it happened."""
    person_ids = [p.pk for p in persons if p.pk]
    household_ids = [h.pk for h in households if h.pk]
    if not person_ids and not household_ids:
        return
    moved = (Case.objects.filter(Q(person_id__in=person_ids) | Q(household_id__in=household_ids),
                                 status__in=calculations.OPEN_STATUSES)
             .annotate(home=Coalesce("person__desa", "household__desa"))
             .exclude(desa_id=F("home")).order_by("pk"))
    for case in moved:
        case.desa_id = case.home
        case.save(update_fields=["desa", "updated_at"])


#: a household whose head is no longer its living kepala keluarga (or that has none)
HEAD_VACANT = (Q(head__isnull=True) | ~Q(head__relationship=Relationship.KEPALA)
               | ~Q(head__life_status=LifeStatus.HIDUP) | Q(head__merged_into__isnull=False))


def persons_after_save(persons) -> None:
    """The rules that follow saved persons, for one (the services) or many at once (the
    import): open cases follow their person; a head who left a household is no longer its
    head; a member who counts as its kepala (``Person.counts_as_kepala``) becomes the head of
    a household that has none, or whose head is no longer registered as its kepala, died,
    moved away or was merged."""
    persons = [p for p in persons if p.pk]
    cases_follow(persons=persons)
    by_id = {p.pk: p for p in persons}
    changed: dict[int, tuple[Household, dict]] = {}
    for household in Household.objects.filter(head_id__in=by_id):
        if by_id[household.head_id].household_id != household.pk:
            changed[household.pk] = (household, {"head": [household.head_id, None]})
            household.head_id = None
    heads = {p.household_id: p for p in reversed(persons) if p.counts_as_kepala}
    for household in (Household.objects.filter(pk__in=heads).filter(HEAD_VACANT)
                      .exclude(pk__in=changed)):
        changed[household.pk] = (household, {"head": [household.head_id,
                                                       heads[household.pk].pk]})
        household.head_id = heads[household.pk].pk
    for household, _changes in changed.values():
        if household.pk in heads and household.head_id is None:
            household.head_id = heads[household.pk].pk
            _changes["head"][1] = household.head_id
        household.updated_at = timezone.now()
    households = [h for h, _c in changed.values()]
    Household.objects.bulk_update(households, ["head", "updated_at"])
    audit.log_bulk(Household, [(h, c, LogEntry.Action.UPDATE) for h, c in changed.values()])


@transaction.atomic
def person_save(*, actor, person: Person, written=None) -> Person:
    """Validate and save a prepared person (new or changed), e.g. from an admin form;
    ``written``: the fields an update wrote (``clean_written``)."""
    _person_check(person, actor, written)
    person.save()
    persons_after_save([person])
    return person


def person_register(*, actor, **fields) -> Person:
    person = Person()
    assign_fields(person, fields, PERSON_FIELDS)
    return person_save(actor=actor, person=person)


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    """Change the given fields of the stored person (``locked_person``), never the caller's
    copy: a merge committed meanwhile is refused by the check, not undone. Returns the saved
    row."""
    person = locked_person(person, fields)
    ensure_in_area(actor, person.desa_id, typed=False)
    changed = assign_fields(person, fields, PERSON_FIELDS)
    return person_save(actor=actor, person=person, written=changed)


@transaction.atomic
def person_upsert(*, actor, nik: str, **fields) -> tuple[Person, str]:
    """Create or update the person with this NIK (the district clients' sync operation):
    ``created``, ``updated`` or ``unchanged`` (same data: nothing saved, no change fed)."""
    nik = _normalise_nik(nik)
    if not nik:
        raise ValidationError({"nik": _("NIK wajib diisi untuk sinkronisasi berdasarkan NIK.")})
    existing = restrict(Person.objects.all(), actor).filter(nik=nik).first()
    if existing is not None:  # its households, then its row (the order of every writer)
        existing = locked_person(existing, fields)
    if existing is None:
        # A NIK held by another district is treated as unknown: registering it then fails on
        # the NIK's uniqueness exactly as POST /persons/ does, never naming where it lives.
        return person_register(actor=actor, nik=nik, **fields), UPSERT_CREATED
    return existing, _save_if_changed(existing, fields, PERSON_FIELDS,
                                      check=lambda p, changed: _person_check(p, actor, changed),
                                      after_save=lambda p: persons_after_save([p]))


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    ensure_in_area(actor, person.desa_id, typed=False)
    if person.cases.exists():
        raise ValidationError(_("Orang yang memiliki kasus tidak dapat dihapus; ubah statusnya."))
    changes.update(Household.objects.filter(head=person), head=None)
    delete_or_refuse(person)


# --- cases ------------------------------------------------------------------------------------

def _record_transition(case, *, from_status: str, actor, reason: str = "") -> None:
    CaseTransition.objects.create(
        case=case, from_status=from_status, to_status=case.status, reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def case_open(
    *, actor, category: Category, identified_on, source: str, person: Person | None = None,
    household: Household | None = None, source_note: str = "", description: str = "",
) -> Case:
    """Open a case for a person, or for a household when the category is a household-level
    problem (e.g. Fakir Miskin). Its wilayah is derived from the subject, never sent."""
    if (person is None) == (household is None):
        raise ValidationError(_("Kasus harus untuk satu orang atau satu keluarga."))
    # one open case per subject and category (Case.clean): the subject's row is locked, so two
    # officers (or a form sent twice) cannot both pass the check; and its merge and its desa
    # are the stored ones, a merge or a move committed meanwhile included
    subject = locked(person or household)
    ensure_in_area(actor, subject.desa_id, typed=False)
    if person is not None and subject.merged_into_id:
        raise ValidationError({"person": _("Orang ini sudah digabung ke data lain.")})
    person, household = (subject, None) if person is not None else (None, subject)
    case = Case(
        person=person, household=household, category=category, desa_id=subject.desa_id,
        identified_on=identified_on, source=source, source_note=source_note,
        description=description,
    )
    case.viewer = actor  # a refusal describes only what the actor may see (Case.clean)
    case.full_clean()
    case.save()
    _record_transition(case, from_status="", actor=actor, reason=_("Kasus dicatat."))
    return case


@transaction.atomic
def case_transition(
    *, actor, case: Case, to_status: str, reason: str = "", close_reason: str = ""
) -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    ensure_in_area(actor, case.desa_id, typed=False)
    if not calculations.case_transition_allowed(case.status, to_status):
        raise ValidationError(
            {"status": _("Status %(from)s tidak dapat diubah menjadi %(to)s.")
             % {"from": case.get_status_display(), "to": CaseStatus(to_status).label
                if to_status in CaseStatus.values else to_status}}
        )
    reason = (reason or "").strip()
    if to_status in calculations.REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("Alasan wajib diisi untuk status ini.")})
    if to_status == CaseStatus.DITUTUP:
        if close_reason not in CloseReason.values:
            raise ValidationError(
                {"close_reason": _("Pilih alasan penutupan: meninggal, pindah, duplikat, lainnya.")}
            )
        case.close_reason = close_reason
    from_status = case.status
    case.status = to_status
    case.save(update_fields=["status", "close_reason", "updated_at"])
    _record_transition(case, from_status=from_status, actor=actor, reason=reason)
    return case


# --- services (layanan) -----------------------------------------------------------------------

SERVICEABLE = (CaseStatus.TERVERIFIKASI, CaseStatus.DALAM_PENANGANAN)


@transaction.atomic
def service_record(
    *, actor, case: Case, service_type: ServiceType, start_date, funding_source: str,
    end_date=None, value_amount=None, provider_office=None, provider_name: str = "",
    note: str = "",
) -> Service:
    """Record a service delivered on a verified case. The first service puts a verified case
    "dalam penanganan". Values are whole rupiah (dinsos.money.round_rupiah)."""
    case = Case.objects.select_for_update().get(pk=case.pk)  # its status now, not the caller's
    ensure_in_area(actor, case.desa_id, typed=False)
    if case.status not in SERVICEABLE:
        raise ValidationError(
            {"case": _("Layanan hanya dapat dicatat untuk kasus terverifikasi atau dalam "
                       "penanganan (status kasus: %(status)s).")
             % {"status": case.get_status_display()}}
        )
    if not provider_office and not provider_name:
        raise ValidationError({"provider_name": _("Isi pemberi layanan (dinas atau lembaga).")})
    service = Service(
        case=case, service_type=service_type, pillar=service_type.pillar, start_date=start_date,
        end_date=end_date, funding_source=funding_source,
        value_amount=None if value_amount is None else round_rupiah(value_amount),
        provider_office=provider_office, provider_name=provider_name, note=note,
    )
    service.full_clean()
    service.save()
    if case.status == CaseStatus.TERVERIFIKASI:
        case_transition(actor=actor, case=case, to_status=CaseStatus.DALAM_PENANGANAN,
                        reason=_("Layanan pertama dicatat: %(name)s") % {"name": service_type.name})
    return service


@transaction.atomic
def service_update(*, actor, service: Service, **fields) -> Service:
    """Change the given fields of the stored service (``locked``). Returns the saved row."""
    service = locked(service)
    ensure_in_area(actor, service.case.desa_id, typed=False)
    allowed = {"start_date", "end_date", "value_amount", "funding_source", "provider_office",
               "provider_name", "note"}
    assign_fields(service, fields, allowed)
    if service.value_amount is not None:
        service.value_amount = round_rupiah(service.value_amount)
    service.full_clean()
    service.save()
    return service


# --- duplicates -------------------------------------------------------------------------------

@dataclass
class DuplicateScan:
    persons: int = 0
    pairs: int = 0


def _flush_candidates(candidates: list[DuplicateCandidate]) -> None:
    # A pair found again keeps its review status; only its score and reasons are refreshed.
    DuplicateCandidate.objects.bulk_create(
        candidates, update_conflicts=True, unique_fields=["person_a", "person_b"],
        update_fields=["score", "reasons"], batch_size=1000,
    )
    candidates.clear()


def _candidate_pairs(group: list) -> set[tuple[int, int]]:
    """Index pairs of one birth date's persons that share a blocking key. In a NIK-neighbour
    block only NIKs one typo apart make a pair: any other pair of it scores through its
    kecamatan block or not at all."""
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for index, (_pk, nik, _key, desa_id, _born) in enumerate(group):
        for block in calculations.blocking_keys(desa_id=desa_id, nik=nik):
            buckets[block].append(index)
    pairs = set()
    for block, members in buckets.items():
        if len(members) < 2:
            continue
        if block[0] == "kecamatan":
            pairs.update(combinations(members, 2))
        else:
            pairs.update((i, j) for i, j in combinations(members, 2)
                         if calculations.nik_one_typo_apart(group[i][1], group[j][1]))
    return pairs


def duplicates_find(*, user, wilayah: str | None = None, chunk_size: int = 5000) -> DuplicateScan:
    """Scan persons for likely duplicates, streaming: one ordered pass by birth date; inside a
    birth date only persons that share a blocking key are compared (see
    ``calculations.blocking_keys``). Memory holds one birth date's group at a time."""
    qs = Person.objects.for_user(user).filter(merged_into__isnull=True)
    if wilayah:
        qs = qs.filter(area_q("desa", wilayah))
    rows = (
        qs.order_by("birth_date", "id")
        .values_list("id", "nik", "name_key", "desa_id", "birth_date")
        .iterator(chunk_size=chunk_size)
    )
    scan = DuplicateScan()
    pending: list[DuplicateCandidate] = []
    for _birth_date, group in groupby(rows, key=itemgetter(4)):
        group = list(group)
        scan.persons += len(group)
        for i, j in _candidate_pairs(group):
            a, b = group[i], group[j]
            score, reasons = calculations.duplicate_score(
                key_a=a[2], key_b=b[2], same_kecamatan=a[3][:8] == b[3][:8],
                same_birth_date=True, nik_a=a[1], nik_b=b[1],
            )
            if score:
                low, high = sorted((a[0], b[0]))
                pending.append(DuplicateCandidate(person_a_id=low, person_b_id=high, score=score,
                                                  reasons=reasons))
                scan.pairs += 1
        if len(pending) >= chunk_size:
            _flush_candidates(pending)
    if pending:
        _flush_candidates(pending)
    return scan


@transaction.atomic
def duplicate_dismiss(*, actor, candidate: DuplicateCandidate) -> DuplicateCandidate:
    ensure_in_area(actor, candidate.person_a.desa_id, typed=False)
    ensure_in_area(actor, candidate.person_b.desa_id, typed=False)
    candidate.status = DuplicateStatus.DISMISSED
    candidate.reviewed_by = actor
    candidate.reviewed_at = timezone.now()
    candidate.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return candidate


def _snapshot(person: Person) -> dict:
    data = model_to_dict(person, exclude=["merged_into"])
    data["cases"] = list(person.cases.values_list("id", flat=True))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@transaction.atomic
def person_merge(*, actor, kept: Person, merged: Person, reason: str = "") -> PersonMerge:
    """Fold ``merged`` into ``kept`` after review: cases (and so their services), household
    headship and membership move to ``kept``; ``merged`` stays as a record pointing to ``kept``
    so the history of both remains (audit trail, PersonMerge snapshot)."""
    # the households concerned first, then both persons in id order: the order of a single
    # save (``locked_person``), so the kept person's check_one_kepala below is safe and a
    # kepala registered meanwhile waits for the merge
    households = {kept.household_id, merged.household_id} - {None}
    lock_households(households)
    rows = {p.pk: p for p in Person.objects.select_for_update()
            .filter(pk__in=[kept.pk, merged.pk]).order_by("pk")}
    kept, merged = rows[kept.pk], rows[merged.pk]
    lock_households({kept.household_id, merged.household_id} - households - {None})
    if kept.pk == merged.pk:
        raise ValidationError(_("Tidak dapat menggabungkan orang dengan dirinya sendiri."))
    for person in (kept, merged):
        ensure_in_area(actor, person.desa_id, typed=False)
        if person.merged_into_id:
            raise ValidationError(_("%(name)s sudah digabung sebelumnya.") % {"name": person.name})
    record = PersonMerge.objects.create(
        kept=kept, merged=merged, actor=actor, reason=reason, snapshot=_snapshot(merged)
    )
    for case in merged.cases.all():
        case.person = kept
        case.save(update_fields=["person", "updated_at"])
    cases_follow(persons=[kept])
    nik, household_id, relationship = merged.nik, merged.household_id, merged.relationship
    kept_household = kept.household_id or household_id  # where the kept person will live
    for household in Household.objects.filter(head=merged):
        # Headship moves only into the household the kept person belongs to.
        household.head = kept if household.pk == kept_household else None
        household.save(update_fields=["head", "updated_at"])
    merged.merged_into = kept
    merged.nik, merged.household, merged.relationship = None, None, ""
    merged.save(update_fields=["merged_into", "nik", "household", "relationship", "updated_at"])
    changes.record_merged(merged, into=kept)
    changed = []
    if not kept.nik and nik:
        kept.nik = nik
        changed.append("nik")
    if not kept.household_id and household_id:
        kept.household_id, kept.relationship = household_id, relationship
        kept.check_one_kepala()  # the merged one's place: refused if another is kepala now
        changed += ["household", "relationship"]
    if changed:
        kept.save(update_fields=[*changed, "updated_at"])
    DuplicateCandidate.objects.filter(
        Q(person_a__in=[kept.pk, merged.pk]) & Q(person_b__in=[kept.pk, merged.pk])
    ).update(status=DuplicateStatus.MERGED, reviewed_by=actor, reviewed_at=timezone.now())
    return record


@transaction.atomic
def case_update(*, actor, case: Case, **fields) -> Case:
    """Descriptive fields only, of the stored case (``locked``): the status changes through
    case_transition, and one committed meanwhile is kept. Returns the saved row."""
    case = locked(case)
    ensure_in_area(actor, case.desa_id, typed=False)
    assign_fields(case, fields, {"source_note", "description", "identified_on"})
    case.full_clean()
    case.save()
    return case


@transaction.atomic
def service_delete(*, actor, service: Service) -> None:
    ensure_in_area(actor, service.case.desa_id, typed=False)
    service.delete()
