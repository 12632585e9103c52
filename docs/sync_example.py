"""A kab/kota system keeping a mirror of its area, on the client generated from /api/schema/
(see docs/sync.md). tests/pmks/test_sync_client.py generates the client and runs this file
against a live server.

    mirror, cursor = {}, None
    cursor = pull_persons(client, mirror)           # first night: the whole area
    cursor = pull_persons(client, mirror, cursor)   # every night after: only what changed
    push_persons(client, rows, key="2026-11-30-01") # corrections, up to 500 rows a request

Every other feed works the same way (``pull(FEEDS["workers"], client, mirror, cursor)``): one
mirror and one cursor per feed.
"""

import httpx
from dinsos_client import AuthenticatedClient
from dinsos_client.api.jamsosratu import jamsosratu_enrolments_changes_retrieve
from dinsos_client.api.pmks import pmks_persons_batch_create, pmks_persons_changes_retrieve
from dinsos_client.api.psks import psks_workers_changes_retrieve
from dinsos_client.models import ChangeEnum, Error, PersonUpsertBatchRequest
from dinsos_client.types import UNSET


def connect(base_url: str, token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=base_url, token=token, prefix="Token",
                               raise_on_unexpected_status=True, timeout=httpx.Timeout(120))


#: a few of the feeds (docs/sync.md lists them all); each is ``<list>/changes/``
FEEDS = {
    "persons": pmks_persons_changes_retrieve,
    "workers": psks_workers_changes_retrieve,
    "enrolments": jamsosratu_enrolments_changes_retrieve,
}


def pull_persons(client, mirror: dict, cursor: str | None = None, page_size: int = 500) -> str:
    return pull(FEEDS["persons"], client, mirror, cursor, page_size)


def pull(feed, client, mirror: dict, cursor: str | None = None, page_size: int = 500) -> str:
    """Apply every change of ``feed`` since ``cursor`` (None: everything in the area) to
    ``mirror`` (id → record) and return the cursor to keep for the next pull. Store it only
    after the mirror is saved: pulling again from an older cursor is harmless (upserts
    repeat)."""
    while True:
        page = feed.sync(client=client, cursor=cursor or UNSET, page_size=page_size)
        if isinstance(page, Error):
            raise RuntimeError(f"{page.code}: {page.detail}")
        for change in page.results:
            if change.change == ChangeEnum.UPSERT:
                mirror[change.id] = change.data
            else:  # deleted; merged (into change.merged_into); left_area (moved away)
                mirror.pop(change.id, None)
        cursor = page.cursor
        if not page.next_:  # "next" in JSON
            return cursor


def push_persons(client, rows: list[dict], *, key: str) -> dict:
    """Upsert persons by NIK. ``key`` (Idempotency-Key) makes a retry after a timeout safe:
    the server answers the first result again instead of writing twice."""
    result = pmks_persons_batch_create.sync(
        client=client, body=PersonUpsertBatchRequest.from_dict({"rows": rows}),
        idempotency_key=key)
    if isinstance(result, Error):
        raise RuntimeError(f"{result.code}: {result.detail} {result.errors}")
    return {
        "summary": result.summary.to_dict(),
        "refused": {r.nik: r.errors.to_dict() for r in result.results
                    if r.status == "refused"},
    }
