from dinsos.audit import AuditedCommand
from dinsos.schedule import periodic_tasks_sync


class Command(AuditedCommand):
    help = "Membuat tugas terjadwal bawaan (yang belum ada) di django-celery-beat."

    def handle(self, *args, **options):
        created = periodic_tasks_sync()
        for name in created:
            self.stdout.write(f"dibuat: {name}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} tugas terjadwal baru."))
