"""What happens after a clinician refers a patient: the referral, its workflow, the coordinator's checks.

The tables keep the names they had when these models lived in `screening` (db_table below), so a
database upgrades in place: the move changed the code, not the data.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.models import HistoricalRecords

from eligibility.engine import Verdict
from screening.models import CurrentResult, Screening, SnapshotResult
from trials.models import Criterion, Trial


class Conflict(Exception):
    """Someone else changed the row since the form was loaded."""

    @classmethod
    def after(cls, history):
        """The conflict with the last change recorded in `history` (a simple-history queryset): who, when."""
        last = history.select_related("history_user").first()
        who = last.history_user.get_username() if last and last.history_user else _("someone")
        when = timezone.localtime(last.history_date).strftime("%Y-%m-%d %H:%M") if last else _("just now")
        return cls(
            _("Changed by %(who)s at %(when)s: reload to see the change, then try again.") % {"who": who, "when": when}
        )


class Versioned(models.Model):
    """Optimistic locking: `version` goes up by one with every change, and a change made from a form that
    showed an older version is refused (see `lock`), so two coordinators never silently overwrite each other."""

    version = models.PositiveIntegerField(default=1, help_text=gettext_lazy("Optimistic lock: bumped on every change."))

    class Meta:
        abstract = True

    @staticmethod
    def lock(rows, seen, history):
        """The row of `rows` (at most one), locked until the transaction ends, if its version is still `seen`
        (None: the form showed no row). Raises Conflict naming the last change in `history` otherwise."""
        current = rows.select_for_update().first()
        if (current.version if current else None) != seen:
            raise Conflict.after(history)
        return current


def reason_words(criterion, described: str) -> str:
    """A status reason as shown wherever the status is (candidate page, history, clinician's home, CSV): the
    failed criterion's words when one was picked, and the coordinator's description, either or both. `described` is
    `status_reason`, which holds the criterion's words when nothing was typed (so a reason outlives a criterion
    removed later): they are not said twice."""
    if criterion is None:
        return described
    words = _("%(kind)s criterion: “%(text)s”") % {"kind": criterion.get_kind_display(), "text": criterion.text}
    if described and described != criterion.text:
        words += f" — {described}"
    return words


@dataclass(frozen=True)
class Step:
    """One status a referral reached: when, by which role, why (the clinician sees roles, not the coordinators)."""

    status: str
    label: str
    when: datetime
    role: str
    reason: str = ""


def _role_words(user, created: bool) -> str:
    from prescreen.roles import ADMIN, CLINICIAN, COORDINATOR

    if created:
        return _("clinician")
    if user is None:
        return _("system")
    names = {g.name for g in user.groups.all()} | ({ADMIN} if user.is_superuser else set())
    for role, words in ((COORDINATOR, _("coordinator")), (ADMIN, _("admin")), (CLINICIAN, _("clinician"))):
        if role in names:
            return words
    return _("staff")


class ReferralQuerySet(models.QuerySet):
    def timelines(self) -> dict[int, list[Step]]:
        """Each referral's statuses in the order they were reached (referral id → steps, oldest first), from the
        history; a change that kept the status (a note) is not a step. Three queries for any number of referrals."""
        rows = (
            Referral.history.filter(id__in=self.values("id"))
            .select_related("history_user")
            .prefetch_related("history_user__groups")
            .order_by("id", "history_date", "history_id")
        )
        rows = list(rows)
        criteria_ids = {r.screen_fail_criterion_id for r in rows if r.screen_fail_criterion_id}
        criteria = {c.pk: c for c in Criterion.objects.filter(pk__in=criteria_ids)} if criteria_ids else {}
        steps: dict[int, list[Step]] = {}
        for row in rows:
            mine = steps.setdefault(row.id, [])
            if mine and mine[-1].status == row.status:
                continue
            reason = ""
            if row.status == Referral.Status.SCREEN_FAILED:
                reason = reason_words(criteria.get(row.screen_fail_criterion_id), row.status_reason)
            mine.append(
                Step(
                    status=row.status,
                    label=Referral.Status(row.status).label,
                    when=row.history_date,
                    role=_role_words(row.history_user, created=row.history_type == "+"),
                    reason=reason,
                )
            )
        return steps

    def visible_to(self, user):
        """Admins see every referral, coordinators those of their trials, clinicians their own."""
        from prescreen.roles import ADMIN, COORDINATOR, roles_of

        roles = roles_of(user)
        if ADMIN in roles:
            return self
        if COORDINATOR in roles:
            return self.filter(trial__coordinators=user)
        return self.none()

    def with_current(self):
        """Each referral's current verdict (`current_verdict`, None before it is computed) and the day time alone
        ended its eligibility (`lapsed_on`), from the screening's current result for the trial: no screening."""
        current = CurrentResult.objects.filter(screening=OuterRef("screening"), trial=OuterRef("trial"))
        return self.annotate(
            current_verdict=Subquery(current.values("verdict")[:1]),
            lapsed_on=Subquery(current.values("lapsed_on")[:1]),
        )

    def changed_since_referral(self):
        """Referrals whose current verdict differs from the verdict they were made on (needs with_current)."""
        return self.filter(current_verdict__isnull=False).exclude(current_verdict=F("verdict_at_referral"))


class Referral(Versioned):
    class Status(models.TextChoices):
        REFERRED = "referred", gettext_lazy("Referred")
        UNDER_REVIEW = "under_review", gettext_lazy("Under review")
        CONTACTED = "contacted", gettext_lazy("Contacted")
        CONSENTED = "consented", gettext_lazy("Consented")
        ENROLLED = "enrolled", gettext_lazy("Enrolled")
        SCREEN_FAILED = "screen_failed", gettext_lazy("Screen failed")
        DECLINED = "declined", gettext_lazy("Declined")
        WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")

    screening = models.ForeignKey(
        Screening, verbose_name=gettext_lazy("screening"), on_delete=models.PROTECT, related_name="referrals"
    )
    trial = models.ForeignKey(
        Trial, verbose_name=gettext_lazy("trial"), on_delete=models.PROTECT, related_name="referrals"
    )
    snapshot_result = models.ForeignKey(
        SnapshotResult,
        verbose_name=gettext_lazy("snapshot result"),
        on_delete=models.PROTECT,
        related_name="referrals",
        help_text=gettext_lazy("The saved result the referral was made on."),
    )
    verdict_at_referral = models.CharField(
        verbose_name=gettext_lazy("verdict at referral"),
        max_length=12,
        choices=[(v.value, v.value) for v in Verdict],
        default="",
        help_text=gettext_lazy("The saved verdict it was made on."),
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("referred by"),
        on_delete=models.PROTECT,
        related_name="referrals_made",
    )
    note = models.TextField(verbose_name=gettext_lazy("note"), blank=True)
    justification = models.TextField(
        verbose_name=gettext_lazy("justification"),
        blank=True,
        help_text=gettext_lazy("Why refer although the verdict was 'not eligible'."),
    )
    status = models.CharField(
        verbose_name=gettext_lazy("status"), max_length=20, choices=Status.choices, default=Status.REFERRED
    )
    status_reason = models.TextField(verbose_name=gettext_lazy("status reason"), blank=True)
    created_at = models.DateTimeField(verbose_name=gettext_lazy("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=gettext_lazy("updated at"), auto_now=True)
    history = HistoricalRecords(table_name="screening_historicalreferral")

    screen_fail_criterion = models.ForeignKey(
        "trials.Criterion",
        verbose_name=gettext_lazy("screen fail criterion"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=gettext_lazy("The criterion the patient failed at screening, when that is the reason."),
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

    # Moves that are decisions: the coordinator signs them by entering their password again (the view checks it),
    # and the history row of the move says what they signed, beside who (history_user) and when (history_date).
    SIGNATURE_MEANINGS = {
        Status.CONSENTED: "I confirm this patient consented",
        Status.ENROLLED: "I confirm this patient is enrolled",
    }

    class Meta:
        db_table = "screening_referral"
        ordering = ["-created_at"]
        verbose_name = gettext_lazy("referral")
        verbose_name_plural = gettext_lazy("referrals")
        constraints = [models.UniqueConstraint(fields=["screening", "trial"], name="one_referral_per_trial")]

    def __str__(self):
        return f"{self.screening.patient_ref} → {self.trial.nct_id} ({self.get_status_display()})"

    @property
    def reason(self) -> str:
        """The status reason in words (reason_words); select `screen_fail_criterion` with lists of referrals."""
        return reason_words(self.screen_fail_criterion, self.status_reason)

    def next_statuses(self):
        return [self.Status(s) for s in self.TRANSITIONS[self.Status(self.status)]]

    def move_to(self, status, *, by, version, note="", reason_text="", reason_criterion=None, signed=False):
        """Change the status if `version` is still current. Raises ValidationError or Conflict.

        A move in SIGNATURE_MEANINGS needs `signed=True`: the caller has checked `by`'s password."""
        if status not in self.Status.values:
            raise ValidationError(
                _("“%(status)s” is not a referral status.") % {"status": status}, code="unknown_status"
            )
        with transaction.atomic():
            current = self.lock(Referral.objects.filter(pk=self.pk), version, self.history)
            if status not in current.TRANSITIONS[self.Status(current.status)]:
                raise ValidationError(
                    _("A referral that is “%(now)s” cannot move to “%(next)s”.")
                    % {"now": current.get_status_display(), "next": self.Status(status).label},
                    code="bad_transition",
                )
            reason = note.strip()[:100] if note else ""
            meaning = self.SIGNATURE_MEANINGS.get(status)
            if meaning:
                if not signed:
                    raise ValidationError(
                        _("Moving to “%(status)s” needs your signature: enter your password.")
                        % {"status": self.Status(status).label},
                        code="needs_signature",
                    )
                reason = f"Signed: {meaning}" + (f". Note: {note.strip()}" if note and note.strip() else "")
                if len(reason) > 100:
                    raise ValidationError(
                        _("With the signature, the note can have at most %(n)s characters.")
                        % {"n": 100 - len(f"Signed: {meaning}. Note: ")},
                        code="note_too_long",
                    )
            if status == self.Status.SCREEN_FAILED:
                if reason_criterion is not None and reason_criterion.trial_id != current.trial_id:
                    raise ValidationError(_("That criterion belongs to another trial."), code="bad_reason")
                if reason_criterion is None and not reason_text.strip():
                    raise ValidationError(
                        _("Screen failed needs a reason: pick the criterion or describe it."),
                        code="needs_reason",
                    )
                current.screen_fail_criterion = reason_criterion
                current.status_reason = reason_text.strip() or reason_criterion.text
            current.status = status
            current.version += 1
            current._history_user = by
            current._change_reason = reason
            current.save()
        self.__dict__.update({f.attname: getattr(current, f.attname) for f in self._meta.concrete_fields})
        return self

    @classmethod
    def create_from(cls, screening, trial, by, note="", justification=""):
        """Refer the screening's last saved result for `trial`. Raises ValidationError with a message."""
        if not trial.open_for_screening:
            raise ValidationError(
                _("%(nct)s is not open for screening at this site: it takes no referrals.") % {"nct": trial.nct_id},
                code="not_open",
            )
        snapshot = screening.latest_snapshot()
        if snapshot is None:
            raise ValidationError(_("Save the screening before referring."), code="not_saved")
        saved = snapshot.results.filter(trial=trial).first()
        if saved is None:
            raise ValidationError(
                _("%(nct)s is not part of this screening.") % {"nct": trial.nct_id}, code="not_screened"
            )
        if cls.objects.filter(screening=screening, trial=trial).exists():
            raise ValidationError(
                _("This patient is already referred to %(nct)s.") % {"nct": trial.nct_id}, code="duplicate"
            )
        if saved.verdict == Verdict.INELIGIBLE and not justification.strip():
            raise ValidationError(
                _("The saved verdict is 'not eligible': give a justification to refer anyway."),
                code="needs_justification",
            )
        try:
            with transaction.atomic():
                return cls.objects.create(
                    screening=screening,
                    trial=trial,
                    snapshot_result=saved,
                    verdict_at_referral=saved.verdict,
                    referred_by=by,
                    note=note.strip(),
                    justification=justification.strip(),
                )
        except IntegrityError:
            # A double submit raced past the check above; the unique constraint caught it.
            raise ValidationError(
                _("This patient is already referred to %(nct)s.") % {"nct": trial.nct_id}, code="duplicate"
            ) from None


class Verification(Versioned):
    """A coordinator's check of one criterion against the chart; overrides the answer-based outcome."""

    class Status(models.TextChoices):
        VERIFIED_MET = "verified_met", gettext_lazy("Verified met")
        VERIFIED_NOT_MET = "verified_not_met", gettext_lazy("Verified not met")

    CLEAR = "clear"  # not a status: the verb removes the verification

    referral = models.ForeignKey(
        Referral, verbose_name=gettext_lazy("referral"), on_delete=models.CASCADE, related_name="verifications"
    )
    criterion = models.ForeignKey(
        "trials.Criterion",
        verbose_name=gettext_lazy("criterion"),
        on_delete=models.CASCADE,
        related_name="verifications",
    )
    status = models.CharField(verbose_name=gettext_lazy("status"), max_length=20, choices=Status.choices)
    note = models.CharField(verbose_name=gettext_lazy("note"), max_length=300, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("verified by"), on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(verbose_name=gettext_lazy("verified at"), default=timezone.now)
    history = HistoricalRecords(table_name="screening_historicalverification")

    class Meta:
        db_table = "screening_verification"
        verbose_name = gettext_lazy("verification")
        verbose_name_plural = gettext_lazy("verifications")
        constraints = [models.UniqueConstraint(fields=["referral", "criterion"], name="one_verification_per_criterion")]

    @classmethod
    def record(cls, referral, criterion, status, *, by, seen, note=""):
        """Verify `criterion` for `referral` (or clear it: status CLEAR) if the verification is still the
        version `seen` (None: none was shown). Returns the verification, or None once cleared; raises Conflict."""
        history = cls.history.filter(referral_id=referral.pk, criterion_id=criterion.pk)
        try:
            with transaction.atomic():
                current = cls.lock(cls.objects.filter(referral=referral, criterion=criterion), seen, history)
                if status == cls.CLEAR:
                    if current:
                        current._history_user = by
                        current.delete()
                    return None
                if current is None:
                    # Versions go on from a cleared verification's, so a form shown before the clearing
                    # cannot pass for one showing the new verification.
                    last = history.aggregate(models.Max("version"))["version__max"] or 0
                    current = cls(referral=referral, criterion=criterion, version=last)
                current.status = status
                current.note = note
                current.verified_by = by
                current.verified_at = timezone.now()
                current.version += 1
                current._history_user = by
                current.save()
                return current
        except IntegrityError:
            # Two first verifications of the criterion at once: both found no row to lock, and the
            # unique constraint refused the second.
            raise Conflict.after(history) from None


class ReferralView(models.Model):
    """Who looked at which candidate, when (access log for health data)."""

    referral = models.ForeignKey(
        Referral, verbose_name=gettext_lazy("referral"), on_delete=models.CASCADE, related_name="views"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("user"), on_delete=models.PROTECT, related_name="+"
    )
    viewed_at = models.DateTimeField(verbose_name=gettext_lazy("viewed at"), default=timezone.now)

    class Meta:
        db_table = "screening_referralview"
        ordering = ["-viewed_at"]
        verbose_name = gettext_lazy("referral view")
        verbose_name_plural = gettext_lazy("referral views")
