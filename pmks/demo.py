"""Demo registry: ~40 households in six kab/kota, their members, cases in every status and
services under all four pillars, and persons registered twice (the duplicates page has pairs
to decide). Deterministic and idempotent (keyed by No. KK and NIK; the doubles by name, birth
date and desa)."""

import datetime
import random
from decimal import Decimal

from dinsos.choices import FundingSource
from dinsos.demo import seeder
from dinsos.models import Office, User, Wilayah
from dinsos.validators import build_nik, build_no_kk
from pmks import services
from pmks.choices import CaseSource, CaseStatus, ChronicIllness, MaritalStatus, Relationship
from pmks.models import Asset, Case, Category, Household, Person, Program, ServiceType

MEN = ["Ahmad", "Budi", "Dedi", "Eko", "Hendra", "Iwan", "Jajang", "Mamat", "Rudi", "Ujang",
       "Muhammad Rizky", "Asep", "Dadang", "Endang", "Yayan"]
WOMEN = ["Siti Aminah", "Nurhayati", "Euis", "Iis", "Neneng", "Rina", "Sri Wahyuni", "Yeni",
         "Dewi", "Lilis", "Siti Nurhaliza", "Ade", "Enok"]
FAMILY = ["Suhendar", "Saputra", "Hidayat", "Rohmat", "Sutisna", "Permana", "Kurnia", "Santosa"]
KAB_KOTA = ["36.01", "36.02", "36.03", "36.04", "36.72", "36.73"]
STEPS = {
    CaseStatus.TERIDENTIFIKASI: [],
    CaseStatus.TERVERIFIKASI: [CaseStatus.TERVERIFIKASI],
    CaseStatus.DALAM_PENANGANAN: [CaseStatus.TERVERIFIKASI],  # + a service
    CaseStatus.SELESAI: [CaseStatus.TERVERIFIKASI, CaseStatus.DALAM_PENANGANAN,
                         CaseStatus.SELESAI],
}


def _desa_for(rng, kab_kota: str) -> Wilayah:
    villages = list(Wilayah.objects.filter(tingkat__in=("desa", "kelurahan"),
                                           kode__startswith=f"{kab_kota}.").order_by("kode")[:40])
    return rng.choice(villages)


def _member(rng, household, desa, relationship, sex, birth, serial, name):
    nik = build_nik(desa.kode[:8], birth, sex, serial)
    existing = Person.objects.filter(nik=nik).first()
    if existing:
        return existing
    # no draw of their own (the demo's other data stay as they were): a couple is married,
    # a child not; the elder heads live with high blood pressure
    married = (MaritalStatus.BELUM_KAWIN if relationship == Relationship.ANAK
               else MaritalStatus.KAWIN)
    illness = (ChronicIllness.HIPERTENSI if relationship == Relationship.KEPALA
               and birth.year < 1970 else ChronicIllness.TIDAK)
    return services.person_register(
        actor=_actor(), nik=nik, name=name, birth_place=desa.nama, birth_date=birth, sex=sex,
        household=household, relationship=relationship, desa=desa,
        marital_status=married, chronic_illness=illness,
        schooling=rng.choice(["sd", "smp", "sma", "tidak_sekolah"]),
        occupation=rng.choice(["Buruh tani", "Pedagang", "Nelayan", "Tidak bekerja", "Ojek"]),
    )


#: Registered a second time, without NIK and spelled otherwise (a TKSK's report meeting the
#: DTSEN data): name of the demo person -> the second spelling.
REGISTERED_TWICE = {"Muhammad Rizky Hidayat": "M. Rizky Hidayat",
                    "Siti Nurhaliza": "Siti Nur Haliza"}


def _actor():
    return User.objects.get(username="admin")


#: what the demo households own and take part in, by desil (1 and 2: the poorest)
DEMO_ASSETS = ["tabung-gas", "sepeda", "sepeda-motor", "televisi-layar-datar", "lemari-es",
               "lahan", "perahu"]
POOREST_PROGRAMS = ["kks", "pkh", "bpnt", "kis-pbi-jk"]
OTHER_PROGRAMS = ["kis-pbi-jk", "bpjs-kesehatan-mandiri", "blt-dana-desa", "kip-pip",
                  "jamsosratu", "rutilahu"]


def _household_lists(index: int, assets: dict, programs: dict) -> dict:
    """A demo household's assets (one to three) and programs, from a stream of its own (the
    registry's stream, and so the rest of the demo, stays as it was)."""
    rng = random.Random(7200 + index)
    decile = 1 + index % 4  # as the household is created below
    owned = rng.sample(DEMO_ASSETS, rng.randint(1, 3))
    taken = (rng.sample(POOREST_PROGRAMS, rng.randint(2, 4)) if decile <= 2
             else rng.sample(OTHER_PROGRAMS, rng.randint(0, 2)))
    return {"assets": [assets[c] for c in owned if c in assets],
            "programs": [programs[c] for c in taken if c in programs]}


@seeder(order=10)
def seed_registry():
    actor = _actor()
    categories = {c.slug: c for c in Category.objects.all()}
    service_types = {s.code: s for s in ServiceType.objects.all()}
    assets = {a.code: a for a in Asset.objects.all()}
    programs = {p.code: p for p in Program.objects.all()}
    statuses = list(STEPS)
    for index in range(40):
        rng = random.Random(3600 + index)  # one stream per household: reruns pick the same data
        kab_kota = KAB_KOTA[index % len(KAB_KOTA)]
        desa = _desa_for(rng, kab_kota)
        no_kk = build_no_kk(desa.kode[:8], datetime.date(2012 + index % 10, 1 + index % 12, 5),
                            index + 1)
        lists = _household_lists(index, assets, programs)
        household = Household.objects.filter(no_kk=no_kk).first()
        if household is not None and not household.assets.exists():  # seeded before the lists
            household = services.household_update(actor=actor, household=household, **lists)
        household = household or services.household_create(
            actor=actor, no_kk=no_kk, address=f"Kp. {desa.nama} No. {index + 1}",
            rt=f"{1 + index % 9:03d}", rw=f"{1 + index % 4:03d}", desa=desa,
            decile=1 + index % 4, floor=rng.choice(["tanah", "semen", "bambu_kayu"]),
            wall=rng.choice(["bambu", "kayu", "tembok_kasar"]), water_source="sumur_terlindung",
            lighting=rng.choice(["pln_450", "pln_900", "listrik_non_pln"]),
            cooking_fuel=rng.choice(["kayu", "lpg_3kg"]), toilet=rng.choice(["bersama", "sendiri",
                                                                              "tidak_ada"]),
            **lists,
        )
        family = FAMILY[index % len(FAMILY)]
        head_birth = datetime.date(1955 + index % 30, 1 + index % 12, 1 + index % 28)
        head = _member(rng, household, desa, Relationship.KEPALA, "L", head_birth, index * 10 + 1,
                       f"{MEN[index % len(MEN)]} {family}")
        wife_birth = head_birth.replace(year=head_birth.year + 3)
        _member(rng, household, desa, Relationship.PASANGAN, "P", wife_birth, index * 10 + 2,
                WOMEN[index % len(WOMEN)])
        child = None
        for n in range(index % 3):
            child_birth = datetime.date(2008 + n * 4 + index % 3, 1 + (index + n) % 12, 10)
            sex = "L" if (index + n) % 2 else "P"
            name = MEN[(index + n) % len(MEN)] if sex == "L" else WOMEN[(index + n) % len(WOMEN)]
            child = _member(rng, household, desa, Relationship.ANAK, sex, child_birth,
                            index * 10 + 3 + n, name)
        if Case.objects.filter(household=household).exists() or Case.objects.filter(
                person__household=household).exists():
            continue
        status = statuses[index % len(statuses)]
        if index % 4 == 0:
            case = services.case_open(actor=actor, household=household,
                                      category=categories["fakir-miskin"],
                                      identified_on=datetime.date(2026, 1 + index % 10, 3),
                                      source=CaseSource.DTSEN)
        else:
            slug = rng.choice(["lanjut-usia-terlantar", "penyandang-disabilitas",
                               "anak-terlantar", "perempuan-rawan-sosial-ekonomi"])
            subject = child if slug == "anak-terlantar" and child else head
            case = services.case_open(actor=actor, person=subject, category=categories[slug],
                                      identified_on=datetime.date(2026, 1 + index % 10, 7),
                                      source=rng.choice([CaseSource.TKSK, CaseSource.PSM,
                                                         CaseSource.LAPORAN_MASYARAKAT]))
        for step in STEPS[status]:
            if step == CaseStatus.DALAM_PENANGANAN:
                continue
            case = services.case_transition(actor=actor, case=case, to_status=step,
                                            reason="Data demo")
            if step == CaseStatus.TERVERIFIKASI and status in (CaseStatus.DALAM_PENANGANAN,
                                                              CaseStatus.SELESAI):
                code = rng.choice(list(service_types))
                services.service_record(
                    actor=actor, case=case, service_type=service_types[code],
                    start_date=case.identified_on + datetime.timedelta(days=14),
                    value_amount=Decimal(rng.choice([300000, 600000, 1500000, 2250000])),
                    funding_source=rng.choice([FundingSource.APBD_PROVINSI, FundingSource.APBN]),
                    provider_office=Office.objects.get(wilayah_id="36"),
                )
                case.refresh_from_db()


@seeder(order=11)
def seed_duplicates():
    """The doubles of REGISTERED_TWICE, then the duplicate finder over their kecamatan (a pair
    found again keeps its review status: nothing new on a rerun)."""
    actor = _actor()
    for name, again in REGISTERED_TWICE.items():
        original = Person.objects.filter(name=name, nik__isnull=False).order_by("id").first()
        if original is None:
            continue
        if not Person.objects.filter(name=again, birth_date=original.birth_date,
                                     desa_id=original.desa_id).exists():
            services.person_register(
                actor=actor, name=again, birth_place=original.birth_place,
                birth_date=original.birth_date, sex=original.sex, desa=original.desa,
                occupation=original.occupation)
        services.duplicates_find(user=actor, wilayah=original.desa_id[:8])
