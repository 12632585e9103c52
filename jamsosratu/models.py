import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dinsos import audit, changes
from dinsos.choices import KAB_KOTA
from dinsos.models import Wilayah
from dinsos.money import format_tanggal
from dinsos.scoping import ProvinceOnly, ScopedQuerySet
from dinsos.validators import (
    NotInFuture,
    UploadedFile,
    validate_account_number,
    validate_whole_rupiah,
)
from jamsosratu import choices
from pmks.models import Household, Person
from psks.models import Worker

MONEY = {"max_digits": 15, "decimal_places": 2}


class Cycle(models.Model):
    """A program year with its benefit, tranches, quotas, pagu and eligibility criteria."""

    year = models.PositiveSmallIntegerField(_("tahun"), unique=True)
    name = models.CharField(_("nama"), max_length=150)
    legal_basis = models.CharField(_("dasar hukum"), max_length=255)
    benefit_amount = models.DecimalField(_("manfaat per RTS per tahun (Rp)"),
                                         validators=[validate_whole_rupiah], **MONEY)
    budget_ceiling = models.DecimalField(_("pagu (Rp)"), null=True, blank=True,
                                         validators=[validate_whole_rupiah], **MONEY)
    max_caseload = models.PositiveIntegerField(_("beban dampingan maksimum"), default=200)
    qualifying_conditions = models.JSONField(
        _("kondisi anggota yang memenuhi syarat"),
        default=list,
        help_text=_("Daftar kode: hamil_nifas, balita, anak_sekolah, lansia."),
    )
    child_max_age = models.PositiveSmallIntegerField(_("balita: umur di bawah"), default=5)
    school_max_age = models.PositiveSmallIntegerField(_("anak sekolah: umur di bawah"),
                                                      default=21)
    elderly_min_age = models.PositiveSmallIntegerField(_("lansia: umur sejak"), default=60)
    max_targeted_years = models.PositiveSmallIntegerField(
        _("lama kepesertaan maksimum (tahun)"), default=5,
        help_text=_("Rumah tangga sasaran ditetapkan paling lama sekian tahun siklus."))

    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("siklus Jamsosratu")
        verbose_name_plural = _("siklus Jamsosratu")
        ordering = ["-year"]
        constraints = [models.CheckConstraint(condition=Q(benefit_amount__gt=0),
                                              name="jamsosratu_cycle_benefit_positive",
                                              violation_error_message=_(
                                                  "Besaran manfaat harus lebih dari 0."))]

    def __str__(self):
        return self.name


class Tranche(models.Model):
    """Tahap: its share of the yearly benefit (weights; amounts are split exactly)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="tranches",
        verbose_name=_("siklus"))
    number = models.PositiveSmallIntegerField(_("tahap ke"))
    share = models.DecimalField(_("bobot"), max_digits=7, decimal_places=4)
    planned_month = models.PositiveSmallIntegerField(_("bulan rencana"))
    # Pimpinan's decision that this tahap's list may take the cycle over its pagu
    over_budget_reason = models.CharField(_("alasan melampaui pagu"), max_length=255,
                                          blank=True)
    over_budget_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="+",
                                       verbose_name=_("diputuskan oleh"))
    over_budget_at = models.DateTimeField(_("diputuskan pada"), null=True, blank=True)

    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("tahap")
        verbose_name_plural = _("tahap")
        permissions = [("override_ceiling", _("Dapat memutuskan penyaluran melampaui pagu "
                                              "(Pimpinan)"))]
        ordering = ["cycle", "number"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "number"], name="jamsosratu_tranche_number"),
            models.CheckConstraint(condition=Q(share__gt=0), name="jamsosratu_tranche_share",
                                   violation_error_message=_(
                                       "Bobot tahap harus lebih dari 0.")),
            models.CheckConstraint(condition=Q(planned_month__gte=1, planned_month__lte=12),
                                   name="jamsosratu_tranche_month",
                                   violation_error_message=_(
                                       "Bulan rencana harus 1 sampai 12.")),
        ]

    def __str__(self):
        return f"{self.cycle.year} tahap {self.number}"

    @property
    def planned_on(self) -> datetime.date:
        """The first day of the planned month (shown as ``Juni 2026``)."""
        return datetime.date(self.cycle.year, self.planned_month, 1)


class Quota(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="quotas",
        verbose_name=_("siklus"))
    kab_kota = models.ForeignKey(Wilayah, on_delete=models.PROTECT, related_name="+",
                                 limit_choices_to={"tingkat__in": KAB_KOTA},
                                     verbose_name=_("kabupaten/kota"))
    quota = models.PositiveIntegerField(_("kuota RTS"))

    objects = ScopedQuerySet.as_manager()
    scope_field = "kab_kota"
    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("kuota kab/kota")
        verbose_name_plural = _("kuota kab/kota")
        ordering = ["cycle", "kab_kota_id"]
        constraints = [models.UniqueConstraint(fields=["cycle", "kab_kota"],
                                               name="jamsosratu_quota_unique")]

    def __str__(self):
        quota = f"{self.quota:,}".replace(",", ".")
        return f"{self.cycle.year} {self.kab_kota.nama}: {quota}"


class ConditionRule(models.Model):
    """Tranche payment by the share of unmet commitments: the rule with the highest
    ``min_unmet_ratio`` not above the household's ratio applies."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="condition_rules",
        verbose_name=_("siklus"))
    min_unmet_ratio = models.DecimalField(_("rasio tidak terpenuhi minimal"), max_digits=5,
                                          decimal_places=4)
    outcome = models.CharField(_("hasil"), max_length=15, choices=choices.Outcome.choices)
    reduction_share = models.DecimalField(_("pengurangan"), max_digits=5, decimal_places=4,
                                          default=0)

    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("aturan komitmen")
        verbose_name_plural = _("aturan komitmen")
        ordering = ["cycle", "min_unmet_ratio"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "min_unmet_ratio"],
                                    name="jamsosratu_rule_unique"),
            models.CheckConstraint(condition=Q(min_unmet_ratio__gte=0, min_unmet_ratio__lte=1),
                                   name="jamsosratu_rule_ratio",
                                   violation_error_message=_(
                                       "Rasio tidak terpenuhi minimal harus antara 0 dan 1.")),
            models.CheckConstraint(condition=Q(reduction_share__gte=0, reduction_share__lte=1),
                                   name="jamsosratu_rule_reduction",
                                   violation_error_message=_(
                                       "Pengurangan harus antara 0 dan 1.")),
        ]

    def __str__(self):
        percent = f"{self.min_unmet_ratio * 100:.2f}".rstrip("0").rstrip(".")
        return f"≥{percent.replace('.', ',')}%: {self.get_outcome_display()}"


class Enrolment(models.Model):
    """Kepesertaan: a household in a cycle. Its wilayah is the household's desa."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT,
                                  related_name="jamsosratu_enrolments", verbose_name=_("keluarga"))
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="enrolments",
        verbose_name=_("siklus"))
    desa = models.ForeignKey(Wilayah, on_delete=models.PROTECT, related_name="+",
                             editable=False, verbose_name=_("desa/kelurahan"))
    status = models.CharField(_("status"), max_length=15,
                              choices=choices.EnrolmentStatus.choices,
                              default=choices.EnrolmentStatus.CALON)
    source = models.CharField(_("sumber usulan"), max_length=100, blank=True)
    decile = models.PositiveSmallIntegerField(_("desil saat diusulkan"), null=True, blank=True)
    decree_number = models.CharField(_("nomor SK penetapan"), max_length=100, blank=True)
    exit_reason = models.CharField(_("alasan keluar"), max_length=255, blank=True)
    channel = models.CharField(_("saluran"), max_length=15, choices=choices.Channel.choices,
                               default=choices.Channel.BANK_BANTEN)
    account_number = models.CharField(_("rekening Bank Banten"), max_length=20, blank=True,
                                      validators=[validate_account_number])
    # four eyes on the account: whoever records or changes it cannot verify it, and a transfer
    # goes to the bank only to a verified account (``banking._transfers``); accounts recorded
    # before the rule were taken as verified by the migration (no verifier named)
    account_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", editable=False, verbose_name=_("rekening dicatat oleh"))
    account_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", editable=False, verbose_name=_("rekening diverifikasi oleh"))
    account_verified_at = models.DateTimeField(_("rekening diverifikasi pada"), null=True,
                                               blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("dibuat pada"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("diubah pada"))

    objects = ScopedQuerySet.as_manager()
    scope_field = "desa"

    class Meta:
        verbose_name = _("kepesertaan")
        verbose_name_plural = _("kepesertaan")
        ordering = ["cycle", "desa_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "cycle"],
                                    name="jamsosratu_one_enrolment_per_cycle"),
            models.CheckConstraint(
                condition=~Q(channel="bank_banten") | ~Q(status="aktif")
                | ~Q(account_number=""),
                name="jamsosratu_active_bank_needs_account",
                violation_error_message=_(
                    "Peserta aktif dengan saluran Bank Banten wajib mempunyai rekening Bank "
                    "Banten.")),
            models.CheckConstraint(
                condition=Q(account_verified_by__isnull=True)
                | ~Q(account_verified_by=models.F("account_recorded_by")),
                name="jamsosratu_account_four_eyes",
                violation_error_message=_(
                    "Rekening harus diverifikasi oleh pengguna lain daripada yang mencatatnya.")),
            models.CheckConstraint(
                condition=Q(account_verified_by__isnull=True)
                | Q(account_verified_at__isnull=False),
                name="jamsosratu_account_verified_complete",
                violation_error_message=_(
                    "Rekening yang diverifikasi wajib mempunyai waktu verifikasinya.")),
        ]
        indexes = [models.Index(fields=["cycle", "status"], name="jamsosratu_enrol_status")]

    def __str__(self):
        return f"{self.cycle.year} — {self.household}"

    @property
    def account_is_verified(self) -> bool:
        return self.account_verified_at is not None


class EnrolmentTransition(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE,
                                  related_name="transitions", verbose_name=_("kepesertaan"))
    from_status = models.CharField(max_length=15, blank=True,
                                   choices=choices.EnrolmentStatus.choices,
                                   verbose_name=_("dari status"))
    to_status = models.CharField(max_length=15, choices=choices.EnrolmentStatus.choices,
                                 verbose_name=_("menjadi status"))
    reason = models.TextField(blank=True, verbose_name=_("alasan"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("oleh"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("waktu"))

    scope_field = "enrolment__desa"

    class Meta:
        verbose_name = _("riwayat status kepesertaan")
        verbose_name_plural = _("riwayat status kepesertaan")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"


class EnrolmentMember(models.Model):
    """A qualifying member of an enrolled household and the condition that qualifies it
    (worked out from the registry at a reference date, pregnancy recorded by the verifier)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="members",
        verbose_name=_("kepesertaan"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("anggota keluarga"))
    condition = models.CharField(_("kondisi"), max_length=15,
                                 choices=choices.MemberCondition.choices)

    scope_field = "enrolment__desa"

    class Meta:
        verbose_name = _("anggota memenuhi syarat")
        verbose_name_plural = _("anggota memenuhi syarat")
        constraints = [models.UniqueConstraint(fields=["enrolment", "person", "condition"],
                                               name="jamsosratu_member_unique")]

    def __str__(self):
        return f"{self.person.name}: {self.get_condition_display()}"


class Verification(models.Model):
    """Verification by name by address by a TKSK or pendamping of the household's kecamatan."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE,
                                  related_name="verifications", verbose_name=_("kepesertaan"))
    verifier = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("verifikator"))
    visit_date = models.DateField(_("tanggal kunjungan"),
                                  validators=[NotInFuture(_("Tanggal kunjungan"))])
    result = models.CharField(_("hasil"), max_length=15,
                              choices=choices.VerificationResult.choices)
    notes = models.TextField(_("catatan"), blank=True)
    photo = models.FileField(_("foto"), upload_to="verifikasi/%Y/%m/", blank=True,
                             validators=[UploadedFile(["jpg", "jpeg", "png", "webp"], max_mb=10,
                                                      image=True)])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("dicatat oleh"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("dibuat pada"))

    objects = ScopedQuerySet.as_manager()
    scope_field = "enrolment__desa"

    class Meta:
        verbose_name = _("verifikasi")
        verbose_name_plural = _("verifikasi")
        ordering = ["-visit_date", "-id"]

    def __str__(self):
        return f"{self.enrolment} {format_tanggal(self.visit_date)} {self.get_result_display()}"


class VerificationFinding(models.Model):
    verification = models.ForeignKey(Verification, on_delete=models.CASCADE,
                                     related_name="findings", verbose_name=_("verifikasi"))
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("anggota keluarga"))
    finding = models.CharField(_("temuan"), max_length=20, choices=choices.Finding.choices)
    note = models.CharField(_("keterangan"), max_length=255, blank=True)
    applied = models.BooleanField(_("diterapkan ke registri"), default=False)

    scope_field = "verification__enrolment__desa"

    class Meta:
        verbose_name = _("temuan verifikasi")
        verbose_name_plural = _("temuan verifikasi")
        ordering = ["id"]

    def __str__(self):
        return self.get_finding_display()


class Companion(models.Model):
    """Pendamping of an enrolment; a reassignment ends the old row (history kept)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE,
                                  related_name="companions", verbose_name=_("kepesertaan"))
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT,
                               related_name="jamsosratu_cases", verbose_name=_("pendamping"))
    start_date = models.DateField(_("mulai"))
    end_date = models.DateField(_("selesai"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "enrolment__desa"

    class Meta:
        verbose_name = _("pendampingan")
        verbose_name_plural = _("pendampingan")
        ordering = ["-start_date"]
        constraints = [models.UniqueConstraint(fields=["enrolment"],
                                               condition=Q(end_date__isnull=True),
                                               name="jamsosratu_one_active_companion")]

    def __str__(self):
        return f"{self.worker.name} → {self.enrolment}"


class Commitment(models.Model):
    """Komitmen of one qualifying member for one tranche."""

    member = models.ForeignKey(EnrolmentMember, on_delete=models.CASCADE,
                               related_name="commitments", verbose_name=_("anggota"))
    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="commitments",
        verbose_name=_("tahap"))
    kind = models.CharField(_("jenis"), max_length=15, choices=choices.CommitmentKind.choices)
    status = models.CharField(_("status"), max_length=20,
                              choices=choices.CommitmentStatus.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("dicatat oleh"))
    recorded_at = models.DateTimeField(auto_now=True, verbose_name=_("dicatat pada"))

    objects = ScopedQuerySet.as_manager()
    scope_field = "member__enrolment__desa"

    class Meta:
        verbose_name = _("komitmen")
        verbose_name_plural = _("komitmen")
        constraints = [models.UniqueConstraint(fields=["member", "tranche", "kind"],
                                               name="jamsosratu_commitment_unique")]

    def __str__(self):
        return f"{self.member} {self.tranche}: {self.get_status_display()}"


class Payment(models.Model):
    """Penyaluran: one per enrolment and tranche (database constraint)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="payments",
        verbose_name=_("kepesertaan"))
    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="payments",
        verbose_name=_("tahap"))
    desa = models.ForeignKey(Wilayah, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("desa/kelurahan"))
    tranche_amount = models.DecimalField(_("nilai tahap"), **MONEY)
    amount = models.DecimalField(_("nilai disalurkan"), **MONEY)
    outcome = models.CharField(_("hasil komitmen"), max_length=15,
                               choices=choices.Outcome.choices)
    channel = models.CharField(_("saluran"), max_length=15, choices=choices.Channel.choices)
    # the enrolment's account as the payment list copied it and the transfer file sent it (the
    # bank's result must quote it back): its rule is the enrolment's, asked where it is typed
    account_number = models.CharField(_("rekening"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=15, choices=choices.PaymentStatus.choices)
    paid_on = models.DateField(_("tanggal salur"), null=True, blank=True,
                               validators=[NotInFuture(_("Tanggal salur"))])
    reference = models.CharField(_("referensi"), max_length=100, blank=True)
    failure_reason = models.CharField(_("alasan gagal"), max_length=255, blank=True)
    # when the payment first went out in a Bank Banten transfer file: from then on it is in
    # the bank's hands (an exclusion does not suspend it, a corrected account does not reach it)
    sent_at = models.DateTimeField(_("dikirim ke bank pada"), null=True, blank=True)
    # the how-manieth transfer of this payment (1, then one more per jadwalkan ulang): a file
    # line of a later attempt names it (``123-2``) and the bank's result echoes it, so a
    # result of an earlier attempt (an old file uploaded again) cannot settle the later one
    attempt = models.PositiveSmallIntegerField(_("pengiriman ke-"), default=1, editable=False)
    explanation = models.JSONField(_("penjelasan"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("dibuat pada"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("diubah pada"))

    objects = ScopedQuerySet.as_manager()
    scope_field = "desa"

    class Meta:
        verbose_name = _("penyaluran")
        verbose_name_plural = _("penyaluran")
        ordering = ["tranche", "desa_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "tranche"],
                                    name="jamsosratu_one_payment_per_tranche"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="jamsosratu_payment_amount",
                                   violation_error_message=_(
                                       "Jumlah pembayaran tidak boleh negatif.")),
            models.CheckConstraint(condition=~Q(status="disalurkan") | Q(paid_on__isnull=False),
                                   name="jamsosratu_paid_has_date",
                                   violation_error_message=_(
                                       "Pembayaran yang sudah disalurkan wajib mempunyai tanggal"
                                       " salur.")),
        ]

    def __str__(self):
        return f"{self.tranche} — {self.enrolment.household}"


class TrancheJob(models.Model):
    """Long work on one tranche, done by a Celery task while the page follows it: making the
    payment list, or applying the bank's result file (its lines and what became of each).
    The task writes the progress (``done`` of ``total``) and the result; one unfinished job per
    tranche at a time (database constraint)."""

    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="jobs",
                                verbose_name=_("tahap"))
    kind = models.CharField(_("jenis"), max_length=15, choices=choices.JobKind.choices)
    status = models.CharField(_("status"), max_length=15, choices=choices.JobStatus.choices,
                              default=choices.JobStatus.ANTRE)
    total = models.PositiveIntegerField(_("jumlah yang diproses"), null=True, blank=True)
    done = models.PositiveIntegerField(_("sudah diproses"), default=0)
    totals = models.JSONField(_("hasil"), default=dict)
    lines = models.JSONField(_("hasil per baris"), default=list)
    file = models.FileField(_("berkas"), upload_to="jamsosratu/hasil-bank/%Y/%m/", blank=True)
    filename = models.CharField(_("nama berkas"), max_length=255, blank=True)
    message = models.TextField(_("pesan"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("diminta oleh"))
    created_at = models.DateTimeField(_("dibuat pada"), auto_now_add=True)
    finished_at = models.DateTimeField(_("selesai pada"), null=True, blank=True)

    province_only = ProvinceOnly.ALL

    class Meta:
        verbose_name = _("proses tahap")
        verbose_name_plural = _("proses tahap")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["tranche"], condition=Q(status__in=["antre", "berjalan"]),
            name="jamsosratu_one_unfinished_job_per_tranche")]

    def __str__(self):
        return f"{self.tranche} — {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def unfinished(self) -> bool:
        return self.status in (choices.JobStatus.ANTRE, choices.JobStatus.BERJALAN)

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


for model in (Cycle, Tranche, Quota, ConditionRule, Enrolment, EnrolmentMember, Verification,
              VerificationFinding, Companion, Commitment, Payment):
    audit.register(model)

# The sync feeds (dinsos.changes): verifications and commitments live under their enrolment.
changes.register(Enrolment)
changes.register(Verification, children=("findings",))
changes.register(Commitment)
changes.register(Payment)
