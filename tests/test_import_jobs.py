"""The admin import page: an upload becomes an import job that runs in the background, with a progress bar.

Most tests run the job inline (tests/conftest.py: _imports_inline); the last ones run the real background
thread against a transactional database (tests/browser/test_import.py drives the page in Chromium).
"""

import gzip
import json
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from ctgov import importer
from ctgov.admin import ImportCtgovForm
from ctgov.models import ImportJob
from tests.factories import TWO_LEGACY_RECORDS, TWO_STUDIES, database_state, study, zip_of
from trials.models import Trial

URL = "/admin/trials/trial/import/"


def job_url(job):
    return reverse("admin:trials_trial_import_job", args=[job.pk])


def upload(client, name="two.json.gz", raw=None):
    raw = gzip.compress(TWO_STUDIES.read_bytes()) if raw is None else raw
    return client.post(URL, {"file": SimpleUploadedFile(name, raw)})


@pytest.fixture
def questions(seeded):
    """The catalogue the imported rules are checked against."""


@pytest.mark.django_db
class TestTheImportPage:
    def test_the_trial_list_links_to_it(self, client, admin_user):
        client.force_login(admin_user)
        assert reverse("admin:trials_trial_import") == URL
        assert URL in client.get("/admin/trials/trial/").content.decode()

    def test_an_upload_starts_a_job_and_its_page_shows_the_summary(self, client, admin_user, questions):
        client.force_login(admin_user)
        assert client.get(URL).status_code == 200
        response = upload(client)
        job = ImportJob.objects.get()
        assert response.status_code == 302 and response["Location"] == job_url(job)
        assert (job.file_name, job.started_by, job.status) == ("two.json.gz", admin_user, ImportJob.Status.DONE)
        assert job.size == len(gzip.compress(TWO_STUDIES.read_bytes())) and job.finished_at is not None
        assert (job.summary["created"], job.summary["studies"], job.summary["errors"]) == (2, 2, [])

        page = client.get(job_url(job)).content.decode()
        assert 'id="import-summary"' in page and '<th scope="row">Trials created</th><td>2</td>' in page
        assert "hx-get" not in page  # a finished job is not polled
        trial = Trial.objects.get(nct_id="NCT02560883")
        assert trial.history.first().history_user == admin_user

    def test_a_bad_file_imports_nothing_and_its_page_names_the_problem(self, client, admin_user, questions):
        client.force_login(admin_user)
        before = database_state()
        upload(client, "broken.json", b"{nope")
        job = ImportJob.objects.get()
        assert job.status == ImportJob.Status.FAILED
        page = client.get(job_url(job)).content.decode()
        assert "Nothing was imported from this file." in page and "broken.json: not valid JSON" in page
        assert database_state() == before

    def test_it_lists_recent_imports(self, client, admin_user, questions):
        client.force_login(admin_user)
        upload(client)
        upload(client, "broken.json", b"[1]")
        page = client.get(URL).content.decode()
        assert 'id="recent-imports"' in page
        assert "2 created, 0 updated, 0 unchanged" in page
        assert page.index("broken.json") < page.index("two.json.gz")  # newest first
        assert "Nothing imported" in page

    def test_it_accepts_only_study_files(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(URL, {"file": SimpleUploadedFile("trials.csv", b"a,b")})
        assert response.status_code == 200
        assert (
            "Upload ClinicalTrials.gov records: .json, .json.gz, .xml, .xml.gz, .zip, .tar.xz, .tar.gz, .tgz."
            in response.content.decode()
        )
        assert not ImportJob.objects.exists()

    def test_it_imports_an_archive_of_legacy_xml_records(self, client, admin_user, questions):
        client.force_login(admin_user)
        upload(client, "records.zip", zip_of(TWO_LEGACY_RECORDS))
        job = ImportJob.objects.get()
        assert job.status == ImportJob.Status.DONE, job.summary
        assert job.summary["created"] == 2
        assert '<th scope="row">Trials created</th><td>2</td>' in client.get(job_url(job)).content.decode()

    def test_it_refuses_a_file_too_large_to_hold_in_memory(self, client, admin_user, monkeypatch):
        monkeypatch.setattr(ImportCtgovForm, "MAX_SIZE", 2 * 2**20)
        client.force_login(admin_user)
        response = client.post(URL, {"file": SimpleUploadedFile("big.json", b" " * (3 * 2**20))})
        assert "This file is 3.0 MB; uploads here are limited to 2 MB." in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_it_is_for_admins_only(self, client, coordinator, admin_user):
        job = ImportJob.objects.create(file_name="x.json", started_by=admin_user)
        coordinator.is_staff = True
        coordinator.save()
        client.force_login(coordinator)
        assert client.get(URL).status_code == 403
        assert client.get(job_url(job)).status_code == 403
        client.logout()
        assert client.get(job_url(job)).status_code == 302  # to the admin login

    def test_an_unknown_job_is_a_404(self, client, admin_user):
        client.force_login(admin_user)
        assert client.get("/admin/trials/trial/import/999999/").status_code == 404


@pytest.mark.django_db
def test_admins_can_look_through_every_import_but_not_change_one(client, admin_user, questions):
    client.force_login(admin_user)  # an Admin-group member, not a superuser
    upload(client)
    upload(client, "broken.json", b"{nope")
    page = client.get("/admin/ctgov/importjob/").content.decode()
    assert "two.json.gz" in page and "2 created, 0 updated, 0 unchanged" in page
    assert "broken.json: not valid JSON" in page
    job = ImportJob.objects.get(file_name="two.json.gz")
    assert job_url(job) in page
    assert client.get("/admin/ctgov/importjob/add/").status_code == 403
    assert client.post(f"/admin/ctgov/importjob/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ImportJob.objects.count() == 2


@pytest.mark.django_db
class TestAJobsPageWhileItRuns:
    @pytest.fixture
    def job(self, admin_user):
        return ImportJob.objects.create(
            file_name="broad.json.gz", size=3_400_000, started_by=admin_user, status=ImportJob.Status.RUNNING
        )

    def test_it_shows_how_many_studies_are_done(self, client, admin_user, job):
        job.report_progress(412, 1099)
        client.force_login(admin_user)
        page = client.get(job_url(job)).content.decode()
        assert '<progress class="import-progress" value="412" max="1099"' in page
        assert "412 of 1,099 studies imported (37 %)" in page
        assert f'hx-get="{job_url(job)}" hx-trigger="load delay:500ms"' in page
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page

    def test_htmx_polls_get_only_the_status_part(self, client, admin_user, job):
        job.report_progress(1099, 1099)
        client.force_login(admin_user)
        response = client.get(job_url(job), headers={"HX-Request": "true"})
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="import-status"') and "<html" not in body
        assert "1,099 of 1,099 studies imported (100 %), saving…" in body
        assert "HX-Request" in response["Vary"]

    def test_before_the_file_is_read_the_bar_has_no_value(self, client, admin_user, job):
        client.force_login(admin_user)
        body = client.get(job_url(job), headers={"HX-Request": "true"}).content.decode()
        assert '<progress class="import-progress" aria-label="Import progress">' in body
        assert "Reading the file…" in body

    def test_a_job_that_outlived_its_process_is_shown_as_stopped_and_not_polled(self, client, admin_user, job):
        ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=2))
        client.force_login(admin_user)
        page = client.get(job_url(job)).content.decode()
        assert "This import stopped before it finished" in page
        assert "hx-get" not in page and "http-equiv" not in page
        assert "Stopped before finishing" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_a_job_reports_its_progress_study_by_study(admin_user, questions, monkeypatch):
    seen = []
    monkeypatch.setattr(ImportJob, "report_progress", lambda self, done, total: seen.append((done, total)))
    raw = json.dumps([study(f"NCT09{n:06d}") for n in range(3)]).encode()
    job = ImportJob.objects.create(file_name="three.json", started_by=admin_user)
    importer.run_job(job.pk, raw)
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert ImportJob.objects.get().progress() is None  # finished: the page shows the summary instead


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_with_a_message_and_saves_nothing(admin_user, questions, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(importer, "_create", broken)
    before = database_state()
    job = ImportJob.objects.create(file_name="two.json", started_by=admin_user)
    importer.run_job(job.pk, TWO_STUDIES.read_bytes())
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.summary["errors"] == [
        "two.json: the import stopped on an unexpected error, which was logged for "
        "the maintainers; nothing from this file was imported."
    ]
    assert database_state() == before


# --- The real background thread ---


def wait_until_finished(job_id, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"import job {job_id} did not finish in {seconds} s")


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_imported_by_a_background_thread(client, settings, curator):
    # (curator: an admin with the trial permissions, which a transactional test cannot take from the migrations)
    settings.IMPORTS_IN_BACKGROUND = True
    client.force_login(curator)
    response = upload(client)
    job = ImportJob.objects.get()
    assert response["Location"] == job_url(job)
    job = wait_until_finished(job.pk)
    assert job.status == ImportJob.Status.DONE and job.summary["created"] == 2
    assert set(Trial.objects.filter(nct_id__in=["NCT02560883", "NCT02587988"]).values_list("nct_id", flat=True)) == {
        "NCT02560883",
        "NCT02587988",
    }
