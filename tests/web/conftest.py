"""Browser fixtures: Playwright for Python driving Debian's chromium (no downloaded browser).

The tests skip, with the reason shown in the summary, only where no chromium is installed
(``.ci/run`` installs it). On a failure the page is saved as a PNG under
``var/browser-failures/`` and its path printed."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
FAILURES = Path(django_settings.BASE_DIR) / "var" / "browser-failures"
PASSWORD = "Kata-sandi-uji-1"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser(live_server):
    """Chromium for ONE test. Playwright's sync API keeps an asyncio loop running on this
    thread while it lives, and Django then keeps its database connections per context
    (asgiref.Local) instead of per thread: the ORM gets fresh connection wrappers without the
    test database's serialized reference data, so a serialized_rollback restore finds nothing
    to restore and every transactional test after it starts from empty tables. So Playwright
    starts after this test's restore (and after the session's live server took the real
    connections) and stops before its flush; the connections opened meanwhile are closed."""
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    # The ORM calls the tests make between page actions are synchronous and safe; the flag
    # lives only as long as the loop (subprocess tests never see it).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()
    finally:
        connections.close_all()
        playwright.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def open_page(browser, live_server, settings, request):
    """``open_page(user, width=1280, locale="en-US")``: a logged-in page (through the login
    form) in a fresh context, by default with an English browser locale — the pages must stay
    Indonesian. On a failure every page of the test is kept as a PNG."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    contexts = []

    def open_(user, *, width=1280, locale="en-US"):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      locale=locale, base_url=live_server.url)
        context.set_default_timeout(30_000)  # a loaded CI machine
        contexts.append(context)
        page = context.new_page()
        page.goto("/masuk/")
        page.get_by_label("Nama pengguna").fill(user.username)
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_
    failed = getattr(request.node, "report_call", None)
    for index, context in enumerate(contexts):
        if failed is not None and failed.failed:
            FAILURES.mkdir(parents=True, exist_ok=True)
            for n, page in enumerate(context.pages):
                path = FAILURES / f"{request.node.name}-{index}-{n}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"browser screenshot kept: {path}")
        context.close()
