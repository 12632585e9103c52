from django.db import models
from django.utils.translation import gettext_lazy as _


class Relationship(models.TextChoices):
    """Hubungan dengan kepala keluarga, as on the Kartu Keluarga."""

    KEPALA = "kepala", _("Kepala keluarga")
    PASANGAN = "pasangan", _("Suami/istri")
    ANAK = "anak", _("Anak")
    MENANTU = "menantu", _("Menantu")
    CUCU = "cucu", _("Cucu")
    ORANG_TUA = "orang_tua", _("Orang tua")
    MERTUA = "mertua", _("Mertua")
    FAMILI = "famili", _("Famili lain")
    LAINNYA = "lainnya", _("Lainnya")


class LifeStatus(models.TextChoices):
    HIDUP = "hidup", _("Hidup")
    MENINGGAL = "meninggal", _("Meninggal")
    PINDAH = "pindah", _("Pindah")


class Disability(models.TextChoices):
    TIDAK = "tidak", _("Tidak ada")
    FISIK = "fisik", _("Disabilitas fisik")
    INTELEKTUAL = "intelektual", _("Disabilitas intelektual")
    MENTAL = "mental", _("Disabilitas mental")
    SENSORIK_NETRA = "netra", _("Disabilitas sensorik netra")
    SENSORIK_RUNGU = "rungu", _("Disabilitas sensorik rungu/wicara")
    GANDA = "ganda", _("Disabilitas ganda")


class MaritalStatus(models.TextChoices):
    """Status perkawinan, as on the Kartu Keluarga (SIAK codes 1–4 in the import)."""

    BELUM_KAWIN = "belum_kawin", _("Belum kawin")
    KAWIN = "kawin", _("Kawin")
    CERAI_HIDUP = "cerai_hidup", _("Cerai hidup")
    CERAI_MATI = "cerai_mati", _("Cerai mati")


class ChronicIllness(models.TextChoices):
    """Penyakit kronis/menahun, as the DTKS form lists them."""

    TIDAK = "tidak", _("Tidak ada")
    HIPERTENSI = "hipertensi", _("Hipertensi (darah tinggi)")
    REMATIK = "rematik", _("Rematik")
    ASMA = "asma", _("Asma")
    JANTUNG = "jantung", _("Masalah jantung")
    DIABETES = "diabetes", _("Diabetes (kencing manis)")
    TBC = "tbc", _("Tuberkulosis (TBC)")
    STROKE = "stroke", _("Stroke")
    KANKER = "kanker", _("Kanker atau tumor ganas")
    LAINNYA = "lainnya", _("Lainnya (gagal ginjal, paru-paru flek, dll.)")


class Schooling(models.TextChoices):
    TIDAK_SEKOLAH = "tidak_sekolah", _("Tidak/belum sekolah")
    SD = "sd", _("SD/sederajat")
    SMP = "smp", _("SMP/sederajat")
    SMA = "sma", _("SMA/sederajat")
    DIPLOMA = "diploma", _("Diploma")
    SARJANA = "sarjana", _("S1 atau lebih")


class Floor(models.TextChoices):
    TANAH = "tanah", _("Tanah")
    BAMBU_KAYU = "bambu_kayu", _("Bambu/kayu kualitas rendah")
    SEMEN = "semen", _("Semen/plester")
    KERAMIK = "keramik", _("Keramik/ubin/marmer")


class Wall(models.TextChoices):
    BAMBU = "bambu", _("Bambu/rumbia")
    KAYU = "kayu", _("Kayu/papan")
    TEMBOK_TANPA_PLESTER = "tembok_kasar", _("Tembok tanpa plester")
    TEMBOK = "tembok", _("Tembok")


class WaterSource(models.TextChoices):
    SUNGAI = "sungai", _("Sungai/danau/hujan")
    SUMUR_TIDAK_TERLINDUNG = "sumur_terbuka", _("Sumur/mata air tidak terlindung")
    SUMUR_TERLINDUNG = "sumur_terlindung", _("Sumur/mata air terlindung, sumur bor")
    LEDENG = "ledeng", _("Ledeng/PAM")
    KEMASAN = "kemasan", _("Air kemasan/isi ulang")


class Lighting(models.TextChoices):
    BUKAN_LISTRIK = "bukan_listrik", _("Bukan listrik")
    LISTRIK_NON_PLN = "listrik_non_pln", _("Listrik non-PLN")
    PLN_450 = "pln_450", _("PLN 450 VA")
    PLN_900 = "pln_900", _("PLN 900 VA")
    PLN_LEBIH = "pln_lebih", _("PLN di atas 900 VA")


class CookingFuel(models.TextChoices):
    KAYU = "kayu", _("Kayu bakar/arang")
    MINYAK_TANAH = "minyak_tanah", _("Minyak tanah")
    LPG_3KG = "lpg_3kg", _("LPG 3 kg")
    LPG_BESAR = "lpg_besar", _("LPG di atas 3 kg/gas kota")
    LISTRIK = "listrik", _("Listrik")


class Toilet(models.TextChoices):
    TIDAK_ADA = "tidak_ada", _("Tidak ada")
    BERSAMA = "bersama", _("Bersama/umum")
    SENDIRI = "sendiri", _("Sendiri")


class CaseStatus(models.TextChoices):
    TERIDENTIFIKASI = "teridentifikasi", _("Teridentifikasi")
    TERVERIFIKASI = "terverifikasi", _("Terverifikasi")
    DALAM_PENANGANAN = "dalam_penanganan", _("Dalam penanganan")
    SELESAI = "selesai", _("Selesai")
    DIRUJUK = "dirujuk", _("Dirujuk")
    DITUTUP = "ditutup", _("Ditutup")


class CaseSource(models.TextChoices):
    TKSK = "tksk", _("TKSK")
    PSM = "psm", _("Pekerja Sosial Masyarakat")
    PENDAMPING = "pendamping", _("Pendamping")
    LAPORAN_MASYARAKAT = "laporan_masyarakat", _("Laporan masyarakat")
    INSTANSI_LAIN = "instansi_lain", _("Instansi lain")
    DTSEN = "dtsen", _("DTKS/DTSEN")
    PETUGAS_DINAS = "petugas_dinas", _("Petugas dinas")


class CloseReason(models.TextChoices):
    MENINGGAL = "meninggal", _("Meninggal")
    PINDAH = "pindah", _("Pindah")
    DUPLIKAT = "duplikat", _("Duplikat")
    LAINNYA = "lainnya", _("Lainnya")


class DuplicateStatus(models.TextChoices):
    OPEN = "terbuka", _("Perlu ditinjau")
    MERGED = "digabung", _("Digabung")
    DISMISSED = "bukan_duplikat", _("Bukan duplikat")
