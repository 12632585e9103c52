"""The kernel's file handling for imports and exports (dinsos.tabular, dinsos.importing):
upload limits refused before any work (issue #9.12), what a protected or old-format workbook
says, and XLSX cells that are never formulas and never fail on control characters."""

import io
import time
import zipfile

import msoffcrypto.format.ooxml
import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from dinsos import importing
from dinsos.models import ImportBatch
from dinsos.tabular import csv_stream, xlsx_file
from pmks.importing import COLUMNS
from tests.factories import InstitutionFactory, MeetingFactory

IMPORTS = "/api/v1/imports/"
HEADER = [c.name for c in COLUMNS]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def xlsx_parts(sheet_xml: bytes, shared_strings: bytes | None = None) -> bytes:
    """A minimal XLSX made by hand, the way a zip bomb is: the sheet XML is written as given and
    deflated (a million empty rows compress to a few hundred KiB)."""
    content_types = (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
        b'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
        b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.worksheet+xml"/></Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            b'//schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            b'Target="xl/workbook.xml"/></Relationships>')
    workbook = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                b'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data"'
                b' sheetId="1" r:id="rId1"/></sheets></workbook>')
    workbook_rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
                     b'schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                     b'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     b'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return buffer.getvalue()


SHEET_START = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
               b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_END = b"</sheetData></worksheet>"


def header_row() -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % name.encode()
                     for name in HEADER)
    return b'<row r="1">' + cells + b"</row>"


def empty_rows_bomb(rows: int) -> bytes:
    body = b"".join(b'<row r="%d"/>' % n for n in range(2, rows + 2))
    return xlsx_parts(SHEET_START + header_row() + body + SHEET_END)


def post(client, name: str, content: bytes):
    return client.post(IMPORTS, {"kind": "pmks_keluarga", "dry_run": "false",
                                 "file": SimpleUploadedFile(name, content)}, format="multipart")


def refused(response) -> str:
    assert response.status_code == 400, response.content
    assert not ImportBatch.objects.exists()  # nothing stored, nothing queued
    (message,) = response.json()["errors"]["file"]
    return message


# --- upload limits ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_before_it_is_stored(
        settings, pandeglang_operator, api_as):
    settings.IMPORT_MAX_UPLOAD_MB = 0.001  # about 1 KiB
    content = ("\n".join([",".join(HEADER)] + ["x" * 100] * 20)).encode()
    message = refused(post(api_as(pandeglang_operator), "besar.csv", content))
    assert message == ("Berkas terlalu besar: ukuran berkas 2 KB melebihi batas 1 KB. Bagi data "
                       "menjadi beberapa berkas.")


@pytest.mark.django_db
def test_a_csv_with_too_many_rows_is_refused(settings, pandeglang_operator, api_as):
    settings.IMPORT_MAX_ROWS = 100
    content = ("\n".join([",".join(HEADER)] + ["a,b"] * 200)).encode()
    message = refused(post(api_as(pandeglang_operator), "banyak.csv", content))
    assert message == ("Berkas terlalu besar: jumlah baris melebihi batas 100. Bagi data "
                       "menjadi beberapa berkas.")


@pytest.mark.django_db
def test_the_import_command_reads_a_province_file_above_the_upload_row_limit(
        settings, tmp_path, province_operator, api_as):
    """A province's whole registry (a million persons and more) is loaded on the server with
    ``manage.py import_pmks``, which has limits of its own (still checked before any work);
    every upload keeps the upload limits, whatever the uploader's role."""
    settings.IMPORT_MAX_ROWS = 10
    settings.IMPORT_COMMAND_MAX_ROWS = 100
    content = ("\n".join([",".join(HEADER)] + ["a,b"] * 50)).encode()
    assert refused(post(api_as(province_operator), "provinsi.csv", content)) == (
        "Berkas terlalu besar: jumlah baris melebihi batas 10. Bagi data menjadi beberapa "
        "berkas.")
    path = tmp_path / "provinsi.csv"
    path.write_bytes(content)
    call_command("import_pmks", str(path), "--user", province_operator.username, "--dry-run",
                 stdout=io.StringIO())
    assert ImportBatch.objects.get().totals["rows"] == 50  # read (and its rows checked)
    settings.IMPORT_COMMAND_MAX_ROWS = 20
    with pytest.raises(CommandError) as caught:
        call_command("import_pmks", str(path), "--user", province_operator.username,
                     stdout=io.StringIO())
    assert str(caught.value) == ("Berkas terlalu besar: jumlah baris melebihi batas 20. Bagi "
                                 "data menjadi beberapa berkas.")
    assert ImportBatch.objects.count() == 1


@pytest.mark.django_db
def test_an_xlsx_bomb_of_empty_rows_is_refused_quickly(settings, pandeglang_operator, api_as):
    settings.IMPORT_MAX_ROWS = 1_000
    content = empty_rows_bomb(300_000)
    assert len(content) < 1024 * 1024  # small on the wire, 5 MB of rows once unpacked
    started = time.monotonic()
    message = refused(post(api_as(pandeglang_operator), "bom.xlsx", content))
    assert time.monotonic() - started < 5
    assert message == ("Berkas terlalu besar: jumlah baris melebihi batas 1.000. Bagi data "
                       "menjadi beberapa berkas.")


@pytest.mark.django_db
def test_an_xlsx_with_a_huge_shared_string_is_refused_from_its_unpacked_size(
        settings, pandeglang_operator, api_as):
    settings.IMPORT_MAX_XLSX_UNCOMPRESSED_MB = 1
    huge = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.'
            b'org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
            + b"A" * (3 * 1024 * 1024) + b"</t></si></sst>")
    content = xlsx_parts(SHEET_START + header_row() + SHEET_END, huge)
    assert len(content) < 20 * 1024
    message = refused(post(api_as(pandeglang_operator), "string.xlsx", content))
    assert message == ("Berkas terlalu besar: ukuran isi XLSX setelah dibuka melebihi batas "
                       "1 MB. Bagi data menjadi beberapa berkas.")


@pytest.mark.django_db
def test_an_xlsx_with_too_many_cells_is_refused(settings, pandeglang_operator, api_as):
    settings.IMPORT_MAX_XLSX_CELLS = 500
    workbook = openpyxl.Workbook()
    for n in range(60):
        workbook.active.append([f"sel {n}-{i}" for i in range(10)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    message = refused(post(api_as(pandeglang_operator), "sel.xlsx", buffer.getvalue()))
    assert message == ("Berkas terlalu besar: jumlah sel melebihi batas 500. Bagi data menjadi "
                       "beberapa berkas.")


@pytest.mark.django_db
def test_the_admin_upload_refuses_the_same_files(settings, province_operator):
    settings.IMPORT_MAX_ROWS = 1_000
    province_operator.is_staff = True
    province_operator.save()
    client = Client()
    client.force_login(province_operator)
    response = client.post("/admin/dinsos/importbatch/add/", {
        "kind": "pmks_keluarga", "dry_run": "on",
        "file": SimpleUploadedFile("bom.xlsx", empty_rows_bomb(5_000))})
    assert response.status_code == 200  # the form again, with the error on the file
    assert "jumlah baris melebihi batas 1.000" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_default_limits_are_safe(settings):
    limits = importing.upload_limits()
    assert limits.max_bytes == 20 * 1024 * 1024
    assert (limits.max_rows, limits.max_cells) == (100_000, 3_000_000)
    assert limits.max_uncompressed_bytes == 200 * 1024 * 1024
    command = importing.upload_limits(command=True)
    assert (command.max_bytes, command.max_rows) == (1024 * 1024 * 1024, 3_000_000)
    assert (command.max_cells, command.max_uncompressed_bytes) == (3_000_000, 200 * 1024 * 1024)


# --- what a file that cannot be read says -----------------------------------------------------


def protected_workbook() -> bytes:
    """An XLSX encrypted with a password, as Excel's "Encrypt with Password" makes it (an OLE2
    container holding EncryptionInfo and the encrypted package), made with msoffcrypto-tool."""
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    plain, encrypted = io.BytesIO(), io.BytesIO()
    workbook.save(plain)
    plain.seek(0)
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("rahasia", encrypted)
    return encrypted.getvalue()


@pytest.mark.django_db
def test_a_password_protected_workbook_says_so(pandeglang_operator, api_as):
    message = refused(post(api_as(pandeglang_operator), "terkunci.xlsx", protected_workbook()))
    assert message.startswith("Berkas XLSX dilindungi kata sandi dan tidak dapat dibaca. Buka di "
                              "Excel, hapus kata sandinya")


@pytest.mark.django_db
def test_an_old_xls_renamed_to_xlsx_says_so(pandeglang_operator, api_as):
    content = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 1024
    message = refused(post(api_as(pandeglang_operator), "lama.xlsx", content))
    assert message.startswith("Berkas ini berformat .xls (Excel 97–2003) walaupun bernama .xlsx")


@pytest.mark.django_db
def test_an_xls_file_from_the_command_line_gives_the_message_not_a_traceback(
        tmp_path, province_operator):
    path = tmp_path / "data.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 1024)
    with pytest.raises(CommandError) as caught:
        call_command("import_pmks", str(path), "--user", province_operator.username)
    assert str(caught.value).startswith("Berkas .xls (Excel 97–2003) tidak dapat dibaca: buka di "
                                        "Excel, pilih Simpan Sebagai")
    assert not ImportBatch.objects.exists()


def ods_bytes() -> bytes:
    """The start of what LibreOffice saves as .ods: a zip whose first entry is "mimetype"."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return out.getvalue()


@pytest.mark.django_db
def test_an_ods_renamed_to_xlsx_is_refused_at_upload_in_indonesian(pandeglang_operator, api_as):
    """Accepted at upload, then "Berkas XLSX tidak dapat dibaca: "There is no item named
    '[Content_Types].xml' in the archive"" in the batch."""
    message = refused(post(api_as(pandeglang_operator), "data.xlsx", ods_bytes()))
    assert message.startswith("Berkas ini berformat ODS (LibreOffice/OpenOffice Calc) walaupun "
                              "bernama .xlsx")
    message = refused(post(api_as(pandeglang_operator), "data.ods", ods_bytes()))
    assert message.startswith("Berkas .ods (LibreOffice/OpenOffice Calc) tidak dapat dibaca")


@pytest.mark.django_db
def test_a_zip_that_is_no_workbook_is_refused_at_upload(pandeglang_operator, api_as):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("foto.jpg", b"\xff\xd8")
    message = refused(post(api_as(pandeglang_operator), "data.xlsx", out.getvalue()))
    assert message == "Berkas XLSX rusak atau bukan berkas Excel."


# --- writing ----------------------------------------------------------------------------------


def test_xlsx_text_cells_are_strings_never_formulas_and_csv_keeps_its_guard():
    buffer = xlsx_file(["nama"], [["=HYPERLINK(\"http://x\")"], ["-Dede"], ["@SUM(A1)"]])
    sheet = openpyxl.load_workbook(buffer).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [
        ("=HYPERLINK(\"http://x\")", "s"), ("-Dede", "s"), ("@SUM(A1)", "s")]
    assert "".join(csv_stream(["nama"], [["-Dede"]])) == "\ufeffnama\r\n'-Dede\r\n"


def test_control_characters_do_not_break_an_xlsx_export():
    buffer = xlsx_file(["nama"], [["LKS\x07 Harapan\x1b"], ["baris\nbaru\ttab"]])
    sheet = openpyxl.load_workbook(buffer).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "LKS\ufffd Harapan\ufffd", "baris\nbaru\ttab"]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["institutions", "meetings"])
def test_exports_of_names_with_control_characters_answer_200(endpoint, province_operator, api_as):
    if endpoint == "institutions":
        InstitutionFactory(name="LKS\x0b Bina\x01 Sejahtera")
    else:
        MeetingFactory(agenda="Rakor\x0c bulanan\x02")
    response = api_as(province_operator).get(f"/api/v1/psks/{endpoint}/export/", {"fmt": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [v for row in sheet.iter_rows(min_row=2, values_only=True) for v in row]
    assert any(isinstance(v, str) and "\ufffd" in v for v in values)
