from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from dinsos import audit
from dinsos.choices import KAB_KOTA, Tingkat
from dinsos.scoping import ScopedQuerySet

PROVINCE_CODE = "36"  # Banten


class TimeStamped(models.Model):
    """created_at / updated_at for every domain record."""

    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    class Meta:
        abstract = True


class WilayahQuerySet(models.QuerySet):
    def within(self, kode: str, *, include_self: bool = True):
        """Everything inside a region, by dotted-code prefix (one indexed LIKE, no recursion)."""
        q = models.Q(kode__startswith=f"{kode}.")
        if include_self:
            q |= models.Q(kode=kode)
        return self.filter(q)

    def kab_kota(self):
        return self.filter(tingkat__in=KAB_KOTA)


class Wilayah(models.Model):
    """A Kemendagri administrative region, keyed by its dotted code (36, 36.01, 36.01.01,
    36.01.01.2001). Because the key is the code, a foreign key column holds the code itself and
    "everything inside 36.01" is a prefix match on that column, without a join."""

    kode = models.CharField(_("kode"), max_length=13, primary_key=True)
    nama = models.CharField(_("nama"), max_length=100, db_index=True)
    tingkat = models.CharField(_("tingkat"), max_length=10, choices=Tingkat.choices, db_index=True)
    induk = models.ForeignKey(
        "self",
        verbose_name=_("induk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="anak",
    )

    objects = WilayahQuerySet.as_manager()

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["kode"]

    def __str__(self):
        return f"{self.kode} {self.nama}"

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes of every ancestor, from the province down (no queries)."""
        parts = self.kode.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]

    @property
    def kab_kota_kode(self) -> str | None:
        return self.kode[:5] if len(self.kode) >= 5 else None

    @property
    def kecamatan_kode(self) -> str | None:
        return self.kode[:8] if len(self.kode) >= 8 else None

    def ancestors(self):
        return Wilayah.objects.filter(kode__in=self.ancestor_codes)

    def descendants(self):
        return Wilayah.objects.within(self.kode, include_self=False)


class Office(models.Model):
    """Dinas Sosial of the province or of one kabupaten/kota. Its wilayah is its users' area."""

    wilayah = models.OneToOneField(
        Wilayah, verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="office"
    )
    name = models.CharField(_("nama"), max_length=150, unique=True)
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    head_name = models.CharField(_("nama kepala dinas"), max_length=150, blank=True)
    head_nip = models.CharField(_("NIP kepala dinas"), max_length=18, blank=True)
    treasurer_name = models.CharField(_("nama bendahara pengeluaran"), max_length=150,
                                      blank=True)
    treasurer_nip = models.CharField(_("NIP bendahara pengeluaran"), max_length=18, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "wilayah"

    class Meta:
        verbose_name = _("kantor dinas")
        verbose_name_plural = _("kantor dinas")
        ordering = ["wilayah_id"]

    def __str__(self):
        return self.name

    @property
    def is_province(self) -> bool:
        return self.wilayah_id == PROVINCE_CODE


class User(AbstractUser):
    """A person or a machine client of an office. The office's wilayah is the user's area."""

    office = models.ForeignKey(
        Office,
        verbose_name=_("kantor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    nip = models.CharField(_("NIP"), max_length=18, blank=True)

    scope_field = "office__wilayah"

    class Meta:
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")

    @property
    def area_code(self) -> str | None:
        """The wilayah code this user may see and change; None = nothing (no office)."""
        return self.office.wilayah_id if self.office_id else None


class IdempotencyKey(models.Model):
    """The stored answer to a POST sent with an ``Idempotency-Key`` header. The unique
    constraint, not code, guarantees that a retried or concurrent request runs once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("pengguna"))
    key = models.CharField(max_length=100, verbose_name=_("kunci"))
    method = models.CharField(max_length=10, verbose_name=_("metode"))
    path = models.CharField(max_length=255, verbose_name=_("alamat"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("sidik isi permintaan"))
    status_code = models.PositiveSmallIntegerField(verbose_name=_("kode status"))
    response_body = models.JSONField(null=True, verbose_name=_("isi jawaban"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True,
        verbose_name=_("dibuat pada"))

    class Meta:
        verbose_name = _("kunci idempotensi")
        verbose_name_plural = _("kunci idempotensi")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="dinsos_idempotency_user_key")
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class Heartbeat(models.Model):
    """When a background process last did its work: the scheduled ``dinsos.ping`` (beat sends
    it every 5 minutes, a worker runs it) writes ``worker``; ``/healthz`` tells how long ago.
    In the database, so the web process sees it on SQLite with the file broker too."""

    name = models.CharField(_("nama"), max_length=30, primary_key=True)
    at = models.DateTimeField(_("terakhir terlihat"))

    class Meta:
        verbose_name = _("detak proses latar")
        verbose_name_plural = _("detak proses latar")

    def __str__(self):
        return f"{self.name}: {self.at:%Y-%m-%d %H:%M}"


class ImportBatch(models.Model):
    """One uploaded import file and what became of it: totals and every rejected row (row,
    column, reason), so the report can be downloaded as the original file plus an error column.
    Scoped by the uploader's area."""

    class Status(models.TextChoices):
        QUEUED = "antre", _("Dalam antrean")
        RUNNING = "berjalan", _("Sedang diproses")
        CHECKED = "diperiksa", _("Diperiksa (uji coba, tidak disimpan)")
        IMPORTED = "diimpor", _("Diimpor")
        FAILED = "gagal", _("Gagal")

    kind = models.CharField(_("jenis"), max_length=30)
    file = models.FileField(
        _("berkas"), upload_to="imports/%Y/%m/", blank=True,
        help_text=_("Dihapus IMPORT_FILE_DAYS hari setelah diunggah (data pribadi); "
                    "jumlah dan baris yang ditolak tetap tersimpan."))
    filename = models.CharField(_("nama berkas"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True,
        verbose_name=_("sidik berkas (SHA-256)"))
    dry_run = models.BooleanField(_("uji coba"), default=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    totals = models.JSONField(_("jumlah"), default=dict)
    errors = models.JSONField(_("kesalahan"), default=list)
    message = models.TextField(_("pesan"), blank=True)
    rows_total = models.PositiveIntegerField(
        _("jumlah baris"), null=True, blank=True,
        help_text=_("Perkiraan jumlah baris data berkas, dihitung sebelum impor berjalan."))
    rows_done = models.PositiveIntegerField(_("baris selesai"), default=0)
    attempts = models.PositiveSmallIntegerField(
        _("percobaan"), default=0,
        help_text=_("Berapa kali impor ini dimulai; dihitung untuk batas IMPORT_MAX_ATTEMPTS."))
    area = models.ForeignKey(Wilayah, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("wilayah kerja"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("diunggah oleh"))
    created_at = models.DateTimeField(_("waktu"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_field = "area"

    class Meta:
        verbose_name = _("impor berkas")
        verbose_name_plural = _("impor berkas")
        ordering = ["-created_at"]

    def __str__(self):
        from dinsos.importing import IMPORTERS

        importer = IMPORTERS.get(self.kind)
        kind = importer.label if importer else self.kind
        return f"{kind}: {self.filename} ({self.get_status_display()})"


audit.register(Wilayah)
audit.register(Office)
audit.register(User, m2m_fields={"groups"})


class Change(models.Model):
    """The change log the sync feeds read (``dinsos.changes``): one row per change of a synced
    record, in the order the database makes visible. ``id`` is the change sequence; ``txid``
    the writing transaction (PostgreSQL), so a feed never passes a transaction still running.
    ``area`` is the desa the change belongs to — for ``left_area`` the desa the record LEFT, the
    only thing a reader in that area learns; ``new_area`` is kept to decide who reads it and
    is never shown."""

    class Kind(models.TextChoices):
        UPSERT = "upsert", _("dibuat/diubah")
        DELETED = "deleted", _("dihapus")
        MERGED = "merged", _("digabung")
        LEFT_AREA = "left_area", _("keluar dari wilayah Anda")

    id = models.BigAutoField(_("urutan perubahan"), primary_key=True)
    txid = models.BigIntegerField(_("transaksi"), default=0)
    resource = models.CharField(_("jenis data"), max_length=60)
    object_id = models.BigIntegerField(_("id data"))
    kind = models.CharField(_("jenis perubahan"), max_length=10, choices=Kind.choices)
    area = models.CharField(_("wilayah"), max_length=13)
    new_area = models.CharField(_("wilayah baru"), max_length=13, blank=True)
    merged_into = models.BigIntegerField(_("digabung ke"), null=True, blank=True)
    at = models.DateTimeField(_("waktu"))

    class Meta:
        verbose_name = _("perubahan data")
        verbose_name_plural = _("perubahan data")
        indexes = [
            models.Index(fields=["resource", "txid", "id"], name="dinsos_change_feed"),
            models.Index(fields=["resource", "object_id"], name="dinsos_change_object"),
        ]
        constraints = [  # only the newest upsert of a record is kept (dinsos.changes._upsert)
            models.UniqueConstraint(fields=["resource", "object_id"],
                                    condition=models.Q(kind="upsert"),
                                    name="dinsos_change_one_upsert"),
        ]

    def __str__(self):
        return f"{self.resource}:{self.object_id} {self.kind}"
