"""Imports started from the admin page: a stored upload, imported by a task worker (ctgov/tasks.py: run_import)."""

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# While it saves, a worker on SQLite cannot report (one writer at a time, and its transaction is the writer), so
# before it starts it takes a lease of IMPORT_LEASE plus this much per study. Saving a new study took 10 to 27 ms on
# the 2-core development machine (idle to busy); this is ten times the slowest.
SQLITE_SAVE_SECONDS_PER_STUDY = 0.25


class ImportJob(models.Model):
    """One file uploaded on the admin import page: who, when, the stored file, and what came of it.

    A task worker imports it (ctgov/importer.py: run_job) and writes its progress and a heartbeat to this row, so
    every web process sees them; a job not heard from within its lease has died with its worker. The job is
    finished inside the import's transaction: a job that is not finished has imported nothing. While that
    transaction is open the worker reports through a second connection of its own (PostgreSQL), or not at all
    (SQLite, where that transaction holds the only write lock) under a lease taken to cover it.
    """

    class Superseded(Exception):
        """This worker's attempt was given to another worker (its lease ran out and an admin retried it)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Reading the file")
        SAVING = "saving", _("Saving")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Nothing imported")

    file_name = models.CharField(verbose_name=_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(verbose_name=_("size"), default=0, help_text=_("bytes"))
    # Kept until the import succeeds, so that a failed or stopped job can be retried; under MEDIA_ROOT.
    file = models.FileField(verbose_name=_("file"), upload_to="imports/%Y/%m/", blank=True, max_length=300)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(verbose_name=_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(
        verbose_name=_("summary"), default=dict, blank=True, help_text="ctgov/importer.py: ImportSummary"
    )
    studies_read = models.PositiveIntegerField(verbose_name=_("studies read"), default=0)
    studies_total = models.PositiveIntegerField(verbose_name=_("studies total"), null=True, blank=True)
    studies_saved = models.PositiveIntegerField(
        verbose_name=_("studies saved"), default=0, help_text=_("in the open transaction (PostgreSQL only)")
    )
    attempts = models.PositiveSmallIntegerField(
        verbose_name=_("attempts"), default=0, help_text=_("times a worker took the job")
    )
    heartbeat_at = models.DateTimeField(
        verbose_name=_("heartbeat at"), null=True, blank=True, help_text=_("when its worker last reported")
    )
    lease_until = models.DateTimeField(
        verbose_name=_("lease until"), null=True, blank=True, help_text=_("taken to have stopped if not heard from by")
    )

    class Meta:
        # Made in the trials app, whose table it keeps (ctgov/migrations/0001_initial.py).
        db_table = "trials_importjob"
        ordering = ["-started_at", "-pk"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def stopped(self) -> bool:
        """Taken by a worker that has not reported within its lease: it died (a restart, a deploy, a crash), and
        with it the import's transaction, so nothing of this job was saved."""
        if self.status not in (self.Status.RUNNING, self.Status.SAVING):
            return False
        # (A job left running by a version that had no lease: judged by when it started.)
        return (self.lease_until or self.started_at + self.lease()) < timezone.now()

    @property
    def can_retry(self) -> bool:
        return (self.status == self.Status.FAILED or self.stopped) and bool(self.file)

    def progress(self) -> tuple[int, int] | None:
        """(studies read, studies in the file) while the file is read, (studies saved, studies) while they are saved
        where the worker can report it (PostgreSQL); None before the file is opened, or while saving on SQLite."""
        if self.status == self.Status.RUNNING and self.studies_total is not None:
            return self.studies_read, self.studies_total
        if self.status == self.Status.SAVING and self.studies_saved and self.studies_total:
            return self.studies_saved, self.studies_total
        return None

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or timezone.now()
        return max((end - self.started_at).total_seconds(), 0.0)

    # --- The worker's side: each write is guarded by the attempt, so a worker whose job was retried since
    # (after its lease ran out) cannot overwrite the newer attempt's row.

    @classmethod
    def claim(cls, pk: int):
        """Take a job for this worker, or None when there is nothing to do: it is finished (a task delivered or
        retried twice imports nothing twice) or another worker holds it within its lease."""
        with transaction.atomic():
            job = cls.objects.select_for_update(of=("self",)).select_related("started_by").filter(pk=pk).first()
            if job is None or job.finished or (job.status != cls.Status.QUEUED and not job.stopped):
                return None
            now = timezone.now()
            job.status = cls.Status.RUNNING
            job.attempts += 1
            job.studies_read, job.studies_total = 0, None
            job.heartbeat_at, job.lease_until = now, now + cls.lease()
            job.save(
                update_fields=["status", "attempts", "studies_read", "studies_total", "heartbeat_at", "lease_until"]
            )
        job._beaten = 0.0
        return job

    @staticmethod
    def lease() -> timedelta:
        return timedelta(seconds=settings.IMPORT_LEASE)

    def _mine(self):
        return ImportJob.objects.filter(pk=self.pk, attempts=self.attempts)

    def _due(self, now, done: int, total: int) -> bool:
        """Whether to report now: at the ends, and at most every IMPORT_HEARTBEAT seconds between."""
        clock = now.timestamp()
        if done not in (0, total) and clock - getattr(self, "_beaten", 0.0) < settings.IMPORT_HEARTBEAT:
            return False
        self._beaten = clock
        return True

    def beat(self, done: int, total: int) -> None:
        """Progress while the file is read (before the import's transaction opens)."""
        now = timezone.now()
        if self._due(now, done, total):
            self.studies_read, self.studies_total = done, total
            self._mine().update(
                studies_read=done, studies_total=total, heartbeat_at=now, lease_until=now + self.lease()
            )

    def saving(self, studies: int) -> None:
        """About to write `studies` in one transaction, whose writes nobody else can see until it commits."""
        now = timezone.now()
        self._beaten = now.timestamp()
        self.status = self.Status.SAVING
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            # A connection of its own, in autocommit, reports progress while the import's transaction is open.
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
            lease = self.lease()
        else:  # SQLite: the transaction holds the only write lock, so no report until the end: a lease to cover it
            self._side = None
            lease = self.lease() + timedelta(seconds=SQLITE_SAVE_SECONDS_PER_STUDY * studies)
        self._mine().update(status=self.status, studies_saved=0, heartbeat_at=now, lease_until=now + lease)

    def saved(self, done: int, total: int) -> None:
        """`done` of `total` studies written in the open transaction: reported through the second connection."""
        side = getattr(self, "_side", None)
        now = timezone.now()
        if side is None or not self._due(now, done, total):
            return
        ops = side.ops
        with side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ops.quote_name(self._meta.db_table)} SET studies_saved = %s, heartbeat_at = %s, "
                "lease_until = %s WHERE id = %s AND attempts = %s",
                [done, now, now + self.lease(), self.pk, self.attempts],
            )

    def close(self) -> None:
        """Close the second connection, if saving opened one."""
        side = getattr(self, "_side", None)
        if side is not None:
            side.close()
            self._side = None

    def finish(self, summary) -> None:
        """Record the outcome (an ImportSummary). On success this runs inside the import's transaction, and the
        stored file is deleted once it commits; after a failure the file is kept for a retry."""
        data = asdict(summary)
        self.status = self.Status.FAILED if data["errors"] else self.Status.DONE
        self.summary = data
        self.finished_at = timezone.now()
        updated = self._mine().update(status=self.status, summary=data, finished_at=self.finished_at, lease_until=None)
        if not updated and self.status == self.Status.DONE:
            # Inside the import's transaction: roll it back, since the newer attempt imports the file.
            raise self.Superseded(f"import job {self.pk}: attempt {self.attempts} was superseded")
        if self.status == self.Status.DONE and self.file:
            name = self.file.name
            transaction.on_commit(lambda: self._forget_file(name))

    def _forget_file(self, name: str) -> None:
        self.file.storage.delete(name)
        ImportJob.objects.filter(pk=self.pk, file=name).update(file="")

    # --- The admin's side.

    def retry(self) -> bool:
        """Queue a failed or stopped job again (with its stored file); the caller enqueues the task on commit."""
        if not self.can_retry:
            return False
        updated = ImportJob.objects.filter(pk=self.pk, attempts=self.attempts, status=self.status).update(
            status=self.Status.QUEUED, summary={}, finished_at=None, lease_until=None, started_at=timezone.now()
        )
        self.refresh_from_db()
        return bool(updated)
