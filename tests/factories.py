"""factory_boy factories shared by every app's tests."""

import datetime
import itertools

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from dinsos.models import Office, User
from dinsos.validators import build_nik, build_no_kk
from jamsosratu.models import Cycle
from pmks.models import Household, Person
from psks.models import Bank

# Real desa codes (wilayah_banten.csv) used across the tests.
DESA_PANDEGLANG = "36.01.01.2001"  # Sumberjaya, Kec. Sumur, Kab. Pandeglang
DESA_PANDEGLANG_2 = "36.01.01.2002"
DESA_LEBAK = "36.02.01.2002"  # Cilangkahan, Kec. Malingping, Kab. Lebak
# a decree that is still running on whatever day the suite runs (a TKSK's must have an end)
ON_DUTY_UNTIL = datetime.date(datetime.date.today().year + 3, 12, 31)
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


def named(name: str, **kwargs) -> Person:
    """A person whose name key is the one the registry computes (searchable by variants)."""
    from pmks import calculations

    return PersonFactory(name=name, name_key=calculations.name_key(name), **kwargs)


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
    # months of 2000–2025, round and round: a report is never for a month still to come (the
    # sequence ran into 2027 after a few hundred reports in one test process)
    period = factory.Sequence(lambda n: datetime.date(2000 + n // 12 % 26, 1 + n % 12, 1))


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "psks.Meeting"

    kecamatan_id = "36.01.01"
    date = datetime.date(2026, 10, 15)
    agenda = "Rakor bulanan"


# --- jamsosratu -------------------------------------------------------------------------------

def cycle_with_tranches(year: int = 2026, benefit: str = "1750000", shares=("1", "1"),
                        quota: int = 100):
    """A cycle with tranches of the given weights, a quota in every kab/kota and the default
    commitment rule (none unmet: full; some: 25% less; all: suspended)."""
    from decimal import Decimal

    from jamsosratu.models import ConditionRule, Cycle, Quota, Tranche

    cycle = Cycle.objects.create(
        year=year, name=f"Jamsosratu {year}", legal_basis="Pergub uji",
        benefit_amount=Decimal(benefit),
        qualifying_conditions=["hamil_nifas", "balita", "anak_sekolah", "lansia"])
    for number, share in enumerate(shares, start=1):
        Tranche.objects.create(cycle=cycle, number=number, share=Decimal(share),
                               planned_month=number * 5)
    for code in ["36.01", "36.02", "36.03", "36.04", "36.71", "36.72", "36.73", "36.74"]:
        Quota.objects.create(cycle=cycle, kab_kota_id=code, quota=quota)
    for minimum, outcome, reduction in [("0", "penuh", "0"), ("0.0001", "dikurangi", "0.25"),
                                        ("1", "ditangguhkan", "1")]:
        ConditionRule.objects.create(cycle=cycle, min_unmet_ratio=Decimal(minimum),
                                     outcome=outcome, reduction_share=Decimal(reduction))
    return cycle


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "jamsosratu.Enrolment"

    household = factory.SubFactory(HouseholdFactory)
    cycle = factory.LazyFunction(
        lambda: Cycle.objects.filter(year=2026).first()
        or cycle_with_tranches())
    desa_id = factory.LazyAttribute(lambda o: o.household.desa_id)
    account_number = factory.Sequence(lambda n: f"0099{n:08d}")
    # an account another user verified (four eyes); tests of the rule itself clear it
    account_verified_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.account_number else None)


class VerificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "jamsosratu.Verification"

    enrolment = factory.SubFactory(EnrolmentFactory)
    verifier = factory.LazyAttribute(lambda o: WorkerFactory(desa_id=o.enrolment.desa_id))
    visit_date = datetime.date(2026, 3, 1)
    result = "sesuai"
    recorded_by = factory.SubFactory(UserFactory)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "jamsosratu.Payment"

    enrolment = factory.SubFactory(EnrolmentFactory)
    tranche = factory.LazyAttribute(lambda o: o.enrolment.cycle.tranches.first())
    desa_id = factory.LazyAttribute(lambda o: o.enrolment.desa_id)
    tranche_amount = 875000
    amount = 875000
    outcome = "penuh"
    channel = "bank_banten"
    status = "dijadwalkan"


# --- incentives -------------------------------------------------------------------------------

class PayoutRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "incentives.PayoutRun"

    period = factory.Sequence(lambda n: datetime.date(2000 + n // 12, 1 + n % 12, 1))
    status = "dihitung"


class PayoutLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "incentives.PayoutLine"

    run = factory.SubFactory(PayoutRunFactory)
    worker = factory.SubFactory(WorkerFactory)
    role = "tksk"
    component = "insentif"
    period = factory.LazyAttribute(lambda o: o.run.period)
    area_id = factory.LazyAttribute(lambda o: o.worker.desa_id[:8])
    gross_amount = 1000000
    tax_amount = 0
    net_amount = 1000000
    funding_source = "apbd_provinsi"
    status = "dibayarkan"
