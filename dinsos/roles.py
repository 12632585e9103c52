"""Roles are auth Groups whose permissions are declared here, once.

The initial data migration creates them; ``sync_roles`` runs again after every ``migrate`` so
the permissions of models added later are granted without hand work. Which records is the
area (``dinsos.scoping``); the district roles never get more than the models' ``province_only``
declarations allow there (view of reference data, nothing of province data), so the Group
permissions and ``dinsos.scoping.can`` agree.
"""

from django.contrib.auth.management import create_permissions

from dinsos.scoping import ProvinceOnly

ADMIN = "Admin"
OPERATOR_PROVINSI = "Operator Provinsi"
OPERATOR_KAB_KOTA = "Operator Kab/Kota"
KEUANGAN = "Keuangan"
PIMPINAN = "Pimpinan"
AUDITOR = "Auditor"

ALL_ACTIONS = ("view", "add", "change", "delete")
DOMAIN_APPS = ("pmks", "psks", "jamsosratu")
REFERENCE = {"dinsos": ("view",)}
OPERATOR_KERNEL = {"dinsos": ("view", "add_importbatch")}  # operators upload import files

# role -> {app_label: actions} ; "*" means every app. Custom permissions (codenames not starting
# with a CRUD verb) are granted by listing their codename in an app's actions.
ROLE_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    ADMIN: {"*": ("*",)},  # every permission, custom ones (verify_run, approve_run…) included
    OPERATOR_PROVINSI: {
        **OPERATOR_KERNEL,
        **dict.fromkeys(DOMAIN_APPS, ALL_ACTIONS),
        "incentives": ("view",),
    },
    OPERATOR_KAB_KOTA: {
        **OPERATOR_KERNEL,
        **dict.fromkeys(DOMAIN_APPS, ALL_ACTIONS),
        "incentives": ("view",),
    },
    KEUANGAN: {
        **REFERENCE,
        **dict.fromkeys(DOMAIN_APPS, ("view",)),
        "incentives": ("view", "add", "change", "verify_run", "mark_paid_run"),
    },
    PIMPINAN: {
        **REFERENCE,
        **dict.fromkeys(DOMAIN_APPS, ("view",)),
        "incentives": ("view", "approve_run", "override_ceiling"),
        "jamsosratu": ("view", "override_ceiling"),
    },
    AUDITOR: {"*": ("view",)},
}
ROLE_NAMES = tuple(ROLE_RULES)
#: Roles of kab/kota offices: limited by the models' ``province_only`` declarations.
DISTRICT_ROLES = (OPERATOR_KAB_KOTA,)


def _wanted(rules: dict[str, tuple[str, ...]], app_label: str, codename: str) -> bool:
    actions = rules.get(app_label) or rules.get("*") or ()
    return any(a == "*" or codename == a or codename.startswith(f"{a}_") for a in actions)


def _province_levels() -> dict[tuple[str, str], str]:
    """(app_label, model_name) -> the model's ``province_only`` level, from the live models."""
    from django.apps import apps as global_apps

    return {(m._meta.app_label, m._meta.model_name): m.province_only
            for m in global_apps.get_models() if getattr(m, "province_only", None)}


def _district_allows(level: str | None, codename: str) -> bool:
    if level is None:
        return True
    return level == ProvinceOnly.WRITE and codename.startswith("view_")


def sync_roles(apps=None) -> None:
    """Create the role groups and set their permissions from ROLE_RULES (idempotent)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(Permission.objects.select_related("content_type"))
    levels = _province_levels()
    for name, rules in ROLE_RULES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [p for p in perms if _wanted(rules, p.content_type.app_label, p.codename)]
        if name in DISTRICT_ROLES:
            wanted = [p for p in wanted if _district_allows(
                levels.get((p.content_type.app_label, p.content_type.model)), p.codename)]
        group.permissions.set(wanted)


def create_all_permissions(apps) -> None:
    """Inside a migration, permissions of models created in the same run don't exist yet."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def sync_roles_after_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    # post_migrate fires once per app; act once, after the last one, with every permission made.
    from django.apps import apps as global_apps

    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if app_config is not with_models[-1]:
        return
    sync_roles()
    name_default_permissions(using=using)


#: Django's default permissions, as the Indonesian picker on Admin > Grup / Pengguna names them
DEFAULT_PERMISSION_VERBS = {"add": "menambah", "change": "mengubah", "delete": "menghapus",
                            "view": "melihat"}
#: the models whose library does not mark their name for translation ("auth token"), by label
MODEL_NAMES = {"knox.authtoken": "token API"}


def name_default_permissions(using="default") -> None:
    """Django stores its default permissions under English names made from the model's
    untranslated name ("Can view orang", "Can add kasus", "Can add periodic task track"): the
    Admin assigning rights read English on every row. They are named here, after every
    migrate, "Dapat melihat orang" - the model's Indonesian name (locale/id for the libraries'
    models). Codenames, which the roles and the code check, do not change; a custom
    permission keeps the name its model gives it."""
    from django.apps import apps as global_apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.utils import translation

    models = list(global_apps.get_models())
    types = ContentType.objects.db_manager(using).get_for_models(*models,
                                                                 for_concrete_models=False)
    wanted = {}
    with translation.override("id"):
        for model in models:
            opts = model._meta
            for action in opts.default_permissions:
                verb = DEFAULT_PERMISSION_VERBS.get(action)
                if verb:
                    name = MODEL_NAMES.get(opts.label_lower, opts.verbose_name)
                    wanted[(types[model].pk, f"{action}_{opts.model_name}")] = (
                        f"Dapat {verb} {name}"[:255])
    changed = []
    for permission in Permission.objects.using(using).filter(
            content_type__in=[t.pk for t in types.values()]):
        name = wanted.get((permission.content_type_id, permission.codename))
        if name and permission.name != name:
            permission.name = name
            changed.append(permission)
    Permission.objects.using(using).bulk_update(changed, ["name"], batch_size=500)
