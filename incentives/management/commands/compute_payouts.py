from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from dinsos.audit import AuditedCommand
from dinsos.money import format_rupiah
from dinsos.periods import parse_month
from incentives import services


class Command(AuditedCommand):
    help = "Menghitung (ulang) draf pembayaran insentif satu bulan dan mencetak ringkasannya."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM, mis. 2026-11")
        parser.add_argument("--user", help="pengguna yang menghitung (bawaan: tugas sistem)")

    def handle(self, *args, period, user, **options):
        try:
            first = parse_month(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"Pengguna '{user}' tidak ditemukan.")
        try:
            run = services.run_compute(actor=actor, period=first)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        s = run.summary
        self.stdout.write(f"Perhitungan {period} (#{run.pk}): {run.get_status_display()}")
        self.stdout.write(f"  baris: {s['lines']}, dapat dibayar: {s['payable']}, "
                          f"ditahan: {s['held']}")
        self.stdout.write(f"  bruto {format_rupiah(s['gross_payable'])}, "
                          f"PPh 21 {format_rupiah(s['tax_payable'])}, "
                          f"neto {format_rupiah(s['net_payable'])}")
        self.stdout.write("  per komponen dan sumber dana:")
        for row in s["by_component_source"]:
            self.stdout.write(f"    {row['component']:<12} {row['funding_source']:<14} "
                              f"{row['status']:<11} {row['lines']:>6} baris  "
                              f"neto {format_rupiah(row['net'])}")
        if run.ceiling_exceeded:
            self.stdout.write(self.style.WARNING("  PERINGATAN: melampaui pagu anggaran."))
