from django.apps import apps
from rest_framework.permissions import BasePermission, DjangoModelPermissions

from dinsos.scoping import can

METHOD_ACTIONS = {"GET": "view", "HEAD": "view", "POST": "add", "PUT": "change",
                  "PATCH": "change", "DELETE": "delete"}


class ModelPermissions(DjangoModelPermissions):
    """Authenticated + the access policy's actions (``dinsos.scoping.can``: Django model
    permissions, reads included, and province-only data). Which records is decided by the
    policy's rows (``restrict``), not here."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def _queryset(self, view):
        """The view's queryset, built once per request (DRF's check and the policy's below
        both ask for its model)."""
        if getattr(view, "_permission_queryset", None) is None:
            view._permission_queryset = super()._queryset(view)
        return view._permission_queryset

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if getattr(view, "_ignore_model_permissions", False):
            return True  # DRF's API roots: a list of links, no model (it answered 500)
        action = METHOD_ACTIONS.get(request.method)
        return action is None or can(request.user, action, self._queryset(view).model)


class ProvinceWide(BasePermission):
    """Only users whose area is the whole province (province office roles)."""

    message = "Hanya pengguna Dinas Sosial Provinsi yang dapat mengakses ini."

    def has_permission(self, request, view):
        from dinsos.scoping import ALL, user_area

        return user_area(request.user) is ALL


def requires(action: str, model_label: str):
    """A permission class for an action that needs the policy's ``action`` on another model
    than its viewset's (``can(user, "change", Payment)`` for the Jamsosratu transfer file on
    ``CycleViewSet``, the permission its staff page asks). Declared with the others:
    ``permission_classes=[*PROVINCE, requires("change", "jamsosratu.Payment")]``."""

    class Requires(BasePermission):
        message = "Anda tidak berwenang melakukan tindakan ini."

        def has_permission(self, request, view):
            return can(request.user, action, apps.get_model(model_label))

    Requires.__name__ = Requires.__qualname__ = (
        f"Requires_{model_label.replace('.', '_')}_{action}")
    return Requires
