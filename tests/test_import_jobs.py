"""The admin import page: an upload is stored and becomes an import job, which a task (ctgov.tasks.run_import)
imports, with a progress bar, a heartbeat, retries and failures on the job's row.

Tasks run as soon as the upload's transaction commits (tests/conftest.py: the immediate backend); tests of what is
enqueued use the dummy backend (`enqueued`). tests/test_workers.py runs real workers, tests/browser/test_import.py
drives the page in Chromium.
"""

import gzip
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from ctgov import importer
from ctgov.admin import ImportCtgovForm
from ctgov.models import SQLITE_SAVE_SECONDS_PER_STUDY, ImportJob
from tests.factories import TWO_LEGACY_RECORDS, TWO_STUDIES, database_state, study, zip_of
from trials.models import Trial

URL = "/admin/trials/trial/import/"


def job_url(job):
    return reverse("admin:trials_trial_import_job", args=[job.pk])


def upload(client, name="two.json.gz", raw=None):
    """Upload a file and let the task it enqueues run (the test's transaction never commits by itself)."""
    raw = gzip.compress(TWO_STUDIES.read_bytes()) if raw is None else raw
    with TestCase.captureOnCommitCallbacks(execute=True):
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


# --- The job as a task: stored file, enqueued on commit, idempotent, heartbeat and lease, retry, failures


@pytest.mark.django_db
def test_an_upload_stores_the_file_makes_the_job_and_enqueues_its_import_on_commit(
    client, admin_user, enqueued, django_capture_on_commit_callbacks, settings
):
    client.force_login(admin_user)
    raw = gzip.compress(TWO_STUDIES.read_bytes())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(URL, {"file": SimpleUploadedFile("two.json.gz", raw)})
        assert enqueued == []  # not before the commit
    job = ImportJob.objects.get()
    assert len(callbacks) == 1
    assert [(r.task.name, r.args) for r in enqueued] == [("run_import", [job.pk])]
    assert job.status == ImportJob.Status.QUEUED and job.size == len(raw)
    assert job.file.name.startswith("imports/") and job.file.name.endswith(".json.gz")
    assert (settings.MEDIA_ROOT / job.file.name).read_bytes() == raw
    page = client.get(job_url(job)).content.decode()
    assert "Waiting for a worker" in page and "manage.py worker" in page and "hx-get" in page


def queued_job(user, name="two.json", raw=None):
    from django.core.files.base import ContentFile

    raw = TWO_STUDIES.read_bytes() if raw is None else raw
    return ImportJob.objects.create(file_name=name, size=len(raw), file=ContentFile(raw, name=name), started_by=user)


def run_import(job, django_capture_on_commit_callbacks):
    from ctgov.tasks import run_import as task

    with django_capture_on_commit_callbacks(execute=True):
        return task.call(job.pk)


@pytest.mark.django_db
def test_the_task_imports_the_file_finishes_the_job_and_deletes_the_file(
    admin_user, questions, django_capture_on_commit_callbacks, settings
):
    job = queued_job(admin_user)
    stored = settings.MEDIA_ROOT / job.file.name
    assert stored.exists()
    assert run_import(job, django_capture_on_commit_callbacks) == "done"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.summary["created"], job.summary["errors"]) == ("done", 1, 2, [])
    assert (job.studies_read, job.studies_total) == (2, 2) and job.heartbeat_at is not None
    assert job.file.name == "" and not stored.exists()
    assert Trial.objects.filter(nct_id__in=["NCT02560883", "NCT02587988"]).count() == 2


@pytest.mark.django_db
def test_running_the_task_twice_imports_nothing_twice(admin_user, questions, django_capture_on_commit_callbacks):
    job = queued_job(admin_user)
    run_import(job, django_capture_on_commit_callbacks)
    after_first = database_state()
    assert run_import(job, django_capture_on_commit_callbacks) == "skipped"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 1)
    assert database_state() == after_first


@pytest.mark.django_db
def test_a_job_another_worker_holds_within_its_lease_is_left_to_it(admin_user, django_capture_on_commit_callbacks):
    job = queued_job(admin_user)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, attempts=1, lease_until=timezone.now() + timedelta(seconds=30)
    )
    assert run_import(job, django_capture_on_commit_callbacks) == "skipped"
    assert ImportJob.objects.get().attempts == 1


@pytest.mark.django_db
def test_the_worker_writes_its_progress_and_heartbeat_to_the_row(admin_user, questions, settings, monkeypatch):
    settings.IMPORT_HEARTBEAT = 0  # every study
    seen = []
    original = ImportJob.beat

    def beat(self, done, total):
        original(self, done, total)
        row = ImportJob.objects.get(pk=self.pk)  # what another process reads
        seen.append((row.status, row.studies_read, row.studies_total, row.lease_until > timezone.now()))

    monkeypatch.setattr(ImportJob, "beat", beat)
    raw = json.dumps([study(f"NCT09{n:06d}") for n in range(3)]).encode()
    job = queued_job(admin_user, "three.json", raw)
    with TestCase.captureOnCommitCallbacks(execute=True):
        importer.run_job(job.pk)
    assert seen == [("running", done, 3, True) for done in range(4)]
    assert ImportJob.objects.get().progress() is None  # finished: the page shows the summary instead


@pytest.mark.django_db
def test_before_it_saves_the_worker_takes_a_lease_that_covers_what_it_cannot_report(admin_user, questions, monkeypatch):
    leases = []
    original = ImportJob.saving

    def saving(self, studies):
        original(self, studies)
        row = ImportJob.objects.get(pk=self.pk)
        leases.append((row.status, (row.lease_until - row.heartbeat_at).total_seconds()))

    monkeypatch.setattr(ImportJob, "saving", saving)
    raw = json.dumps([study(f"NCT09{n:06d}") for n in range(30)]).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        importer.run_job(queued_job(admin_user, "thirty.json", raw).pk)
    if connection.vendor == "sqlite":  # one writer: no report until the transaction ends, so a lease to cover it
        assert leases == [("saving", 60 + 30 * SQLITE_SAVE_SECONDS_PER_STUDY)]
    else:  # it reports through a second connection as it saves (next test)
        assert leases == [("saving", 60)]


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_worker_reports_as_it_saves_while_nothing_shows_until_the_commit(curator, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite allows one writer, the import's transaction: the worker reports when it ends")
    settings.IMPORT_HEARTBEAT = 0  # every study
    seen = []
    original = ImportJob.saved

    def saved(self, done, total):
        original(self, done, total)
        other = connections.create_connection(DEFAULT_DB_ALIAS)  # what a web process sees meanwhile
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT status, studies_saved, studies_total, lease_until > now() FROM trials_importjob "
                    "WHERE id = %s",
                    [self.pk],
                )
                row = cursor.fetchone()
                cursor.execute("SELECT count(*) FROM trials_trial WHERE nct_id LIKE 'NCT09%%'")
                seen.append((*row, cursor.fetchone()[0]))
        finally:
            other.close()

    ImportJob.saved = saved
    try:
        raw = json.dumps([study(f"NCT09{n:06d}") for n in range(3)]).encode()
        assert importer.run_job(queued_job(curator, "three.json", raw).pk) == "done"
    finally:
        ImportJob.saved = original
    assert seen == [("saving", done, 3, True, 0) for done in (1, 2, 3)]
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.progress() is None
    assert Trial.objects.filter(nct_id__startswith="NCT09").count() == 3


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_job_with_a_message_saves_nothing_and_keeps_the_file(
    admin_user, questions, monkeypatch, settings
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(importer, "_create", broken)
    before = database_state()
    job = queued_job(admin_user)
    assert importer.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.summary["errors"] == [
        "two.json: the import stopped on an unexpected error, which was logged for "
        "the maintainers; nothing from this file was imported."
    ]
    assert database_state() == before
    assert (settings.MEDIA_ROOT / job.file.name).exists() and job.can_retry


@pytest.mark.django_db
def test_a_file_the_worker_cannot_read_fails_the_job_with_the_reason(admin_user, settings):
    job = queued_job(admin_user)
    (settings.MEDIA_ROOT / job.file.name).unlink()  # e.g. a worker on a machine without the shared storage
    assert importer.run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert "could not be read by the worker (FileNotFoundError)" in job.summary["errors"][0]
    assert "MEDIA_ROOT must be storage they share" in job.summary["errors"][0]


@pytest.fixture
def stopped_job(admin_user):
    """A job whose worker died while reading the file: its lease ran out a while ago."""
    job = queued_job(admin_user, "two.json")
    long_ago = timezone.now() - timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        attempts=1,
        studies_read=1,
        studies_total=2,
        heartbeat_at=long_ago,
        lease_until=long_ago + timedelta(seconds=60),
    )
    return ImportJob.objects.get(pk=job.pk)


@pytest.mark.django_db
def test_a_job_not_heard_from_within_its_lease_is_shown_as_stopped_with_nothing_imported(
    client, admin_user, stopped_job
):
    assert stopped_job.stopped and not stopped_job.finished
    client.force_login(admin_user)
    page = client.get(job_url(stopped_job)).content.decode()
    assert "The worker stopped before this import finished" in page and "nothing was imported" in page
    assert "hx-get" not in page and "http-equiv" not in page  # not polled any more
    assert 'id="retry-import"' in page
    assert "The worker stopped; nothing was imported" in client.get(URL).content.decode()
    assert "the worker stopped; nothing was imported" in client.get("/admin/ctgov/importjob/").content.decode()


@pytest.mark.django_db
def test_a_worker_that_dies_mid_import_leaves_nothing_behind(admin_user, questions, monkeypatch):
    # The job is finished inside the import's transaction: a worker killed after writing some trials leaves the
    # transaction uncommitted, which the database rolls back. Here the "death" is an exception that escapes.
    class Killed(BaseException):  # not an Exception: nothing in the importer catches it, as with a SIGKILL
        pass

    calls = []

    def dies_on_the_second(record, user, summary):
        calls.append(record.nct_id)
        if len(calls) == 2:
            raise Killed
        return original(record, user, summary)

    original = importer._create
    monkeypatch.setattr(importer, "_create", dies_on_the_second)
    before = database_state()
    job = queued_job(admin_user)
    with pytest.raises(Killed):
        importer.run_job(job.pk)
    assert database_state() == before  # the first trial was rolled back with the transaction
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SAVING and not job.finished


@pytest.mark.django_db
def test_retry_re_runs_a_stopped_job_cleanly_to_success(
    client, admin_user, questions, stopped_job, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:trials_trial_import_retry", args=[stopped_job.pk]))
    assert response.status_code == 302 and response["Location"] == job_url(stopped_job)
    job = ImportJob.objects.get()
    assert (job.status, job.attempts, job.summary["created"], job.file.name) == ("done", 2, 2, "")
    page = client.get(job_url(job)).content.decode()
    assert '<th scope="row">Trials created</th><td>2</td>' in page and 'id="retry-import"' not in page


@pytest.mark.django_db
def test_retry_enqueues_the_task_again_once_committed(client, admin_user, stopped_job, enqueued):
    client.force_login(admin_user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("admin:trials_trial_import_retry", args=[stopped_job.pk]))
    assert [(r.task.name, r.args) for r in enqueued] == [("run_import", [stopped_job.pk])]
    assert ImportJob.objects.get().status == ImportJob.Status.QUEUED


@pytest.mark.django_db
def test_a_job_that_is_running_or_done_cannot_be_retried(client, admin_user, questions, enqueued):
    client.force_login(admin_user)
    job = queued_job(admin_user)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, lease_until=timezone.now() + timedelta(seconds=60)
    )
    response = client.post(reverse("admin:trials_trial_import_retry", args=[job.pk]), follow=True)
    assert "Only a failed or stopped import whose file is still stored can be retried." in response.content.decode()
    assert enqueued == [] and ImportJob.objects.get().status == ImportJob.Status.RUNNING
    assert client.get(reverse("admin:trials_trial_import_retry", args=[job.pk])).status_code == 405


@pytest.mark.django_db
def test_a_failed_job_is_retried_with_its_stored_file(
    client, admin_user, questions, monkeypatch, django_capture_on_commit_callbacks
):
    job = queued_job(admin_user)
    monkeypatch.setattr(importer, "catalogue", lambda: (_ for _ in ()).throw(RuntimeError("database went away")))
    importer.run_job(job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    client.force_login(admin_user)
    page = client.get(job_url(job)).content.decode()
    assert "the import stopped on an unexpected error" in page and 'id="retry-import"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:trials_trial_import_retry", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.attempts, job.summary["errors"]) == ("done", 2, [])


@pytest.mark.django_db
class TestAJobsPageWhileItRuns:
    @pytest.fixture
    def job(self, admin_user):
        return ImportJob.objects.create(
            file_name="broad.json.gz",
            size=3_400_000,
            started_by=admin_user,
            status=ImportJob.Status.RUNNING,
            lease_until=timezone.now() + timedelta(seconds=60),
        )

    def test_it_shows_how_many_studies_are_read(self, client, admin_user, job):
        ImportJob.objects.filter(pk=job.pk).update(studies_read=412, studies_total=1099)
        client.force_login(admin_user)
        page = client.get(job_url(job)).content.decode()
        assert '<progress class="import-progress" value="412" max="1099"' in page
        assert "412 of 1,099 studies read (37 %)" in page
        assert f'hx-get="{job_url(job)}" hx-trigger="load delay:500ms"' in page
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page

    def test_htmx_polls_get_only_the_status_part(self, client, admin_user, job):
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.SAVING, studies_read=1099, studies_total=1099
        )
        client.force_login(admin_user)
        response = client.get(job_url(job), headers={"HX-Request": "true"})
        body = response.content.decode()
        assert body.lstrip().startswith('<div id="import-status"') and "<html" not in body
        assert "Saving 1,099 studies in one transaction…" in body
        assert "HX-Request" in response["Vary"]

    def test_where_the_worker_reports_as_it_saves_the_bar_shows_it(self, client, admin_user, job):
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.SAVING, studies_saved=550, studies_total=1099
        )
        client.force_login(admin_user)
        body = client.get(job_url(job), headers={"HX-Request": "true"}).content.decode()
        assert '<progress class="import-progress" value="550" max="1099"' in body
        assert "550 of 1,099 studies saved (50 %), in one transaction: none of them shows until all are." in body

    def test_before_the_file_is_read_the_bar_has_no_value(self, client, admin_user, job):
        client.force_login(admin_user)
        body = client.get(job_url(job), headers={"HX-Request": "true"}).content.decode()
        assert '<progress class="import-progress" aria-label="Import progress">' in body
        assert "Reading the file…" in body

    def test_a_job_left_running_by_a_version_without_a_lease_is_shown_as_stopped(self, client, admin_user, job):
        ImportJob.objects.filter(pk=job.pk).update(lease_until=None, started_at=timezone.now() - timedelta(hours=2))
        client.force_login(admin_user)
        assert "The worker stopped before this import finished" in client.get(job_url(job)).content.decode()


def test_the_app_starts_no_thread():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = [
        str(path.relative_to(root))
        for app in ("eligibility", "trials", "ctgov", "curation", "screening", "referrals", "prescreen")
        for path in (root / app).rglob("*.py")
        if "threading.Thread" in path.read_text() or "Thread(" in path.read_text()
    ]
    assert found == []


@pytest.mark.django_db
def test_a_worker_whose_job_was_retried_meanwhile_rolls_its_import_back(admin_user, questions, monkeypatch):
    # Its lease ran out while it saved, an admin retried and another worker took the job: when the first one gets
    # to the end it may not finish the job, so its transaction is rolled back and only the newer attempt counts.
    job = queued_job(admin_user)
    original = ImportJob.saving

    def saving(self, studies):
        original(self, studies)
        ImportJob.objects.filter(pk=self.pk).update(attempts=self.attempts + 1)  # another worker's claim

    monkeypatch.setattr(ImportJob, "saving", saving)
    before = database_state()
    assert importer.run_job(job.pk) == "superseded"
    assert database_state() == before
    assert ImportJob.objects.get().status == ImportJob.Status.SAVING  # the newer attempt's row, untouched
