"""factory_boy factories shared by every app's tests."""

import datetime
import itertools

import factory
from django.contrib.auth.models import Group

from dinsos.models import Office, User
from dinsos.validators import build_nik, build_no_kk
from pmks.models import Household, Person
from psks.models import Bank

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


# --- psks -------------------------------------------------------------------------------------

class WorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.Worker"

    desa_id = DESA_PANDEGLANG
    name = factory.Sequence(lambda n: f"Tenaga Contoh {n}")
    sex = "L"
    birth_date = datetime.date(1985, 8, 17)
    nik = factory.LazyAttribute(
        lambda o: build_nik(o.desa_id[:8], o.birth_date, o.sex, next(_serial))
    )


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.Assignment"

    worker = factory.SubFactory(WorkerFactory)
    role = "tksk"
    area_id = factory.LazyAttribute(lambda o: o.worker.desa_id[:8])
    decree_number = factory.Sequence(lambda n: f"460/{n}/Dinsos/2025")
    decree_date = datetime.date(2025, 1, 2)
    decree_office = factory.LazyFunction(lambda: Office.objects.get(wilayah_id="36"))
    start_date = datetime.date(2025, 1, 2)
    end_date = datetime.date(2029, 12, 31)
    funding_source = "apbd_provinsi"


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.BankAccount"

    worker = factory.SubFactory(WorkerFactory)
    bank = factory.LazyFunction(lambda: Bank.objects.get(code="bank_banten"))
    account_number = factory.Sequence(lambda n: f"{1000000000 + n}")
    holder_name = factory.LazyAttribute(lambda o: o.worker.name)
    created_by = factory.SubFactory(UserFactory)


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.Institution"

    type = "lks"
    name = factory.Sequence(lambda n: f"LKS Contoh {n}")
    desa_id = DESA_PANDEGLANG


class ActivityReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.ActivityReport"

    worker = factory.SubFactory(WorkerFactory)
    period = factory.Sequence(lambda n: datetime.date(2020 + n // 12, 1 + n % 12, 1))


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.Meeting"

    kecamatan_id = "36.01.01"
    date = datetime.date(2026, 10, 15)
    agenda = "Rakor bulanan"
