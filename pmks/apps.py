from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PmksConfig(AppConfig):
    name = "pmks"
    verbose_name = _("PMKS (Pemerlu Pelayanan Kesejahteraan Sosial)")
    nav_label = _("Registri PMKS")
    nav_url_name = "pmks:person-list"

    def ready(self):
        from pmks import importing  # noqa: F401 - registers the household importer
