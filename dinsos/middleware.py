"""Response headers every surface needs, set in one place; the Indonesian 404 page under
DEBUG."""

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.defaults import bad_request, page_not_found

from dinsos import locks, unique
from dinsos.api.throttling import quota_headers


class ResponseHeadersMiddleware:
    """- ``Cache-Control: no-store`` (Django's never-cache set) on every API response and on
      every page served to a signed-in user: they carry personal data (UU 27/2022) that must
      not stay in a browser or proxy cache. Static files never reach this middleware
      (whitenoise answers them first).
    - The API quota headers recorded by the throttles (``dinsos.api.throttling``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        for name, value in quota_headers(request).items():
            response[name] = value
        return response


class NotFoundPageMiddleware:
    """With ``DJANGO_DEBUG=1`` (``make run``'s demo) Django answers a missing page (404) or a
    refused request (400, e.g. a lookup on a masked number) with its English technical page,
    which lists every URL or the settings; the officers who try the demo get the Indonesian
    pages, as in production. Only Django's answers to those exceptions are replaced — an
    address no URL matches, a view raising ``Http404`` or ``SuspiciousOperation`` —, never a
    view's own 400/404 page (a refused form is answered 400 with the form and its errors). The
    API's JSON answers stay as they are."""

    PAGES = {404: (page_not_found, Http404), 400: (bad_request, SuspiciousOperation)}

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _applies(request) -> bool:
        return settings.DEBUG and not request.path.startswith("/api/")

    def __call__(self, request):
        response = self.get_response(request)
        if (self._applies(request) and response.status_code == 404
                and getattr(request, "resolver_match", None) is None):
            return page_not_found(request, Http404())  # no URL matched
        return response

    def process_exception(self, request, exception):
        if self._applies(request):
            for view, kind in self.PAGES.values():
                if isinstance(exception, kind):
                    return view(request, exception)
        return None


class LockBusyMiddleware:
    """A page or admin request that waited longer than ``WEB_LOCK_TIMEOUT`` for rows another
    process holds (``dinsos.locks``) gets the Indonesian 503 page with ``Retry-After``, not
    the 500 page: nothing was stored and trying again later works. The API answers the same
    in JSON (``dinsos.api.errors``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not locks.is_lock_conflict(exception):
            return None
        response = render(request, "503.html", {"message": locks.MESSAGE}, status=503)
        response["Retry-After"] = str(locks.RETRY_AFTER)
        return response


class UniqueConflictMiddleware:
    """A page or admin request whose write met a unique index after its checks passed (the
    same NIK registered by another officer at the same moment: ``dinsos.unique``) gets the
    Indonesian 409 page with the uniqueness message the form would have shown, not the 500
    page: nothing was stored. The API answers it 400 in JSON (``dinsos.api.errors``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        refusal = unique.refusal(exception)
        if refusal is None:
            return None
        return render(request, "409.html", {"messages_list": refusal.messages}, status=409)
