"""Importing ClinicalTrials.gov records: the database half of the ctgov package.

One transaction per file: a file with any problem (not JSON, wrong shape, a study without an NCT id)
imports nothing and is reported by name; the other files still import. Every record of a file is read before
its transaction opens, so the transaction only writes. An admin upload is an ImportJob run by a task worker
(ctgov/tasks.py: run_import, which calls run_job here).

Trials are matched by NCT id. On re-import a criterion whose kind, source and text did not change
keeps its curated rule and status; changed and new criteria arrive with a draft or no rule; removed
ones are deleted. Saves and deletes go through the model, so history rows are written and the
criteria_version bumps. A record that changed nothing writes nothing.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from simple_history.utils import bulk_create_with_history

from trials.models import Criterion, Trial, catalogue

from . import archives
from .models import ImportJob
from .studies import APPROVED, DRAFT, CriterionRow, TrialRecord, trial_record

CHANGE_REASON = "Imported from ClinicalTrials.gov"
PROGRESS_EVERY = 100  # the command prints a progress line every this many studies
CHUNK = 200  # records matched to existing trials at a time

log = logging.getLogger(__name__)


@dataclass
class ImportSummary:
    files: int = 0
    studies: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    criteria: int = 0  # criteria in the imported records
    drafts_made: int = 0  # draft rules written by this import
    needs_review: int = 0  # criteria of the imported trials with no rule
    awaiting_approval: int = 0  # criteria of the imported trials with a draft rule
    errors: list[str] = field(default_factory=list)  # "path: problem", one per failed file

    def add(self, other: ImportSummary) -> None:
        for name in (
            "files",
            "studies",
            "created",
            "updated",
            "unchanged",
            "criteria",
            "drafts_made",
            "needs_review",
            "awaiting_approval",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    def lines(self) -> list[str]:
        return [
            f"Trials: {self.created} created, {self.updated} updated, {self.unchanged} unchanged "
            f"({self.studies} studies from {self.files} file{'s' if self.files != 1 else ''}).",
            f"Criteria: {self.criteria} found, {self.drafts_made} draft rules made; "
            f"{self.needs_review} need review (no rule), {self.awaiting_approval} drafts await approval.",
            *(f"Not imported: {error}" for error in self.errors),
        ]


def import_paths(
    paths: Iterable[str | Path], user=None, progress: Callable[[Path, int, int], None] | None = None
) -> ImportSummary:
    """Import every study file in `paths` (files, or folders of them: see archives.study_files)."""
    summary = ImportSummary()
    for path in archives.study_files(paths):
        summary.add(import_file(path, user=user, progress=progress))
    return summary


def import_file(path: str | Path, user=None, progress: Callable[[Path, int, int], None] | None = None) -> ImportSummary:
    """Import one file in one transaction."""
    path = Path(path)
    return _import(
        str(path),
        lambda: archives.read_studies(path),
        user,
        lambda done, total: progress and progress(path, done, total),
    )


def import_bytes(
    name: str,
    raw: bytes,
    user=None,
    progress: Callable[[int, int], None] | None = None,
    saving: Callable[[int], None] | None = None,
    saved: Callable[[int, int], None] | None = None,
    finish: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import the content of an uploaded file in one transaction; errors name the file. `progress(done, total)` is
    called as records are read, `saving(studies)` before the transaction opens, `saved(done, total)` as records are
    written in it, and `finish(summary)` in it after the last write (see run_job)."""
    return _import(
        name, lambda: archives.parse_studies(raw), user, progress or (lambda done, total: None), saving, saved, finish
    )


def run_job(job_id: int) -> str:
    """Import an admin upload (the body of the task ctgov.tasks.run_import); returns what became of the job.

    Idempotent: a finished job is left alone, and so is one another worker holds (a duplicate delivery). The job
    is finished in the import's own transaction, so a job that is not finished has imported nothing: if its worker
    dies, the transaction is rolled back with it and the page says so once the lease runs out.
    """
    job = ImportJob.claim(job_id)
    if job is None:
        return "skipped"
    try:
        with job.file.open("rb") as upload:
            raw = upload.read()
    except (OSError, ValueError) as exc:  # ValueError: no file on the row
        log.warning("Import job %s: its file %r cannot be read: %s", job.pk, job.file.name, exc)
        summary = ImportSummary(
            errors=[
                f"{job.file_name}: the uploaded file could not be read by the worker ({exc.__class__.__name__}). "
                "With workers on several machines MEDIA_ROOT must be storage they share."
            ]
        )
    else:
        try:
            summary = import_bytes(
                job.file_name,
                raw,
                user=job.started_by,
                progress=job.beat,
                saving=job.saving,
                saved=job.saved,
                finish=job.finish,
            )
        except ImportJob.Superseded:
            log.warning("Import job %s: attempt %s was retried by another worker meanwhile", job.pk, job.attempts)
            return "superseded"
        except Exception:  # a bug, not bad input: the transaction was rolled back; say so rather than hang
            log.exception("Import job %s (%s) failed", job.pk, job.file_name)
            summary = ImportSummary(
                errors=[
                    f"{job.file_name}: the import stopped on an unexpected error, which was "
                    "logged for the maintainers; nothing from this file was imported."
                ]
            )
        finally:
            job.close()
    if summary.errors:  # rolled back (or never written): the failure is recorded on its own
        job.finish(summary)
    return job.status


def _import(
    name: str,
    load: Callable[[], list[dict]],
    user,
    progress: Callable[[int, int], None],
    saving: Callable[[int], None] | None = None,
    saved: Callable[[int, int], None] | None = None,
    finish: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    try:
        studies = load()
        # Every record is read (split, drafted, checked) before the transaction: a bad study stops the file before
        # anything is written, and the transaction, during which a worker on SQLite cannot report, only writes.
        progress(0, len(studies))
        questions = catalogue()
        records = []
        for index, study in enumerate(studies, start=1):
            records.append(trial_record(study, questions, index=index))
            progress(index, len(studies))
        if saving:
            saving(len(records))
        with transaction.atomic():
            summary = _import_records(records, user, saved or (lambda done, total: None))
            summary.files = 1
            if finish:
                finish(summary)
    except archives.ReadError as exc:
        return ImportSummary(errors=[f"{name}: {exc}"])
    except ValidationError as exc:
        return ImportSummary(errors=[f"{name}: {'; '.join(exc.messages)}"])
    except DatabaseError as exc:  # e.g. a value the database refuses; the whole file is rolled back
        return ImportSummary(errors=[f"{name}: the database refused it ({exc})"])
    return summary


def _import_records(records: list[TrialRecord], user, saved: Callable[[int, int], None]) -> ImportSummary:
    existing: dict[str, Trial] = {}
    summary = ImportSummary(studies=len(records))
    done = 0
    # In chunks: the trials of a chunk are read in one query.
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        wanted = {r.nct_id for r in chunk} - existing.keys()
        for trial in Trial.objects.filter(nct_id__in=wanted).prefetch_related("criteria"):
            existing[trial.nct_id] = trial
        for record in chunk:
            trial = existing.get(record.nct_id)
            if trial is None:
                trial = _create(record, user, summary)
                existing[record.nct_id] = trial  # the same NCT id twice in one file updates the first
            else:
                _update(trial, record, user, summary)
                getattr(trial, "_prefetched_objects_cache", {}).pop("criteria", None)  # in case the NCT id comes again
            done += 1
            saved(done, len(records))
    return summary


def _history(obj, user):
    obj._change_reason = CHANGE_REASON
    if user is not None:
        obj._history_user = user
    return obj


def _create(record: TrialRecord, user, summary: ImportSummary) -> Trial:
    # A site opts in to screening for a trial; an import only makes it known.
    trial = _history(Trial(nct_id=record.nct_id, open_for_screening=False, **record.fields), user)
    trial.full_clean(validate_unique=False)
    trial.save()
    rows = [_criterion(trial, row, order) for order, row in enumerate(record.criteria, start=1)]
    # In bulk for speed: no post_save signal, which is fine for a new trial (its version starts at 1
    # and nothing can have cached its rules yet); history rows are still written.
    bulk_create_with_history(rows, Criterion, default_user=user, default_change_reason=CHANGE_REASON)
    trial.start_criteria_history()
    summary.created += 1
    _count(summary, record.criteria, written=record.criteria)
    return trial


def _update(trial: Trial, record: TrialRecord, user, summary: ImportSummary) -> None:
    changed = [name for name, value in record.fields.items() if getattr(trial, name) != value]
    if changed:
        for name in changed:
            setattr(trial, name, record.fields[name])
        trial.full_clean(validate_unique=False)
        # Only the changed fields: criteria_version is bumped in the database by criterion signals and
        # this instance's copy may be stale.
        _history(trial, user).save(update_fields=[*changed, "updated_at"])

    # Match by (source, kind, words); repeats of the same text are matched in order.
    pool: dict[tuple, list[Criterion]] = defaultdict(list)
    for criterion in sorted(trial.criteria.all(), key=lambda c: (c.order, c.pk)):
        pool[(criterion.source, criterion.kind, same_words(criterion.text))].append(criterion)
    kept: list[CriterionRow] = []
    written: list[CriterionRow] = []
    for order, row in enumerate(record.criteria, start=1):
        matches = pool[(row.source, row.kind, same_words(row.text))]
        if matches:
            criterion = matches.pop(0)
            kept.append(CriterionRow(row.kind, row.text, row.source, criterion.rule, criterion.rule_status))
            fields = []
            if criterion.order != order:
                criterion.order = order
                fields.append("order")
            if criterion.text != row.text:  # the same words written differently: keep the curated rule
                criterion.text = row.text
                fields.append("text")
            if fields:
                _history(criterion, user).save(update_fields=fields)
                changed += fields
        else:
            _history(_criterion(trial, row, order), user).save()
            written.append(row)
    removed = [c for leftovers in pool.values() for c in leftovers]
    for criterion in removed:
        _history(criterion, user).delete()

    if changed or written or removed:
        summary.updated += 1
    else:
        summary.unchanged += 1
    _count(summary, kept + written, written=written)


_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def same_words(text: str) -> str:
    """A criterion's text for matching on re-import: markdown escapes and spacing do not count.

    API v2 escapes markdown ("BMI \\> 30", "8\\."); legacy XML has none, and the registry re-wraps text
    between versions. A criterion whose words are the same keeps its curated rule.
    """
    return " ".join(_ESCAPE.sub(r"\1", text).split())


def _criterion(trial: Trial, row: CriterionRow, order: int) -> Criterion:
    return Criterion(
        trial=trial,
        kind=row.kind,
        order=order,
        text=row.text,
        source=row.source,
        rule=row.rule,
        rule_status=row.rule_status,
    )


def _count(summary: ImportSummary, rows: list[CriterionRow], written: list[CriterionRow]) -> None:
    summary.criteria += len(rows)
    summary.drafts_made += sum(1 for row in written if row.rule is not None and row.rule_status == DRAFT)
    summary.needs_review += sum(1 for row in rows if row.rule is None)
    summary.awaiting_approval += sum(1 for row in rows if row.rule is not None and row.rule_status != APPROVED)
