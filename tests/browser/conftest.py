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
