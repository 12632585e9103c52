from rest_framework.permissions import BasePermission, DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Authenticated + Django model permissions, reads included (DRF's default lets any
    authenticated user read). Which records is decided by scoping, not here."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class ProvinceWide(BasePermission):
    """Only users whose area is the whole province (province office roles)."""

    message = "Hanya pengguna Dinas Sosial Provinsi yang dapat mengakses ini."

    def has_permission(self, request, view):
        from dinsos.scoping import ALL, user_area

        return user_area(request.user) is ALL
