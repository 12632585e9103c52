"""Hardening headers (issue #9 point 14, issue #14 point 8): a Content-Security-Policy that the
admin, Swagger UI, the login page, the browsable API and the staff pages live with (no inline
script without the request's nonce); ``Cache-Control: no-store`` on API responses and pages
for signed-in users; RateLimit headers, and one throttle budget per API token."""

import re
import time

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.test import Client
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from dinsos import roles, services
from dinsos.api.throttling import QUOTA_ATTR, UserRateThrottle
from dinsos.cache import PooledRedisCache
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_ATTR = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def _assert_page_lives_with_the_policy(response):
    assert response.status_code == 200, response.status_code
    policy = _policy(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    nonces = {s[len("'nonce-"):-1] for s in policy["script-src"] if s.startswith("'nonce-")}
    html = response.content.decode()
    for attrs in SCRIPT.findall(html):
        if "src=" in attrs or 'type="application/json"' in attrs:
            continue
        nonce = re.search(r'nonce="([^"]+)"', attrs)
        assert nonce and nonce[1] in nonces, f"inline script without nonce: <script{attrs}>"
    assert not EVENT_ATTR.search(html), EVENT_ATTR.search(html)[0]


@pytest.fixture
def admin_user(make_user):
    return make_user(roles.ADMIN, is_superuser=True)


def test_policy_directives():
    policy = _policy(Client().get("/masuk/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.parametrize("url", ["/masuk/", "/admin/login/"])
def test_login_pages_live_with_the_policy(url):
    _assert_page_lives_with_the_policy(Client().get(url))


def test_staff_pages_admin_swagger_and_browsable_api_live_with_the_policy(admin_user):
    person = PersonFactory()
    client = Client()
    client.force_login(admin_user)
    for url in ["/", "/admin/", "/admin/pmks/person/", f"/admin/pmks/person/{person.pk}/change/",
                "/admin/pmks/household/add/", "/api/docs/",
                "/api/v1/pmks/persons/?format=api",
                f"/api/v1/pmks/persons/{person.pk}/?format=api"]:
        _assert_page_lives_with_the_policy(client.get(url))


def test_swagger_ui_start_script_is_a_file(admin_user):
    client = Client()
    client.force_login(admin_user)
    html = client.get("/api/docs/").content.decode()
    assert re.search(r'<script src="/api/docs/\?[^"]*script=', html)
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


# --- Cache-Control: no-store -------------------------------------------------------------------

def test_api_responses_are_not_stored(api_as, pandeglang_operator):
    person = PersonFactory()
    client = api_as(pandeglang_operator)
    for url in [f"/api/v1/pmks/persons/{person.pk}/", "/api/v1/pmks/persons/",
                "/api/v1/pmks/persons/export/?fmt=csv", "/api/v1/pmks/persons/987654/"]:
        assert "no-store" in client.get(url)["Cache-Control"], url
    _, key = services.token_issue(user=pandeglang_operator, days=1)
    token_client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert "no-store" in token_client.get(f"/api/v1/pmks/persons/{person.pk}/")["Cache-Control"]
    assert "no-store" in APIClient().get("/api/v1/pmks/persons/")["Cache-Control"]


def test_pages_for_signed_in_users_are_not_stored(pandeglang_operator):
    person = PersonFactory()
    client = Client()
    client.force_login(pandeglang_operator)
    for url in ["/", f"/admin/pmks/person/{person.pk}/change/"]:
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_static_files_stay_cacheable(pandeglang_operator):
    client = Client()
    client.force_login(pandeglang_operator)
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- RateLimit headers and budgets ---------------------------------------------------------

@pytest.fixture
def low_rates(monkeypatch):
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        {"anon": "3/minute", "user": "3/minute", "token": "3/minute"})
    yield
    cache.clear()


def _quota(response) -> tuple[int, int, int]:
    return (int(response["RateLimit-Limit"]), int(response["RateLimit-Remaining"]),
            int(response["RateLimit-Reset"]))


def test_ratelimit_headers_count_down_to_the_429(api_as, pandeglang_operator, low_rates):
    client = api_as(pandeglang_operator)
    seen = [_quota(client.get("/api/v1/me/")) for _ in range(3)]
    assert [(limit, remaining) for limit, remaining, _ in seen] == [(3, 2), (3, 1), (3, 0)]
    assert all(0 < reset <= 60 for _, _, reset in seen)
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 429
    assert _quota(refused)[:2] == (3, 0)
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Policy"] == "3;w=60"


def test_each_token_has_its_own_budget(pandeglang_operator, low_rates):
    _, sync_key = services.token_issue(user=pandeglang_operator, days=1)
    _, other_key = services.token_issue(user=pandeglang_operator, days=1)
    sync = APIClient(HTTP_AUTHORIZATION=f"Token {sync_key}")
    for _ in range(3):
        assert sync.get("/api/v1/me/").status_code == 200
    assert sync.get("/api/v1/me/").status_code == 429
    other = APIClient(HTTP_AUTHORIZATION=f"Token {other_key}")
    assert _quota(other.get("/api/v1/me/"))[:2] == (3, 2)
    session = APIClient()
    session.force_login(pandeglang_operator)
    assert _quota(session.get("/api/v1/me/"))[:2] == (3, 2)


def test_a_budget_left_by_drfs_throttle_is_not_read_as_a_counter(
        api_as, pandeglang_operator, low_rates):
    """After the deploy of the counters, a Redis still held DRF's lists of request times under
    ``throttle_user_<id>``: INCR refused them ("value is not an integer") and the client got
    500 until they expired."""
    now = time.time()
    cache.set(f"throttle_user_{pandeglang_operator.pk}", [now, now - 1, now - 2], 3600)
    response = api_as(pandeglang_operator).get("/api/v1/me/")
    assert response.status_code == 200
    assert _quota(response)[:2] == (3, 2)


def _throttle_request(user):
    request = APIRequestFactory().get("/api/v1/me/")
    force_authenticate(request, user=user)
    return APIView().initialize_request(request)


def test_a_budget_is_one_counter_not_a_list_of_request_times(pandeglang_operator, monkeypatch):
    """DRF's throttle reads and writes every request time of the window on every request (up to
    6000 for a token); the budget is one counter per window."""
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "100/minute"})
    request = _throttle_request(pandeglang_operator)
    for _ in range(5):
        throttle = UserRateThrottle()
        assert throttle.allow_request(request, None)
    stored = cache.get(throttle.key)
    assert (stored if isinstance(stored, int) else stored[1]) == 5
    assert getattr(request._request, QUOTA_ATTR)["remaining"] == 95
    cache.clear()


def test_the_window_opens_with_the_first_request_and_closes_after_its_duration(
        pandeglang_operator, monkeypatch, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    monkeypatch.setattr(SimpleRateThrottle, "cache", caches["default"])
    now = [1000.0]
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    request = _throttle_request(pandeglang_operator)

    def ask(at):
        now[0] = at
        throttle = UserRateThrottle()
        return throttle.allow_request(request, None), throttle.wait()

    assert ask(1000.0) == (True, 60)
    assert ask(1010.0) == (True, 50)
    assert ask(1030.5) == (False, 30)  # Retry-After: until the window closes
    assert ask(1060.0) == (True, 60)  # a new window


@pytest.mark.skipif(not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"),
                    reason="Redis cache only (CACHE_URL=redis://...)")
def test_a_throttled_request_is_one_round_trip_to_redis(pandeglang_operator, monkeypatch):
    from redis.connection import Connection

    cache.clear()
    sent = []
    original = Connection.send_packed_command
    monkeypatch.setattr(Connection, "send_packed_command",
                        lambda self, *a, **k: sent.append(a) or original(self, *a, **k))
    request = _throttle_request(pandeglang_operator)
    assert UserRateThrottle().allow_request(request, None)
    assert len(sent) == 1
    cache.clear()


def test_the_redis_cache_keeps_one_client():
    """Django's Redis cache builds a redis-py client on every call; ours one per pool."""
    pooled = PooledRedisCache("redis://127.0.0.1:6379/15", {})._cache
    assert pooled.get_client(write=True) is pooled.get_client("key", write=False)
    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.redis.RedisCache"


def test_a_staff_login_ends_after_one_working_day(pandeglang_operator):
    """Security audit (December 2026): a login lasted Django's default two weeks, so a browser
    left signed in on a shared office computer kept the registry open for days. It lasts
    ``SESSION_HOURS`` (10) now."""
    import datetime

    import time_machine

    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    start = datetime.datetime(2026, 12, 1, 7, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(pandeglang_operator)
        assert client.get("/pmks/").status_code == 200
        clock.move_to(start + datetime.timedelta(hours=9, minutes=50))
        assert client.get("/pmks/").status_code == 200
        clock.move_to(start + datetime.timedelta(hours=10, minutes=1))
        assert client.get("/pmks/").status_code == 302
