"""Helpers for the PSKS tests on top of tests/factories.py: assignments made through the
service (so every rule applies) and a few fixed wilayah codes."""

import datetime

from django.utils import timezone

from dinsos.models import Office
from psks import services
from psks.models import Assignment
from tests.factories import WorkerFactory

KEC_SUMUR = "36.01.01"  # Kab. Pandeglang
KEC_CIMANGGU = "36.01.02"  # Kab. Pandeglang
KEC_CIBALIUNG = "36.01.03"  # Kab. Pandeglang
KEC_MALINGPING = "36.02.01"  # Kab. Lebak
KEC_PANGGARANGAN = "36.02.02"  # Kab. Lebak
DESA_CIMANGGU = "36.01.02.2001"  # Rancapinang, Kec. Cimanggu
DESA_LEBAK_2 = "36.02.01.2003"  # Pagelaran, Kec. Malingping

START = datetime.date(2025, 1, 2)
END = datetime.date(2029, 12, 31)


def office(kode: str = "36") -> Office:
    return Office.objects.get(wilayah_id=kode)


def assign(actor, worker, *, role: str = "tksk", area: str | None = None,
           start: datetime.date = START, end: datetime.date | None = END,
           decree_number: str = "460/001/Dinsos/2025",
           funding_source: str = "apbd_provinsi") -> Assignment:
    """An assignment made through ``services.assignment_create``; the area defaults to the
    worker's own kecamatan, the decree is dated on the start (today for a later start: a
    decree is not dated ahead)."""
    return services.assignment_create(
        actor=actor, worker=worker, role=role, area=area or worker.desa_id[:8],
        decree_number=decree_number, decree_date=min(start, timezone.localdate()),
        decree_office=office(),
        start_date=start, end_date=end, funding_source=funding_source,
    )


def tksk_row(worker, kecamatan: str, start: datetime.date, end: datetime.date) -> Assignment:
    """An unsaved TKSK row (for bulk_create and raw saves that bypass the service)."""
    return Assignment(worker=worker, role="tksk", area_id=kecamatan, decree_number="460/X/2025",
                      decree_date=start, decree_office=office(), start_date=start,
                      end_date=end, funding_source="apbd_provinsi")


def worker_in(desa: str, **kwargs):
    return WorkerFactory(desa_id=desa, **kwargs)
