"""Screening follows trials' criteria changes (connected in ScreeningConfig.ready)."""

from django.dispatch import receiver

from trials.background import enqueue_on_commit
from trials.models import Trial, criteria_version_changed

from .tasks import rescreen_trial


@receiver(criteria_version_changed, dispatch_uid="screening_rescreen_on_criteria_change")
def rescreen_on_criteria_change(sender, trial_id, **kwargs):
    # Enqueued when the transaction commits, with the version it made: several criteria saved in one transaction
    # enqueue several requests, and all but the one for the final version return at once.
    version = Trial.objects.filter(pk=trial_id).values_list("criteria_version", flat=True).first()
    if version is not None:
        enqueue_on_commit(rescreen_trial, trial_id, version)
