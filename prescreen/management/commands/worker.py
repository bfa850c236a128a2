"""`manage.py worker`: one task worker for whichever backend TASKS_BACKEND chose, so docs and deployments use
one command. database: django-tasks-db's `db_worker`; rq: django-rq's `rqworker` with django-tasks-rq's job class.
Run as many as needed, on any machine that reaches the database (and Redis, for rq)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from screening.tasks import schedule_daily


class Command(BaseCommand):
    help = "Run a task worker for the configured TASKS_BACKEND (database: db_worker; rq: an RQ worker)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Restart when the code changes (database backend only; `make run` uses it in development).",
        )
        parser.add_argument(
            "--burst", action="store_true", help="Run the tasks waiting now, then exit (e.g. from cron or a test)."
        )

    def handle(self, *args, reload=False, burst=False, **options):
        backend = settings.TASKS_BACKEND
        queues = list(settings.TASK_QUEUES)
        if backend in ("database", "rq") and not burst:
            # The daily re-screen of what time changes (lapsed windows, birthdays) re-schedules itself once a
            # day; a worker starting makes sure one is scheduled (idempotent: several workers schedule one).
            try:
                if schedule_daily():
                    self.stdout.write("Scheduled the daily re-screen.")
            except DatabaseError as exc:
                # Tasks that need no table still run; say what is missing rather than refuse to start.
                self.stderr.write(f"The daily re-screen is not scheduled ({exc}): run `manage.py migrate`.")
        if backend == "database":
            args = ["--queue-name", ",".join(queues), "--reload" if reload else "--no-reload"]
            call_command("db_worker", *args, *(["--batch"] if burst else []))
        elif backend == "rq":
            # django-tasks-rq's job class runs a task as Django's Tasks API would (status, result, errors).
            # --with-scheduler moves deferred tasks (run_after, e.g. the daily re-screen) onto the queue when due.
            call_command(
                "rqworker",
                "--job-class",
                "django_tasks_rq.Job",
                "--with-scheduler",
                *(["--burst"] if burst else []),
                *queues,
            )
        else:
            raise CommandError(
                f"TASKS_BACKEND={backend} runs each task in the process that enqueues it: there is no worker to run."
            )
