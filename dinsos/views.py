from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from dinsos import health, selectors


@never_cache
@require_GET
def healthz(request):
    db_ok, db_info = health.check_database()
    broker_ok, broker_info = health.check_broker()
    ok = db_ok and broker_ok
    body = {
        "status": "ok" if ok else "error",
        "database": {"ok": db_ok, "info": db_info},
        "broker": {"ok": broker_ok, "info": broker_info},
    }
    return JsonResponse(body, status=200 if ok else 503)


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "dinsos/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            profile=selectors.user_profile(user=self.request.user), **kwargs
        )


def login_locked_out(request, response=None, credentials=None):
    """django-axes' answer to a locked-out login (settings.AXES_LOCKOUT_CALLABLE)."""
    from django.conf import settings

    return render(request, "registration/lockout.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }, status=429)
