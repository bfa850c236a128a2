"""Results saved whole before 0007 are made compact where, and only where, they read back exactly: nothing a
record showed is lost, and migrating back writes them out whole again."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from eligibility import report
from eligibility.engine import CriterionSpec, TrialRules, evaluate
from tests.factories import CATALOGUE

BEFORE = ("screening", "0006_move_referrals_out")
AFTER = ("screening", "0007_saved_criteria")


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    loader = MigrationLoader(connection)
    applied = [node for node in loader.applied_migrations if node in loader.graph.nodes]
    return loader.project_state(applied).apps


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def saved_whole(nct_id, words, answers):
    """A result as 0006 saved it: report.trial_json of the engine's result."""
    rules = TrialRules(
        nct_id,
        "Teplizumab",
        tuple(CriterionSpec(key, kind, text, rule) for key, kind, text, rule in words),
        version=2,
    )
    return report.trial_json(evaluate(rules, answers, date(2026, 12, 2), CATALOGUE))


WORDS = [
    ("11", "inclusion", "Type 1 diabetes.", {"q": "t1d_diagnosis", "op": "==", "value": True}),
    ("12", "exclusion", "Body Mass Index >30.", {"q": "bmi", "op": ">", "value": 30, "unit": "kg/m²"}),
    ("13", "exclusion", "Retinopathy at baseline.", None),
]


@pytest.mark.django_db(transaction=True)
def test_it_compacts_what_reads_back_exactly_and_keeps_everything_else_whole():
    old = migrate(BEFORE)
    User = old.get_model("auth", "User")
    alice = User.objects.create(username="alice")
    trial = old.get_model("trials", "Trial").objects.create(nct_id="NCT01219465", brief_title="Teplizumab")
    screening = old.get_model("screening", "Screening").objects.create(patient_ref="JD-2014", clinician=alice)
    snapshot = old.get_model("screening", "Snapshot").objects.create(
        screening=screening, saved_by=alice, as_of=date(2026, 12, 2)
    )
    Result = old.get_model("screening", "SnapshotResult")
    whole = {
        "ineligible": saved_whole("NCT01219465", WORDS, {"t1d_diagnosis": True, "bmi": 35.2}),
        "undetermined": saved_whole("NCT01219465", WORDS, {"t1d_diagnosis": True}),
    }
    rows = {
        verdict: Result.objects.create(
            snapshot=snapshot
            if verdict == "ineligible"
            else old.get_model("screening", "Snapshot").objects.create(
                screening=screening, saved_by=alice, as_of=date(2026, 12, 2)
            ),
            trial=trial,
            verdict=verdict,
            criteria_version=2,
            result=result,
        )
        for verdict, result in whole.items()
    }
    # Rows that cannot be made compact exactly: an older, partial shape; other words under the same version.
    odd = {"criteria": []}
    partial = Result.objects.create(
        snapshot=old.get_model("screening", "Snapshot").objects.create(
            screening=screening, saved_by=alice, as_of=date(2026, 12, 2)
        ),
        trial=trial,
        verdict="undetermined",
        criteria_version=2,
        result=odd,
    )
    reworded = saved_whole("NCT01219465", [(*WORDS[0][:2], "Diabetes, type 1.", WORDS[0][3]), *WORDS[1:]], {})
    other = Result.objects.create(
        snapshot=old.get_model("screening", "Snapshot").objects.create(
            screening=screening, saved_by=alice, as_of=date(2026, 12, 2)
        ),
        trial=trial,
        verdict=reworded["verdict"],
        criteria_version=2,
        result=reworded,
    )

    new = migrate(AFTER)
    Result = new.get_model("screening", "SnapshotResult")
    assert new.get_model("screening", "SavedCriteria").objects.count() == 1, "the words once for two rows"
    migrate_to_latest()
    from screening.models import SnapshotResult

    for verdict, row in rows.items():
        compact = SnapshotResult.objects.select_related("criteria").get(pk=row.pk)
        assert compact.criteria_id is not None and "criteria" not in compact.result
        assert compact.report == whole[verdict]
    assert SnapshotResult.objects.get(pk=partial.pk).criteria_id is None
    assert SnapshotResult.objects.get(pk=partial.pk).report == odd
    assert SnapshotResult.objects.get(pk=other.pk).criteria_id is None
    assert SnapshotResult.objects.get(pk=other.pk).report == reworded

    back = migrate(BEFORE)
    Result = back.get_model("screening", "SnapshotResult")
    assert {r.pk: r.result for r in Result.objects.all()} == {
        rows["ineligible"].pk: whole["ineligible"],
        rows["undetermined"].pk: whole["undetermined"],
        partial.pk: odd,
        other.pk: reworded,
    }
    migrate_to_latest()
