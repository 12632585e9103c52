"""One error shape everywhere in the API, in Indonesian (issue #14 point 6):
``{"detail": "…", "code": "…"}`` plus ``"errors": {field: […]}`` when fields (or the body) are
at fault. Every endpoint enumerated from the URL conf is walked through its error paths."""

import json
import re

import pytest
from django.core.cache import cache
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.throttling import UserRateThrottle

from dinsos import roles
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/"

# Words of DRF's and Django's English defaults that never occur in our Indonesian messages.
ENGLISH = re.compile(
    r"\b(the|not|found|matches|query|invalid|must|method|allowed|object|does|exist|expected|"
    r"available|seconds?|request|this|field|required|parse|error|expecting|property|"
    r"permission|credentials|page|please|provided)\b", re.IGNORECASE)


def assert_error_shape(response, status: int, *, errors: bool | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    assert set(body) <= {"detail", "code", "errors"}, body
    if errors is not None:
        assert ("errors" in body) is errors, body
    texts = [body["detail"]] + [m for msgs in body.get("errors", {}).values() for m in msgs]
    for text in texts:
        assert not ENGLISH.search(text), text
    return body


@pytest.fixture
def admin_client(api_as, make_user):
    return api_as(make_user(roles.ADMIN))


def test_malformed_json_is_a_400_in_indonesian_with_errors(admin_client):
    response = admin_client.post(f"{API}pmks/households/", data='{"no_kk": ',
                                 content_type="application/json")
    body = assert_error_shape(response, 400, errors=True)
    assert body["code"] == "parse_error"
    assert "JSON" in body["detail"] and "Expecting" not in str(body)


def test_missing_record_is_a_generic_not_found_without_the_model(admin_client):
    body = assert_error_shape(admin_client.get(f"{API}pmks/persons/987654/"), 404,
                              errors=False)
    assert body == {"detail": "Data tidak ditemukan.", "code": "not_found"}


def test_out_of_area_record_answers_exactly_like_a_missing_one(api_as, pandeglang_operator):
    lebak = PersonFactory(desa_id="36.02.01.2002")
    client = api_as(pandeglang_operator)
    assert client.get(f"{API}pmks/persons/{lebak.pk}/").json() == client.get(
        f"{API}pmks/persons/987654/").json()


def test_invalid_page(admin_client):
    body = assert_error_shape(admin_client.get(f"{API}pmks/persons/", {"page": 99}), 404)
    assert body["detail"] == "Halaman tidak ada."


def test_method_not_allowed(admin_client):
    body = assert_error_shape(admin_client.delete(f"{API}pmks/cases/1/"), 405)
    assert body == {"detail": 'Metode "DELETE" tidak diizinkan di alamat ini.',
                    "code": "method_not_allowed"}


def test_unknown_slug_names_the_field(admin_client):
    person = PersonFactory()
    response = admin_client.post(f"{API}pmks/cases/", {"person": person.pk, "category": "x"},
                                 format="json")
    body = assert_error_shape(response, 400, errors=True)
    assert body["errors"]["category"] == ["Data dengan slug=x tidak ditemukan."]


def test_required_field_and_unique_set_in_indonesian(admin_client):
    response = admin_client.post(f"{API}pmks/households/", {}, format="json")
    body = assert_error_shape(response, 400, errors=True)
    assert "harus diisi" in " ".join(body["errors"]["no_kk"])


def test_throttled_is_indonesian_and_keeps_retry_after(admin_client, monkeypatch):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    for _ in range(2):
        assert admin_client.get(f"{API}me/").status_code == 200
    response = admin_client.get(f"{API}me/")
    body = assert_error_shape(response, 429)
    assert re.fullmatch(r"Terlalu banyak permintaan\. Coba lagi dalam \d+ detik\.",
                        body["detail"])
    assert int(response["Retry-After"]) > 0
    cache.clear()


def test_unauthenticated_is_indonesian(client):
    assert_error_shape(client.get(f"{API}pmks/persons/"), 401)
    from rest_framework.test import APIClient

    response = APIClient().get(f"{API}pmks/persons/", HTTP_AUTHORIZATION="Token nope")
    assert_error_shape(response, 401)


# --- every endpoint's error paths -----------------------------------------------------------

MISSING = {"pk": "987654", "id": "987654", "kode": "99.99", "nik": "3601010101800009",
           "slug": "tidak-ada", "code": "tidak-ada", "year": "1999", "number": "9",
           "kind": "tidak-ada"}
ALL_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _endpoints() -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {}
    for path, _regex, method, _view in EndpointEnumerator().get_api_endpoints():
        if path.startswith(API):  # not the schema and Swagger UI pages
            paths.setdefault(path, set()).add(method)
    return paths


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: MISSING[m[1]], path)


def test_the_walk_sees_every_app():
    paths = _endpoints()
    for prefix in ("wilayah", "imports", "pmks", "psks", "jamsosratu", "incentives"):
        assert any(p.startswith(f"{API}{prefix}/") for p in paths), prefix


def test_every_endpoint_answers_errors_in_one_indonesian_shape(admin_client):
    checked = 0
    for path, methods in sorted(_endpoints().items()):
        url = _concrete(path)
        if "{" in path:
            for method in sorted(methods):
                response = getattr(admin_client, method.lower())(url, {}, format="json")
                expected = (404,) if method in ("GET", "DELETE") else (400, 404)
                assert response.status_code in expected, (method, url, response.status_code)
                assert_error_shape(response, response.status_code)
                checked += 1
        for method in sorted(ALL_METHODS - methods - {"HEAD", "OPTIONS"}):
            response = getattr(admin_client, method.lower())(url, {}, format="json")
            if response.status_code == 404 and "{" in path:
                assert_error_shape(response, 404)  # looked up before the method check
            else:
                assert_error_shape(response, 405)
            checked += 1
    assert checked > 100


def test_server_errors_under_the_api_keep_the_shape():
    from django.test import RequestFactory

    from dinsos.api.errors import api_server_error

    response = api_server_error(RequestFactory().get("/api/v1/pmks/persons/"))
    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "Terjadi kesalahan di server.",
                                            "code": "server_error"}


MALFORMED = {"pk": "abc", "id": "abc", "kode": "abc", "nik": "abc", "slug": "ABC!",
             "code": "ABC!", "year": "abc", "number": "abc", "kind": "ABC!"}


def test_every_endpoint_answers_a_malformed_id_like_a_missing_one(admin_client):
    """`runs/abc/lines/` was a 500 (Django's get_object_or_404 let the ValueError through)."""
    checked = 0
    for path, methods in sorted(_endpoints().items()):
        if "{" not in path:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: MALFORMED[m[1]], path)
        for method in sorted(methods & {"GET", "DELETE"}):
            response = getattr(admin_client, method.lower())(url)
            assert response.status_code in (400, 404), (method, url, response.status_code)
            assert_error_shape(response, response.status_code)
            checked += 1
    assert checked > 30
