"""factory_boy factories shared by every app's tests."""

import datetime
import itertools

import factory
from django.contrib.auth.models import Group

from dinsos.models import Office, User
from dinsos.validators import build_nik, build_no_kk
from pmks.models import Household, Person

# Real desa codes (wilayah_banten.csv) used across the tests.
DESA_PANDEGLANG = "36.01.01.2001"  # Sumberjaya, Kec. Sumur, Kab. Pandeglang
DESA_PANDEGLANG_2 = "36.01.01.2002"
DESA_LEBAK = "36.02.01.2002"  # Cilangkahan, Kec. Malingping, Kab. Lebak
_serial = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    office = factory.LazyFunction(lambda: Office.objects.get(wilayah_id="36"))
    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


def office_for(kode: str) -> Office:
    return Office.objects.get(wilayah_id=kode)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    desa_id = DESA_PANDEGLANG
    no_kk = factory.LazyAttribute(
        lambda o: build_no_kk(o.desa_id[:8], datetime.date(2015, 3, 1), next(_serial))
    )
    address = factory.Sequence(lambda n: f"Kp. Contoh No. {n}")
    rt = "001"
    rw = "002"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    desa_id = DESA_PANDEGLANG
    name = factory.Sequence(lambda n: f"Warga Contoh {n}")
    birth_place = "Pandeglang"
    birth_date = datetime.date(1980, 8, 17)
    sex = "L"
    nik = factory.LazyAttribute(
        lambda o: build_nik(o.desa_id[:8], o.birth_date, o.sex, next(_serial))
    )
    name_key = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", ""))
