"""Criteria snapshots follow the trials app's criteria changes (connected in CurationConfig.ready)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from trials.models import Criterion, Trial, criteria_history_started

from .models import CriteriaVersion, acting_user


@receiver(post_save, sender=Criterion, dispatch_uid="curation_criteria_changed")
@receiver(post_delete, sender=Criterion, dispatch_uid="curation_criteria_deleted")
def record_criteria_version(sender, instance, **kwargs):
    # The version bump (trials.models) is a queryset update with no HistoricalTrial row, so each version's
    # criteria are kept in a snapshot; trials' receiver was connected first, so the version read here is the new one.
    if kwargs.get("raw"):
        return
    # Not while the trial itself is being deleted: its criteria go first, and a row written now would
    # outlive the cascade.
    origin = kwargs.get("origin")
    if isinstance(origin, Trial) or getattr(origin, "model", None) is Trial:
        return
    CriteriaVersion.objects.record(instance.trial_id, user=acting_user(instance))


@receiver(criteria_history_started, dispatch_uid="curation_criteria_history_started")
def restart_criteria_versions(sender, trial, criteria=None, **kwargs):
    CriteriaVersion.objects.filter(trial_id=trial.pk).delete()
    CriteriaVersion.objects.record(trial.pk, criteria)
