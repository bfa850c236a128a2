"""An admin uploads a large file on the import page and watches the import job's progress bar fill while a worker
runs it. The live server's database lives in this process, so the worker is the task run in a thread of the test
(tests/test_workers.py runs real worker processes)."""

import gzip
import json
import threading

import pytest
from django.db import connections

from ctgov.models import ImportJob
from ctgov.tasks import run_import
from tests.browser import admin_log_in, screenshot
from tests.conftest import DUMMY_TASKS
from tests.factories import study
from trials.models import Trial

URL = "/admin/trials/trial/import/"


def many_studies(count):
    return json.dumps({"studies": [study(f"NCT08{n:06d}", title=f"Study {n}") for n in range(count)]}).encode()


def worker(job_id):
    try:
        run_import.call(job_id)
    finally:
        connections.close_all()  # this thread's own connections


@pytest.mark.django_db(transaction=True)
def test_an_admin_watches_an_import_progress_in_a_browser(live_server, page, settings, curator, tmp_path):
    from playwright.sync_api import expect

    settings.TASKS = DUMMY_TASKS  # the upload enqueues; the "worker" below takes the job
    settings.IMPORT_HEARTBEAT = 0.05
    path = tmp_path / "many.json.gz"
    path.write_bytes(gzip.compress(many_studies(1500)))

    admin_log_in(page, live_server)
    page.goto(live_server.url + URL)
    page.set_input_files("input[type=file]", str(path))
    page.click("input[type=submit][value=Import]")
    page.wait_for_url(f"{live_server.url}{URL}*/")
    expect(page.locator("#import-status")).to_contain_text("Waiting for a worker")
    screenshot(page, "admin-import-waiting")

    thread = threading.Thread(target=worker, args=(ImportJob.objects.get().pk,))
    thread.start()
    try:
        # The bar fills as the worker reads, without a reload: catch it part-way.
        page.wait_for_function(
            """() => {
            const bar = document.querySelector("progress.import-progress[value]");
            return bar && +bar.value > 0 && +bar.value < +bar.max;
        }""",
            timeout=60_000,
        )
        expect(page.locator("#import-status")).to_contain_text("of 1,500 studies read")
        screenshot(page, "admin-import-progress")
        expect(page.locator("#import-summary")).to_contain_text("Imported 1,500 studies", timeout=120_000)
    finally:
        thread.join(timeout=120)
    expect(page.locator("#import-summary tr", has_text="Trials created")).to_contain_text("1500")
    screenshot(page, "admin-import-summary")
    page.click("text=Import another file")
    expect(page.locator("#recent-imports")).to_contain_text("1500 created, 0 updated, 0 unchanged")
    screenshot(page, "admin-import-page")
    assert Trial.objects.filter(nct_id__startswith="NCT08").count() == 1500
