"""Shared fixtures: personas (alice the clinician, carol the coordinator, adam the admin), logged-in clients
and data paths. Builders and sample data live in tests/factories.py; browser fixtures in tests/browser/."""

import os
import sys
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


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings, tmp_path):
    """Tasks run in the process that enqueues them (the immediate backend): a worker's own connection could not
    see a test's open transaction. Enqueueing waits for the commit (trials/background.py), which a test wrapped in
    a transaction never reaches: tests that enqueue use django_capture_on_commit_callbacks(execute=True). Tests of
    what is enqueued use the `enqueued` fixture; tests/test_workers.py runs real workers."""
    from django.core.cache import cache

    settings.TASKS = IMMEDIATE_TASKS
    settings.MEDIA_ROOT = tmp_path / "media"  # uploads kept for workers, never the project's media/ folder
    # A fresh in-process cache per test, never a Redis that REDIS_URL may point at.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    cache.clear()


@pytest.fixture
def enqueued(settings):
    """The dummy task backend: tasks are recorded, not run; the fixture is the list of what was enqueued."""
    from django_tasks import default_task_backend

    settings.TASKS = DUMMY_TASKS
    return default_task_backend.results


@pytest.fixture(autouse=True)
def _fresh_rules_cache():
    """Trials' rules are cached per process by (primary key, criteria version). A database rolled back or
    flushed between tests hands a used key to another trial (production never reuses one): forget them."""
    yield
    models = sys.modules.get("trials.models")
    if models is not None:
        models._rules_cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request with a language cookie leaves that language active in the test's thread (LocaleMiddleware activates
    it; nothing deactivates it between tests). The question catalogue is read in the active language
    (trials.models.catalogue): each test starts in the default one."""
    yield
    from django.utils import translation

    translation.deactivate()


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


# Logged-in clients and keys: the personas above, ready to use.


@pytest.fixture
def alice(client, clinician):
    client.force_login(clinician)
    return client


@pytest.fixture
def alice_key(clinician):
    from screening.models import ApiToken

    _token, key = ApiToken.create_for(clinician, "ward EHR")
    return key


@pytest.fixture
def adam(client, admin_user, seeded):
    client.force_login(admin_user)
    return client


@pytest.fixture
def curator(transactional_db):
    """adam, with the Admin group's permissions (a live-server test flushes what the migrations granted)."""
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    call_command("load_seed_trials", stdout=open("/dev/null", "w"))
    user = make_user("adam", "Admin")
    user.is_staff = True
    user.save()
    Group.objects.get(name="Admin").permissions.add(
        *Permission.objects.filter(
            content_type__app_label="trials", content_type__model__in=["trial", "criterion", "question"]
        )
    )
    Group.objects.get(name="Admin").permissions.add(
        *Permission.objects.filter(content_type__app_label="curation", content_type__model="examplepatient")
    )
    return user


@pytest.fixture
def urls_loaded():
    """The URLconf loaded before a test freezes the clock (freezegun): the API's pydantic schemas, built when the
    URLconf is first imported, cannot be made for freezegun's FakeDate."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every urls module)


@pytest.fixture
def people(seeded):
    """A clinician, the coordinators of each seed trial and an admin (referrals and the coordinator's pages)."""
    from trials.models import Trial

    first, second = Trial.objects.get(nct_id="NCT01219465"), Trial.objects.get(nct_id="NCT03835312")
    people = {
        "clinician": make_user("alice", "Clinician"),
        "coordinator": make_user("carol", "Coordinator"),
        "other_coordinator": make_user("oscar", "Coordinator"),
        "admin": make_user("adam", "Admin"),
    }
    first.coordinators.add(people["coordinator"])
    second.coordinators.add(people["other_coordinator"])
    return people


@pytest.fixture
def referral(client, people):
    from tests.factories import refer

    return refer(client, people["clinician"], "NCT01219465")
