"""The project's own `check --deploy` warnings: settings a production install needs that Django's
checks cannot know about."""

from django.conf import settings
from django.core import checks

#: mail backends that never send: the finance reports would stay on the server
NOT_SENT = ("filebased", "console", "locmem", "dummy")


@checks.register(checks.Tags.security, deploy=True)
def finance_mail_is_sent(app_configs, **kwargs):
    """With DEBUG off and no EMAIL_URL the finance reports of an approved payout run are written
    as files under var/mail while the run says "terkirim"."""
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    if settings.DEBUG or backend not in NOT_SENT:
        return []
    return [checks.Warning(
        f"EMAIL_URL belum diisi: laporan pembayaran untuk Keuangan tidak dikirim sebagai e-mail "
        f"(EMAIL_BACKEND {settings.EMAIL_BACKEND}).",
        hint="Isi EMAIL_URL, mis. smtp+tls://user:sandi@smtp.bantenprov.go.id:587 (README, "
             "Configuration); tanpa itu surel disimpan sebagai berkas di var/mail.",
        id="dinsos.W001")]
