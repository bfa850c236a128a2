from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from trials.models import Trial

from eligibility import report
from eligibility.answers import parse_answers
from eligibility.engine import Verdict


class ScreeningQuerySet(models.QuerySet):
    def of(self, user):
        """Screenings a clinician may open: their own."""
        return self.filter(clinician=user)


class Screening(models.Model):
    """One patient's questionnaire, identified only by a pseudonymous reference."""

    patient_ref = models.CharField(
        "patient reference", max_length=40,
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

    def evaluate(self, answers, catalogue=None, as_of: date | None = None, trials=None):
        """Every result for typed `answers` (the catalogue argument is kept for callers; the pipeline loads it)."""
        from eligibility.answers import to_json

        from .pipeline import screen

        trials = trials if trials is not None else self.trials.all()
        return screen(as_of=as_of or timezone.localdate(), answers=to_json(answers),
                      trials=[t.nct_id for t in trials], screen_with_problems=True).results

    @transaction.atomic
    def save_snapshot(self, answers_json: dict, results, by, as_of: date) -> "Snapshot":
        """Store the answers and one result row per trial, so the record stays true when criteria change."""
        self.answers = answers_json
        self.save(update_fields=["answers", "updated_at"])
        snapshot = Snapshot.objects.create(screening=self, saved_by=by, as_of=as_of, answers=answers_json)
        trials = {t.nct_id: t for t in self.trials.all()}
        SnapshotResult.objects.bulk_create(
            SnapshotResult(
                snapshot=snapshot,
                trial=trials[r.nct_id],
                verdict=str(r.verdict),
                criteria_version=r.version,
                result=report.trial_json(r),
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


class SnapshotResult(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="results")
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=12, choices=[(v.value, v.value) for v in Verdict])
    criteria_version = models.PositiveIntegerField()
    result = models.JSONField(help_text="The engine's result as shown when saved (report.trial_json).")

    class Meta:
        ordering = ["trial__nct_id"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "trial"], name="one_result_per_trial")]


class Conflict(Exception):
    """Someone else changed the referral since the form was loaded."""


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Admins see every referral, coordinators those of their trials, clinicians their own."""
        from prescreen.roles import ADMIN, COORDINATOR, roles_of

        roles = roles_of(user)
        if ADMIN in roles:
            return self
        if COORDINATOR in roles:
            return self.filter(trial__coordinators=user)
        return self.none()


class Referral(models.Model):
    class Status(models.TextChoices):
        REFERRED = "referred", "Referred"
        UNDER_REVIEW = "under_review", "Under review"
        CONTACTED = "contacted", "Contacted"
        CONSENTED = "consented", "Consented"
        ENROLLED = "enrolled", "Enrolled"
        SCREEN_FAILED = "screen_failed", "Screen failed"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="referrals")
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="referrals")
    snapshot_result = models.ForeignKey(
        SnapshotResult, on_delete=models.PROTECT, related_name="referrals",
        help_text="The saved result the referral was made on.",
    )
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made")
    note = models.TextField(blank=True)
    justification = models.TextField(blank=True, help_text="Why refer although the verdict was 'not eligible'.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REFERRED)
    status_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock: bumped on every change.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    screen_fail_criterion = models.ForeignKey(
        "trials.Criterion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The criterion the patient failed at screening, when that is the reason.",
    )

    objects = ReferralQuerySet.as_manager()

    # Only sensible moves are offered and accepted; the last three end the referral.
    TRANSITIONS = {
        Status.REFERRED: (Status.UNDER_REVIEW, Status.SCREEN_FAILED, Status.DECLINED, Status.WITHDRAWN),
        Status.UNDER_REVIEW: (Status.CONTACTED, Status.SCREEN_FAILED, Status.DECLINED, Status.WITHDRAWN),
        Status.CONTACTED: (Status.CONSENTED, Status.SCREEN_FAILED, Status.DECLINED, Status.WITHDRAWN),
        Status.CONSENTED: (Status.ENROLLED, Status.SCREEN_FAILED, Status.WITHDRAWN),
        Status.ENROLLED: (Status.WITHDRAWN,),
        Status.SCREEN_FAILED: (),
        Status.DECLINED: (),
        Status.WITHDRAWN: (),
    }

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["screening", "trial"], name="one_referral_per_trial")]

    def __str__(self):
        return f"{self.screening.patient_ref} → {self.trial.nct_id} ({self.get_status_display()})"

    def next_statuses(self):
        return [self.Status(s) for s in self.TRANSITIONS[self.Status(self.status)]]

    def move_to(self, status, *, by, version, note="", reason_text="", reason_criterion=None):
        """Change the status if `version` is still current. Raises ValidationError or Conflict."""
        if status not in self.Status.values:
            raise ValidationError(f"“{status}” is not a referral status.", code="unknown_status")
        with transaction.atomic():
            current = Referral.objects.select_for_update().get(pk=self.pk)
            if current.version != version:
                last = current.history.select_related("history_user").first()
                who = last.history_user.get_username() if last and last.history_user else "someone"
                when = timezone.localtime(last.history_date).strftime("%Y-%m-%d %H:%M") if last else "just now"
                raise Conflict(f"Changed by {who} at {when}: reload to see the change, then try again.")
            if status not in current.TRANSITIONS[self.Status(current.status)]:
                raise ValidationError(
                    f"A referral that is “{current.get_status_display()}” cannot move to “{self.Status(status).label}”.",
                    code="bad_transition",
                )
            if status == self.Status.SCREEN_FAILED:
                if reason_criterion is not None and reason_criterion.trial_id != current.trial_id:
                    raise ValidationError("That criterion belongs to another trial.", code="bad_reason")
                if reason_criterion is None and not reason_text.strip():
                    raise ValidationError(
                        "Screen failed needs a reason: pick the criterion or describe it.", code="needs_reason",
                    )
                current.screen_fail_criterion = reason_criterion
                current.status_reason = reason_text.strip() or reason_criterion.text
            current.status = status
            current.version += 1
            current._history_user = by
            current._change_reason = note.strip()[:100] if note else ""
            current.save()
        self.__dict__.update({f.attname: getattr(current, f.attname) for f in self._meta.concrete_fields})
        return self

    @classmethod
    def create_from(cls, screening, trial, by, note="", justification=""):
        """Refer the screening's last saved result for `trial`. Raises ValidationError with a message."""
        snapshot = screening.latest_snapshot()
        if snapshot is None:
            raise ValidationError("Save the screening before referring.", code="not_saved")
        saved = snapshot.results.filter(trial=trial).first()
        if saved is None:
            raise ValidationError(f"{trial.nct_id} is not part of this screening.", code="not_screened")
        if cls.objects.filter(screening=screening, trial=trial).exists():
            raise ValidationError(f"This patient is already referred to {trial.nct_id}.", code="duplicate")
        if saved.verdict == Verdict.INELIGIBLE and not justification.strip():
            raise ValidationError(
                "The saved verdict is 'not eligible': give a justification to refer anyway.", code="needs_justification",
            )
        try:
            with transaction.atomic():
                return cls.objects.create(
                    screening=screening, trial=trial, snapshot_result=saved, referred_by=by,
                    note=note.strip(), justification=justification.strip(),
                )
        except IntegrityError:
            # A double submit raced past the check above; the unique constraint caught it.
            raise ValidationError(f"This patient is already referred to {trial.nct_id}.", code="duplicate") from None


class Verification(models.Model):
    """A coordinator's check of one criterion against the chart; overrides the answer-based outcome."""

    class Status(models.TextChoices):
        VERIFIED_MET = "verified_met", "Verified met"
        VERIFIED_NOT_MET = "verified_not_met", "Verified not met"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="verifications")
    criterion = models.ForeignKey("trials.Criterion", on_delete=models.CASCADE, related_name="verifications")
    status = models.CharField(max_length=20, choices=Status.choices)
    note = models.CharField(max_length=300, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "criterion"], name="one_verification_per_criterion")]


class ReferralView(models.Model):
    """Who looked at which candidate, when (access log for health data)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-viewed_at"]


# --------------------------------------------------------------------------------------------
# API tokens (issue 6). Imported here, with the model they serve, rather than at the top.
import hashlib  # noqa: E402
import secrets  # noqa: E402


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
    def create_for(cls, user, name: str) -> tuple["ApiToken", str]:
        """A new token for `user` and its key (the only time the key is available)."""
        token = cls(user=user, name=name)
        key = token.generate_key()
        token.save()
        return token, key
