"""An existing database gets the issue 13 freshness limits and FHIR mapping fixes by migration (trials 0011): the
seed loader only adds rows, so the too-wide D84 prefix would otherwise keep mapping secondary immunodeficiencies."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("trials", "0010_question_freshness_limits")]
AFTER = [("trials", "0011_freshness_defaults_and_mapping_fixes")]
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_it_sets_default_limits_and_fixes_the_two_mappings_in_an_existing_database():
    old = migrate(BEFORE)
    Question, CodeMapping = old.get_model("trials", "Question"), old.get_model("trials", "CodeMapping")
    Question.objects.all().delete()
    made = {
        code: Question.objects.create(code=code, label=code, type=kind)
        for code, kind in [
            ("height", "number"),
            ("hba1c", "number"),
            ("renal_impairment", "boolean"),
            ("primary_immunodeficiency", "boolean"),
        ]
    }
    Question.objects.filter(code="hba1c").update(freshness_days=30)  # an admin's own limit is kept
    primary = made["primary_immunodeficiency"]
    for code in ("D80", "D84"):
        CodeMapping.objects.create(
            resource_type="Condition", system=ICD10CM, code=code, is_prefix=True, question=primary, kind="presence"
        )

    new = migrate(AFTER)
    Question, CodeMapping = new.get_model("trials", "Question"), new.get_model("trials", "CodeMapping")
    assert Question.objects.values_list("freshness_days", "child_freshness_days").get(code="height") == (365, 182)
    assert Question.objects.values_list("freshness_days", "child_freshness_days").get(code="hba1c") == (30, None)
    prefixes = set(CodeMapping.objects.filter(question__code="primary_immunodeficiency").values_list("code", flat=True))
    assert prefixes == {"D80", "D84.0", "D84.1", "D84.89", "D84.9"}
    renal = set(CodeMapping.objects.filter(question__code="renal_impairment").values_list("code", flat=True))
    assert {"709044004", "433146000", "46177005", "127013003", "90781000119102"} <= renal
    # Run again (a database the seed loader already gave the new rows): nothing doubles.
    importlib.import_module("trials.migrations.0011_freshness_defaults_and_mapping_fixes").forwards(new, None)
    assert CodeMapping.objects.filter(question__code="renal_impairment", code="709044004").count() == 1
