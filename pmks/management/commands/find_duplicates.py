from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dinsos.audit import AuditedCommand
from pmks import services


class Command(AuditedCommand):
    help = "Mencari kandidat duplikat orang (nama, tanggal lahir, kecamatan, NIK salah ketik)."

    def add_arguments(self, parser):
        parser.add_argument("--wilayah", help="batasi ke kode wilayah, mis. 36.01")
        parser.add_argument("--user", help="pengguna yang menjalankan (bawaan: superuser)")

    def handle(self, *args, wilayah, user, **options):
        users = get_user_model().objects.filter(is_active=True)
        actor = (users.filter(username=user) if user else
                 users.filter(is_superuser=True).order_by("pk")).first()
        if actor is None:
            raise CommandError("Pengguna tidak ditemukan; gunakan --user USERNAME.")
        scan = services.duplicates_find(user=actor, wilayah=wilayah)
        self.stdout.write(f"{scan.persons} orang diperiksa, {scan.pairs} pasangan kandidat.")
