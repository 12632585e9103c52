from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dinsos import audit, changes
from dinsos.choices import DESA_KELURAHAN, FundingSource, Pillar, Sex
from dinsos.models import Office, TimeStamped, Wilayah
from dinsos.money import format_tanggal
from dinsos.scoping import ProvinceOnly, ScopedQuerySet
from dinsos.validators import (
    NotBefore1900,
    NotInFuture,
    mask_nik,
    mask_no_kk,
    validate_nik,
    validate_nik_matches,
    validate_no_kk,
)
from pmks import choices
from pmks.calculations import OPEN_STATUSES

DESA_ONLY = {"tingkat__in": DESA_KELURAHAN}


class HouseholdItem(models.Model):
    """An entry of a DTKS list a household ticks (an asset it owns, a program it takes part
    in): reference data, province-wide, loaded by migration (``pmks.reference``); the
    ``code`` is what the API, the filters and the exports speak."""

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    order = models.PositiveSmallIntegerField(_("urutan"), default=0)

    province_only = ProvinceOnly.WRITE

    class Meta:
        abstract = True
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Asset(HouseholdItem):
    """An asset of the DTKS form: aset bergerak (gas cylinder, fridge, motorcycle, boat…)
    and aset tidak bergerak (land, a house elsewhere)."""

    class Meta(HouseholdItem.Meta):
        verbose_name = _("aset")
        verbose_name_plural = _("aset")


class Program(HouseholdItem):
    """A social protection program a household takes part in (KKS, PKH, BPNT, PBI JK…)."""

    class Meta(HouseholdItem.Meta):
        verbose_name = _("program bantuan")
        verbose_name_plural = _("program bantuan")


class Household(TimeStamped):
    """A family by its Kartu Keluarga. Kecamatan and kab/kota follow from ``desa``."""

    no_kk = models.CharField(
        _("No. KK"), max_length=16, unique=True, validators=[validate_no_kk]
    )
    address = models.CharField(_("alamat"), max_length=255)
    rt = models.CharField(_("RT"), max_length=3, blank=True)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    desa = models.ForeignKey(  # indexed in Meta: one index for = and the area's LIKE
        Wilayah, verbose_name=_("desa/kelurahan"), on_delete=models.PROTECT,
        related_name="+", limit_choices_to=DESA_ONLY, db_index=False,
    )
    head = models.ForeignKey(
        "Person", verbose_name=_("kepala keluarga"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    decile = models.PositiveSmallIntegerField(
        _("desil DTSEN"), null=True, blank=True,
        validators=[MinValueValidator(1, _("Desil paling kecil 1.")),
                    MaxValueValidator(10, _("Desil paling besar 10."))],
    )
    floor = models.CharField(_("lantai"), max_length=20, choices=choices.Floor.choices, blank=True)
    wall = models.CharField(_("dinding"), max_length=20, choices=choices.Wall.choices, blank=True)
    water_source = models.CharField(
        _("sumber air minum"), max_length=20, choices=choices.WaterSource.choices, blank=True
    )
    lighting = models.CharField(
        _("penerangan"), max_length=20, choices=choices.Lighting.choices, blank=True
    )
    cooking_fuel = models.CharField(
        _("bahan bakar memasak"), max_length=20, choices=choices.CookingFuel.choices, blank=True
    )
    toilet = models.CharField(
        _("fasilitas BAB"), max_length=20, choices=choices.Toilet.choices, blank=True
    )
    # through tables of their own: a list entry a household holds cannot be deleted (PROTECT)
    assets = models.ManyToManyField(Asset, verbose_name=_("aset"), blank=True,
                                    through="HouseholdAsset", related_name="+")
    programs = models.ManyToManyField(Program, verbose_name=_("program bantuan"), blank=True,
                                      through="HouseholdProgram", related_name="+")

    #: the fingerprint of the import row this record was last written from, and the
    #: ``updated_at`` it was written with (``pmks.staging``): a re-import skips a row whose
    #: fingerprint still holds. Any other write moves ``updated_at`` and so breaks it.
    import_digest = models.BigIntegerField(_("sidik baris impor"), null=True, blank=True,
                                           editable=False)
    import_stamp = models.DateTimeField(_("waktu sidik impor"), null=True, blank=True,
                                        editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_field = "desa"

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        ordering = ["no_kk"]
        indexes = [
            # pattern ops answer both desa_id = … and the area's desa_id LIKE '36.01.%' (the
            # default operator class answers LIKE only under the C collation): one index where
            # Django's default made two, each written by every import
            models.Index(fields=["desa"], opclasses=["varchar_pattern_ops"],
                         name="pmks_household_desa"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decile__isnull=True) | Q(decile__gte=1, decile__lte=10),
                name="pmks_household_decile_1_10",
                violation_error_message=_("Desil DTSEN harus 1 sampai 10."),
            ),
        ]

    def __str__(self):
        return f"KK {mask_no_kk(self.no_kk)}"

    def label_for(self, user) -> str:
        """How a form names the household to ``user``: No. KK (whole where the policy says)
        and its head — only a head the user may see (one registered in another kab/kota is
        not named) — so two households are told apart."""
        from dinsos.scoping import mask_for, within_area

        if not self.head_id:
            head = _("tanpa kepala keluarga")
        elif within_area(self.head, user):
            head = self.head.name
        else:
            head = _("kepala keluarga tercatat di luar wilayah Anda")
        return f"KK {mask_for(user, Household, 'no_kk', self.no_kk)} — {head}"

    def clean(self):
        # a new household has no members yet, so no head: its first member registered as head
        # becomes its head (persons_after_save); a head chosen later must be a member
        if self.head_id and (
            not self.pk
            or not Person.objects.filter(pk=self.head_id, household_id=self.pk).exists()
        ):
            raise ValidationError({"head": _("Kepala keluarga harus anggota keluarga ini.")})


class HouseholdAsset(models.Model):
    household = models.ForeignKey(  # indexed by the unique constraint, household first
        Household, verbose_name=_("keluarga"), on_delete=models.CASCADE, related_name="+",
        db_index=False)
    asset = models.ForeignKey(Asset, verbose_name=_("aset"), on_delete=models.PROTECT,
                              related_name="+")

    scope_field = "household__desa"

    class Meta:
        verbose_name = _("aset keluarga")
        verbose_name_plural = _("aset keluarga")
        constraints = [models.UniqueConstraint(fields=["household", "asset"],
                                               name="pmks_household_asset_once")]

    def __str__(self):
        return str(self.asset)


class HouseholdProgram(models.Model):
    household = models.ForeignKey(  # indexed by the unique constraint, household first
        Household, verbose_name=_("keluarga"), on_delete=models.CASCADE, related_name="+",
        db_index=False)
    program = models.ForeignKey(Program, verbose_name=_("program bantuan"),
                                on_delete=models.PROTECT, related_name="+")

    scope_field = "household__desa"

    class Meta:
        verbose_name = _("program bantuan keluarga")
        verbose_name_plural = _("program bantuan keluarga")
        constraints = [models.UniqueConstraint(fields=["household", "program"],
                                               name="pmks_household_program_once")]

    def __str__(self):
        return str(self.program)


#: a household's second kepala keluarga (``Person.check_one_kepala``, the imports)
KEPALA_TAKEN = _("No. KK ini sudah mempunyai kepala keluarga; ubah dulu hubungan kepala "
                 "keluarga yang tercatat (atau catat status meninggal/pindahnya), lalu simpan "
                 "lagi.")


class PersonQuerySet(ScopedQuerySet):
    def kepala_of(self, household_id):
        """The members that count as the household's kepala keluarga (``counts_as_kepala``)."""
        return self.filter(household_id=household_id, merged_into__isnull=True,
                           relationship=choices.Relationship.KEPALA,
                           life_status=choices.LifeStatus.HIDUP)


class Person(TimeStamped):
    nik = models.CharField(
        _("NIK"), max_length=16, unique=True, null=True, blank=True, validators=[validate_nik]
    )
    name = models.CharField(_("nama"), max_length=150)
    name_key = models.CharField(_("kunci nama"), max_length=150, editable=False)  # Meta
    birth_place = models.CharField(_("tempat lahir"), max_length=100, blank=True)
    birth_date = models.DateField(_("tanggal lahir"), validators=[NotInFuture(_("Tanggal lahir"))])
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    household = models.ForeignKey(
        Household, verbose_name=_("keluarga"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="members",
    )
    relationship = models.CharField(
        _("hubungan dengan kepala keluarga"), max_length=20,
        choices=choices.Relationship.choices, blank=True,
    )
    desa = models.ForeignKey(  # indexed in Meta (pmks_person_desa_birth)
        Wilayah, verbose_name=_("desa/kelurahan domisili"), on_delete=models.PROTECT,
        related_name="+", limit_choices_to=DESA_ONLY, db_index=False,
    )
    disability = models.CharField(
        _("disabilitas"), max_length=20, choices=choices.Disability.choices,
        default=choices.Disability.TIDAK,
    )
    marital_status = models.CharField(
        _("status perkawinan"), max_length=20, choices=choices.MaritalStatus.choices,
        blank=True,
    )
    chronic_illness = models.CharField(
        _("penyakit kronis/menahun"), max_length=20, choices=choices.ChronicIllness.choices,
        blank=True,
    )
    schooling = models.CharField(
        _("pendidikan"), max_length=20, choices=choices.Schooling.choices, blank=True
    )
    occupation = models.CharField(_("pekerjaan"), max_length=100, blank=True)
    life_status = models.CharField(
        _("status hidup"), max_length=10, choices=choices.LifeStatus.choices,
        default=choices.LifeStatus.HIDUP,
    )
    life_status_date = models.DateField(_("tanggal status"), null=True, blank=True,
                                        validators=[NotInFuture(_("Tanggal status"))])
    merged_into = models.ForeignKey(  # indexed in Meta, only where set
        "self", verbose_name=_("digabung ke"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="merged_from", db_index=False,
    )

    #: the fingerprint of the import row this record was last written from, and the
    #: ``updated_at`` it was written with (``pmks.staging``): a re-import skips a row whose
    #: fingerprint still holds. Any other write moves ``updated_at`` and so breaks it.
    import_digest = models.BigIntegerField(_("sidik baris impor"), null=True, blank=True,
                                           editable=False)
    import_stamp = models.DateTimeField(_("waktu sidik impor"), null=True, blank=True,
                                        editable=False)

    objects = PersonQuerySet.as_manager()
    scope_field = "desa"

    class Meta:
        verbose_name = _("orang")
        verbose_name_plural = _("orang")
        ordering = ["name", "id"]
        # every index is written by every registration and import (1M rows at a province's
        # first load), so none twice: Django's defaults made a plain and a LIKE index for
        # desa (beside desa + birth date), a LIKE index for the name key no query uses, and an
        # index of merged_into that held a NULL for every person not merged away
        indexes = [
            # desa_id = …, the area's desa_id LIKE '36.01.%' (pattern ops: under any collation)
            # and a desa's persons by birth date, in one index
            models.Index(fields=["desa", "birth_date"], name="pmks_person_desa_birth",
                         opclasses=["varchar_pattern_ops", "date_ops"]),
            models.Index(fields=["name_key"], name="pmks_person_name_key"),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False),
                         name="pmks_person_merged_into"),
            # the default ordering of the lists, over the persons that are not merged away
            models.Index(fields=["name", "id"], condition=Q(merged_into__isnull=True),
                         name="pmks_person_active_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(life_status="hidup") | Q(life_status_date__isnull=False),
                name="pmks_person_life_status_dated",
                violation_error_message=_(
                    "Status selain hidup wajib mempunyai tanggal status."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({mask_nik(self.nik) if self.nik else _('tanpa NIK')})"

    @property
    def tanpa_nik(self) -> bool:
        return not self.nik

    @property
    def counts_as_kepala(self) -> bool:
        """Whether this person is the one kepala keluarga its household may have: registered
        as kepala, alive (a head who died or moved away no longer counts) and not merged
        away."""
        return bool(self.household_id and self.relationship == choices.Relationship.KEPALA
                    and self.life_status == choices.LifeStatus.HIDUP
                    and not self.merged_into_id)

    def check_one_kepala(self) -> None:
        """A Kartu Keluarga has one kepala keluarga: a person who becomes the kepala of a
        household (registered as such, moved into it, or made kepala, alive again) is
        refused while another living, not merged member is its kepala. A person who already
        was its kepala stays editable (two kepala recorded before the rule are resolved by
        changing one of them). The answer never names the other kepala: the household may
        hold a member of another area."""
        if not self.counts_as_kepala:
            return
        if self.pk and Person.objects.filter(
                pk=self.pk, household_id=self.household_id, merged_into__isnull=True,
                relationship=choices.Relationship.KEPALA,
                life_status=choices.LifeStatus.HIDUP).exists():
            return  # already its kepala
        if Person.objects.kepala_of(self.household_id).exclude(pk=self.pk).exists():
            raise ValidationError({"relationship": KEPALA_TAKEN})

    def clean(self):
        self.nik = (self.nik or "").strip() or None
        if self.life_status == choices.LifeStatus.HIDUP:
            self.life_status_date = None
        elif self.life_status_date is None:
            raise ValidationError(
                {"life_status_date": _("Tanggal wajib diisi untuk status meninggal atau pindah.")}
            )
        self.check_one_kepala()
        if self.nik and self.birth_date and self.sex in Sex.values:
            try:
                validate_nik(self.nik)
            except ValidationError:
                return  # the field validator reports the NIK itself
            validate_nik_matches(self.nik, birth_date=self.birth_date, sex=self.sex)


class Category(models.Model):
    """The 26 PPKS types of Permensos 08/2012, in official order (loaded by migration)."""

    number = models.PositiveSmallIntegerField(_("nomor urut"), unique=True)
    slug = models.SlugField(_("kode"), max_length=60, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    household_level = models.BooleanField(_("masalah tingkat keluarga"), default=False)
    minimum_service = models.BooleanField(
        _("urusan SPM provinsi (PP 2/2018)"), default=False,
        help_text=_("Rehabilitasi dalam panti atau perlindungan korban bencana tingkat provinsi."),
    )

    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("kategori PPKS")
        verbose_name_plural = _("kategori PPKS")
        ordering = ["number"]

    def __str__(self):
        return f"{self.number}. {self.name}"


class Case(TimeStamped):
    """A person (or a household, for household-level problems) × a PPKS category."""

    person = models.ForeignKey(
        Person, verbose_name=_("orang"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="cases",
    )
    household = models.ForeignKey(
        Household, verbose_name=_("keluarga"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="cases",
    )
    category = models.ForeignKey(
        Category, verbose_name=_("kategori"), on_delete=models.PROTECT, related_name="cases"
    )
    desa = models.ForeignKey(
        Wilayah, verbose_name=_("desa/kelurahan"), on_delete=models.PROTECT, related_name="+",
        help_text=_("Diturunkan dari orang/keluarga oleh server."), editable=False,
    )
    identified_on = models.DateField(_("tanggal teridentifikasi"),
                                     validators=[NotInFuture(_("Tanggal teridentifikasi"))])
    source = models.CharField(_("sumber"), max_length=30, choices=choices.CaseSource.choices)
    source_note = models.CharField(_("keterangan sumber"), max_length=255, blank=True)
    description = models.TextField(_("uraian"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=choices.CaseStatus.choices,
        default=choices.CaseStatus.TERIDENTIFIKASI,
    )
    close_reason = models.CharField(
        _("alasan penutupan"), max_length=20, choices=choices.CloseReason.choices, blank=True
    )

    objects = ScopedQuerySet.as_manager()
    scope_field = "desa"
    #: the user a refusal of ``clean`` is written for (``case_open``'s actor, the admin's
    #: user): the open case a subject already has is described only to a user who may see it
    viewer = None

    class Meta:
        verbose_name = _("kasus")
        verbose_name_plural = _("kasus")
        ordering = ["-identified_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False) & Q(household__isnull=True))
                | (Q(person__isnull=True) & Q(household__isnull=False)),
                name="pmks_case_one_subject",
                violation_error_message=_(
                    "Kasus harus untuk satu orang atau satu keluarga, tidak keduanya dan tidak "
                    "kosong."),
            ),
        ]
        indexes = [models.Index(fields=["status", "category"], name="pmks_case_status_cat"),
                   models.Index(fields=["-identified_on", "-id"], name="pmks_case_order")]

    def __str__(self):
        return f"{self.category.name} — {self.person or self.household}"

    def clean(self):
        """A person (or household) has one open case per category: a second report of the
        same problem continues that case, it does not open another. Asked when a case is
        opened (cases only move forward, so none reopens): two open ones recorded before the
        rule can still be worked on and closed."""
        if self.category_id is None or (self.person_id is None) == (self.household_id is None):
            return
        if self.household_id is not None and not self.category.household_level:
            raise ValidationError({"household": _(
                "Kategori %(name)s dicatat per orang, bukan per keluarga.")
                % {"name": self.category.name}})
        if not self._state.adding or self.status not in OPEN_STATUSES:
            return
        already = (Case.objects.filter(person_id=self.person_id, household_id=self.household_id,
                                       category_id=self.category_id, status__in=OPEN_STATUSES)
                   .exclude(pk=self.pk).order_by("identified_on", "id").first())
        if already is not None:
            raise ValidationError({"category": self._already_open(already)})

    def _already_open(self, already) -> str:
        """The refusal of a second open case: the open one (date, status) when ``viewer`` may
        see it (``within_area``), else only that it exists and whom to ask — a case recorded
        in another kab/kota (one opened before its KK moved) is not described to a user who
        can neither see nor continue it."""
        from dinsos.scoping import within_area

        values = {"subject": _("Orang ini") if self.person_id else _("Keluarga ini"),
                  "name": self.category.name}
        if self.viewer is not None and within_area(already, self.viewer):
            return _("%(subject)s sudah punya kasus %(name)s yang masih terbuka (teridentifikasi "
                     "%(date)s, status %(status)s); lanjutkan kasus itu.") % {
                **values, "date": format_tanggal(already.identified_on),
                "status": already.get_status_display()}
        return _("%(subject)s sudah punya kasus %(name)s yang masih terbuka, "
                 "tercatat di luar wilayah Anda; hubungi Dinas Sosial Provinsi Banten untuk "
                 "melanjutkan atau memindahkan kasus itu.") % values


class CaseTransition(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions",
        verbose_name=_("kasus"))
    from_status = models.CharField(max_length=20, choices=choices.CaseStatus.choices, blank=True,
        verbose_name=_("dari status"))
    to_status = models.CharField(max_length=20, choices=choices.CaseStatus.choices,
        verbose_name=_("menjadi status"))
    reason = models.TextField(_("alasan"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
            verbose_name=_("oleh")
    )
    at = models.DateTimeField(_("waktu"), auto_now_add=True)

    scope_field = "case__desa"

    class Meta:
        verbose_name = _("riwayat status kasus")
        verbose_name_plural = _("riwayat status kasus")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_from_status_display() or '—'} → {self.get_to_status_display()}"


class ServiceType(models.Model):
    """Per-pillar list of service types, kept as data."""

    pillar = models.CharField(_("pilar"), max_length=30, choices=Pillar.choices)
    code = models.SlugField(_("kode"), max_length=60, unique=True)
    name = models.CharField(_("nama"), max_length=150)
    active = models.BooleanField(_("aktif"), default=True)

    province_only = ProvinceOnly.WRITE

    class Meta:
        verbose_name = _("jenis layanan")
        verbose_name_plural = _("jenis layanan")
        ordering = ["pillar", "name"]

    def __str__(self):
        return f"{self.get_pillar_display()}: {self.name}"


class Service(TimeStamped):
    case = models.ForeignKey(Case, verbose_name=_("kasus"), on_delete=models.PROTECT,
                             related_name="services")
    pillar = models.CharField(_("pilar"), max_length=30, choices=Pillar.choices, editable=False)
    service_type = models.ForeignKey(
        ServiceType, verbose_name=_("jenis layanan"), on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("tanggal mulai"),
                                  validators=[NotBefore1900(_("Tanggal mulai"))])
    end_date = models.DateField(_("tanggal selesai"), null=True, blank=True,
                                validators=[NotBefore1900(_("Tanggal selesai"))])
    value_amount = models.DecimalField(
        _("nilai (Rp)"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    funding_source = models.CharField(
        _("sumber dana"), max_length=20, choices=FundingSource.choices
    )
    provider_office = models.ForeignKey(
        Office, verbose_name=_("pemberi layanan (dinas)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    provider_name = models.CharField(
        _("pemberi layanan (lembaga lain)"), max_length=150, blank=True
    )
    note = models.TextField(_("catatan"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "case__desa"

    class Meta:
        verbose_name = _("layanan")
        verbose_name_plural = _("layanan")
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["-start_date", "-id"], name="pmks_service_order")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="pmks_service_dates_ordered",
                violation_error_message=_("Tanggal selesai tidak boleh sebelum tanggal mulai."),
            ),
            models.CheckConstraint(
                condition=Q(value_amount__isnull=True) | Q(value_amount__gte=0),
                name="pmks_service_value_not_negative",
                violation_error_message=_("Nilai layanan tidak boleh negatif."),
            ),
        ]

    def __str__(self):
        return f"{self.service_type.name} ({format_tanggal(self.start_date)})"

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("Tanggal selesai tidak boleh sebelum tanggal "
                                                 "mulai.")})
        if self.value_amount is not None and self.value_amount < 0:
            raise ValidationError({"value_amount": _("Nilai layanan tidak boleh negatif.")})


class DuplicateCandidate(models.Model):
    """A pair of persons that look like one. ``person_a.id < person_b.id``; one row per pair."""

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("orang A"))
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("orang B"))
    score = models.PositiveSmallIntegerField(_("skor"))
    reasons = models.JSONField(_("alasan"), default=list)
    status = models.CharField(
        _("status"), max_length=20, choices=choices.DuplicateStatus.choices,
        default=choices.DuplicateStatus.OPEN,
    )
    found_at = models.DateTimeField(_("ditemukan"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
            verbose_name=_("ditinjau oleh")
    )
    reviewed_at = models.DateTimeField(_("ditinjau"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = ("person_a__desa", "person_b__desa")  # visible only when both are

    class Meta:
        verbose_name = _("kandidat duplikat")
        verbose_name_plural = _("kandidat duplikat")
        ordering = ["-score", "id"]
        indexes = [models.Index(fields=["-score", "id"], name="pmks_duplicate_order")]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="pmks_duplicate_pair"),
            models.CheckConstraint(
                condition=Q(person_a__lt=models.F("person_b")), name="pmks_duplicate_ordered",
                violation_error_message=_(
                    "Pasangan dugaan ganda harus dua orang yang berbeda, dicatat berurutan.")
            ),
        ]

    def __str__(self):
        return f"{self.person_a} ~ {self.person_b} ({_('skor')} {self.score})"


class PersonMerge(models.Model):
    """A reviewed merge: ``merged`` was folded into ``kept``; ``snapshot`` keeps what it was."""

    kept = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept",
        verbose_name=_("data yang dipertahankan"))
    merged = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="merge",
        verbose_name=_("data yang digabungkan"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("oleh"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("waktu"))
    reason = models.TextField(_("alasan"), blank=True)
    snapshot = models.JSONField(_("data sebelum digabung"))

    scope_field = "kept__desa"

    class Meta:
        verbose_name = _("penggabungan orang")
        verbose_name_plural = _("penggabungan orang")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.merged} → {self.kept}"


# a household's assets and programs: an entry per change (added, removed) in its trail
audit.register(Household, m2m_fields={"assets", "programs"})
for model in (Person, Case, Service, DuplicateCandidate, ServiceType, Asset, Program):
    audit.register(model)
# the merged person's snapshot holds its whole NIK (and No. KK), kept only on the record
audit.register(PersonMerge, exclude_fields=["snapshot"])

for model in (Person, Case, Service):  # Service follows its case (case__desa)
    changes.register(model)
# its head's name, its member count; its assets and programs
changes.register(Household, children=("members",), m2m=("assets", "programs"))
