"""With REDIS_URL set, an import's progress is seen by another process: the scale-out profile's shared cache.

Skips without REDIS_URL locally; in CI (PRESCREEN_CI=1, where .ci/run sets REDIS_URL) it must run.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL")


@pytest.fixture
def redis_cache(settings):
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("REDIS_URL is not set in CI")
        pytest.skip("REDIS_URL is not set: the shared-cache test needs a Redis server")
    from django.core.cache import cache

    prefix = f"prescreen-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        cache.set("ping", 1, timeout=5)
    except Exception as exc:  # any client error means the server could not be used
        pytest.fail(f"Redis at {REDIS_URL} could not be used: {exc}")
    yield prefix
    cache.clear()


def progress_seen_by_another_process(job_pk, prefix):
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        f"settings.CACHES['default']['KEY_PREFIX'] = {prefix!r}\n"
        "from ctgov.models import ImportJob\n"
        f"print(ImportJob(pk={job_pk}, status=ImportJob.Status.RUNNING).progress())\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "prescreen.settings", "REDIS_URL": REDIS_URL}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_it_shows_an_import_s_progress_to_another_process(redis_cache):
    from ctgov.models import ImportJob

    job = ImportJob(pk=424242, status=ImportJob.Status.RUNNING)
    assert progress_seen_by_another_process(job.pk, redis_cache) == "None"
    job.report_progress(412, 1099)
    assert progress_seen_by_another_process(job.pk, redis_cache) == "(412, 1099)"
