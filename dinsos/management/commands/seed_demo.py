from django.conf import settings

from dinsos.audit import AuditedCommand
from dinsos.demo import seed_all


class Command(AuditedCommand):
    help = (
        "Mengisi data demo (kantor, akun demo per peran dan per kab/kota, data tiap modul). "
        "Idempoten."
    )

    def handle(self, *args, **options):
        password, generated, accounts = seed_all()
        self.stdout.write(self.style.SUCCESS("Data demo siap."))
        self.stdout.write("Akun demo (kata sandi sama untuk semua akun):")
        for acc in accounts:
            self.stdout.write(f"  {acc.username:<24} {acc.role:<18} {acc.office}")
        note = " (baru dibuat, disimpan di var/demo-password)" if generated else ""
        self.stdout.write(f"Kata sandi: {password}{note}")
        self.stdout.write(f"Buka http://127.0.0.1:{settings.WEB_PORT}/  (admin: /admin/, "
                          "API: /api/docs/)")
