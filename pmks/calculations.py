"""Pure functions for duplicate detection: no ORM, no clock.

``name_key`` folds the common ways one Indonesian name is written into one key: case, spacing
and punctuation; honorifics and degrees (H., Hj., Dr., S.Pd., …);
Muhammad/Muhamad/Mohammad/Moch./Moh./M.; Siti/St.; old spelling (oe→u, dj→j, tj→c, j→y,
ch/kh→h; inside each word); doubled letters.
"""

import re
import unicodedata
from difflib import SequenceMatcher

TITLES = {
    "h", "hj", "haji", "hajah", "hajjah", "kh", "dr", "drs", "dra", "ir", "prof", "ust",
    "ustadz", "ustad", "ustadzah", "bpk", "bapak", "ibu", "ny", "nyonya", "tn", "sdr", "sdri",
    "alm", "almh",
}
# Degrees usually follow a comma: "Ahmad, S.Pd." — everything after the first comma is dropped.
MUHAMMAD = {
    "m", "muh", "muhd", "mhd", "moh", "mohd", "moch", "mochamad", "mochammad", "mohamad",
    "mohammad", "mohammed", "muhamad", "muhammad", "muhamat", "muhammat", "mokhamad",
    "mokhammad", "muchamad", "muchammad", "mukhamad", "mukhammad",
}
SITI = {"st", "siti", "sitti"}
# Spelling before EYD 1972 (oe, dj, tj, nj, sj, j for y) and ch/kh, folded inside each word to
# one form: old and new spellings meet (Djaja = Jaya, Jusuf = Yusuf, Tjipto = Cipto).
OLD_SPELLING = [("oe", "u"), ("tj", "c"), ("dj", "j"), ("sj", "sy"), ("nj", "ny"), ("ch", "h"),
                ("kh", "h"), ("j", "y")]

_NON_ALPHA = re.compile(r"[^a-z ]+")
_DOUBLED = re.compile(r"(.)\1+")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def name_tokens(name: str) -> list[str]:
    text = _ascii(name or "").lower().split(",")[0]
    text = _NON_ALPHA.sub(" ", text.replace(".", ". "))
    tokens = []
    for token in text.split():
        if token in TITLES and tokens == []:
            continue
        if token in MUHAMMAD:
            token = "muhammad"
        elif token in SITI:
            token = "siti"
        tokens.append(token)
    return tokens


def _fold(token: str) -> str:
    for old, new in OLD_SPELLING:
        token = token.replace(old, new)
    return token


def name_key(name: str) -> str:
    """One key for the variants of a name (spaces removed, so "Nur Aini" = "Nuraini")."""
    return _DOUBLED.sub(r"\1", "".join(_fold(t) for t in name_tokens(name)))


def name_similarity(key_a: str, key_b: str) -> float:
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    return SequenceMatcher(None, key_a, key_b).ratio()


def nik_one_typo_apart(a: str | None, b: str | None) -> bool:
    """True when two NIKs differ by one substituted digit or two swapped neighbours."""
    if not a or not b or len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and (
        a[diff[1]] == b[diff[0]]
    )


NAME_THRESHOLD = 0.88


def duplicate_score(
    *, key_a: str, key_b: str, same_kecamatan: bool, same_birth_date: bool,
    nik_a: str | None, nik_b: str | None,
) -> tuple[int, list[str]]:
    """Score 0–100 and the reasons for a pair of persons; 0 means "not a candidate".

    Every candidate needs the same birth date and names that agree (equal after normalisation,
    or similar ≥ 0.88): twins and people born the same day in a neighbouring kecamatan have
    NIKs one digit apart, so a NIK typo alone proves nothing.

    - NIKs one typo apart and the names agree: 95, wherever the two live.
    - Same kecamatan, names equal after normalisation: 90.
    - Same kecamatan, names similar: 60–85 by similarity.
    Two different, valid NIKs that are not one typo apart are different people: 0.
    """
    typo = nik_one_typo_apart(nik_a, nik_b)
    if not same_birth_date or (nik_a and nik_b and nik_a != nik_b and not typo):
        return 0, []
    similarity = name_similarity(key_a, key_b)
    if similarity < NAME_THRESHOLD:
        return 0, []
    name = "nama_sama_setelah_normalisasi" if similarity == 1.0 else "nama_mirip"
    place = ["kecamatan_sama"] if same_kecamatan else []
    if typo:
        return 95, ["nik_satu_digit_berbeda", name, "tanggal_lahir_sama", *place]
    if not same_kecamatan:
        return 0, []
    if similarity == 1.0:
        return 90, [name, "tanggal_lahir_sama", *place]
    score = int(60 + (similarity - NAME_THRESHOLD) / (1 - NAME_THRESHOLD) * 25)
    return score, [name, "tanggal_lahir_sama", *place]


def blocking_keys(*, name_key: str, desa_id: str, nik: str | None) -> list[tuple]:
    """Among persons born on one day, only those that share one of these keys are compared, so
    the work grows with the number of persons, not with its square: the kecamatan (names are
    compared inside it), the start and the end of the name key (a one-letter typo leaves one
    of them whole), and the NIK without its serial or without its region (a mistyped digit
    leaves one of them whole)."""
    keys = [("kecamatan", desa_id[:8])]
    if name_key:
        keys += [("awal_nama", name_key[:4]), ("akhir_nama", name_key[-4:])]
    if nik:
        keys += [("nik_tanpa_nomor_urut", nik[:12]), ("nik_tanpa_wilayah", nik[6:])]
    return keys


# --- case workflow ----------------------------------------------------------------------------
# teridentifikasi → terverifikasi → dalam_penanganan → selesai; from any open status a case may
# be referred (dirujuk) or closed (ditutup). selesai, dirujuk and ditutup are final.
OPEN_STATUSES = ("teridentifikasi", "terverifikasi", "dalam_penanganan")
CASE_TRANSITIONS: dict[str, set[str]] = {
    "teridentifikasi": {"terverifikasi", "dirujuk", "ditutup"},
    "terverifikasi": {"dalam_penanganan", "dirujuk", "ditutup"},
    "dalam_penanganan": {"selesai", "dirujuk", "ditutup"},
    "selesai": set(),
    "dirujuk": set(),
    "ditutup": set(),
}
REASON_REQUIRED = {"dirujuk", "ditutup"}


def case_transition_allowed(from_status: str, to_status: str) -> bool:
    return to_status in CASE_TRANSITIONS.get(from_status, set())


def same_name(stored: str, new: str) -> bool:
    """Whether two names can be the same person's: equal after the folding of ``name_key`` or
    as similar as the duplicate finder requires (``NAME_THRESHOLD``)."""
    return name_similarity(name_key(stored), name_key(new)) >= NAME_THRESHOLD
