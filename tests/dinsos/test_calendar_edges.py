"""Time zone and calendar edges (an audit of December 2026): what a user saw wrong at the
edges of Banten's day, month and year, each found failing on the code before its fix."""

import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from dinsos import importing
from dinsos.tabular import TableRow
from jamsosratu.models import Verification
from tests.factories import DESA_PANDEGLANG, UserFactory, cycle_with_tranches
from tests.helpers import client_for
from tests.jamsosratu.factories import ADULT, TODDLER, enrol, household, worker_with_role

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
UTC = datetime.UTC
D = datetime.date


# --- 1. issue_token prints the expiry in UTC ---------------------------------------------------

def test_issue_token_tells_the_expiry_in_wib_not_utc():
    """At 03.00 WIB on 31 December 2026 (20.00 UTC on the 30th) a 1-day token expires at
    03.00 WIB on 1 January 2027. The command printed "berlaku sampai 2026-12-31 20:00 UTC": a
    day and a year that are not Banten's — every other surface (the user page's token list,
    the admin's "berlaku s.d.") shows WIB."""
    UserFactory(username="sync_pandeglang")
    err = StringIO()
    with time_machine.travel(datetime.datetime(2026, 12, 31, 3, 0, tzinfo=WIB), tick=False):
        call_command("issue_token", "sync_pandeglang", "--days", "1", stdout=StringIO(),
                     stderr=err)
    said = err.getvalue().splitlines()[0]
    assert "UTC" not in said, said
    assert ("2027-01-01 03:00" in said or "1 Januari 2027 03.00 WIB" in said), said


# --- 2. a two-digit birth year later this year is read as this year and refused -------------

def _row(text: str) -> TableRow:
    return TableRow(number=2, values={"tanggal_lahir": text}, cells=[text])


@pytest.mark.parametrize(("today", "typed", "meant"), [
    # 30 November 2026: "15/12/26" can only be 1926 (2026-12-15 has not come yet)
    (D(2026, 11, 30), "15/12/26", D(1926, 12, 15)),
    # 1 January 2027, 00.30 WIB: "02/01/27" is 1927 (2 January 2027 is tomorrow)
    (D(2027, 1, 1), "02-01-27", D(1927, 1, 2)),
])
def test_a_two_digit_birth_year_is_the_latest_year_not_in_the_future(today, typed, meant):
    """README / the import guide: "two-digit birth years are the latest year not in the future"
    ("tahun terakhir yang tidak di depan"). ``_full_year`` takes the latest year not after
    THIS YEAR, so a birthday later this year lands in the future and the row is refused
    ("tanggal lahir 15-12-2026 ada di masa depan") instead of being read as 1926."""
    assert importing.parse_date(_row(typed), "tanggal_lahir", birth=True, today=today) == meant


def test_the_import_reads_a_two_digit_birth_year_of_a_centenarian_at_the_year_edge(
        pandeglang_operator, settings, tmp_path):
    """The same through the PMKS import at 00.30 WIB on 1 January 2027 (17.30 UTC on 31
    December): an old woman born 2 January 1927 typed "02-01-27" is refused as born tomorrow."""
    from tests.pmks.test_import import row
    from tests.pmks.test_import_excel import csv_bytes, run

    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(datetime.datetime(2027, 1, 1, 0, 30, tzinfo=WIB), tick=False):
        batch = run(pandeglang_operator,
                    csv_bytes([row(nik="", nama="Nenek Tua", tanggal_lahir="02-01-27",
                                   jenis_kelamin="P", hubungan="kepala")]), "lansia.csv")
    assert batch.errors == []


# --- 3. the verification page asks who is on duty TODAY, not on the visit day -----------------

def test_the_verification_page_takes_a_visit_by_a_verifier_on_duty_on_the_visit_day(
        province_operator, pandeglang_operator, api_as):
    """A TKSK whose decree ended on 25 November 2026 visited two households on 20 November;
    the visits are entered on 1 December. The API records the visit (the service asks the duty
    on the visit day), but the staff page offers only the workers on duty TODAY and refuses the
    same visit: "Verifikator ini tidak bertugas di kecamatan rumah tangga ini."."""
    from dinsos.versions import combined_version
    from jamsosratu.models import Enrolment

    cycle = cycle_with_tranches(2026, "1750000", ("1", "1"))
    with time_machine.travel(datetime.datetime(2026, 12, 1, 10, 0, tzinfo=WIB), tick=False):
        by_api = enrol(province_operator, household(DESA_PANDEGLANG, [ADULT, TODDLER]), cycle)
        on_page = enrol(province_operator, household(DESA_PANDEGLANG, [ADULT, TODDLER]), cycle)
        tksk = worker_with_role(DESA_PANDEGLANG[:8], "tksk", start=D(2021, 11, 26),
                                end=D(2026, 11, 25))
        api = api_as(pandeglang_operator).post(
            "/api/v1/jamsosratu/verifications/",
            {"enrolment": by_api.pk, "verifier": tksk.pk, "visit_date": "2026-11-20",
             "result": "sesuai"}, format="json")
        assert api.status_code == 201, api.content  # the rule: on duty on the visit day
        response = client_for(pandeglang_operator).post(
            reverse("jamsosratu:verification-create", args=[on_page.pk]),
            {"verifier": tksk.pk, "visit_date": "20/11/2026", "result": "sesuai",
             "if_match": combined_version([Enrolment.objects.get(pk=on_page.pk)])})
    errors = response.context["form"].errors if response.status_code == 400 else {}
    assert response.status_code == 302, errors
    assert Verification.objects.filter(enrolment=on_page, verifier=tksk).exists()


# --- 4. the changes feed tells `at` in UTC, the rest of the API in WIB -------------------------

def test_a_change_is_dated_in_wib_like_the_record_it_carries(api_as, pandeglang_operator):
    """A person registered at 00.30 WIB on 1 January 2027. In the same feed entry the record
    says ``updated_at: 2027-01-01T00:30:00+07:00`` but the change says
    ``at: 2026-12-31T17:30:00Z``: the view puts the raw datetime into the Response, so DRF's
    JSON encoder writes it in UTC, bypassing the DateTimeField the schema documents (which
    gives +07:00 everywhere else). A district mirror that files or shows changes by the day of
    ``at`` puts a New Year's registration on 31 December."""
    from tests.factories import PersonFactory

    with time_machine.travel(datetime.datetime(2027, 1, 1, 0, 30, tzinfo=WIB), tick=False):
        PersonFactory(desa_id=DESA_PANDEGLANG)
        client = api_as(pandeglang_operator)
        entry = client.get("/api/v1/pmks/persons/changes/").json()["results"][0]
    assert entry["data"]["updated_at"] == "2027-01-01T00:30:00+07:00"
    assert entry["at"] == "2027-01-01T00:30:00+07:00"


# --- 5. an ISO date-time with a time of day is silently cut to its date ------------------------

def test_an_iso_date_time_that_is_not_midnight_is_refused_like_a_day_first_one(
        pandeglang_operator, settings, tmp_path):
    """README: dates are read day first or ISO, "each also with a midnight time as exports write
    it"; ``17-08-1980 13:45`` is refused (tests/pmks/test_import_cells.py). The ISO pattern
    (``dinsos.importing._ISO``) takes ANY time and drops it: ``1980-08-17T13:45:00`` is stored as
    17 August 1980 without a word — and ``2026-11-30T17:30:00``, a UTC wall-clock time written
    by another system (00.30 WIB on 1 December), becomes 30 November (birth dates in the
    imports, the bank's ``tanggal`` salur in the Jamsosratu bank result)."""
    from tests.pmks.test_import import row
    from tests.pmks.test_import_excel import csv_bytes, run

    settings.MEDIA_ROOT = tmp_path / "media"
    day_first = run(pandeglang_operator, csv_bytes([row(tanggal_lahir="17-08-1980 13:45")]),
                    "a.csv")
    assert day_first.totals["rejected"] == 1  # as the suite expects
    iso = run(pandeglang_operator, csv_bytes([row(tanggal_lahir="1980-08-17T13:45:00")]),
              "b.csv")
    assert iso.totals["rejected"] == 1, iso.errors
    with pytest.raises(ValueError):
        importing.parse_date(_row("2026-11-30T17:30:00"), "tanggal_lahir", today=D(2026, 12, 1))


# --- 6. a workbook in Excel's 1904 date system: serials read as 1900 serials -------------------

def test_a_serial_in_a_1904_workbook_is_read_in_that_workbooks_date_system(
        pandeglang_operator, settings, tmp_path):
    """README: date columns take "Excel date or serial cells". A workbook saved with the 1904
    date system (Excel for Mac's old default; File > Options > "Use 1904 date system") shows
    17-08-1980 as 27988 when the column is formatted as a number. ``parse_date`` counts every
    serial from 30-12-1899 (``EXCEL_EPOCH``) and ignores the workbook's own epoch (openpyxl reads
    it: ``workbook.epoch``), so the person is stored as born 16-08-1976 — 4 years and a day
    off, without a word (a row without NIK has nothing to contradict it)."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    from pmks.models import Person
    from tests.pmks.test_import import row
    from tests.pmks.test_import_excel import run, xlsx

    settings.MEDIA_ROOT = tmp_path / "media"

    def mac_1904(workbook):
        workbook.epoch = CALENDAR_MAC_1904

    content = xlsx([row(nik="", nama="Siti Lama", tanggal_lahir=27988, jenis_kelamin="P",
                        hubungan="kepala")], prepare=mac_1904)
    batch = run(pandeglang_operator, content, "mac.xlsx")
    assert batch.errors == []
    assert Person.objects.get(name="Siti Lama").birth_date == D(1980, 8, 17)
