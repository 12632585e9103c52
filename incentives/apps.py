from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("Insentif dan Dana Operasional")
    nav_label = _("Insentif")
    nav_url_name = "admin:app_list"
    nav_url_args = ("incentives",)
