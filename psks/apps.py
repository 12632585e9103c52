from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PsksConfig(AppConfig):
    name = "psks"
    verbose_name = _("PSKS (Potensi dan Sumber Kesejahteraan Sosial)")
