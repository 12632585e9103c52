from django.apps import apps
from django.urls import NoReverseMatch, reverse


def navigation(request):
    """Top navigation from the apps themselves: an AppConfig with ``nav_label`` and
    ``nav_url_name`` (and optional ``nav_url_args``) gets a link; the kernel names no app."""
    items = []
    if getattr(request, "user", None) is None or not request.user.is_authenticated:
        return {"nav_items": items}
    for config in apps.get_app_configs():
        label = getattr(config, "nav_label", None)
        if not label:
            continue
        try:
            url = reverse(config.nav_url_name, args=getattr(config, "nav_url_args", ()))
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url})
    return {"nav_items": items}
