"""The six role groups and the nine offices, created by migrations and kept by `sync_roles`."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from dinsos import roles, services
from dinsos.models import Office
from pmks.models import Household

pytestmark = pytest.mark.django_db

ROLE_NAMES = ["Admin", "Operator Provinsi", "Operator Kab/Kota", "Keuangan", "Pimpinan",
              "Auditor"]


def perms_of(group_name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def all_perms() -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


def snapshot() -> dict[str, set[int]]:
    return {
        group.name: set(group.permissions.values_list("id", flat=True))
        for group in Group.objects.all()
    }


def test_the_six_groups_exist():
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(ROLE_NAMES)
    assert list(roles.ROLE_NAMES) == ROLE_NAMES


def test_auditor_has_only_view_permissions_and_all_of_them():
    auditor = perms_of("Auditor")
    assert auditor
    assert all(p.split(".", 1)[1].startswith("view_") for p in auditor)
    assert auditor == {p for p in all_perms() if p.split(".", 1)[1].startswith("view_")}
    assert {"pmks.view_household", "pmks.view_person", "dinsos.view_office",
            "auditlog.view_logentry"} <= auditor


def test_operator_kab_kota_permissions(pandeglang_operator):
    user = pandeglang_operator
    assert user.has_perm("pmks.add_household")
    assert user.has_perm("pmks.change_household")
    assert user.has_perm("pmks.delete_person")
    assert user.has_perm("dinsos.view_office")
    assert user.has_perm("dinsos.view_wilayah")
    assert not user.has_perm("dinsos.change_office")
    assert not user.has_perm("dinsos.change_wilayah")
    assert not user.has_perm("dinsos.add_user")
    assert not user.has_perm("auth.change_group")
    assert not user.has_perm("auditlog.view_logentry")
    assert not user.has_perm("django_celery_beat.change_periodictask")


def test_operator_kab_kota_has_no_permission_outside_its_apps():
    apps = {p.split(".", 1)[0] for p in perms_of("Operator Kab/Kota")}
    assert apps <= {"dinsos", "pmks", "psks", "jamsosratu", "incentives"}
    kernel = {p for p in perms_of("Operator Kab/Kota") if p.startswith("dinsos.")}
    # the kernel is reference data for operators: every dinsos model viewable, nothing
    # changeable or deletable; the only write is uploading an import file
    assert {p for p in all_perms() if p.startswith("dinsos.view_")} <= kernel
    assert kernel - {p for p in all_perms() if p.startswith("dinsos.view_")} == {
        "dinsos.add_importbatch"
    }
    assert {"dinsos.view_wilayah", "dinsos.view_office", "dinsos.view_user"} <= kernel


def test_read_only_roles_cannot_write_pmks():
    for role in ("Keuangan", "Pimpinan"):
        pmks = {p for p in perms_of(role) if p.startswith("pmks.")}
        assert "pmks.view_household" in pmks
        assert all(p.split(".", 1)[1].startswith("view_") for p in pmks), role


PROVINCE_REFERENCE = ["pmks.category", "pmks.servicetype", "psks.bank", "jamsosratu.cycle",
                      "jamsosratu.tranche", "jamsosratu.quota", "jamsosratu.conditionrule"]
PROVINCE_DATA = ["incentives.rate", "incentives.budgetceiling", "incentives.payoutrun"]


def test_operator_kab_kota_only_reads_province_reference_data():
    """Issue #9 point 5: categories, service types, banks, cycles, quotas, tranches and
    condition rules are province configuration: a kab/kota operator reads them only."""
    district = perms_of("Operator Kab/Kota")
    for label in PROVINCE_REFERENCE:
        app, model = label.split(".")
        assert f"{app}.view_{model}" in district, label
        for action in ("add", "change", "delete"):
            assert f"{app}.{action}_{model}" not in district, (label, action)
            assert f"{app}.{action}_{model}" in perms_of("Operator Provinsi"), (label, action)


def test_operator_kab_kota_cannot_see_province_payout_data():
    district = perms_of("Operator Kab/Kota")
    for label in PROVINCE_DATA:
        app, model = label.split(".")
        assert not {p for p in district if p.startswith(f"{app}.") and p.endswith(f"_{model}")}
    assert "incentives.view_payoutline" in district  # its own area's lines


def test_operators_differ_only_on_province_only_models():
    from django.apps import apps

    province_only = {m._meta.model_name for m in apps.get_models()
                     if getattr(m, "province_only", None)}
    difference = perms_of("Operator Provinsi") ^ perms_of("Operator Kab/Kota")
    assert difference
    assert all(p.rsplit("_", 1)[1] in province_only for p in difference), difference


CRUD = ("view_", "add_", "change_", "delete_")


def test_admin_has_every_crud_permission():
    assert {p for p in all_perms() if p.split(".", 1)[1].startswith(CRUD)} <= perms_of("Admin")


def test_admin_has_every_permission():
    """Regression: custom permissions (incentives.verify_run, approve_run, …) included."""
    assert all_perms() - perms_of("Admin") == set()


def test_admin_role_user_is_allowed_everything(make_user):
    admin = make_user(roles.ADMIN)
    assert not admin.is_superuser
    assert admin.has_perm("dinsos.change_office")
    assert admin.has_perm("auth.delete_group")
    assert admin.has_perm("django_celery_beat.change_periodictask")


def test_incentive_workflow_permissions_are_split_between_roles():
    workflow = {"incentives.verify_run", "incentives.mark_paid_run", "incentives.approve_run",
                "incentives.override_ceiling"}
    assert workflow <= all_perms()
    assert perms_of("Keuangan") & workflow == {"incentives.verify_run",
                                               "incentives.mark_paid_run"}
    assert perms_of("Pimpinan") & workflow == {"incentives.approve_run",
                                               "incentives.override_ceiling"}
    for role in ("Operator Provinsi", "Operator Kab/Kota", "Auditor"):
        assert perms_of(role) & workflow == set(), role
    assert {p for p in perms_of("Operator Kab/Kota") if p.startswith("incentives.")} == {
        "incentives.view_payoutline"
    }


def test_custom_permission_is_not_given_to_view_only_roles():
    ct = ContentType.objects.get_for_model(Household)
    Permission.objects.create(content_type=ct, codename="export_household",
                              name="Can export household")
    roles.sync_roles()
    for role in ("Auditor", "Operator Kab/Kota", "Keuangan", "Pimpinan"):
        assert "pmks.export_household" not in perms_of(role), role


def test_sync_roles_is_idempotent():
    before = snapshot()
    roles.sync_roles()
    roles.sync_roles()
    assert snapshot() == before
    assert Group.objects.count() == 6


def test_sync_roles_repairs_hand_edits():
    auditor = Group.objects.get(name="Auditor")
    change_office = Permission.objects.get(codename="change_office")
    view_household = Permission.objects.get(codename="view_household")
    auditor.permissions.add(change_office)
    auditor.permissions.remove(view_household)
    Group.objects.filter(name="Pimpinan").delete()

    roles.sync_roles()

    assert "dinsos.change_office" not in perms_of("Auditor")
    assert "pmks.view_household" in perms_of("Auditor")
    assert Group.objects.filter(name="Pimpinan").exists()
    assert "pmks.view_household" in perms_of("Pimpinan")


def test_sync_roles_leaves_other_groups_alone():
    other = Group.objects.create(name="Tamu")
    other.permissions.add(Permission.objects.get(codename="change_office"))
    roles.sync_roles()
    assert list(other.permissions.values_list("codename", flat=True)) == ["change_office"]


# --- offices --------------------------------------------------------------------------------


def test_nine_offices_each_tied_to_province_or_kab_kota():
    offices = list(Office.objects.select_related("wilayah").order_by("wilayah_id"))
    assert len(offices) == 9
    assert [(o.wilayah_id, o.wilayah.tingkat, o.name) for o in offices] == [
        ("36", "provinsi", "Dinas Sosial Provinsi Banten"),
        ("36.01", "kabupaten", "Dinas Sosial Kabupaten Pandeglang"),
        ("36.02", "kabupaten", "Dinas Sosial Kabupaten Lebak"),
        ("36.03", "kabupaten", "Dinas Sosial Kabupaten Tangerang"),
        ("36.04", "kabupaten", "Dinas Sosial Kabupaten Serang"),
        ("36.71", "kota", "Dinas Sosial Kota Tangerang"),
        ("36.72", "kota", "Dinas Sosial Kota Cilegon"),
        ("36.73", "kota", "Dinas Sosial Kota Serang"),
        ("36.74", "kota", "Dinas Sosial Kota Tangerang Selatan"),
    ]
    assert [o.is_province for o in offices] == [True] + [False] * 8
    assert str(offices[1]) == "Dinas Sosial Kabupaten Pandeglang"


def test_offices_ensure_is_idempotent_and_keeps_edits():
    Office.objects.filter(wilayah_id="36.01").update(name="Dinsos Pandeglang (diubah)")
    assert services.offices_ensure() == 9
    assert Office.objects.count() == 9
    assert Office.objects.get(wilayah_id="36.01").name == "Dinsos Pandeglang (diubah)"


def test_offices_ensure_recreates_a_missing_office():
    Office.objects.filter(wilayah_id="36.74").delete()
    services.offices_ensure()
    assert Office.objects.get(wilayah_id="36.74").name == "Dinas Sosial Kota Tangerang Selatan"


def test_offices_are_scoped(pandeglang_operator, province_operator):
    assert list(Office.objects.for_user(pandeglang_operator).values_list("wilayah_id", flat=True)
                ) == ["36.01"]
    assert Office.objects.for_user(province_operator).count() == 9


def test_default_permissions_are_named_in_indonesian_after_migrate():
    """The language audit: the permission picker of Admin > Grup / Pengguna listed Django's
    generated names, all English ("Can add orang", "Can view kasus", "Can delete pengguna"),
    and third-party models' names too ("periodic task track"). After every migrate they are
    named "Dapat menambah/mengubah/menghapus/melihat <model>" with the model's Indonesian
    name; codenames stay; a custom permission keeps its own name."""
    names = dict(Permission.objects.values_list("codename", "name"))
    assert names["view_person"] == "Dapat melihat orang"
    assert names["add_case"] == "Dapat menambah kasus"
    assert names["change_household"] == "Dapat mengubah keluarga"
    assert names["delete_user"] == "Dapat menghapus pengguna"
    assert names["verify_run"] == "Dapat memverifikasi perhitungan (Keuangan)"
    assert not Permission.objects.filter(name__startswith="Can ").exists()
    assert not Permission.objects.filter(name__icontains="periodic task track").exists()
    assert names["add_authtoken"] == "Dapat menambah token API"  # knox's name is not marked
    assert not Permission.objects.filter(name__icontains="auth token").exists()
    # a name put back in English (a flush, a permission created again) is renamed once more
    Permission.objects.filter(codename="view_person").update(name="Can view orang")
    roles.name_default_permissions()
    roles.name_default_permissions()
    assert Permission.objects.get(codename="view_person").name == "Dapat melihat orang"


def test_the_permission_picker_is_indonesian(make_user):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(make_user(roles.ADMIN, is_superuser=True))
    page = client.get(reverse("admin:auth_group_add")).content.decode()
    for english in ("Can view orang", "Can add kasus", "periodic task track", ">Can "):
        assert english not in page, english
    assert "Dapat melihat orang" in page
