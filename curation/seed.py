"""The seed: trials' own (questions, FHIR mappings, the two trials) plus the example patients that ship with
the seed trials (curation/seed/examples.json).

Idempotent like the rest of the seed: an example is matched by trial and name and only written when
something differs. Examples of trials that are not loaded are skipped.
"""

import json
from datetime import date
from pathlib import Path

from django.db import transaction

from trials.models import Trial
from trials.seed import load_seed_trials

from .models import ExamplePatient

EXAMPLES_FILE = Path(__file__).resolve().parent / "seed" / "examples.json"


@transaction.atomic
def load_examples(path: Path = EXAMPLES_FILE) -> str:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    trials = Trial.objects.in_bulk(field_name="nct_id")
    for nct_id, rows in json.loads(path.read_text()).items():
        trial = trials.get(nct_id)
        if trial is None:
            continue
        for row in rows:
            values = {
                "answers": row["answers"],
                "expected_verdict": row["expected_verdict"],
                "as_of": date.fromisoformat(row["as_of"]),
                "note": row.get("note", ""),
            }
            example = ExamplePatient.objects.filter(trial=trial, name=row["name"]).first()
            if example is None:
                example = ExamplePatient(trial=trial, name=row["name"], **values)
                counts["created"] += 1
            elif any(getattr(example, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(example, k, v)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
                continue
            example.full_clean()
            example.save()
    return "{created} created, {updated} updated, {unchanged} unchanged".format(**counts)


def load_seed() -> dict:
    """Everything `manage.py load_seed_trials` loads; returns what happened to each part."""
    report = load_seed_trials()
    report["Example patients"] = load_examples()
    return report
