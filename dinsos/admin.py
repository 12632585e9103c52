import json

from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask
from knox.models import AuthToken

from dinsos import importing, services
from dinsos import selectors as kernel_selectors
from dinsos.admin_base import DinsosModelAdmin, PolicyAdminMixin, ReadableHistoryMixin
from dinsos.forms import ImportUploadForm
from dinsos.models import ImportBatch, Office, User, Wilayah
from dinsos.money import format_waktu

# API tokens are issued and revoked only through dinsos.services (the user page's actions and
# `manage.py issue_token`): knox's own admin was a second write path (a token without the
# expiry rule) in English, showing digests.
admin.site.unregister(AuthToken)  # knox comes before dinsos in INSTALLED_APPS


@admin.register(Wilayah)
class WilayahAdmin(DinsosModelAdmin):
    list_display = ["kode", "nama", "tingkat", "induk"]
    list_filter = ["tingkat"]
    search_fields = ["kode", "nama"]
    list_select_related = ["induk"]
    raw_id_fields = ["induk"]

    def has_add_permission(self, request):
        return False  # loaded from the Kemendagri data set (load_wilayah)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Office)
class OfficeAdmin(DinsosModelAdmin):
    list_display = ["name", "wilayah", "head_name"]
    search_fields = ["name", "wilayah__nama"]
    list_select_related = ["wilayah"]
    raw_id_fields = ["wilayah"]


@admin.register(User)
class UserAdmin(PolicyAdminMixin, ReadableHistoryMixin, DjangoUserAdmin):
    list_display = ["username", "get_full_name", "office", "is_active", "is_staff"]
    list_filter = ["office", "groups", "is_active", "is_staff"]
    list_select_related = ["office"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Kantor"), {"fields": ("office", "nip")}),
        (_("Token API"), {"fields": ("api_tokens",)}),
    )
    readonly_fields = ["api_tokens"]
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Kantor"), {"fields": ("office", "nip", "groups")}),
    )
    actions = ["issue_api_token", "revoke_api_tokens", "unlock_login"]

    @admin.display(description=_("Token API"))
    def api_tokens(self, obj):
        """The user's tokens by their key's first characters (the key itself is never stored)
        and their validity; issued and revoked by this page's actions."""
        tokens = obj.auth_token_set.order_by("created") if obj and obj.pk else []
        rows = format_html_join(
            "", "<li><code>{}…</code> · {} {} · {} {}</li>",
            ((t.token_key, _("dibuat"), format_waktu(t.created), _("berlaku s.d."),
              format_waktu(t.expiry) if t.expiry else _("tanpa batas")) for t in tokens))
        return format_html("<ul>{}</ul>", rows) if rows else _("Tidak ada token.")

    @admin.action(description=_("Terbitkan token API (berlaku sesuai API_TOKEN_DEFAULT_DAYS)"))
    def issue_api_token(self, request, queryset):
        from django.conf import settings

        for user in queryset:
            try:
                token, key = services.token_issue(user=user, days=settings.API_TOKEN_DEFAULT_DAYS)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                _("Token untuk %(user)s (berlaku s.d. %(expiry)s): %(key)s — salin sekarang, "
                  "token tidak dapat ditampilkan lagi.")
                % {"user": user.username, "expiry": format_waktu(token.expiry), "key": key},
                messages.WARNING,
            )

    @admin.action(description=_("Cabut semua token API"))
    def revoke_api_tokens(self, request, queryset):
        count = sum(services.token_revoke(user=user) for user in queryset)
        self.message_user(request, _("%(count)d token dicabut.") % {"count": count})

    @admin.action(description=_("Buka kunci login (setelah terlalu banyak kata sandi salah)"),
                  permissions=["change"])
    def unlock_login(self, request, queryset):
        for user in queryset:
            services.login_unlock(user=user)
        self.message_user(request, _("Kunci login %(users)s dibuka.") % {
            "users": ", ".join(u.username for u in queryset)})


@admin.register(ImportBatch)
class ImportBatchAdmin(DinsosModelAdmin):
    """Upload a CSV/XLSX import (dry run first); the result page lists rejected rows and links
    to the file with an error column and to the templates."""

    list_display = ["created_at", "kind", "filename", "dry_run", "status", "message",
                    "created_by"]
    list_filter = ["kind", "status", "dry_run"]
    form = ImportUploadForm
    readonly_fields = ["kind", "filename", "dry_run", "status", "rows_done", "rows_total",
                       "message", "totals",
                       "error_table", "downloads", "area", "created_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def get_fields(self, request, obj=None):
        return ["kind", "file", "dry_run", "templates"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return ["templates"] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        batch = super().get_object(request, object_id, from_field)
        if batch is not None:  # the rejected rows' messages as this user may read them
            batch.errors_shown = importing.errors_as_seen(batch, request.user, limit=200)
        return batch

    def save_model(self, request, obj, form, change):
        batch = importing.import_submit(actor=request.user, kind=form.cleaned_data["kind"],
                                        upload=form.cleaned_data["file"],
                                        dry_run=form.cleaned_data["dry_run"])
        obj.pk = batch.pk

    def get_urls(self):
        return [
            path("<int:pk>/laporan.<str:fmt>", self.admin_site.admin_view(self.report_view),
                 name="dinsos_importbatch_report"),
            path("templat/<str:kind>.<str:fmt>", self.admin_site.admin_view(self.template_view),
                 name="dinsos_importbatch_template"),
            *super().get_urls(),
        ]

    def report_view(self, request, pk, fmt):
        batch = get_object_or_404(self.get_queryset(request), pk=pk)
        return importing.report_response(batch, user=request.user, fmt=fmt)

    def template_view(self, request, kind, fmt):
        if kind not in importing.IMPORTERS:
            raise Http404
        return importing.template_response(kind, fmt)

    @admin.display(description=_("templat"))
    def templates(self, obj=None):
        links = [
            format_html('{} (<a href="{}">CSV</a> · <a href="{}">XLSX</a>)', importer.label,
                        reverse("admin:dinsos_importbatch_template", args=[kind, "csv"]),
                        reverse("admin:dinsos_importbatch_template", args=[kind, "xlsx"]))
            for kind, importer in importing.IMPORTERS.items()
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((link,) for link in links))

    @admin.display(description=_("unduh hasil"))
    def downloads(self, obj):
        return format_html(
            '<a href="{}">CSV</a> · <a href="{}">XLSX</a> ({})',
            reverse("admin:dinsos_importbatch_report", args=[obj.pk, "csv"]),
            reverse("admin:dinsos_importbatch_report", args=[obj.pk, "xlsx"]),
            _("berkas asli ditambah kolom kesalahan"),
        )

    @admin.display(description=_("baris ditolak"))
    def error_table(self, obj):
        # as the viewer may read them (``get_object``); masked when no viewer is known
        rows = getattr(obj, "errors_shown", None)
        if rows is None:
            rows = importing.errors_as_seen(obj, None, limit=200)
        if not rows:
            return "—"
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e["row"], e["column"], e["message"]) for e in rows),
        )
        more = len(obj.errors) - len(rows)
        tail = (
            format_html("<p>… {} {}</p>", more, _("kesalahan lain di berkas hasil"))
            if more else ""
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>{}",
            _("baris"), _("kolom"), _("alasan"), body, tail,
        )


# --- the audit trail (django-auditlog's LogEntry), readable -----------------------------------

def _number_filter(value: str) -> int:
    """A list filter's id from the query string; anything else is the admin's own "wrong
    filter" answer (back to the whole list), not a 500."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:  # a bigint's digits
        raise IncorrectLookupParameters(value)
    return int(value)


class AuditActionFilter(admin.SimpleListFilter):
    title = _("tindakan")
    parameter_name = "tindakan"

    def lookups(self, request, model_admin):
        return [(str(k), v) for k, v in kernel_selectors.ACTION_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(action=_number_filter(self.value())) if self.value() else queryset


class AuditModelFilter(admin.SimpleListFilter):
    title = _("jenis data")
    parameter_name = "jenis"

    def lookups(self, request, model_admin):
        types = ContentType.objects.filter(
            pk__in=LogEntry.objects.values("content_type").distinct())
        named = [(str(t.pk), capfirst(t.model_class()._meta.verbose_name)) for t in types
                 if t.model_class() is not None]
        return sorted(named, key=lambda item: item[1])

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(content_type_id=_number_filter(self.value()))


admin.site.unregister(LogEntry)


def _audit_columns(request):
    """The columns of the audit-log list, bound to the viewer (related records are named only
    when the viewer may see them); each entry is described once."""
    described: dict = {}

    def row(obj) -> dict:
        if obj.pk not in described:
            described[obj.pk] = kernel_selectors.describe_entries([obj], user=request.user)[0]
        return described[obj.pk]

    @admin.display(description=_("waktu"), ordering="timestamp")
    def waktu(obj):
        return format_waktu(obj.timestamp)

    @admin.display(description=_("oleh"))
    def oleh(obj):
        shown = row(obj)
        return f"{shown['actor']} ({shown['door']})" if shown["door"] else shown["actor"]

    @admin.display(description=_("tindakan"), ordering="action")
    def tindakan(obj):
        return row(obj)["action"]

    @admin.display(description=_("data"))
    def data(obj):
        what = row(obj)["what"]
        try:
            url = reverse(f"admin:{obj.content_type.app_label}_{obj.content_type.model}_auditlog",
                          args=[obj.object_pk])
        except NoReverseMatch:
            return what
        return format_html('<a href="{}">{}</a>', url, what)

    @admin.display(description=_("perubahan (lama → baru)"))
    def perubahan(obj):
        items = [(c["field"], c["text"]) for c in row(obj)["changes"]]
        return format_html_join(mark_safe("<br>"), "<strong>{}</strong>: {}", items) or "—"

    return [waktu, oleh, tindakan, data, perubahan]


@admin.register(LogEntry)
class AuditLogAdmin(admin.ModelAdmin):
    """Every entry of the audit trail in Indonesian, through the one formatter of the history
    pages (``dinsos.selectors.describe_entries``): when, who (and through which door), what was
    done to which record (linked to its history), each field by its label with old → new.
    Identifiers are stored masked. Read-only, a list only."""

    list_filter = [AuditActionFilter, AuditModelFilter]
    list_display_links = None
    date_hierarchy = "timestamp"
    search_fields = ["object_repr", "actor__username", "actor__first_name"]
    list_select_related = ["content_type", "actor"]
    list_per_page = 50
    show_full_result_count = False

    def get_list_display(self, request):
        return _audit_columns(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """An entry is read as its row of the list: its raw form showed English labels, JSON
        and codes ("update", "changes")."""
        if not str(object_id).isdigit():
            raise Http404(_("Data tidak ditemukan."))
        return redirect(f"{reverse('admin:auditlog_logentry_changelist')}?id__exact={object_id}")

    def history_view(self, request, object_id, extra_context=None):
        return self.change_view(request, object_id)


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    """django-celery-beat's form: its marked strings are Indonesian through locale/id; the
    messages ``PeriodicTask.validate_unique`` writes unmarked ("One of clocked, interval,
    crontab, or solar must be set.") are passed through the same catalog here (msgids exactly
    as the library writes them)."""

    def _post_clean(self):
        super()._post_clean()
        for errors in self._errors.values():
            errors.data = [gettext(message) for message in errors]

    def _clean_json(self, field):
        """The arguments as JSON; where they are not, where it stops, in Indonesian (the
        library's message ended in Python's English: "Expecting value: line 1 column 1")."""
        value = self.cleaned_data[field]
        try:
            json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                gettext("bukan JSON yang sah: terhenti di baris %(line)d kolom %(column)d "
                        "(contoh yang sah: [] atau {\"nama\": \"nilai\"}).")
                % {"line": exc.lineno, "column": exc.colno}) from exc
        return value


admin.site.unregister(PeriodicTask)  # django_celery_beat comes before dinsos in INSTALLED_APPS


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    form = PeriodicTaskForm
