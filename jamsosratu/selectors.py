"""Reads of Jamsosratu: scoped lists, coverage per kab/kota and kecamatan, caseloads."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, Sum
from django.db.models.functions import Coalesce, Substr
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos.dashboard import Chart, Figure, Panel, Section, Waiting
from dinsos.models import Wilayah
from dinsos.money import format_rupiah
from dinsos.scoping import ALL, code_within, in_area, scope_q, shown_within, user_area
from jamsosratu import calculations
from jamsosratu.choices import EnrolmentStatus, JobStatus, PaymentStatus
from jamsosratu.filters import EnrolmentFilterSet
from jamsosratu.models import (
    Commitment,
    Companion,
    Cycle,
    Enrolment,
    EnrolmentMember,
    Payment,
    Quota,
    Tranche,
    TrancheJob,
    Verification,
    VerificationFinding,
)
from pmks.models import Person
from psks.models import Assignment, Worker

ZERO = Decimal(0)


def enrolment_list(*, user):
    return Enrolment.objects.for_user(user).select_related("cycle", "household", "desa")


def cycle_list():
    """Program years, newest first (reference data: every role reads them)."""
    return Cycle.objects.prefetch_related("tranches").order_by("-year")


def cycle_get(*, year) -> Cycle:
    return get_object_or_404(Cycle, year=year)


def tranche_get(*, cycle: Cycle, number) -> Tranche:
    return get_object_or_404(Tranche.objects.select_related("cycle"), cycle=cycle, number=number)


def quota_use(*, user, cycle: Cycle) -> list[dict]:
    """Per kab/kota of the user's area: the quota and the households it counts (decreed,
    active, graduated — the ones ``services._check_quota`` counts), with the other states."""
    counted = {row["kode"]: row for row in coverage(user=user, cycle=cycle, level="kab_kota")}
    rows = []
    for quota in Quota.objects.for_user(user).filter(cycle=cycle).select_related("kab_kota"):
        row = counted.get(quota.kab_kota_id, {})
        used = row.get("decreed", 0)
        rows.append({"kode": quota.kab_kota_id, "nama": quota.kab_kota.nama,
                     "quota": quota.quota, "used": used, "left": max(quota.quota - used, 0),
                     "full": used >= quota.quota, "proposed": row.get("proposed", 0),
                     "active": row.get("active", 0)})
    return rows


def tranche_overview(*, user, cycle: Cycle) -> list[dict]:
    """Each tranche: its amount per household (the cycle's exact split), its payments in the
    user's area by status, and (province) its latest job."""
    from jamsosratu.services import OVER_PAGU

    tranches = list(cycle.tranches.select_related("over_budget_by").order_by("number"))
    amounts = calculations.tranche_amounts(cycle.benefit_amount, [t.share for t in tranches])
    per_status = defaultdict(dict)
    for row in (Payment.objects.for_user(user).filter(tranche__cycle=cycle)
                .values("tranche_id", "status")
                .annotate(n=Count("id"), total=Coalesce(Sum("amount"), ZERO))):
        per_status[row["tranche_id"]][row["status"]] = row
    jobs = {}
    province = user_area(user) is ALL
    if province:
        for job in TrancheJob.objects.filter(tranche__cycle=cycle).order_by("created_at"):
            jobs[job.tranche_id] = job
    in_use = committed(cycle=cycle) if province and cycle.budget_ceiling is not None else None
    reschedulable = {} if in_use is None else dict(
        Payment.objects.filter(tranche__cycle=cycle, status=PaymentStatus.GAGAL, amount__gt=0,
                               enrolment__status__in=(EnrolmentStatus.AKTIF,
                                                      EnrolmentStatus.GRADUASI))
        .values("tranche_id").annotate(total=Sum("amount")).values_list("tranche_id", "total"))
    rows = []
    for tranche, amount in zip(tranches, amounts, strict=True):
        found = per_status.get(tranche.pk, {})
        job = jobs.get(tranche.pk)
        failed = found.get(PaymentStatus.GAGAL, {"n": 0})
        rows.append({
            "tranche": tranche, "amount": amount, "job": job,
            "count": sum(r["n"] for r in found.values()), "failed": failed["n"],
            "statuses": [{"label": label, "n": found[value]["n"],
                          "total": found[value]["total"]}
                         for value, label in PaymentStatus.choices if value in found],
            # the tahap waits for Pimpinan: its list was refused for the pagu (its latest job
            # says so), or scheduling again its failed transfers that may be
            # (``payment_reschedule``: of a household active or graduated, not Rp0) would be
            # (province only)
            "waits_for_pimpinan": in_use is not None and not tranche.over_budget_reason and (
                bool(job and job.status == JobStatus.GAGAL and job.totals.get(OVER_PAGU))
                or in_use + reschedulable.get(tranche.pk, ZERO) > cycle.budget_ceiling),
        })
    return rows


def committed(*, cycle: Cycle) -> Decimal:
    """What the cycle has scheduled or paid: its pagu's use (``services._check_pagu``). A
    failed or suspended payment is not in it; a failed one scheduled again is asked of the
    pagu again."""
    return Payment.objects.filter(
        tranche__cycle=cycle, status__in=(PaymentStatus.DIJADWALKAN, PaymentStatus.DISALURKAN)
    ).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]


def head_name(user, via: str = "household__head"):
    """The name of an enrolment's household head (``via`` from the row's model) where the
    head is registered inside the user's area, else NULL — the page's "(kepala keluarga
    tercatat di luar wilayah Anda)": a Jamsosratu page or search names no person of another
    kab/kota (``scoping.shown_within``, one CASE in the row's own query)."""
    return shown_within(user_area(user), Person, via, F(f"{via}__name"))


def failed_payments(*, user, tranche: Tranche):
    """A tahap's failed transfers in the user's area, with what the page shows of each (the
    household's head and desa, the enrolment's current channel and account)."""
    return (payment_list(user=user).filter(tranche=tranche, status=PaymentStatus.GAGAL)
            .select_related("enrolment__household", "desa")
            .annotate(head_name=head_name(user, "enrolment__household__head"))
            .order_by("desa_id", "id"))


def tranche_statuses(*, user, tranche: Tranche) -> list[dict]:
    """A tahap's payments in the user's area by status: label, households, amount."""
    found = {row["status"]: row for row in (
        Payment.objects.for_user(user).filter(tranche=tranche).values("status")
        .annotate(n=Count("id"), total=Coalesce(Sum("amount"), ZERO)))}
    return [{"label": label, "n": found[value]["n"], "total": found[value]["total"]}
            for value, label in PaymentStatus.choices if value in found]


def enrolment_search(*, user, cycle: Cycle, filters):
    """The enrolment list of a cycle: the FilterSet (status, wilayah) and ``q`` — the head of
    household's name, or the start of the No. KK for users who see it whole."""
    from dinsos.scoping import sees_identifiers
    from pmks.models import Household

    qs = (enrolment_list(user=user).filter(cycle=cycle)
          .select_related("household", "desa__induk").annotate(head_name=head_name(user)))
    filterset = EnrolmentFilterSet(filters, qs, user=user)
    qs = filterset.qs
    text = (filters.get("q") or "").strip()
    if text.isdigit():
        qs = (qs.filter(household__no_kk__startswith=text)
              if sees_identifiers(user, Household) else qs.none())
    elif text:  # a head of another kab/kota is not found by name (nor named)
        qs = qs.filter(scope_q(Person, user_area(user), "household__head"),
                       household__head__name__icontains=text)
    return filterset, qs.order_by("desa_id", "head_name", "id")


def member_shown(user, via: str = "") -> Q:
    """An enrolment's member (``via``: the path to the ``EnrolmentMember`` from the rows'
    model, ``"member"`` from a commitment) as the user may see it: the person registered
    inside the user's area. An ``EnrolmentMember`` is placed through its enrolment only, and
    the service takes every member of the KK wherever each person is registered (the
    household's benefit counts them all): a member registered in another kab/kota — its name,
    NIK, qualifying condition — is not shown to a kab/kota user on any door (the enrolment's
    API detail and ``transition`` answer, its page, its admin, the commitment admin), nor is a
    commitment recorded for it from there (``services.commitment_record``), as the household
    page leaves it out. Everything for province-wide users."""
    return scope_q(Person, user_area(user), f"{via}__person" if via else "person")


def finding_shown(user) -> Q:
    """A visit finding as the user may see it: one about no person ("anggota baru"), or about
    a person registered inside the user's area now — a member the visit found "pindah", whom
    the province then moved to another kab/kota, is no longer named on the enrolment page nor
    in the visit's admin, and the district applies no finding about him
    (``services.verification_apply_findings``). The visit's API names no person, only its id
    (its changes feed's mirror stays the list: a person's move is no change of the visit)."""
    condition = scope_q(Person, user_area(user), "person")
    return Q(person__isnull=True) | condition if condition else condition


def enrolment_members(*, user):
    """The rows of ``Enrolment.members`` every door lists (``member_shown``)."""
    return (EnrolmentMember.objects.filter(member_shown(user)).select_related("person")
            .order_by("id"))


def verification_findings(*, user):
    """The rows of ``Verification.findings`` every door lists (``finding_shown``)."""
    return (VerificationFinding.objects.filter(finding_shown(user)).select_related("person")
            .order_by("id"))


def enrolment_with_members(*, user):
    """``enrolment_list`` with what the enrolment's detail shows of it on the API (the detail
    and the ``transition`` answer): its members the user may see and its transitions."""
    return enrolment_list(user=user).prefetch_related(
        Prefetch("members", queryset=enrolment_members(user=user)), "transitions__actor")


def enrolment_get(*, user, pk) -> Enrolment:
    return get_object_or_404(
        enrolment_list(user=user).select_related("household", "desa__induk",
                                                 "account_recorded_by", "account_verified_by")
        .annotate(head_name=head_name(user))
        .prefetch_related(Prefetch("members", queryset=enrolment_members(user=user)),
                          "transitions__actor", "verifications__verifier",
                          Prefetch("verifications__findings",
                                   queryset=verification_findings(user=user)),
                          "companions__worker"), pk=pk)


def verification_get(*, user, pk) -> Verification:
    return get_object_or_404(verification_list(user=user).select_related("enrolment"), pk=pk)


def household_members(*, user, enrolment: Enrolment):
    """The members the visit form lists (findings, pregnancy): those registered inside the
    user's area — a member of the KK registered in another kab/kota is neither named nor
    changed from here."""
    return Person.objects.for_user(user).filter(
        household_id=enrolment.household_id, merged_into__isnull=True).order_by(
        "birth_date", "id")


def verifier_choices(*, enrolment: Enrolment, since, until):
    """Who may verify this household on a day from ``since`` to ``until``: TKSK and
    pendamping assigned to its kecamatan (or a desa in it) then — the rule of
    ``services.verification_record``, which asks it on the visit day."""
    from jamsosratu.services import VERIFIER_ROLES

    kecamatan = enrolment.desa_id[:8]
    duties = (Assignment.objects.filter(role__in=VERIFIER_ROLES, start_date__lte=until)
              .filter(Q(end_date__isnull=True) | Q(end_date__gte=since))
              .filter(Q(area_id=kecamatan) | Q(area__kode__startswith=f"{kecamatan}."))
              .select_related("area").order_by("role", "area_id"))
    return (Worker.objects.filter(assignments__in=duties)
            .prefetch_related(Prefetch("assignments", queryset=duties, to_attr="duties"))
            .distinct().order_by("name", "id"))


def job_list(*, user):
    """Jobs are province work: another user gets none of them."""
    qs = TrancheJob.objects.select_related("tranche__cycle", "requested_by")
    return qs if user_area(user) is ALL else qs.none()


def job_get(*, user, pk) -> TrancheJob:
    return get_object_or_404(job_list(user=user), pk=pk)


def verification_list(*, user):
    return Verification.objects.for_user(user).select_related("verifier", "recorded_by")


def commitment_list(*, user):
    """Commitments of the enrolments in the user's area — those of a member registered in
    another kab/kota too: a commitment is the enrolment's (the household's payment weighs
    it) and the API names its member by the id only; a changes feed's mirror stays this
    list (a person's move is no change of the commitment). The admin, which names the member,
    lists only those of members the user may see (``member_shown``)."""
    return Commitment.objects.for_user(user).select_related("member__person", "tranche")


def payment_list(*, user):
    return Payment.objects.for_user(user).select_related("tranche", "enrolment")


def coverage(*, user, cycle: Cycle, level: str = "kecamatan") -> list[dict]:
    """Per kab/kota (level="kab_kota") or kecamatan: quota, enrolments per status, paid per
    tranche, graduated, and the cycle's budget used against its pagu. Two aggregate queries."""
    width = 5 if level == "kab_kota" else 8
    enrolments = Enrolment.objects.for_user(user).filter(cycle=cycle).annotate(
        unit=Substr("desa_id", 1, width))
    counts = enrolments.values("unit").annotate(
        proposed=Count("id"),
        verified=Count("id", filter=Q(status__in=["terverifikasi", "ditetapkan", "aktif",
                                                  "graduasi"])),
        decreed=Count("id", filter=Q(status__in=["ditetapkan", "aktif", "graduasi"])),
        active=Count("id", filter=Q(status=EnrolmentStatus.AKTIF)),
        graduated=Count("id", filter=Q(status=EnrolmentStatus.GRADUASI)),
        excluded=Count("id", filter=Q(status=EnrolmentStatus.DIKELUARKAN)),
    ).order_by("unit")
    paid = (Payment.objects.for_user(user).filter(tranche__cycle=cycle,
                                                   status=PaymentStatus.DISALURKAN)
            .annotate(unit=Substr("desa_id", 1, width), number=F("tranche__number"))
            .values("unit", "number").annotate(total=Coalesce(Sum("amount"), ZERO),
                                               n=Count("id")))
    paid_by_unit: dict[str, dict] = defaultdict(dict)
    for row in paid:
        paid_by_unit[row["unit"]][row["number"]] = {"households": row["n"],
                                                     "amount": str(row["total"])}
    quotas = {q.kab_kota_id: q.quota for q in cycle.quotas.all()
              if code_within(q.kab_kota_id, user_area(user))}
    counts = list(counts)
    if level == "kab_kota":  # a kab/kota with a quota and no enrolment yet is a row of zeros
        empty = dict.fromkeys(("proposed", "verified", "decreed", "active", "graduated",
                               "excluded"), 0)
        seen = {c["unit"] for c in counts}
        counts = sorted([*counts, *({"unit": unit, **empty} for unit in quotas
                                    if unit not in seen)], key=lambda c: c["unit"])
    names = dict(Wilayah.objects.filter(kode__in=[c["unit"] for c in counts])
                 .values_list("kode", "nama"))
    rows = []
    for row in counts:
        unit = row["unit"]
        rows.append({
            "kode": unit, "nama": names.get(unit, unit),
            "quota": quotas.get(unit) if level == "kab_kota" else None,
            **{k: row[k] for k in ("proposed", "verified", "decreed", "active", "graduated",
                                   "excluded")},
            "paid_per_tranche": paid_by_unit.get(unit, {}),
            "paid_total": str(sum((Decimal(p["amount"])
                                   for p in paid_by_unit.get(unit, {}).values()), ZERO)),
        })
    return rows


def budget_used(*, user, cycle: Cycle) -> dict:
    """Paid in the user's area; the province's pagu and what remains of it only for
    province-wide users (a district sees its own spending, not the others')."""
    used = Payment.objects.for_user(user).filter(
        tranche__cycle=cycle, status=PaymentStatus.DISALURKAN
    ).aggregate(s=Coalesce(Sum("amount"), ZERO))["s"]
    if user_area(user) is not ALL:
        return {"pagu": None, "used": str(used), "remaining": None}
    pagu = cycle.budget_ceiling
    return {"pagu": None if pagu is None else str(pagu), "used": str(used),
            "remaining": None if pagu is None else str(pagu - used)}


def caseloads(*, user, cycle: Cycle) -> list[dict]:
    """Active enrolments per pendamping and kecamatan; flagged above the cycle's maximum."""
    qs = (Companion.objects.for_user(user).filter(end_date__isnull=True, enrolment__cycle=cycle,
                                                  enrolment__status__in=["ditetapkan", "aktif"])
          .annotate(kecamatan=Substr("enrolment__desa_id", 1, 8))
          .values("worker_id", "worker__name", "kecamatan").annotate(cases=Count("id"))
          .order_by("-cases", "worker__name"))
    rows = list(qs)
    names = dict(Wilayah.objects.filter(kode__in={r["kecamatan"] for r in rows})
                 .values_list("kode", "nama"))
    return [{**row, "kecamatan_name": names.get(row["kecamatan"], ""), "max": cycle.max_caseload,
             "over": row["cases"] > cycle.max_caseload} for row in rows]


def current_cycle() -> Cycle | None:
    return Cycle.objects.filter(year__lte=timezone.localdate().year).order_by("-year").first()


def dashboard(*, user):
    """This year's cycle: active enrolments against the quota and money paid, per kab/kota."""
    cycle = current_cycle()
    if cycle is None or not user.has_perm("jamsosratu.view_enrolment"):
        return None
    rows = coverage(user=user, cycle=cycle, level="kab_kota")
    labels = [r["nama"] for r in rows]
    enrolment = Chart(
        "chart-jamsosratu-enrolment", _("Kepesertaan Jamsosratu %(year)s per kab/kota")
        % {"year": cycle.year}, "bar", labels,
        [{"label": _("Aktif"), "data": [r["active"] for r in rows]},
         {"label": _("Kuota"), "data": [r["quota"] or 0 for r in rows]}])
    paid = Chart(
        "chart-jamsosratu-paid", _("Realisasi penyaluran %(year)s per kab/kota")
        % {"year": cycle.year}, "bar", labels,
        [{"label": _("Disalurkan"), "data": [int(Decimal(r["paid_total"])) for r in rows]}],
        money=True)
    budget = budget_used(user=user, cycle=cycle)
    note = (_("dari pagu %(pagu)s") % {"pagu": format_rupiah(budget["pagu"])}
            if budget["pagu"] else "")
    enrolments_url = reverse("jamsosratu:enrolment-list", args=[cycle.year])
    waiting = []
    if user.has_perm("jamsosratu.add_verification"):
        proposed = enrolment_list(user=user).filter(cycle=cycle,
                                                    status=EnrolmentStatus.CALON).count()
        if proposed:
            waiting.append(Waiting(_("Calon peserta Jamsosratu menunggu verifikasi"), proposed,
                                   f"{enrolments_url}?status=calon"))
    return Panel(_("Jamsosratu %(year)s") % {"year": cycle.year}, figures=[
        Figure(_("Rumah tangga aktif"), sum(r["active"] for r in rows),
               url=f"{enrolments_url}?status=aktif"),
        Figure(_("Sudah disalurkan"), format_rupiah(budget["used"]), note=note,
               url=reverse("jamsosratu:cycle-detail", args=[cycle.year])),
    ], charts=[enrolment, paid], waiting=waiting)


def person_section(*, user, person):
    """On the person page: the household's enrolments and tranche payments."""
    if not person.household_id or not user.has_perm("jamsosratu.view_enrolment"):
        return None
    enrolments = enrolment_list(user=user).filter(household_id=person.household_id)
    rows = []
    for enrolment in enrolments.order_by("-cycle__year"):
        paid = payment_list(user=user).filter(enrolment=enrolment).order_by("tranche__number")
        payments = ", ".join(f"{_('tahap')} {p.tranche.number}: {format_rupiah(p.amount)} "
                             f"({p.get_status_display()})" for p in paid)
        rows.append([enrolment.cycle.year, enrolment.get_status_display(), payments or "—"])
    # the enrolments of a KK recorded in another kab/kota are that kab/kota's: none shown is
    # not "never enrolled"
    elsewhere = not in_area(user, person.household.desa_id)
    return Section(_("Jamsosratu (keluarga)"), [_("Tahun"), _("Status"), _("Penyaluran")], rows,
                   empty=_("KK tercatat di luar wilayah Anda; kepesertaan Jamsosratu keluarga "
                           "ini tidak ditampilkan.") if elsewhere else
                   _("Keluarga ini belum pernah menjadi peserta Jamsosratu."))
