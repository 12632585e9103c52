from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dinsos import services
from dinsos.audit import AuditedCommand
from dinsos.money import format_waktu


class Command(AuditedCommand):
    help = "Menerbitkan token API untuk pengguna (klien mesin kab/kota). Kunci hanya tampil sekali."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=90, help="masa berlaku (hari), 1–366")

    def handle(self, *args, username, days, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"Pengguna '{username}' tidak ditemukan.") from exc
        try:
            token, key = services.token_issue(user=user, days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Token untuk {username}, berlaku sampai "
                          f"{format_waktu(token.expiry)}.")
        self.stderr.write("Simpan sekarang; hanya hash-nya yang disimpan. Kirim sebagai header:")
        self.stderr.write("  Authorization: Token <kunci>")
        self.stdout.write(key)
