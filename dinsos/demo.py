"""Demo data, in one command (``seed_demo``), extended by every app.

The kernel seeds offices and one account per role and per kab/kota; an app adds its demo data
by defining ``demo.py`` with a function decorated ``@seeder(order)`` (no arguments);
``seed_demo`` imports every installed app's ``demo`` module and runs the seeders in order.
Seeders must be idempotent: running ``seed_demo`` twice changes nothing.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from dinsos import roles, services
from dinsos.models import Office, User

SEEDERS: list[tuple[int, str, Callable]] = []

# kab/kota code -> username suffix of its demo operator
KAB_KOTA_USERNAMES = {
    "36.01": "pandeglang",
    "36.02": "lebak",
    "36.03": "kab_tangerang",
    "36.04": "kab_serang",
    "36.71": "kota_tangerang",
    "36.72": "cilegon",
    "36.73": "kota_serang",
    "36.74": "tangsel",
}
PROVINCE_ACCOUNTS = [
    ("admin", roles.ADMIN, "Admin Sistem"),
    ("operator_provinsi", roles.OPERATOR_PROVINSI, "Operator Provinsi"),
    ("keuangan", roles.KEUANGAN, "Bendahara Keuangan"),
    ("pimpinan", roles.PIMPINAN, "Kepala Dinas"),
    ("auditor", roles.AUDITOR, "Auditor Internal"),
]


def seeder(order: int):
    def register(func):
        SEEDERS.append((order, f"{func.__module__}.{func.__name__}", func))
        return func

    return register


@dataclass
class DemoAccount:
    username: str
    role: str
    office: str
    created: bool


def demo_password() -> tuple[str, bool]:
    """DEMO_PASSWORD, else one generated once and kept in var/demo-password (gitignored)."""
    if settings.DEMO_PASSWORD:
        return settings.DEMO_PASSWORD, False
    path = settings.VAR_DIR / "demo-password"
    if path.exists():
        return path.read_text().strip(), False
    password = secrets.token_urlsafe(9)
    path.write_text(password)
    return password, True


def _account(username, role, office, full_name, password) -> DemoAccount:
    first, _, last = full_name.partition(" ")
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"office": office, "first_name": first, "last_name": last, "is_staff": True,
                  "email": f"{username}@demo.dinsos.bantenprov.go.id"},
    )
    if created or settings.DEMO_PASSWORD:
        user.set_password(password)
    if role == roles.ADMIN:
        user.is_superuser = True
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return DemoAccount(username, role, office.name, created)


def seed_accounts(password: str) -> list[DemoAccount]:
    services.wilayah_load()
    services.offices_ensure()
    roles.sync_roles()
    province = Office.objects.get(wilayah_id=services.PROVINCE_CODE)
    if not province.head_name:  # demo officials for the payout sign-off block
        province.head_name, province.head_nip = "Dr. H. Contoh Kepala, M.Si.", "196801011990031001"
        province.treasurer_name = "Siti Bendahara, S.E."
        province.treasurer_nip = "198503152010012002"
        province.address = "Jl. Syekh Nawawi Al-Bantani, KP3B, Serang"
        province.save()
    accounts = [
        _account(username, role, province, full_name, password)
        for username, role, full_name in PROVINCE_ACCOUNTS
    ]
    for code, slug in KAB_KOTA_USERNAMES.items():
        office = Office.objects.get(wilayah_id=code)
        accounts.append(
            _account(f"operator_{slug}", roles.OPERATOR_KAB_KOTA, office,
                     f"Operator {office.wilayah.nama}", password)
        )
    return accounts


def seed_all() -> tuple[str, bool, list[DemoAccount]]:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("demo")
    password, generated = demo_password()
    with transaction.atomic():
        accounts = seed_accounts(password)
        for _order, _name, func in sorted(SEEDERS, key=lambda s: (s[0], s[1])):
            func()
    return password, generated, accounts
