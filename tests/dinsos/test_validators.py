"""Tests for dinsos.validators and dinsos.nik_region (no database)."""

import csv
import datetime
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dinsos.nik_region import KABKOTA_CSV, region_name, region_name_for_nik
from dinsos.validators import (
    VALID_PROVINCE_CODES,
    NikInfo,
    mask_identity_number,
    mask_nik,
    mask_no_kk,
    normalize_npwp,
    parse_nik,
    validate_nik,
    validate_nik_matches,
    validate_no_kk,
    validate_npwp,
    validate_phone,
)

# 36.01.01 = Kec. Sumur, Kabupaten Pandeglang, Banten.
NIK_MALE = "3601011708850001"  # laki-laki, 17-08-(19)85
NIK_FEMALE = "3601015708850002"  # perempuan, 57 - 40 = 17-08-(19)85


def messages(exc_info):
    return " ".join(exc_info.value.messages)


# --- province codes -------------------------------------------------------------------------


def test_valid_province_codes_are_the_38_current_ones():
    assert len(VALID_PROVINCE_CODES) == 38
    assert {"11", "19", "21", "31", "36", "51", "53", "61", "65", "71", "76", "81", "82"} <= (
        VALID_PROVINCE_CODES
    )
    assert {"91", "92", "93", "94", "95", "96"} <= VALID_PROVINCE_CODES
    assert not {"10", "20", "22", "30", "37", "50", "54", "60", "66", "70", "77", "83", "90"} & (
        VALID_PROVINCE_CODES
    )


def test_valid_province_codes_agree_with_region_list():
    with KABKOTA_CSV.open(encoding="utf-8", newline="") as handle:
        provinces = {row["kode"] for row in csv.DictReader(handle) if row["tingkat"] == "provinsi"}
    assert provinces == VALID_PROVINCE_CODES


# --- NIK ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            NIK_MALE,
            NikInfo("36", "3601", "360101", 17, 8, 85, "L", "0001"),
        ),
        (
            NIK_FEMALE,
            NikInfo("36", "3601", "360101", 17, 8, 85, "P", "0002"),
        ),
        # Surrounding whitespace is accepted.
        (
            "  3174014101000123\n",
            NikInfo("31", "3174", "317401", 1, 1, 0, "P", "0123"),
        ),
        # 29 February is allowed (the century is unknown), for men and for women (69).
        ("3601012902000001", NikInfo("36", "3601", "360101", 29, 2, 0, "L", "0001")),
        ("3601016902040001", NikInfo("36", "3601", "360101", 29, 2, 4, "P", "0001")),
        # Last day of a 31-day month, both sexes; first day for women is 41.
        ("1101013112999999", NikInfo("11", "1101", "110101", 31, 12, 99, "L", "9999")),
        ("9601017112990001", NikInfo("96", "9601", "960101", 31, 12, 99, "P", "0001")),
        ("9601014101990001", NikInfo("96", "9601", "960101", 1, 1, 99, "P", "0001")),
    ],
)
def test_parse_nik_valid(value, expected):
    assert parse_nik(value) == expected
    validate_nik(value)  # does not raise


def test_nik_info_dotted_codes():
    info = parse_nik(NIK_MALE)
    assert info.kab_kota_kode == "36.01"
    assert info.kecamatan_kode == "36.01.01"


@pytest.mark.parametrize(
    ("value", "code", "keyword"),
    [
        # Not exactly 16 ASCII digits.
        ("360101170885001", "nik_invalid_format", "16 angka"),
        ("36010117088500011", "nik_invalid_format", "16 angka"),
        ("3601.0117.0885.0001", "nik_invalid_format", "16 angka"),
        ("3601-01-170885-0001", "nik_invalid_format", "16 angka"),
        ("3601 0117 0885 0001", "nik_invalid_format", "16 angka"),
        ("36010117O8850001", "nik_invalid_format", "16 angka"),
        ("３６０１０１１７０８８５０００１", "nik_invalid_format", "16 angka"),  # full-width digits
        ("", "nik_invalid_format", "16 angka"),
        (None, "nik_invalid_format", "16 angka"),
        # Province not one of the 38.
        ("3701011708850001", "nik_invalid_province", "provinsi"),
        ("2001011708850001", "nik_invalid_province", "provinsi"),
        ("0001011708850001", "nik_invalid_province", "provinsi"),
        ("9901011708850001", "nik_invalid_province", "provinsi"),
        # Kab/kota part 00.
        ("3600011708850001", "nik_invalid_kab_kota", "kabupaten/kota"),
        # Birth date not a calendar date (after taking 40 off for women).
        ("3601010008850001", "nik_invalid_birth_date", "tanggal lahir"),
        ("3601013208850001", "nik_invalid_birth_date", "tanggal lahir"),
        ("3601014008850001", "nik_invalid_birth_date", "tanggal lahir"),  # 40: neither sex
        ("3601017208850001", "nik_invalid_birth_date", "tanggal lahir"),  # 72 - 40 = 32
        ("3601013002000001", "nik_invalid_birth_date", "tanggal lahir"),  # 30 February
        ("3601017002000001", "nik_invalid_birth_date", "tanggal lahir"),  # 70 - 40 = 30 Feb
        ("3601013104850001", "nik_invalid_birth_date", "tanggal lahir"),  # 31 April
        ("3601011700850001", "nik_invalid_birth_date", "tanggal lahir"),  # month 00
        ("3601011713850001", "nik_invalid_birth_date", "tanggal lahir"),  # month 13
        # Serial 0000.
        ("3601011708850000", "nik_invalid_serial", "nomor urut"),
        ("3601015708850000", "nik_invalid_serial", "nomor urut"),
    ],
)
def test_parse_nik_invalid(value, code, keyword):
    with pytest.raises(ValidationError) as exc_info:
        parse_nik(value)
    assert exc_info.value.code == code
    assert keyword in messages(exc_info).lower()
    assert "NIK" in messages(exc_info)

    with pytest.raises(ValidationError) as exc_info:
        validate_nik(value)
    assert exc_info.value.code == code


def test_invalid_province_message_names_the_code():
    with pytest.raises(ValidationError) as exc_info:
        parse_nik("3701011708850001")
    assert messages(exc_info) == "Kode provinsi 37 pada NIK tidak dikenal."


# --- NIK agrees with birth date and sex -----------------------------------------------------


@pytest.mark.parametrize(
    ("nik", "birth_date", "sex"),
    [
        (NIK_MALE, datetime.date(1985, 8, 17), "L"),
        (NIK_FEMALE, datetime.date(1985, 8, 17), "P"),
        # Only two digits of the year are in the NIK: 2085 cannot be told from 1985.
        (NIK_MALE, datetime.date(2085, 8, 17), "L"),
        ("3601016902000001", datetime.date(2000, 2, 29), "P"),
        ("3601010105070001", datetime.date(2007, 5, 1), "L"),
    ],
)
def test_validate_nik_matches_ok(nik, birth_date, sex):
    validate_nik_matches(nik, birth_date=birth_date, sex=sex)  # does not raise


@pytest.mark.parametrize(
    ("nik", "birth_date", "sex", "expected_message"),
    [
        # Wrong day.
        (
            NIK_MALE,
            datetime.date(1985, 8, 18),
            "L",
            "NIK menunjukkan tanggal lahir 17-08-(19)85, tetapi data tertulis tanggal lahir "
            "18-08-1985.",
        ),
        # Wrong month.
        (
            NIK_FEMALE,
            datetime.date(1985, 7, 17),
            "P",
            "NIK menunjukkan tanggal lahir 17-08-(19)85, tetapi data tertulis tanggal lahir "
            "17-07-1985.",
        ),
        # Wrong year.
        (
            NIK_MALE,
            datetime.date(1986, 8, 17),
            "L",
            "NIK menunjukkan tanggal lahir 17-08-(19)85, tetapi data tertulis tanggal lahir "
            "17-08-1986.",
        ),
        # Wrong sex: a woman's NIK recorded as a man.
        (
            NIK_FEMALE,
            datetime.date(1985, 8, 17),
            "L",
            "NIK menunjukkan jenis kelamin perempuan (perempuan: tanggal lahir + 40), tetapi "
            "data tertulis jenis kelamin laki-laki.",
        ),
        # Wrong sex: a man's NIK recorded as a woman.
        (
            NIK_MALE,
            datetime.date(1985, 8, 17),
            "P",
            "NIK menunjukkan jenis kelamin laki-laki (perempuan: tanggal lahir + 40), tetapi "
            "data tertulis jenis kelamin perempuan.",
        ),
        # A man's NIK (day without +40) recorded as a woman: the 2-digit year 05 is 2005.
        (
            "3601011708050001",
            datetime.date(2005, 8, 17),
            "P",
            "NIK menunjukkan jenis kelamin laki-laki (perempuan: tanggal lahir + 40), tetapi "
            "data tertulis jenis kelamin perempuan.",
        ),
        # Both wrong.
        (
            NIK_FEMALE,
            datetime.date(1958, 8, 17),
            "L",
            "NIK menunjukkan tanggal lahir 17-08-(19)85 dan jenis kelamin perempuan, tetapi data "
            "tertulis tanggal lahir 17-08-1958 dan jenis kelamin laki-laki.",
        ),
    ],
)
def test_validate_nik_matches_mismatch(nik, birth_date, sex, expected_message):
    with pytest.raises(ValidationError) as exc_info:
        validate_nik_matches(nik, birth_date=birth_date, sex=sex)
    error_dict = exc_info.value.error_dict
    assert list(error_dict) == ["nik"]
    assert [error.code for error in error_dict["nik"]] == ["nik_mismatch"]
    assert exc_info.value.message_dict == {"nik": [expected_message]}


def test_a_nik_year_is_read_against_bantens_year_not_the_process_clocks():
    """At 18:00 UTC on 31 December it is already 2027 in Banten: a NIK of a baby born on
    1 January 2027 reads (20)27, not (19)27, even where the process clock is on UTC."""
    baby = "3601010101270001"  # laki-laki, 01-01-27
    with time_machine.travel(datetime.datetime(2026, 12, 31, 18, tzinfo=ZoneInfo("UTC")),
                             tick=False), pytest.raises(ValidationError) as exc_info:
        assert datetime.date.today() == datetime.date(2026, 12, 31)  # the process: still 2026
        validate_nik_matches(baby, birth_date=datetime.date(2000, 1, 1), sex="L")
    assert exc_info.value.message_dict == {"nik": [
        "NIK menunjukkan tanggal lahir 01-01-(20)27, tetapi data tertulis tanggal lahir "
        "01-01-2000."]}


def test_validate_nik_matches_custom_field_and_invalid_nik():
    with pytest.raises(ValidationError) as exc_info:
        validate_nik_matches(
            "3701011708850001", birth_date=datetime.date(1985, 8, 17), sex="L", field="no_nik"
        )
    errors = exc_info.value.error_dict
    assert list(errors) == ["no_nik"]
    assert [error.code for error in errors["no_nik"]] == ["nik_invalid_province"]


def test_validate_nik_matches_rejects_unknown_sex_value():
    with pytest.raises(ValueError):
        validate_nik_matches(NIK_MALE, birth_date=datetime.date(1985, 8, 17), sex="M")


# --- No. KK ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "3601012005100003",  # registered 20-05-2010
        " 3674010101000001 ",  # 01-01-2000, surrounding whitespace
        "3601012902120001",  # 29-02-2012 (leap year)
        "9601013112999999",
    ],
)
def test_validate_no_kk_valid(value):
    validate_no_kk(value)  # does not raise


@pytest.mark.parametrize(
    ("value", "code", "keyword"),
    [
        ("360101200510000", "no_kk_invalid_format", "16 angka"),
        ("36010120051000031", "no_kk_invalid_format", "16 angka"),
        ("3601.0120.0510.0003", "no_kk_invalid_format", "16 angka"),
        ("", "no_kk_invalid_format", "16 angka"),
        (None, "no_kk_invalid_format", "16 angka"),
        ("3701012005100003", "no_kk_invalid_province", "provinsi"),
        ("2001012005100003", "no_kk_invalid_province", "provinsi"),
        ("3600012005100003", "no_kk_invalid_kab_kota", "kabupaten/kota"),
        ("3601016005100003", "no_kk_invalid_date", "tanggal"),  # no +40 on a KK
        ("3601010005100003", "no_kk_invalid_date", "tanggal"),
        ("3601012013100003", "no_kk_invalid_date", "tanggal"),
        ("3601012902130001", "no_kk_invalid_date", "tanggal"),  # 29-02-2013
        ("3601013104100001", "no_kk_invalid_date", "tanggal"),  # 31 April
        ("3601012005100000", "no_kk_invalid_serial", "nomor urut"),
    ],
)
def test_validate_no_kk_invalid(value, code, keyword):
    with pytest.raises(ValidationError) as exc_info:
        validate_no_kk(value)
    assert exc_info.value.code == code
    assert keyword in messages(exc_info).lower()
    assert "Nomor KK" in messages(exc_info)


# --- NPWP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01.234.567.8-901.000", "012345678901000"),
        ("012345678901000", "012345678901000"),
        (" 01 234 567 8 901 000 ", "012345678901000"),
        ("0012345678901000", "0012345678901000"),  # new format, 0 + old number
        ("0012.3456.7890.1000", "0012345678901000"),
        (NIK_MALE, NIK_MALE),  # new format: the NIK
    ],
)
def test_npwp_valid(value, expected):
    assert normalize_npwp(value) == expected
    validate_npwp(value)  # does not raise


@pytest.mark.parametrize(
    ("value", "code", "keyword"),
    [
        ("01234567890100", "npwp_invalid_format", "15 angka"),  # 14 digits
        ("01.234.567.8-901.00", "npwp_invalid_format", "15 angka"),  # 14 digits
        ("36010117088500011", "npwp_invalid_format", "16 angka"),  # 17 digits
        ("01.234.567.8/901.000", "npwp_invalid_format", "npwp"),
        ("O12345678901000", "npwp_invalid_format", "npwp"),
        ("", "npwp_invalid_format", "npwp"),
        (None, "npwp_invalid_format", "npwp"),
        ("00.000.000.0-000.000", "npwp_all_zero", "nol"),
        ("0000000000000000", "npwp_all_zero", "nol"),
    ],
)
def test_npwp_invalid(value, code, keyword):
    for function in (normalize_npwp, validate_npwp):
        with pytest.raises(ValidationError) as exc_info:
            function(value)
        assert exc_info.value.code == code
        assert keyword in messages(exc_info).lower()


# --- masking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3601011708850001", "360101********01"),
        (" 3601015708850002 ", "360101********02"),
        (None, ""),
        ("", ""),
        ("12345", "*****"),
        ("360101170885000", "***************"),  # too short: masked completely
    ],
)
def test_mask(value, expected):
    assert mask_nik(value) == expected
    assert mask_no_kk(value) == expected
    assert mask_identity_number(value) == expected


# --- region of issue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Banten: kecamatan named too.
        (NIK_MALE, "Kec. Sumur, Kabupaten Pandeglang, Banten"),
        ("3674041708850001", "Kec. Ciputat, Kota Tangerang Selatan, Banten"),
        ("3601012005100003", "Kec. Sumur, Kabupaten Pandeglang, Banten"),  # a No. KK
        # Elsewhere: kab/kota and province. 31.71 is Jakarta Pusat, 31.74 Jakarta Selatan.
        (
            "3174011708850001",
            "Kota Administrasi Jakarta Selatan, Daerah Khusus Ibukota Jakarta",
        ),
        (
            "3171011708850001",
            "Kota Administrasi Jakarta Pusat, Daerah Khusus Ibukota Jakarta",
        ),
        # Trailing space in the source name is dropped.
        ("3172011708850001", "Kota Administrasi Jakarta Utara, Daerah Khusus Ibukota Jakarta"),
        ("9601011708850001", "Kabupaten Sorong, Papua Barat Daya"),
        # Codes not in today's list: a warning in the text, not an error.
        ("3699011708850001", "kode 36.99 (tidak ada dalam daftar wilayah saat ini), Banten"),
        (
            "3601991708850001",
            "kode 36.01.99 (tidak ada dalam daftar wilayah saat ini), Kabupaten Pandeglang, Banten",
        ),
        ("3701011708850001", "kode 37.01 (tidak ada dalam daftar wilayah saat ini)"),
        # Nothing to name.
        (None, None),
        ("", None),
        ("36", None),
        ("NIK 3601011708850001", None),
    ],
)
def test_region_name_for_nik(value, expected):
    assert region_name_for_nik(value) == expected


@pytest.mark.parametrize(
    ("kode", "expected"),
    [
        ("36", "Banten"),
        ("36.73", "Kota Serang"),
        ("36.01.01", "Sumur"),
        ("32.73", "Kota Bandung"),
        ("36.99", None),
    ],
)
def test_region_name(kode, expected):
    assert region_name(kode) == expected


@pytest.mark.parametrize("phone", ["+62 812-3456-7890", "(0254) 123456", "0812"])
def test_phones_as_people_write_them_pass(phone):
    validate_phone(phone)


@pytest.mark.parametrize("phone", ["+ ( ) -", "0812 abc", "０８１２"])
def test_a_phone_without_a_digit_or_with_letters_is_refused(phone):
    with pytest.raises(ValidationError, match="Telepon hanya boleh"):
        validate_phone(phone)


def test_a_long_phone_is_refused_in_linear_time():
    """Security audit (December 2026): the pattern ``[0-9 +()-]*[0-9][0-9 +()-]*`` backtracked
    quadratically on digits ending in a letter; every validator runs whatever the field's
    max_length, and a JSON body may be 2.5 MB, so one POST of a worker's phone pinned a web
    worker for seconds (40,000 characters) to hours (2.5 MB). 200,000 characters took minutes
    with it; linear matching takes milliseconds, so the limit below has a wide margin."""
    start = time.perf_counter()
    with pytest.raises(ValidationError):
        validate_phone("1" * 200_000 + "x")
    assert time.perf_counter() - start < 2.0
