"""Pure functions for duplicate detection: no ORM, no clock. Name folding is the kernel's
(``dinsos.names``), shared with the imports."""

from rapidfuzz.distance import Hamming

from dinsos.names import NAME_THRESHOLD, may_be_similar, name_key, name_similarity

# Search also meets i/y spellings (Rizki = Rizky), folded on both sides of the comparison.
SEARCH_FOLD = ("y", "i")


def name_search_key(name: str) -> str:
    """The key a typed search is compared with (inside stored keys, y read as i)."""
    return name_key(name).replace(*SEARCH_FOLD)


def nik_one_typo_apart(a: str | None, b: str | None) -> bool:
    """True when two NIKs differ by one substituted digit or two swapped neighbours."""
    if not a or not b or len(a) != len(b) or a == b:
        return False
    distance = Hamming.distance(a, b, score_cutoff=2)  # C; most pairs of a block stop here
    if distance != 2:
        return distance == 1
    i = 0
    while a[i] == b[i]:
        i += 1
    return a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]


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
    if not typo and not same_kecamatan:
        return 0, []
    if not may_be_similar(key_a, key_b):
        return 0, []
    similarity = name_similarity(key_a, key_b)
    if similarity < NAME_THRESHOLD:
        return 0, []
    name = "nama_sama_setelah_normalisasi" if similarity == 1.0 else "nama_mirip"
    place = ["kecamatan_sama"] if same_kecamatan else []
    if typo:
        return 95, ["nik_satu_digit_berbeda", name, "tanggal_lahir_sama", *place]
    if similarity == 1.0:
        return 90, [name, "tanggal_lahir_sama", *place]
    score = int(60 + (similarity - NAME_THRESHOLD) / (1 - NAME_THRESHOLD) * 25)
    return score, [name, "tanggal_lahir_sama", *place]


#: NIK digits a typo may touch, as the parts a NIK-neighbour key leaves out: one substituted
#: digit lies in one of region / birth date / serial, and two swapped neighbours lie in one of
#: them or straddle a border (5|6, 11|12) — every single typo leaves at least one key whole.
NIK_KEYS = ("nik_tanpa_wilayah", "nik_tanpa_tanggal", "nik_tanpa_nomor_urut",
            "nik_tanpa_batas_wilayah", "nik_tanpa_batas_nomor_urut")


def blocking_keys(*, desa_id: str, nik: str | None) -> list[tuple]:
    """Among persons born on one day, only those that share one of these keys are compared.
    They are exactly the pairs ``duplicate_score`` can score: the same kecamatan (names are
    compared inside it), or NIKs one typo apart (a neighbour key of each typo, above). Names
    alone never make a candidate across kecamatan, so they are no key: blocks are a
    kecamatan's births of one day, and a NIK's few neighbours — they do not grow with the
    province's registry the way name-start or name-end blocks do."""
    if not nik:
        return [("kecamatan", desa_id[:8])]
    return [("kecamatan", desa_id[:8]), (NIK_KEYS[0], nik[6:]), (NIK_KEYS[1], nik[:6] + nik[12:]),
            (NIK_KEYS[2], nik[:12]), (NIK_KEYS[3], nik[:5] + nik[7:]),
            (NIK_KEYS[4], nik[:11] + nik[13:])]


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
