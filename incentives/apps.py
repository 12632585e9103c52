from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "incentives"
    verbose_name = _("Insentif dan Dana Operasional")
    nav_label = _("Pembayaran insentif")
    nav_url_name = "incentives:run-list"
    nav_permission = "incentives.view_payoutrun"
    nav_province_only = True
