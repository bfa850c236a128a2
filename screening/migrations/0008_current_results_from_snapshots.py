"""Current results for screenings saved before they existed: the latest snapshot's verdicts, marked as due so the
next daily re-screen (or `manage.py rescreen --due`) computes them in full with today's criteria."""

import datetime

from django.db import migrations
from django.utils import timezone

LONG_AGO = datetime.date(2000, 1, 1)


def forwards(apps, schema_editor):
    Snapshot = apps.get_model("screening", "Snapshot")
    SnapshotResult = apps.get_model("screening", "SnapshotResult")
    CurrentResult = apps.get_model("screening", "CurrentResult")
    latest = {}
    for snapshot_id, screening_id in Snapshot.objects.order_by("saved_at", "pk").values_list("pk", "screening_id"):
        latest[screening_id] = snapshot_id
    wanted = {snapshot_id: screening_id for screening_id, snapshot_id in latest.items()}
    now = timezone.now()
    rows = [
        CurrentResult(
            screening_id=wanted[snapshot_id],
            trial_id=trial_id,
            verdict=verdict,
            saved_verdict=verdict,
            criteria_version=0,  # not known: computed in full by the next re-screen
            as_of=as_of,
            computed_at=now,
            stable_until=LONG_AGO,
        )
        for snapshot_id, trial_id, verdict, as_of in SnapshotResult.objects.filter(
            snapshot_id__in=list(wanted)
        ).values_list("snapshot_id", "trial_id", "verdict", "snapshot__as_of")
    ]
    CurrentResult.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("screening", "0007_current_results")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
