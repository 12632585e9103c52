"""Every GET operation of the published schema, enumerated from the schema the router produces,
is called on the demo data and its real answer validated against the documented response —
so a generated client parses what the server sends (blank enums, nulls, error bodies)."""

import re

import pytest
from openapi_schema_validator import OAS30Validator
from rest_framework.test import APIClient

from dinsos import roles
from dinsos.models import User
from pmks.models import DuplicateCandidate, Person

pytestmark = pytest.mark.django_db

#: GET operations not called here, with the reason.
NOT_JSON_OR_NOT_LISTED = {
    "/api/v1/jamsosratu/cycles/{year}/tranches/{n}/bank-file/": "file (bank CSV)",
    "/api/v1/imports/template/{kind}/": "file (template)",
    "/api/v1/imports/{id}/": "the demo has no upload (tests/dinsos/test_imports cover it)",
    "/api/v1/incentives/documents/{id}/": "the demo generates no run document",
    "/api/v1/jamsosratu/jobs/{id}/": "the demo runs no tranche job "
                                     "(tests/jamsosratu/test_jobs_in_background.py checks it)",
}
#: a detail path whose value comes from another list's field
VALUE_FROM = {"/api/v1/pmks/persons/by-nik/{nik}/": ("/api/v1/pmks/persons/", "nik")}
#: query parameters a list requires, taken from another list
REQUIRED = {"/api/v1/jamsosratu/coverage/": ("cycle", "/api/v1/jamsosratu/cycles/", "year")}


def _schema(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _validate(schema: dict, path: str, method: str, status: int, body) -> None:
    operation = schema["paths"][path][method]
    documented = operation["responses"].get(str(status))
    assert documented is not None, f"{method.upper()} {path}: {status} is not documented"
    content = documented.get("content", {})
    media = content.get("application/json")
    assert media is not None, f"{method.upper()} {path} {status}: no JSON body documented"
    validator = OAS30Validator({**media["schema"], "components": schema["components"]})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, (f"{method.upper()} {path} {status}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]))


def _is_json(schema, path) -> bool:
    ok = schema["paths"][path]["get"]["responses"].get("200", {}).get("content", {})
    return "application/json" in ok


def _detail_value(parent_rows: list[dict], param: str):
    for row in parent_rows:
        for key in (param, "id", "kode", "slug", "code", "number"):
            if key in row and row[key] not in (None, ""):
                return row[key]
    return None


@pytest.fixture
def admin_client(demo_seeded):
    one, other = Person.objects.filter(merged_into__isnull=True).order_by("pk")[:2]
    DuplicateCandidate.objects.create(person_a=one, person_b=other, score=80, reasons=["uji"])
    client = APIClient()
    client.force_login(User.objects.get(username="admin"))
    return client


def test_every_get_answer_validates_against_the_published_schema(admin_client):
    schema = _schema(admin_client)
    lists: dict[str, list] = {}
    checked, skipped = [], []
    for path in sorted(schema["paths"], key=lambda p: (p.count("{"), p in REQUIRED, p)):
        if "get" not in schema["paths"][path]:
            continue
        if path in NOT_JSON_OR_NOT_LISTED or not _is_json(schema, path):
            continue  # files (exports, reports) and the listed exceptions
        params = re.findall(r"{(\w+)}", path)
        url = path
        query = {"page_size": 20} if "page" in str(
            schema["paths"][path]["get"].get("parameters", [])) else {}
        if path in REQUIRED:
            name, source, field = REQUIRED[path]
            query[name] = lists[source][0][field]
        if params:
            parent, field = VALUE_FROM.get(path, (path[: path.index("{")], params[0]))
            value = _detail_value(lists.get(parent, []), field)
            assert value is not None, f"no record to call {path} with"
            url = path.replace(f"{{{params[0]}}}", str(value), 1)
            if len(params) > 1:
                skipped.append(path)
                continue
        response = admin_client.get(url, query)
        assert response.status_code == 200, (url, response.content[:300])
        body = response.json()
        _validate(schema, path, "get", 200, body)
        rows = body.get("results", body) if isinstance(body, dict) else body
        if isinstance(rows, list) and not params:
            lists[path] = rows
        checked.append(path)
    assert len(checked) > 40
    assert all(p.count("{") > 1 for p in skipped), skipped


def test_every_list_takes_a_cursor_or_names_it_as_unknown(admin_client):
    """``?cursor=`` switched every list to keyset pages, also the run-status list computed as
    rows: ``KeyError: 'id'``, a 500 (security review). Enumerated over every list of the
    schema: a list that documents ``cursor`` pages by it, the others refuse it by name."""
    schema = _schema(admin_client)
    lists = [path for path in schema["paths"] if "{" not in path
             and "get" in schema["paths"][path] and _is_json(schema, path)
             and path not in NOT_JSON_OR_NOT_LISTED]
    by_cursor = 0
    for path in lists:
        documented = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
        if not documented & {"page", "cursor"}:
            continue  # one object (me/), not a list
        query = {"cursor": ""}
        if path in REQUIRED:
            name, source, field = REQUIRED[path]
            query[name] = admin_client.get(source).json()["results"][0][field]
        response = admin_client.get(path, query)
        if "cursor" in documented:
            assert response.status_code == 200, (path, response.content[:300])
            _validate(schema, path, "get", 200, response.json())
            by_cursor += 1
        else:
            assert response.status_code == 400, (path, response.status_code)
            assert "cursor" in str(response.json()), path
    assert by_cursor > 20 and "/api/v1/incentives/run-status/" in lists


def test_demo_data_holds_blank_enums_that_the_schema_accepts(admin_client):
    """The generated client crashed on ``close_reason: ""`` and ``hold_reason: ""``."""
    schema = _schema(admin_client)
    case = admin_client.get("/api/v1/pmks/cases/", {"page_size": 1}).json()["results"][0]
    assert case["close_reason"] == ""
    _validate(schema, "/api/v1/pmks/cases/{id}/", "get", 200,
              admin_client.get(f"/api/v1/pmks/cases/{case['id']}/").json())
    lines = admin_client.get("/api/v1/incentives/lines/", {"page_size": 500}).json()["results"]
    line = next(row for row in lines if row["hold_reason"] == "")
    _validate(schema, "/api/v1/incentives/lines/{id}/", "get", 200,
              admin_client.get(f"/api/v1/incentives/lines/{line['id']}/").json())


def test_error_answers_are_documented_and_validate(admin_client):
    schema = _schema(admin_client)
    persons = "/api/v1/pmks/persons/"
    detail = "/api/v1/pmks/persons/{id}/"
    cases = [
        (admin_client.get(persons, {"lastUpdated": "x"}), persons, "get", 400),
        (APIClient().get(persons), persons, "get", 401),
        (admin_client.get("/api/v1/pmks/persons/999999/"), detail, "get", 404),
        (admin_client.put("/api/v1/pmks/persons/999999/", {}, format="json"), detail, "put",
         404),
        (admin_client.post(persons, {}, format="json"), persons, "post", 400),
    ]
    for response, path, method, status in cases:
        assert response.status_code == status, (path, response.content)
        _validate(schema, path, method, status, response.json())


def test_unacceptable_and_unsupported_media_are_documented(admin_client):
    """406 (an Accept no renderer serves) on every operation and 415 (a body in a type no
    parser reads) on every write with a body: answered in the error shape, in Indonesian
    (the fuzz run met both undocumented)."""
    schema = _schema(admin_client)
    persons = "/api/v1/pmks/persons/"
    not_acceptable = admin_client.get(persons, HTTP_ACCEPT="application/xml")
    unsupported = admin_client.post(persons, data="<a/>", content_type="application/xml")
    assert not_acceptable.status_code == 406 and unsupported.status_code == 415
    assert "header Accept" in not_acceptable.json()["detail"]
    assert "tidak didukung" in unsupported.json()["detail"]
    _validate(schema, persons, "get", 406, not_acceptable.json())
    _validate(schema, persons, "post", 415, unsupported.json())
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            assert "406" in operation["responses"], (path, method)
            if "requestBody" in operation:
                assert "415" in operation["responses"], (path, method)


def test_created_answers_are_documented_as_201(admin_client):
    schema = _schema(admin_client)
    put = schema["paths"]["/api/v1/pmks/persons/by-nik/{nik}/"]["put"]["responses"]
    assert {"200", "201"} <= set(put)
    merge = schema["paths"]["/api/v1/pmks/duplicates/{id}/merge/"]["post"]["responses"]
    assert "201" in merge and "200" not in merge
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                assert {"400", "401", "403", "429"} <= set(operation["responses"]), (path, method)


# --- found by schemathesis (tests/dinsos/test_schemathesis.py) --------------------------------


def test_me_of_a_user_without_email_conforms_with_formats_checked(make_user):
    """`email: ""` was answered under `format: email` (a strict client refuses it)."""
    client = APIClient()
    client.force_authenticate(make_user(roles.OPERATOR_KAB_KOTA, "36.01", email=""))
    schema = _schema(client)
    body = client.get("/api/v1/me/").json()
    media = schema["paths"]["/api/v1/me/"]["get"]["responses"]["200"]["content"]
    validator = OAS30Validator({**media["application/json"]["schema"],
                                "components": schema["components"]},
                               format_checker=OAS30Validator.FORMAT_CHECKER)
    assert body["email"] == ""
    assert not list(validator.iter_errors(body))


def test_a_page_beyond_the_last_is_a_documented_404(province_operator):
    client = APIClient()
    client.force_authenticate(province_operator)
    response = client.get("/api/v1/psks/workers/", {"page": 99})
    assert response.status_code == 404
    _validate(_schema(client), "/api/v1/psks/workers/", "get", 404, response.json())
