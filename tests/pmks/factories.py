"""Factories and small builders for the PMKS registry tests (on top of tests/factories.py)."""

import datetime
import itertools

import factory

from dinsos import names
from dinsos.validators import build_nik, build_no_kk
from pmks.models import Case, CaseTransition, Category, Person, Service, ServiceType
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory

# Serials of our own (the shared factories count from 1), so hand-built numbers never collide.
_serial = itertools.count(5001)


def next_serial() -> int:
    return next(_serial)


def nik_for(birth_date: datetime.date, sex: str, kecamatan: str = "36.01.01",
            serial: int | None = None) -> str:
    return build_nik(kecamatan, birth_date, sex, next_serial() if serial is None else serial)


def no_kk_for(kecamatan: str = "36.01.01", serial: int | None = None,
              registered_on: datetime.date = datetime.date(2016, 4, 12)) -> str:
    return build_no_kk(kecamatan, registered_on, next_serial() if serial is None else serial)


class RegistryPersonFactory(PersonFactory):
    """A person whose name key is computed as the service computes it."""

    name_key = factory.LazyAttribute(lambda o: names.name_key(o.name))


def category(slug: str) -> Category:
    return Category.objects.get(slug=slug)


def service_type(code: str) -> ServiceType:
    return ServiceType.objects.get(code=code)


class CaseFactory(factory.django.DjangoModelFactory):
    """A case on a person, saved directly (status as given, no transition history)."""

    class Meta:
        model = Case

    person = factory.SubFactory(RegistryPersonFactory)
    household = None
    category = factory.LazyFunction(lambda: category("anak-terlantar"))
    desa_id = factory.LazyAttribute(
        lambda o: (o.person or o.household).desa_id if (o.person or o.household)
        else DESA_PANDEGLANG
    )
    identified_on = datetime.date(2024, 3, 1)
    source = "tksk"
    status = "teridentifikasi"


class HouseholdCaseFactory(CaseFactory):
    person = None
    household = factory.SubFactory(HouseholdFactory)
    category = factory.LazyFunction(lambda: category("fakir-miskin"))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    case = factory.SubFactory(CaseFactory, status="dalam_penanganan")
    service_type = factory.LazyFunction(lambda: service_type("pembinaan-keterampilan"))
    pillar = factory.LazyAttribute(lambda o: o.service_type.pillar)
    start_date = datetime.date(2024, 4, 1)
    funding_source = "apbd_provinsi"
    provider_name = "Panti Sosial Bina Remaja"
    value_amount = None


def transitions_of(case) -> list[tuple]:
    return list(
        CaseTransition.objects.filter(case=case)
        .order_by("id")
        .values_list("from_status", "to_status", "reason", "actor__username")
    )


def live_persons():
    return Person.objects.filter(merged_into__isnull=True)
