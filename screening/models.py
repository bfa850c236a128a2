from __future__ import annotations

import hashlib
import secrets
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import cached_property

from eligibility import report
from eligibility.answers import parse_answers
from eligibility.engine import Verdict
from trials.models import Trial


class ScreeningQuerySet(models.QuerySet):
    def of(self, user):
        """Screenings a clinician may open: their own."""
        return self.filter(clinician=user)


class Screening(models.Model):
    """One patient's questionnaire, identified only by a pseudonymous reference."""

    patient_ref = models.CharField(
        "patient reference",
        max_length=40,
        help_text="A study code or initials + year. Do not enter names or record numbers.",
    )
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="screenings")
    trials = models.ManyToManyField(Trial, related_name="screenings")
    answers = models.JSONField(default=dict, blank=True, help_text="Canonical answers as last saved.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return f"Screening {self.patient_ref}"

    def typed_answers(self, catalogue, as_of=None) -> dict:
        # Saved answers were validated when saved; anything that no longer parses (a question
        # removed from the catalogue) is dropped, which makes its criteria unknown, never met.
        answers, _errors = parse_answers(self.answers, catalogue, None)
        return answers

    def verdicts_today(self, data, today: date) -> dict[str, str]:
        """Today's verdict per trial (nct_id → verdict) for the saved answers, verdicts only (the compiled engine).

        A list shows these for every screening, so they are kept in the cache and computed at most once per
        screening, catalogue version (`data.stamp`: any criterion, trial or question change) and day.
        """
        from .pipeline import screen

        nct_ids = [t.nct_id for t in self.trials.all()]
        what = repr((self.pk, self.updated_at.isoformat(), data.stamp, today.isoformat(), nct_ids))
        key = "screening:verdicts-today:" + hashlib.sha256(what.encode()).hexdigest()
        verdicts = cache.get(key)
        if verdicts is None:
            result = screen(
                as_of=today, answers=self.answers, trials=nct_ids, explain=(), screen_with_problems=True, data=data
            )
            verdicts = {v.nct_id: str(v.verdict) for v in result.verdicts}
            cache.set(key, verdicts, timeout=24 * 3600)
        return verdicts

    def evaluate(self, answers, catalogue=None, as_of: date | None = None, trials=None):
        """Every result for typed `answers` (the catalogue argument is kept for callers; the pipeline loads it)."""
        from eligibility.answers import to_json

        from .pipeline import screen

        trials = trials if trials is not None else self.trials.all()
        return screen(
            as_of=as_of or timezone.localdate(),
            answers=to_json(answers),
            trials=[t.nct_id for t in trials],
            screen_with_problems=True,
        ).results

    @transaction.atomic
    def save_snapshot(self, answers_json: dict, results, by, as_of: date) -> Snapshot:
        """Store the answers and one result row per trial, so the record stays true when criteria change.

        A row keeps the verdict, the criteria version and the patient's outcomes per criterion (compactly); the
        protocol's words are kept once per trial and criteria version (SavedCriteria), shared by every save.
        A constant number of queries whatever the number of trials."""
        self.answers = answers_json
        self.save(update_fields=["answers", "updated_at"])
        snapshot = Snapshot.objects.create(screening=self, saved_by=by, as_of=as_of, answers=answers_json)
        trial_ids = dict(self.trials.values_list("nct_id", "pk"))
        words = SavedCriteria.objects.for_results(trial_ids, results)
        SnapshotResult.objects.bulk_create(
            SnapshotResult(
                snapshot=snapshot,
                trial_id=trial_ids[r.nct_id],
                verdict=str(r.verdict),
                criteria_version=r.version,
                criteria_id=words[r.nct_id, r.version],
                result=report.outcomes_json(r),
            )
            for r in results
        )
        return snapshot

    def latest_snapshot(self):
        return self.snapshots.order_by("-saved_at", "-pk").first()


class Snapshot(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="snapshots")
    saved_at = models.DateTimeField(default=timezone.now)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField()
    answers = models.JSONField(default=dict)

    class Meta:
        ordering = ["-saved_at", "-pk"]


class SavedCriteriaQuerySet(models.QuerySet):
    def for_results(self, trial_ids: dict[str, int], results) -> dict[tuple[str, int], int]:
        """(nct_id, criteria version) → the SavedCriteria id for each of `results` (TrialResults of the trials in
        `trial_ids`, nct_id → pk), writing the ones not saved before. Three queries at most, however many trials."""
        wanted = {(r.nct_id, r.version): r for r in results}
        by_pk = {pk: nct_id for nct_id, pk in trial_ids.items()}

        def known():
            rows = self.filter(trial_id__in=[trial_ids[n] for n, _ in wanted]).values_list("trial_id", "version", "pk")
            return {(by_pk[t], v): pk for t, v, pk in rows if (by_pk[t], v) in wanted}

        found = known()
        if len(found) < len(wanted):
            # Another save may be writing the same versions: the unique constraint keeps one, and both read it back.
            self.bulk_create(
                [
                    SavedCriteria(trial_id=trial_ids[n], version=v, criteria=report.criteria_words(r))
                    for (n, v), r in wanted.items()
                    if (n, v) not in found
                ],
                ignore_conflicts=True,
            )
            found = known()
        return found


class SavedCriteria(models.Model):
    """A trial's criteria as saved results show them: [[id, kind, protocol text], ...] at one criteria version.

    Written by the first save under that version and shared by every result saved under it, so a network's
    save does not store a thousand protocols again for each patient. Never changed afterwards: any change to a
    trial's criteria gives it a new criteria_version (trials.models), so a saved record keeps showing the words
    it was screened against. Kept here rather than read from curation's CriteriaVersion, which screening may
    not import and which a curator's later save under the same version replaces.
    """

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    criteria = models.JSONField(
        help_text="[[id, kind, protocol text], ...] in the trial's order (report.criteria_words)."
    )

    objects = SavedCriteriaQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "saved criteria"
        constraints = [models.UniqueConstraint(fields=["trial", "version"], name="one_saved_criteria_per_version")]

    def __str__(self):
        return f"Criteria of trial {self.trial_id}, version {self.version}"


class SnapshotResult(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="results")
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=12, choices=[(v.value, v.value) for v in Verdict])
    criteria_version = models.PositiveIntegerField()
    criteria = models.ForeignKey(
        SavedCriteria,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The protocol's words this result was saved with; empty for a result saved whole (before 0007).",
    )
    result = models.JSONField(
        help_text="The patient's outcomes per criterion (report.outcomes_json); a result saved before 0007 whole "
        "(report.trial_json)."
    )

    class Meta:
        ordering = ["trial__nct_id"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "trial"], name="one_result_per_trial")]

    @cached_property
    def report(self) -> dict:
        """The result as it was shown when saved, in the shape of report.trial_json (the print summary, the
        candidate page and analytics read this). Select `criteria` with the rows to read many in one query."""
        if self.criteria_id is None:
            return self.result
        return report.trial_json(self.trial_result())

    def trial_result(self):
        """The engine's TrialResult as shown when saved (for a result saved whole, None)."""
        if self.criteria_id is None:
            return None
        return report.from_outcomes(self.result, self.criteria.criteria, self.verdict, self.criteria_version)


# --------------------------------------------------------------------------------------------
# API tokens


class ApiTokenQuerySet(models.QuerySet):
    def user_for(self, key: str):
        """The active user `key` belongs to (and note the use), or None."""
        if not key:
            return None
        token = self.select_related("user").filter(key_hash=ApiToken.hash(key)).first()
        if token is None or not token.user.is_active:
            return None
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user


class ApiToken(models.Model):
    """A per-user key for the JSON API (`Authorization: Bearer <key>`), created in the admin.

    Only the SHA-256 hash of the key is stored: the key is shown once, when the token is created.
    A leaked database does not leak working keys; a lost key is replaced by a new token.
    """

    PREFIX = "psk_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'ward EHR integration'.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The key's first characters, to recognise it.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["user__username", "name"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.user}, {self.hint}…)"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def generate_key(self) -> str:
        """Give this token a new random key and return it; only its hash is kept."""
        key = self.PREFIX + secrets.token_urlsafe(32)
        self.key_hash = self.hash(key)
        self.hint = key[:10]
        return key

    @classmethod
    def create_for(cls, user, name: str) -> tuple[ApiToken, str]:
        """A new token for `user` and its key (the only time the key is available)."""
        token = cls(user=user, name=name)
        key = token.generate_key()
        token.save()
        return token, key
