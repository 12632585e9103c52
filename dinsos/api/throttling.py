"""API rate limits with quota headers, so a client can pace itself before a 429.

Three budgets (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``):

- ``anon``  — unauthenticated requests, per address;
- ``user``  — browser sessions, per user;
- ``token`` — each API token its own budget: a district's nightly sync job runs on its own
  token and never eats the budget of the same account's other tokens or of its staff.

Every throttled response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the window has room again), as in the IETF
draft-ietf-httpapi-ratelimit-headers, and ``RateLimit-Policy: <limit>;w=<window seconds>``;
a 429 keeps ``Retry-After``. The headers are set by ``dinsos.middleware.ResponseHeadersMiddleware``
from what the throttle recorded on the request.
"""

import math

from rest_framework import throttling

#: Attribute of the Django request holding the tightest quota seen in this request.
QUOTA_ATTR = "api_quota"


def _token(request):
    """The knox token that authenticated the request, if any."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "token_key", None) else None


class QuotaHeadersMixin:
    """Records limit / remaining / reset of the throttle that applied to the request."""

    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if self.rate is None or getattr(self, "key", None) is None:
            return allowed  # this throttle does not apply to the request
        now = self.timer()
        remaining = max(self.num_requests - len(self.history), 0)
        if not allowed:
            reset = self.wait() or 0
        elif self.history:
            reset = self.duration - (now - self.history[-1])
        else:
            reset = self.duration
        quota = {"limit": self.num_requests, "remaining": remaining,
                 "reset": max(math.ceil(reset), 0), "window": self.duration}
        django_request = request._request
        previous = getattr(django_request, QUOTA_ATTR, None)
        if previous is None or quota["remaining"] < previous["remaining"]:
            setattr(django_request, QUOTA_ATTR, quota)
        return allowed


class AnonRateThrottle(QuotaHeadersMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(QuotaHeadersMixin, throttling.UserRateThrottle):
    """Session (and any non-token) requests of a signed-in user."""

    def get_cache_key(self, request, view):
        if _token(request) is not None:
            return None  # tokens have their own budget
        return super().get_cache_key(request, view)


class TokenRateThrottle(QuotaHeadersMixin, throttling.SimpleRateThrottle):
    """One budget per API token."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = _token(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.token_key}


def quota_headers(request) -> dict[str, str]:
    quota = getattr(request, QUOTA_ATTR, None)
    if quota is None:
        return {}
    return {
        "RateLimit-Limit": str(quota["limit"]),
        "RateLimit-Remaining": str(quota["remaining"]),
        "RateLimit-Reset": str(quota["reset"]),
        "RateLimit-Policy": f'{quota["limit"]};w={quota["window"]}',
    }
