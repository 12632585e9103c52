"""Input of a household's code lists (assets/programs, ``dinsos.api.fields.CodeListField``):
a NUL character or an overlong code is a 400 naming the field, never echoed back, never a 500
(PostgreSQL refuses a NUL in a literal; in households/batch/ it took the whole batch down), and
a form-encoded body's repeated keys are the list (audit of 2 December 2026, M3 and L2)."""

import pytest

from pmks.models import Household
from tests.factories import DESA_PANDEGLANG, HouseholdFactory

pytestmark = pytest.mark.django_db


def _client(api_as, user):
    client = api_as(user)
    client.raise_request_exception = False  # a 500 is an answer here, not an exception
    return client


def test_a_nul_character_in_an_asset_code_is_a_400_naming_the_field(pandeglang_operator,
                                                                     api_as):
    """PATCH households/<id>/ {"assets": ["lahan\\u0000"]} answers 400 under 'assets' in
    Indonesian (as ?aset= does: 'Karakter null tidak diizinkan'), never a 500."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    response = _client(api_as, pandeglang_operator).patch(
        f"/api/v1/pmks/households/{household.pk}/", {"assets": ["lahan\x00"]}, format="json")
    assert response.status_code == 400, response.status_code
    errors = response.json()["errors"]["assets"]
    assert "\x00" not in " ".join(errors)


def test_a_nul_character_in_one_batch_row_refuses_that_row_only(pandeglang_operator, api_as):
    """households/batch/: a row with a NUL in a program code is refused on 'programs'; the
    other rows of the batch are still written (nothing is lost, no 500)."""
    rows = [{"no_kk": "3601010101200091", "address": "Kp. Baru", "desa": DESA_PANDEGLANG,
             "programs": ["pkh"]},
            {"no_kk": "3601010101200092", "address": "Kp. Baru", "desa": DESA_PANDEGLANG,
             "programs": ["\x00"]}]
    response = _client(api_as, pandeglang_operator).post(
        "/api/v1/pmks/households/batch/", {"rows": rows}, format="json")
    assert response.status_code == 200, response.status_code
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "refused"]
    assert "programs" in results[1]["errors"]
    assert "\x00" not in str(results[1]["errors"])
    assert Household.objects.filter(no_kk="3601010101200091").exists()


def test_a_form_encoded_request_sets_a_households_code_list(pandeglang_operator, api_as):
    """The browsable API's HTML form (and any form-encoded client) sends a list as repeated
    keys: PATCH assets=lahan&assets=ac sets both codes, as DRF's own list fields read
    QueryDict.getlist — not 'Kirim daftar kode aset (larik teks)' for a list it was sent."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    response = _client(api_as, pandeglang_operator).patch(
        f"/api/v1/pmks/households/{household.pk}/", "assets=lahan&assets=ac",
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    assert response.json()["assets"] == ["ac", "lahan"]


def test_an_overlong_code_is_refused_without_echoing_it(pandeglang_operator, api_as):
    """A "code" of 10,000 characters is refused under 'programs' in a short message that does
    not repeat it (the codes are at most 40 characters)."""
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    response = _client(api_as, pandeglang_operator).patch(
        f"/api/v1/pmks/households/{household.pk}/", {"programs": ["x" * 10_000]},
        format="json")
    assert response.status_code == 400, response.status_code
    errors = " ".join(response.json()["errors"]["programs"])
    assert "x" * 41 not in errors and "40" in errors
