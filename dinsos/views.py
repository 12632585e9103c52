from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from dinsos import dashboard, health, importing, selectors
from dinsos.forms import ImportUploadForm, LockoutPasswordChangeForm
from dinsos.pages import StaffPage, form_errors_from
from dinsos.tabular import FORMATS, TableError


@never_cache
@require_GET
def healthz(request):
    db_ok, db_info = health.check_database()
    broker_ok, broker_info = health.check_broker()
    worker_ok, worker_info = health.check_worker() if db_ok else (False, health.DOWN)
    ok = db_ok and broker_ok
    body = {
        "status": ("ok" if worker_ok else "degraded") if ok else "error",
        "database": {"ok": db_ok, "info": db_info},
        "broker": {"ok": broker_ok, "info": broker_info},
        # told, not failed on (the web answers; its container must not be restarted for it)
        "worker": {"ok": worker_ok, "info": worker_info},
    }
    return JsonResponse(body, status=200 if ok else 503)


class HomeView(LoginRequiredMixin, TemplateView):
    """Beranda: the account, then each app's figures, charts and what waits for this user."""

    template_name = "dinsos/home.html"

    def get_context_data(self, **kwargs):
        panels, figures_as_of = dashboard.collect_as_of(user=self.request.user)
        return super().get_context_data(
            profile=selectors.user_profile(user=self.request.user), panels=panels,
            figures_as_of=figures_as_of, figure_minutes=dashboard.FIGURE_SECONDS // 60,
            waiting=[w for p in panels for w in p.waiting], **kwargs
        )


class AdminPasswordChangeView(auth_views.PasswordChangeView):
    """The admin's "Ubah sandi", its old password counted by the login lockout
    (``LockoutPasswordChangeForm``); mounted over the admin's own URL."""

    form_class = LockoutPasswordChangeForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("admin:password_change_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs):
        from django.contrib import admin

        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}


def login_locked_out(request, response=None, credentials=None):
    """django-axes' answer to a locked-out login (settings.AXES_LOCKOUT_CALLABLE)."""
    from django.conf import settings

    return render(request, "registration/lockout.html", {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }, status=429)


class ImportListView(StaffPage, TemplateView):
    """Upload a file (dry run first) and the list of this area's imports."""

    permission_required = ("dinsos.view_importbatch",)
    template_name = "dinsos/import_list.html"
    writes_without_version = "uploads a new import batch: nothing it could be stale against"

    def get_context_data(self, form=None, **kwargs):
        user = self.request.user
        return super().get_context_data(
            form=form or ImportUploadForm(initial={"dry_run": True}),
            can_upload=user.has_perm("dinsos.add_importbatch"),
            batches=selectors.import_list(user=user)[:50],
            importers=importing.IMPORTERS, **kwargs)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("dinsos.add_importbatch"):
            return self.handle_no_permission()
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = importing.import_submit(
                    actor=request.user, kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"])
            except TableError as exc:
                form_errors_from(form, ValidationError({"file": str(exc)}))
            else:
                return redirect("import-detail", pk=batch.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ImportDetailView(StaffPage, TemplateView):
    """The result: status (polled by htmx while queued/running), counts, rejected rows."""

    permission_required = ("dinsos.view_importbatch",)
    template_name = "dinsos/import_detail.html"

    def get_template_names(self):
        if self.request.htmx:
            return ["dinsos/_import_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        batch = selectors.import_get(user=self.request.user, pk=kwargs["pk"])
        batch.rows_done = importing.rows_done_of(batch)
        importer = importing.IMPORTERS.get(batch.kind)
        return super().get_context_data(
            batch=batch, importer=importer,
            errors=importing.errors_as_seen(batch, self.request.user, limit=500),
            file_kept=importing.file_kept(batch), import_file_days=settings.IMPORT_FILE_DAYS,
            running=batch.status in ("antre", "berjalan"), **kwargs)


class ImportReportView(StaffPage, View):
    """The uploaded rows with a "kesalahan" column (CSV or XLSX)."""

    permission_required = ("dinsos.view_importbatch",)

    def get(self, request, pk, fmt):
        if fmt not in FORMATS:
            raise Http404
        batch = selectors.import_get(user=request.user, pk=pk)
        return importing.report_response(batch, user=request.user, fmt=fmt)


class ImportTemplateView(StaffPage, View):
    permission_required = ("dinsos.view_importbatch",)

    def get(self, request, kind, fmt):
        if kind not in importing.IMPORTERS or fmt not in FORMATS:
            raise Http404
        return importing.template_response(kind, fmt)
