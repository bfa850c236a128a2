"""Shared fixtures: personas (alice the clinician, carol the coordinator, adam the admin) and data paths."""

import os
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings

IN_CI = os.environ.get("PRESCREEN_CI") == "1"

# In CI, property tests draw the same examples on every run: a submission passes or fails on its code, not on
# the luck of the draw. Run `make test` locally (random draws) to keep exploring, and add what it finds as cases.
hypothesis.settings.register_profile("ci", derandomize=True)
if IN_CI:
    hypothesis.settings.load_profile("ci")


def shared_data(*parts) -> Path:
    """A path under ../shared/data; skips the test with a reason when absent (fails in CI)."""
    path = Path(settings.SHARED_DIR, "data", *parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing in CI")
        pytest.skip(f"{path} not found: the public data sets live in ../shared/data (see README)")
    return path


def make_user(username, *roles):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username=username, password="pw-" + username)
    for role in roles:
        # get_or_create: transactional tests (live server) flush the groups the migrations made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture(autouse=True)
def _imports_inline(settings):
    """Admin imports run inline in tests: a background thread's own connection cannot see a test's open
    transaction. The tests of the thread itself turn it back on (with a transactional database)."""
    from django.core.cache import cache

    settings.IMPORTS_IN_BACKGROUND = False
    # Import progress lives in the cache, keyed by job id: a fresh in-process cache per test, never a Redis
    # that REDIS_URL may point at.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()


@pytest.fixture
def seeded(db):
    from curation.seed import load_seed

    load_seed()


@pytest.fixture
def clinician(db):
    return make_user("alice", "Clinician")


@pytest.fixture
def clinician_b(db):
    return make_user("bob", "Clinician")


@pytest.fixture
def coordinator(db):
    return make_user("carol", "Coordinator")


@pytest.fixture
def admin_user(db):
    user = make_user("adam", "Admin")
    user.is_staff = True
    user.save()
    return user


# Browser tests: a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.
# One session-wide browser: Playwright's sync API allows one running instance per thread.
CHROMIUM = os.environ.get("PRESCREEN_CHROMIUM", "/usr/bin/chromium")


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
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
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
