"""The base of every staff page: logged in, the role's permission (403 otherwise), province-only
pages answer 404 to a kab/kota user; which records is left to the scoped selectors (an
out-of-area object is a 404, like a missing one). Views stay thin: parse, call one service or
selector, render."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from dinsos.scoping import ALL, user_area


class StaffPage(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required: tuple[str, ...] = ()
    province_only = False
    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied
        return super().handle_no_permission()

    def dispatch(self, request, *args, **kwargs):
        if (request.user.is_authenticated and self.province_only
                and user_area(request.user) is not ALL):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def form_errors_from(form, exc: ValidationError | PermissionDenied) -> None:
    """Put a service's ValidationError next to the fields it names (others on top); a refusal
    (PermissionDenied) on top of the form."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or "Anda tidak berwenang melakukan ini.")
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def notify_refusal(request, exc: ValidationError | PermissionDenied) -> None:
    text = str(exc) if isinstance(exc, PermissionDenied) else " ".join(exc.messages)
    messages.error(request, text)
