"""Reads of the kernel."""

from dinsos.scoping import ALL, user_area


def user_profile(*, user) -> dict:
    area = user_area(user)
    office = user.office
    return {
        "user": user,
        "office": office,
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "area": None if area is None else (office.wilayah if office else None),
        "province_wide": area is ALL,
    }
