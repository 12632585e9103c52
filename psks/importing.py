"""Import of workers with their current assignment and bank account (one row per worker).

Each row goes through the same services as the API, inside its own savepoint, so every rule
(NIK agreement, one TKSK per kecamatan, no overlapping assignments, the area of the importing
user) applies and a rejected row leaves nothing behind. Identity: the worker by NIK, the
assignment by worker + role + start date, the account by bank + number + holder; a row equal
to what is stored writes nothing, so importing a file again changes nothing. A dry run does
the same work in a transaction that is rolled back.
"""

import datetime
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dinsos.choices import FundingSource, Sex
from dinsos.importing import Column, Importer, ImportReport, register_importer
from dinsos.models import Office
from dinsos.scoping import ALL, PROVINCE_CODE, ensure_in_area, in_area, user_area
from dinsos.tabular import read_table
from dinsos.validators import normalize_npwp
from psks import services
from psks.choices import Education, Role
from psks.models import Assignment, Bank, BankAccount, Worker

KIND = "psks_tenaga"
CHUNK_SIZE = 500

COLUMNS = [
    Column("nik", _("NIK 16 digit, ketik sebagai teks"), True, "3601011708850003"),
    Column("nama", _("Nama lengkap"), True, "Dede Kurnia"),
    Column("jenis_kelamin", _("L atau P"), True, "L"),
    Column("tanggal_lahir", _("TTTT-BB-HH atau HH-BB-TTTT"), True, "1985-08-17"),
    Column("pendidikan", ", ".join(Education.values), False, "s1"),
    Column("telepon", _("Nomor telepon"), False, "081234567890"),
    Column("alamat", _("Alamat"), False, "Kp. Sumur"),
    Column("kode_desa", _("Kode desa/kelurahan domisili"), True, "36.01.01.2001"),
    Column("npwp", _("NPWP 15/16 digit (boleh kosong)"), False, ""),
    Column("peran", ", ".join(Role.values) + _(" (kosongkan bila tanpa penugasan)"), False,
           "tksk"),
    Column("kode_wilayah_tugas", _("Kode kecamatan (TKSK) atau kecamatan/desa"), False,
           "36.01.01"),
    Column("nomor_sk", _("Nomor SK penugasan"), False, "460/123/Dinsos/2025"),
    Column("tanggal_sk", _("Tanggal SK"), False, "2025-01-02"),
    Column("mulai", _("Tanggal mulai tugas"), False, "2025-01-02"),
    Column("selesai", _("Tanggal akhir tugas (wajib untuk TKSK, paling lama 5 tahun)"), False,
           "2029-12-31"),
    Column("sumber_dana", ", ".join(FundingSource.values), False, "apbd_provinsi"),
    Column("bank", _("Kode bank: ") + "bank_banten, bjb, bri, bni, mandiri, bsi, btn, bca",
           False, "bank_banten"),
    Column("nomor_rekening", _("Nomor rekening, angka saja"), False, "0012345678"),
    Column("nama_pemilik_rekening", _("Nama pemilik rekening"), False, "Dede Kurnia"),
]
REQUIRED = [c.name for c in COLUMNS if c.required]
ASSIGNMENT_COLUMNS = ["peran", "kode_wilayah_tugas", "nomor_sk", "tanggal_sk", "mulai",
                      "sumber_dana"]
ACCOUNT_COLUMNS = ["bank", "nomor_rekening", "nama_pemilik_rekening"]
FIELD_COLUMN = {
    "nik": "nik", "name": "nama", "sex": "jenis_kelamin", "birth_date": "tanggal_lahir",
    "education": "pendidikan", "phone": "telepon", "address": "alamat", "desa": "kode_desa",
    "npwp": "npwp", "role": "peran", "area": "kode_wilayah_tugas",
    "decree_number": "nomor_sk", "decree_date": "tanggal_sk", "start_date": "mulai",
    "end_date": "selesai", "funding_source": "sumber_dana", "worker": "nik",
    "account_number": "nomor_rekening", "holder_name": "nama_pemilik_rekening",
    "bank": "bank", "status": "peran",
}
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


def _date(text: str, column: str) -> datetime.date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError({column: _("tanggal '%(v)s' tidak dikenal; gunakan TTTT-BB-HH")
                           % {"v": text}})


def _choice(values: list[str], text: str, column: str) -> str:
    if text.lower() in [v.lower() for v in values]:
        return next(v for v in values if v.lower() == text.lower())
    raise ValidationError({column: _("nilai '%(v)s' tidak dikenal; pilihan: %(c)s")
                           % {"v": text, "c": ", ".join(values)}})


def _problems(exc: Exception) -> list[tuple[str, str]]:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [(FIELD_COLUMN.get(field, field), " ".join(ValidationError(errors).messages))
                for field, errors in exc.error_dict.items()]
    messages = getattr(exc, "messages", None) or [str(exc)]
    return [("-", " ".join(messages))]


class _Row:
    def __init__(self, values: dict, *, actor, offices: dict):
        self.v, self.actor, self.offices = values, actor, offices
        self.counts: list[str] = []  # applied to the report only if the whole row succeeds

    def get(self, column: str) -> str:
        return (self.v.get(column) or "").strip()

    def run(self) -> None:
        missing = [c for c in REQUIRED if not self.get(c)]
        if missing:
            raise ValidationError({c: _("wajib diisi") for c in missing})
        self._check_area("kode_desa")
        worker = self._worker()
        if any(self.get(c) for c in [*ASSIGNMENT_COLUMNS, "selesai"]):
            if not self.get("peran"):
                raise ValidationError({"peran": _("wajib diisi bila kolom penugasan diisi")})
            self._check_area("kode_wilayah_tugas")
            self._assignment(worker)
        if any(self.get(c) for c in ACCOUNT_COLUMNS):
            self._account(worker)

    def _check_area(self, column: str) -> None:
        code = self.get(column)
        if code and not in_area(self.actor, code):
            try:
                ensure_in_area(self.actor, code)
            except PermissionDenied as exc:
                raise ValidationError({column: str(exc)}) from exc

    def _worker(self) -> Worker:
        data = {
            "name": self.get("nama"),
            "sex": _choice(Sex.values, self.get("jenis_kelamin"), "jenis_kelamin"),
            "birth_date": _date(self.get("tanggal_lahir"), "tanggal_lahir"),
            "education": _choice(Education.values, self.get("pendidikan"), "pendidikan")
            if self.get("pendidikan") else "",
            "phone": self.get("telepon"), "address": self.get("alamat"),
            "desa_id": self.get("kode_desa"), "npwp": self._npwp(),
        }
        worker = Worker.objects.filter(nik=self.get("nik")).first()
        if worker is None:
            self.counts.append("tenaga_baru")
            return services.worker_register(actor=self.actor, nik=self.get("nik"), **data)
        if all(getattr(worker, k) == v for k, v in data.items()):
            self.counts.append("tenaga_tetap")
            return worker
        self.counts.append("tenaga_diubah")
        return services.worker_update(actor=self.actor, worker=worker, **data)

    def _npwp(self) -> str:
        if not self.get("npwp"):
            return ""
        try:
            return normalize_npwp(self.get("npwp"))
        except ValidationError as exc:
            raise ValidationError({"npwp": exc.messages}) from exc

    def _assignment(self, worker: Worker) -> None:
        missing = [c for c in ASSIGNMENT_COLUMNS if not self.get(c)]
        if missing:
            raise ValidationError({c: _("wajib diisi bila peran diisi") for c in missing})
        role = _choice(Role.values, self.get("peran"), "peran")
        start = _date(self.get("mulai"), "mulai")
        data = {
            "area_id": self.get("kode_wilayah_tugas"),
            "decree_number": self.get("nomor_sk"),
            "decree_date": _date(self.get("tanggal_sk"), "tanggal_sk"),
            "end_date": _date(self.get("selesai"), "selesai") if self.get("selesai") else None,
            "funding_source": _choice(FundingSource.values, self.get("sumber_dana"),
                                      "sumber_dana"),
        }
        existing = Assignment.objects.filter(worker=worker, role=role, start_date=start).first()
        if existing is None:
            area = user_area(self.actor)
            office = self.offices[PROVINCE_CODE if area is ALL else area]
            services.assignment_create(actor=self.actor, worker=worker, role=role,
                                       area=data.pop("area_id"), start_date=start,
                                       decree_office=office, **data)
            self.counts.append("penugasan_baru")
        elif all(getattr(existing, k) == v for k, v in data.items()):
            self.counts.append("penugasan_tetap")
        else:
            services.assignment_update(actor=self.actor, assignment=existing, **data)
            self.counts.append("penugasan_diubah")

    def _account(self, worker: Worker) -> None:
        missing = [c for c in ACCOUNT_COLUMNS if not self.get(c)]
        if missing:
            raise ValidationError({c: _("wajib diisi bila rekening diisi") for c in missing})
        bank = Bank.objects.filter(code=self.get("bank").lower()).first()
        if bank is None:
            raise ValidationError({"bank": _("kode bank '%(v)s' tidak dikenal")
                                   % {"v": self.get("bank")}})
        latest = BankAccount.objects.filter(worker=worker).order_by("-created_at", "-id").first()
        same = latest is not None and (latest.bank_id, latest.account_number,
                                       latest.holder_name) == (
            bank.pk, self.get("nomor_rekening"), " ".join(self.get("nama_pemilik_rekening")
                                                          .split()))
        if same:
            self.counts.append("rekening_tetap")
            return
        services.bank_account_add(actor=self.actor, worker=worker, bank=bank,
                                  account_number=self.get("nomor_rekening"),
                                  holder_name=self.get("nama_pemilik_rekening"))
        self.counts.append("rekening_baru_perlu_verifikasi")


def workers_import(*, actor, fileobj, filename: str, dry_run: bool) -> ImportReport:
    report = ImportReport()
    offices = {o.wilayah_id: o for o in Office.objects.all()}
    rows = read_table(fileobj, filename, required=REQUIRED)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        with transaction.atomic():
            for row in chunk:
                report.rows += 1
                work = _Row(row.values, actor=actor, offices=offices)
                try:
                    with transaction.atomic():
                        work.run()
                except (ValidationError, PermissionDenied) as exc:
                    report.reject(row.number, _problems(exc))
                else:
                    for key in work.counts:
                        report.count(key)
            if dry_run:
                transaction.set_rollback(True)
    return report


register_importer(Importer(kind=KIND, label=_("Tenaga PSKS dengan penugasan dan rekening"),
                           columns=COLUMNS, run=workers_import))
