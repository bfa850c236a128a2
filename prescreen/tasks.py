"""The project's own task: a health check that a worker is taking tasks (and what the tests of real workers run)."""

from django_tasks import task


@task()
def ping(value: str = "pong") -> str:
    """Returns `value`: a result read back proves that a worker took the task from the queue and ran it."""
    return value
