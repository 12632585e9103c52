from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dinsos import audit, changes
from dinsos.choices import DESA_KELURAHAN, FundingSource, Sex, Tingkat
from dinsos.models import Office, TimeStamped, Wilayah
from dinsos.money import format_bulan, format_tanggal
from dinsos.scoping import ProvinceOnly, ScopedQuerySet
from dinsos.validators import (
    NotAfterThisMonth,
    NotInFuture,
    UploadedFile,
    mask_nik,
    validate_account_number,
    validate_nik,
    validate_nik_matches,
    validate_npwp,
    validate_phone,
)
from psks import choices

TKSK_MAX_YEARS = 5
digits_only = validate_account_number


class Worker(TimeStamped):
    """A person in the social-welfare workforce (tenaga). Scoped by the desa of residence."""

    nik = models.CharField(_("NIK"), max_length=16, unique=True, validators=[validate_nik])
    name = models.CharField(_("nama"), max_length=150)
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("tanggal lahir"), validators=[NotInFuture(_("Tanggal lahir"))])
    education = models.CharField(_("pendidikan"), max_length=10,
                                 choices=choices.Education.choices, blank=True)
    phone = models.CharField(_("telepon"), max_length=20, blank=True,
                             validators=[validate_phone])
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    desa = models.ForeignKey(Wilayah, verbose_name=_("desa/kelurahan domisili"),
                             on_delete=models.PROTECT, related_name="+",
                             limit_choices_to={"tingkat__in": DESA_KELURAHAN})
    npwp = models.CharField(_("NPWP"), max_length=16, blank=True, validators=[validate_npwp])
    status = models.CharField(_("status"), max_length=10, choices=choices.WorkerStatus.choices,
                              default=choices.WorkerStatus.AKTIF)
    status_date = models.DateField(_("tanggal status"), null=True, blank=True,
                                   validators=[NotInFuture(_("Tanggal status"))])
    status_reason = models.CharField(_("alasan status"), max_length=255, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "desa"

    class Meta:
        verbose_name = _("tenaga PSKS")
        verbose_name_plural = _("tenaga PSKS")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["name", "id"], name="psks_worker_name")]

    def __str__(self):
        return f"{self.name} ({mask_nik(self.nik)})"

    def clean(self):
        if self.nik and self.birth_date and self.sex in Sex.values:
            try:
                validate_nik(self.nik)
            except ValidationError:
                return
            validate_nik_matches(self.nik, birth_date=self.birth_date, sex=self.sex)
        if self.status != choices.WorkerStatus.AKTIF and not (self.status_date
                                                            and self.status_reason):
            raise ValidationError(_("Tanggal dan alasan wajib diisi untuk status nonaktif atau "
                                    "berhenti."))


class Assignment(TimeStamped):
    """Penugasan: worker × role × area of duty × decree (SK) × period × funding.

    At most one TKSK per kecamatan on any day and no overlapping assignments of one role for a
    worker: checked by the service everywhere and, on PostgreSQL, guaranteed by exclusion
    constraints (migration 0002)."""

    worker = models.ForeignKey(Worker, verbose_name=_("tenaga"), on_delete=models.PROTECT,
                               related_name="assignments")
    role = models.CharField(_("peran"), max_length=30, choices=choices.Role.choices)
    area = models.ForeignKey(Wilayah, verbose_name=_("wilayah tugas"), on_delete=models.PROTECT,
                             related_name="+",
                             limit_choices_to={"tingkat__in": (Tingkat.KECAMATAN,
                                                               *DESA_KELURAHAN)})
    decree_number = models.CharField(_("nomor SK"), max_length=100)
    decree_date = models.DateField(_("tanggal SK"), validators=[NotInFuture(_("Tanggal SK"))])
    decree_office = models.ForeignKey(Office, verbose_name=_("penerbit SK"),
                                      on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField(_("mulai"))
    end_date = models.DateField(_("selesai"), null=True, blank=True)
    funding_source = models.CharField(_("sumber dana"), max_length=20,
                                      choices=FundingSource.choices)
    end_reason = models.CharField(_("alasan berakhir"), max_length=255, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "area"

    class Meta:
        verbose_name = _("penugasan")
        verbose_name_plural = _("penugasan")
        ordering = ["-start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="psks_assignment_dates_ordered",
                violation_error_message=_("Tanggal selesai tidak boleh sebelum tanggal mulai."),
            ),
            models.CheckConstraint(
                condition=~Q(role="tksk") | Q(end_date__isnull=False),
                name="psks_assignment_tksk_has_end",
                violation_error_message=_("Penugasan TKSK wajib memiliki tanggal selesai."),
            ),
        ]
        indexes = [models.Index(fields=["role", "area", "start_date"],
                                name="psks_assign_role_area")]

    def __str__(self):
        return f"{self.get_role_display()} — {self.worker.name} ({self.area_id})"

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("Tanggal selesai tidak boleh sebelum tanggal "
                                                 "mulai.")})
        if self.role == choices.Role.TKSK:
            if not self.end_date:
                raise ValidationError({"end_date": _(
                    "Penugasan TKSK wajib memiliki tanggal selesai (SK paling lama 5 tahun).")})
            if self.area_id and self.area.tingkat != Tingkat.KECAMATAN:
                raise ValidationError({"area": _("Wilayah tugas TKSK harus sebuah kecamatan.")})
            if self.start_date and self.end_date:
                try:
                    limit = self.start_date.replace(year=self.start_date.year + TKSK_MAX_YEARS)
                except ValueError:  # 29 February
                    limit = self.start_date.replace(year=self.start_date.year + TKSK_MAX_YEARS,
                                                    day=28)
                if self.end_date >= limit:
                    raise ValidationError({"end_date": _(
                        "SK TKSK berlaku paling lama 5 tahun (sampai sebelum %(limit)s); "
                        "perpanjangan dibuat sebagai penugasan baru.")
                        % {"limit": format_tanggal(limit)}})


class Bank(models.Model):
    code = models.SlugField(_("kode"), max_length=30, unique=True)
    name = models.CharField(_("nama"), max_length=100)
    active = models.BooleanField(_("aktif"), default=True)

    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("bank")
        verbose_name_plural = _("bank")
        ordering = ["name"]

    def __str__(self):
        return self.name


class BankAccount(models.Model):
    """An account is never edited: a change is a new row. It takes effect only once a second
    user verifies it (four eyes); payouts use the verified account in force on the pay date."""

    worker = models.ForeignKey(Worker, verbose_name=_("tenaga"), on_delete=models.PROTECT,
                               related_name="bank_accounts")
    bank = models.ForeignKey(Bank, verbose_name=_("bank"), on_delete=models.PROTECT,
                             related_name="+")
    account_number = models.CharField(_("nomor rekening"), max_length=20,
                                      validators=[digits_only])
    holder_name = models.CharField(_("nama pemilik rekening"), max_length=150)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("dicatat oleh"))
    created_at = models.DateTimeField(_("dicatat"), auto_now_add=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("diverifikasi oleh"))
    verified_at = models.DateTimeField(_("diverifikasi"), null=True, blank=True)
    effective_from = models.DateField(_("berlaku mulai"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "worker__desa"

    class Meta:
        verbose_name = _("rekening bank")
        verbose_name_plural = _("rekening bank")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=models.F("created_by")),
                name="psks_bank_account_four_eyes",
                violation_error_message=_(
                    "Rekening bank tidak boleh diverifikasi oleh orang yang mencatatnya."),
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True, verified_at__isnull=True,
                            effective_from__isnull=True)
                | Q(verified_by__isnull=False, verified_at__isnull=False,
                    effective_from__isnull=False),
                name="psks_bank_account_verified_complete",
                violation_error_message=_(
                    "Verifikasi rekening harus lengkap: pemverifikasi, waktu verifikasi dan "
                    "tanggal berlaku diisi bersama, atau ketiganya kosong."),
            ),
        ]

    def __str__(self):
        return f"{self.bank} …{self.account_number[-4:]} a.n. {self.holder_name}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Institution(TimeStamped):
    type = models.CharField(_("jenis"), max_length=20, choices=choices.InstitutionType.choices)
    name = models.CharField(_("nama"), max_length=200)
    desa = models.ForeignKey(Wilayah, verbose_name=_("desa/kelurahan"), on_delete=models.PROTECT,
                             related_name="+", limit_choices_to={"tingkat__in": DESA_KELURAHAN})
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    registration_number = models.CharField(_("nomor tanda daftar"), max_length=100, blank=True)
    accreditation = models.CharField(_("akreditasi"), max_length=10,
                                     choices=choices.Accreditation.choices,
                                     default=choices.Accreditation.BELUM)
    contact_name = models.CharField(_("narahubung"), max_length=150, blank=True)
    phone = models.CharField(_("telepon"), max_length=20, blank=True,
                             validators=[validate_phone])
    status = models.CharField(_("status"), max_length=15,
                              choices=choices.InstitutionStatus.choices,
                              default=choices.InstitutionStatus.AKTIF)

    objects = ScopedQuerySet.as_manager()
    scope_field = "desa"

    class Meta:
        verbose_name = _("lembaga")
        verbose_name_plural = _("lembaga")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["type", "desa"],
                condition=Q(type="karang_taruna", status="aktif"),
                name="psks_one_karang_taruna_per_desa",
                violation_error_message=_("Desa ini sudah memiliki Karang Taruna yang aktif."),
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()}: {self.name}"


class BoardMember(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE,
                                    related_name="board_members", verbose_name=_("lembaga"))
    name = models.CharField(_("nama"), max_length=150)
    position = models.CharField(_("jabatan"), max_length=100)

    scope_field = "institution__desa"

    class Meta:
        verbose_name = _("pengurus")
        verbose_name_plural = _("pengurus")
        ordering = ["id"]

    def __str__(self):
        return f"{self.position}: {self.name}"


class ActivityReport(TimeStamped):
    """Laporan bulanan: one per worker and month (``period`` is the first day of the month)."""

    worker = models.ForeignKey(Worker, verbose_name=_("tenaga"), on_delete=models.PROTECT,
                               related_name="reports")
    period = models.DateField(_("bulan"), validators=[NotAfterThisMonth(_("Bulan laporan"))],
                              help_text=_("Bulan yang dilaporkan, mis. 11/2026."))
    meetings_attended = models.PositiveIntegerField(_("rakor dihadiri"), default=0)
    households_validated = models.PositiveIntegerField(
        _("RTS divalidasi by name by address"), default=0)
    pmks_identified = models.PositiveIntegerField(_("PMKS teridentifikasi"), default=0)
    households_visited = models.PositiveIntegerField(_("keluarga dikunjungi"), default=0)
    notes = models.TextField(_("catatan"), blank=True)
    attachment = models.FileField(_("lampiran"), upload_to="laporan/%Y/%m/", blank=True,
                                  validators=[UploadedFile(
                                      ["pdf", "jpg", "jpeg", "png", "docx", "xlsx"], max_mb=10)])
    status = models.CharField(_("status"), max_length=10, choices=choices.ReportStatus.choices,
                              default=choices.ReportStatus.DRAFT)
    submitted_at = models.DateTimeField(_("diajukan"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("diajukan oleh"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                        verbose_name=_("ditinjau oleh"))
    reviewed_at = models.DateTimeField(_("diperiksa"), null=True, blank=True)
    rejection_reason = models.TextField(_("alasan penolakan"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "worker__desa"

    class Meta:
        verbose_name = _("laporan bulanan")
        verbose_name_plural = _("laporan bulanan")
        ordering = ["-period", "worker__name"]
        # the review queue of a status, oldest submission first (psks.selectors.report_queue)
        indexes = [models.Index(fields=["status", "submitted_at", "period", "id"],
                                name="psks_report_queue")]
        constraints = [
            models.UniqueConstraint(fields=["worker", "period"], name="psks_report_per_month"),
            models.CheckConstraint(
                condition=Q(period__day=1), name="psks_report_period_day1",
                violation_error_message=_("Bulan laporan harus ditulis sebagai bulan (mis. "
                                          "11/2026), tanggal 1 bulan itu.")),
            # four eyes: the acceptance releases the month's incentive
            models.CheckConstraint(
                condition=~Q(status=choices.ReportStatus.DITERIMA)
                | Q(submitted_by__isnull=True) | ~Q(reviewed_by=F("submitted_by")),
                name="psks_report_four_eyes",
                violation_error_message=_("Laporan diterima oleh pengguna lain, bukan oleh yang "
                                          "mengajukannya (prinsip empat mata).")),
        ]

    def __str__(self):
        return f"{self.worker.name} {format_bulan(self.period)}"


class Meeting(TimeStamped):
    """Rakor (monthly coordination meeting) or forum discussion at kecamatan level."""

    kecamatan = models.ForeignKey(Wilayah, verbose_name=_("kecamatan"), on_delete=models.PROTECT,
                                  related_name="+",
                                  limit_choices_to={"tingkat": Tingkat.KECAMATAN})
    date = models.DateField(_("tanggal"), validators=[NotInFuture(_("Tanggal rakor/FGD"))])
    type = models.CharField(_("jenis"), max_length=10, choices=choices.MeetingType.choices,
                            default=choices.MeetingType.RAKOR)
    agenda = models.TextField(_("agenda"))
    minutes = models.TextField(_("notulen"), blank=True)
    attendees = models.ManyToManyField(Worker, verbose_name=_("peserta (tenaga)"), blank=True,
                                       related_name="meetings")
    other_attendees = models.TextField(
        _("peserta lain"), blank=True,
        help_text=_("Aparat desa, kasie kesos kecamatan, unsur desa — satu per baris."))

    objects = ScopedQuerySet.as_manager()
    scope_field = "kecamatan"

    class Meta:
        verbose_name = _("rakor/FGD")
        verbose_name_plural = _("rakor/FGD")
        ordering = ["-date", "id"]
        indexes = [models.Index(fields=["kecamatan", "date"], name="psks_meeting_kec_date")]

    def __str__(self):
        return f"{self.get_type_display()} {self.kecamatan.nama} {format_tanggal(self.date)}"


for model in (Worker, Assignment, BankAccount, Institution, BoardMember, ActivityReport, Meeting,
              Bank):
    audit.register(model)

# The sync feeds (dinsos.changes): bank accounts and reports live under their worker and move
# with it; an assignment shows its worker's name, an institution its board, a rakor its attendees.
changes.register(Worker)
changes.register(Assignment, follows=("worker",))
changes.register(BankAccount)
changes.register(Institution, children=("board_members",))
changes.register(ActivityReport)
changes.register(Meeting, m2m=("attendees",))
