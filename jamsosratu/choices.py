from django.db import models
from django.utils.translation import gettext_lazy as _


class EnrolmentStatus(models.TextChoices):
    CALON = "calon", _("Calon (diusulkan)")
    TERVERIFIKASI = "terverifikasi", _("Terverifikasi")
    DITETAPKAN = "ditetapkan", _("Ditetapkan (SK Gubernur)")
    AKTIF = "aktif", _("Aktif")
    GRADUASI = "graduasi", _("Graduasi (naik grade)")
    DIKELUARKAN = "dikeluarkan", _("Dikeluarkan")


class MemberCondition(models.TextChoices):
    """Member conditions that make a household eligible (which ones count is set per cycle)."""

    HAMIL_NIFAS = "hamil_nifas", _("Ibu hamil/nifas")
    BALITA = "balita", _("Anak balita")
    ANAK_SEKOLAH = "anak_sekolah", _("Anak usia sekolah (SD–SMA)")
    LANSIA = "lansia", _("Lanjut usia")


class VerificationResult(models.TextChoices):
    SESUAI = "sesuai", _("Sesuai")
    TIDAK_SESUAI = "tidak_sesuai", _("Tidak sesuai")


class Finding(models.TextChoices):
    TIDAK_DITEMUKAN = "tidak_ditemukan", _("Tidak ditemukan di alamat")
    PINDAH = "pindah", _("Pindah")
    MENINGGAL = "meninggal", _("Meninggal")
    TIDAK_DALAM_KK = "tidak_dalam_kk", _("Tidak tercantum dalam KK")
    ANGGOTA_BARU = "anggota_baru", _("Anggota baru")


class CommitmentKind(models.TextChoices):
    PENDIDIKAN = "pendidikan", _("Kehadiran sekolah")
    KESEHATAN = "kesehatan", _("Kunjungan kesehatan")


class CommitmentStatus(models.TextChoices):
    TERPENUHI = "terpenuhi", _("Terpenuhi")
    TIDAK_TERPENUHI = "tidak_terpenuhi", _("Tidak terpenuhi")
    TIDAK_BERLAKU = "tidak_berlaku", _("Tidak berlaku")


class Outcome(models.TextChoices):
    PENUH = "penuh", _("Dibayar penuh")
    DIKURANGI = "dikurangi", _("Dikurangi")
    DITANGGUHKAN = "ditangguhkan", _("Ditangguhkan")


class Channel(models.TextChoices):
    BANK_BANTEN = "bank_banten", _("Rekening Bank Banten")
    POS = "pos", _("PT Pos Indonesia")


class PaymentStatus(models.TextChoices):
    DIJADWALKAN = "dijadwalkan", _("Dijadwalkan")
    DISALURKAN = "disalurkan", _("Disalurkan")
    GAGAL = "gagal", _("Gagal")
    DITANGGUHKAN = "ditangguhkan", _("Ditangguhkan")


class JobKind(models.TextChoices):
    PENYALURAN = "penyaluran", _("Pembuatan daftar penyaluran")
    HASIL_BANK = "hasil_bank", _("Penerapan hasil bank")


class JobStatus(models.TextChoices):
    ANTRE = "antre", _("Dalam antrean")
    BERJALAN = "berjalan", _("Sedang diproses")
    SELESAI = "selesai", _("Selesai")
    GAGAL = "gagal", _("Gagal")


class BankLineOutcome(models.TextChoices):
    """What became of one line of the bank's result file."""

    DISALURKAN = "disalurkan", _("Disalurkan")
    GAGAL = "gagal", _("Gagal")
    SUDAH_TERCATAT = "sudah_tercatat", _("Sudah tercatat, tidak diubah")
    DITOLAK = "ditolak", _("Ditolak")
