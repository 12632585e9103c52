"""The sync example of docs/sync.md, run as a district system would: the client is generated
with openapi-python-client from the live server's /api/schema/, then docs/sync_example.py
keeps a mirror of Pandeglang by a full pull, incremental pulls and a batch push."""

import datetime
import importlib.util
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from dinsos import roles
from dinsos.services import token_issue
from pmks import services
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    EnrolmentFactory,
    HouseholdFactory,
    WorkerFactory,
)
from tests.pmks.factories import RegistryPersonFactory, nik_for

# Both passes: on SQLite the feed's order is the id order (README, "Sync API"). It shares the
# live server with the browser tests (tests/web/conftest.py says why their restores now hold).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DOCS = Path(settings.BASE_DIR) / "docs"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def _generate_client(base_url: str, token: str, target: Path):
    response = httpx.get(f"{base_url}/api/schema/", params={"format": "json"},
                         headers={"Authorization": f"Token {token}"}, timeout=300)
    assert response.status_code == 200
    schema = target / "schema.json"
    schema.write_bytes(response.content)
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--meta", "none",
         "--config", str(DOCS / "openapi-python-client.yml"),
         "--output-path", str(target / "dinsos_client")],
        capture_output=True, text=True, timeout=300,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(target))
    spec = importlib.util.spec_from_file_location("sync_example", DOCS / "sync_example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


def _truth(example, client) -> dict:
    from dinsos_client.api.pmks import pmks_persons_list

    page = pmks_persons_list.sync(client=client, page_size=500)
    assert page.next_ is None
    return {p.id: p.to_dict() for p in page.results}


def _as_dicts(mirror: dict) -> dict:
    return {pk: person.to_dict() for pk, person in mirror.items()}


def test_sync_example_keeps_an_exact_mirror(live_server, make_user, tmp_path):
    operator = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    province = make_user(roles.OPERATOR_PROVINSI)
    _instance, token = token_issue(user=operator, days=1)
    example = _generate_client(live_server.url, token, tmp_path)
    client = example.connect(live_server.url, token)
    try:
        people = [RegistryPersonFactory(desa_id=DESA_PANDEGLANG) for _ in range(5)]
        outsider = RegistryPersonFactory(desa_id=DESA_LEBAK)
        RegistryPersonFactory(desa_id=DESA_LEBAK)

        mirror: dict = {}
        cursor = example.pull_persons(client, mirror, page_size=2)  # first full pull
        assert set(mirror) == {p.pk for p in people}
        assert _as_dicts(mirror) == _truth(example, client)

        # a day of work at the province and in the district
        services.person_update(actor=operator, person=people[0], occupation="Petani")
        gone = people[1].pk
        services.person_delete(actor=operator, person=people[1])
        services.person_merge(actor=operator, kept=people[2], merged=people[3])
        services.person_update(actor=province, person=people[4], desa_id=DESA_LEBAK)
        services.person_update(actor=province, person=outsider, desa_id=DESA_PANDEGLANG)

        cursor = example.pull_persons(client, mirror, cursor, page_size=2)  # nightly pull
        assert gone not in mirror and people[3].pk not in mirror and people[4].pk not in mirror
        assert outsider.pk in mirror
        assert _as_dicts(mirror) == _truth(example, client)

        born = datetime.date(1990, 1, 2)
        rows = [{"nik": nik_for(born, "L"), "name": "Dari Aplikasi Kab", "birth_date":
                 born.isoformat(), "sex": "L", "desa": DESA_PANDEGLANG},
                {"nik": nik_for(born, "P"), "name": "Salah", "birth_date": born.isoformat(),
                 "sex": "L", "desa": DESA_PANDEGLANG}]
        pushed = example.push_persons(client, rows, key="dorong-1")
        assert pushed["summary"] == {"created": 1, "updated": 0, "unchanged": 0, "refused": 1}
        assert list(pushed["refused"]) == [rows[1]["nik"]]
        assert example.push_persons(client, rows, key="dorong-1") == pushed  # retried: replayed

        cursor = example.pull_persons(client, mirror, cursor)
        assert _as_dicts(mirror) == _truth(example, client)
        assert "Dari Aplikasi Kab" in {p["name"] for p in _as_dicts(mirror).values()}
        before = _as_dicts(mirror)
        example.pull_persons(client, mirror, cursor)  # nothing new: nothing changes
        assert _as_dicts(mirror) == before

        # a PSKS and a Jamsosratu feed through the same client: first pull, a move each way
        # and an edit, the nightly pull
        from dinsos_client.api.jamsosratu import jamsosratu_enrolments_list
        from dinsos_client.api.psks import psks_workers_list

        workers = [WorkerFactory(desa_id=DESA_PANDEGLANG) for _ in range(3)]
        newcomer = WorkerFactory(desa_id=DESA_LEBAK)
        enrolments = [EnrolmentFactory(household=HouseholdFactory(desa_id=DESA_PANDEGLANG))
                      for _ in range(2)]
        EnrolmentFactory(household=HouseholdFactory(desa_id=DESA_LEBAK))
        lists = {"workers": psks_workers_list, "enrolments": jamsosratu_enrolments_list}

        def listed(name):
            page = lists[name].sync(client=client, page_size=500)
            assert page.next_ is None
            return {r.id: r.to_dict() for r in page.results}

        mirrors, cursors = {"workers": {}, "enrolments": {}}, {}
        for name in mirrors:
            cursors[name] = example.pull(example.FEEDS[name], client, mirrors[name], page_size=2)
            assert _as_dicts(mirrors[name]) == listed(name)
        assert {w.pk for w in workers} <= set(mirrors["workers"])
        workers[0].desa_id, newcomer.desa_id = DESA_LEBAK, DESA_PANDEGLANG
        workers[0].save()
        newcomer.save()
        workers[1].delete()
        enrolments[0].decile = 2
        enrolments[0].save()
        enrolments[1].delete()
        for name in mirrors:
            example.pull(example.FEEDS[name], client, mirrors[name], cursors[name])
            assert _as_dicts(mirrors[name]) == listed(name)
        assert newcomer.pk in mirrors["workers"] and workers[0].pk not in mirrors["workers"]
        assert set(mirrors["enrolments"]) == {enrolments[0].pk}
    finally:
        client.get_httpx_client().close()
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("dinsos_client")]:
            del sys.modules[name]
