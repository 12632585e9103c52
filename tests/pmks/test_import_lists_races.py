"""Review of the import of the household's DTKS lists (branch import-lists), two writers at once
(PostgreSQL): fails on the merged code (da38e8f)."""

import pytest

from dinsos import selectors as kernel_selectors
from pmks import importing, services
from pmks.models import Asset, Household
from tests.helpers import postgres_only
from tests.pmks.test_import_lists import KK_A, budi, lists, run, siti
from tests.races import Held, Thread, wait_for_lock_waiter

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("path", ["rows", "copy"])
def test_an_import_of_a_list_while_an_officer_saves_it_leaves_the_files_list(
        pandeglang_operator, monkeypatch, path):
    """An officer saves a household's aset (mobil) while an import writes the same household's
    aset (kapal): the import, which waits and commits last, leaves exactly the file's list —
    never a mix of both (the officer's entry kept beside the file's) — and its history entry
    reads mobil → kapal ("ditambah: Kapal", "dihapus: Mobil"), not the list it read before the
    officer committed."""
    rows = [budi(aset="sepeda-motor;lahan", program="pkh"),
            siti(aset="sepeda-motor;lahan", program="pkh")]
    assert run(pandeglang_operator, rows).errors == []
    household = Household.objects.get(no_kk=KK_A)
    monkeypatch.setattr(importing, "PATH", path)
    officer = Held(lambda: services.household_update(
        actor=pandeglang_operator, household=household,
        assets=list(Asset.objects.filter(code="mobil")))).start()
    # the member's row only (no kepala row: nothing else of the import locks the household)
    file = Thread(lambda: run(pandeglang_operator, [siti(aset="kapal", program="pkh")])).start()
    wait_for_lock_waiter(file)
    officer.release()
    file.join()
    assert file.error is None, file.error
    assert file.result.errors == []
    assert lists(KK_A) == (["kapal"], ["pkh"])
    # and the import's history entry names what it replaced: the officer's list
    texts = [c["text"] for entry in kernel_selectors.history(obj=household)
             for c in entry["changes"] if c["field"] == "Aset"]
    name = dict(Asset.objects.values_list("code", "name"))
    assert texts[:2] == [f"ditambah: {name['kapal']}", f"dihapus: {name['mobil']}"], texts
