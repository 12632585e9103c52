from django.apps import apps
from django.urls import NoReverseMatch, reverse

from dinsos.models import ImportBatch
from dinsos.scoping import ALL, can, user_area


def _may_see(user, config) -> bool:
    permission = getattr(config, "nav_permission", None)
    if permission and not user.has_perm(permission):
        return False
    return not getattr(config, "nav_province_only", False) or user_area(user) is ALL


def navigation(request):
    """Top navigation from the apps themselves: an AppConfig with ``nav_label`` and
    ``nav_url_name`` (optional ``nav_url_args``, ``nav_permission``, ``nav_province_only``)
    gets a link for the users who may open it; the kernel names no app. "Impor" is shown to the
    roles that may upload an import (``can_import``), not to read-only roles."""
    items = []
    if getattr(request, "user", None) is None or not request.user.is_authenticated:
        return {"nav_items": items}
    for config in apps.get_app_configs():
        label = getattr(config, "nav_label", None)
        if not label or not _may_see(request.user, config):
            continue
        try:
            url = reverse(config.nav_url_name, args=getattr(config, "nav_url_args", ()))
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "current": request.path.startswith(url)})
    return {"nav_items": items, "can_import": can(request.user, "add", ImportBatch)}
