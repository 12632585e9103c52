"""Name the region a NIK or No. KK was issued in.

The first 6 digits of a NIK/No. KK are the Kemendagri codes of the province, kab/kota and
kecamatan where the number was first issued. Names come from two CSV files in ``dinsos/data``
(see ``dinsos/data/SOURCE.md``):

* ``wilayah_indonesia_kabkota.csv``: all 38 provinces and 514 kabupaten/kota of Indonesia;
* ``wilayah_banten.csv``: the full Banten tree, used here for the kecamatan of Banten numbers.

A NIK keeps the code of the place where it was first issued, which may since have been split or
renumbered, so a code missing from today's list is reported in the text (a warning), not raised.
The files are read once, lazily, on first use.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from django.utils.translation import get_language, gettext

__all__ = ["BANTEN_PROVINCE_CODE", "region_name", "region_name_for_nik"]

DATA_DIR = Path(__file__).resolve().parent / "data"
KABKOTA_CSV = DATA_DIR / "wilayah_indonesia_kabkota.csv"
BANTEN_CSV = DATA_DIR / "wilayah_banten.csv"

BANTEN_PROVINCE_CODE = "36"

_REGION_PREFIX = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})?")


def _read_names(path: Path, levels: frozenset[str]) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["kode"].strip(): row["nama"].strip()
            for row in csv.DictReader(handle)
            if row["tingkat"].strip() in levels
        }


@functools.cache
def _indonesia_names() -> dict[str, str]:
    """Dotted code → name for every province and kab/kota of Indonesia."""
    return _read_names(KABKOTA_CSV, frozenset({"provinsi", "kabupaten", "kota"}))


@functools.cache
def _banten_kecamatan_names() -> dict[str, str]:
    """Dotted code → name for every kecamatan of Banten."""
    return _read_names(BANTEN_CSV, frozenset({"kecamatan"}))


def region_name(kode: str) -> str | None:
    """The name of a province, kab/kota or (Banten) kecamatan by dotted code, or None."""
    kode = kode.strip()
    return _indonesia_names().get(kode) or _banten_kecamatan_names().get(kode)


def _unknown(kode: str) -> str:
    return gettext("kode %(kode)s (tidak ada dalam daftar wilayah saat ini)") % {"kode": kode}


def region_name_for_nik(nik: object) -> str | None:
    """Name the region where a NIK or No. KK was issued.

    Returns e.g. ``"Kec. Sumur, Kabupaten Pandeglang, Banten"`` for a Banten number (the
    kecamatan is named for Banten only) and ``"Kota Administrasi Jakarta Selatan, Daerah Khusus
    Ibukota Jakarta"`` elsewhere. A code that is not in today's list is shown as
    ``"kode 36.99 (tidak ada dalam daftar wilayah saat ini), Banten"``. Returns None when the
    value does not start with at least 4 digits (None, empty, letters). The rest of the number
    is not validated: use :func:`dinsos.validators.parse_nik` for that.
    """
    if nik is None:
        return None
    match = _REGION_PREFIX.match(str(nik).strip())
    if match is None:
        return None
    return _region_name(*match.groups(), get_language())


@functools.lru_cache(maxsize=4096)
def _region_name(province: str, kab_kota: str, kecamatan: str | None, _language) -> str:
    """The name of one issuing region in one language (cached: a list page names the same few
    kecamatan over and over)."""
    province_name = _indonesia_names().get(province)
    kab_kota_kode = f"{province}.{kab_kota}"
    kab_kota_name = _indonesia_names().get(kab_kota_kode)

    if province_name is None:
        return _unknown(kab_kota_kode)
    if kab_kota_name is None:
        return f"{_unknown(kab_kota_kode)}, {province_name}"

    parts = [kab_kota_name, province_name]
    if province == BANTEN_PROVINCE_CODE and kecamatan is not None:
        kecamatan_kode = f"{kab_kota_kode}.{kecamatan}"
        kecamatan_name = _banten_kecamatan_names().get(kecamatan_kode)
        if kecamatan_name is None:
            parts.insert(0, _unknown(kecamatan_kode))
        else:
            parts.insert(0, gettext("Kec. %(name)s") % {"name": kecamatan_name})
    return ", ".join(parts)
