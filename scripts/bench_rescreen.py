"""Benchmark: re-screening stored screenings when a trial's criteria change, on PostgreSQL, with real workers.

Not a test. Builds a database (the two seed trials plus imported ClinicalTrials.gov trials), generates N stored
screenings with varied answers (bulk inserts: each includes both seed trials and a few imported ones) and their
current results, then changes the BMI limit of the seed trial NCT01219465 through the real code path (a
criterion saved in a transaction: the signal enqueues the re-screen on commit) and times, from the commit until
the RescreenRun is done:

    1 worker    one `manage.py db_worker` process (the database task backend)
    2 workers   two of them (another change, back to the first limit: the same rows change back)
    inline      the same re-screen in this process, chunk after chunk (`manage.py rescreen --trial`): the baseline

and prints seconds, rows written (only changed results are written), the speed-up of two workers over one, and
the rows a second run of the same version writes (none: it is idempotent).

    .venv/bin/python scripts/bench_rescreen.py [--screenings 100000] [--trials 1000] [--per-screening 2]

The database is DATABASE_URL if set, else a fresh `prescreen_cr_bench_<pid>` on 127.0.0.1:5432 (user postgres),
dropped at the end. Workers are always stopped at the end, also on errors and Ctrl-C. Workers and this process
share the machine's cores: compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANGED = "NCT01219465"
BMI_TEXT = "Body Mass Index >30."
LIMITS = (27, 30, 27)  # the BMI limit set before each timed re-screen: 1 worker, 2 workers, inline


# The setup helpers the web benchmark already has (this script's folder is on sys.path when it runs).
from bench_web import PG, first_studies, log, manage, pg_connect  # noqa: E402

# --------------------------------------------------------------------------------------------
# Data: runs in this process once the database exists (Django configured then).


def answers_for(rng: random.Random, today, booleans: list[str]) -> dict:
    """One patient's canonical answers, varied: ages 2–60, BMI about 13–45, diagnoses up to three years ago,
    rare exclusions, and about one answer in ten left blank."""
    birth = today - timedelta(days=rng.randint(2 * 365, 60 * 365))
    height = rng.randint(95, 195)
    answers = {
        "date_of_birth": birth.isoformat(),
        "sex": rng.choice(("female", "male")),
        "t1d_diagnosis": rng.random() < 0.9,
        "t1d_diagnosis_date": (today - timedelta(days=rng.randint(1, 3 * 365))).isoformat(),
        "height": height,
        "weight": round((height / 100) ** 2 * rng.uniform(13, 45), 1),
        "hba1c": round(rng.uniform(5, 12), 1),
    }
    for code in booleans:
        answers[code] = rng.random() < 0.05
    return {k: v for k, v in answers.items() if rng.random() > 0.1 or k in ("height", "weight")}


def generate(n: int, per_screening: int, seed: int = 11) -> dict:
    """N saved screenings with their current results, in bulk (as if each had been saved today)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from eligibility import current
    from eligibility.answers import parse_answers
    from screening.models import CurrentResult, Screening
    from trials.models import Question, Trial, screening_data

    rng = random.Random(seed)
    today = timezone.localdate()
    clinician = get_user_model().objects.create_user("bench-clinician")
    booleans = [
        q.code
        for q in Question.objects.filter(type="boolean")
        if q.code not in ("t1d_diagnosis", "consent_possible", "immune_gene_mutation")
    ]
    seeds = list(Trial.objects.filter(nct_id__in=[CHANGED, "NCT03835312"]))
    imported = list(Trial.objects.exclude(pk__in=[t.pk for t in seeds]))
    started = time.monotonic()
    screenings = Screening.objects.bulk_create(
        (
            Screening(
                patient_ref=f"B-{i:06d}",
                clinician=clinician,
                answers={**answers_for(rng, today, booleans), "consent_possible": True, "immune_gene_mutation": True},
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    Through = Screening.trials.through
    pairs = []
    for s in screenings:
        chosen = seeds + (rng.sample(imported, per_screening) if imported and per_screening else [])
        pairs += [(s, t) for t in chosen]
    Through.objects.bulk_create((Through(screening=s, trial=t) for s, t in pairs), batch_size=10000)
    log(f"  {n:,} screenings, {len(pairs):,} screening × trial pairs: {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    data = screening_data()
    typed = {s.pk: parse_answers(s.answers, data.questions, None)[0] for s in screenings}
    by_trial: dict = {}
    for s, t in pairs:
        by_trial.setdefault(t, []).append(s)
    now = timezone.now()
    rows = []
    for trial, members in by_trial.items():
        rules = data.trials[trial.nct_id]
        for s, result in zip(members, current.rescreen(rules, [typed[s.pk] for s in members], today, data.questions)):
            row = CurrentResult(screening=s, trial=trial, saved_verdict=result.verdict)
            row.apply(result, rules.version, today, now)
            rows.append(row)
    log(f"  current results computed: {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    CurrentResult.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"  {len(rows):,} current results written: {time.monotonic() - started:.1f} s")
    return {"screenings": n, "pairs": len(pairs)}


def change_bmi_limit(limit: float) -> float:
    """Save NCT01219465's BMI exclusion with a new limit, as the admin does; returns the time of the commit."""
    from django.db import transaction

    from trials.models import Criterion

    with transaction.atomic():
        bmi = Criterion.objects.get(trial__nct_id=CHANGED, text=BMI_TEXT)
        bmi.rule = {"q": "bmi", "op": ">", "value": limit, "unit": "kg/m²"}
        bmi.save()
    return time.monotonic()


def warm_up():
    """Save (unchanged) a criterion of an imported trial that stored screenings include: its re-screen is small."""
    from django.db import transaction

    from screening.models import CurrentResult
    from trials.models import Criterion, Trial

    row = CurrentResult.objects.exclude(trial__nct_id__in=[CHANGED, "NCT03835312"]).values("trial_id").first()
    criterion = Criterion.objects.filter(trial_id=row["trial_id"]).first() if row else None
    if criterion is None:
        return None
    with transaction.atomic():
        criterion.save()
    committed = time.monotonic()
    trial = Trial.objects.get(pk=criterion.trial_id)
    return trial.criteria_version, committed, trial.nct_id


def wait_for_run(version: int, committed: float, timeout: float, trial: str = CHANGED) -> tuple[float, object]:
    from screening.models import RescreenRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = RescreenRun.objects.filter(trial__nct_id=trial, criteria_version=version, trigger="criteria").first()
        if run is not None and run.status != RescreenRun.Status.RUNNING:
            return time.monotonic() - committed, run
        time.sleep(0.05)
    raise TimeoutError(f"the re-screen of version {version} did not finish in {timeout:.0f} s")


def timed_with_workers(env: dict, workers: int, limit: float, timeout: float) -> tuple[float, object]:
    from trials.models import Trial

    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.05", "-v", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    try:
        # Warm the workers as a running site's are (Django set up, the trials' rules read): a small re-screen of
        # an imported trial first, untimed.
        warm = warm_up()
        if warm is not None:
            wait_for_run(warm[0], warm[1], timeout, trial=warm[2])
        committed = change_bmi_limit(limit)
        version = Trial.objects.get(nct_id=CHANGED).criteria_version
        return wait_for_run(version, committed, timeout)
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def timed_inline(limit: float) -> tuple[float, object, object]:
    from django_tasks_db.models import DBTaskResult

    from screening import rescreen
    from screening.models import RescreenRun
    from trials.models import Trial

    change_bmi_limit(limit)
    DBTaskResult.objects.all().delete()  # no worker runs now: the queued request is not needed
    trial = Trial.objects.get(nct_id=CHANGED)
    started = time.monotonic()
    run = rescreen.run_inline(rescreen.start(RescreenRun.Trigger.COMMAND, trial=trial))
    seconds = time.monotonic() - started
    again = rescreen.run_inline(rescreen.start(RescreenRun.Trigger.COMMAND, trial=trial))
    return seconds, run, again


# --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screenings", type=int, default=100_000, help="stored screenings (default 100,000)")
    parser.add_argument("--trials", type=int, default=1000, help="imported trials besides the seed (default 1,000)")
    parser.add_argument(
        "--per-screening", type=int, default=2, help="imported trials each screening includes (default 2)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for a re-screen")
    return parser.parse_args(argv)


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    shared = Path(os.environ.get("PRESCREEN_SHARED_DIR", ROOT.parent / "shared"))
    broad = shared / "data" / "ctgov" / "ctgov_v2_broad.json.gz"
    if args.trials > 0 and not broad.is_file():
        log(f"{broad} not found: set PRESCREEN_SHARED_DIR to the folder holding data/ctgov (or use --trials 0)")
        return 2
    own_db = None
    tmp = tempfile.TemporaryDirectory(prefix="bench_rescreen_")
    try:
        if os.environ.get("DATABASE_URL"):
            database_url = os.environ["DATABASE_URL"]
            log("Database: DATABASE_URL")
        else:
            own_db = f"prescreen_cr_bench_{os.getpid()}"
            with pg_connect() as conn:
                conn.execute(f'CREATE DATABASE "{own_db}"')
            database_url = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{own_db}"
            log(f"Database: {own_db} (dropped at the end)")
        env = os.environ | {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "prescreen.settings",
            "TASKS_BACKEND": "database",
            "PYTHONPATH": str(ROOT),
        }
        log("Setup:")
        manage(env, "migrate", "--noinput")
        manage(env, "load_seed_trials")
        if args.trials > 0:
            manage(env, "import_ctgov", str(first_studies(broad, args.trials, Path(tmp.name))))
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "TASKS_BACKEND")})
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from trials.models import Trial

        made = generate(args.screenings, args.per_screening)
        log(
            f"Stored: {made['screenings']:,} screenings, {made['pairs']:,} current results, {Trial.objects.count()} trials"
        )

        results = []
        for workers, limit in ((1, LIMITS[0]), (2, LIMITS[1])):
            log(f"Re-screen with {workers} worker{'s' if workers > 1 else ''} (BMI limit → {limit}):")
            seconds, run = timed_with_workers(env, workers, limit, args.timeout)
            log(f"  {seconds:.2f} s, {run.screenings_checked:,} checked, {run.rows_changed:,} written ({run.status})")
            results.append((workers, seconds, run))
        log(f"Re-screen inline (BMI limit → {LIMITS[2]}):")
        inline_seconds, inline_run, again = timed_inline(LIMITS[2])

        print(f"\nRe-screening {CHANGED} (its BMI limit changed) across {made['screenings']:,} stored screenings")
        print(
            f"({made['pairs']:,} current results in all, {Trial.objects.count():,} trials), PostgreSQL, {os.cpu_count()} cores"
        )
        print(f"{'':12} {'seconds':>9} {'checked':>9} {'written':>9}  status")
        for workers, seconds, run in results:
            label = f"{workers} worker{'s' if workers > 1 else ''}"
            print(f"{label:12} {seconds:9.2f} {run.screenings_checked:9,} {run.rows_changed:9,}  {run.status}")
        print(
            f"{'inline':12} {inline_seconds:9.2f} {inline_run.screenings_checked:9,} {inline_run.rows_changed:9,}  {inline_run.status}"
        )
        (_, one, _), (_, two, _) = results
        print(f"speed-up with 2 workers: {one / two:.2f}×; 1 worker vs inline: {inline_seconds / one:.2f}×")
        print(f"a second run of the same version wrote {again.rows_changed} rows (idempotent)")
        failed = [r for _, _, r in results if r.status != "done"] + (
            [inline_run] if inline_run.status != "done" else []
        )
        return 1 if failed else 0
    finally:
        if own_db:
            if "django.db" in sys.modules and os.environ.get("DJANGO_SETTINGS_MODULE"):
                from django.db import connections

                connections.close_all()
            with pg_connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{own_db}" WITH (FORCE)')
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
