"""Fixtures for browser tests: one headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, a fresh
page per test, and the demo set-up a live server needs. Every test under tests/browser/ is marked `browser`."""

import os
from pathlib import Path

import pytest

from tests.conftest import IN_CI

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("PRESCREEN_CHROMIUM", "/usr/bin/chromium")


@pytest.hookimpl(tryfirst=True)  # before `-m browser` / `-m "not browser"` select on the marker
def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


# One session-wide browser: Playwright's sync API allows one running instance per thread.
@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists()):
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium and chromium-driver"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the live server's database work is
    # in another thread, and the tests' own ORM calls are ordinary synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def demo(settings, transactional_db):
    """What `make run` sets up: seed trials and the demo users (for tests against a live server)."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    # Transactional tests flush the groups the data migrations made.
    for role in ("Clinician", "Coordinator", "Admin"):
        Group.objects.get_or_create(name=role)
    call_command("load_seed_trials", stdout=open(os.devnull, "w"))
    settings.DEBUG = True  # demo users are refused outside development
    call_command("create_demo_users", stdout=open(os.devnull, "w"))
    settings.DEBUG = False


# Runs in every document before its own scripts (Playwright's init scripts are not subject to the page's CSP).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
window.print = function () { document.documentElement.dataset.printed = "yes"; };
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations across navigations; the test ends by asserting there were none."""
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(LISTEN)
    seen = []

    def check(where):
        seen.extend(f"{where}: {v}" for v in page.evaluate("window.__violations || []"))
        seen.extend(f"{where}: {text}" for text in console)
        console.clear()
        assert seen == [], "\n".join(seen)

    page.check_csp = check
    yield page


@pytest.fixture
def demo_referral(demo, client):
    """A saved screening of the demo clinician, referred to NCT01219465 (pages of every role to walk)."""
    from django.contrib.auth.models import User
    from django.urls import reverse

    from referrals.models import Referral
    from screening.models import Screening
    from tests.factories import BASE
    from trials.models import Trial

    clinician = User.objects.get(username="clinician")
    client.force_login(clinician)
    screening = Screening.objects.create(patient_ref="CSP-01", clinician=clinician)
    screening.trials.set(Trial.objects.all())
    client.post(reverse("screening:detail", args=[screening.pk]), {**BASE, "save": "1"})
    client.post(reverse("screening:refer", args=[screening.pk, "NCT01219465"]), {"note": "new onset"})
    return Referral.objects.get()
