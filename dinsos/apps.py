from auditlog import apps as auditlog_apps
from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DinsosConfig(AppConfig):
    default = True  # this module also holds AuditlogConfig
    name = "dinsos"
    verbose_name = _("Data Induk dan Pengguna")

    def ready(self):
        from dinsos import audit, changes, checks, roles  # noqa: F401 - checks registers

        audit.connect()
        changes.connect()
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="dinsos.sync_roles")


class AuditlogConfig(auditlog_apps.AuditlogConfig):
    """django-auditlog under its Indonesian name in the admin."""

    verbose_name = _("Jejak audit")
