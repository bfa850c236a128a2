from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from eligibility import report
from eligibility.answers import parse_answers
from eligibility.current import Current, summarise
from eligibility.engine import Verdict
from trials.models import Criterion, Trial


class ScreeningQuerySet(models.QuerySet):
    def of(self, user):
        """Screenings a clinician may open: their own, unless an admin retired them."""
        return self.filter(clinician=user).active()

    def active(self):
        """Screenings not retired: what lists, re-screening and analytics count."""
        return self.filter(retired_at__isnull=True)

    def saved(self):
        """Screenings with saved results (at least one snapshot); a never-saved draft has none."""
        return self.filter(snapshots__isnull=False).distinct()

    def with_ref(self, patient_ref: str):
        """Screenings of this patient reference (whatever its case), newest first."""
        return self.filter(patient_ref__iexact=patient_ref.strip()).order_by("-created_at", "-pk")


class Screening(models.Model):
    """One patient's questionnaire, identified only by a pseudonymous reference."""

    patient_ref = models.CharField(
        _("patient reference"),
        max_length=40,
        help_text=_("A study code or initials + year. Do not enter names or record numbers."),
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("clinician"), on_delete=models.PROTECT, related_name="screenings"
    )
    trials = models.ManyToManyField(Trial, verbose_name=_("trials"), related_name="screenings")
    answers = models.JSONField(_("answers"), default=dict, blank=True, help_text=_("Canonical answers as last saved."))
    answer_sources = models.JSONField(
        default=dict,
        blank=True,
        help_text="Question code → the patient-record entry its saved answer came from (resource type, code system "
        "and code, display, date; never a resource id). Answers typed by the clinician have none.",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # A screening with saved results is never deleted (its results may have been acted on): an admin retires it,
    # which hides it from every list and keeps the record and its history.
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True, editable=False)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("retired by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    retire_reason = models.CharField(_("reason for retiring"), max_length=300, blank=True, editable=False)
    history = HistoricalRecords()

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        permissions = [("retire_screening", "Can retire a screening (hide it, keeping the record)")]

    def __str__(self):
        return f"Screening {self.patient_ref}"

    @property
    def has_saved_results(self) -> bool:
        return self.snapshots.exists()

    @transaction.atomic
    def retire(self, *, by, reason: str) -> None:
        """Hide the screening from every list for good, keeping it and its saved results: the history row says who
        and why. Its current results go (they are what lists, notices, re-screening and analytics read); the saved
        snapshots stay. Raises ValueError without a reason or when already retired."""
        reason = reason.strip()
        if not reason:
            raise ValueError("Give a reason for retiring the screening.")
        if self.retired_at is not None:
            raise ValueError(f"{self} was already retired.")
        self.retired_at, self.retired_by, self.retire_reason = timezone.now(), by, reason
        self._history_user = by
        self._change_reason = f"Retired: {reason}"[:100]
        self.save(update_fields=["retired_at", "retired_by", "retire_reason"])
        self.current_results.all().delete()

    def typed_answers(self, catalogue, as_of=None) -> dict:
        # Saved answers were validated when saved; anything that no longer parses (a question
        # removed from the catalogue) is dropped, which makes its criteria unknown, never met.
        answers, _errors = parse_answers(self.answers, catalogue, None)
        return answers

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
    def save_snapshot(self, answers_json: dict, results, by, as_of: date, sources: dict | None = None) -> Snapshot:
        """Store the answers and one result row per trial, so the record stays true when criteria change.

        A row keeps the verdict, the criteria version and the patient's outcomes per criterion (compactly); the
        protocol's words are kept once per trial and criteria version (SavedCriteria), shared by every save.
        A constant number of queries whatever the number of trials. `sources` gives the record source of each
        answer that came from the patient's record (screening.prefill.sources_to_save)."""
        sources = {code: s for code, s in (sources or {}).items() if code in answers_json}
        self.answers = answers_json
        self.answer_sources = sources
        self.save(update_fields=["answers", "answer_sources", "updated_at"])
        snapshot = Snapshot.objects.create(
            screening=self, saved_by=by, as_of=as_of, answers=answers_json, sources=sources
        )
        trial_ids = dict(self.trials.values_list("nct_id", "pk"))
        results = list(results)
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
        CurrentResult.objects.record_saved(self, trial_ids, results, as_of)
        return snapshot

    @property
    def is_draft(self) -> bool:
        """Never saved: no snapshot, so no result, current result or referral hangs on it."""
        return not self.snapshots.exists()

    def discard(self) -> bool:
        """Delete this screening if it is a draft (started, never saved); a saved screening is a record and stays.
        Returns whether it was deleted."""
        with transaction.atomic():
            # Locked, so a save running at the same moment either comes first (and it stays) or finds it gone.
            locked = Screening.objects.select_for_update().filter(pk=self.pk).first()
            if locked is None or not locked.is_draft:
                return False
            try:
                locked.delete()
            except models.ProtectedError:  # a referral (which needs a saved result) cannot be lost with it
                return False
        return True

    def latest_snapshot(self):
        return self.snapshots.order_by("-saved_at", "-pk").first()


class Snapshot(models.Model):
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="snapshots")
    saved_at = models.DateTimeField(default=timezone.now)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField()
    answers = models.JSONField(default=dict)
    sources = models.JSONField(default=dict, blank=True, help_text="Record sources of the answers, as saved.")

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
        verbose_name_plural = _("saved criteria")
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
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. 'ward EHR integration'.")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        _("hint"), max_length=12, editable=False, help_text=_("The key's first characters, to recognise it.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["user__username", "name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

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


# --------------------------------------------------------------------------------------------
# Current results: what lists read


LAPSE_NOTICE_DAYS = 14  # a likely eligible verdict that lapses within this many days is flagged (as the panel does)


def with_reasons(results):
    """Set `reason` on each current result: the protocol's words of the first criterion that decides it (one
    query for the lot). Returns the results as a list."""
    results = list(results)
    keys = {int(r.deciding[0]) for r in results if r.deciding and str(r.deciding[0]).isdigit()}
    texts = dict(Criterion.objects.filter(pk__in=keys).values_list("pk", "text")) if keys else {}
    for r in results:
        first = r.deciding[0] if r.deciding else None
        r.reason = texts.get(int(first)) if first is not None and str(first).isdigit() else None
    return results


class CurrentResultQuerySet(models.QuerySet):
    def notices_for(self, user, today: date):
        """What a clinician is told about their saved screenings: results whose verdict changed since they saved
        them (criteria changed, or eligibility lapsed), and likely eligible ones about to lapse; newest first."""
        soon = Q(verdict=Verdict.ELIGIBLE, met_until__gte=today, met_until__lte=today + timedelta(LAPSE_NOTICE_DAYS))
        return (
            self.filter(screening__clinician=user, screening__retired_at__isnull=True)
            .filter(Q(changed=True) | soon)
            .select_related("trial", "screening")
            .only(
                *self.model.FIELDS,
                "lapsed_on",
                "saved_verdict",
                "changed",
                "computed_at",
                "screening__patient_ref",
                "trial__nct_id",
            )
            .order_by("-changed", "-computed_at", "-pk")
        )

    def due(self, today: date):
        """Results that time may have changed since they were computed (a date they hold until has passed)."""
        return self.filter(stable_until__lt=today)

    def record_saved(self, screening: Screening, trial_ids: dict[str, int], results, as_of: date) -> None:
        """The screening was just saved with `results` (engine TrialResults): they are its current results,
        unchanged from the snapshot by definition. Replaces the screening's rows in two queries."""
        self.filter(screening=screening).delete()
        now = timezone.now()
        rows = []
        for result in results:
            row = CurrentResult(
                screening=screening, trial_id=trial_ids[result.nct_id], saved_verdict=str(result.verdict)
            )
            row.apply(summarise(result), result.version, as_of, now)
            rows.append(row)
        self.bulk_create(rows)


class CurrentResult(models.Model):
    """The current result of a saved screening for one of its trials: verdict, counts, what decides it, dates.

    Written when the screening is saved (from the saved results) and by re-screening when the trial's criteria
    change or time passes (screening.rescreen), and only when something in it changed. `changed` says whether the
    verdict differs from `saved_verdict`, the verdict of the screening's latest snapshot.
    """

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="current_results")
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=12, choices=[(v.value, v.value) for v in Verdict])
    met = models.PositiveSmallIntegerField(default=0, help_text="Criteria settled in the patient's favour.")
    not_met = models.PositiveSmallIntegerField(default=0, help_text="Criteria that rule the patient out.")
    unknown = models.PositiveSmallIntegerField(default=0, help_text="Criteria still open.")
    deciding = models.JSONField(default=list, blank=True, help_text="Keys (ids) of the criteria that decide it.")
    missing = models.JSONField(default=list, blank=True, help_text="Question codes that could decide it.")
    met_until = models.DateField(null=True, blank=True, help_text="The verdict holds at least until this day.")
    stable_until = models.DateField(
        null=True, blank=True, help_text="Time alone may change an outcome after this day: re-screened then."
    )
    lapsed_on = models.DateField(null=True, blank=True, help_text="The day time alone ended a likely eligible verdict.")
    criteria_version = models.PositiveIntegerField(help_text="The trial's criteria version it was computed at.")
    as_of = models.DateField(help_text="The reference date it was computed for.")
    computed_at = models.DateTimeField()
    saved_verdict = models.CharField(max_length=12, help_text="The verdict in the latest saved snapshot.")
    changed = models.BooleanField(default=False, help_text="The verdict differs from the saved one.")

    objects = CurrentResultQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["screening", "trial"], name="one_current_result_per_trial")]
        indexes = [
            models.Index(fields=["trial", "screening"], name="current_by_trial"),
            models.Index(fields=["stable_until"], name="current_due"),
            models.Index(fields=["changed", "screening"], name="current_changed"),
        ]

    def __str__(self):
        return f"{self.screening_id} × {self.trial_id}: {self.verdict}"

    FIELDS = ("verdict", "met", "not_met", "unknown", "deciding", "missing", "met_until", "stable_until")

    def apply(self, current: Current, version: int, as_of: date, now) -> None:
        """Take `current` (eligibility.current.Current) as this row's result."""
        if (
            self.pk is not None
            and self.verdict == Verdict.ELIGIBLE
            and current.verdict != Verdict.ELIGIBLE
            and self.met_until is not None
            and self.met_until < as_of
        ):
            self.lapsed_on = self.met_until + timedelta(days=1)
        elif current.verdict == Verdict.ELIGIBLE:
            self.lapsed_on = None
        for name in self.FIELDS:
            value = getattr(current, name)
            setattr(self, name, list(value) if isinstance(value, tuple) else value)
        self.criteria_version, self.as_of, self.computed_at = version, as_of, now
        self.changed = self.verdict != self.saved_verdict

    def same_as(self, current: Current) -> bool:
        """True when `current` would change nothing a reader sees."""
        return all(
            getattr(self, name) == (list(v) if isinstance(v := getattr(current, name), tuple) else v)
            for name in self.FIELDS
        )


class RescreenRun(models.Model):
    """One re-screening: what started it, how far it got, what it changed; failures are kept here for admins."""

    class Trigger(models.TextChoices):
        CRITERIA = "criteria", _("Criteria changed")
        DAILY = "daily", _("Daily (time passed)")
        COMMAND = "command", "manage.py rescreen"

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Scope(models.TextChoices):
        TRIAL = "trial", _("One trial's results")
        DUE = "due", _("Results time may have changed")
        ALL = "all", _("Every result")

    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    trial = models.ForeignKey(
        Trial, verbose_name=_("trial"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    criteria_version = models.PositiveIntegerField(_("criteria version"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    chunks = models.PositiveIntegerField(_("chunks"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    screenings_checked = models.PositiveIntegerField(_("screenings checked"), default=0)
    rows_changed = models.PositiveIntegerField(_("rows changed"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("rescreen run")
        verbose_name_plural = _("rescreen runs")
        constraints = [
            # One criteria-triggered run per trial version: a duplicate request finds it and does nothing.
            models.UniqueConstraint(
                fields=["trial", "criteria_version"],
                condition=models.Q(trigger="criteria"),
                name="one_criteria_run_per_version",
            )
        ]

    def __str__(self):
        what = self.trial.nct_id if self.trial_id else self.get_scope_display().lower()
        return f"Re-screen {what} ({self.get_trigger_display()}, {self.get_status_display()})"


class DailySchedule(models.Model):
    """One row: when the daily re-screen of what time changes is next due, so scheduling it is idempotent."""

    next_run_at = models.DateTimeField(null=True, blank=True)
