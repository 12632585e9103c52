"""Found by a deep schemathesis run (twelfth session: ~25,000 calls, 25-40 examples per
operation, positive and negative, as a district and as the province operator) beyond the
bounded run of test_schemathesis.py: answers that were a 500, broke the documented shape or
spoke English. Each test failed on the code before."""

import datetime

import pytest

from tests.factories import (
    DESA_PANDEGLANG,
    ActivityReportFactory,
    PayoutRunFactory,
    WorkerFactory,
    cycle_with_tranches,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


# 1. ?cursor= on lists of Wilayah (pk "kode", not "id") -> 500 FieldError
@pytest.mark.parametrize("path", ["wilayah/", "psks/coverage/"])
def test_cursor_pages_on_wilayah_lists(api_as, province_operator, path):
    response = api_as(province_operator).get(f"{API}/{path}", {"cursor": ""})
    assert response.status_code == 200


# 2. ?page_size=² on a changes feed -> 500 ValueError (and "٢" / "１０" accepted)
@pytest.mark.parametrize("size", ["²", "٢", "１０"])
def test_changes_feed_page_size_is_ascii_digits(api_as, province_operator, size):
    response = api_as(province_operator).get(f"{API}/pmks/persons/changes/",
                                             {"page_size": size})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


# 2b. ?page_size= on lists: abc, -1, 0 or ² silently gave the default page, 501 was cut to 500
@pytest.mark.parametrize("size", ["abc", "-1", "0", "²", "١٠", "1.5", "501",
                                  "99999999999999999999"])
@pytest.mark.parametrize("query", [{}, {"cursor": ""}])  # page numbers and keyset pages
@pytest.mark.parametrize("path", ["pmks/persons/", "wilayah/"])
def test_list_page_size_out_of_range_is_a_400_naming_it(api_as, province_operator, path,
                                                         query, size):
    response = api_as(province_operator).get(f"{API}/{path}", {**query, "page_size": size})
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"page_size": ["page_size harus 1 sampai 500."]}


def test_page_size_ranges_are_in_the_schema(api_as, province_operator):
    from django.conf import settings

    schema = api_as(province_operator).get("/api/schema/", {"format": "json"}).json()

    def page_size(path):
        [parameter] = [p for p in schema["paths"][path]["get"]["parameters"]
                       if p["name"] == "page_size"]
        return parameter["schema"]

    assert page_size("/api/v1/pmks/persons/") == {"type": "integer", "minimum": 1,
                                                  "maximum": 500}
    assert page_size("/api/v1/pmks/persons/changes/") == {
        "type": "integer", "minimum": 1, "maximum": settings.SYNC_FEED_MAX_PAGE_SIZE}


# 3. ?updated_since=<well-formed but impossible> -> 500 (ValueError / DataError)
@pytest.mark.parametrize("since", ["2026-02-30", "2026-13-01", "2026-02-30T10:00:00",
                                   "2026-1-1T25:00", "9999-12-31T23:59:59-23:59"])
@pytest.mark.parametrize("path", ["pmks/persons/", "pmks/persons/changes/"])
def test_impossible_updated_since_is_a_400(api_as, province_operator, path, since):
    response = api_as(province_operator).get(f"{API}/{path}", {"updated_since": since})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["updated_since"]


# 4. mark-paid with a line_references key "²" -> 500 ValueError (before any permission check)
def test_mark_paid_non_ascii_digit_line_key(api_as, province_operator):
    run = PayoutRunFactory()
    response = api_as(province_operator).post(
        f"{API}/incentives/runs/{run.pk}/mark-paid/",
        {"reference": "SP2D-1", "line_references": {"²": "TRF-1"}}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["line_references"]


# 5. PATCH of a report nobody reviewed: reviewed_by missing (schema: required, nullable)
def test_patch_answer_keeps_reviewed_by(api_as, pandeglang_operator):
    report = ActivityReportFactory(worker=WorkerFactory(desa_id=DESA_PANDEGLANG),
                                   period=datetime.date(2026, 10, 1))
    response = api_as(pandeglang_operator).patch(
        f"{API}/psks/activity-reports/{report.pk}/", {"notes": "x"}, format="json")
    assert response.status_code == 200
    assert response.json()["reviewed_by"] is None


# 6. nested field errors are objects, the Error schema says errors: {name: [string]}
@pytest.mark.parametrize("url, body", [
    ("psks/institutions/", {"type": "lks", "name": "LKS Uji", "desa": DESA_PANDEGLANG,
                            "board_members": [{"name": "", "position": "Ketua"}]}),
    ("jamsosratu/verifications/", {"findings": [{"finding": "bukan-pilihan"}]}),
    ("incentives/runs/1/mark-paid/", {"reference": "R", "line_references": {"5": "x" * 101}}),
])
def test_nested_errors_have_the_documented_shape(api_as, province_operator, url, body):
    response = api_as(province_operator).post(f"{API}/{url}", body, format="json")
    assert response.status_code == 400
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v)
               for v in response.json()["errors"].values()), response.json()["errors"]


# 7. JSON body `null` -> 400 with DRF's English "No data provided"
@pytest.mark.parametrize("url", ["pmks/households/", "psks/workers/", "jamsosratu/enrolments/"])
def test_null_body_message_is_indonesian(api_as, province_operator, url):
    response = api_as(province_operator).post(f"{API}/{url}", data="null",
                                              content_type="application/json")
    assert response.status_code == 400
    assert "No data provided" not in str(response.json())


# 8. file answers whose Content-Type the schema does not list
@pytest.mark.parametrize("url, schema_path", [
    ("pmks/persons/export/?fmt=xlsx", "/api/v1/pmks/persons/export/"),
    ("imports/template/pmks_keluarga/?fmt=xlsx", "/api/v1/imports/template/{kind}/"),
    ("jamsosratu/coverage/?cycle=2026&fmt=csv", "/api/v1/jamsosratu/coverage/"),
    ("incentives/runs/realisation/?fmt=csv", "/api/v1/incentives/runs/realisation/"),
])
def test_file_answers_have_a_documented_content_type(api_as, province_operator, url,
                                                     schema_path):
    from drf_spectacular.generators import SchemaGenerator

    cycle_with_tranches()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = schema["paths"][schema_path]["get"]["responses"]["200"]["content"]
    response = api_as(province_operator).get(f"{API}/{url}")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in documented, (response["Content-Type"],
                                                                  list(documented))


# 9. a NUL (%00) in an export's query string -> 500 on PostgreSQL (its audit entry is jsonb);
# an export also took any unknown parameter, where its list refuses it
@pytest.mark.parametrize("path", ["pmks/persons/export/", "pmks/households/export/",
                                  "psks/workers/export/"])
@pytest.mark.parametrize("query", ["fmt=csv&x=%00", "fmt=csv&%00=1", "fmt=csv&x=1"])
def test_an_export_refuses_an_unknown_parameter_by_name(api_as, province_operator, path,
                                                       query):
    response = api_as(province_operator).get(f"{API}/{path}?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["\x00" if query.endswith("%00=1") else "x"]


@pytest.mark.parametrize("path", ["pmks/persons/export/", "psks/workers/export/"])
def test_a_nul_in_a_known_parameter_of_an_export_is_refused_by_name(api_as, province_operator,
                                                                    path):
    response = api_as(province_operator).get(f"{API}/{path}?fmt=csv&q=a%00b")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["q"]


def test_a_read_is_logged_without_nul_characters():
    """jsonb cannot hold U+0000: the access log drops it rather than fail the read."""
    from auditlog.models import LogEntry

    from dinsos import audit
    from pmks.models import Person

    audit.log_read(Person, what="ekspor", query={"q\x00": "a\x00b"})
    read = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("id")
    assert read.additional_data["query"] == {"q": "ab"}
