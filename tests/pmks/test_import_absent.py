"""Review of 8713b93: a file without the ``hubungan`` column keeps each person's stored
relationship — also that of a kepala it moves into another household. Both lanes."""

import datetime
import io

import pytest

from dinsos.validators import build_nik, build_no_kk
from pmks.importing import households_import
from pmks.models import Person
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.pmks.test_import import HEADER, csv_bytes, row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_path")]

KK_A = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 61)
KK_B = build_no_kk("36.01.01", datetime.date(2016, 4, 12), 62)
D1 = datetime.date(1980, 8, 17)


def test_a_kepala_moved_by_a_file_without_hubungan_is_not_a_second_kepala(pandeglang_operator):
    """Budi is kepala (and head) of KK_A; Joko of KK_B. A file without ``hubungan`` moves
    Budi into KK_B: his relationship is kept, so he arrives as a second living kepala of
    KK_B. The COPY lane refuses the row (KEPALA_STORED, ``Stage.one_kepala`` reads the kept
    relationship); the row lane (``_Chunk._one_kepala`` reads only the file's relationship,
    absent) accepts it. Expected: KK_B keeps one living kepala (the row refused, as on the
    COPY lane)."""
    home = HouseholdFactory(no_kk=KK_A, desa_id=DESA_PANDEGLANG)
    budi = PersonFactory(nik=build_nik("36.01.01", D1, "L", 71), name="Budi Santoso",
                         name_key="budisantoso", birth_date=D1, household=home,
                         relationship="kepala")
    home.head = budi
    home.save()
    other = HouseholdFactory(no_kk=KK_B, desa_id=DESA_PANDEGLANG, address="Kp. B")
    joko = PersonFactory(nik=build_nik("36.01.01", D1, "L", 72), name="Joko", name_key="joko",
                         birth_date=D1, household=other, relationship="kepala")
    other.head = joko
    other.save()
    header = [c for c in HEADER if c != "hubungan"]
    households_import(actor=pandeglang_operator, fileobj=io.BytesIO(csv_bytes(
        [row(no_kk=KK_B, alamat="Kp. B", nik=budi.nik, nama="Budi Santoso",
             tanggal_lahir="1980-08-17")], header=header)), filename="k.csv", dry_run=False)
    assert Person.objects.kepala_of(other.pk).count() == 1
