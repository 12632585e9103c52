"""API rate limits with quota headers, so a client can pace itself before a 429.

Three budgets (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``):

- ``anon``  — unauthenticated requests, per address;
- ``user``  — browser sessions, per user;
- ``token`` — each API token its own budget: a district's nightly sync job runs on its own
  token and never eats the budget of the same account's other tokens or of its staff.

Every throttled response carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the budget's window closes and its count starts again), as
in the IETF draft-ietf-httpapi-ratelimit-headers, and
``RateLimit-Policy: <limit>;w=<window seconds>``; a 429 keeps ``Retry-After``. The headers are
set by ``dinsos.middleware.ResponseHeadersMiddleware`` from what the throttle recorded on the
request.
"""

import math

from rest_framework import throttling

#: Attribute of the Django request holding the tightest quota seen in this request.
QUOTA_ATTR = "api_quota"


def _token(request):
    """The knox token that authenticated the request, if any."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "token_key", None) else None


def _redis_client(cache):
    """The redis-py client behind a Django ``RedisCache`` (None for other caches)."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    return get_client(None, write=True) if get_client is not None else None


class QuotaHeadersMixin:
    """A fixed-window counter per key, recording limit / remaining / reset on the request.

    DRF's ``SimpleRateThrottle`` reads and writes the whole list of the key's request times on
    every request (up to 6000 timestamps for a token). Here a key's window opens with its first
    request and lasts ``duration`` seconds; each request adds one to the window's counter —
    on Redis one round trip (INCR, EXPIRE NX, PTTL), elsewhere a (start, count) pair. A request
    is refused once the counter passes the limit, until the window closes (``Retry-After`` and
    ``RateLimit-Reset`` say when)."""

    #: not DRF's ``throttle_%(scope)s_%(ident)s``: those keys hold a list of request times, and
    #: one left in the cache by the code before (a deploy, a shared Redis) is not a counter —
    #: INCR on it fails and every request of that client would answer 500 for up to an hour
    cache_format = "quota_%(scope)s_%(ident)s"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True  # this throttle does not apply to the request
        count, reset = self._count()
        self.reset = max(math.ceil(reset), 0)
        allowed = count <= self.num_requests
        quota = {"limit": self.num_requests, "remaining": max(self.num_requests - count, 0),
                 "reset": self.reset, "window": self.duration}
        django_request = request._request
        previous = getattr(django_request, QUOTA_ATTR, None)
        if previous is None or quota["remaining"] < previous["remaining"]:
            setattr(django_request, QUOTA_ATTR, quota)
        return allowed

    def _count(self) -> tuple[int, float]:
        """This request's number in the key's window and the seconds until the window closes."""
        client = _redis_client(self.cache)
        if client is not None:
            key = self.cache.make_and_validate_key(self.key)
            pipe = client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, self.duration, nx=True)
            pipe.pttl(key)
            count, _, left = pipe.execute()
            return count, left / 1000 if left > 0 else self.duration
        now = self.timer()
        start, count = self.cache.get(self.key, (now, 0))
        if now - start >= self.duration:
            start, count = now, 0
        count += 1
        reset = self.duration - (now - start)
        self.cache.set(self.key, (start, count), max(math.ceil(reset), 1))
        return count, reset

    def wait(self):
        return self.reset


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
