"""Loading the FHIR mapping table that ships with the repository (trials/seed/fhir_mappings.json).

Idempotent like the rest of the seed: a row is only written when it is new or its display or
default unit differ. Rows added in the admin are left alone.
"""

import json
from pathlib import Path

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from eligibility.fhir import seed_rules

from .models import CatalogueVersion, CodeMapping, Question

SEED_FILE = Path(__file__).resolve().parent / "seed" / "fhir_mappings.json"


@transaction.atomic
def load_fhir_mappings() -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    questions = {q.code: q for q in Question.objects.all()}
    existing = {
        (m.resource_type, m.system, m.code, m.is_prefix, m.question_id, m.kind): m for m in CodeMapping.objects.all()
    }
    new = []
    for rule in seed_rules(json.loads(SEED_FILE.read_text())):
        question = questions[rule.question]
        values = {"display": rule.display, "default_unit": rule.default_unit}
        mapping = existing.get((rule.resource_type, rule.system, rule.code, rule.is_prefix, question.pk, rule.kind))
        if mapping is None:
            mapping = CodeMapping(
                resource_type=rule.resource_type,
                system=rule.system,
                code=rule.code,
                is_prefix=rule.is_prefix,
                question=question,
                kind=rule.kind,
                **values,
            )
            # The question and the key were looked up above: skip a query per row for each.
            mapping.full_clean(exclude=["question"], validate_unique=False, validate_constraints=False)
            new.append(mapping)
        elif any(getattr(mapping, f) != v for f, v in values.items()):
            for field, value in values.items():
                setattr(mapping, field, value)
            mapping.full_clean()
            mapping.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    bulk_create_with_history(new, CodeMapping)
    CatalogueVersion.bump()  # bulk inserts send no post_save
    counts["created"] = len(new)
    return counts
