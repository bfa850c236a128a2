"""Real workers in their own processes: `manage.py worker` on the database backend and on RQ, and `make run`'s
launcher (scripts/run.py), each taking a task that another process enqueued and running it to the end.

The database is the suite's kind: a temporary SQLite file, or a fresh PostgreSQL database when DATABASE_URL
points at PostgreSQL, migrated by a subprocess. The RQ test needs REDIS_URL (it uses database 14 of that server);
it skips without it locally and fails without it in CI. Every wait is bounded, and every process started here is
killed (with its process group) whatever happens.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import IN_CI
from tests.factories import TWO_STUDIES

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # seconds, the bound on every wait here

# Enqueues prescreen.tasks.ping in this process (not the worker's), then reads its result back from the backend.
ENQUEUE_AND_WAIT = """
import sys, time
import django
django.setup()
from prescreen.tasks import ping
result = ping.enqueue(sys.argv[1])
deadline = time.monotonic() + float(sys.argv[2])
while not result.is_finished and time.monotonic() < deadline:
    time.sleep(0.2)
    result.refresh()
print(result.status, result.return_value if result.is_finished and result.status == "SUCCESSFUL" else result.errors)
"""


def environment(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("TASKS_BACKEND", "DJANGO_SETTINGS_MODULE")}
    return {**env, "DJANGO_SETTINGS_MODULE": "prescreen.settings", "DEBUG": "1", **extra}


def manage(env, *args, timeout=WAIT):
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@contextmanager
def started(command, env):
    """A process in its own group, killed with everything it started on the way out."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, process_group=0
    )
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=WAIT)
        process.stdout.close()


def ping_through_a_worker(env, value) -> str:
    """Enqueue ping(value) from a separate process and wait for its result: "SUCCESSFUL value" once a worker ran it."""
    done = subprocess.run(
        [sys.executable, "-c", ENQUEUE_AND_WAIT, value, str(WAIT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT + 30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """A migrated database of the suite's kind that the processes started here share."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"prescreen_tasks_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(url)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(parts._replace(path=f"/{name}"))
        try:
            manage(environment(DATABASE_URL=url), "migrate", "--noinput", timeout=300)
            yield url
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('workers') / 'db.sqlite3'}"
        manage(environment(DATABASE_URL=url), "migrate", "--noinput", timeout=300)
        yield url


def test_a_database_worker_runs_a_task_another_process_enqueued(database_url):
    env = environment(DATABASE_URL=database_url, TASKS_BACKEND="database")
    with started([sys.executable, "manage.py", "worker"], env) as worker:
        value = f"db-{uuid.uuid4().hex}"
        assert ping_through_a_worker(env, value) == f"SUCCESSFUL {value}"
        assert worker.poll() is None  # still waiting for the next task


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        if IN_CI:
            pytest.fail("REDIS_URL is not set in CI")
        pytest.skip("REDIS_URL is not set: the RQ worker test needs a Redis server")
    return urlunsplit(urlsplit(url)._replace(path="/14"))  # its own database on that server


def test_an_rq_worker_runs_a_task_another_process_enqueued(redis_url, tmp_path):
    # The ping task touches no table; the database is a file of its own so that nothing else's is opened.
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", TASKS_BACKEND="rq", REDIS_URL=redis_url)
    with started([sys.executable, "manage.py", "worker"], env) as worker:
        value = f"rq-{uuid.uuid4().hex}"
        assert ping_through_a_worker(env, value) == f"SUCCESSFUL {value}"
        assert worker.poll() is None


# An admin upload as the import page makes it (a stored file, the job row, the task enqueued on commit), then the
# job's row read back until a worker has finished it.
IMPORT_THROUGH_A_WORKER = """
import sys, time
from pathlib import Path
import django
django.setup()
from django.core.files.base import ContentFile
from django.db import transaction
from ctgov.models import ImportJob
from ctgov.tasks import run_import
from trials.background import enqueue_on_commit
raw = Path(sys.argv[1]).read_bytes()
with transaction.atomic():
    job = ImportJob.objects.create(file_name="two.json", size=len(raw), file=ContentFile(raw, name="two.json"))
    enqueue_on_commit(run_import, job.pk)
stored = Path(job.file.path)
deadline = time.monotonic() + float(sys.argv[2])
while not job.finished and time.monotonic() < deadline:
    time.sleep(0.2)
    job.refresh_from_db()
print(job.status, job.summary.get("created"), job.summary.get("errors"), stored.exists())
"""


def test_a_database_worker_imports_an_upload_stored_by_another_process(database_url, tmp_path):
    env = environment(DATABASE_URL=database_url, TASKS_BACKEND="database", MEDIA_ROOT=str(tmp_path / "media"))
    with started([sys.executable, "manage.py", "worker"], env):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_THROUGH_A_WORKER, str(TWO_STUDIES), str(WAIT)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT + 30,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done 2 [] False"  # imported, and the stored file deleted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url} in {WAIT} s")


def alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_starts_the_web_server_and_a_worker_and_ctrl_c_stops_both(database_url):
    env = environment(DATABASE_URL=database_url, TASKS_BACKEND="database")
    port = free_port()
    with started([sys.executable, "scripts/run.py", "--port", str(port), "--no-reload"], env) as run:
        first = run.stdout.readline()  # "run: web (pid 123), worker (pid 124); Ctrl-C stops both"
        pids = {name: int(pid) for name, pid in re.findall(r"(\w+) \(pid (\d+)\)", first)}
        assert set(pids) == {"web", "worker"}, first
        assert wait_for_http(f"http://127.0.0.1:{port}/login/") == 200
        assert "worker" in Path(f"/proc/{pids['worker']}/cmdline").read_text()
        value = f"run-{uuid.uuid4().hex}"
        assert ping_through_a_worker(env, value) == f"SUCCESSFUL {value}"  # the worker it started took it

        run.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process group's leader
        assert run.wait(timeout=WAIT) == 0
        assert not alive(pids["web"]) and not alive(pids["worker"])


def test_the_worker_command_says_why_there_is_no_worker_for_the_immediate_backend(settings):
    from django.core.management import CommandError, call_command

    settings.TASKS_BACKEND = "immediate"
    with pytest.raises(CommandError, match="runs each task in the process that enqueues it"):
        call_command("worker")
