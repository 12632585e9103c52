"""Reads of Jamsosratu: scoped lists, coverage per kab/kota and kecamatan, caseloads."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from dinsos.dashboard import Chart, Figure, Panel, Section
from dinsos.models import Wilayah
from dinsos.money import format_rupiah
from dinsos.scoping import ALL, user_area
from jamsosratu.choices import EnrolmentStatus, PaymentStatus
from jamsosratu.models import Commitment, Companion, Cycle, Enrolment, Payment, Verification

ZERO = Decimal(0)


def enrolment_list(*, user):
    return Enrolment.objects.for_user(user).select_related("cycle", "household", "desa")


def verification_list(*, user):
    return Verification.objects.for_user(user).select_related("verifier", "recorded_by")


def commitment_list(*, user):
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
    quotas = {q.kab_kota_id: q.quota for q in cycle.quotas.all()}
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
    return [{**row, "max": cycle.max_caseload, "over": row["cases"] > cycle.max_caseload}
            for row in qs]


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
    return Panel(_("Jamsosratu %(year)s") % {"year": cycle.year}, figures=[
        Figure(_("Rumah tangga aktif"), sum(r["active"] for r in rows)),
        Figure(_("Sudah disalurkan"), format_rupiah(budget["used"]), note=note),
    ], charts=[enrolment, paid])


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
    return Section(_("Jamsosratu (keluarga)"), [_("Tahun"), _("Status"), _("Penyaluran")], rows,
                   empty=_("Keluarga ini belum pernah menjadi peserta Jamsosratu."))
