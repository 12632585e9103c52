"""Writes of Jamsosratu. Rules: enforced transitions (quota per kab/kota under a row lock,
a qualifying member and a passed verification before the decree), verifiers and pendamping
from the household's kecamatan, one payment per enrolment and tranche (database constraint)."""

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos import changes
from dinsos.audit import audit_context
from dinsos.choices import Sex
from dinsos.money import format_rupiah, format_tanggal
from dinsos.scoping import ALL, area_q, can, ensure_in_area, user_area
from dinsos.services import assign_fields, check_field, clean_written, fitted, locked
from jamsosratu import calculations
from jamsosratu.choices import (
    Channel,
    CommitmentStatus,
    EnrolmentStatus,
    Finding,
    JobKind,
    JobStatus,
    Outcome,
    PaymentStatus,
    VerificationResult,
)
from jamsosratu.models import (
    Commitment,
    Companion,
    Cycle,
    Enrolment,
    EnrolmentMember,
    EnrolmentTransition,
    Payment,
    Quota,
    Tranche,
    TrancheJob,
    Verification,
    VerificationFinding,
)
from jamsosratu.selectors import finding_shown, member_shown
from pmks import services as pmks_services
from pmks.choices import LifeStatus
from pmks.models import Household, Person
from pmks.services import lock_households
from psks.choices import Role
from psks.models import Assignment, Worker

VERIFIER_ROLES = (Role.TKSK, Role.PENDAMPING_JAMSOSRATU, Role.PENDAMPING_PKH)
UNFINISHED = (JobStatus.ANTRE, JobStatus.BERJALAN)
#: the code of the pagu's refusal (``_check_pagu``), and the key of a job's ``totals`` that
#: says its list was refused for it: the tahap waits for Pimpinan's decision
OVER_PAGU = "melampaui_pagu"
log = logging.getLogger(__name__)


def _record(enrolment, from_status, actor, reason=""):
    EnrolmentTransition.objects.create(enrolment=enrolment, from_status=from_status,
                                       to_status=enrolment.status, reason=reason,
                                       actor=actor if getattr(actor, "pk", None) else None)


def _reference_date(cycle: Cycle) -> datetime.date:
    return datetime.date(cycle.year, 1, 1)


# --- enrolment --------------------------------------------------------------------------------

def enrolment_members_refresh(*, enrolment: Enrolment, pregnant_person_ids=()) -> list:
    """Work out the qualifying members from the registry (ages at 1 January of the cycle year);
    pregnancy is what the verifier saw. Replaces the previous list."""
    cycle = enrolment.cycle
    on = _reference_date(cycle)
    pregnant = set(pregnant_person_ids) | set(
        enrolment.members.filter(condition="hamil_nifas").values_list("person_id", flat=True))
    rows = []
    for person in Person.objects.filter(household_id=enrolment.household_id,
                                        merged_into__isnull=True):
        for condition in _conditions(cycle, person, pregnant=person.pk in pregnant, on=on):
            rows.append(EnrolmentMember(enrolment=enrolment, person=person, condition=condition))
    enrolment.members.exclude(commitments__isnull=False).delete()
    EnrolmentMember.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def _conditions(cycle: Cycle, person: Person, *, pregnant: bool, on: datetime.date) -> list:
    return calculations.member_conditions(
        birth_date=person.birth_date, sex=person.sex, schooling=person.schooling,
        pregnant=pregnant, on=on, qualifying=cycle.qualifying_conditions,
        child_max_age=cycle.child_max_age, school_max_age=cycle.school_max_age,
        elderly_min_age=cycle.elderly_min_age, alive=person.life_status == LifeStatus.HIDUP)


def _without_qualifying_member(cycle: Cycle, enrolments: list[dict]) -> set[int]:
    """The enrolments (of ``enrolments``' "pk" and "household_id") whose household has no
    living, current qualifying member in the registry now: persons of the household not
    merged away, alive, with a condition the cycle counts (pregnancy as the verifier saw it).
    Asked when a tranche's payment list is made, whatever the stored member list says: a
    finding applied, a person moved to another KK or merged into another record since the
    last refresh is seen."""
    on = _reference_date(cycle)
    pregnant = set(EnrolmentMember.objects.filter(
        enrolment_id__in=[e["pk"] for e in enrolments], condition="hamil_nifas")
        .values_list("enrolment_id", "person_id"))
    persons = {}
    for person in Person.objects.filter(
            household_id__in={e["household_id"] for e in enrolments}, merged_into__isnull=True
    ).only("pk", "household_id", "birth_date", "sex", "schooling", "life_status"):
        persons.setdefault(person.household_id, []).append(person)
    return {e["pk"] for e in enrolments if not any(
        _conditions(cycle, person, pregnant=(e["pk"], person.pk) in pregnant, on=on)
        for person in persons.get(e["household_id"], []))}


def _targeted(prefix: str = "") -> Q:
    """An enrolment whose household was a target in its cycle year: decreed, active or
    graduated now, or decreed and excluded later (its decree number stays): the year counts
    towards ``Cycle.max_targeted_years`` all the same."""
    return (Q(**{f"{prefix}status__in": calculations.COUNTED_IN_QUOTA})
            | ~Q(**{f"{prefix}decree_number": ""}))


def _targeted_years(household_id: int) -> list[int]:
    return list(Enrolment.objects.filter(_targeted(), household_id=household_id)
                .values_list("cycle__year", flat=True))


def _check_targeting_limit(household_id: int, cycle: Cycle) -> None:
    """At most ``cycle.max_targeted_years`` years of targeting (5 by default) per household.
    Counted under the household's row lock (``FOR NO KEY UPDATE``: the PMKS import's new
    members of the household, which only take a key-share lock on it, do not wait), so two
    decrees or proposals of one household in two cycles at once queue up and the second
    counts the first's."""
    lock_households([household_id])
    years = _targeted_years(household_id)
    if calculations.targeting_limit_reached(years, cycle.year, cycle.max_targeted_years):
        raise ValidationError({"household": _(
            "Rumah tangga ini sudah menjadi sasaran Jamsosratu selama %(n)d tahun (%(years)s); "
            "batasnya %(limit)d tahun.") % {
                "n": len(set(years) - {cycle.year}), "limit": cycle.max_targeted_years,
                "years": ", ".join(str(y) for y in sorted(set(years) - {cycle.year}))}})


@transaction.atomic
def enrolment_propose(*, actor, household: Household, cycle: Cycle, source: str = "",
                      channel: str = "bank_banten", account_number: str = "") -> Enrolment:
    ensure_in_area(actor, household.desa_id, typed=False)
    if Enrolment.objects.filter(household=household, cycle=cycle).exists():
        raise ValidationError({"household": _("Keluarga ini sudah terdaftar pada siklus %(y)s.")
                               % {"y": cycle.year}})
    _check_targeting_limit(household.pk, cycle)
    enrolment = Enrolment(household=household, cycle=cycle, desa_id=household.desa_id,
                          source=source, decile=household.decile, channel=channel,
                          account_number=account_number,
                          account_recorded_by=actor if account_number else None)
    enrolment.full_clean()
    enrolment.save()
    _record(enrolment, "", actor, _("Diusulkan: %(s)s") % {"s": source or "-"})
    enrolment_members_refresh(enrolment=enrolment)
    return enrolment


@transaction.atomic
def enrolment_update(*, actor, enrolment: Enrolment, **fields) -> Enrolment:
    """Edit the payment channel and account, or the source note; household, cycle and status
    never change here."""
    enrolment = locked(enrolment)
    ensure_in_area(actor, enrolment.desa_id, typed=False)
    changed = assign_fields(enrolment, fields, {"channel", "account_number", "source"})
    clean_written(enrolment, changed)
    if "account_number" in changed:
        # a new account waits for another user's verification before a transfer goes to it
        enrolment.account_recorded_by = actor
        enrolment.account_verified_by = enrolment.account_verified_at = None
    enrolment.save()
    if {"account_number", "channel"} & set(changed):
        # the payments still scheduled go to the corrected channel and account, under their
        # row locks (one the bank result is marking now is waited for and then left as it
        # is); a payment sent, paid or failed keeps what it was sent to
        for payment in (enrolment.payments.select_for_update()
                        .filter(status=PaymentStatus.DIJADWALKAN, sent_at__isnull=True)
                        .order_by("pk")):
            payment.channel, payment.account_number = enrolment.channel, enrolment.account_number
            payment.save(update_fields=["channel", "account_number", "updated_at"])
    return enrolment


@transaction.atomic
def enrolment_account_verify(*, actor, enrolment: Enrolment,
                             account_number: str | None = None) -> Enrolment:
    """Four eyes on the account a transfer goes to: another user than the one who recorded
    it confirms it (against the passbook or the bank's letter); until then the enrolment's
    payments stay out of the bank file (``banking._transfers``). ``account_number``: the
    account the checker confirms (the API asks for it), refused unless it is the one stored
    now, read under the row lock — an account changed since she read it is not confirmed
    unseen (the staff page checks the page's version instead)."""
    enrolment = locked(enrolment)
    ensure_in_area(actor, enrolment.desa_id, typed=False)
    if not enrolment.account_number:
        raise ValidationError({"account_number": _(
            "Peserta ini belum mempunyai rekening untuk diverifikasi.")})
    if account_number is not None and account_number != enrolment.account_number:
        raise ValidationError({"account_number": _(
            "Rekening yang Anda konfirmasi tidak sama dengan rekening yang tersimpan pada "
            "peserta ini; baca ulang data peserta, lalu konfirmasi rekening yang tercatat di "
            "buku tabungan.")})
    if enrolment.account_is_verified:
        raise ValidationError({"account_number": _("Rekening ini sudah diverifikasi.")})
    if enrolment.account_recorded_by_id == actor.pk:
        raise PermissionDenied(_("Rekening harus diverifikasi oleh pengguna lain (prinsip empat "
                                 "mata), bukan oleh yang mencatat atau mengubahnya."))
    enrolment.account_verified_by = actor
    enrolment.account_verified_at = timezone.now()
    enrolment.save(update_fields=["account_verified_by", "account_verified_at", "updated_at"])
    return enrolment


@transaction.atomic
def enrolments_propose_from_registry(*, actor, cycle: Cycle, max_decile: int,
                                     wilayah: str | None = None) -> int:
    """Propose every household of the user's area with DTSEN decile ≤ max_decile (bulk; a
    household already in the cycle is skipped)."""
    households = (Household.objects.for_user(actor).filter(decile__lte=max_decile)
                  .exclude(jamsosratu_enrolments__cycle=cycle)
                  .annotate(targeted=Count(
                      "jamsosratu_enrolments__cycle__year", distinct=True,
                      filter=_targeted("jamsosratu_enrolments__")))
                  .filter(targeted__lt=cycle.max_targeted_years))
    if wilayah:
        households = households.filter(area_q("desa", wilayah))
    created = 0
    for household in households.iterator(chunk_size=1000):
        enrolment_propose(actor=actor, household=household, cycle=cycle,
                          source=_("DTSEN desil ≤ %(d)d") % {"d": max_decile})
        created += 1
    return created


def _latest_verification(enrolment) -> Verification | None:
    return enrolment.verifications.order_by("-visit_date", "-id").first()


def _check_quota(enrolment: Enrolment) -> None:
    kab_kota = enrolment.desa_id[:5]
    quota = Quota.objects.select_for_update().filter(cycle=enrolment.cycle,
                                                     kab_kota_id=kab_kota).first()
    if quota is None:
        raise ValidationError(_("Kuota %(k)s untuk siklus %(y)s belum ditetapkan.")
                              % {"k": kab_kota, "y": enrolment.cycle.year})
    used = Enrolment.objects.filter(cycle=enrolment.cycle,
                                    status__in=calculations.COUNTED_IN_QUOTA,
                                    desa__kode__startswith=f"{kab_kota}.").count()
    if used >= quota.quota:
        raise ValidationError(_("Kuota %(k)s sudah penuh (%(used)d dari %(quota)d RTS).")
                              % {"k": quota.kab_kota.nama, "used": used, "quota": quota.quota})


@transaction.atomic
def enrolment_transition(*, actor, enrolment: Enrolment, to_status: str, reason: str = "",
                         decree_number: str = "") -> Enrolment:
    if to_status == EnrolmentStatus.DITETAPKAN:
        # the household before the enrolment (the targeting limit below), the order of the
        # PMKS writers (a verification's findings change members, then refresh the enrolment)
        lock_households([enrolment.household_id])
    enrolment = Enrolment.objects.select_for_update().select_related("cycle").get(
        pk=enrolment.pk)
    ensure_in_area(actor, enrolment.desa_id, typed=False)
    if not calculations.transition_allowed(enrolment.status, to_status):
        raise ValidationError({"status": _("Status %(f)s tidak dapat diubah menjadi %(t)s.")
                               % {"f": enrolment.get_status_display(), "t": to_status}})
    latest = _latest_verification(enrolment)
    if to_status == EnrolmentStatus.TERVERIFIKASI and (
            latest is None or latest.result != VerificationResult.SESUAI):
        raise ValidationError(_("Belum ada verifikasi by name by address dengan hasil sesuai."))
    if to_status == EnrolmentStatus.DITETAPKAN:
        if latest is None or latest.result != VerificationResult.SESUAI:
            raise ValidationError(_("Rumah tangga yang gagal verifikasi tidak dapat ditetapkan."))
        if not enrolment.members.exists():
            raise ValidationError(_("Tidak ada anggota yang memenuhi syarat (ibu hamil/nifas, "
                                    "balita, anak sekolah, lansia); tidak dapat ditetapkan."))
        if not decree_number.strip():
            raise ValidationError({"decree_number": _("Nomor SK penetapan wajib diisi.")})
        _check_targeting_limit(enrolment.household_id, enrolment.cycle)
        _check_quota(enrolment)
        enrolment.decree_number = decree_number.strip()
    if to_status == EnrolmentStatus.DIKELUARKAN:
        if not reason.strip():
            raise ValidationError({"reason": _("Alasan dikeluarkan wajib diisi.")})
        check_field(Enrolment, "exit_reason", reason.strip(), name="reason")
        enrolment.exit_reason = reason.strip()
        Companion.objects.filter(enrolment=enrolment, end_date__isnull=True).update(
            end_date=timezone.localdate())
        # only payments still scheduled, under their row locks: one the bank result or
        # payment_mark is marking now is waited for and, paid or failed, left as it is (the
        # status is asked again of the row as committed)
        # a payment already sent to the bank (``sent_at``) is in its hands: it stays
        # scheduled and the bank's result records what happened to it
        for payment in (enrolment.payments.select_for_update()
                        .filter(status=PaymentStatus.DIJADWALKAN, sent_at__isnull=True)
                        .order_by("pk")):
            payment.status = PaymentStatus.DITANGGUHKAN
            payment.failure_reason = fitted(Payment, "failure_reason", _(
                "Peserta dikeluarkan: %(r)s") % {"r": reason.strip()})
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
    from_status = enrolment.status
    enrolment.status = to_status
    clean_written(enrolment, ["status", "decree_number", "exit_reason"])
    enrolment.save()
    _record(enrolment, from_status, actor, reason)
    return enrolment


# --- verification -----------------------------------------------------------------------------

def _works_in_kecamatan(worker: Worker, kecamatan: str, on: datetime.date, roles) -> bool:
    return (Assignment.objects.filter(worker=worker, role__in=roles, start_date__lte=on)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
            .filter(Q(area_id=kecamatan) | Q(area__kode__startswith=f"{kecamatan}."))
            .exists())


@transaction.atomic
def verification_record(*, actor, enrolment: Enrolment, verifier: Worker,
                        visit_date: datetime.date, result: str, notes: str = "",
                        findings: list[dict] | None = None, pregnant_person_ids=(),
                        photo=None) -> Verification:
    ensure_in_area(actor, enrolment.desa_id, typed=False)
    kecamatan = enrolment.desa_id[:8]
    check_field(Verification, "visit_date", visit_date)  # first: the duty is asked on that day
    if not _works_in_kecamatan(verifier, kecamatan, visit_date, VERIFIER_ROLES):
        raise ValidationError({"verifier": _(
            "%(name)s tidak bertugas sebagai TKSK/pendamping di kecamatan %(kec)s pada %(date)s.")
            % {"name": verifier.name, "kec": kecamatan, "date": format_tanggal(visit_date)}})
    verification = Verification(enrolment=enrolment, verifier=verifier, visit_date=visit_date,
                                result=result, notes=notes, recorded_by=actor)
    if photo:
        verification.photo = photo
    verification.full_clean()
    verification.save()
    # the members the visit form lists (``selectors.household_members``): those registered
    # inside the actor's area — a finding or a pregnancy is not recorded, through any door,
    # of a KK member registered in another kab/kota (applying it would change that person):
    # refused as a person of another household is, like a missing one
    household = Person.objects.for_user(actor).filter(household_id=enrolment.household_id)
    members = set(household.values_list("pk", flat=True))
    pregnant_person_ids = set(pregnant_person_ids)
    women = set(household.filter(pk__in=pregnant_person_ids, sex=Sex.P)
                .values_list("pk", flat=True))
    if pregnant_person_ids - women:  # a man or another household's person made it eligible
        raise ValidationError({"pregnant_persons": _(
            "Hanya anggota perempuan keluarga ini yang dapat dicatat hamil/nifas; bukan: "
            "%(ids)s.") % {"ids": ", ".join(map(str, sorted(pregnant_person_ids - women)))}})
    for item in findings or []:
        person_id = getattr(item.get("person"), "pk", item.get("person"))
        if person_id and person_id not in members:
            raise ValidationError({"findings": _("Orang %(p)s bukan anggota keluarga ini.")
                                   % {"p": person_id}})
        VerificationFinding.objects.create(verification=verification, person_id=person_id,
                                           finding=item["finding"], note=item.get("note", ""))
    enrolment_members_refresh(enrolment=enrolment, pregnant_person_ids=pregnant_person_ids)
    return verification


@transaction.atomic
def verification_apply_findings(*, actor, verification: Verification) -> int:
    """Carry findings into the registry through its services: died/moved set the person's
    life status (dated the visit), "not in KK" removes the person from the household.
    Not found and new member are left to an operator. Applied once."""
    applied = 0
    # the findings the actor sees (``selectors.finding_shown``): one about a person since
    # registered in another kab/kota waits for the province, the others are applied
    for finding in verification.findings.filter(finding_shown(actor), applied=False,
                                                person__isnull=False):
        person = finding.person
        if finding.finding == Finding.MENINGGAL:
            pmks_services.person_update(actor=actor, person=person,
                                        life_status=LifeStatus.MENINGGAL,
                                        life_status_date=verification.visit_date)
        elif finding.finding == Finding.PINDAH:
            pmks_services.person_update(actor=actor, person=person,
                                        life_status=LifeStatus.PINDAH,
                                        life_status_date=verification.visit_date)
        elif finding.finding == Finding.TIDAK_DALAM_KK:
            pmks_services.person_update(actor=actor, person=person, household=None,
                                        relationship="")
        else:
            continue
        finding.applied = True
        finding.save(update_fields=["applied"])
        applied += 1
    enrolment_members_refresh(enrolment=verification.enrolment)
    return applied


# --- pendamping -------------------------------------------------------------------------------

@transaction.atomic
def companion_assign(*, actor, enrolment: Enrolment, worker: Worker,
                     start_date: datetime.date) -> Companion:
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    ensure_in_area(actor, enrolment.desa_id, typed=False)
    if enrolment.status not in (EnrolmentStatus.DITETAPKAN, EnrolmentStatus.AKTIF):
        raise ValidationError(_("Pendamping ditugaskan untuk peserta yang ditetapkan/aktif."))
    if not _works_in_kecamatan(worker, enrolment.desa_id[:8], start_date,
                               (Role.PENDAMPING_JAMSOSRATU,)):
        raise ValidationError({"worker": _("%(name)s bukan pendamping Jamsosratu di kecamatan "
                                           "rumah tangga ini.") % {"name": worker.name}})
    current = Companion.objects.filter(enrolment=enrolment, end_date__isnull=True).first()
    if current is not None:
        if current.worker_id == worker.pk:
            return current
        if start_date <= current.start_date:
            raise ValidationError({"start_date": _(
                "Pendamping baru harus mulai sesudah pendamping sekarang (%(name)s, sejak "
                "%(start)s).") % {"name": current.worker.name, "start": current.start_date}})
        current.end_date = start_date - datetime.timedelta(days=1)
        current.save(update_fields=["end_date"])
    return Companion.objects.create(enrolment=enrolment, worker=worker, start_date=start_date)


# --- commitments ------------------------------------------------------------------------------

@transaction.atomic
def commitment_record(*, actor, member: EnrolmentMember, tranche: Tranche, kind: str,
                      status: str) -> Commitment:
    ensure_in_area(actor, member.enrolment.desa_id, typed=False)
    if not EnrolmentMember.objects.filter(member_shown(actor), pk=member.pk).exists():
        # a member registered in another kab/kota: neither shown nor recorded for here
        # (``selectors.member_shown``), refused as a missing one, naming no place
        raise ValidationError({"member": _("Anggota %(id)s tidak ditemukan.")
                                           % {"id": member.pk}})
    if tranche.cycle_id != member.enrolment.cycle_id:
        raise ValidationError({"tranche": _("Tahap bukan dari siklus kepesertaan ini.")})
    # the tranche's row lock, which the payment-list job holds while it makes a chunk: a
    # commitment recorded meanwhile waits, then sees the payment the job made (and is refused)
    # or is there before the job reads the commitments of its next chunk
    tranche = locked(tranche)
    if Payment.objects.filter(enrolment=member.enrolment, tranche=tranche).exists():
        raise ValidationError(_("Penyaluran tahap ini sudah dibuat; komitmen tidak dapat "
                                "diubah."))
    commitment, _created = Commitment.objects.update_or_create(
        member=member, tranche=tranche, kind=kind,
        defaults={"status": status, "recorded_by": actor})
    return commitment


# --- the year's split, frozen once paid -------------------------------------------------------

#: ``cycle_terms_check``'s "the pagu is not being changed" (None is "no pagu")
UNCHANGED = object()


def cycle_terms_check(*, cycle: Cycle, benefit_amount=None, tranches=None,
                      budget_ceiling=UNCHANGED) -> None:
    """Once a payment of the cycle exists, what its tahap amounts were split from is frozen:
    the benefit per household (``benefit_amount``) and the tahap set with their weights
    (``tranches``: the (number, share) pairs the cycle would have). A changed split would pay
    the later tahap as shares of another year (a third tahap added after tahap 1 was paid at
    a half pays more than the benefit). The pagu (``budget_ceiling``) may be raised or
    removed, never lowered below what the cycle has already committed
    (``_check_pagu_not_below_committed``; a raise passes even while still below a use
    Pimpinan allowed). Every door that changes them asks here (the
    admin's cycle form and its tahap inline; the API's cycles are read-only); the payment list
    asks again (``_check_split_unchanged``)."""
    if cycle.pk is None:
        return
    if budget_ceiling is not UNCHANGED:
        _check_pagu_not_below_committed(cycle, budget_ceiling)
    if not Payment.objects.filter(tranche__cycle=cycle).exists():
        return
    if benefit_amount is not None and Decimal(benefit_amount) != cycle.benefit_amount:
        raise ValidationError({"benefit_amount": _(
            "Manfaat per RTS per tahun tidak dapat diubah: penyaluran siklus %(y)s sudah "
            "dibuat.") % {"y": cycle.year}})
    if tranches is not None:
        stored = sorted((t.number, t.share) for t in cycle.tranches.all())
        if sorted((int(n), Decimal(share)) for n, share in tranches) != stored:
            raise ValidationError({"share": _(
                "Tahap dan bobotnya tidak dapat diubah, ditambah atau dihapus: penyaluran "
                "siklus %(y)s sudah dibuat.") % {"y": cycle.year}})


@transaction.atomic
def _check_pagu_not_below_committed(cycle: Cycle, budget_ceiling) -> None:
    """A pagu lowered below what the cycle has scheduled or paid (``_committed``, the use
    ``_check_pagu`` counts: failed and suspended payments are not in it) is refused on
    ``budget_ceiling``, naming that amount; a pagu raised, kept or removed passes — also one
    still below a use Pimpinan allowed over the pagu (``tranche_over_budget_allow``: an APBD-P
    raising a 1.750.000 pagu to 3.000.000 under a use of 3.500.000). Setting a pagu on a cycle
    without one is lowering it. Asked under the cycle's tahap and cycle row locks (the order of
    a list's chunk and of a reschedule), which the caller's transaction keeps until the new
    pagu is saved: a list made meanwhile counts against the new pagu, or is counted here; the
    current pagu is the locked row's, not the caller's copy."""
    if budget_ceiling is None:
        return
    list(Tranche.objects.select_for_update().filter(cycle_id=cycle.pk).order_by("pk")
         .values_list("pk", flat=True))
    current = (Cycle.objects.select_for_update().filter(pk=cycle.pk)
               .values_list("budget_ceiling", flat=True).first())
    if current is not None and Decimal(budget_ceiling) >= current:
        return  # raised or kept
    used = _committed(cycle)
    if Decimal(budget_ceiling) < used:
        raise ValidationError({"budget_ceiling": _(
            "Pagu tidak dapat diturunkan menjadi %(pagu)s: penyaluran siklus %(y)s yang sudah "
            "dijadwalkan atau disalurkan berjumlah %(used)s (penyaluran gagal atau ditangguhkan "
            "tidak dihitung).") % {"pagu": format_rupiah(budget_ceiling), "y": cycle.year,
                                   "used": format_rupiah(used)}})


def _check_split_unchanged(cycle: Cycle, tranches: list, amounts: list) -> None:
    """The tahap amounts already paid must be the ones the split gives now: a tahap, a weight
    or the benefit changed by any door after payments (refused by ``cycle_terms_check``) stops
    the list instead of paying the year twice over."""
    now = {t.pk: amount for t, amount in zip(tranches, amounts, strict=True)}
    for tranche_id, paid in (Payment.objects.filter(tranche__cycle=cycle)
                             .values_list("tranche_id", "tranche_amount").distinct()):
        if now.get(tranche_id) != paid:
            raise ValidationError({"share": _(
                "Tahap, bobot atau manfaat siklus %(y)s berubah sesudah penyaluran dibuat; "
                "daftar penyaluran tidak dibuat. Kembalikan tahap dan bobotnya.")
                % {"y": cycle.year}})


# --- payments ---------------------------------------------------------------------------------

def _rules(cycle: Cycle):
    return [(r.min_unmet_ratio, r.outcome, r.reduction_share)
            for r in cycle.condition_rules.all()]


def payments_generate(*, tranche: Tranche, progress=None, chunk_size: int = 500) -> int:
    """The tranche's payment list for every active enrolment: amount from the cycle's split and
    the commitment rule. Made in chunks of ``chunk_size`` enrolments, each in its own
    transaction under the tranche's row lock, so ``progress(done, total)`` can be shown while it
    runs. Safe to run twice or concurrently: the (enrolment, tranche) constraint and ON
    CONFLICT DO NOTHING keep one payment each; the lock makes another run wait for a chunk and
    then skip what it made. A run stopped halfway is completed by running it again. Returns rows
    created."""
    payments_budget_check(tranche=tranche)
    total = _waiting(tranche).count()
    created = done = 0
    while True:
        made, seen = _payments_generate_chunk(tranche=tranche, size=chunk_size)
        created, done = created + made, done + seen
        if progress is not None:
            progress(min(done, total), total)
        if seen < chunk_size or not made:
            return created


def _split(tranche: Tranche) -> tuple[Decimal, list]:
    """(this tahap's amount, the cycle's rules); refused if a paid tahap's split changed."""
    cycle = tranche.cycle
    tranches = list(cycle.tranches.order_by("number"))
    amounts = calculations.tranche_amounts(cycle.benefit_amount, [t.share for t in tranches])
    _check_split_unchanged(cycle, tranches, amounts)
    return amounts[[t.pk for t in tranches].index(tranche.pk)], _rules(cycle)


def _waiting(tranche: Tranche):
    """Active enrolments of the tranche's cycle without a payment of it, in id order."""
    return (Enrolment.objects.filter(cycle_id=tranche.cycle_id, status=EnrolmentStatus.AKTIF)
            .exclude(payments__tranche=tranche).order_by("pk")
            .values("pk", "desa_id", "channel", "account_number", "household_id"))


def _payment_rows(tranche: Tranche, tranche_amount: Decimal, rules, enrolments: list
                  ) -> tuple[list, set]:
    """The payments (unsaved) the list makes for ``enrolments``, and the enrolments without a
    qualifying member among them."""
    cycle = tranche.cycle
    no_member = _without_qualifying_member(cycle, enrolments)
    tallies = {
        row["member__enrolment_id"]: row for row in
        Commitment.objects.filter(tranche=tranche,
                                  member__enrolment_id__in=[e["pk"] for e in enrolments])
        .values("member__enrolment_id").annotate(
            met=Count("id", filter=Q(status=CommitmentStatus.TERPENUHI)),
            unmet=Count("id", filter=Q(status=CommitmentStatus.TIDAK_TERPENUHI)))
    }
    rows = []
    for enrolment in enrolments:
        tally = tallies.get(enrolment["pk"], {"met": 0, "unmet": 0})
        outcome, factor, ratio = calculations.commitment_outcome(
            met=tally["met"], unmet=tally["unmet"], rules=rules)
        reason = ""
        if enrolment["pk"] in no_member:
            outcome, factor = Outcome.DITANGGUHKAN, Decimal(0)
            reason = _("Tidak ada lagi anggota yang memenuhi syarat (ibu hamil/nifas, balita, "
                       "anak sekolah, lansia) yang hidup dan tercatat dalam keluarga ini.")
        amount = calculations.payment_amount(tranche_amount, factor)
        if not amount and not reason:
            reason = (_("Ditangguhkan karena komitmen tidak terpenuhi.")
                      if outcome == Outcome.DITANGGUHKAN
                      else _("Nilai penyaluran Rp0 sesudah pengurangan komitmen; tidak dikirim "
                             "ke bank."))
        rows.append(Payment(
            enrolment_id=enrolment["pk"], tranche=tranche, desa_id=enrolment["desa_id"],
            tranche_amount=tranche_amount, amount=amount, outcome=outcome,
            channel=enrolment["channel"], account_number=enrolment["account_number"],
            # nothing to transfer (suspended by the rule, reduced to Rp0, no qualifying
            # member left): suspended with its reason, never a line of the bank file
            status=PaymentStatus.DIJADWALKAN if amount else PaymentStatus.DITANGGUHKAN,
            failure_reason=reason,
            explanation={"benefit": str(cycle.benefit_amount), "tranche_amount":
                         str(tranche_amount), "met": tally["met"], "unmet": tally["unmet"],
                         "unmet_ratio": str(ratio.quantize(Decimal("0.0001"))),
                         "factor": str(factor), "rule": outcome},
        ))
    return rows, no_member


def _committed(cycle: Cycle) -> Decimal:
    """What the cycle has scheduled or paid (its pagu's use)."""
    from jamsosratu.selectors import committed

    return committed(cycle=cycle)


def _check_pagu(tranche: Tranche, adding: Decimal) -> None:
    """Refused (``budget_ceiling``) when ``adding`` takes the cycle's scheduled and paid total
    over its pagu, unless Pimpinan recorded a reason to go over it for this tahap
    (``tranche_over_budget_allow``). Exactly the pagu passes; a cycle without a pagu passes."""
    cycle = tranche.cycle
    if cycle.budget_ceiling is None or tranche.over_budget_reason:
        return
    total = _committed(cycle) + adding
    if total > cycle.budget_ceiling:
        raise ValidationError({"budget_ceiling": ValidationError(_(
            "Daftar penyaluran %(t)s membuat penyaluran siklus %(y)s menjadi %(total)s, "
            "melampaui pagu %(pagu)s; Pimpinan perlu mencatat alasan melampaui pagu untuk tahap "
            "ini.") % {"t": tranche, "y": cycle.year, "total": format_rupiah(total),
                        "pagu": format_rupiah(cycle.budget_ceiling)}, code=OVER_PAGU)})


def over_pagu(exc: ValidationError) -> bool:
    """Whether ``exc`` is ``_check_pagu``'s refusal (the tahap waits for Pimpinan)."""
    return any(error.code == OVER_PAGU
               for error in getattr(exc, "error_dict", {}).get("budget_ceiling", []))


def payments_budget_check(*, tranche: Tranche, chunk_size: int = 2000) -> Decimal:
    """What the whole list would schedule now, asked against the pagu before any of it is made
    (the list is made in chunks, each its own transaction: a refusal halfway would leave half
    a list). Returns the amount."""
    tranche = Tranche.objects.select_related("cycle").get(pk=tranche.pk)
    if tranche.cycle.budget_ceiling is None:
        return Decimal(0)
    tranche_amount, rules = _split(tranche)
    adding, last = Decimal(0), 0
    while True:
        enrolments = list(_waiting(tranche).filter(pk__gt=last)[:chunk_size])
        if not enrolments:
            break
        rows, _no_member = _payment_rows(tranche, tranche_amount, rules, enrolments)
        adding += sum((r.amount for r in rows if r.status == PaymentStatus.DIJADWALKAN),
                      Decimal(0))
        last = enrolments[-1]["pk"]
    _check_pagu(tranche, adding)
    return adding


@transaction.atomic
def tranche_over_budget_allow(*, actor, tranche: Tranche, reason: str) -> Tranche:
    """Pimpinan's recorded decision that this tahap's list may take the cycle over its pagu
    (as a payout run approved over its pagu): who, when and why stay on the tahap and in its
    audit trail."""
    if not actor.has_perm("jamsosratu.override_ceiling"):
        raise PermissionDenied(_("Hanya Pimpinan yang dapat memutuskan penyaluran melampaui "
                                 "pagu."))
    if not reason.strip():
        raise ValidationError({"over_budget_reason": _(
            "Tuliskan alasan penyaluran melampaui pagu.")})
    tranche = locked(tranche)
    check_field(Tranche, "over_budget_reason", reason.strip())
    tranche.over_budget_reason, tranche.over_budget_by = reason.strip(), actor
    tranche.over_budget_at = timezone.now()
    tranche.save(update_fields=["over_budget_reason", "over_budget_by", "over_budget_at"])
    return tranche


@transaction.atomic
def _payments_generate_chunk(*, tranche: Tranche, size: int) -> tuple[int, int]:
    """(created, enrolments looked at) for the next ``size`` active enrolments without a
    payment of this tranche. The cycle's row after the tranche's: two lists of one cycle
    count each other's payments against the pagu."""
    tranche = Tranche.objects.select_for_update().select_related("cycle").get(pk=tranche.pk)
    Cycle.objects.select_for_update().filter(pk=tranche.cycle_id).exists()
    tranche_amount, rules = _split(tranche)
    enrolments = list(_waiting(tranche)[:size])
    rows, no_member = _payment_rows(tranche, tranche_amount, rules, enrolments)
    _check_pagu(tranche, sum((r.amount for r in rows if r.status == PaymentStatus.DIJADWALKAN),
                             Decimal(0)))
    before = Payment.objects.filter(tranche=tranche).count()
    Payment.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    for enrolment in Enrolment.objects.filter(pk__in=no_member).select_related("cycle"):
        enrolment_members_refresh(enrolment=enrolment)  # the stored list agrees with the list
    changes.refresh(Payment, Payment.objects.filter(  # no save() signal: feed them here
        tranche=tranche, enrolment_id__in=[r.enrolment_id for r in rows]).values_list(
            "pk", flat=True))
    return Payment.objects.filter(tranche=tranche).count() - before, len(enrolments)


@transaction.atomic
def payment_mark(*, actor, payment: Payment, status: str, paid_on=None, reference: str = "",
                 failure_reason: str = "") -> Payment:
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    ensure_in_area(actor, payment.desa_id, typed=False)
    if payment.status != PaymentStatus.DIJADWALKAN:
        raise ValidationError({"status": _("Penyaluran berstatus %(s)s tidak dapat diubah.")
                               % {"s": payment.get_status_display()}})
    if (payment.channel == Channel.BANK_BANTEN and payment.sent_at is not None
            and user_area(actor) is not ALL):
        # in the bank's hands: settled by the bank's result (or by the province, which holds
        # it) — a district's "gagal" would let it be scheduled again and paid twice
        raise ValidationError({"status": _(
            "Penyaluran ini sudah dikirim ke Bank Banten; hasilnya dicatat dari berkas hasil "
            "bank oleh Dinas Sosial Provinsi.")})
    if status == PaymentStatus.DISALURKAN:
        if not (paid_on and reference.strip()):
            raise ValidationError(_("Tanggal dan referensi penyaluran wajib diisi."))
        payment.paid_on, payment.reference = paid_on, reference.strip()
    elif status == PaymentStatus.GAGAL:
        if not failure_reason.strip():
            raise ValidationError({"failure_reason": _("Alasan gagal wajib diisi.")})
        payment.failure_reason = failure_reason.strip()
    else:
        raise ValidationError({"status": _("Status harus disalurkan atau gagal.")})
    payment.status = status
    payment.full_clean()
    payment.save()
    return payment


@transaction.atomic
def payment_reschedule(*, actor, payment: Payment) -> Payment:
    """Jadwalkan ulang: a failed transfer (``gagal``, a closed account say) goes back to
    ``dijadwalkan`` with the enrolment's current channel and account, to be sent in the next
    bank file. Province staff who work on payments, as the bank's result file; the enrolment
    before the payment (the order of an exclusion), so an exclusion meanwhile is seen: a
    household excluded is not rescheduled. The change (old → new status and account) is in
    the payment's audit trail."""
    _require_payment_work(actor)
    enrolment = Enrolment.objects.select_for_update().get(pk=payment.enrolment_id)
    payment = Payment.objects.select_for_update().select_related("tranche__cycle").get(
        pk=payment.pk)
    ensure_in_area(actor, payment.desa_id, typed=False)
    if payment.status != PaymentStatus.GAGAL:
        raise ValidationError({"status": _(
            "Hanya penyaluran yang gagal yang dapat dijadwalkan ulang; penyaluran ini "
            "berstatus %(s)s.") % {"s": payment.get_status_display()}})
    if enrolment.status not in (EnrolmentStatus.AKTIF, EnrolmentStatus.GRADUASI):
        raise ValidationError({"status": _(
            "Peserta berstatus %(s)s; penyalurannya tidak dapat dijadwalkan ulang.")
            % {"s": enrolment.get_status_display()}})
    if not payment.amount:
        raise ValidationError({"amount": _("Penyaluran Rp0 tidak dikirim ke bank.")})
    if enrolment.channel == Channel.BANK_BANTEN and not enrolment.account_number:
        raise ValidationError({"account_number": _(
            "Rekening Bank Banten peserta belum diisi; perbaiki rekening dulu.")})
    # a failed transfer no longer counts in the pagu's use: scheduled again it does, so it is
    # asked of the pagu as a list is, under the cycle's row lock (the lists' order: tahap,
    # then cycle)
    Tranche.objects.select_for_update().filter(pk=payment.tranche_id).exists()
    Cycle.objects.select_for_update().filter(pk=payment.tranche.cycle_id).exists()
    _check_pagu(payment.tranche, payment.amount)
    payment.status, payment.failure_reason, payment.sent_at = PaymentStatus.DIJADWALKAN, "", None
    payment.attempt += 1  # its next line is "<id>-<attempt>": an old result cannot settle it
    payment.channel, payment.account_number = enrolment.channel, enrolment.account_number
    payment.full_clean()
    payment.save()
    return payment


def require_province(actor) -> None:
    if user_area(actor) is not ALL:
        raise PermissionDenied(_("Hanya Dinas Sosial Provinsi yang dapat melakukan ini."))


# --- long work on a tranche, followed by the page ---------------------------------------------

def _require_payment_work(actor) -> None:
    require_province(actor)
    if not can(actor, "change", Payment):
        raise PermissionDenied(_("Anda tidak berwenang mengelola penyaluran."))


def _expire_stale_jobs(tranche: Tranche) -> None:
    """A job left unfinished past the task time limit (a killed worker) no longer blocks."""
    limit = timezone.now() - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    TrancheJob.objects.filter(tranche=tranche, status__in=UNFINISHED,
                              created_at__lt=limit).update(
        status=JobStatus.GAGAL, finished_at=timezone.now(),
        message=_("Terhenti sebelum selesai; jalankan lagi (yang sudah tercatat tidak "
                  "berubah)."))


def tranche_job_start(*, actor, tranche: Tranche, kind: str, upload=None) -> TrancheJob:
    """Queue the making of a tranche's payment list (``penyaluran``) or the applying of the
    bank's result file (``hasil_bank``, ``upload``) for the worker; the page follows the job.
    Province staff who may change payments only; refused while another job of the tranche is
    unfinished (one at a time, a database constraint). A result file over the limits, of an
    unknown kind or without the required columns is refused here (``file``), before it is
    stored: the job only reads its lines."""
    from dinsos.importing import upload_check
    from dinsos.tabular import TableError
    from jamsosratu.banking import result_file_check

    _require_payment_work(actor)
    if kind not in JobKind.values:
        raise ValidationError({"kind": _("Jenis proses tidak dikenal.")})
    if kind == JobKind.HASIL_BANK:
        if upload is None:
            raise ValidationError({"file": _("Pilih berkas hasil bank (CSV atau XLSX).")})
        try:
            upload_check(upload)
            result_file_check(upload)
        except TableError as exc:
            raise ValidationError({"file": str(exc)}) from exc
    if kind == JobKind.PENYALURAN:
        try:  # refused on the page, not later in the job
            payments_budget_check(tranche=tranche)
        except ValidationError as exc:
            if over_pagu(exc):  # kept as a finished job: the tahap shows it waits for Pimpinan
                _record_refused_list(actor, tranche, exc)
            raise
    _expire_stale_jobs(tranche)
    busy = _("Tahap ini sedang diproses; tunggu sampai proses itu selesai.")
    if TrancheJob.objects.filter(tranche=tranche, status__in=UNFINISHED).exists():
        raise ValidationError(busy)
    job = TrancheJob(tranche=tranche, kind=kind, requested_by=actor)
    if upload is not None:
        job.file, job.filename = upload, upload.name[:255]
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        raise ValidationError(busy) from None
    from jamsosratu.tasks import run_tranche_job

    run_tranche_job.delay_on_commit(job.pk)
    return job


def _record_refused_list(actor, tranche: Tranche, exc: ValidationError) -> None:
    """A list refused for the pagu before it queued, as a failed job of the tahap (its page
    and the cycle's show the refusal, and Pimpinan the form to decide)."""
    TrancheJob.objects.create(
        tranche=tranche, kind=JobKind.PENYALURAN, requested_by=actor, status=JobStatus.GAGAL,
        message=" ".join(exc.messages), totals={OVER_PAGU: True}, finished_at=timezone.now())


def tranche_job_run(*, job_id: int) -> TrancheJob:
    """Do a queued job (the task): progress and result are written to the job as it goes.
    A job already finished is left as it is (a task delivered twice)."""
    from dinsos.tabular import TableError
    from jamsosratu import banking

    job = TrancheJob.objects.select_related("tranche__cycle", "requested_by").get(pk=job_id)
    if not job.unfinished:
        return job
    TrancheJob.objects.filter(pk=job.pk).update(status=JobStatus.BERJALAN)

    def progress(done, total=None):
        TrancheJob.objects.filter(pk=job.pk).update(
            done=done, **({} if total is None else {"total": total}))

    try:
        with audit_context(actor=job.requested_by, tranche_job=job.pk):
            if job.kind == JobKind.PENYALURAN:
                created = payments_generate(tranche=job.tranche, progress=progress)
                job.totals = {"created": created}
                job.message = _("%(n)d penyaluran dibuat.") % {"n": created}
            else:
                with job.file.open("rb"):
                    report = banking.bank_result_import(
                        actor=job.requested_by, tranche=job.tranche, fileobj=job.file.file,
                        filename=job.filename, progress=progress)
                job.totals, job.lines = report.totals(), report.lines
                job.message = report.message()
    except TableError as exc:
        job.status, job.message = JobStatus.GAGAL, str(exc)
    except ValidationError as exc:  # a refusal of the list (the pagu, a changed split)
        job.status, job.message = JobStatus.GAGAL, " ".join(exc.messages)
        if over_pagu(exc):
            job.totals = {OVER_PAGU: True}
    except Exception:  # noqa: BLE001 - the job must not stay "berjalan"; logged below
        log.exception("tranche job %s failed", job.pk)
        job.status = JobStatus.GAGAL
        # the exception's text (English, table names, a key's value such as an account or a
        # NIK) is for the log, never the page: the job's number finds it there
        job.message = _("Kesalahan sistem; yang sudah tercatat tetap tercatat. Jalankan lagi "
                        "atau hubungi admin dan sebutkan nomor proses %(id)s.") % {"id": job.pk}
    else:
        job.status = JobStatus.SELESAI
    job.refresh_from_db(fields=["done", "total"])
    if job.status == JobStatus.SELESAI:
        job.done = job.total = (job.totals.get("rows") if job.kind == JobKind.HASIL_BANK
                                else job.total or 0) or 0
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "totals", "lines", "done", "total",
                            "finished_at"])
    return job
