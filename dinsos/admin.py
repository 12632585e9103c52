from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from dinsos import services
from dinsos.models import Office, User, Wilayah


@admin.register(Wilayah)
class WilayahAdmin(admin.ModelAdmin):
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
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "wilayah", "head_name"]
    search_fields = ["name", "wilayah__nama"]
    list_select_related = ["wilayah"]
    raw_id_fields = ["wilayah"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "get_full_name", "office", "is_active", "is_staff"]
    list_filter = ["office", "groups", "is_active", "is_staff"]
    list_select_related = ["office"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Kantor"), {"fields": ("office", "nip")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Kantor"), {"fields": ("office", "nip", "groups")}),
    )
    actions = ["issue_api_token", "revoke_api_tokens"]

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
                % {"user": user.username, "expiry": token.expiry, "key": key},
                messages.WARNING,
            )

    @admin.action(description=_("Cabut semua token API"))
    def revoke_api_tokens(self, request, queryset):
        count = sum(services.token_revoke(user=user) for user in queryset)
        self.message_user(request, _("%(count)d token dicabut.") % {"count": count})
