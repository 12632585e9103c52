from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import CommandError

from dinsos.audit import AuditedCommand
from dinsos.importing import import_submit
from dinsos.tabular import TableError
from pmks.importing import KIND


class Command(AuditedCommand):
    help = "Impor keluarga dan anggotanya dari CSV/XLSX (templat di README). Idempoten."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="periksa saja, tidak menyimpan")
        parser.add_argument("--user", default=None,
                            help="pengguna yang mengimpor (wilayahnya membatasi data); "
                                 "bawaan: superuser pertama")

    def handle(self, *args, file, dry_run, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Berkas tidak ditemukan: {path}")
        users = get_user_model().objects.filter(is_active=True)
        actor = (users.filter(username=user) if user else
                 users.filter(is_superuser=True).order_by("pk")).first()
        if actor is None:
            raise CommandError("Pengguna tidak ditemukan; gunakan --user USERNAME.")
        with path.open("rb") as fh:
            try:
                batch = import_submit(actor=actor, kind=KIND, upload=File(fh, name=path.name),
                                      dry_run=dry_run, run_now=True, command=True)
            except TableError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"{batch.get_status_display()}: {batch.message}")
        for key, value in batch.totals.items():
            self.stdout.write(f"  {key}: {value}")
        for error in batch.errors[:50]:
            self.stdout.write(
                f"  baris {error['row']}, kolom {error['column']}: {error['message']}"
            )
        if len(batch.errors) > 50:
            self.stdout.write(f"  … {len(batch.errors) - 50} kesalahan lain; unduh laporan "
                              f"lengkap di admin (impor #{batch.pk}).")
        if batch.status == batch.Status.FAILED:
            raise CommandError(batch.message)
