from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Individual PSKS types (Permensos 08/2012) and the program assistants, stable codes."""

    TKSK = "tksk", _("Tenaga Kesejahteraan Sosial Kecamatan (TKSK)")
    PENDAMPING_PKH = "pendamping_pkh", _("Pendamping PKH")
    PENDAMPING_JAMSOSRATU = "pendamping_jamsosratu", _("Pendamping Jamsosratu")
    PSM = "psm", _("Pekerja Sosial Masyarakat (PSM)")
    TAGANA = "tagana", _("Taruna Siaga Bencana (Tagana)")
    PEKERJA_SOSIAL = "pekerja_sosial", _("Pekerja Sosial Profesional")
    PENYULUH_SOSIAL = "penyuluh_sosial", _("Penyuluh Sosial")
    WPKS = "wpks", _("Wanita Pemimpin Kesejahteraan Sosial (WPKS)")


class WorkerStatus(models.TextChoices):
    AKTIF = "aktif", _("Aktif")
    NONAKTIF = "nonaktif", _("Nonaktif (diskors)")
    BERHENTI = "berhenti", _("Berhenti")


class Education(models.TextChoices):
    SD = "sd", _("SD/sederajat")
    SMP = "smp", _("SMP/sederajat")
    SMA = "sma", _("SMA/sederajat")
    DIPLOMA = "diploma", _("Diploma")
    S1 = "s1", _("S1")
    S2 = "s2", _("S2 atau lebih")


class InstitutionType(models.TextChoices):
    LKS = "lks", _("Lembaga Kesejahteraan Sosial (LKS)")
    KARANG_TARUNA = "karang_taruna", _("Karang Taruna")
    LK3 = "lk3", _("Lembaga Konsultasi Kesejahteraan Keluarga (LK3)")
    WKSBM = "wksbm", _("Wahana Kesejahteraan Sosial Keluarga Berbasis Masyarakat (WKSBM)")
    KELUARGA_PIONER = "keluarga_pioner", _("Keluarga Pioner")
    DUNIA_USAHA = "dunia_usaha", _("Dunia Usaha")


class Accreditation(models.TextChoices):
    BELUM = "belum", _("Belum terakreditasi")
    A = "A", _("A")
    B = "B", _("B")
    C = "C", _("C")


class InstitutionStatus(models.TextChoices):
    AKTIF = "aktif", _("Aktif")
    TIDAK_AKTIF = "tidak_aktif", _("Tidak aktif")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draf")
    DIAJUKAN = "diajukan", _("Diajukan")
    DITERIMA = "diterima", _("Diterima")
    DITOLAK = "ditolak", _("Ditolak")


class MeetingType(models.TextChoices):
    RAKOR = "rakor", _("Rapat koordinasi kecamatan (rakor)")
    FGD = "fgd", _("Forum diskusi kelompok")
