"""Curation (issue 5): what a trial's criteria were at each version, and example patients that check the
rules the way unit tests check code."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from eligibility import contradictions, engine, pipeline
from eligibility.answers import parse_answers
from trials.models import Criterion, Trial, catalogue


def acting_user(instance=None):
    """Who is making the current change: the importer's explicit user, else the signed-in admin."""
    user = getattr(instance, "_history_user", None)
    if user is None:
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


class CriteriaVersionQuerySet(models.QuerySet):
    def record(self, trial_id: int, criteria=None, user=None) -> "CriteriaVersion | None":
        """Snapshot the trial's criteria under its current criteria_version (replacing any earlier one)."""
        version = Trial.objects.filter(pk=trial_id).values_list("criteria_version", flat=True).first()
        if version is None:
            return None
        rows = criteria if criteria is not None else Criterion.objects.filter(trial_id=trial_id)
        snapshot = [
            {
                "id": c.pk,
                "kind": c.kind,
                "order": c.order,
                "text": c.text,
                "source": c.source,
                "rule": c.rule,
                "rule_status": c.rule_status,
            }
            for c in sorted(rows, key=lambda c: (c.order, c.pk))
        ]
        version_row, _ = self.update_or_create(
            trial_id=trial_id,
            version=version,
            defaults={"criteria": snapshot, "changed_by": user or acting_user(), "recorded_at": timezone.now()},
        )
        return version_row


class CriteriaVersion(models.Model):
    """A trial's criteria as they were at one criteria_version (written whenever the version bumps)."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="criteria_versions")
    version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    criteria = models.JSONField(default=list, help_text="[{id, kind, order, text, source, rule, rule_status}, ...]")

    objects = CriteriaVersionQuerySet.as_manager()

    class Meta:
        # Made in the trials app, whose table it keeps (curation/migrations/0001_initial.py).
        db_table = "trials_criteriaversion"
        ordering = ["trial", "-version"]
        verbose_name = _("criteria version")
        verbose_name_plural = _("criteria versions")
        constraints = [models.UniqueConstraint(fields=["trial", "version"], name="unique_criteria_version")]

    def __str__(self):
        return f"{self.trial_id} v{self.version}"


@dataclass(frozen=True)
class ExampleResult:
    """One example patient screened against its trial's current rules."""

    example: "ExamplePatient"
    actual: str | None  # the verdict now; None when the stored answers no longer parse
    problems: tuple[str, ...] = ()
    result: engine.TrialResult | None = None

    @property
    def passed(self) -> bool:
        return self.actual == self.example.expected_verdict

    @property
    def reasons(self) -> tuple[engine.CriterionResult, ...]:
        """The criteria behind the actual verdict: those that rule the patient out, or those still open."""
        if self.result is None:
            return ()
        if self.actual == engine.Verdict.INELIGIBLE:
            return self.result.deciding
        if self.actual == engine.Verdict.UNDETERMINED:
            return tuple(c for c in self.result.criteria if not c.satisfied and not c.against)
        return ()


@dataclass(frozen=True)
class ExampleChange:
    """One example patient whose verdict a pending change to its trial's criteria would change."""

    before: ExampleResult
    after: ExampleResult

    @property
    def example(self) -> "ExamplePatient":
        return self.before.example

    @property
    def breaks(self) -> bool:
        """It passes now and would fail after the change."""
        return self.before.passed and not self.after.passed


def rules_with(trial: Trial, *criteria: Criterion, deleted=()) -> engine.TrialRules:
    """The trial's rules as they would be with `criteria` (edited or new, not saved yet) in place of their stored
    rows, and without the criteria whose primary keys are `deleted`."""
    replaced = {c.pk for c in criteria if c.pk is not None} | set(deleted)
    rows = [c for c in trial.criteria.all() if c.pk not in replaced] + list(criteria)
    return engine.TrialRules(
        nct_id=trial.nct_id,
        title=trial.brief_title,
        criteria=tuple(c.spec() for c in sorted(rows, key=lambda c: (c.order, c.pk is None, c.pk or 0))),
        version=trial.criteria_version,
    )


class ExamplePatientQuerySet(models.QuerySet):
    def results(self, questions=None) -> list[ExampleResult]:
        """Every example screened at its own reference date against its trial's current rules."""
        questions = questions if questions is not None else catalogue()
        return [example.evaluate(questions) for example in self.select_related("trial")]

    def changes_if(self, rules: engine.TrialRules, questions=None) -> list[ExampleChange]:
        """The examples whose verdict would differ under `rules` (their trial's rules after a pending change),
        each before and after, by the same pipeline as every screening."""
        questions = questions if questions is not None else catalogue()
        changes = []
        for example in self.select_related("trial"):
            before, after = example.evaluate(questions), example.evaluate(questions, rules)
            if (before.actual, before.problems) != (after.actual, after.problems):
                changes.append(ExampleChange(before, after))
        return changes


class ExamplePatient(models.Model):
    """A made-up patient with the verdict curators expect: a unit test for a trial's rules."""

    class Verdict(models.TextChoices):
        # The words of eligibility.vocabulary.VERDICT_WORDS, marked for translation.
        ELIGIBLE = engine.Verdict.ELIGIBLE, _("Likely eligible")
        INELIGIBLE = engine.Verdict.INELIGIBLE, _("Not eligible")
        UNDETERMINED = engine.Verdict.UNDETERMINED, _("Needs more information")

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="examples")
    name = models.CharField(_("name"), max_length=120)
    answers = models.JSONField(
        _("answers"),
        default=dict,
        blank=True,
        help_text='Question code → value in the canonical unit, e.g. {"bmi": 31.5, "t1d_diagnosis": true}.',
    )
    expected_verdict = models.CharField(_("expected verdict"), max_length=12, choices=Verdict.choices)
    # JSON answers cannot say "4 weeks ago": a fixed reference date keeps ages and time since
    # diagnosis meaning the same thing next year.
    as_of = models.DateField(
        _("reference date"),
        default=timezone.localdate,
        help_text=_("The day the patient is screened on (ages and time since diagnosis count to this day)."),
    )
    note = models.TextField(_("note"), blank=True, help_text=_("Why this verdict is expected."))

    objects = ExamplePatientQuerySet.as_manager()

    class Meta:
        db_table = "trials_examplepatient"  # as CriteriaVersion
        ordering = ["trial", "name"]
        verbose_name = _("example patient")
        verbose_name_plural = _("example patients")
        constraints = [models.UniqueConstraint(fields=["trial", "name"], name="unique_example_name")]

    def __str__(self):
        return self.name

    def clean(self):
        questions = catalogue()
        typed, errors = parse_answers(self.answers, questions, self.as_of, consistency=False)
        # A contradiction once, naming every question involved (parse_answers would repeat it per question).
        found = [str(e) for e in errors]
        if self.as_of is not None:
            found += [str(c) for c in contradictions.find(typed, questions, self.as_of)]
        if found:
            raise ValidationError({"answers": found})

    def evaluate(self, questions=None, rules: engine.TrialRules | None = None) -> ExampleResult:
        """This example screened at its reference date by the one pipeline every screening goes through, against
        its trial's current rules (or `rules`, the trial's rules as a pending change would make them)."""
        questions = questions if questions is not None else catalogue()
        rules = rules if rules is not None else self.trial.rules()
        screened = pipeline.screen(catalogue=questions, trials=[rules], as_of=self.as_of, answers=self.answers)
        if not screened.ok:
            return ExampleResult(self, None, tuple(p.message for p in screened.problems))
        result = screened.explained[rules.nct_id]
        return ExampleResult(self, screened.verdict_of(rules.nct_id).value, (), result)
