"""Loading the seed questionnaire and trials that ship with the repository (trials/seed/*.json).

Idempotent: rows are only written when something differs, so a second run changes nothing and
does not bump any criteria_version.
"""

import json
from pathlib import Path

from django.db import transaction

from .fhir_seed import load_fhir_mappings
from .models import Criterion, Question, Trial
from .translation import TRANSLATED

SEED_DIR = Path(__file__).resolve().parent / "seed"
SEED_TRIALS = ("NCT01219465", "NCT03835312")


def _update(obj, values: dict) -> bool:
    changed = False
    for field, value in values.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


def _per_language(row: dict) -> dict:
    """A row of questions.json with its English texts named by their column (label → label_en_gb): writing `label`
    itself would write the active language's column (trials/translation.py), whatever language loads the seed."""
    return {f"{key}_en_gb" if key in TRANSLATED else key: value for key, value in row.items()}


@transaction.atomic
def load_questions() -> dict:
    """Load the seed catalogue, its English and Chinese texts (label / label_zh_hans, …)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in json.loads((SEED_DIR / "questions.json").read_text()):
        row = _per_language(row)
        code = row.pop("code")
        question = Question.objects.filter(code=code).first()
        if question is None:
            question = Question(code=code, **row)
            question.full_clean()
            question.save()
            counts["created"] += 1
        elif _update(question, row):
            question.full_clean()
            question.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


@transaction.atomic
def load_trial(data: dict) -> str:
    """Create or update one trial and its criteria. Returns 'created', 'updated' or 'unchanged'."""
    data = dict(data)
    criteria = data.pop("criteria")
    trial = Trial.objects.filter(nct_id=data["nct_id"]).first()
    status = "unchanged"
    if trial is None:
        trial = Trial(**data)
        trial.full_clean()
        trial.save()
        status = "created"
    elif _update(trial, data):
        trial.full_clean()
        trial.save()
        status = "updated"

    existing = list(trial.criteria.order_by("order", "pk"))
    for order, row in enumerate(criteria, start=1):
        values = {
            "kind": row["kind"],
            "text": row["text"],
            "source": row.get("source", Criterion.Source.PROTOCOL),
            "rule": row.get("rule"),
            "rule_status": row.get("rule_status", Criterion.RuleStatus.APPROVED),
            "order": order,
        }
        criterion = existing[order - 1] if order <= len(existing) else Criterion(trial=trial)
        if criterion.pk is None or _update(criterion, values):
            _update(criterion, values)
            criterion.full_clean()
            criterion.save()
            status = "updated" if status == "unchanged" else status
    for extra in existing[len(criteria) :]:
        extra.delete()
        status = "updated" if status == "unchanged" else status
    if status == "created":
        # Each criterion saved above bumped the version; a new trial's criteria are its version 1.
        Trial.objects.filter(pk=trial.pk).update(criteria_version=1)
        trial.start_criteria_history()
    return status


def load_seed_trials() -> dict:
    """Load the catalogue, the FHIR mappings and both seed trials; returns what happened to each.

    Their example patients are curation's: curation.seed.load_seed loads both (manage.py load_seed_trials)."""
    report = {"questions": load_questions()}
    report["FHIR mappings"] = "{created} created, {updated} updated, {unchanged} unchanged".format(
        **load_fhir_mappings()
    )
    for nct_id in SEED_TRIALS:
        report[nct_id] = load_trial(json.loads((SEED_DIR / f"{nct_id}.json").read_text()))
    return report
