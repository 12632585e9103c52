from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JamsosratuConfig(AppConfig):
    name = "jamsosratu"
    verbose_name = _("Jamsosratu")
    nav_label = _("Jamsosratu")
    nav_url_name = "jamsosratu:cycle-list"
    nav_permission = "jamsosratu.view_enrolment"
