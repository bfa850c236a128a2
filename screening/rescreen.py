"""Re-screening stored screenings: keeps each CurrentResult true when a trial's criteria change or time passes.

The work is split in chunks (ranges of ids) so that several workers share a large re-screen; each chunk reads
its rows and the saved answers in one query, screens them with the engine (eligibility.current) and writes only
the rows whose result changed, so running a chunk twice writes nothing the second time. The tasks
(screening.tasks) and `manage.py rescreen` both call these functions; only how chunks are run differs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from eligibility import contradictions, current
from eligibility.answers import parse_answers
from trials.models import Trial, screening_data

from .models import CurrentResult, RescreenRun

CHUNK = 2000  # current results per chunk: a few seconds of work, so several workers share a large re-screen
WRITE_BATCH = 1000  # rows per INSERT


def start(trigger: str, *, trial: Trial | None = None, due: bool = False, as_of: date | None = None) -> RescreenRun:
    """A new run and its chunks (not yet run): the current results of `trial`, the due ones, or all."""
    as_of = as_of or timezone.localdate()
    run = RescreenRun.objects.create(
        trigger=trigger,
        trial=trial,
        criteria_version=trial.criteria_version if trial else None,
        scope=RescreenRun.Scope.TRIAL if trial else RescreenRun.Scope.DUE if due else RescreenRun.Scope.ALL,
        as_of=as_of,
    )
    plan(run)
    return run


def plan(run: RescreenRun) -> list[tuple[int, int]]:
    """Split the run's rows into id ranges of about CHUNK rows; stores their number on the run."""
    if run.scope == RescreenRun.Scope.TRIAL:
        ids = CurrentResult.objects.filter(trial_id=run.trial_id).order_by("screening_id").values_list("screening_id")
    else:
        ids = _rows(run, None, None).order_by("pk").values_list("pk")
    ids = [i for (i,) in ids]
    ranges = [(ids[i], ids[min(i + CHUNK, len(ids)) - 1]) for i in range(0, len(ids), CHUNK)]
    run.chunks = len(ranges)
    if not ranges:
        run.status, run.finished_at = RescreenRun.Status.DONE, timezone.now()
    run.save(update_fields=["chunks", "status", "finished_at"])
    run.ranges = ranges
    return ranges


def _rows(run: RescreenRun, first: int | None, last: int | None):
    if run.scope == RescreenRun.Scope.TRIAL:
        rows = CurrentResult.objects.filter(trial_id=run.trial_id)
        return rows if first is None else rows.filter(screening_id__gte=first, screening_id__lte=last)
    rows = CurrentResult.objects.due(run.as_of) if run.scope == RescreenRun.Scope.DUE else CurrentResult.objects.all()
    return rows if first is None else rows.filter(pk__gte=first, pk__lte=last)


def run_chunk(run_id: int, first: int, last: int) -> int:
    """Re-screen one chunk of a run and add its counts to the run; returns the rows written. A failure is
    recorded on the run (status failed, the error) and raised again."""
    run = RescreenRun.objects.select_related("trial").get(pk=run_id)
    try:
        if run.trial_id and run.trial.criteria_version != run.criteria_version:
            checked, written = 0, 0  # the criteria changed again: that change's own run re-screens these rows
        else:
            checked, written = rescreen_rows(_rows(run, first, last), run.as_of)
    except Exception as exc:
        RescreenRun.objects.filter(pk=run_id).update(
            status=RescreenRun.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    RescreenRun.objects.filter(pk=run_id).update(
        chunks_done=F("chunks_done") + 1,
        screenings_checked=F("screenings_checked") + checked,
        rows_changed=F("rows_changed") + written,
    )
    RescreenRun.objects.filter(pk=run_id, status=RescreenRun.Status.RUNNING, chunks_done__gte=F("chunks")).update(
        status=RescreenRun.Status.DONE, finished_at=timezone.now()
    )
    return written


def rescreen_rows(rows, as_of: date) -> tuple[int, int]:
    """Re-screen the current results in `rows` (a queryset) on `as_of`; write those that changed.

    Returns (rows checked, rows written). One query reads the rows with their screening's saved answers; the
    changed ones are written in three queries. A row replaced meanwhile by a new save is left alone, since the
    save wrote a fresher result.
    """
    data = screening_data()
    # Plain dicts, not model instances: most rows do not change, and making 2,000 instances costs more than
    # screening them. A row becomes a model instance only to be written.
    rows = list(rows.values(*_FIELDS, "screening__answers", "trial__nct_id"))
    by_trial = defaultdict(list)
    for row in rows:
        by_trial[row["trial__nct_id"]].append(row)
    now = timezone.now()
    changed = []
    for nct_id, trial_rows in by_trial.items():
        rules = data.trials.get(nct_id)
        if rules is None:
            continue
        answers = [_typed(row["screening__answers"], data.questions, as_of) for row in trial_rows]
        for row, result in zip(trial_rows, current.rescreen(rules, answers, as_of, data.questions)):
            if not _same(row, result):
                instance = CurrentResult(**{name: row[name] for name in _FIELDS})
                instance.apply(result, rules.version, as_of, now)
                changed.append(instance)
    if changed:
        # Replaced in place (delete, then insert with the same ids) rather than bulk_update, whose CASE per field
        # and row costs seconds per thousand rows. Only rows still there are replaced: a row a save replaced
        # meanwhile holds a fresher result.
        with transaction.atomic():
            there = set(
                CurrentResult.objects.select_for_update()
                .filter(pk__in=[r.pk for r in changed])
                .values_list("pk", flat=True)
            )
            changed = [r for r in changed if r.pk in there]
            CurrentResult.objects.filter(pk__in=there).delete()
            CurrentResult.objects.bulk_create(changed, batch_size=WRITE_BATCH)
    return len(rows), len(changed)


# Every field of the row (changed rows are inserted again whole).
_FIELDS = tuple(f.attname for f in CurrentResult._meta.concrete_fields)


def _same(row: dict, result: current.Current) -> bool:
    """True when `result` would change nothing a reader sees in `row` (CurrentResult.same_as, on a dict)."""
    return all(
        row[name] == (list(v) if isinstance(v := getattr(result, name), tuple) else v) for name in CurrentResult.FIELDS
    )


def _typed(answers: dict, questions, as_of: date) -> dict:
    # Saved answers were valid when saved; one that no longer reads (a question since removed) is left out,
    # which makes its criteria unknown, never met. So are answers that contradict each other (saved before the
    # contradiction policy, or contradicting only now: a date of birth that gives an age over 120), as the
    # pipeline leaves them out.
    typed, _errors = parse_answers(answers, questions, None)
    return contradictions.resolve(typed, contradictions.find(typed, questions, as_of))


def run_inline(run: RescreenRun, progress=None) -> RescreenRun:
    """Run every chunk of a planned run here, in order (the command, tests, the benchmark's baseline)."""
    for done, (first, last) in enumerate(getattr(run, "ranges", None) or plan(run), start=1):
        run_chunk(run.pk, first, last)
        if progress:
            progress(done, run.chunks)
    run.refresh_from_db()
    return run
