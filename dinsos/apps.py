from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DinsosConfig(AppConfig):
    name = "dinsos"
    verbose_name = _("Data Induk dan Pengguna")

    def ready(self):
        from dinsos import audit, roles

        audit.connect()
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="dinsos.sync_roles")
