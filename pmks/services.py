"""Writes of the PMKS registry. Every write checks the actor's area and validates the whole
object (field validators, constraints, cross-field rules) before saving; the audit trail is
written by the registered models, whoever calls."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dinsos.scoping import ensure_in_area
from dinsos.validators import validate_nik_matches
from pmks import calculations
from pmks.choices import LifeStatus, Relationship
from pmks.models import Household, Person

HOUSEHOLD_FIELDS = {
    "no_kk", "address", "rt", "rw", "desa", "desa_id", "head", "head_id", "decile", "floor",
    "wall", "water_source", "lighting", "cooking_fuel", "toilet",
}
PERSON_FIELDS = {
    "nik", "name", "birth_place", "birth_date", "sex", "household", "household_id",
    "relationship", "desa", "desa_id", "disability", "schooling", "occupation", "life_status",
    "life_status_date",
}


def _assign(obj, fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(obj, name, value)


def _normalise_nik(value):
    value = (value or "").strip()
    return value or None


# --- households -------------------------------------------------------------------------------

def _household_check(household: Household) -> None:
    household.full_clean()
    if (
        household.head_id
        and household.pk
        and not Person.objects.filter(pk=household.head_id, household=household).exists()
    ):
        raise ValidationError({"head": _("Kepala keluarga harus anggota keluarga ini.")})


@transaction.atomic
def household_create(*, actor, **fields) -> Household:
    household = Household()
    _assign(household, fields, HOUSEHOLD_FIELDS)
    ensure_in_area(actor, household.desa_id)
    _household_check(household)
    household.save()
    return household


@transaction.atomic
def household_update(*, actor, household: Household, **fields) -> Household:
    ensure_in_area(actor, household.desa_id)
    _assign(household, fields, HOUSEHOLD_FIELDS)
    ensure_in_area(actor, household.desa_id)
    _household_check(household)
    household.save()
    return household


@transaction.atomic
def household_delete(*, actor, household: Household) -> None:
    ensure_in_area(actor, household.desa_id)
    if household.cases.exists():
        raise ValidationError(_("Keluarga yang memiliki kasus tidak dapat dihapus."))
    Household.objects.filter(pk=household.pk).update(head=None)
    household.members.update(household=None)
    household.delete()


# --- persons ----------------------------------------------------------------------------------

def _person_check(person: Person, actor) -> None:
    ensure_in_area(actor, person.desa_id)
    if person.household_id:
        ensure_in_area(actor, person.household.desa_id)
    person.nik = _normalise_nik(person.nik)
    person.name = " ".join((person.name or "").split())
    person.name_key = calculations.name_key(person.name)
    if person.life_status == LifeStatus.HIDUP:
        person.life_status_date = None
    elif person.life_status_date is None:
        raise ValidationError(
            {"life_status_date": _("Tanggal wajib diisi untuk status meninggal atau pindah.")}
        )
    person.full_clean()
    if person.nik:
        validate_nik_matches(person.nik, birth_date=person.birth_date, sex=person.sex)
    if person.merged_into_id:
        raise ValidationError(_("Orang ini sudah digabung ke data lain dan tidak dapat diubah."))


def _person_after_save(person: Person) -> None:
    """A member registered as head becomes the household's head if it has none."""
    if person.household_id and person.relationship == Relationship.KEPALA:
        Household.objects.filter(pk=person.household_id, head__isnull=True).update(head=person)


@transaction.atomic
def person_register(*, actor, **fields) -> Person:
    person = Person()
    _assign(person, fields, PERSON_FIELDS)
    _person_check(person, actor)
    person.save()
    _person_after_save(person)
    return person


@transaction.atomic
def person_update(*, actor, person: Person, **fields) -> Person:
    ensure_in_area(actor, person.desa_id)
    _assign(person, fields, PERSON_FIELDS)
    _person_check(person, actor)
    person.save()
    _person_after_save(person)
    return person


@transaction.atomic
def person_upsert(*, actor, nik: str, **fields) -> tuple[Person, bool]:
    """Create or update the person with this NIK (the district clients' sync operation)."""
    nik = _normalise_nik(nik)
    if not nik:
        raise ValidationError({"nik": _("NIK wajib diisi untuk sinkronisasi berdasarkan NIK.")})
    existing = Person.objects.select_for_update().filter(nik=nik).first()
    if existing is None:
        return person_register(actor=actor, nik=nik, **fields), True
    try:
        ensure_in_area(actor, existing.desa_id)
    except PermissionDenied as exc:
        raise PermissionDenied(
            _("NIK ini sudah terdaftar di wilayah lain. Hubungi Dinas Sosial Provinsi untuk "
              "pemindahan data.")
        ) from exc
    return person_update(actor=actor, person=existing, **fields), False


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    ensure_in_area(actor, person.desa_id)
    if person.cases.exists():
        raise ValidationError(_("Orang yang memiliki kasus tidak dapat dihapus; ubah statusnya."))
    Household.objects.filter(head=person).update(head=None)
    person.delete()
