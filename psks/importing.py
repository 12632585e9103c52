"""Import of workers with their current assignment and bank account (one row per worker).

Cells are read by the kernel's shared parsers (identity numbers refused when Excel stored them
as numbers, dates as staff type them, KK/SIAK sex labels), and every problem of a row is
reported at once. Then the row goes through the same services as the API, inside its own
savepoint, so every rule (NIK agreement, one TKSK per kecamatan, no overlapping assignments, the
area of the importing user) applies and a rejected row leaves nothing behind; the whole file is
one transaction (dinsos.importing). Identity: the worker by NIK, the assignment by worker + role
+ start date, the account by bank + number + holder; a row equal to what is stored writes
nothing, so importing a file again changes nothing (a name that differs only in case keeps its
stored spelling). A dry run does the same work in a transaction that is rolled back.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dinsos import names
from dinsos.choices import FundingSource
from dinsos.importing import (
    Column,
    Importer,
    ImportReport,
    already_registered,
    identity_number,
    length_problems,
    max_lengths,
    nik_problems,
    parse_date,
    parse_sex,
    register_importer,
    report_progress,
)
from dinsos.models import Office
from dinsos.scoping import ALL, PROVINCE_CODE, ensure_in_area, in_area, user_area
from dinsos.tabular import TableRow
from dinsos.validators import normalize_npwp
from psks import services
from psks.choices import Education, Role
from psks.models import Assignment, Bank, BankAccount, Worker

KIND = "psks_tenaga"

COLUMNS = [
    Column("nik", _("NIK 16 digit, kolom bertipe Teks"), True, "3601011708850003",
           ("No. NIK", "Nomor NIK", "Nomor Induk Kependudukan"), text=True),
    Column("nama", _("Nama lengkap"), True, "Dede Kurnia", ("Nama Lengkap",)),
    Column("jenis_kelamin", _("L atau P (juga Laki-laki/Perempuan, LK/PR, 1/2)"), True, "L",
           ("JK", "L/P", "Kelamin")),
    Column("tanggal_lahir", _("Hari dulu: 17-08-1985, 17 Agustus 1985 atau 1985-08-17"), True,
           "17-08-1985", ("Tgl Lahir", "Tgl. Lahir")),
    Column("pendidikan", ", ".join(Education.values), False, "s1"),
    Column("telepon", _("Nomor telepon"), False, "081234567890", ("No. HP", "No HP", "HP"),
           text=True),
    Column("alamat", _("Alamat"), False, "Kp. Sumur"),
    Column("kode_desa", _("Kode desa/kelurahan domisili"), True, "36.01.01.2001",
           ("Kode Desa/Kelurahan", "Kode Kelurahan")),
    Column("npwp", _("NPWP 15/16 digit (boleh kosong), kolom bertipe Teks"), False, "",
           text=True),
    Column("peran", ", ".join(Role.values) + _(" (kosongkan bila tanpa penugasan)"), False,
           "tksk"),
    Column("kode_wilayah_tugas", _("Kode kecamatan (TKSK) atau kecamatan/desa"), False,
           "36.01.01"),
    Column("nomor_sk", _("Nomor SK penugasan"), False, "460/123/Dinsos/2025", ("No. SK",)),
    Column("tanggal_sk", _("Tanggal SK"), False, "02-01-2025", ("Tgl SK",)),
    Column("mulai", _("Tanggal mulai tugas"), False, "02-01-2025"),
    Column("selesai", _("Tanggal akhir tugas (wajib untuk TKSK, paling lama 5 tahun)"), False,
           "31-12-2029"),
    Column("sumber_dana", ", ".join(FundingSource.values), False, "apbd_provinsi"),
    Column("bank", _("Kode bank: ") + "bank_banten, bjb, bri, bni, mandiri, bsi, btn, bca",
           False, "bank_banten"),
    Column("nomor_rekening", _("Nomor rekening, angka saja, kolom bertipe Teks"), False,
           "0012345678", ("No. Rekening", "Nomor Rek", "No Rek"), text=True),
    Column("nama_pemilik_rekening", _("Nama pemilik rekening"), False, "Dede Kurnia"),
]
REQUIRED = [c.name for c in COLUMNS if c.required]
#: the text columns stored as they are, each with its field's max_length
TEXT_LIMITS = max_lengths({
    "nama": (Worker, "name"), "telepon": (Worker, "phone"), "alamat": (Worker, "address"),
    "nomor_sk": (Assignment, "decree_number"),
    "nama_pemilik_rekening": (BankAccount, "holder_name")})
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


def _choice(values: list[str], text: str) -> str:
    if text.lower() in [v.lower() for v in values]:
        return next(v for v in values if v.lower() == text.lower())
    raise ValueError(_("nilai '%(v)s' tidak dikenal; pilihan: %(c)s")
                     % {"v": text, "c": ", ".join(values)})


class IdentityClash(Exception):
    def __init__(self, *, stored: str, new: str):
        super().__init__(stored, new)
        self.stored, self.new = stored, new


def _problems(exc: Exception) -> list[tuple[str, str]]:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [(FIELD_COLUMN.get(field, field), " ".join(ValidationError(errors).messages))
                for field, errors in exc.error_dict.items()]
    # a write outside the importer's area: the row's wilayah (its desa; the assignment's
    # area is checked on its own column before any service runs)
    messages = getattr(exc, "messages", None) or [str(exc)]
    return [("kode_desa" if isinstance(exc, PermissionDenied) else "-", " ".join(messages))]


class _Row:
    def __init__(self, row: TableRow, *, actor, offices: dict):
        self.row, self.v, self.actor, self.offices = row, row.values, actor, offices
        self.counts: list[str] = []  # applied to the report only if the whole row succeeds
        self.data: dict = {}
        self.problems: dict[str, list[str]] = {}
        for column, message in [*row.problems, *length_problems(row.values, TEXT_LIMITS)]:
            self.problems.setdefault(column, []).append(message)

    def get(self, column: str) -> str:
        return (self.v.get(column) or "").strip()

    def _read(self, column: str, parse, *, required=False):
        """Parse one cell; a problem is kept (all of a row are reported together)."""
        if not self.get(column):
            if required:
                self.problems.setdefault(column, []).append(_("wajib diisi"))
            return None
        try:
            return parse(self.get(column))
        except (ValueError, ValidationError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            self.problems.setdefault(column, []).extend(messages)
            return None

    def parse(self) -> None:
        row, text = self.row, (lambda t: t)
        nik = self._read("nik", lambda _t: identity_number(row, "nik", label="NIK",
                                                         digits_only=True),
                         required=True)
        sex = self._read("jenis_kelamin", parse_sex, required=True)
        born = self._read("tanggal_lahir",
                          lambda _t: parse_date(row, "tanggal_lahir", birth=True), required=True)
        if nik:
            for message in nik_problems(nik, birth_date=born, sex=sex):
                self.problems.setdefault("nik", []).append(message)
        self.data = {
            "nik": nik, "name": " ".join(self.get("nama").split()), "sex": sex,
            "birth_date": born,
            "education": self._read("pendidikan", lambda t: _choice(Education.values, t)) or "",
            "phone": self.get("telepon"), "address": self.get("alamat"),
            "desa_id": self._read("kode_desa", text, required=True),
            "npwp": self._read("npwp", lambda _t: normalize_npwp(
                identity_number(row, "npwp", label="NPWP"))) or "",
        }
        self._read("nama", text, required=True)
        self.with_assignment = any(self.get(c) for c in [*ASSIGNMENT_COLUMNS, "selesai"])
        if self.with_assignment:
            for column in ASSIGNMENT_COLUMNS:
                if not self.get(column):
                    self.problems.setdefault(column, []).append(
                        _("wajib diisi bila kolom penugasan diisi") if column == "peran"
                        else _("wajib diisi bila peran diisi"))
            self.assignment = {
                "role": self._read("peran", lambda t: _choice(Role.values, t)),
                "area_id": self.get("kode_wilayah_tugas"),
                "decree_number": self.get("nomor_sk"),
                "decree_date": self._read("tanggal_sk", lambda _t: parse_date(row, "tanggal_sk")),
                "start_date": self._read("mulai", lambda _t: parse_date(row, "mulai")),
                "end_date": self._read("selesai", lambda _t: parse_date(row, "selesai")),
                "funding_source": self._read(
                    "sumber_dana", lambda t: _choice(FundingSource.values, t)),
            }
        self.with_account = any(self.get(c) for c in ACCOUNT_COLUMNS)
        if self.with_account:
            for column in ACCOUNT_COLUMNS:
                if not self.get(column):
                    self.problems.setdefault(column, []).append(
                        _("wajib diisi bila rekening diisi"))
            self.account_number = self._read(
                "nomor_rekening",
                lambda _t: identity_number(row, "nomor_rekening", label=_("Nomor rekening")))
        for column in ("kode_desa", "kode_wilayah_tugas"):
            self._check_area(column)
        if self.problems:
            raise ValidationError({c: " ".join(m) for c, m in self.problems.items()})

    def run(self) -> None:
        self.parse()
        worker = self._worker()
        if self.with_assignment:
            self._assignment(worker)
        if self.with_account:
            self._account(worker)

    def _check_area(self, column: str) -> None:
        code = self.get(column)
        if code and not in_area(self.actor, code):
            try:
                ensure_in_area(self.actor, code)
            except PermissionDenied as exc:
                self.problems.setdefault(column, []).append(str(exc))

    def _worker(self) -> Worker:
        data = {k: v for k, v in self.data.items() if k != "nik"}
        worker = Worker.objects.filter(nik=self.data["nik"]).first()
        if worker is not None and not in_area(self.actor, worker.desa_id):
            # another district's worker: as any registration of an existing NIK, before any
            # comparison — its name and desa are not the importer's to read
            raise ValidationError({"nik": already_registered(Worker, "nik")})
        if worker is None:
            self.counts.append("tenaga_baru")
            return services.worker_register(actor=self.actor, nik=self.data["nik"], **data)
        if not names.same_name(worker.name, data["name"]):
            raise IdentityClash(stored=worker.name, new=data["name"])
        if worker.name.casefold() == data["name"].casefold():
            data["name"] = worker.name  # only the case differs: keep the stored spelling
        if all(getattr(worker, k) == v for k, v in data.items()):
            self.counts.append("tenaga_tetap")
            return worker
        self.counts.append("tenaga_diubah")
        return services.worker_update(actor=self.actor, worker=worker, **data)

    def _assignment(self, worker: Worker) -> None:
        data = dict(self.assignment)
        role, start = data.pop("role"), data.pop("start_date")
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
        bank = Bank.objects.filter(code=self.get("bank").lower()).first()
        if bank is None:
            raise ValidationError({"bank": _("kode bank '%(v)s' tidak dikenal")
                                   % {"v": self.get("bank")}})
        holder = " ".join(self.get("nama_pemilik_rekening").split())
        latest = BankAccount.objects.filter(worker=worker).order_by("-created_at", "-id").first()
        if latest is not None and (latest.bank_id, latest.account_number, latest.holder_name) == (
                bank.pk, self.account_number, holder):
            self.counts.append("rekening_tetap")
            return
        services.bank_account_add(actor=self.actor, worker=worker, bank=bank,
                                  account_number=self.account_number, holder_name=holder)
        self.counts.append("rekening_baru_perlu_verifikasi")


def workers_import(*, actor, fileobj, filename: str, dry_run: bool) -> ImportReport:
    report = ImportReport()
    offices = {o.wilayah_id: o for o in Office.objects.all()}
    table = IMPORTER.read(fileobj, filename)
    report.notes = table.notes
    with transaction.atomic():  # all or nothing (import_run holds the same transaction)
        for row in table:
            report.rows += 1
            if report.rows % 500 == 0:
                report_progress(report.rows)
            work = _Row(row, actor=actor, offices=offices)
            try:
                with transaction.atomic():
                    work.run()
            except IdentityClash as clash:
                report.hold_identity_clash(row.number, stored=clash.stored, new=clash.new)
            except (ValidationError, PermissionDenied) as exc:
                report.reject(row.number, _problems(exc))
            else:
                for key in work.counts:
                    report.count(key)
        if dry_run:
            transaction.set_rollback(True)
    return report


IMPORTER = register_importer(Importer(
    kind=KIND, label=_("Tenaga PSKS dengan penugasan dan rekening"), columns=COLUMNS,
    run=workers_import, model="psks.Worker"))
