"""Enqueueing on commit (trials/background.py): a task is enqueued only once the transaction that asked for it
commits, so a rolled-back change enqueues nothing and a worker never looks for rows that are not there."""

import pytest
from django.db import transaction
from django_tasks.signals import task_finished

from prescreen.tasks import ping
from trials.background import enqueue_on_commit


class Rollback(Exception):
    pass


@pytest.mark.django_db
def test_a_committed_transaction_enqueues_its_task(enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_on_commit(ping, "hello")
            assert enqueued == []  # not yet: the transaction is still open
    assert [(r.task.name, r.args, r.status) for r in enqueued] == [("ping", ["hello"], "READY")]


@pytest.mark.django_db
def test_a_rolled_back_transaction_enqueues_nothing(enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Rollback):
            with transaction.atomic():
                enqueue_on_commit(ping, "never")
                raise Rollback
    assert callbacks == [] and enqueued == []


@pytest.mark.django_db
def test_with_the_immediate_backend_the_task_runs_on_commit(django_capture_on_commit_callbacks):
    finished = []

    def record(sender, task_result, **kwargs):
        finished.append((task_result.task.name, task_result.status, task_result.return_value))

    task_finished.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(ping, "now")
            assert finished == []
    finally:
        task_finished.disconnect(record)
    assert finished == [("ping", "SUCCESSFUL", "now")]  # the immediate backend: the tests' default (conftest.py)
