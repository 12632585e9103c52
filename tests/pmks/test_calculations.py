"""Pure rules of the registry (pmks.calculations): name keys, NIK typos, duplicate scores and
the case workflow. No database."""

import itertools

import pytest

from dinsos.names import name_key, name_similarity
from pmks.calculations import (
    blocking_keys,
    case_transition_allowed,
    duplicate_score,
    nik_one_typo_apart,
)

# --- name_key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        # Muhammad and its abbreviations
        ("Muhammad Rizky", "muhamadrizky"),
        ("Muhamad Rizky", "muhamadrizky"),
        ("Mohammad Rizky", "muhamadrizky"),
        ("Mochammad Rizky", "muhamadrizky"),
        ("Moch. Rizky", "muhamadrizky"),
        ("Moh Rizky", "muhamadrizky"),
        ("Muh. Rizky", "muhamadrizky"),
        ("M. Rizky", "muhamadrizky"),
        ("M Rizky", "muhamadrizky"),
        ("M. Rizki", "muhamadrizki"),
        # Siti / St.
        ("Siti Aminah", "sitiaminah"),
        ("St. Aminah", "sitiaminah"),
        ("Sitti Aminah", "sitiaminah"),
        ("St Nur Haliza", "sitinurhaliza"),
        # honorifics before the name are dropped
        ("H. Ahmad Fauzi", "ahmadfauzi"),
        ("H Ahmad Fauzi", "ahmadfauzi"),
        ("Hj. Siti Aminah", "sitiaminah"),
        ("Hajjah Siti Aminah", "sitiaminah"),
        ("Dr. Ir. Ahmad Fauzi", "ahmadfauzi"),
        ("Ny. Siti Aminah", "sitiaminah"),
        # ... but not inside it
        ("Rahmat H. Sutisna", "rahmathsutisna"),
        # degrees after a comma are dropped
        ("Ahmad Fauzi, S.Pd.", "ahmadfauzi"),
        ("Dr. Ahmad Fauzi, S.Pd., M.Si.", "ahmadfauzi"),
        ("Siti Aminah, A.Md.Keb", "sitiaminah"),
        # spacing, case and punctuation
        ("Nur Aini", "nuraini"),
        ("Nuraini", "nuraini"),
        ("  NUR   aini ", "nuraini"),
        ("Nur-Aini", "nuraini"),
        ("Nur'aini", "nuraini"),
        # doubled letters
        ("Nurr Ainni", "nuraini"),
        ("Abdullah", "abdulah"),
        ("Muhammad", "muhamad"),
        # old spelling
        ("Soekarno", "sukarno"),
        ("Sukarno", "sukarno"),
        ("Achmad Fauzi", "ahmadfauzi"),
        ("Ahmad Fauzi", "ahmadfauzi"),
        ("Tjitra", "citra"),
        ("Sjahrir", "syahrir"),
        ("Khairul Anam", "hairulanam"),
        ("Hairul Anam", "hairulanam"),
        # accents, empty
        ("André Ramírez", "andreramirez"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_name_key(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize(
    ("variant_a", "variant_b"),
    [
        ("Muhammad Rizky", "M. Rizky"),
        ("Muhamad Rizky", "Moch. Rizky"),
        ("Mohammad Rizky", "Muhammad Rizky"),
        ("Siti Nurhaliza", "St. Nur Haliza"),
        ("H. Ahmad Fauzi", "Achmad Fauzi"),
        ("Hj. Siti Aminah", "St. Aminah"),
        ("Ahmad Fauzi, S.Pd.", "AHMAD FAUZI"),
        ("Nur Aini", "Nuraini"),
        ("Soekarno", "Sukarno"),
        ("Achmad", "Ahmad"),
        ("Djoko Susilo", "Joko Susilo"),
        ("Tjipto Mangoenkoesoemo", "Cipto Mangunkusumo"),
        ("Sjamsuddin", "Syamsudin"),
    ],
)
def test_variants_of_one_name_share_a_key(variant_a, variant_b):
    assert name_key(variant_a) == name_key(variant_b)


@pytest.mark.parametrize(
    ("name_a", "name_b"),
    [
        ("Budi Santoso", "Dewi Lestari"),
        ("Siti Aminah", "Siti Aisyah"),
        ("Muhammad Rizky", "Muhammad Rizal"),
    ],
)
def test_different_names_keep_different_keys(name_a, name_b):
    assert name_key(name_a) != name_key(name_b)


@pytest.mark.parametrize(
    "name",
    ["Ahmad Jaelani", "Slamet Jaya", "Malik Hamid", "Agus Jamil", "Rahmat Tjahjono",
     "Ahmad Djaelani", "Budi Sjafei"],
)
def test_old_spelling_folds_inside_each_word(name):
    """A fold never matches across a word boundary ("Ahmad Jaelani" keeps its "d")."""
    assert name_key(name) == "".join(name_key(word) for word in name.split())


def test_old_and_modern_spelling_agree_across_words():
    assert name_key("Ahmad Djaelani") == name_key("Ahmad Jaelani")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Wahju Hidajat", "Wahyu Hidayat"),
        ("Jusuf", "Yusuf"),
        ("Njoman", "Nyoman"),
        ("Djaja", "Jaya"),
    ],
)
def test_old_spelling_j_for_y_folds(old, new):
    assert name_key(old) == name_key(new)


@pytest.mark.parametrize(
    ("key_a", "key_b", "expected"),
    [
        ("nuraini", "nuraini", 1.0),
        ("", "nuraini", 0.0),
        ("nuraini", "", 0.0),
        ("abcd", "wxyz", 0.0),
        ("muhamadrizky", "muhamadrizki", 11 / 12),
    ],
)
def test_name_similarity(key_a, key_b, expected):
    assert name_similarity(key_a, key_b) == pytest.approx(expected)


# --- NIK typos --------------------------------------------------------------------------------

NIK = "3601011708800001"


@pytest.mark.parametrize(
    ("nik_a", "nik_b", "expected"),
    [
        (NIK, "3601011708800002", True),  # one substitution (serial)
        (NIK, "3601021708800001", True),  # one substitution (region)
        (NIK, "3601011708800010", True),  # adjacent swap 01 -> 10
        ("3601011708800012", "3601011708800021", True),  # adjacent swap 12 -> 21
        ("3601011708800012", "3601011708800034", False),  # two adjacent digits changed
        (NIK, "3601011708800102", False),  # a non-adjacent swap: two substitutions
        (NIK, "3601021708800002", False),  # two substitutions
        (NIK, "4602011708800001", False),  # two substitutions far apart
        (NIK, NIK, False),  # equal
        (NIK, None, False),
        (None, NIK, False),
        (None, None, False),
        ("", "", False),
        (NIK, "360101170880001", False),  # different length
    ],
)
def test_nik_one_typo_apart(nik_a, nik_b, expected):
    assert nik_one_typo_apart(nik_a, nik_b) is expected
    assert nik_one_typo_apart(nik_b, nik_a) is expected


# --- duplicate score --------------------------------------------------------------------------

SAME_NAME = ["nama_sama_setelah_normalisasi", "tanggal_lahir_sama", "kecamatan_sama"]
SIMILAR_NAME = ["nama_mirip", "tanggal_lahir_sama", "kecamatan_sama"]


@pytest.mark.parametrize(
    ("name_a", "name_b", "same_kecamatan", "nik_a", "nik_b", "score", "reasons"),
    [
        # planted variants: same birth date and kecamatan, no NIK
        ("Muhammad Rizky", "M. Rizki", True, None, None, 67, SIMILAR_NAME),
        ("Siti Nurhaliza", "St. Nur Haliza", True, None, None, 90, SAME_NAME),
        ("H. Ahmad Fauzi", "Achmad Fauzi", True, None, None, 90, SAME_NAME),
        ("Nur Aini", "Nuraini", True, None, None, 90, SAME_NAME),
        ("Soekarno", "Sukarno", True, None, None, 90, SAME_NAME),
        # one of the two without NIK: the name decides
        ("Siti Nurhaliza", "St. Nur Haliza", True, NIK, None, 90, SAME_NAME),
        # NIKs one typo apart, same birth date
        ("Budi Santoso", "Budi Santoso", True, NIK, "3601011708800002", 95,
         ["nik_satu_digit_berbeda", *SAME_NAME]),
        ("Budi Santoso", "Budi Santosa", False, NIK, "3601011708800010", 95,
         ["nik_satu_digit_berbeda", "nama_mirip", "tanggal_lahir_sama"]),
        # ... but only when the names agree: twins, and people born the same day in a
        # neighbouring kecamatan, have NIKs one digit apart too (issue #11: precision 0.04)
        ("Budi Santoso", "Dewi Lestari", False, NIK, "3601011708800002", 0, []),
        ("Ahmad Hidayat", "Agus Hidayat", True, NIK, "3601011708800002", 0, []),
        ("Budi Santoso", "Budi Santoso", False, NIK, "3601021708800001", 95,
         ["nik_satu_digit_berbeda", "nama_sama_setelah_normalisasi", "tanggal_lahir_sama"]),
        # two different valid NIKs that are not one typo apart: different people
        ("Budi Santoso", "Budi Santoso", True, NIK, "3601011708800033", 0, []),
        ("Muhammad Rizky", "M. Rizky", True, NIK, "3601011708800345", 0, []),
        # different kecamatan and no NIK typo
        ("Budi Santoso", "Budi Santoso", False, None, None, 0, []),
        ("Siti Nurhaliza", "St. Nur Haliza", False, NIK, None, 0, []),
        # distinct names, same birth date and kecamatan
        ("Budi Santoso", "Dewi Lestari", True, None, None, 0, []),
        ("Siti Aminah", "Siti Aisyah", True, None, None, 0, []),
        # no name at all
        ("", "", True, None, None, 0, []),
    ],
)
def test_duplicate_score_same_birth_date(name_a, name_b, same_kecamatan, nik_a, nik_b, score,
                                         reasons):
    result = duplicate_score(
        key_a=name_key(name_a), key_b=name_key(name_b), same_kecamatan=same_kecamatan,
        same_birth_date=True, nik_a=nik_a, nik_b=nik_b,
    )
    assert result == (score, reasons)
    if score:
        assert score >= 60


@pytest.mark.parametrize(
    ("nik_a", "nik_b"), [(None, None), (NIK, "3601011708800002"), (NIK, None)]
)
def test_duplicate_score_needs_the_same_birth_date(nik_a, nik_b):
    assert duplicate_score(
        key_a="budisantoso", key_b="budisantoso", same_kecamatan=True, same_birth_date=False,
        nik_a=nik_a, nik_b=nik_b,
    ) == (0, [])


def test_duplicate_score_grows_with_name_similarity():
    def score(key_b):
        return duplicate_score(key_a="muhamadrizky", key_b=key_b, same_kecamatan=True,
                               same_birth_date=True, nik_a=None, nik_b=None)[0]

    assert score("muhamadrizky") == 90  # equal after normalisation
    assert score("muhamadrizkya") == 76  # similarity 0.96
    assert score("muhamadrizki") == 67  # similarity 0.92
    assert score("muhamadriski") == 0  # similarity 0.83, below the 0.88 threshold


# --- blocking ---------------------------------------------------------------------------------


def test_the_fast_name_pre_check_never_refuses_a_similar_pair():
    """``may_be_similar`` (rapidfuzz, C) bounds ``name_similarity`` from above: over name-like
    keys it refuses no pair that reaches the threshold (so the duplicate finder's results stay
    the same), and it does refuse most dissimilar ones (so it saves the work)."""
    import random

    from dinsos.names import NAME_THRESHOLD, may_be_similar

    rnd = random.Random(7)
    letters = "aaiiuuehkmnrsty"
    refused = 0
    for _i in range(20000):
        a = "".join(rnd.choice(letters) for _j in range(rnd.randrange(4, 16)))
        b = list(a)
        for _k in range(rnd.randrange(0, 4)):
            b[rnd.randrange(len(b))] = rnd.choice(letters)
        b = "".join(b) if rnd.random() < 0.7 else "".join(b[:-1])
        if name_similarity(a, b) >= NAME_THRESHOLD:
            assert may_be_similar(a, b), (a, b)
        refused += not may_be_similar(a, b)
    assert refused > 2000


def _keys(desa, nik):
    return set(blocking_keys(desa_id=desa, nik=nik))


def test_blocking_keys_survive_every_nik_typo():
    """Every one-digit substitution and every swap of two neighbouring digits — at any
    position, borders of region, birth date and serial included — leaves a shared key, even
    for persons in different kecamatan."""
    nik = "3601142112670001"
    original = _keys("36.01.14.2007", nik)
    typos = [nik[:i] + d + nik[i + 1:] for i in range(16) for d in "0123456789" if d != nik[i]]
    typos += [nik[:i] + nik[i + 1] + nik[i] + nik[i + 2:] for i in range(15)
              if nik[i] != nik[i + 1]]
    assert len(typos) > 150
    for typo in typos:
        assert nik_one_typo_apart(nik, typo)
        assert original & _keys("36.71.01.1001", typo), typo


def test_names_alone_make_no_block_across_kecamatan():
    """A name typo across kecamatan without a NIK can never score (the same kecamatan or a NIK
    typo is required), so it shares no key; inside one kecamatan it shares the kecamatan."""
    assert not _keys("36.01.14.2007", None) & _keys("36.02.01.2001", None)
    assert _keys("36.01.14.2007", None) & _keys("36.01.14.2001", "3601142112670001")


def test_every_pair_that_can_score_shares_a_block():
    """Blocking loses no candidate: over persons of one birth date with name variants, NIK
    typos, twins and missing NIKs, every pair ``duplicate_score`` scores shares a key."""
    import random

    rnd = random.Random(11)
    names = ["Muhammad Rizki", "M. Rizky", "Moch Rizki", "Siti Aminah", "St. Aminah",
             "Djoko Santoso", "Joko Santoso", "Bambang Wahyudi", "Batbang Wahyudi"]
    desas = ["36.01.14.2007", "36.01.14.2001", "36.02.01.2001", "36.71.01.1001"]
    people = []
    for _i in range(120):
        nik = "36011421126" + f"{rnd.randrange(10**5):05d}"
        if rnd.random() < 0.3:
            i = rnd.randrange(16)
            nik = nik[:i] + str(rnd.randrange(10)) + nik[i + 1:]
        people.append((name_key(rnd.choice(names)), rnd.choice(desas),
                       None if rnd.random() < 0.2 else nik))
    scored = 0
    for (key_a, desa_a, nik_a), (key_b, desa_b, nik_b) in itertools.combinations(people, 2):
        score, _reasons = duplicate_score(key_a=key_a, key_b=key_b, nik_a=nik_a, nik_b=nik_b,
                                          same_kecamatan=desa_a[:8] == desa_b[:8],
                                          same_birth_date=True)
        if score:
            scored += 1
            assert _keys(desa_a, nik_a) & _keys(desa_b, nik_b)
    assert scored > 100


# --- case workflow ----------------------------------------------------------------------------

STATUSES = ["teridentifikasi", "terverifikasi", "dalam_penanganan", "selesai", "dirujuk",
            "ditutup"]
ALLOWED = {
    ("teridentifikasi", "terverifikasi"),
    ("teridentifikasi", "dirujuk"),
    ("teridentifikasi", "ditutup"),
    ("terverifikasi", "dalam_penanganan"),
    ("terverifikasi", "dirujuk"),
    ("terverifikasi", "ditutup"),
    ("dalam_penanganan", "selesai"),
    ("dalam_penanganan", "dirujuk"),
    ("dalam_penanganan", "ditutup"),
}
ALL_PAIRS = list(itertools.product(STATUSES, STATUSES))
REFUSED = sorted(set(ALL_PAIRS) - ALLOWED)


def test_transition_table_sizes():
    assert len(ALL_PAIRS) == 36
    assert len(REFUSED) == 27


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
def test_case_transition_allowed(from_status, to_status):
    assert case_transition_allowed(from_status, to_status) is True


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_case_transition_refused(from_status, to_status):
    assert case_transition_allowed(from_status, to_status) is False


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [("", "teridentifikasi"), ("baru", "terverifikasi"), ("teridentifikasi", "baru"),
     ("teridentifikasi", "")],
)
def test_unknown_statuses_are_refused(from_status, to_status):
    assert case_transition_allowed(from_status, to_status) is False
