from django.db import models
from django.utils.translation import gettext_lazy as _


class Tingkat(models.TextChoices):
    """Levels of the Kemendagri region tree (proper nouns, as in the source data)."""

    PROVINSI = "provinsi", _("Provinsi")
    KABUPATEN = "kabupaten", _("Kabupaten")
    KOTA = "kota", _("Kota")
    KECAMATAN = "kecamatan", _("Kecamatan")
    KELURAHAN = "kelurahan", _("Kelurahan")
    DESA = "desa", _("Desa")


KAB_KOTA = (Tingkat.KABUPATEN, Tingkat.KOTA)
DESA_KELURAHAN = (Tingkat.DESA, Tingkat.KELURAHAN)


class Pillar(models.TextChoices):
    """The four pillars of social welfare (UU 11/2009, PP 39/2012 Pasal 3)."""

    REHABILITASI_SOSIAL = "rehabilitasi_sosial", _("Rehabilitasi Sosial")
    JAMINAN_SOSIAL = "jaminan_sosial", _("Jaminan Sosial")
    PEMBERDAYAAN_SOSIAL = "pemberdayaan_sosial", _("Pemberdayaan Sosial")
    PERLINDUNGAN_SOSIAL = "perlindungan_sosial", _("Perlindungan Sosial")


class FundingSource(models.TextChoices):
    APBD_PROVINSI = "apbd_provinsi", _("APBD Provinsi")
    APBD_KAB_KOTA = "apbd_kab_kota", _("APBD Kabupaten/Kota")
    APBN = "apbn", _("APBN")
    CSR = "csr", _("Dunia usaha/CSR")
    SWADAYA = "swadaya", _("Swadaya masyarakat")


class Sex(models.TextChoices):
    """As printed on the KTP."""

    L = "L", _("Laki-laki")
    P = "P", _("Perempuan")
