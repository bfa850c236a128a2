"""Enqueueing background work (Django's Tasks API, via the django-tasks backport).

Every task is enqueued only once the transaction that asked for it commits: a rolled-back change enqueues
nothing, and a worker never reads rows that are not there yet. Tasks themselves must be idempotent (safe
to run twice), since a worker may die after doing the work and before recording it.
"""

from __future__ import annotations

from django.db import transaction


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue `task(*args, **kwargs)` when the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs), robust=False)
