"""How one Indonesian name is written many ways, folded once for every app: no ORM, no clock.

``name_key`` folds case, spacing and punctuation; honorifics and degrees (H., Hj., Dr., S.Pd.,
…); Muhammad/Muhamad/Mohammad/Moch./Moh./M.; Siti/St.; old spelling (oe→u, dj→j, tj→c, j→y,
ch/kh→h; inside each word); doubled letters. The PMKS duplicate finder, the PMKS import and the
PSKS worker import ask the same functions whether two names can be one person's.
"""

import functools
import re
import unicodedata
from difflib import SequenceMatcher

from rapidfuzz.distance import Indel

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


@functools.lru_cache(maxsize=65536)  # pure; an import meets the same names again and again
def name_key(name: str) -> str:
    """One key for the variants of a name (spaces removed, so "Nur Aini" = "Nuraini")."""
    return _DOUBLED.sub(r"\1", "".join(_fold(t) for t in name_tokens(name)))


def name_similarity(key_a: str, key_b: str) -> float:
    if not key_a or not key_b:
        return 0.0
    if key_a == key_b:
        return 1.0
    return SequenceMatcher(None, key_a, key_b).ratio()


NAME_THRESHOLD = 0.88


def may_be_similar(key_a: str, key_b: str, threshold: float = NAME_THRESHOLD) -> bool:
    """False only when ``name_similarity`` is surely below ``threshold``, at C speed: the
    matching blocks ``SequenceMatcher`` finds are a common subsequence, so its ratio never
    exceeds rapidfuzz's Indel similarity (twice the longest common subsequence over both
    lengths). The duplicate finder asks this before paying for ``name_similarity``."""
    if not key_a or not key_b:
        return False
    return Indel.normalized_similarity(key_a, key_b, score_cutoff=threshold - 1e-9) > 0


def same_name(stored: str, new: str) -> bool:
    """Whether two names can be the same person's: equal after the folding of ``name_key`` or
    as similar as the duplicate finder requires (``NAME_THRESHOLD``)."""
    return name_similarity(name_key(stored), name_key(new)) >= NAME_THRESHOLD
