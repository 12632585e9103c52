from django.db import models
from django.utils.translation import gettext_lazy as _


class Component(models.TextChoices):
    INSENTIF = "insentif", _("Insentif bulanan")
    OPERASIONAL = "operasional", _("Dana operasional tahunan")


class Unit(models.TextChoices):
    PER_BULAN = "per_bulan", _("per bulan")
    PER_TAHUN = "per_tahun", _("per tahun")


class Schedule(models.TextChoices):
    """How a yearly amount is paid."""

    BULANAN = "bulanan", _("Bulanan (seperdua belas, sisa di bulan terakhir)")
    TRIWULANAN = "triwulanan", _("Triwulanan (Maret, Juni, September, Desember)")
    SEKALI = "sekali", _("Sekali setahun pada bulan tertentu")


class RunStatus(models.TextChoices):
    DRAF = "draf", _("Draf")
    DIHITUNG = "dihitung", _("Dihitung")
    DIVERIFIKASI = "diverifikasi", _("Diverifikasi Keuangan")
    DISETUJUI = "disetujui", _("Disetujui Pimpinan")
    DIBAYAR = "dibayar", _("Dibayar")
    DIBATALKAN = "dibatalkan", _("Dibatalkan")

    @classmethod
    def with_lines(cls) -> list[str]:
        """A run whose lines count as money on its way or paid: computed, not cancelled."""
        return [cls.DIHITUNG, cls.DIVERIFIKASI, cls.DISETUJUI, cls.DIBAYAR]


class LineKind(models.TextChoices):
    REGULAR = "reguler", _("Reguler")
    ARREARS = "rapel", _("Rapel (tunggakan)")
    ADJUSTMENT = "penyesuaian", _("Penyesuaian")
    CARRIED = "saldo_minus", _("Saldo negatif dibawa ke periode berikutnya")
    RECOVERY = "potongan", _("Potongan saldo negatif periode lalu")
    #: the rest of a yearly rate whose last window was approved at the plain part before the
    #: rate that ended it was entered (``services._rest_lines``); ``period`` is that window's
    YEARLY_REST = "sisa_tahunan", _("Sisa tarif tahunan")


class LineStatus(models.TextChoices):
    PAYABLE = "dibayarkan", _("Dapat dibayar")
    HELD = "ditahan", _("Ditahan")


class HoldReason(models.TextChoices):
    NO_ACCOUNT = "tanpa_rekening", _("Belum ada rekening terverifikasi")
    REPORT = "laporan_belum_diterima", _("Laporan bulanan belum diterima")
    SUSPENDED = "tenaga_nonaktif", _("Tenaga berstatus nonaktif")
