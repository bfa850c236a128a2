"""Background re-screening (Django's Tasks API, django-tasks): when criteria change, and daily as time passes.

Every task takes ids, is enqueued with trials.background.enqueue_on_commit and is idempotent: a chunk run twice
writes nothing the second time, a criteria change already being re-screened is not started again, and
scheduling the daily run twice schedules it once.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from trials.background import enqueue_on_commit
from trials.models import Trial

from . import rescreen
from .models import DailySchedule, RescreenRun

DAILY_AT = time(0, 5)  # local time: just after midnight, when dates move on


@task()
def rescreen_trial(trial_id: int, version: int) -> None:
    """Re-screen every stored screening that includes the trial, for its criteria `version`, in chunks."""
    trial = Trial.objects.filter(pk=trial_id).first()
    if trial is None or trial.criteria_version != version:
        return  # deleted, or changed again since: the later change enqueued its own re-screen
    try:
        with transaction.atomic():
            run = rescreen.start(RescreenRun.Trigger.CRITERIA, trial=trial)
            _enqueue_chunks(run)
    except IntegrityError:
        return  # this version is already being re-screened (a duplicate request)


@task()
def rescreen_chunk(run_id: int, first: int, last: int) -> None:
    rescreen.run_chunk(run_id, first, last)


@task()
def rescreen_due() -> None:
    """Re-screen the results time may have changed (a window closed, a birthday), then schedule tomorrow's run."""
    with transaction.atomic():
        run = rescreen.start(RescreenRun.Trigger.DAILY, due=True)
        _enqueue_chunks(run)
    _schedule(next_daily(timezone.localtime()), force=True)


def _enqueue_chunks(run: RescreenRun) -> None:
    for first, last in run.ranges:
        enqueue_on_commit(rescreen_chunk, run.pk, first, last)


def next_daily(now: datetime) -> datetime:
    """The next DAILY_AT after `now` (aware, local time)."""
    candidate = timezone.make_aware(datetime.combine(now.date(), DAILY_AT), timezone.get_current_timezone())
    return candidate if candidate > now else candidate + timedelta(days=1)


def schedule_daily() -> bool:
    """Make sure the daily re-screen is scheduled (the worker launcher calls this at start); idempotent: returns
    False when a run is already scheduled. A backend that cannot defer tasks (immediate) schedules nothing."""
    return _schedule(next_daily(timezone.localtime()), force=False)


def _schedule(when: datetime, *, force: bool) -> bool:
    if not rescreen_due.get_backend().supports_defer:
        return False
    with transaction.atomic():
        row, _ = DailySchedule.objects.select_for_update().get_or_create(pk=1)
        if not force and row.next_run_at is not None and row.next_run_at > timezone.now():
            return False
        row.next_run_at = when
        row.save()
        enqueue_on_commit(rescreen_due.using(run_after=when))
    return True
