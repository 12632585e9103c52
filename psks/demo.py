"""Demo workforce: a TKSK in most kecamatan (five left vacant), pendamping PKH and Jamsosratu
in every kab/kota, Karang Taruna, verified bank accounts, reports and rakor for the last two
months. Deterministic and idempotent (keyed by NIK, assignment start, period, meeting date)."""

import datetime

from django.utils import timezone

from dinsos.choices import FundingSource, Tingkat
from dinsos.demo import seeder
from dinsos.models import Office, User, Wilayah
from dinsos.validators import build_nik
from psks import services
from psks.choices import InstitutionType, MeetingType, Role
from psks.models import (
    ActivityReport,
    Assignment,
    Bank,
    BankAccount,
    Institution,
    Meeting,
    Worker,
)

FIRST = ["Agus", "Dede", "Rahmat", "Yusuf", "Iman", "Rina", "Nenden", "Wawan", "Tatang", "Ika",
         "Heri", "Lina", "Fajar", "Usep", "Nia", "Ridwan", "Yanti", "Kurniawan", "Ai", "Omay"]
LAST = ["Hermawan", "Sopian", "Maulana", "Hidayat", "Rosita", "Sudrajat", "Nurjanah", "Firdaus",
        "Saepudin", "Kartika"]
BANKS = ["bank_banten", "bjb", "bri", "bni", "bsi"]


def _name(n: int) -> str:
    return f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}"


def _recent_months(today: datetime.date, count: int = 2) -> list[datetime.date]:
    first = today.replace(day=1)
    months = []
    for _i in range(count):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        months.append(first)
    return months


def _worker(n: int, kecamatan: Wilayah, actor) -> Worker:
    sex = "P" if n % 4 == 1 else "L"
    birth = datetime.date(1970 + n % 25, 1 + n % 12, 1 + n % 27)
    nik = build_nik(kecamatan.kode, birth, sex, 5000 + n)
    worker = Worker.objects.filter(nik=nik).first()
    if worker:
        return worker
    desa = Wilayah.objects.filter(induk=kecamatan).order_by("kode").first()
    return services.worker_register(
        actor=actor, nik=nik, name=_name(n), sex=sex, birth_date=birth,
        education=["sma", "diploma", "s1"][n % 3], phone=f"0812{n:08d}",
        address=f"Kp. {desa.nama}", desa=desa,
    )


def _decree(years_left: int) -> tuple[datetime.date, datetime.date]:
    """A demo decree's term, from the seeding day: from 2 January last year to the end of the
    year ``years_left`` from now, so the workers are on duty for the demo's recent months
    whenever it is seeded (a TKSK's decree runs at most five years)."""
    year = timezone.localdate().year
    return datetime.date(year - 1, 1, 2), datetime.date(year + years_left, 12, 31)


def _assign(worker, role, area, n, actor, province, *, years_left: int):
    if Assignment.objects.filter(worker=worker, role=role).exists():
        return  # seeded before (perhaps in another year): the demo runs once per database
    start, end = _decree(years_left)
    services.assignment_create(
        actor=actor, worker=worker, role=role, area=area,
        decree_number=f"460/{n:04d}/Dinsos/{start.year}", decree_date=start,
        decree_office=province, start_date=start, end_date=end,
        funding_source=FundingSource.APBN if role == Role.PENDAMPING_PKH
        else FundingSource.APBD_PROVINSI,
    )


def _account(worker, n, maker, checker):
    if BankAccount.objects.filter(worker=worker).exists():
        return
    account = services.bank_account_add(
        actor=maker, worker=worker, bank=Bank.objects.get(code=BANKS[n % len(BANKS)]),
        account_number=f"{7000000000 + n:010d}", holder_name=worker.name)
    if n % 10 != 7:  # a few stay unverified, to show payouts held for want of an account
        services.bank_account_verify(actor=checker, account=account,
                                     effective_from=datetime.date(2024, 1, 1))


@seeder(order=20)
def seed_workforce():
    maker = User.objects.get(username="admin")
    checker = User.objects.get(username="operator_provinsi")
    province = Office.objects.get(wilayah_id="36")
    kecamatan = list(Wilayah.objects.filter(tingkat=Tingkat.KECAMATAN).order_by("kode"))
    months = _recent_months(timezone.localdate())
    for n, kec in enumerate(kecamatan):
        if n % 31 == 30:
            continue  # five vacant kecamatan
        worker = _worker(n, kec, maker)
        _assign(worker, Role.TKSK, kec, n, maker, province, years_left=2)
        _account(worker, n, maker, checker)
        for i, period in enumerate(months):
            report = ActivityReport.objects.filter(worker=worker, period=period).first()
            if report is None:
                report = services.report_save(
                    actor=maker, worker=worker, period=period, meetings_attended=1 + n % 2,
                    households_validated=20 + n % 30, pmks_identified=3 + n % 7,
                    households_visited=10 + n % 15)
                if (n + i) % 6 != 0:
                    report = services.report_submit(actor=maker, report=report)
                if (n + i) % 6 not in (0, 1):
                    services.report_accept(actor=checker, report=report)
            if n % 5 != 4 and not Meeting.objects.filter(
                    kecamatan=kec, date=period.replace(day=15), type=MeetingType.RAKOR).exists():
                services.meeting_create(
                    actor=maker, kecamatan=kec, date=period.replace(day=15),
                    type=MeetingType.RAKOR, agenda="Validasi data RTS dan pemetaan PMKS",
                    minutes="Disepakati jadwal verifikasi by name by address.",
                    other_attendees="Kasie Kesos Kecamatan\nSekretaris Desa",
                    attendees=[worker])
    for k, kab_kota in enumerate(Wilayah.objects.kab_kota().order_by("kode")):
        kec_here = [kec for kec in kecamatan if kec.induk_id == kab_kota.kode]
        for j, role in enumerate([Role.PENDAMPING_PKH, Role.PENDAMPING_JAMSOSRATU] * 3):
            n = 1000 + k * 10 + j
            kec = kec_here[j % len(kec_here)]
            worker = _worker(n, kec, maker)
            _assign(worker, role, kec, n, maker, province, years_left=1)
            _account(worker, n, maker, checker)
        for j in range(3):
            desa = Wilayah.objects.filter(induk=kec_here[j % len(kec_here)]).order_by("kode")[j]
            if not Institution.objects.filter(type=InstitutionType.KARANG_TARUNA,
                                              desa=desa).exists():
                services.institution_create(
                    actor=maker, type=InstitutionType.KARANG_TARUNA,
                    name=f"Karang Taruna {desa.nama}", desa=desa, accreditation="belum",
                    contact_name=_name(2000 + k * 3 + j),
                    board=[{"name": _name(2100 + k * 3 + j), "position": "Ketua"},
                           {"name": _name(2200 + k * 3 + j), "position": "Sekretaris"}])


