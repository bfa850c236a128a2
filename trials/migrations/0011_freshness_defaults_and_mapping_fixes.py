"""Issue 13: freshness limits for record values, and two fixes to the FHIR mapping table, in existing databases.

A new database gets both from the seed (trials/seed/questions.json, trials/seed/fhir_mappings.json); the seed
loader only adds rows, so the too-wide ICD-10-CM prefix D84 (which took the secondary immunodeficiencies D84.81
and D84.82x for primary ones) is removed here.
"""

import uuid

from django.db import migrations

# question code -> (adult limit, limit for children under 18), in days. Only questions without a limit get one.
LIMITS = {
    "height": (365, 182),
    "weight": (365, 182),
    "bmi": (365, 182),
    "hba1c": (90, 90),
    "fasting_glucose": (90, 90),
    "c_peptide": (365, 365),
}
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
PRIMARY = "Primary immunodeficiencies (D80–D83; D84.0, D84.1, D84.89, D84.9; not the secondary D84.81, D84.82x)"
CKD = "Chronic kidney disease (any stage), end-stage renal disease"
DIABETIC_RENAL = "Diabetic renal disease (kidney disorder, microalbuminuria or proteinuria due to diabetes)"
NEW_ROWS = [
    ("primary_immunodeficiency", ICD10CM, True, PRIMARY, ["D84.0", "D84.1", "D84.89", "D84.9"]),
    (
        "renal_impairment",
        SNOMED,
        False,
        CKD,
        ["709044004", "431855005", "431856006", "433144002", "431857002", "433146000", "46177005"],
    ),
    ("renal_impairment", SNOMED, False, DIABETIC_RENAL, ["127013003", "90781000119102", "157141000119108"]),
]


def forwards(apps, schema_editor):
    Question = apps.get_model("trials", "Question")
    CodeMapping = apps.get_model("trials", "CodeMapping")
    CatalogueVersion = apps.get_model("trials", "CatalogueVersion")
    changed = False
    for code, (adult, child) in LIMITS.items():
        changed |= bool(
            Question.objects.filter(code=code, freshness_days__isnull=True, child_freshness_days__isnull=True).update(
                freshness_days=adult, child_freshness_days=child
            )
        )
    questions = {q.code: q for q in Question.objects.filter(code__in=[row[0] for row in NEW_ROWS])}
    if "primary_immunodeficiency" in questions:
        deleted, _ = CodeMapping.objects.filter(
            resource_type="Condition",
            system=ICD10CM,
            code="D84",
            is_prefix=True,
            question=questions["primary_immunodeficiency"],
        ).delete()
        changed |= bool(deleted)
        CodeMapping.objects.filter(
            question=questions["primary_immunodeficiency"], system=ICD10CM, code__in=["D80", "D81", "D82", "D83"]
        ).update(display=PRIMARY)
    for question_code, system, is_prefix, display, codes in NEW_ROWS:
        question = questions.get(question_code)
        if question is None:
            continue  # a database without the seed catalogue: the seed loader adds these rows with it
        for code in codes:
            _row, created = CodeMapping.objects.get_or_create(
                resource_type="Condition",
                system=system,
                code=code,
                is_prefix=is_prefix,
                question=question,
                kind="presence",
                defaults={"display": display},
            )
            changed |= created
    if changed:
        # What screening caches from these tables is rebuilt when the stamp changes (trials.models.CatalogueVersion).
        CatalogueVersion.objects.update_or_create(pk=1, defaults={"stamp": uuid.uuid4().hex})


class Migration(migrations.Migration):
    dependencies = [("trials", "0010_question_freshness_limits")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
