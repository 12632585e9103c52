"""Review (December 2026): a masked role may search (and export) by the whole NIK typed
with the separators staff paste (``dinsos.filters.identifier_digits``: spaces, dots, dashes),
but the read's stored query and the logs masked only an unbroken run of 15-16 digits: the NIK
was kept whole."""

from dinsos import audit
from dinsos.log_filters import MaskIdentifiers

NIK_SPACED = "3601 0117 0885 0001"
NIK_DOTTED = "3601.0117.0885.0001"


def test_read_query_masks_a_whole_nik_typed_with_spaces():
    stored = audit.masked_query({"q": NIK_SPACED})
    assert "0117 0885" not in stored["q"], stored


def test_read_query_masks_a_whole_nik_typed_with_dots():
    stored = audit.masked_query({"nik": NIK_DOTTED})
    assert "0117.0885" not in stored["nik"], stored


def test_log_line_masks_a_whole_nik_typed_with_dots():
    import logging

    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1,
                               "Bad Request: /api/v1/pmks/persons/by-nik/%s/", (NIK_DOTTED,),
                               None)
    MaskIdentifiers().filter(record)
    assert "0117.0885" not in record.getMessage(), record.getMessage()


def test_export_by_a_spaced_nik_keeps_no_whole_nik_in_its_read_entry(make_user, api_as):
    """The Auditor exports persons by ``?q=3601 0117 0885 0001`` (accepted as the whole NIK):
    the export's ACCESS entry must not keep the NIK's digits."""
    import json

    from auditlog.models import LogEntry

    from dinsos import roles
    from tests.factories import PersonFactory

    person = PersonFactory()
    spaced = " ".join(person.nik[i:i + 4] for i in range(0, 16, 4))
    response = api_as(make_user(roles.AUDITOR)).get("/api/v1/pmks/persons/export/",
                                                    {"fmt": "csv", "q": spaced})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = LogEntry.objects.filter(action=3).latest("pk")
    assert spaced not in json.dumps(entry.additional_data), entry.additional_data


def test_a_request_line_with_a_spaced_nik_in_its_query_is_masked():
    """Seen in the development server's log of a staff search (1 December 2026): the search
    box sends "3601 0117 0885 0001" as ``?q=3601+0117+0885+0001`` (or ``%20``), which the
    separators above did not cover."""
    import logging

    for query in ("3601+0117+0885+0001", "3601%200117%200885%200001"):
        record = logging.LogRecord("django.server", logging.INFO, __file__, 1,
                                   '"GET /pmks/?q=%s HTTP/1.1" 200 2478', (query,), None)
        MaskIdentifiers().filter(record)
        assert record.getMessage() == '"GET /pmks/?q=360101********01 HTTP/1.1" 200 2478'
