"""Demo Jamsosratu: the 2017–2019 cycles from the press, and a current-year cycle (2019
figures) with households in every state, verifications by the kecamatan's TKSK, pendamping,
commitments and a paid first tranche. Idempotent."""

import datetime

from django.db.models import Q
from django.utils import timezone

from dinsos.demo import seeder
from dinsos.models import User
from jamsosratu import reference, services
from jamsosratu.choices import EnrolmentStatus, PaymentStatus, VerificationResult
from jamsosratu.models import ConditionRule, Cycle, Payment, Quota, Tranche
from pmks.models import Household
from psks.choices import Role
from psks.models import Assignment


def cycle_setup(data: dict, *, year: int | None = None, name: str | None = None) -> Cycle:
    cycle, created = Cycle.objects.get_or_create(year=year or data["year"], defaults={
        "name": name or data["name"], "legal_basis": data["legal_basis"],
        "benefit_amount": data["benefit_amount"], "budget_ceiling": data["budget_ceiling"],
        "qualifying_conditions": reference.ALL_CONDITIONS})
    if created:
        for number, share, month in data["tranches"]:
            Tranche.objects.create(cycle=cycle, number=number, share=share, planned_month=month)
        per = data["total_quota"] // len(reference.KAB_KOTA)
        for code in reference.KAB_KOTA:
            Quota.objects.create(cycle=cycle, kab_kota_id=code, quota=per)
        for minimum, outcome, reduction in reference.RULES:
            ConditionRule.objects.create(cycle=cycle, min_unmet_ratio=minimum, outcome=outcome,
                                         reduction_share=reduction)
    return cycle


def _verifier(kecamatan: str, on: datetime.date):
    assignment = (Assignment.objects.filter(role__in=[Role.TKSK, Role.PENDAMPING_JAMSOSRATU],
                                            area_id=kecamatan, start_date__lte=on)
                  .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
                  .select_related("worker").order_by("role").first())
    return assignment.worker if assignment else None


def _pendamping(kecamatan: str, on: datetime.date):
    assignment = (Assignment.objects.filter(role=Role.PENDAMPING_JAMSOSRATU, area_id=kecamatan,
                                            start_date__lte=on)
                  .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
                  .select_related("worker").first())
    return assignment.worker if assignment else None


@seeder(order=40)
def seed_jamsosratu():
    for data in reference.CYCLES:
        cycle_setup(data)
    today = timezone.localdate()
    cycle = cycle_setup(reference.CYCLES[2], year=today.year,
                        name=f"Jamsosratu {today.year} (demo, besaran 2019)")
    if cycle.enrolments.exists():
        return
    actor = User.objects.get(username="admin")
    # the second pair of eyes on every account the admin records
    checker = User.objects.filter(username="operator_provinsi").first()
    visit = today - datetime.timedelta(days=20)
    households = list(Household.objects.filter(decile__lte=3).order_by("no_kk")[:24])
    plan = [EnrolmentStatus.AKTIF] * 14 + [EnrolmentStatus.DITETAPKAN] * 3 + [
        EnrolmentStatus.TERVERIFIKASI] * 3 + [EnrolmentStatus.CALON] * 2 + [
        EnrolmentStatus.DIKELUARKAN] * 2
    active = []
    for index, (household, target) in enumerate(zip(households, plan, strict=False)):
        enrolment = services.enrolment_propose(
            actor=actor, household=household, cycle=cycle, source="DTSEN desil ≤ 3",
            account_number=f"0098{index:08d}")
        if checker is not None:
            enrolment = services.enrolment_account_verify(actor=checker, enrolment=enrolment)
        if target == EnrolmentStatus.CALON:
            continue
        verifier = _verifier(household.desa_id[:8], visit)
        if verifier is None:
            continue
        result = (VerificationResult.TIDAK_SESUAI if target == EnrolmentStatus.DIKELUARKAN
                  else VerificationResult.SESUAI)
        services.verification_record(actor=actor, enrolment=enrolment, verifier=verifier,
                                     visit_date=visit, result=result,
                                     notes="Kunjungan rumah by name by address.")
        if target == EnrolmentStatus.DIKELUARKAN:
            services.enrolment_transition(actor=actor, enrolment=enrolment, to_status=target,
                                          reason="Tidak sesuai: rumah layak, penghasilan cukup")
            continue
        enrolment = services.enrolment_transition(actor=actor, enrolment=enrolment,
                                                  to_status=EnrolmentStatus.TERVERIFIKASI)
        if target == EnrolmentStatus.TERVERIFIKASI or not enrolment.members.exists():
            continue
        enrolment = services.enrolment_transition(
            actor=actor, enrolment=enrolment, to_status=EnrolmentStatus.DITETAPKAN,
            decree_number=f"SK Gubernur Banten 460/Kep.{today.year}-Huk/{today.year}")
        pendamping = _pendamping(household.desa_id[:8], visit)
        if pendamping:
            services.companion_assign(actor=actor, enrolment=enrolment, worker=pendamping,
                                      start_date=visit)
        if target == EnrolmentStatus.AKTIF:
            active.append(services.enrolment_transition(actor=actor, enrolment=enrolment,
                                                        to_status=EnrolmentStatus.AKTIF))
    first = cycle.tranches.get(number=1)
    for n, enrolment in enumerate(active):
        for member in enrolment.members.all():
            kind = "pendidikan" if member.condition == "anak_sekolah" else "kesehatan"
            services.commitment_record(actor=actor, member=member, tranche=first, kind=kind,
                                       status="tidak_terpenuhi" if n % 5 == 4 else "terpenuhi")
    services.payments_generate(tranche=first)
    for n, payment in enumerate(Payment.objects.filter(tranche=first,
                                                       status=PaymentStatus.DIJADWALKAN)):
        if n % 7 == 6:
            services.payment_mark(actor=actor, payment=payment, status=PaymentStatus.GAGAL,
                                  failure_reason="Rekening tidak aktif")
        else:
            services.payment_mark(actor=actor, payment=payment, status=PaymentStatus.DISALURKAN,
                                  paid_on=today - datetime.timedelta(days=5),
                                  reference=f"BB-{today:%Y%m}-{payment.pk:05d}")


