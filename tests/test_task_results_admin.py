"""Failed tasks are visible to superusers: django-tasks-db's task results in the admin, with the traceback."""

import pytest
from django_tasks import task
from django_tasks_db.models import DBTaskResult

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@task()
def breaks(reason: str) -> None:
    raise ValueError(reason)


@pytest.mark.django_db
def test_a_superuser_finds_a_failed_task_with_its_traceback_from_the_admin_index(client, settings):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", password="pw-root-long-enough"))
    settings.TASKS = DATABASE_TASKS
    result = breaks.enqueue("the file was not there")
    # What db_worker does with a task (tests/test_workers.py runs the real one, whose loop closes connections and so
    # cannot run inside a test's transaction): claim it, call it, record the outcome.
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("test-worker")
    with pytest.raises(ValueError) as raised:
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    row.set_failed(raised.value)
    row.refresh_from_db()
    assert row.status == "FAILED"

    index = client.get("/admin/").content.decode()
    assert "/admin/django_tasks_database/dbtaskresult/" in index
    listing = client.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED").content.decode()
    assert "breaks" in listing and "FAILED" in listing
    detail = client.get(f"/admin/django_tasks_database/dbtaskresult/{row.pk}/change/").content.decode()
    assert "ValueError: the file was not there" in detail and "<pre>" in detail
