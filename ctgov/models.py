"""Imports started from the admin page (issue 5): run in the background so the page can show progress."""

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone


class ImportJob(models.Model):
    """One file uploaded on the admin import page: who, when, what came of it.

    The import itself runs in a background thread (ctgov/importer.py: start_job) inside one database
    transaction, so its progress cannot be read from the database while it runs: the thread reports it to
    the cache, and the page polls it. The summary is written to the row once the transaction is over.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Nothing imported"

    # An import still running this long after it started is taken to have died with its process (a
    # restart, a deploy): its transaction was rolled back, so nothing of it was saved.
    STALE_AFTER = timedelta(hours=1)

    file_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0, help_text="bytes")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(default=dict, blank=True, help_text="ctgov/importer.py: ImportSummary")

    class Meta:
        # Made in the trials app, whose table it keeps (ctgov/migrations/0001_initial.py).
        db_table = "trials_importjob"
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def _progress_key(self) -> str:
        return f"trials:import-job:{self.pk}"

    def report_progress(self, done: int, total: int) -> None:
        cache.set(self._progress_key, (done, total), timeout=int(self.STALE_AFTER.total_seconds()))

    def progress(self) -> tuple[int, int] | None:
        """(studies done, studies in the file) while running; None before the file is read, or when this
        process's cache cannot see the importing process (several web processes without a shared cache)."""
        if self.finished:
            return None
        value = cache.get(self._progress_key)
        return tuple(value) if value else None

    def finish(self, summary: dict) -> None:
        self.status = self.Status.FAILED if summary.get("errors") else self.Status.DONE
        self.summary = summary
        self.finished_at = timezone.now()
        self.save(update_fields=["status", "summary", "finished_at"])
        cache.delete(self._progress_key)

    @property
    def stopped(self) -> bool:
        return not self.finished and timezone.now() - self.started_at > self.STALE_AFTER

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or timezone.now()
        return max((end - self.started_at).total_seconds(), 0.0)
