"""Import of households with their members (one row per person) from CSV/XLSX.

The whole file is one transaction (dinsos.importing): a failing batch stores nothing. Rows
stream in chunks: per chunk one query finds the existing households, one the existing persons,
then new rows are inserted in bulk and changed rows updated in bulk; unchanged rows write
nothing, so importing the same file again changes nothing. The rules that follow a saved person
(open cases follow their person, a head who left is no longer head, a new head is set) are the
services' own ``persons_after_save``, and open cases of a moved household follow it
(``cases_follow``). Identity is the No. KK for a household and the NIK for a
person (a person without NIK is matched by household, normalised name and birth date). A row
that would give a stored NIK a different person's name is held for review, not applied; a name
that differs only in case keeps its stored spelling. A household's DTKS lists (``aset``,
``program``) are household columns: read by ``HouseholdLists``, the same on each of its rows.
Every rejected row is reported with its row number, columns and reasons, all at once.
"""

import datetime
import json
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache, lru_cache, partial
from itertools import islice

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dinsos import audit, names
from dinsos.choices import DESA_KELURAHAN
from dinsos.importing import (
    SEX_LABELS,
    Column,
    Importer,
    ImportReport,
    already_registered,
    identity_number,
    length_problems,
    max_lengths,
    nik_problems,
    parse_date,
    parse_label,
    parse_sex,
    register_importer,
    report_progress,
)
from dinsos.models import Wilayah
from dinsos.scoping import ALL, user_area
from dinsos.tabular import SeenKeys, TableRow
from dinsos.validators import ascii_int, nik_sex, validate_no_kk
from pmks import choices
from pmks.models import Household, Person
from pmks.services import cases_follow, lock_households, persons_after_save

KIND = "pmks_keluarga"
CHUNK_SIZE = 1000

COLUMNS = [
    Column("no_kk", _("No. KK, 16 digit, kolom bertipe Teks"), True, "3601011503150001",
           ("No. KK", "No KK", "Nomor KK", "NIK KK", "No. Kartu Keluarga",
            "Nomor Kartu Keluarga", "NO_KK"), text=True),
    Column("alamat", _("Alamat sesuai KK"), True, "Kp. Sumur RT 01"),
    Column("rt", _("RT"), False, "001", ("NO_RT",)),
    Column("rw", _("RW"), False, "002", ("NO_RW",)),
    Column("kode_desa", _("Kode Kemendagri desa/kelurahan, mis. 36.01.01.2001"), True,
           "36.01.01.2001", ("Kode Desa/Kelurahan", "Kode Kelurahan", "Kode Desa/Kel")),
    Column("desil", _("Desil DTSEN 1–10 (boleh kosong)"), False, "1"),
    Column("lantai", ", ".join(choices.Floor.values), False, "tanah"),
    Column("dinding", ", ".join(choices.Wall.values), False, "bambu"),
    Column("sumber_air", ", ".join(choices.WaterSource.values), False, "sumur_terlindung"),
    Column("penerangan", ", ".join(choices.Lighting.values), False, "pln_450"),
    Column("bahan_bakar", ", ".join(choices.CookingFuel.values), False, "kayu"),
    Column("jamban", ", ".join(choices.Toilet.values), False, "bersama"),
    Column("nik", _("NIK 16 digit (kosongkan bila tanpa NIK), kolom bertipe Teks"), False,
           "3601015708800001", ("No. NIK", "Nomor NIK", "Nomor Induk Kependudukan"),
           text=True),
    Column("nama", _("Nama lengkap"), True, "Siti Aminah", ("Nama Lengkap", "NAMA_LGKP")),
    Column("tempat_lahir", _("Tempat lahir"), False, "Pandeglang", ("TMPT_LHR", "Tmp Lahir")),
    Column("tanggal_lahir", _("Tanggal lahir, hari dulu: 17-08-1980, 17 Agustus 1980 atau "
                              "1980-08-17"), True, "17-08-1980",
           ("Tgl Lahir", "TGL_LHR", "Tgl. Lahir")),
    Column("jenis_kelamin", _("L atau P (juga Laki-laki/Perempuan, LK/PR, 1/2)"), True, "P",
           ("JK", "L/P", "JENIS_KLMIN", "Kelamin")),
    Column("hubungan", ", ".join(choices.Relationship.values)
           + _(" (juga label dan kode 1–11 di KK: Kepala Keluarga, Suami, Istri, Anak…)"),
           False, "kepala", ("Hubungan Keluarga", "Hubungan dengan Kepala Keluarga", "SHDK",
                             "STAT_HBKEL", "Status Hubungan Dalam Keluarga", "Hub. Keluarga")),
    Column("disabilitas", ", ".join(choices.Disability.values), False, "tidak"),
    Column("pendidikan", ", ".join(choices.Schooling.values), False, "sd"),
    Column("pekerjaan", _("Pekerjaan"), False, "Buruh tani", ("JENIS_PKRJN",)),
    Column("status_kawin", ", ".join(choices.MaritalStatus.values)
           + _(" (juga label dan kode 1–4 SIAK: Belum Kawin, Kawin, Cerai Hidup, Cerai Mati); "
               "kosong: tidak diketahui"),
           False, "kawin", ("STATUS_KAWIN", "Status Perkawinan", "Status Kawin", "STAT_KWN")),
    Column("penyakit_kronis", ", ".join(choices.ChronicIllness.values)
           + _(" (penyakit kronis/menahun); kosong: tidak diketahui"), False, "tidak",
           ("Penyakit Kronis", "Penyakit Kronis/Menahun", "Penyakit Menahun")),
    # the household's DTKS lists, last: a file without them fingerprints as before (staging)
    Column("aset", _("Aset keluarga: kode (GET /api/v1/pmks/assets/) atau nama, dipisah titik "
                     "koma (;) atau koma; kosong: tidak ada aset"), False,
           "tabung-gas;sepeda-motor", ("Aset", "Aset Keluarga", "Kepemilikan Aset")),
    Column("program", _("Program bantuan yang diikuti keluarga: kode (GET "
                        "/api/v1/pmks/programs/) atau nama, dipisah titik koma (;) atau koma; "
                        "kosong: tidak ada"), False, "pkh;kis-pbi-jk",
           ("Program", "Program Bantuan", "Kepesertaan Program")),
]
REQUIRED = [c.name for c in COLUMNS if c.required]

HOUSEHOLD_MAP = {
    "no_kk": "no_kk", "alamat": "address", "rt": "rt", "rw": "rw", "kode_desa": "desa_id",
    "desil": "decile", "lantai": "floor", "dinding": "wall", "sumber_air": "water_source",
    "penerangan": "lighting", "bahan_bakar": "cooking_fuel", "jamban": "toilet",
}
PERSON_MAP = {
    "nik": "nik", "nama": "name", "tempat_lahir": "birth_place", "tanggal_lahir": "birth_date",
    "jenis_kelamin": "sex", "hubungan": "relationship", "disabilitas": "disability",
    "pendidikan": "schooling", "pekerjaan": "occupation", "status_kawin": "marital_status",
    "penyakit_kronis": "chronic_illness",
}
CHOICE_COLUMNS = {
    "lantai": choices.Floor, "dinding": choices.Wall, "sumber_air": choices.WaterSource,
    "penerangan": choices.Lighting, "bahan_bakar": choices.CookingFuel,
    "jamban": choices.Toilet, "hubungan": choices.Relationship,
    "disabilitas": choices.Disability, "pendidikan": choices.Schooling,
    "status_kawin": choices.MaritalStatus, "penyakit_kronis": choices.ChronicIllness,
}
#: the optional columns a file may leave out (a district's own export without the housing or
#: schooling columns, a file made before a column was added): a file without one changes
#: nothing of what its households and persons hold (the row path leaves the field out of the
#: row's fields, the COPY path stages NULL and keeps the stored value); an empty cell in the
#: column does clear it (unknown). Not the NIK: a person is found by it.
KEPT_WHEN_ABSENT = tuple(c.name for c in COLUMNS if not c.required and c.name != "nik")
HOUSEHOLD_FIELDS = [f for f in HOUSEHOLD_MAP.values() if f != "no_kk"]
#: the household's DTKS lists (``pmks.services.HOUSEHOLD_LISTS``): file column → list. A cell
#: is read as the list's sorted codes joined by ";" ("" for none: ``HouseholdLists.read``);
#: household columns like the others: every row of a No. KK must agree
LIST_COLUMNS = {"aset": "assets", "program": "programs"}
LIST_FIELDS = tuple(LIST_COLUMNS.values())
PERSON_FIELDS = [f for f in PERSON_MAP.values() if f != "nik"] + ["desa_id", "name_key",
                                                                  "household_id"]
R = choices.Relationship
#: Relationship to the head as printed on a Kartu Keluarga and coded in SIAK (1–11).
KK_RELATIONSHIP = {
    "1": R.KEPALA, "kepala keluarga": R.KEPALA, "kk": R.KEPALA,
    "2": R.PASANGAN, "suami": R.PASANGAN, "3": R.PASANGAN, "istri": R.PASANGAN,
    "isteri": R.PASANGAN, "suami istri": R.PASANGAN,
    "4": R.ANAK, "anak kandung": R.ANAK, "anak angkat": R.ANAK, "anak tiri": R.ANAK,
    "5": R.MENANTU, "6": R.CUCU, "7": R.ORANG_TUA, "orang tua": R.ORANG_TUA,
    "orangtua": R.ORANG_TUA, "8": R.MERTUA, "9": R.FAMILI, "famili lain": R.FAMILI,
    "10": R.LAINNYA, "pembantu": R.LAINNYA, "11": R.LAINNYA,
}
M = choices.MaritalStatus
#: Status perkawinan as coded in SIAK (1–4); its labels are the choices' own.
SIAK_MARITAL_STATUS = {"1": M.BELUM_KAWIN, "2": M.KAWIN, "3": M.CERAI_HIDUP, "4": M.CERAI_MATI}
MARITAL_STATUS_LABELS = {
    **SIAK_MARITAL_STATUS, "kawin tercatat": M.KAWIN, "kawin belum tercatat": M.KAWIN,
    "cerai hidup tercatat": M.CERAI_HIDUP, "cerai hidup belum tercatat": M.CERAI_HIDUP,
}
C = choices.ChronicIllness
#: the everyday names of the DTKS form's illnesses
CHRONIC_ILLNESS_LABELS = {
    "darah tinggi": C.HIPERTENSI, "kencing manis": C.DIABETES, "tuberkulosis": C.TBC,
    "tidak": C.TIDAK,
}


@cache
def _labels(enum) -> dict[str, str]:
    """Codes and Indonesian labels of a choice list (never the UI language), built once."""
    table = {}
    with translation.override("id"):
        for value, label in enum.choices:
            for text in (value, str(label)):  # the key parse_label looks up
                table[" ".join(re.findall(r"[0-9a-z]+", text.lower()))] = value
    if enum is choices.Relationship:
        table.update(KK_RELATIONSHIP)
    elif enum is choices.MaritalStatus:
        table.update(MARITAL_STATUS_LABELS)
    elif enum is choices.ChronicIllness:
        table.update(CHRONIC_ILLNESS_LABELS)
    return table


@lru_cache(maxsize=4096)  # pure; the same few labels on every row
def _choice(enum, text: str) -> str:
    return parse_label(text, _labels(enum), enum.values)


#: what separates the entries of a list cell: ";" (what the household export writes), ","
#: or a line break (Alt+Enter in Excel)
LIST_SEPARATOR = re.compile(r"[;,\r\n]")


def list_key(text: str) -> str:
    """How an entry of a list cell is looked up: lower case, "-" and "_" read as spaces, runs
    of spaces as one (``Stage._list_sql`` computes the same in SQL for ASCII cells)."""
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


class HouseholdLists:
    """Reads the ``aset`` and ``program`` cells against the DTKS lists (``pmks.Asset``,
    ``pmks.Program``: read once per import, so an entry the province adds is known to the
    next import). An entry is the code (what the API, the filters and the household export
    speak) or the name, whole or before its parenthesis ("KIS/PBI JK"), in any case; entries
    are separated by ``LIST_SEPARATOR`` (a name that holds a separator itself — "Tabung gas
    5,5 kg…" — is read whole first); an entry named twice counts once."""

    def __init__(self):
        from pmks.models import Asset, Program

        self.nouns = {"aset": _("aset"), "program": _("program bantuan")}
        self.keys, self.pks, self.whole = {}, {}, {}
        #: {column: a PostgreSQL regular expression that finds any name of ``whole`` in a
        #: cell}: the fast lane (``Stage._list_sql``) leaves such a cell to ``read``
        self.whole_sql: dict[str, str] = {}
        for column, model in (("aset", Asset), ("program", Program)):
            keys, pks, whole, whole_sql = {}, {}, [], []
            for pk, code, name in model.objects.values_list("pk", "code", "name"):
                pks[code] = pk
                for text in (name, name.split(" (")[0], code):  # the code wins a clash
                    keys[list_key(text)] = code
                    if LIST_SEPARATOR.search(text):
                        whole.append((re.compile(r"\s+".join(
                            re.escape(part) for part in text.split()), re.IGNORECASE), code))
                        whole_sql.append(r"\s+".join(
                            re.sub(r"(\W)", r"\\\1", part) for part in text.split()))
            self.keys[column], self.pks[LIST_COLUMNS[column]], self.whole[column] = (
                keys, pks, whole)
            if whole_sql:
                self.whole_sql[column] = "|".join(f"(?:{p})" for p in whole_sql)
        self.cache: dict = {}

    def read(self, column: str, text: str) -> str:
        """The cell's codes, sorted and joined by ";" ("" for an empty cell); ValueError
        naming the entries that are no code or name of the list."""
        found = self.cache.get((column, text))
        if found is None:
            found = self.cache[column, text] = self._read(column, text)
        if isinstance(found, ValueError):
            raise found
        return found

    def _read(self, column: str, text: str):
        for pattern, code in self.whole[column]:
            text = pattern.sub(code, text)
        keys, codes, unknown = self.keys[column], set(), []
        for entry in LIST_SEPARATOR.split(text):
            if key := list_key(entry):
                if key in keys:
                    codes.add(keys[key])
                elif entry.strip() not in unknown:
                    unknown.append(entry.strip())
        if unknown:
            return ValueError(_(
                "%(noun)s tidak dikenal: %(codes)s; isi kode atau nama dari daftar %(noun)s, "
                "dipisah titik koma") % {"noun": self.nouns[column],
                                          "codes": ", ".join(f"'{u}'" for u in unknown)})
        return ";".join(sorted(codes))

    def lookup(self) -> list[tuple[str, str, str]]:
        """(column, key, code) of every key, for the COPY path's fast lane."""
        return [(column, key, code) for column, keys in self.keys.items()
                for key, code in keys.items()]


_TEXT, _IDENTITY, _CHOICE, _SEX, _DATE, _DECILE = range(6)
_EMPTY_IS_NULL = {"decile", "nik", "birth_date", "sex"}


def _kind(column: str) -> int:
    if column in ("nik", "no_kk"):
        return _IDENTITY
    if column in CHOICE_COLUMNS:
        return _CHOICE
    return {"jenis_kelamin": _SEX, "tanggal_lahir": _DATE, "desil": _DECILE}.get(column, _TEXT)


#: How each column is read: (column, field, household?, kind, value when empty), built once.
_PLAN = [(column, target, column in HOUSEHOLD_MAP, _kind(column),
          None if target in _EMPTY_IS_NULL else "")
         for column, target in [*HOUSEHOLD_MAP.items(), *PERSON_MAP.items()]]
#: The text columns stored as they are, each with its field's max_length (the desa code is
#: checked against the known codes instead); the fast lane checks the same limits in SQL.
TEXT_LIMITS = max_lengths({
    column: (Household if household else Person, target)
    for column, target, household, kind, _empty in _PLAN
    if kind == _TEXT and column != "kode_desa"})


def parse_row(row: TableRow, desa_codes: set[str], *, lists: HouseholdLists,
              today: datetime.date | None = None) -> tuple[dict, dict, list[tuple[str, str]]]:
    """One row → (household fields, person fields, [(column, message)]): every problem of the
    row at once. Cheap per row: each column's reader is chosen once (``_PLAN``) and labels,
    dates and name keys are cached. ``lists``: the import's reader of the DTKS lists."""
    values = row.values
    problems: list[tuple[str, str]] = list(row.problems)
    for column in REQUIRED:
        if not values.get(column, "").strip():
            problems.append((column, _("wajib diisi")))
    problems += length_problems(values, TEXT_LIMITS)
    household, person = {}, {}
    for column, target, to_household, kind, empty in _PLAN:
        if column in KEPT_WHEN_ABSENT and column not in values:
            continue  # a file without the column: the stored value stays
        text = values.get(column, "").strip()
        into = household if to_household else person
        if not text:
            into[target] = empty
            continue
        if kind == _TEXT:
            into[target] = text
            continue
        try:
            if kind == _IDENTITY:
                into[target] = identity_number(row, column, label=column.upper().replace(
                    "_", ". "), digits_only=True)
            elif kind == _CHOICE:
                into[target] = _choice(CHOICE_COLUMNS[column], text)
            elif kind == _SEX:
                into[target] = parse_sex(text)
            elif kind == _DATE:
                into[target] = parse_date(row, column, birth=True, today=today)
            else:
                if (decile := ascii_int(text)) is None or not 1 <= decile <= 10:
                    raise ValueError(_("desil harus 1 sampai 10"))
                into[target] = decile
        except ValueError as exc:
            into[target] = None
            problems.append((column, str(exc)))
    for column, target in LIST_COLUMNS.items():
        if column in values:  # absent: the stored list stays
            try:
                household[target] = lists.read(column, values[column])
            except ValueError as exc:
                problems.append((column, str(exc)))
    if household.get("no_kk"):
        try:
            validate_no_kk(household["no_kk"])
        except ValidationError as exc:
            problems.append(("no_kk", " ".join(exc.messages)))
    desa = household.get("desa_id")
    if desa and desa not in desa_codes:
        problems.append(("kode_desa", _("kode desa/kelurahan '%(v)s' tidak dikenal atau di luar "
                                        "wilayah kerja Anda") % {"v": desa}))
    if person.get("nik"):
        problems += [("nik", message) for message in nik_problems(
            person["nik"], birth_date=person.get("birth_date"), sex=person.get("sex"))]
    if "disability" in person and not person["disability"]:  # absent: the stored value stays
        person["disability"] = choices.Disability.TIDAK
    person["desa_id"] = desa
    person["name"] = " ".join((person.get("name") or "").split())
    person["name_key"] = names.name_key(person["name"])
    return household, person, problems


def _changes(obj, data: dict, fields: list[str]) -> dict:
    return {
        f: [getattr(obj, f), data[f]]
        for f in fields
        if f in data and getattr(obj, f) != data[f]
    }




#: a second row of one person, one of the two without NIK (``_Chunk._consistent``,
#: ``Stage.check``): a row without NIK finds the member by name and birth date
SAME_PERSON = gettext_lazy("orang tanpa NIK yang sama (nama dan tanggal lahir) dengan baris "
                           "%(n)d untuk No. KK yang sama; isi NIK-nya, atau hapus baris ganda ini")
#: a row without NIK whose member (by name and birth date) is recorded outside the importer's
#: area, or whose sex his stored NIK contradicts (``_Chunk.run``, ``Stage._stored_checks``):
#: what the row could not do with the NIK, it does not do without it
MATCHED_OUTSIDE = gettext_lazy("orang ini (nama dan tanggal lahir di No. KK ini) tercatat di luar "
                               "wilayah kerja Anda; datanya diubah oleh kab/kota tempatnya "
                               "tercatat")
MATCHED_SEX = gettext_lazy("tidak sesuai dengan NIK yang tercatat untuk orang ini (nama dan "
                           "tanggal lahir di No. KK ini)")


#: a second kepala keluarga row for one No. KK (``_Chunk._consistent``, ``Stage.check``)
KEPALA_TWICE = gettext_lazy("kepala keluarga kedua untuk No. KK yang sama (baris %(n)d sudah "
                            "kepala keluarga); satu KK hanya mempunyai satu kepala keluarga: "
                            "perbaiki hubungan salah satu baris")
#: a kepala row for a stored household that has another kepala (``_Chunk._one_kepala``,
#: ``Stage.one_kepala``); never naming that person, who may live in another area
KEPALA_STORED = gettext_lazy(
    "No. KK ini sudah mempunyai kepala keluarga lain yang tercatat; ubah dulu hubungan kepala "
    "keluarga yang tercatat (di berkas ini, pada baris sebelum atau bersama baris ini, atau di "
    "halaman orangnya), atau catat status meninggal/pindahnya, lalu impor lagi")


class _Chunk:
    def __init__(self, rows, *, actor, report: ImportReport, desa_codes, dry_run, seen,
                 lists: HouseholdLists):
        self.rows, self.actor, self.report, self.seen = rows, actor, report, seen
        self.desa_codes, self.dry_run, self.lists = desa_codes, dry_run, lists
        self.area = user_area(actor)

    def _outside(self, desa_id: str) -> bool:
        return self.area is not ALL and not (desa_id == self.area
                                             or desa_id.startswith(f"{self.area}."))

    def run(self) -> None:
        parsed = []
        for row in self.rows:
            household, person, problems = parse_row(row, self.desa_codes, lists=self.lists)
            if problems:
                self.report.reject(row.number, problems)
            else:
                parsed.append((row.number, household, person))
        parsed = self._consistent(parsed)
        existing_households = Household.objects.in_bulk(
            {h["no_kk"] for _n, h, _p in parsed}, field_name="no_kk")
        existing_persons = Person.objects.in_bulk(
            {p["nik"] for _n, _h, p in parsed if p["nik"]}, field_name="nik")
        by_name = _by_name([h.pk for h in existing_households.values()]) if any(
            not p["nik"] for _n, _h, p in parsed) else {}
        accepted = []
        for number, household, person in parsed:
            found = existing_households.get(household["no_kk"])
            if found is not None and self._outside(found.desa_id):
                self.report.reject(number, [("no_kk", already_registered(Household, "no_kk"))])
                continue
            found_person = existing_persons.get(person["nik"]) if person["nik"] else None
            if found_person is not None and self._outside(found_person.desa_id):
                self.report.reject(number, [("nik", already_registered(Person, "nik"))])
                continue
            if found_person is not None and not names.same_name(found_person.name,
                                                                       person["name"]):
                self.report.hold_identity_clash(number, stored=found_person.name,
                                                new=person["name"])
                continue
            if not person["nik"] and found is not None:
                found_person = by_name.get((found.pk, person["name_key"], person["birth_date"]))
                if found_person is not None and self._outside(found_person.desa_id):
                    self.report.reject(number, [("nama", MATCHED_OUTSIDE)])
                    continue
                if found_person is not None and found_person.nik and (
                        nik_sex(found_person.nik) != person["sex"]):
                    self.report.reject(number, [("jenis_kelamin", MATCHED_SEX)])
                    continue
            if found_person is not None and "relationship" not in person:
                # a file without hubungan: the stored relationship stays, and the one-kepala
                # rule reads it (a kepala moved into another household is his kepala still)
                person["relationship"] = found_person.relationship
            accepted.append((number, household, person))
        accepted = self._one_kepala(accepted, existing_households, existing_persons)
        households = self._write_households(accepted, existing_households)
        self._write_persons(accepted, households, existing_persons)

    def _consistent(self, parsed):
        """Across the whole file (not just this chunk): the first row of a No. KK defines the
        household, a NIK appears once, and so does a person without NIK (the same name key and
        birth date in the same No. KK: the import could not tell which row is the person)."""
        kept = []
        for number, household, person in parsed:
            payload = json.dumps(household, sort_keys=True, default=str)
            first = self.seen.first("no_kk", household["no_kk"], number, payload)
            if first is not None and first[1] != payload:
                earlier, now = json.loads(first[1]), json.loads(payload)
                columns = [c for c, f in [*HOUSEHOLD_MAP.items(), *LIST_COLUMNS.items()]
                           if earlier.get(f) != now.get(f)]
                self.report.reject(number, [(c, _("berbeda dengan baris %(n)d untuk No. KK yang "
                                                  "sama") % {"n": first[0]}) for c in columns])
                continue
            if person["nik"]:
                first = self.seen.first("nik", person["nik"], number)
                if first is not None:
                    self.report.reject(number, [("nik", _("NIK sama dengan baris %(n)d")
                                                 % {"n": first[0]})])
                    continue
            # one person twice, one of the rows without NIK (which finds him by name and birth
            # date): the first row stands; two rows with two NIKs are two persons
            key = f"{household['no_kk']} {person['name_key']} {person['birth_date']}"
            first = self.seen.first("named", key, number, "nik" if person["nik"] else "")
            if first is not None and not (person["nik"] and first[1]):
                self.report.reject(number, [("nama", SAME_PERSON % {"n": first[0]})])
                continue
            if person.get("relationship") == R.KEPALA:  # absent: none is made kepala
                first = self.seen.first("kepala", household["no_kk"], number)
                if first is not None:
                    self.report.reject(number, [("hubungan", KEPALA_TWICE % {"n": first[0]})])
                    continue
            kept.append((number, household, person))
        return kept

    def _one_kepala(self, accepted, existing_households, existing_persons):
        """One kepala keluarga per stored household (``Person.check_one_kepala``): a row that
        makes someone the kepala of a stored household is refused while another living, not
        merged member is its kepala — unless an accepted row of the file so far (an earlier
        chunk, written, or this one) makes that member something else or moves him away. A
        row about a member who already is its kepala, or who died or moved away, is not. A
        refused row keeps its person where he was, so the check runs again until no row is
        refused. ``Stage.one_kepala`` is the same rule in SQL."""
        stored = {h["no_kk"]: existing_households[h["no_kk"]].pk
                  for _n, h, p in accepted
                  if p.get("relationship") == R.KEPALA and h["no_kk"] in existing_households}
        if not stored:
            return accepted
        # the stored households' rows are locked before their kepala are read, as a single
        # save locks its household (``pmks.services._person_check``): a save that made a
        # kepala meanwhile is seen here, and one that comes now waits for this import
        lock_households(set(stored.values()))
        kepala = dict(Person.objects.filter(
            household_id__in=set(stored.values()), relationship=R.KEPALA,
            life_status=choices.LifeStatus.HIDUP, merged_into__isnull=True,
        ).values_list("pk", "household_id"))
        if not kepala:
            return accepted
        without_nik = _by_name(set(stored.values()))  # as _write_persons matches

        def person_of(household, person):
            if person["nik"]:
                return existing_persons.get(person["nik"])
            return without_nik.get((stored.get(household["no_kk"]), person["name_key"],
                                    person["birth_date"]))

        while True:
            staying = dict(kepala)  # who stays kepala of which household
            for _n, household, person in accepted:
                found = person_of(household, person)
                if found is not None and found.pk in staying and (
                        person.get("relationship") != R.KEPALA
                        or stored.get(household["no_kk"]) != staying[found.pk]):
                    del staying[found.pk]  # made something else, or moved away
            refused = []
            for number, household, person in accepted:
                household_id = stored.get(household["no_kk"])
                if person.get("relationship") != R.KEPALA or household_id is None:
                    continue
                found = person_of(household, person)
                if found is not None and (kepala.get(found.pk) == household_id
                                          or found.life_status != choices.LifeStatus.HIDUP):
                    continue
                if any(h == household_id for pk, h in staying.items()
                       if found is None or pk != found.pk):
                    refused.append(number)
            if not refused:
                return accepted
            for number in refused:
                self.report.reject(number, [("hubungan", KEPALA_STORED)])
            accepted = [a for a in accepted if a[0] not in set(refused)]

    def _write_households(self, accepted, existing) -> dict[str, Household]:
        result: dict[str, Household] = {}
        new, changed, log = [], [], []
        counts = {"keluarga_baru": 0, "keluarga_diubah": 0, "keluarga_tetap": 0}
        # the stored lists of the chunk's households, when the file has a list column
        reads_lists = any(f in data for _n, data, _p in accepted[:1] for f in LIST_FIELDS)
        held = _held_lists([h.pk for h in existing.values()]) if reads_lists else {}
        if not self.dry_run:
            held = self._lock_changing(accepted, existing, held, reads_lists)
        list_writes, new_lists = [], {}  # (household, {list: codes}) to write
        for number, data, _person in accepted:
            if data["no_kk"] in result:
                continue
            fields = {k: v for k, v in data.items() if k not in LIST_FIELDS}
            lists = {f: data[f] for f in LIST_FIELDS if f in data}
            household = existing.get(data["no_kk"])
            if household is None:
                household, kind = Household(**fields), "keluarga_baru"
                new.append(household)
                lists = new_lists[data["no_kk"]] = {f: v for f, v in lists.items() if v}
            else:
                kind, diff = "keluarga_tetap", _changes(household, fields, HOUSEHOLD_FIELDS)
                stored = held.get(household.pk, {})
                lists = {f: v for f, v in lists.items() if stored.get(f, "") != v}
                diff |= {f: [stored.get(f, ""), v] for f, v in lists.items()}
                if diff:
                    for name, (_old, value) in diff.items():
                        if name not in LIST_FIELDS:
                            setattr(household, name, value)
                    changed.append(household)
                    log.append((household, diff, LogEntry.Action.UPDATE))
                    kind = "keluarga_diubah"
            if lists:
                list_writes.append((household, lists))
            # the report counts a household once per file, at its first accepted row: a later
            # chunk finds it as an earlier one wrote it (or, in a dry run, did not)
            if self.seen.first("counted_kk", data["no_kk"], number) is None:
                counts[kind] += 1
            result[data["no_kk"]] = household
        for kind, n in counts.items():
            if n or kind != "keluarga_tetap":
                self.report.count(kind, n)
        if not self.dry_run:
            Household.objects.bulk_create(new, update_conflicts=True, unique_fields=["no_kk"],
                                          update_fields=HOUSEHOLD_FIELDS)
            _moved(changed)  # a changed record is a new version (ETag, If-Match)
            Household.objects.bulk_update(changed, [*HOUSEHOLD_FIELDS, "updated_at"])
            log += [(h, {**{f: [None, getattr(h, f)] for f in ["no_kk", *HOUSEHOLD_FIELDS]},
                         **{f: [None, v] for f, v in new_lists[h.no_kk].items()}},
                     LogEntry.Action.CREATE) for h in new]
            _write_lists(list_writes, self.lists.pks)
            audit.log_bulk(Household, log)
            cases_follow(households=changed)  # the services' rule: open cases follow their KK
        return result

    @staticmethod
    def _lock_changing(accepted, existing, held, reads_lists) -> dict:
        """The stored households the chunk's rows change (a field or a list, as read so far)
        are locked, as every service locks a household before it changes it
        (``lock_households``: ``FOR NO KEY UPDATE``, in id order), then read again — their
        fields into ``existing``, their lists into the returned ``held`` — so a save that
        committed while the import waited is what the import's write replaces and its audit
        entry names as the old value, never a mix of both or an older value."""
        changing = set()
        for _n, data, _p in accepted:
            household = existing.get(data["no_kk"])
            if household is None or household.pk in changing:
                continue
            stored = held.get(household.pk, {})
            if _changes(household, data, HOUSEHOLD_FIELDS) or any(
                    stored.get(f, "") != data[f] for f in LIST_FIELDS if f in data):
                changing.add(household.pk)
        if not changing:
            return held
        lock_households(changing)
        fresh = Household.objects.in_bulk(changing)
        for no_kk, household in list(existing.items()):
            if household.pk in fresh:
                existing[no_kk] = fresh[household.pk]
        if reads_lists:
            held = {pk: lists for pk, lists in held.items() if pk not in changing}
            held |= _held_lists(changing)
        return held

    def _write_persons(self, accepted, households, existing_by_nik) -> None:
        without_nik = _by_name([h.pk for h in households.values() if h.pk])
        new, changed, log, persons = [], [], [], []
        for _number, hh_data, data in accepted:
            household = households[hh_data["no_kk"]]
            data = {**data, "household_id": household.pk}
            if data["nik"]:
                person = existing_by_nik.get(data["nik"])
            else:
                person = without_nik.get((household.pk, data["name_key"], data["birth_date"]))
            if person is None:
                person = Person(**{k: v for k, v in data.items() if k != "household_id"},
                                household=household)
                new.append(person)
            else:
                if person.name.casefold() == data["name"].casefold():
                    data["name"] = person.name  # only the case differs: keep the stored spelling
                diff = _changes(person, data, PERSON_FIELDS)
                if diff:
                    for name, (_old, value) in diff.items():
                        setattr(person, name, value)
                    changed.append(person)
                    log.append((person, diff, LogEntry.Action.UPDATE))
                else:
                    self.report.count("orang_tetap")
            persons.append(person)
        self.report.count("orang_baru", len(new))
        self.report.count("orang_diubah", len(changed))
        if self.dry_run:
            return
        with_nik = [p for p in new if p.nik]
        Person.objects.bulk_create(with_nik, update_conflicts=True, unique_fields=["nik"],
                                   update_fields=PERSON_FIELDS)
        Person.objects.bulk_create([p for p in new if not p.nik])
        _moved(changed)
        Person.objects.bulk_update(changed, [*PERSON_FIELDS, "updated_at"])
        log += [(p, {f: [None, getattr(p, f)] for f in ["nik", *PERSON_FIELDS]},
                 LogEntry.Action.CREATE) for p in new]
        audit.log_bulk(Person, log)
        persons_after_save(persons)  # the services' rules: heads, open cases follow


def _held_lists(household_ids) -> dict[int, dict[str, str]]:
    """{household id: {list: its codes, sorted, joined by ";"}} of the stored households (one
    query per list), as ``HouseholdLists.read`` gives a cell's."""
    from pmks.models import HouseholdAsset, HouseholdProgram

    held: dict = {}
    for field, through, target in (("assets", HouseholdAsset, "asset"),
                                   ("programs", HouseholdProgram, "program")):
        codes: dict = {}
        for household, code in through.objects.filter(household_id__in=household_ids
                                                      ).values_list("household", f"{target}__code"):
            codes.setdefault(household, []).append(code)
        for household, values in codes.items():
            held.setdefault(household, {})[field] = ";".join(sorted(values))
    return held


def _write_lists(writes, pks) -> None:
    """``writes``: [(household, {list: codes joined by ";"})]: each list replaced by its
    codes, writing only the entries added (one INSERT per list) and removed (one DELETE per
    list) — the audit entry and the sync change are the household's (``log_bulk``)."""
    from pmks.models import HouseholdAsset, HouseholdProgram

    for field, through, target in (("assets", HouseholdAsset, "asset_id"),
                                   ("programs", HouseholdProgram, "program_id")):
        wanted = {(h.pk, pks[field][code]) for h, lists in writes if field in lists
                  for code in lists[field].split(";") if code}
        ids = [h.pk for h, lists in writes if field in lists]
        if not ids:
            continue
        stored = {(household, item): pk for pk, household, item in through.objects.filter(
            household_id__in=ids).values_list("pk", "household_id", target)}
        if removed := [pk for pair, pk in stored.items() if pair not in wanted]:
            through.objects.filter(pk__in=removed).delete()
        through.objects.bulk_create([through(household_id=h, **{target: item})
                                     for h, item in sorted(wanted - stored.keys())])


def _by_name(household_ids) -> dict:
    """The stored members a row without NIK finds: {(household, name key, birth date):
    person}. With or without a NIK of their own — a file without the NIK (column or cell)
    names a registered person, not a new one; the row leaves the stored NIK as it is. By id:
    the last registered of two namesakes wins, as on the COPY path (``Stage._match_persons``)."""
    return {(p.household_id, p.name_key, p.birth_date): p
            for p in Person.objects.filter(household_id__in=household_ids,
                                           merged_into__isnull=True).order_by("id")}


def _moved(records) -> None:
    """``bulk_update`` writes the fields it names: ``updated_at`` (the record's version, which
    the API's ETag and the staff pages' If-Match read) moves only when it is one of them."""
    now = timezone.now()
    for record in records:
        record.updated_at = now


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


#: Which path the import takes: None = COPY + set-based SQL on PostgreSQL, row by row
#: elsewhere; "rows" / "copy" force one (the tests run the same files through both).
PATH: str | None = None
COPY_CHUNK_SIZE = 25_000
READER_SWITCH_INTERVAL = 0.0005  # seconds (Python's default: 0.005), while the reader runs


def import_path() -> str:
    if PATH is not None:
        return PATH
    return "copy" if connection.vendor == "postgresql" else "rows"


IMPORT_LOCK_KEY = 7_240_020  # pg_advisory_xact_lock key: "PMKS imports that write"


def _serialise_imports(*, dry_run: bool) -> None:
    """On PostgreSQL an import that writes holds this lock until its transaction ends, taken
    before it reads anything: a second import of the same households waits for the first to
    commit and then finds its rows. Without it both matched the file against the registry
    as it was, the second gave a new No. KK the id it had chosen, met the first's household
    in the upsert (ON CONFLICT), and failed at commit on the persons' foreign key. A dry run
    writes nothing and does not wait. On SQLite one writer at a time is the rule anyway."""
    if not dry_run and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def households_import(*, actor, fileobj, filename: str, dry_run: bool,
                      chunk_size: int | None = None) -> ImportReport:
    area = user_area(actor)
    desa = Wilayah.objects.filter(tingkat__in=DESA_KELURAHAN)
    if area is not ALL:
        desa = desa.within(area) if area else desa.none()
    desa_codes = set(desa.values_list("kode", flat=True))
    report = ImportReport()
    lists = HouseholdLists()
    table = IMPORTER.read(fileobj, filename)
    report.notes = table.notes
    if import_path() == "copy":
        from pmks.staging import unchanged_file

        with transaction.atomic():  # all or nothing (import_run holds the same transaction)
            _serialise_imports(dry_run=dry_run)
            unchanged = unchanged_file(fileobj, table, report=report, area=area)
            if unchanged is not None and unchanged.read is None:
                report_progress(report.rows)  # a re-import that changes nothing, at once
            else:
                _copy_import(table, report=report, area=area, desa_codes=desa_codes,
                             dry_run=dry_run, chunk_size=chunk_size or COPY_CHUNK_SIZE,
                             unchanged=unchanged, lists=lists)
        return report
    seen = SeenKeys()
    try:
        with transaction.atomic():  # all or nothing (import_run holds the same transaction)
            _serialise_imports(dry_run=dry_run)
            for rows in _chunks(table, chunk_size or CHUNK_SIZE):
                report.rows += len(rows)
                _Chunk(rows, actor=actor, report=report, desa_codes=desa_codes,
                       dry_run=dry_run, seen=seen, lists=lists).run()
                report_progress(report.rows)
    finally:
        seen.close()
    return report


def _variants(text: str) -> set[str]:
    return {text, text.lower(), text.upper(), text.title(), text.capitalize()}


def _lookup(desa_codes, lists: HouseholdLists) -> list[tuple[str, str, str]]:
    """(column, cell text, value) for the COPY path's fast lane: the desa codes of the area,
    and the usual ways of writing each label, sex and KK relationship code, each with the value
    the Python parsers themselves give it — so a cell read by lookup reads the same as on the
    row path. Any other text goes through the parsers. The DTKS lists' keys (``list_key``)
    too: the fast lane splits a list cell and looks each entry's key up."""
    rows = [*(("kode_desa", code, code) for code in desa_codes), *lists.lookup()]
    tables = [(column, _labels(enum), partial(_choice, enum))
              for column, enum in CHOICE_COLUMNS.items()]
    tables.append(("jenis_kelamin", {t: v for v, ts in SEX_LABELS.items() for t in ts},
                   parse_sex))
    with translation.override("id"):
        for column, table, parse in tables:
            texts = set()
            for key, value in table.items():
                label = CHOICE_COLUMNS[column](value).label if column in CHOICE_COLUMNS else ""
                for text in (key, key.replace(" ", "-"), key.replace(" ", "_"), str(label)):
                    texts |= _variants(text)
            for text in sorted(texts - {""}):
                try:
                    rows.append((column, text, parse(text)))
                except ValueError:
                    continue
    return rows


#: the file's columns as the fast lane stages them
FILE_COLUMNS = [c.name for c in COLUMNS]


def _copy_import(table, *, report, area, desa_codes, dry_run, chunk_size, lists,
                 unchanged=None) -> None:
    """PostgreSQL: the file goes to a staging table by COPY and the rest is set-based
    (``pmks.staging``). Two lanes per chunk: plain text rows are copied as they are and
    checked in SQL (``Stage.copy_raw``); the rows SQL cannot vouch for — other date or label
    forms, errors, Excel number cells, cells the reader flagged — go through ``parse_row``
    like on the row path, in row order, and the ones that pass are copied typed. Rows stream
    from the file into the COPY text: no chunk of rows is held in memory, only the few that
    take the Python lane. Reading the file is Python and the checks and writes are the
    database's, so a thread reads and prepares the next chunk while the database works on
    this one (two cores both busy; at most two chunks' text in memory). ``unchanged``: the
    whole-file check's rows to read (``pmks.staging.Unchanged``); the others are counted
    unchanged, never parsed, staged or compared."""
    from pmks.staging import Stage

    today = timezone.localdate()

    def passing(rows):
        for row in rows:
            household, person, problems = parse_row(row, desa_codes, today=today, lists=lists)
            if problems:
                report.reject(row.number, problems)
            else:
                yield row.number, household, person

    stage = Stage(report=report, area=area, dry_run=dry_run, columns=FILE_COLUMNS,
                  lookup=_lookup(desa_codes, lists), whole=lists.whole_sql, today=today,
                  absent=[c for c in KEPT_WHEN_ABSENT if c not in table.header])
    rows = iter(table)
    language = translation.get_language()

    wanted = unchanged.read if unchanged is not None else None

    def read():  # in the reader thread: the file only, never the database
        with translation.override(language):  # the reader's messages in the import's language
            lanes = _Lanes(islice(rows, chunk_size), wanted)
            return lanes, stage.raw_text(lanes.plain())

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-reader")
    failed = True
    with _short_switch_interval():  # the GIL back to this thread at once
        try:
            ahead = pool.submit(read)
            while True:
                lanes, text = ahead.result()
                if not lanes.count:
                    break
                ahead = pool.submit(read)  # the next chunk is read while this one is written
                report.rows += lanes.count
                if not lanes.first:  # every row of the chunk left out as unchanged
                    report_progress(report.rows)
                    continue
                refused = stage.copy_raw(text)
                stage.begin(lanes.first, lanes.last)
                slow = lanes.slow + [TableRow(number=number, values=values, cells=[])
                                     for number, values in refused]
                stage.load(passing(sorted(slow, key=lambda row: row.number)))
                stage.check()
                stage.write()
                report_progress(report.rows)
            if unchanged is not None:  # the rows left out: unchanged, as their households
                for key, n in (("keluarga_tetap", unchanged.households),
                               ("orang_tetap", unchanged.skipped)):
                    if n:
                        report.count(key, n)
            failed = False
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            stage.close(failed=failed)


_switching = threading.Lock()
_switching_imports = 0  # imports of this process inside _short_switch_interval
_switch_interval = 0.0  # the interval before the first of them


@contextmanager
def _short_switch_interval():
    """Each statement the import's thread sends returns to Python and must take the GIL back
    from the reader thread, which waits Python's switch interval (5 ms) and longer: the reader
    did its work while this thread, not the database, waited. A short interval hands the GIL
    back at once. The interval is the process's: the first import in shortens it and the last
    one out restores it (a thread-pool worker may run two at once)."""
    global _switching_imports, _switch_interval
    with _switching:
        if not _switching_imports:
            _switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(READER_SWITCH_INTERVAL)
        _switching_imports += 1
    try:
        yield
    finally:
        with _switching:
            _switching_imports -= 1
            if not _switching_imports:
                sys.setswitchinterval(_switch_interval)


class _Lanes:
    """One chunk of the file's rows, split as they stream by: plain text rows for the fast
    lane, rows with Excel number cells or the reader's own problems for ``parse_row``."""

    def __init__(self, rows, wanted=None):
        """``wanted``: the row numbers to read (None: all); the others are only counted."""
        self.rows, self.slow, self.wanted = rows, [], wanted
        self.first = self.last = self.count = 0

    def plain(self):
        for row in self.rows:
            if self.wanted is not None and row.number not in self.wanted:
                self.count += 1
                continue
            self.first = self.first or row.number
            self.last = row.number
            self.count += 1
            if row.problems or row.numbers:
                self.slow.append(row)
            else:
                yield row.number, row.values


IMPORTER = register_importer(Importer(kind=KIND, label=_("Keluarga dan anggota (PMKS)"),
                                      columns=COLUMNS, run=households_import,
                                      model="pmks.Person", guide=[_(
    "Kolom yang tidak wajib boleh tidak ada di berkas (misalnya ekspor SIAK tanpa kolom "
    "perumahan atau pendidikan): data keluarga dan orang yang tersimpan untuk kolom itu tetap. "
    "Sel kosong di kolom yang ada berarti tidak diketahui dan menghapus isian yang tersimpan. "
    "Kolom nik selalu dibaca: tanpa kolom itu orang dicari dari nama dan tanggal lahir."), _(
    "Kolom aset dan program: kode (seperti pada ekspor keluarga) atau nama dari daftar DTKS, "
    "dipisah titik koma (;) atau koma, mis. tabung-gas;sepeda-motor. Keduanya kolom keluarga: "
    "isi sama pada setiap baris anggota satu No. KK (urutan tidak berpengaruh), baris yang "
    "berbeda ditolak. Sel kosong berarti tidak ada dan menghapus daftar yang tersimpan; tanpa "
    "kolomnya daftar yang tersimpan tetap.")]))
