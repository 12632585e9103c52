"""A deterministic synthetic Banten registry for the benchmarks.

Households of about 3.3 persons (head, spouse, children) in real desa/kelurahan codes; every
NIK and No. KK is built with :mod:`dinsos.validators` so it agrees with the birth date, sex and
kecamatan; a few infants have no NIK yet; no two members of a family share a name key (the
import rejects a second person without NIK of one name and birth date in a No. KK); twins (same
birth date, NIK serials one apart) are the hard negatives the duplicate search must not pair.
About 1 % of persons are registered a second time in another household ("planted pairs"),
written the way Indonesian records differ: Muhammad/M./Moch., Siti/St., old spelling
(oe/dj/tj), a title, a one-letter typo, and the NIK missing or mistyped by one digit. The same
seed always gives the same rows.
"""

import datetime
import random
from dataclasses import dataclass

from dinsos.names import name_key
from dinsos.validators import build_nik, build_no_kk

MALE = ["Ahmad", "Muhammad", "Budi", "Agus", "Dedi", "Asep", "Rudi", "Hendra", "Yusuf", "Ujang",
        "Iwan", "Joko", "Slamet", "Bambang", "Eko", "Rizky", "Fauzi", "Hasan", "Ridwan", "Dadang",
        "Jajang", "Cecep", "Dodi", "Wawan", "Supriyadi", "Sukardi", "Saepudin", "Komarudin",
        "Nurdin", "Abdul", "Imam", "Arif", "Teguh", "Yayan", "Endang", "Entis", "Suherman",
        "Junaedi", "Ade", "Aceng", "Suryadi", "Mulyadi", "Hidayat", "Rahmat", "Firman",
        "Syahrul", "Jaenudin", "Tubagus", "Soleh", "Juhri"]
FEMALE = ["Siti", "Nur", "Dewi", "Sri", "Yanti", "Rina", "Euis", "Enung", "Iis", "Neneng",
          "Ani", "Ratna", "Wati", "Yuyun", "Cucu", "Tati", "Lilis", "Aminah", "Fatimah",
          "Halimah", "Maryam", "Nurhayati", "Rohmah", "Aisyah", "Komariah", "Juju", "Entin",
          "Popon", "Nining", "Eti", "Ela", "Yeni", "Mega", "Putri", "Indah", "Lestari", "Wulan",
          "Rukmini", "Jamilah", "Khodijah", "Sumiati", "Ratu", "Nyai", "Aisah", "Mumun",
          "Eneng", "Suharti", "Yuliani", "Sartika", "Sopiah"]
SECOND = ["Hidayat", "Santoso", "Saputra", "Setiawan", "Gunawan", "Hartono", "Suryana",
          "Kurniawan", "Permana", "Ramdani", "Nurjanah", "Lestari", "Susanti", "Rahayu",
          "Hermawan", "Maulana", "Sulaeman", "Wahyudi", "Hakim", "Kusnadi", "Sutisna",
          "Jayadi", "Supriatna", "Ruhiyat", "Sumantri", "Suhendar", "Mulyana", "Saefulloh",
          "Junaedi", "Fitriani", "Marlina", "Rohaeti", "Sukmawati", "Aprilia", "Juariah",
          "Sobari", "Bahrudin", "Mukhlis", "Jumadi", "Tjahjadi", "Djunaedi", "Soekarno"]
HOUSEHOLD_SIZES = [(1, 10), (2, 20), (3, 25), (4, 25), (5, 12), (6, 8)]  # mean 3.33
CHILD = "anak"


@dataclass
class Row:
    """One person row in the import's columns, plus the generator's own index."""

    index: int
    no_kk: str
    alamat: str
    kode_desa: str
    nik: str
    nama: str
    tanggal_lahir: datetime.date
    jenis_kelamin: str
    hubungan: str
    desil: int
    status_kawin: str = ""  # the import's status_kawin (SIAK's code 1–4 or a value)

    def import_values(self) -> dict:
        return {
            "no_kk": self.no_kk, "alamat": self.alamat, "kode_desa": self.kode_desa,
            "desil": str(self.desil), "nik": self.nik, "nama": self.nama,
            "tanggal_lahir": self.tanggal_lahir.isoformat(), "jenis_kelamin": self.jenis_kelamin,
            "hubungan": self.hubungan, "status_kawin": self.status_kawin,
        }


# --- name variants ----------------------------------------------------------------------------

OLD_SPELLING = [("u", "oe"), ("j", "dj"), ("c", "tj"), ("y", "j")]


def _old_spelling(name: str, rnd: random.Random) -> str | None:
    lower = name.lower()
    options = [(new, old) for new, old in OLD_SPELLING if new in lower]
    if not options:
        return None
    new, old = rnd.choice(options)
    position = lower.index(new)
    replaced = name[:position] + old + name[position + len(new):]
    return replaced[0].upper() + replaced[1:]


def _typo(name: str, rnd: random.Random) -> str:
    letters = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0]
    i = rnd.choice(letters)
    new = rnd.choice([c for c in "aiueonrst" if c != name[i].lower()])
    return name[:i] + new + name[i + 1:]


def name_variant(name: str, rnd: random.Random) -> str:
    """How a second registration writes the same name."""
    words = name.split()
    if words[0] == "Muhammad":
        return " ".join([rnd.choice(["M.", "Moch.", "Muh.", "Mohamad"]), *words[1:]])
    if words[0] == "Siti":
        return " ".join(["St.", *words[1:]])
    kind = rnd.random()
    if kind < 0.35:
        old = _old_spelling(name, rnd)
        if old:
            return old
    if kind < 0.55:
        return ("H. " if rnd.random() < 0.5 else "Hj. ") + name
    return _typo(name, rnd)


def nik_typo(nik: str, rnd: random.Random) -> str:
    """One digit of the birth date or serial changed, or two neighbours swapped."""
    digits = list(nik)
    if rnd.random() < 0.5:
        i = rnd.randrange(12, 16)
        digits[i] = rnd.choice([d for d in "0123456789" if d != digits[i]])
    else:
        for _attempt in range(16):
            i = rnd.randrange(12, 15)
            if digits[i] != digits[i + 1]:
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
                break
        else:
            digits[15] = "1" if digits[15] != "1" else "2"
    typo = "".join(digits)
    return typo if typo[12:] != "0000" else nik


# --- the registry -----------------------------------------------------------------------------


class _Numbers:
    """NIK and No. KK serials, unique per (region, date, sex)."""

    def __init__(self):
        self.serials: dict[tuple, int] = {}

    def next(self, *key) -> int:
        self.serials[key] = self.serials.get(key, 0) + 1
        return self.serials[key]

    def nik(self, kecamatan: str, born: datetime.date, sex: str) -> str:
        return build_nik(kecamatan, born, sex, self.next("nik", kecamatan, born, sex))

    def no_kk(self, kecamatan: str, registered: datetime.date) -> str:
        return build_no_kk(kecamatan, registered, self.next("kk", kecamatan, registered))


def _day(rnd: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rnd.randrange((last - first).days + 1))


class Registry:
    """Streams the rows (``for row in registry``); afterwards ``planted`` holds the pairs
    (original index, duplicate index) and ``households`` the number of households. Only the
    planted originals are kept in memory, so a million rows stream in flat memory."""

    def __init__(self, n_persons: int, desa_codes: list[str], *, seed: int = 36,
                 planted_share: float = 0.01, today=datetime.date(2026, 1, 1)):
        self.n_persons, self.desa_codes, self.seed = n_persons, sorted(desa_codes), seed
        self.planted_share, self.today = planted_share, today
        self.planted: list[tuple[int, int]] = []
        self.households = 0

    def __iter__(self):
        rnd = random.Random(self.seed)
        numbers = _Numbers()
        self.planted, self.households = [], 0
        n_planted = int(self.n_persons * self.planted_share)
        n_original = self.n_persons - n_planted
        share = n_planted / max(n_original, 1)
        originals: list[Row] = []
        index = 0
        while index < n_original:
            for row in self._household(rnd, numbers, index, n_original - index):
                if len(originals) < n_planted and rnd.random() < share * 1.2:
                    originals.append(row)
                index += 1
                yield row
        kecamatan = {d[:8] for d in self.desa_codes}
        by_kecamatan = {k: [d for d in self.desa_codes if d.startswith(k)] for k in kecamatan}
        typos: set[str] = set()
        for original in originals:
            duplicate = self._duplicate(rnd, numbers, index, original, by_kecamatan, typos)
            self.planted.append((original.index, duplicate.index))
            index += 1
            yield duplicate

    def _new_household(self, rnd, numbers, desa: str) -> tuple[str, str]:
        self.households += 1
        no_kk = numbers.no_kk(desa[:8], _day(rnd, datetime.date(2005, 1, 1),
                                             datetime.date(2024, 12, 31)))
        return no_kk, f"Kp. {rnd.choice(SECOND)} RT 0{rnd.randint(1, 9)}/0{rnd.randint(1, 9)}"

    def _household(self, rnd, numbers, first_index: int, room: int):
        sizes, weights = zip(*HOUSEHOLD_SIZES, strict=True)
        today = self.today
        desa = rnd.choice(self.desa_codes)
        no_kk, address = self._new_household(rnd, numbers, desa)
        decile = rnd.randint(1, 10)
        size = min(rnd.choices(sizes, weights)[0], room)
        head_sex = "L" if size > 1 or rnd.random() < 0.6 else "P"
        head_born = _day(rnd, today.replace(year=today.year - 75),
                         today.replace(year=today.year - 25))
        family = rnd.choice(SECOND)
        members = [(head_sex, head_born, "kepala")]
        if size > 1:
            spouse_born = _day(rnd, head_born - datetime.timedelta(days=8 * 365),
                               head_born + datetime.timedelta(days=3 * 365))
            members.append(("P" if head_sex == "L" else "L", spouse_born, "pasangan"))
        youngest = max(head_born, members[-1][1]) + datetime.timedelta(days=18 * 365)
        children = size - len(members)
        twins = children >= 2 and rnd.random() < 0.15  # hard negatives for the duplicates
        for i in range(children):
            if twins and i == 1:
                born = members[-1][1]
            else:
                born = _day(rnd, youngest,
                            min(today, youngest + datetime.timedelta(days=25 * 365)))
            members.append((rnd.choice("LP"), born, CHILD))
        keys = set()  # no two members of one family with one name (twins included)
        for offset, (sex, born, relation) in enumerate(members):
            while True:
                given = rnd.choice(MALE if sex == "L" else FEMALE)
                second = family if rnd.random() < 0.7 else rnd.choice(SECOND)
                if name_key(f"{given} {second}") not in keys:
                    break
            keys.add(name_key(f"{given} {second}"))
            infant = (today - born).days < 365 and rnd.random() < 0.5
            # no draw of its own (the other columns stay as they were): a couple is married,
            # a child not, a head alone widowed past 60 (SIAK's codes, as its exports give)
            if relation == CHILD:
                married = "1"
            elif size > 1:
                married = "2"
            else:
                married = "4" if (today - born).days > 60 * 365 else "1"
            yield Row(index=first_index + offset, no_kk=no_kk, alamat=address, kode_desa=desa,
                      nik="" if infant else numbers.nik(desa[:8], born, sex),
                      nama=f"{given} {second}", tanggal_lahir=born, jenis_kelamin=sex,
                      hubungan=relation, desil=decile, status_kawin=married)

    def _duplicate(self, rnd, numbers, index, original: Row, by_kecamatan, typos) -> Row:
        """The same person registered again, alone in a household of its own."""
        nik, desa = "", rnd.choice(by_kecamatan[original.kode_desa[:8]])
        if rnd.random() < 0.3 and original.nik:  # anywhere in Banten, NIK mistyped
            desa = rnd.choice(self.desa_codes)
            nik = nik_typo(original.nik, rnd)
            issued = numbers.serials.get(("nik", original.kode_desa[:8], original.tanggal_lahir,
                                          original.jenis_kelamin), 0)
            if nik == original.nik or int(nik[12:]) <= issued or nik in typos:
                nik = ""  # the typo is someone's real NIK: left empty instead
            typos.add(nik)
        no_kk, address = self._new_household(rnd, numbers, desa)
        return Row(index=index, no_kk=no_kk, alamat=address, kode_desa=desa, nik=nik,
                   nama=name_variant(original.nama, rnd), tanggal_lahir=original.tanggal_lahir,
                   jenis_kelamin=original.jenis_kelamin, hubungan="kepala",
                   desil=rnd.randint(1, 10), status_kawin=original.status_kawin)


def workforce(n_workers: int, desa_codes: list[str], *, seed: int = 37,
              today=datetime.date(2026, 1, 1)) -> list[dict]:
    """Workers with NIK, desa and a role: one TKSK per kecamatan, the rest pendamping."""
    rnd = random.Random(seed)
    numbers = _Numbers()
    kecamatan = sorted({d[:8] for d in desa_codes})
    workers = []
    for i in range(n_workers):
        desa = rnd.choice(desa_codes)
        sex = rnd.choice("LP")
        born = _day(rnd, today.replace(year=today.year - 55), today.replace(year=today.year - 22))
        if i < len(kecamatan):
            role, area = "tksk", kecamatan[i]
            desa = rnd.choice([d for d in desa_codes if d.startswith(area)])
        else:
            role, area = rnd.choice(["pendamping_jamsosratu", "pendamping_pkh"]), desa
        workers.append({
            "nik": numbers.nik(desa[:8], born, sex), "sex": sex, "birth_date": born,
            "name": f"{rnd.choice(MALE if sex == 'L' else FEMALE)} {rnd.choice(SECOND)}",
            "desa": desa, "role": role, "area": area,
            "has_account": rnd.random() < 0.95, "has_report": rnd.random() < 0.9,
        })
    return workers
