from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from dinsos import services
from dinsos.audit import AuditedCommand


class Command(AuditedCommand):
    help = "Mencabut token API seorang pengguna (semua, atau satu dengan --key)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--key", help="token (atau 15 karakter awalnya) yang dicabut")

    def handle(self, *args, username, key, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"Pengguna '{username}' tidak ditemukan.") from exc
        count = services.token_revoke(user=user, token_key=key)
        self.stdout.write(self.style.SUCCESS(f"{count} token dicabut."))
