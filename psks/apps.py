from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PsksConfig(AppConfig):
    name = "psks"
    verbose_name = _("PSKS (Potensi dan Sumber Kesejahteraan Sosial)")
    nav_label = _("Tenaga (PSKS)")
    nav_url_name = "psks:worker-list"
    nav_permission = "psks.view_worker"

    def ready(self):
        from psks import importing  # noqa: F401 - registers the worker importer
