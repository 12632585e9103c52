from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dinsos import audit, changes
from dinsos.choices import FundingSource
from dinsos.models import Wilayah
from dinsos.money import format_bulan
from dinsos.scoping import ProvinceOnly, ScopedQuerySet
from dinsos.validators import validate_not_negative, validate_whole_rupiah
from incentives import choices
from psks.choices import Role
from psks.models import BankAccount, Worker

MONEY = {"max_digits": 15, "decimal_places": 2}


class Rate(models.Model):
    """An effective-dated rate: role × component × amount × unit × funding source. A computed
    line keeps the rate and its amount, so a later rate never changes a computed run."""

    role = models.CharField(_("peran"), max_length=30, choices=Role.choices)
    component = models.CharField(_("komponen"), max_length=20, choices=choices.Component.choices)
    amount = models.DecimalField(_("besaran (Rp)"), **MONEY,
                                 validators=[validate_not_negative, validate_whole_rupiah])
    unit = models.CharField(_("satuan"), max_length=10, choices=choices.Unit.choices)
    schedule = models.CharField(_("jadwal bayar (tahunan)"), max_length=12,
                                choices=choices.Schedule.choices,
                                default=choices.Schedule.BULANAN)
    schedule_month = models.PositiveSmallIntegerField(_("bulan bayar (sekali)"), null=True,
                                                      blank=True)
    funding_source = models.CharField(_("sumber dana"), max_length=20,
                                      choices=FundingSource.choices)
    paid_by_province = models.BooleanField(_("dibayar provinsi"), default=True)
    requires_report = models.BooleanField(_("syarat laporan bulanan diterima"), default=False)
    withhold_tax = models.BooleanField(_("potong PPh 21"), default=False)
    valid_from = models.DateField(_("berlaku mulai"))
    valid_to = models.DateField(_("berlaku sampai"), null=True, blank=True)
    legal_basis = models.CharField(_("dasar hukum"), max_length=255)

    province_only = ProvinceOnly.ALL

    class Meta:
        verbose_name = _("tarif")
        verbose_name_plural = _("tarif")
        ordering = ["role", "component", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["role", "component", "funding_source", "valid_from"],
                                    name="incentives_rate_unique_start"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="incentives_rate_amount",
                                   violation_error_message=_(
                                       "Besaran tarif tidak boleh negatif.")),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="incentives_rate_dates",
                violation_error_message=_(
                    "Tanggal berlaku sampai tidak boleh sebelum tanggal berlaku mulai.")),
            models.CheckConstraint(
                condition=~Q(schedule="sekali") | Q(schedule_month__gte=1, schedule_month__lte=12),
                name="incentives_rate_schedule_month",
                violation_error_message=_(
                    "Tarif yang dibayar sekali setahun wajib mempunyai bulan bayar 1 sampai 12.")),
        ]

    def __str__(self):
        return (f"{self.get_role_display()} — {self.get_component_display()} "
                f"Rp{self.amount:,.0f} {self.get_unit_display()}").replace(",", ".")


class BudgetCeiling(models.Model):
    """Pagu: the budget per year × component × funding source."""

    year = models.PositiveSmallIntegerField(_("tahun"))
    component = models.CharField(_("komponen"), max_length=20, choices=choices.Component.choices)
    funding_source = models.CharField(_("sumber dana"), max_length=20,
                                      choices=FundingSource.choices)
    amount = models.DecimalField(_("pagu (Rp)"), **MONEY,
                                 validators=[validate_not_negative, validate_whole_rupiah])
    legal_basis = models.CharField(_("dasar (DPA)"), max_length=255, blank=True)

    province_only = ProvinceOnly.ALL

    class Meta:
        verbose_name = _("pagu anggaran")
        verbose_name_plural = _("pagu anggaran")
        ordering = ["-year", "component"]
        constraints = [
            models.UniqueConstraint(fields=["year", "component", "funding_source"],
                                    name="incentives_ceiling_unique"),
        ]

    def __str__(self):
        return f"{self.year} {self.get_component_display()} {self.get_funding_source_display()}"


class PayoutRun(models.Model):
    period = models.DateField(_("periode"), help_text=_("Hari pertama bulan."))
    status = models.CharField(_("status"), max_length=15, choices=choices.RunStatus.choices,
                              default=choices.RunStatus.DRAF)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("dihitung oleh"))
    computed_at = models.DateTimeField(_("dihitung"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("diverifikasi oleh"))
    verified_at = models.DateTimeField(_("diverifikasi"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("disetujui oleh"))
    approved_at = models.DateTimeField(_("disetujui"), null=True, blank=True)
    paid_at = models.DateTimeField(_("dibayar"), null=True, blank=True)
    paid_reference = models.CharField(_("referensi pembayaran"), max_length=100, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                         verbose_name=_("dibatalkan oleh"))
    cancelled_at = models.DateTimeField(_("dibatalkan"), null=True, blank=True)
    cancel_reason = models.TextField(_("alasan pembatalan"), blank=True)
    ceiling_exceeded = models.BooleanField(_("melampaui pagu"), default=False)
    ceiling_details = models.JSONField(_("rincian pagu"), default=list, blank=True)
    ceiling_override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+",
                                                verbose_name=_("persetujuan melebihi pagu oleh"))
    ceiling_override_reason = models.TextField(_("alasan melampaui pagu"), blank=True)
    summary = models.JSONField(_("ringkasan"), default=dict, blank=True)
    # set by services.rate_create when a new rate changes what this computed run would pay;
    # cleared by the recompute: until then the run is neither verified nor approved
    stale_since = models.DateTimeField(_("tarif berubah sejak dihitung"), null=True, blank=True)
    stale_reason = models.TextField(_("tarif yang berubah"), blank=True)
    reports_sent_at = models.DateTimeField(_("laporan dikirim"), null=True, blank=True)

    province_only = ProvinceOnly.ALL

    class Meta:
        verbose_name = _("perhitungan bulanan")
        verbose_name_plural = _("perhitungan bulanan")
        ordering = ["-period", "-id"]
        permissions = [
            ("verify_run", _("Dapat memverifikasi perhitungan (Keuangan)")),
            ("approve_run", _("Dapat menyetujui perhitungan (Pimpinan)")),
            ("override_ceiling", _("Dapat menyetujui melampaui pagu (Pimpinan)")),
            ("mark_paid_run", _("Dapat mencatat pembayaran (Keuangan)")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["period"], condition=~Q(status="dibatalkan"),
                                    name="incentives_one_open_run_per_period"),
            models.CheckConstraint(condition=Q(period__day=1), name="incentives_run_period_day1",
                                   violation_error_message=_(
                                       "Periode perhitungan harus ditulis sebagai bulan, tanggal"
                                       " 1 bulan itu.")),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | Q(computed_by__isnull=True)
                | ~Q(verified_by=models.F("computed_by")),
                name="incentives_run_maker_not_checker",
                violation_error_message=_(
                    "Pemverifikasi perhitungan tidak boleh orang yang sama dengan yang "
                    "menghitungnya.")),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | Q(verified_by__isnull=True)
                | ~Q(approved_by=models.F("verified_by")),
                name="incentives_run_checker_not_approver",
                violation_error_message=_(
                    "Penyetuju perhitungan tidak boleh orang yang sama dengan pemverifikasinya.")),
        ]

    def __str__(self):
        """``Oktober 2026 — Dihitung``: the admin's titles, breadcrumbs and choices."""
        return f"{format_bulan(self.period)} — {self.get_status_display()}"

    @property
    def is_stale(self) -> bool:
        """Computed with rates that changed since: recompute before verifying or approving."""
        return self.stale_since is not None

    @property
    def is_locked(self) -> bool:
        return self.status in (choices.RunStatus.DISETUJUI, choices.RunStatus.DIBAYAR)


class PayoutLine(models.Model):
    """One worker × role × component × period in a run, with everything needed to explain it.
    Lines of approved runs never change; a correction is an adjustment line in a later run."""

    # no index of its own: incentives_line_run_status (run, status) has run as its prefix
    run = models.ForeignKey(PayoutRun, on_delete=models.CASCADE, related_name="lines",
        verbose_name=_("perhitungan bulanan"), db_index=False)
    kind = models.CharField(_("jenis"), max_length=12, choices=choices.LineKind.choices,
                            default=choices.LineKind.REGULAR)
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="payout_lines",
        verbose_name=_("tenaga"))
    role = models.CharField(_("peran"), max_length=30, choices=Role.choices)
    component = models.CharField(_("komponen"), max_length=20, choices=choices.Component.choices)
    period = models.DateField(_("periode yang dibayar"))
    area = models.ForeignKey(Wilayah, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("wilayah tugas"), db_index=False)  # Meta
    rate = models.ForeignKey(Rate, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("tarif"))
    rate_amount = models.DecimalField(_("tarif (Rp)"), null=True, blank=True, **MONEY)
    unit = models.CharField(_("satuan"), max_length=10, choices=choices.Unit.choices,
                            blank=True)
    base_amount = models.DecimalField(_("nilai sebelum prorata"), null=True, blank=True, **MONEY)
    days_active = models.PositiveSmallIntegerField(_("hari aktif"), null=True, blank=True)
    days_in_window = models.PositiveSmallIntegerField(_("hari dalam periode"), null=True,
                                                      blank=True)
    factor = models.DecimalField(_("faktor"), max_digits=6, decimal_places=4, null=True,
                                 blank=True)
    schedule_rule = models.CharField(_("aturan"), max_length=255, blank=True)
    gross_amount = models.DecimalField(_("bruto"), **MONEY)
    tax_amount = models.DecimalField(_("PPh 21"), **MONEY, default=0)
    net_amount = models.DecimalField(_("neto"), **MONEY)
    funding_source = models.CharField(_("sumber dana"), max_length=20,
                                      choices=FundingSource.choices)
    status = models.CharField(_("status"), max_length=12, choices=choices.LineStatus.choices)
    hold_reason = models.CharField(_("alasan ditahan"), max_length=30,
                                   choices=choices.HoldReason.choices, blank=True)
    bank_account = models.ForeignKey(BankAccount, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                         verbose_name=_("rekening bank"))
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    account_number = models.CharField(_("nomor rekening"), max_length=20, blank=True)
    account_holder = models.CharField(_("pemilik rekening"), max_length=150, blank=True)
    # These four are empty in every computed line: their indexes (Meta) hold only the lines
    # that have them, so a run's 50,000 regular lines write no entry into them. ``arrears_of``
    # and ``recovers`` are unique where set (a partial unique constraint: NULLs never
    # conflicted anyway).
    arrears_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="arrears_line", db_index=False,
                                   verbose_name=_("rapel dari baris"))
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="adjustments", db_index=False,
                                 verbose_name=_("mengoreksi baris"))
    recovers = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="recovered_by", db_index=False,
                                 verbose_name=_("memotong saldo negatif dari baris"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+", db_index=False,
                                   verbose_name=_("dibuat oleh"))
    note = models.TextField(_("keterangan"), blank=True)
    explanation = models.JSONField(_("penjelasan"), default=dict)
    paid_reference = models.CharField(_("referensi bayar"), max_length=100, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "area"

    class Meta:
        verbose_name = _("baris pembayaran")
        verbose_name_plural = _("baris pembayaran")
        ordering = ["area_id", "role", "worker__name", "component", "id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "role", "component", "funding_source",
                                            "period"],
                                    condition=Q(kind="reguler"),
                                    name="incentives_one_regular_line"),
            # a yearly rate's rest owed in an approved window is paid once (services._rest_lines)
            models.UniqueConstraint(fields=["worker", "role", "component", "funding_source",
                                            "period"],
                                    condition=Q(kind="sisa_tahunan"),
                                    name="incentives_one_yearly_rest_line"),
            models.UniqueConstraint(fields=["arrears_of"], condition=Q(arrears_of__isnull=False),
                                    name="incentives_line_arrears_once"),
            models.UniqueConstraint(fields=["recovers"], condition=Q(recovers__isnull=False),
                                    name="incentives_line_recovers_once"),
            models.CheckConstraint(
                condition=Q(net_amount=models.F("gross_amount") - models.F("tax_amount")),
                name="incentives_line_net",
                violation_error_message=_(
                    "Neto harus sama dengan bruto dikurangi PPh 21.")),
            models.CheckConstraint(
                condition=Q(status="ditahan", hold_reason__gt="")
                | Q(status="dibayarkan", hold_reason=""),
                name="incentives_line_hold_reason",
                violation_error_message=_(
                    "Baris yang ditahan wajib mempunyai alasan ditahan; baris yang dibayarkan "
                    "tidak boleh mempunyai alasan ditahan.")),
            models.CheckConstraint(
                condition=~Q(kind="penyesuaian") | Q(corrects__isnull=False),
                name="incentives_adjustment_refers",
                violation_error_message=_(
                    "Baris penyesuaian wajib menunjuk baris yang dikoreksinya.")),
            models.CheckConstraint(
                condition=~Q(kind="rapel") | Q(arrears_of__isnull=False),
                name="incentives_arrears_refers",
                violation_error_message=_(
                    "Baris rapel wajib menunjuk baris asal rapelnya.")),
            models.CheckConstraint(
                condition=~Q(kind="potongan") | Q(recovers__isnull=False),
                name="incentives_recovery_refers",
                violation_error_message=_(
                    "Baris potongan wajib menunjuk baris yang saldo negatifnya dipotong.")),
        ]
        indexes = [
            models.Index(fields=["run", "status"], name="incentives_line_run_status"),
            # pattern ops answer both area_id = … and the area's area_id LIKE '36.01.%' (the
            # default operator class answers LIKE only under the C collation): one index where
            # Django's default made two, each written by every line of a run
            models.Index(fields=["area"], opclasses=["varchar_pattern_ops"],
                         name="incentives_line_area"),
            models.Index(fields=["corrects"], condition=Q(corrects__isnull=False),
                         name="incentives_line_corrects"),
            models.Index(fields=["created_by"], condition=Q(created_by__isnull=False),
                         name="incentives_line_created_by"),
        ]

    def __str__(self):
        return f"{self.worker.name} · {self.get_component_display()} {format_bulan(self.period)}"


class RunDocument(models.Model):
    """A finance document of a run made in the background (Celery) into the default storage.
    One per run × kind × version of the run (status, dates and totals), so a changed run gets
    a new document and an unchanged one is made once."""

    class Status(models.TextChoices):
        PENDING = "menunggu", _("Sedang dibuat")
        READY = "siap", _("Siap diunduh")
        FAILED = "gagal", _("Gagal")

    run = models.ForeignKey(PayoutRun, on_delete=models.CASCADE, related_name="documents",
                            verbose_name=_("perhitungan"))
    kind = models.CharField(_("jenis laporan"), max_length=20)
    fingerprint = models.CharField(_("versi perhitungan"), max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    file = models.FileField(_("berkas"), upload_to="reports/incentives/%Y/%m/", blank=True)
    filename = models.CharField(_("nama berkas"), max_length=100, blank=True)
    content_type = models.CharField(_("jenis isi"), max_length=100, blank=True)
    control = models.JSONField(_("total kontrol"), default=dict, blank=True)
    error = models.TextField(_("kesalahan"), blank=True)
    #: a copy with account numbers masked, for roles that see payout lines masked
    masked = models.BooleanField(_("nomor rekening tersamar"), default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("diminta oleh"))
    created_at = models.DateTimeField(_("diminta"), auto_now_add=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)

    province_only = ProvinceOnly.ALL

    class Meta:
        verbose_name = _("dokumen perhitungan")
        verbose_name_plural = _("dokumen perhitungan")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["run", "kind", "fingerprint", "masked"],
                                               name="incentives_one_document_per_version")]

    def __str__(self):
        from incentives.reports import REPORT_LABELS

        return f"{REPORT_LABELS.get(self.kind, self.kind)} · {self.run}"


for model in (Rate, BudgetCeiling, PayoutRun, PayoutLine):
    audit.register(model)

# The sync feed of the lines a district reads (dinsos.changes): a line shows its run's status
# and its worker's name, so their saves feed it again.
changes.register(PayoutLine, follows=("run", "worker"))
