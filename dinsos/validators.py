"""Validators for Indonesian identity numbers: NIK, No. KK and NPWP.

All checks are offline and need neither the database nor the region list:

* **NIK** (Nomor Induk Kependudukan), 16 digits ``PPKKCC DDMMYY SSSS``: province, kab/kota and
  kecamatan where the number was first issued, birth date with 40 added to the day for women,
  and a serial from 0001.
* **No. KK** (Nomor Kartu Keluarga), 16 digits: issuing region (6), registration date
  ``DDMMYY`` (6, no +40), serial (4).
* **NPWP**: 15 digits (old format, often written ``01.234.567.8-901.000``) or 16 digits (new
  format since 2024; for a citizen it equals the NIK).

The region code in a NIK/KK is only checked for a known province and a non-zero kab/kota part:
it is the code of the place of first registration, which may since have been split or renamed,
so it is deliberately not checked against today's list (see :mod:`dinsos.nik_region` to name it).

Every :class:`~django.core.exceptions.ValidationError` raised here carries a ``code`` so callers
and tests can tell the failures apart without parsing the (Indonesian) message.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from dinsos.money import format_bulan

__all__ = [
    "VALID_PROVINCE_CODES",
    "build_nik",
    "build_no_kk",
    "NikInfo",
    "NotAfterThisMonth",
    "NotInFuture",
    "UploadedFile",
    "mask_identity_number",
    "mask_nik",
    "mask_no_kk",
    "normalize_npwp",
    "parse_nik",
    "validate_account_number",
    "validate_nik",
    "validate_nik_matches",
    "validate_no_kk",
    "validate_npwp",
    "validate_phone",
]

#: The 38 current province codes (Kemendagri), as 2-character strings.
VALID_PROVINCE_CODES: frozenset[str] = frozenset(
    [str(code) for code in range(11, 20)]  # Aceh … Kepulauan Riau
    + ["21"]
    + [str(code) for code in range(31, 37)]  # Jakarta … Banten
    + ["51", "52", "53"]
    + [str(code) for code in range(61, 66)]  # Kalimantan
    + [str(code) for code in range(71, 77)]  # Sulawesi
    + ["81", "82"]  # Maluku, Maluku Utara
    + [str(code) for code in range(91, 97)]  # Papua (6 provinces since 2022)
)

#: Added to the birth day of a woman in her NIK.
FEMALE_DAY_OFFSET = 40

#: Any leap year: the NIK holds only two digits of the year, so 29 February is always allowed.
_LEAP_YEAR = 2000

SEX_MALE = "L"
SEX_FEMALE = "P"

# ASCII digits only: str.isdigit() would also accept e.g. Arabic-Indic or full-width digits.
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_NPWP_SEPARATORS = re.compile(r"[\s.\-]")
_NPWP_DIGITS = re.compile(r"[0-9]{15}|[0-9]{16}")

_SEX_LABELS = {SEX_MALE: _("laki-laki"), SEX_FEMALE: _("perempuan")}


@dataclass(frozen=True)
class NikInfo:
    """The parts of a valid NIK.

    ``birth_day`` is the real day of the month (40 already subtracted for women); the year is
    only known to two digits (``birth_year_2d``), the century is not in the number.
    """

    province_code: str  # "36"
    kab_kota_code: str  # "3601" (province + kab/kota, undotted)
    kecamatan_code: str  # "360101"
    birth_day: int
    birth_month: int
    birth_year_2d: int
    sex: str  # "L" (laki-laki) or "P" (perempuan)
    serial: str  # "0001"

    @property
    def kab_kota_kode(self) -> str:
        """Dotted Kemendagri code of the kab/kota, e.g. ``"36.01"``."""
        return f"{self.kab_kota_code[:2]}.{self.kab_kota_code[2:]}"

    @property
    def kecamatan_kode(self) -> str:
        """Dotted Kemendagri code of the kecamatan, e.g. ``"36.01.01"``."""
        code = self.kecamatan_code
        return f"{code[:2]}.{code[2:4]}.{code[4:]}"

    def matches_birth_date(self, birth_date: datetime.date) -> bool:
        """Whether day, month and the last two digits of the year agree with ``birth_date``."""
        return (
            self.birth_day == birth_date.day
            and self.birth_month == birth_date.month
            and self.birth_year_2d == birth_date.year % 100
        )


def _clean(value: object) -> str:
    """The value as a string without surrounding whitespace ("" for None)."""
    if value is None:
        return ""
    return str(value).strip()


def _is_calendar_day(day: int, month: int) -> bool:
    try:
        datetime.date(_LEAP_YEAR, month, day)
    except ValueError:
        return False
    return True


def _check_region(number: str, *, label: str, code_prefix: str) -> None:
    """Check the 6-digit region part (province + kab/kota + kecamatan) of a NIK or No. KK."""
    province = number[:2]
    if province not in VALID_PROVINCE_CODES:
        raise ValidationError(
            _("Kode provinsi %(province)s pada %(label)s tidak dikenal."),
            code=f"{code_prefix}_invalid_province",
            params={"province": province, "label": label},
        )
    if number[2:4] == "00":
        raise ValidationError(
            _("Kode kabupaten/kota pada %(label)s tidak boleh 00."),
            code=f"{code_prefix}_invalid_kab_kota",
            params={"label": label},
        )


def _check_serial(number: str, *, label: str, code_prefix: str) -> None:
    if number[12:] == "0000":
        raise ValidationError(
            _("Nomor urut (4 angka terakhir) %(label)s tidak boleh 0000."),
            code=f"{code_prefix}_invalid_serial",
            params={"label": label},
        )


def nik_sex(number: str) -> str:
    """The sex a well-formed NIK records: a woman's day of birth is written plus 40."""
    return SEX_FEMALE if int(number[6:8]) > FEMALE_DAY_OFFSET else SEX_MALE


def parse_nik(value: object) -> NikInfo:
    """Check a NIK and return its parts.

    Surrounding whitespace is ignored; anything else that is not exactly 16 ASCII digits is
    refused (no dots, dashes or inner spaces). Raises :class:`ValidationError` with one of the
    codes ``nik_invalid_format``, ``nik_invalid_province``, ``nik_invalid_kab_kota``,
    ``nik_invalid_birth_date``, ``nik_invalid_serial``.
    """
    number = _clean(value)
    if not _SIXTEEN_DIGITS.fullmatch(number):
        raise ValidationError(
            _("NIK harus terdiri dari tepat 16 angka."),
            code="nik_invalid_format",
        )
    _check_region(number, label="NIK", code_prefix="nik")

    encoded_day = int(number[6:8])
    month = int(number[8:10])
    sex = nik_sex(number)
    day = encoded_day - FEMALE_DAY_OFFSET if sex == SEX_FEMALE else encoded_day
    if not _is_calendar_day(day, month):
        raise ValidationError(
            _(
                "Tanggal lahir pada NIK (%(ddmm)s) bukan tanggal yang sah. Untuk perempuan "
                "tanggal lahir ditambah 40 (01–31 laki-laki, 41–71 perempuan)."
            ),
            code="nik_invalid_birth_date",
            params={"ddmm": f"{number[6:8]}-{number[8:10]}"},
        )
    _check_serial(number, label="NIK", code_prefix="nik")

    return NikInfo(
        province_code=number[:2],
        kab_kota_code=number[:4],
        kecamatan_code=number[:6],
        birth_day=day,
        birth_month=month,
        birth_year_2d=int(number[10:12]),
        sex=sex,
        serial=number[12:],
    )


def validate_nik(value: object) -> None:
    """Django validator for a NIK (use in ``validators=[validate_nik]``)."""
    parse_nik(value)


def _guess_century_year(year_2d: int, reference_year: int) -> int:
    """A 4-digit year for a 2-digit birth year: the latest one not after ``reference_year``."""
    year = reference_year - reference_year % 100 + year_2d
    return year - 100 if year > reference_year else year


def validate_nik_matches(
    nik: object,
    *,
    birth_date: datetime.date,
    sex: str,
    field: str = "nik",
) -> None:
    """Check that a NIK agrees with the recorded birth date and sex (``"L"``/``"P"``).

    Raises :class:`ValidationError` keyed by ``field`` (default ``{"nik": [...]}``): either the
    errors of :func:`parse_nik` when the NIK itself is invalid, or one error with code
    ``nik_mismatch`` whose message says what the NIK implies and what the data says. Only the
    last two digits of the year can be compared.
    """
    if sex not in _SEX_LABELS:
        raise ValueError(f"sex must be {SEX_MALE!r} or {SEX_FEMALE!r}, not {sex!r}")
    try:
        info = parse_nik(nik)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from exc

    date_ok = info.matches_birth_date(birth_date)
    sex_ok = info.sex == sex
    if date_ok and sex_ok:
        return

    if info.birth_year_2d == birth_date.year % 100:
        century = birth_date.year // 100
    else:
        century = _guess_century_year(info.birth_year_2d, timezone.localdate().year) // 100
    if date_ok:  # only the sex (the NIK's day + 40 for a woman) disagrees
        message = _("NIK menunjukkan jenis kelamin %(nik_sex)s (perempuan: tanggal lahir + 40), "
                    "tetapi data tertulis jenis kelamin %(data_sex)s.")
    elif sex_ok:  # only the birth date disagrees
        message = _("NIK menunjukkan tanggal lahir %(nik_date)s, tetapi data tertulis tanggal "
                    "lahir %(data_date)s.")
    else:
        message = _("NIK menunjukkan tanggal lahir %(nik_date)s dan jenis kelamin %(nik_sex)s, "
                    "tetapi data tertulis tanggal lahir %(data_date)s dan jenis kelamin "
                    "%(data_sex)s.")
    raise ValidationError(
        {
            field: [
                ValidationError(
                    message,
                    code="nik_mismatch",
                    params={
                        "nik_date": (
                            f"{info.birth_day:02d}-{info.birth_month:02d}-"
                            f"({century:02d}){info.birth_year_2d:02d}"
                        ),
                        "nik_sex": _SEX_LABELS[info.sex],
                        "data_date": birth_date.strftime("%d-%m-%Y"),
                        "data_sex": _SEX_LABELS[sex],
                        "birth_date_matches": date_ok,
                        "sex_matches": sex_ok,
                    },
                )
            ]
        }
    )


def validate_no_kk(value: object) -> None:
    """Django validator for a No. KK (Nomor Kartu Keluarga).

    16 ASCII digits (surrounding whitespace ignored): a known province, a non-zero kab/kota part,
    a registration date ``DDMMYY`` that is a real calendar date (the year is taken as 20YY for
    the 29 February check), and a serial other than 0000. Codes: ``no_kk_invalid_format``,
    ``no_kk_invalid_province``, ``no_kk_invalid_kab_kota``, ``no_kk_invalid_date``,
    ``no_kk_invalid_serial``.
    """
    number = _clean(value)
    if not _SIXTEEN_DIGITS.fullmatch(number):
        raise ValidationError(
            _("Nomor KK harus terdiri dari tepat 16 angka."),
            code="no_kk_invalid_format",
        )
    _check_region(number, label="Nomor KK", code_prefix="no_kk")
    day, month, year_2d = int(number[6:8]), int(number[8:10]), int(number[10:12])
    try:
        datetime.date(2000 + year_2d, month, day)
    except ValueError:
        raise ValidationError(
            _("Tanggal pencatatan pada Nomor KK (%(ddmmyy)s) bukan tanggal yang sah."),
            code="no_kk_invalid_date",
            params={"ddmmyy": f"{number[6:8]}-{number[8:10]}-{number[10:12]}"},
        ) from None
    _check_serial(number, label="Nomor KK", code_prefix="no_kk")


def normalize_npwp(value: object) -> str:
    """Return the NPWP as digits only (15 or 16), or raise :class:`ValidationError`.

    Spaces, dots and dashes are removed, so ``"01.234.567.8-901.000"`` gives
    ``"012345678901000"``. Codes: ``npwp_invalid_format`` (not 15 or 16 digits) and
    ``npwp_all_zero`` (the ``00.000.000.0-000.000`` placeholder used for "no NPWP").
    The check digit of the old format is not verified.
    """
    number = _NPWP_SEPARATORS.sub("", _clean(value))
    if not _NPWP_DIGITS.fullmatch(number):
        raise ValidationError(
            _(
                "NPWP harus terdiri dari 15 angka (format lama, mis. 01.234.567.8-901.000) "
                "atau 16 angka (format baru)."
            ),
            code="npwp_invalid_format",
        )
    if not number.strip("0"):
        raise ValidationError(
            _("NPWP yang semuanya nol bukan NPWP yang sah."),
            code="npwp_all_zero",
        )
    return number


def validate_npwp(value: object) -> None:
    """Django validator for an NPWP (15 or 16 digits, punctuation allowed)."""
    normalize_npwp(value)


def mask_identity_number(value: object, *, head: int = 6, tail: int = 2) -> str:
    """Mask a NIK or No. KK for display: ``"3601011708850001"`` → ``"360101********01"``.

    Only the region part (first 6) and the last 2 characters stay visible. ``None`` or an empty
    value gives ``""``; a value too short to hide at least half of it (under 16 characters for
    the defaults) is masked completely, so a mistyped number never leaks.
    """
    text = _clean(value)
    if len(text) < 2 * (head + tail):
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


#: A run of 15–16 ASCII digits standing alone — a NIK, a No. KK or an NPWP inside some text —
#: also as staff type and paste it, a space, dot or dash between digits ("3601 0117 0885 0001",
#: which the searches take as the whole number), and so as a URL's query carries it ("+",
#: "%20"); a longer run (amounts one after another) is not one.
_SEPARATOR = "(?:[ .+-]|%20)"
_IDENTITY_NUMBER_RUN = re.compile(
    rf"(?<![0-9])(?<![0-9][ .+-])(?<![0-9]%20)[0-9](?:{_SEPARATOR}?[0-9]){{14,15}}"
    rf"(?!{_SEPARATOR}?[0-9])")


def mask_identity_numbers_in(text: str) -> str:
    """``text`` (a URL, a query value, a log line) with every run of 15–16 digits masked as
    :func:`mask_identity_number` masks one number: ``"/by-nik/3601011708850001/"`` →
    ``"/by-nik/360101********01/"`` (a 15-digit NPWP is hidden completely); one typed with
    separators is masked the same way, its separators dropped."""
    return _IDENTITY_NUMBER_RUN.sub(
        lambda m: mask_identity_number(re.sub(_SEPARATOR, "", m.group())), text)


def mask_nik(value: object) -> str:
    """Mask a NIK for display (see :func:`mask_identity_number`)."""
    return mask_identity_number(value)


def mask_no_kk(value: object) -> str:
    """Mask a No. KK for display (see :func:`mask_identity_number`)."""
    return mask_identity_number(value)


def build_nik(kecamatan_kode: str, birth_date: datetime.date, sex: str, serial: int) -> str:
    """Compose a NIK (for demo data and tests): region, birth date (+40 for women), serial."""
    region = kecamatan_kode.replace(".", "")
    if len(region) != 6 or not region.isdigit():
        raise ValueError("kecamatan_kode must look like 36.01.01")
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == SEX_FEMALE else 0)
    return f"{region}{day:02d}{birth_date:%m%y}{serial:04d}"


def build_no_kk(kecamatan_kode: str, registered_on: datetime.date, serial: int) -> str:
    """Compose a No. KK (for demo data and tests)."""
    region = kecamatan_kode.replace(".", "")
    return f"{region}{registered_on:%d%m%y}{serial:04d}"


#: a bank account number as banks issue them: 6–20 ASCII digits (PSKS accounts, Jamsosratu's
#: Bank Banten accounts): nothing a spreadsheet could read as a formula reaches a bank file
validate_account_number = RegexValidator(r"^[0-9]{6,20}$",
                                         _("Nomor rekening harus 6–20 angka saja."))

#: the characters of a phone number; "at least one digit" is asked apart: the one-pattern form
#: ``[…]*[0-9][…]*`` backtracked quadratically on a long run of digits ending in a letter
#: (40,000 characters took 5 s, and every validator runs whatever the field's max_length)
_PHONE = re.compile(r"[0-9 +()-]+")
_DIGIT = re.compile(r"[0-9]")


def validate_phone(value) -> None:
    """A phone number as people write it: ASCII digits with spaces, ``+``, ``-`` and
    parentheses (``+62 812-3456-7890``, ``(0254) 123456``); letters are refused."""
    if value and not (_PHONE.fullmatch(str(value)) and _DIGIT.search(str(value))):
        raise ValidationError(
            _("Telepon hanya boleh berisi angka, spasi, +, - dan tanda kurung, mis. "
              "0812-3456-7890."), code="phone_invalid")


def validate_whole_rupiah(value) -> None:
    """Money inputs are whole rupiah: 1000000 and 1000000.00 pass, 1000000.5 does not."""
    if value is not None and value != value.to_integral_value():
        raise ValidationError(_("Nilai harus dalam rupiah penuh (tanpa sen), mis. 1500000."),
                              code="whole_rupiah")


def validate_not_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("Nilai tidak boleh negatif."), code="negative")


@deconstructible
class UploadedFile:
    """What a stored upload may be, on every door (a model field validator: the staff page's
    form, the API's serializer and the admin all ask it): one of ``extensions``, at most
    ``max_mb``, and, when ``image``, a picture Pillow can read (a page or a program renamed
    .jpg is refused). The API took any file of any size where the page took only a photo."""

    def __init__(self, extensions, max_mb: int, image: bool = False):
        self.extensions, self.max_mb, self.image = tuple(extensions), max_mb, image

    def __call__(self, value) -> None:
        if not value or getattr(value, "_committed", False):
            return  # a file already stored was accepted by the rules of its day: not asked again
        name = str(getattr(value, "name", "") or "")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in self.extensions:
            raise ValidationError(
                _("Jenis berkas .%(ext)s tidak diterima; gunakan %(allowed)s.")
                % {"ext": extension or "?", "allowed": ", ".join(f".{e}" for e in self.extensions)},
                code="file_type")
        if value.size > self.max_mb * 1024 * 1024:
            raise ValidationError(_("Berkas paling besar %(mb)d MB.") % {"mb": self.max_mb},
                                  code="file_size")
        if self.image and not _is_image(value):
            raise ValidationError(_("Berkas bukan gambar yang dapat dibaca (JPG, PNG, WEBP)."),
                                  code="file_image")

    def __eq__(self, other):
        return isinstance(other, UploadedFile) and (
            self.extensions, self.max_mb, self.image) == (other.extensions, other.max_mb,
                                                          other.image)


def _is_image(value) -> bool:
    from PIL import Image

    position = value.tell() if hasattr(value, "tell") else 0
    try:
        value.seek(0)
        with Image.open(value) as picture:
            picture.verify()
        return True
    except Exception:  # Pillow raises many kinds for a file that is no picture
        return False
    finally:
        value.seek(position)


@deconstructible
class NotInFuture:
    """A date of something that has happened (a birth, a death, a case found): on or before
    Banten's today (WIB), whoever writes it — staff page, admin or API (a model field validator,
    so forms, serializers and ``full_clean`` all ask it). ``what`` names the field."""

    def __init__(self, what):
        self.what = what

    def __call__(self, value) -> None:
        NotBefore1900(self.what)(value)
        if value is not None and value > timezone.localdate():
            raise ValidationError(
                _("%(what)s %(date)s ada di masa depan; hari ini %(today)s."),
                code="future", params={"what": self.what, "date": f"{value:%d-%m-%Y}",
                                       "today": f"{timezone.localdate():%d-%m-%Y}"})

    def __eq__(self, other):
        return isinstance(other, NotInFuture) and self.what == other.what


@deconstructible
class NotBefore1900:
    """A date the registry can hold: from 1 January 1900 (as the import reads birth dates); an
    earlier one is a typing slip (31/12/1899). :class:`NotInFuture` asks it too."""

    def __init__(self, what):
        self.what = what

    def __call__(self, value) -> None:
        if value is not None and value < datetime.date(1900, 1, 1):
            raise ValidationError(_("%(what)s %(date)s sebelum tahun 1900."), code="too_early",
                                  params={"what": self.what, "date": f"{value:%d-%m-%Y}"})

    def __eq__(self, other):
        return isinstance(other, NotBefore1900) and self.what == other.what


@deconstructible
class NotAfterThisMonth:
    """A month that is reported on (a monthly activity report): this month or an earlier one in
    Banten (WIB) — a month's report is written during or after that month, never before it.
    A model-field validator like :class:`NotInFuture`; ``what`` names the field."""

    def __init__(self, what):
        self.what = what

    def __call__(self, value) -> None:
        today = timezone.localdate()
        if value is not None and (value.year, value.month) > (today.year, today.month):
            raise ValidationError(
                _("%(what)s %(month)s belum tiba; laporan dibuat paling cepat untuk bulan ini "
                  "(%(this)s)."),
                code="future_month", params={"what": self.what, "month": format_bulan(value),
                                             "this": format_bulan(today)})

    def __eq__(self, other):
        return isinstance(other, NotAfterThisMonth) and self.what == other.what


#: a number Excel has shown in scientific notation (3.60101E+15): its digits past the 15th are
#: gone, so it can be no identity number (the import refuses it, the search finds no one)
EXCEL_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+")
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def ascii_int(text: object) -> int | None:
    """The whole number that ``text`` spells in ASCII digits, else None. ``int()`` and
    ``str.isdigit()`` also take "²", "٢" or full-width "１０" — a 500 or an English message
    where the field should be refused by name."""
    text = str(text).strip()
    return int(text) if _ASCII_DIGITS.fullmatch(text) else None
