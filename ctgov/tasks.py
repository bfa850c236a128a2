"""Background work of the ctgov app, run by a task worker (`manage.py worker`)."""

from django_tasks import task

from . import importer


@task()
def run_import(job_id: int) -> str:
    """Import the file of ImportJob `job_id` (an admin upload). Safe to run twice: see importer.run_job."""
    return importer.run_job(job_id)
