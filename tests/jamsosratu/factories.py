"""Builders for the Jamsosratu tests on top of tests/factories.py: households with members of
given ages, verifiers and pendamping with assignments, and enrolments walked through the
services (so every rule applies) up to a wanted status."""

import datetime

import factory

from jamsosratu import services
from jamsosratu.models import Commitment, EnrolmentMember
from psks.models import Assignment
from tests.factories import (
    DESA_PANDEGLANG,
    ON_DUTY_UNTIL,
    AssignmentFactory,
    EnrolmentFactory,
    HouseholdFactory,
    PersonFactory,
    UserFactory,
    WorkerFactory,
)

D = datetime.date
KEC_SUMUR = "36.01.01"  # Kab. Pandeglang
KEC_CIMANGGU = "36.01.02"  # Kab. Pandeglang
KEC_MALINGPING = "36.02.01"  # Kab. Lebak
DESA_CIMANGGU = "36.01.02.2001"  # Rancapinang, Kec. Cimanggu
DESA_LEBAK_2 = "36.02.01.2003"  # Pagelaran, Kec. Malingping

VISIT = D(2025, 11, 10)  # verification visit before the 2026 cycle (never in the future)
ASSIGNED_FROM = D(2025, 1, 2)
ASSIGNED_UNTIL = ON_DUTY_UNTIL

# Birth dates and their age on 1 January 2026 (the reference date of the 2026 cycle).
ADULT = D(1985, 4, 2)  # 40
TODDLER = D(2023, 6, 1)  # 2: balita
PUPIL = D(2014, 7, 9)  # 11: anak sekolah when in SD or schooling unknown
ELDER = D(1950, 2, 3)  # 75: lansia


def household(desa: str = DESA_PANDEGLANG, members=(ADULT, TODDLER), *, decile=2, **fields):
    """A household in ``desa`` whose members are born on the given dates (or described by
    dicts of PersonFactory fields). The first member is the head."""
    hh = HouseholdFactory(desa_id=desa, decile=decile, **fields)
    people = []
    for index, member in enumerate(members):
        values = member if isinstance(member, dict) else {"birth_date": member}
        values = {"relationship": "kepala" if index == 0 else "anak", **values}
        people.append(PersonFactory(household=hh, desa_id=desa, **values))
    if people:
        hh.head = people[0]
        hh.save(update_fields=["head"])
    hh.people = people
    return hh


def worker_with_role(area: str, role: str = "tksk", *, start=ASSIGNED_FROM, end=ASSIGNED_UNTIL,
                     desa: str | None = None, worker=None):
    """A worker assigned ``role`` in ``area`` (a kecamatan or a desa) for the period."""
    worker = worker or WorkerFactory(desa_id=desa or DESA_PANDEGLANG)
    AssignmentFactory(worker=worker, role=role, area_id=area, start_date=start, end_date=end,
                      decree_date=start)
    return worker


def tksk_of(kecamatan: str):
    """The TKSK of a kecamatan (one per kecamatan: made once, then reused)."""
    existing = (Assignment.objects.filter(role="tksk", area_id=kecamatan)
                .select_related("worker").first())
    return existing.worker if existing else worker_with_role(kecamatan, "tksk")


def pendamping_in(kecamatan: str, **kwargs):
    return worker_with_role(kecamatan, "pendamping_jamsosratu", **kwargs)


STEPS = ["calon", "terverifikasi", "ditetapkan", "aktif", "graduasi"]


def account_checker():
    """The province operator who verifies the accounts ``enrol`` records (four eyes)."""
    from dinsos import roles
    from dinsos.models import User

    return (User.objects.filter(username="pemeriksa_rekening").first()
            or UserFactory(username="pemeriksa_rekening", role=roles.OPERATOR_PROVINSI))


def enrol(actor, hh, cycle, status: str = "calon", *, account_number: str | None = None,
          channel: str = "bank_banten", decree: str = "SK Gubernur Banten 460/Kep.1-Huk/2026",
          verifier=None, pregnant=(), account_checked: bool = True):
    """Propose ``hh`` for ``cycle`` and walk it through the services up to ``status``
    (a verification "sesuai" by the kecamatan's TKSK before terverifikasi); its account is
    verified by a second user (four eyes) unless ``account_checked`` is false."""
    if account_number is None:
        account_number = f"0098{hh.pk:08d}" if channel == "bank_banten" else ""
    enrolment = services.enrolment_propose(actor=actor, household=hh, cycle=cycle,
                                           source="uji", channel=channel,
                                           account_number=account_number)
    if account_number and account_checked:
        checked = services.enrolment_account_verify(actor=account_checker(),
                                                    enrolment=enrolment)
        enrolment.account_verified_by = checked.account_verified_by
        enrolment.account_verified_at = checked.account_verified_at
    if status == "dikeluarkan":
        return services.enrolment_transition(actor=actor, enrolment=enrolment,
                                             to_status="dikeluarkan", reason="Uji keluar")
    target = STEPS.index(status)
    if target >= 1:
        services.verification_record(
            actor=actor, enrolment=enrolment,
            verifier=verifier or tksk_of(enrolment.desa_id[:8]), visit_date=VISIT,
            result="sesuai", pregnant_person_ids=pregnant)
    for step in STEPS[1:target + 1]:
        enrolment = services.enrolment_transition(
            actor=actor, enrolment=enrolment, to_status=step,
            decree_number=decree if step == "ditetapkan" else "")
    return enrolment


def record_commitments(actor, enrolment, tranche, statuses):
    """One commitment per qualifying member (in id order) with the given statuses."""
    members = list(enrolment.members.order_by("id"))
    assert len(members) >= len(statuses)
    return [services.commitment_record(
        actor=actor, member=member, tranche=tranche,
        kind="pendidikan" if member.condition == "anak_sekolah" else "kesehatan", status=status)
        for member, status in zip(members, statuses, strict=False)]


# --- direct factories (bulk data for lists and reports) -------------------------------------

class EnrolmentMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnrolmentMember

    enrolment = factory.SubFactory(EnrolmentFactory)
    person = factory.LazyAttribute(lambda o: PersonFactory(
        household=o.enrolment.household, desa_id=o.enrolment.desa_id, birth_date=TODDLER))
    condition = "balita"


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    member = factory.SubFactory(EnrolmentMemberFactory)
    tranche = factory.LazyAttribute(lambda o: o.member.enrolment.cycle.tranches.first())
    kind = "kesehatan"
    status = "terpenuhi"
    recorded_by = factory.SubFactory(UserFactory)
