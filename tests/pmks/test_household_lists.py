"""A household's DTKS lists — the assets it owns and the programs it takes part in — on every
door: the services (one write path, audited, fed to the sync clients), the API (writable code
lists, a 400 naming an unknown code, the filters, no query per row), the district sync upsert
(a row without a list keeps it), the admin, the export and the reference data."""

import csv
import io

import openpyxl
import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dinsos import selectors as kernel_selectors
from dinsos.audit import audit_context
from dinsos.models import Change
from pmks import reference, services
from pmks.models import Asset, Household, HouseholdAsset, Program
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for, pull, results, version_in
from tests.pmks.factories import no_kk_for

pytestmark = pytest.mark.django_db

API = "/api/v1/pmks/households/"


def assets(*codes):
    return list(Asset.objects.filter(code__in=codes))


def programs(*codes):
    return list(Program.objects.filter(code__in=codes))


def codes(household, relation="assets") -> list[str]:
    return sorted(getattr(Household.objects.get(pk=household.pk), relation)
                  .values_list("code", flat=True))


# --- reference data ---------------------------------------------------------------------------


def test_the_dtks_lists_are_loaded_by_migration_in_form_order():
    assert list(Asset.objects.values_list("code", flat=True)) == [c for c, _n in reference.ASSETS]
    assert list(Program.objects.values_list("code", flat=True)) == [
        c for c, _n in reference.PROGRAMS]
    assert Asset.objects.get(code="tabung-gas").name == "Tabung gas 5,5 kg atau lebih"
    assert {"pkh", "kks", "bpnt", "kis-pbi-jk", "jamsosratu", "rutilahu"} <= set(
        Program.objects.values_list("code", flat=True))


def test_an_asset_a_household_holds_cannot_be_deleted():
    household = HouseholdFactory()
    household.assets.set(assets("sepeda"))
    with pytest.raises(ProtectedError):
        Asset.objects.get(code="sepeda").delete()
    household.delete()  # the household's own entries go with it
    assert not HouseholdAsset.objects.exists()


def test_reference_lists_are_read_by_every_role(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    body = client.get("/api/v1/pmks/assets/").json()
    assert body[0] == {"code": "tabung-gas", "name": "Tabung gas 5,5 kg atau lebih", "order": 1}
    assert client.get("/api/v1/pmks/programs/pkh/").json()["name"].startswith("PKH")
    assert client.post("/api/v1/pmks/programs/", {"code": "x", "name": "X"}).status_code in (
        403, 405)


# --- services ---------------------------------------------------------------------------------


def test_create_and_update_write_the_lists_and_keep_a_list_not_sent(province_operator):
    household = services.household_create(
        actor=province_operator, no_kk=no_kk_for(), address="Kp. Cibeureum",
        desa_id=DESA_PANDEGLANG, assets=assets("sepeda", "lahan"), programs=programs("pkh"))
    assert (codes(household), codes(household, "programs")) == (["lahan", "sepeda"], ["pkh"])
    services.household_update(actor=province_operator, household=household,
                              assets=assets("sepeda-motor"))
    assert (codes(household), codes(household, "programs")) == (["sepeda-motor"], ["pkh"])
    services.household_update(actor=province_operator, household=household, address="Kp. Baru",
                              programs=[])
    assert (codes(household), codes(household, "programs")) == (["sepeda-motor"], [])


def test_a_changed_list_is_audited_and_reads_in_the_history(province_operator):
    household = HouseholdFactory()
    with audit_context(source="api", actor=province_operator):
        services.household_update(actor=province_operator, household=household,
                                  assets=assets("sepeda", "mobil"))
        services.household_update(actor=province_operator, household=household,
                                  assets=assets("mobil"))
    entries = [e for e in LogEntry.objects.get_for_object(household)
               if "assets" in (e.changes_dict or {})]
    done = sorted((e.changes_dict["assets"]["operation"],
                   sorted(e.changes_dict["assets"]["objects"])) for e in entries)
    assert done == [("add", ["Mobil", "Sepeda"]), ("delete", ["Sepeda"])]
    assert all(e.actor == province_operator for e in entries)
    texts = [c["text"] for row in kernel_selectors.history(obj=household)
             for c in row["changes"] if c["field"] == "Aset"]
    assert "dihapus: Sepeda" in texts
    assert any(t.startswith("ditambah: ") and "Mobil" in t for t in texts)


def test_a_district_operator_cannot_set_the_lists_of_another_districts_household(
        pandeglang_operator, api_as):
    lebak = HouseholdFactory(desa_id=DESA_LEBAK)
    with pytest.raises(PermissionDenied):
        services.household_update(actor=pandeglang_operator, household=lebak,
                                  assets=assets("mobil"))
    response = api_as(pandeglang_operator).patch(f"{API}{lebak.pk}/", {"assets": ["mobil"]},
                                                format="json")
    assert response.status_code == 404
    assert codes(lebak) == []


def test_a_changed_list_feeds_the_household_to_the_sync_clients(api_as, pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    client = api_as(pandeglang_operator)
    _entries, cursor = pull(client, "pmks-api:household")
    services.household_update(actor=pandeglang_operator, household=household,
                              programs=programs("bpnt", "pkh"))
    entries, _cursor = pull(client, "pmks-api:household", cursor=cursor)
    assert [(e["id"], e["data"]["programs"]) for e in entries] == [(household.pk,
                                                                    ["bpnt", "pkh"])]
    assert Change.objects.filter(resource="pmks.household", object_id=household.pk).exists()


# --- API --------------------------------------------------------------------------------------


def test_api_writes_and_reads_the_lists_as_codes(api_as, pandeglang_operator):
    client = api_as(pandeglang_operator)
    created = client.post(API, {"no_kk": no_kk_for(), "address": "Kp. Sukamaju",
                                "desa": DESA_PANDEGLANG, "assets": ["sepeda-motor", "lahan"],
                                "programs": ["pkh", "kis-pbi-jk"]}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["assets"], body["programs"]) == (["lahan", "sepeda-motor"],
                                                  ["kis-pbi-jk", "pkh"])
    url = f"{API}{body['id']}/"
    changed = client.patch(url, {"programs": ["bpnt"]}, format="json").json()
    assert (changed["assets"], changed["programs"]) == (["lahan", "sepeda-motor"], ["bpnt"])
    assert client.get(url).json()["programs"] == ["bpnt"]
    listed = {row["id"]: row for row in results(client.get(API))}
    assert listed[body["id"]]["assets"] == ["lahan", "sepeda-motor"]


@pytest.mark.parametrize("field, sent, message", [
    ("assets", ["sepeda", "jet-pribadi"], "Kode aset tidak dikenal: jet-pribadi."),
    ("programs", ["pkh", "bansos-x", "y"], "Kode program bantuan tidak dikenal: bansos-x, y."),
    ("assets", "sepeda", 'Kirim daftar kode aset (larik teks), misalnya ["sepeda-motor"].'),
    ("programs", [1], 'Kirim daftar kode program bantuan (larik teks), misalnya ["pkh"].'),
])
def test_an_unknown_code_answers_400_naming_the_field(field, sent, message, api_as,
                                                      pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    household.assets.set(assets("lahan"))
    response = api_as(pandeglang_operator).patch(f"{API}{household.pk}/", {field: sent},
                                                format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert codes(household) == ["lahan"]


def test_filters_by_asset_and_program_code(api_as, province_operator):
    motor, both, none = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    motor.assets.set(assets("sepeda-motor"))
    both.assets.set(assets("sepeda-motor", "lahan"))
    both.programs.set(programs("pkh"))
    client = api_as(province_operator)

    def found(**params):
        return {row["id"] for row in results(client.get(API, params))}

    assert found(aset="sepeda-motor") == {motor.pk, both.pk}
    assert found(aset="sepeda-motor,lahan") == {both.pk}
    assert found(program="pkh") == {both.pk}
    assert found(program="pkh", aset="lahan") == {both.pk}
    assert found(aset="tidak-ada") == set()
    assert none.pk in found()


def test_the_list_reads_the_codes_without_a_query_per_row(api_as, province_operator):
    client = api_as(province_operator)
    for _i in range(3):
        household = HouseholdFactory()
        household.assets.set(assets("sepeda", "mobil"))
        household.programs.set(programs("pkh"))
    client.get(API)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert len(results(client.get(API))) == 3
    for _i in range(7):
        household = HouseholdFactory()
        household.assets.set(assets("lahan"))
    with CaptureQueriesContext(connection) as more:
        rows = results(client.get(API))
    assert len(rows) == 10 and len(more) == len(few)
    assert not [q for q in more.captured_queries if 'FROM "pmks_asset"' in q["sql"]]


# --- the district sync upsert -----------------------------------------------------------------


def test_batch_upsert_writes_the_lists_and_a_row_without_them_keeps_them(api_as,
                                                                         pandeglang_operator):
    client = api_as(pandeglang_operator)
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG, address="Kp. Lama")
    household.assets.set(assets("sepeda"))
    household.programs.set(programs("pkh"))
    new_kk = no_kk_for()
    rows = [
        {"no_kk": household.no_kk, "address": "Kp. Lama", "desa": DESA_PANDEGLANG},
        {"no_kk": new_kk, "address": "Kp. Baru", "desa": DESA_PANDEGLANG,
         "assets": ["lahan"], "programs": ["bpnt"]},
    ]
    body = client.post(f"{API}batch/", {"rows": rows}, format="json").json()
    assert [r["status"] for r in body["results"]] == ["unchanged", "created"]
    assert (codes(household), codes(household, "programs")) == (["sepeda"], ["pkh"])
    created = Household.objects.get(no_kk=new_kk)
    assert (codes(created), codes(created, "programs")) == (["lahan"], ["bpnt"])
    stamp = Household.objects.get(pk=household.pk).updated_at
    rows = [{"no_kk": household.no_kk, "address": "Kp. Lama", "desa": DESA_PANDEGLANG,
             "programs": []},
            {"no_kk": new_kk, "address": "Kp. Baru", "desa": DESA_PANDEGLANG,
             "assets": ["lahan"], "programs": ["bpnt"]},
            {"no_kk": no_kk_for(), "address": "Kp. X", "desa": DESA_PANDEGLANG,
             "assets": ["kapal-selam"]}]
    body = client.post(f"{API}batch/", {"rows": rows}, format="json").json()
    assert [r["status"] for r in body["results"]] == ["updated", "unchanged", "refused"]
    assert body["results"][2]["errors"] == {"assets": ["Kode aset tidak dikenal: kapal-selam."]}
    assert (codes(household), codes(household, "programs")) == (["sepeda"], [])
    assert Household.objects.get(pk=household.pk).updated_at > stamp  # its ETag moves


# --- admin ------------------------------------------------------------------------------------


def _admin_data(household, **extra):
    data = {"no_kk": household.no_kk, "address": household.address, "rt": household.rt,
            "rw": household.rw, "desa": household.desa_id, "head": "", "decile": "",
            "floor": "", "wall": "", "water_source": "", "lighting": "", "cooking_fuel": "",
            "toilet": "", "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "0"}
    return {**data, **extra}


def test_admin_form_shows_and_writes_the_lists_through_the_service(pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    household.programs.set(programs("pkh"))
    client = client_for(pandeglang_operator)
    url = reverse("admin:pmks_household_change", args=[household.pk])
    page = client.get(url).content.decode()
    assert 'type="checkbox" name="assets"' in page and "Tabung gas 5,5 kg atau lebih" in page
    pkh = Program.objects.get(code="pkh").pk
    assert f'name="programs" value="{pkh}"' in page and "checked" in page
    response = client.post(url, _admin_data(
        household, assets=[a.pk for a in assets("sepeda", "lahan")], programs=[pkh]))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (codes(household), codes(household, "programs")) == (["lahan", "sepeda"], ["pkh"])
    entries = [e for e in LogEntry.objects.get_for_object(household)
               if "assets" in (e.changes_dict or {})]
    assert [e.additional_data.get("source") for e in entries] == ["admin"]


def test_admin_list_filters_by_asset_and_program(province_operator):
    motor = HouseholdFactory(address="Kp. Motor")
    HouseholdFactory(address="Kp. Lain")
    motor.assets.set(assets("sepeda-motor"))
    client = client_for(province_operator)
    changelist = reverse("admin:pmks_household_changelist")
    page = client.get(changelist).content.decode()
    assert "Sepeda motor" in page and "Program bantuan" in page
    asset = Asset.objects.get(code="sepeda-motor").pk
    page = client.get(changelist, {"assets__id__exact": asset}).content.decode()
    assert "Kp. Motor" in page and "Kp. Lain" not in page


# --- export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_has_the_asset_and_program_columns(fmt, api_as, province_operator):
    household = HouseholdFactory()
    household.assets.set(assets("sepeda", "lahan"))
    household.programs.set(programs("pkh"))
    HouseholdFactory()
    response = api_as(province_operator).get(f"{API}export/", {"fmt": fmt})
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(
            values_only=True)]
    header = rows[0]
    assert header[header.index("kepala_keluarga") + 1:] == ["aset", "program", "jumlah_anggota",
                                                            "desil"]
    by_address = {row[header.index("alamat")]: row for row in rows[1:]}
    row = by_address[household.address]
    assert (row[header.index("aset")], row[header.index("program")]) == ("lahan;sepeda", "pkh")
    assert len(by_address) == 2
    assert {r[header.index("aset")] for r in rows[1:]} == {"lahan;sepeda", ""}


# --- staff pages ------------------------------------------------------------------------------


def test_household_page_shows_housing_assets_and_programs(pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG, floor="tanah")
    household.assets.set(assets("sepeda-motor", "tabung-gas"))
    household.programs.set(programs("pkh"))
    member = PersonFactory(household=household, desa_id=DESA_PANDEGLANG, name="Ujang Sobari")
    PersonFactory(household=household, desa_id=DESA_LEBAK, name="RAHASIA LEBAK")
    client = client_for(pandeglang_operator)
    page = client.get(reverse("pmks:household-detail", args=[household.pk])).content.decode()
    assert "Tabung gas 5,5 kg atau lebih" in page and "Sepeda motor" in page
    assert page.index("Tabung gas") < page.index("Sepeda motor")  # in the form's order
    assert "PKH (Program Keluarga Harapan)" in page and "Tanah" in page
    assert "Ujang Sobari" in page and "RAHASIA LEBAK" not in page
    person_page = client.get(reverse("pmks:person-detail", args=[member.pk])).content.decode()
    assert reverse("pmks:household-detail", args=[household.pk]) in person_page
    assert LogEntry.objects.get_for_object(household).filter(
        action=LogEntry.Action.ACCESS).count() == 1


def test_household_form_writes_the_lists_through_the_service(pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    household.programs.set(programs("kks"))
    client = client_for(pandeglang_operator)
    url = reverse("pmks:household-update", args=[household.pk])
    page = client.get(url).content.decode()
    assert "<legend" in page and "Aset" in page and "Program bantuan" in page
    assert page.count('type="checkbox" name="assets"') == Asset.objects.count()
    assert page.count('type="checkbox" name="programs"') == Program.objects.count()
    version = version_in(page)
    last = LogEntry.objects.order_by("-id").values_list("id", flat=True).first()
    response = client.post(url, {
        "address": household.address, "rt": household.rt, "rw": household.rw,
        "floor": "semen", "assets": [a.pk for a in assets("lahan", "perahu")],
        "programs": [p.pk for p in programs("pkh", "bpnt")], "if_match": version})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert (codes(household), codes(household, "programs")) == (["lahan", "perahu"],
                                                                ["bpnt", "pkh"])
    assert Household.objects.get(pk=household.pk).floor == "semen"
    sources = {e.additional_data.get("source") for e in LogEntry.objects.get_for_object(
        household).filter(id__gt=last) if "programs" in (e.changes_dict or {})}
    assert sources == {"web"}


def test_household_form_refuses_an_unknown_entry_and_keeps_the_lists(pandeglang_operator):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    household.assets.set(assets("sepeda"))
    client = client_for(pandeglang_operator)
    url = reverse("pmks:household-update", args=[household.pk])
    response = client.post(url, {"address": household.address, "assets": ["999999"],
                                 "if_match": version_in(client.get(url).content.decode())})
    assert response.status_code == 400
    assert "999999 bukan salah satu dari pilihan yang tersedia" in response.content.decode()
    assert codes(household) == ["sepeda"]


def test_a_district_operator_cannot_open_or_post_another_districts_household_page(
        pandeglang_operator):
    lebak = HouseholdFactory(desa_id=DESA_LEBAK)
    client = client_for(pandeglang_operator)
    assert client.get(reverse("pmks:household-detail", args=[lebak.pk])).status_code == 404
    url = reverse("pmks:household-update", args=[lebak.pk])
    response = client.post(url, {"address": "Kp. X", "assets": [assets("mobil")[0].pk]})
    assert response.status_code == 404
    assert codes(lebak) == []


# --- the spreadsheet import: a file without the lists' columns leaves them alone --------------
# (the import of the columns: tests/pmks/test_import_lists.py)


@pytest.mark.usefixtures("import_path")
def test_a_reimport_without_the_list_columns_keeps_the_lists(
        pandeglang_operator, settings, tmp_path, django_capture_on_commit_callbacks):
    from tests.pmks.test_import import HEADER, KK_1, csv_bytes, family_rows, submit

    settings.MEDIA_ROOT = tmp_path / "media"
    submit(pandeglang_operator, csv_bytes(family_rows()),
           capture=django_capture_on_commit_callbacks)
    household = Household.objects.get(no_kk=KK_1)
    services.household_update(actor=pandeglang_operator, household=household,
                              assets=assets("lahan"), programs=programs("pkh"))
    rows = family_rows()
    for values in rows[:3]:
        values["desil"] = "3"  # the household's row changes
    header = [c for c in HEADER if c not in ("aset", "program")]  # an older template
    batch = submit(pandeglang_operator, csv_bytes(rows, header=header),
                   capture=django_capture_on_commit_callbacks)
    assert batch.totals["keluarga_diubah"] == 1
    assert Household.objects.get(no_kk=KK_1).decile == 3
    assert (codes(household), codes(household, "programs")) == (["lahan"], ["pkh"])
