"""Default periodic tasks, declared in one place. ``setup_periodic_tasks`` writes them into
django-celery-beat's tables once; after that the admin owns them (an edited schedule or a
disabled task is never overwritten)."""

from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    crontab: dict  # minute, hour, day_of_month, month_of_year, day_of_week
    description: str
    #: a message the worker receives later than this after beat sent it is dropped (Celery's
    #: ``expires``): a task that reads "today" must not run on another day
    expire_seconds: int | None = None


#: the monthly draft's message expires 6 hours after 01.00 WIB, well inside its own day
DRAFT_EXPIRE_SECONDS = 6 * 3600

DEFAULT_PERIODIC_TASKS: list[Periodic] = [
    Periodic(
        name="Cek pekerja (ping) tiap 5 menit",
        task="dinsos.ping",
        crontab={"minute": "*/5"},
        description="Memastikan beat dan worker berjalan.",
    ),
    Periodic(
        name="Hapus token API yang kedaluwarsa (harian 03.00 WIB)",
        task="dinsos.purge_expired_tokens",
        crontab={"minute": "0", "hour": "3"},
        description="Token kedaluwarsa sudah ditolak saat dipakai; tugas ini menghapus sisanya.",
    ),
    Periodic(
        name="Hapus jawaban Idempotency-Key yang lama (harian 03.30 WIB)",
        task="dinsos.purge_idempotency_keys",
        crontab={"minute": "30", "hour": "3"},
        description="Jawaban tersimpan untuk Idempotency-Key (bisa memuat data pribadi) dihapus "
                    "setelah IDEMPOTENCY_KEY_DAYS hari (bawaan 7).",
    ),
    Periodic(
        name="Hapus berkas impor yang lama (harian 03.45 WIB)",
        task="dinsos.purge_import_files",
        crontab={"minute": "45", "hour": "3"},
        description="Berkas yang diunggah untuk impor (memuat NIK, No. KK, rekening setiap "
                    "baris) dihapus IMPORT_FILE_DAYS hari (bawaan 30) setelah "
                    "diunggah; jumlah dan daftar baris yang ditolak tetap tersimpan.",
    ),
    Periodic(
        name="PMKS: cari kandidat duplikat (harian 02.00 WIB)",
        task="pmks.find_duplicates",
        crontab={"minute": "0", "hour": "2"},
        description="Memindai data orang untuk kandidat duplikat; hasil di admin dan API.",
    ),
    Periodic(
        name="Insentif: hitung draf bulan berjalan (tanggal 25 s.d. akhir bulan, 01.00 WIB)",
        task="incentives.compute_monthly_run",
        # every day from the 25th: a day beat was down is caught up the next day (beat does
        # not send a missed crontab run); the task computes only a month without a run yet
        crontab={"minute": "0", "hour": "1", "day_of_month": "25-31"},
        description="Menghitung draf pembayaran insentif/operasional bulan ini bila bulan ini "
                    "belum punya perhitungan; perhitungan yang sudah ada tidak diubah (hitung "
                    "ulang dari halaman perhitungan). Ubah tanggalnya di sini bila jadwal "
                    "keuangan berubah. Pesan yang terlambat lebih dari 6 jam (worker mati) "
                    "dibuang, agar draf tidak dihitung untuk bulan berikutnya.",
        # the task drafts the month of the day it runs: sent on the 31st and received on the
        # 1st by a worker that was down, it drafted the new month with none of its reports,
        # and later days of the window then left that draft as it was
        expire_seconds=DRAFT_EXPIRE_SECONDS,
    ),
    Periodic(
        name="Insentif: kirim laporan ke keuangan (tiap jam)",
        task="incentives.send_pending_reports",
        crontab={"minute": "15"},
        description="Mengirim daftar nominatif, berkas bank dan ringkasan untuk perhitungan yang "
                    "sudah disetujui dan belum dikirim.",
    ),
]


@transaction.atomic
def periodic_tasks_sync(tasks: list[Periodic] | None = None) -> list[str]:
    """Create the missing default periodic tasks; returns the names created."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = []
    for item in tasks if tasks is not None else DEFAULT_PERIODIC_TASKS:
        if PeriodicTask.objects.filter(name=item.name).exists():
            continue
        fields = {"minute": "0", "hour": "*", "day_of_month": "*", "month_of_year": "*",
                  "day_of_week": "*", **item.crontab}
        schedule, _ = CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)
        PeriodicTask.objects.create(
            name=item.name, task=item.task, crontab=schedule, description=item.description,
            expire_seconds=item.expire_seconds,
        )
        created.append(item.name)
    return created
