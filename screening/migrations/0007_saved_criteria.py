"""Saved results made compact: the protocol's words once per trial and criteria version (SavedCriteria), each
result only the patient's outcomes (eligibility.report.outcomes_json).

Rows saved before keep what they showed: each is rewritten only when the compact form reads back to exactly the
JSON it held (report.trial_json of report.from_outcomes equals it); any other row (an older shape, words that
differ from those already kept for its version) stays whole, and SnapshotResult.report reads it as it is.
Reversible: going back writes every compact row out whole again.
"""

from datetime import date

import django.db.models.deletion
from django.db import migrations, models

from eligibility import report
from eligibility.engine import CriterionResult, Outcome, TrialResult, Verdict

BATCH = 500


def _parse(saved: dict) -> TrialResult:
    """A result saved whole (report.trial_json) as the engine's TrialResult."""
    criteria = tuple(
        CriterionResult(
            c["id"],
            c["kind"],
            c["text"],
            Outcome(c["outcome"]),
            c["code"],
            c["explanation"],
            tuple(c["missing"]),
            date.fromisoformat(c["met_until"]) if c["met_until"] else None,
        )
        for c in saved["criteria"]
    )
    return TrialResult(saved["nct_id"], saved["title"], Verdict(saved["verdict"]), criteria, saved["criteria_version"])


def compact(apps, schema_editor):
    SnapshotResult = apps.get_model("screening", "SnapshotResult")
    SavedCriteria = apps.get_model("screening", "SavedCriteria")
    kept = {(s.trial_id, s.version): s for s in SavedCriteria.objects.all()}
    changed = []
    rows = SnapshotResult.objects.filter(criteria__isnull=True).order_by("pk")
    for row in rows.iterator(chunk_size=BATCH):
        try:
            result = _parse(row.result)
            if result.verdict != row.verdict or result.version != row.criteria_version:
                continue
            words = report.criteria_words(result)
            outcomes = report.outcomes_json(result)
            if report.trial_json(report.from_outcomes(outcomes, words, row.verdict, row.criteria_version)) != row.result:
                continue
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # not the shape compact results come from: kept whole
        key = (row.trial_id, row.criteria_version)
        if key not in kept:
            kept[key] = SavedCriteria.objects.create(trial_id=row.trial_id, version=row.criteria_version, criteria=words)
        elif kept[key].criteria != words:
            continue  # other words under the same version than another saved row: this one keeps its own
        row.criteria = kept[key]
        row.result = outcomes
        changed.append(row)
        if len(changed) >= BATCH:
            SnapshotResult.objects.bulk_update(changed, ["criteria", "result"])
            changed = []
    SnapshotResult.objects.bulk_update(changed, ["criteria", "result"])


def expand(apps, schema_editor):
    SnapshotResult = apps.get_model("screening", "SnapshotResult")
    changed = []
    rows = SnapshotResult.objects.filter(criteria__isnull=False).select_related("criteria").order_by("pk")
    for row in rows.iterator(chunk_size=BATCH):
        result = report.from_outcomes(row.result, row.criteria.criteria, row.verdict, row.criteria_version)
        row.result = report.trial_json(result)
        row.criteria = None
        changed.append(row)
        if len(changed) >= BATCH:
            SnapshotResult.objects.bulk_update(changed, ["criteria", "result"])
            changed = []
    SnapshotResult.objects.bulk_update(changed, ["criteria", "result"])


class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0006_move_referrals_out'),
        ('trials', '0009_nct_ascii_digits'),
    ]

    operations = [
        migrations.AlterField(
            model_name='snapshotresult',
            name='result',
            field=models.JSONField(help_text="The patient's outcomes per criterion (report.outcomes_json); a result saved before 0007 whole (report.trial_json)."),
        ),
        migrations.CreateModel(
            name='SavedCriteria',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('criteria', models.JSONField(help_text="[[id, kind, protocol text], ...] in the trial's order (report.criteria_words).")),
                ('trial', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='trials.trial')),
            ],
            options={
                'verbose_name_plural': 'saved criteria',
            },
        ),
        migrations.AddField(
            model_name='snapshotresult',
            name='criteria',
            field=models.ForeignKey(blank=True, help_text="The protocol's words this result was saved with; empty for a result saved whole (before 0007).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='screening.savedcriteria'),
        ),
        migrations.AddConstraint(
            model_name='savedcriteria',
            constraint=models.UniqueConstraint(fields=('trial', 'version'), name='one_saved_criteria_per_version'),
        ),
        migrations.RunPython(compact, expand),
    ]
