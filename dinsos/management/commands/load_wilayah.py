from dinsos import services
from dinsos.audit import AuditedCommand


class Command(AuditedCommand):
    help = "Memuat/menyegarkan pohon wilayah Banten (Kemendagri) dan kantor dinas. Idempoten."

    def handle(self, *args, **options):
        count = services.wilayah_load()
        offices = services.offices_ensure()
        self.stdout.write(self.style.SUCCESS(f"{count} wilayah dimuat, {offices} kantor dinas."))
