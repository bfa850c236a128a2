from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.db.models import F
from django.utils import timezone
from simple_history.models import HistoricalRecords

from eligibility import engine
from eligibility.rules import validate_rule

nct_validator = RegexValidator(r"^NCT\d{8}$", "An NCT id is 'NCT' followed by 8 digits, e.g. NCT01219465.", "invalid_nct")


class Question(models.Model):
    """One question of the shared questionnaire catalogue."""

    class Type(models.TextChoices):
        BOOLEAN = engine.BOOLEAN, "Yes / no"
        NUMBER = engine.NUMBER, "Number"
        DATE = engine.DATE, "Date"
        CHOICE = engine.CHOICE, "Single choice"
        MULTI = engine.MULTI, "Multiple choice"

    class Section(models.TextChoices):
        DEMOGRAPHICS = "demographics", "Demographics"
        DIAGNOSIS = "diagnosis", "Diagnosis"
        MEASUREMENTS = "measurements", "Measurements and labs"
        HISTORY = "history", "Medical history"
        JUDGEMENT = "judgement", "Clinician judgement"

    code = models.SlugField(max_length=64, unique=True, help_text="Stable code used in rules and answer files.")
    label = models.CharField(max_length=200, help_text="The question as the clinician reads it.")
    short_label = models.CharField(max_length=80, blank=True, help_text="Name used in explanations, e.g. 'BMI'.")
    help_text = models.TextField(blank=True)
    type = models.CharField(max_length=10, choices=Type.choices)
    unit = models.CharField(max_length=20, blank=True, help_text="Canonical unit of a number, e.g. 'kg/m²'.")
    min_value = models.FloatField(null=True, blank=True, help_text="Lowest plausible value.")
    max_value = models.FloatField(null=True, blank=True, help_text="Highest plausible value.")
    choices = models.JSONField(default=list, blank=True, help_text='[["value", "Label"], ...] for choice questions.')
    section = models.CharField(max_length=20, choices=Section.choices, default=Section.HISTORY)
    order = models.PositiveIntegerField(default=0)
    derived_from = models.CharField(
        max_length=200, blank=True,
        help_text="Codes this value is computed from when they are answered (e.g. 'height,weight' for BMI).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "order", "code"]

    def __str__(self):
        return self.label

    def clean(self):
        errors = {}
        if self.type in (engine.CHOICE, engine.MULTI):
            if not isinstance(self.choices, list) or not self.choices or not all(
                    isinstance(c, list) and len(c) == 2 for c in self.choices):
                errors["choices"] = "Choice questions need choices as [[value, label], ...]."
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            errors["max_value"] = "The highest plausible value is below the lowest."
        if errors:
            raise ValidationError(errors)

    @property
    def sources(self) -> list[str]:
        """Codes this question is computed from (empty for a question that is only asked)."""
        return [c.strip() for c in self.derived_from.split(",") if c.strip()]

    def spec(self) -> engine.QuestionSpec:
        return engine.QuestionSpec(
            code=self.code,
            label=self.label,
            type=self.type,
            unit=self.unit,
            min_value=self.min_value,
            max_value=self.max_value,
            choices=tuple((str(k), str(v)) for k, v in (self.choices or [])),
            short_label=self.short_label,
        )


class CatalogueVersion(models.Model):
    """One row whose stamp changes whenever a question, trial, criterion or FHIR mapping changes.

    What screening reads from the database (the question catalogue, every trial's rules, the mapping table) is
    cached per process; checking the stamp is one primary-key lookup, where an aggregate over the questions
    would scan them. A random stamp rather than a counter: a change rolled back with its transaction must not
    leave a number that a later, different change reuses (a process would then serve what it cached from the
    rolled-back state). Signals bump it on every save and delete; the few queryset updates and bulk inserts on
    these tables call bump() themselves.
    """

    stamp = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    @classmethod
    def current(cls) -> str | None:
        return cls.objects.filter(pk=1).values_list("stamp", flat=True).first()

    @classmethod
    def bump(cls) -> None:
        stamp = uuid.uuid4().hex
        if not cls.objects.filter(pk=1).update(stamp=stamp, changed_at=timezone.now()):
            cls.objects.update_or_create(pk=1, defaults={"stamp": stamp})


class _Cached:
    """One value per process, rebuilt when the catalogue stamp has changed since it was built."""

    def __init__(self, build):
        self.build = build
        self.stamp = self.value = None
        self.built = False
        self.lock = threading.Lock()

    def get(self, stamp: str | None = None):
        stamp = CatalogueVersion.current() if stamp is None else stamp
        with self.lock:
            if self.built and self.stamp == stamp:
                return self.value
        value = self.build()
        with self.lock:
            self.stamp, self.value, self.built = stamp, value, True
        return value


def _build_catalogue() -> dict[str, engine.QuestionSpec]:
    return {q.code: q.spec() for q in Question.objects.all()}


_catalogue = _Cached(_build_catalogue)


def catalogue(stamp: str | None = None) -> dict[str, engine.QuestionSpec]:
    """The whole question catalogue as engine specs, cached until anything in the catalogue changes.

    Costs one primary-key query when cached; none when the caller passes the `stamp` it has already read.
    """
    return _catalogue.get(stamp)


@dataclass(frozen=True)
class ScreeningData:
    """Everything the screening pipeline reads from the database, as plain data."""

    stamp: str | None
    questions: dict[str, engine.QuestionSpec]
    trials: dict[str, engine.TrialRules]  # nct_id → rules, every trial
    open_for_screening: tuple[str, ...]  # nct_ids, in NCT order
    mappings: tuple  # eligibility.fhir.CodeRule rows


def _build_trial_rules() -> tuple[dict[str, engine.TrialRules], tuple[str, ...]]:
    trials = Trial.objects.all()
    rules = {r.nct_id: r for r in trials.rules()}
    return rules, tuple(t.nct_id for t in trials if t.open_for_screening)  # the queryset is already read


_trial_rules = _Cached(_build_trial_rules)
_mappings = _Cached(lambda: tuple(CodeMapping.objects.table()))


def screening_data() -> ScreeningData:
    """The catalogue, every trial's rules and the FHIR mapping table: one query when nothing changed."""
    stamp = CatalogueVersion.current()
    rules, open_ids = _trial_rules.get(stamp)
    return ScreeningData(stamp, catalogue(stamp), rules, open_ids, _mappings.get(stamp))


class TrialQuerySet(models.QuerySet):
    def open_for_screening(self):
        """Trials this site screens patients for (the registry status is informational)."""
        return self.filter(open_for_screening=True)

    def rules(self) -> list[engine.TrialRules]:
        """Engine input for every trial in this queryset; criteria are only read on a cache miss."""
        trials = list(self)
        stale = [t for t in trials if (t.pk, t.criteria_version) not in _rules_cache]
        models.prefetch_related_objects(stale, "criteria")
        return [compiled_rules(t, t.criteria.all() if t in stale else None) for t in trials]


class Trial(models.Model):
    class Sex(models.TextChoices):
        ALL = "ALL", "All"
        FEMALE = "FEMALE", "Female"
        MALE = "MALE", "Male"

    nct_id = models.CharField("NCT id", max_length=11, unique=True, validators=[nct_validator])
    brief_title = models.CharField(max_length=500)
    official_title = models.TextField(blank=True)
    phase = models.CharField(max_length=60, blank=True)
    overall_status = models.CharField(max_length=40, blank=True, help_text="As in the registry, e.g. RECRUITING.")
    conditions = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    sites = models.JSONField(default=list, blank=True, help_text="Site names and places.")
    minimum_age = models.CharField(max_length=30, blank=True, help_text="As in the registry, e.g. '3 Years'.")
    maximum_age = models.CharField(max_length=30, blank=True)
    sex = models.CharField(max_length=6, choices=Sex.choices, default=Sex.ALL)
    healthy_volunteers = models.BooleanField(default=False)
    open_for_screening = models.BooleanField(
        default=True,
        help_text="Offered in new screenings at this site. The registry status can lag behind the site's own.",
    )
    eligibility_text = models.TextField(blank=True, help_text="The protocol's eligibility text as published.")
    criteria_version = models.PositiveIntegerField(default=1, editable=False)
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="coordinated_trials",
        help_text="Research coordinators who review referrals for this trial.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[coordinators])

    objects = TrialQuerySet.as_manager()

    class Meta:
        ordering = ["nct_id"]

    def __str__(self):
        return f"{self.nct_id}: {self.brief_title}"

    def bump_criteria_version(self):
        Trial.objects.filter(pk=self.pk).update(criteria_version=F("criteria_version") + 1)
        CatalogueVersion.bump()
        self.refresh_from_db(fields=["criteria_version"])

    def snapshot_criteria(self, criteria=None) -> "CriteriaVersion | None":
        """Record this trial's criteria as they are now, under its current criteria_version."""
        return CriteriaVersion.objects.record(self.pk, criteria)

    def start_criteria_history(self, criteria=None) -> None:
        """A new trial's criteria, however many saves loading them took, are its version 1."""
        Trial.objects.filter(pk=self.pk).update(criteria_version=1)
        CatalogueVersion.bump()
        self.criteria_version = 1
        CriteriaVersion.objects.filter(trial_id=self.pk).delete()
        self.snapshot_criteria(criteria)

    def rules(self) -> engine.TrialRules:
        """This trial's criteria as engine input, cached per criteria version."""
        return compiled_rules(self)


_rules_cache: dict[tuple[int, int], engine.TrialRules] = {}
_rules_lock = threading.Lock()


def compiled_rules(trial: Trial, criteria=None) -> engine.TrialRules:
    """Engine input for `trial`. Keyed by (pk, criteria_version), so a change is never served stale.

    Pass `criteria` (already fetched, e.g. by prefetch_related) to avoid a query on a cache miss.
    """
    key = (trial.pk, trial.criteria_version)
    cached = _rules_cache.get(key)
    if cached is not None:
        return cached
    rows = criteria if criteria is not None else trial.criteria.all()
    rules = engine.TrialRules(
        nct_id=trial.nct_id,
        title=trial.brief_title,
        criteria=tuple(c.spec() for c in sorted(rows, key=lambda c: (c.order, c.pk))),
        version=trial.criteria_version,
    )
    with _rules_lock:
        # Drop older versions of this trial so the cache does not grow without bound.
        for old in [k for k in _rules_cache if k[0] == trial.pk]:
            del _rules_cache[old]
        _rules_cache[key] = rules
    return rules


class Criterion(models.Model):
    class Kind(models.TextChoices):
        INCLUSION = engine.INCLUSION, "Inclusion"
        EXCLUSION = engine.EXCLUSION, "Exclusion"

    class RuleStatus(models.TextChoices):
        APPROVED = "approved", "Approved"
        DRAFT = "draft", "Draft: needs approval"

    class Source(models.TextChoices):
        PROTOCOL = "protocol", "Protocol text"
        REGISTRY = "registry", "Registry field"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    order = models.PositiveIntegerField(default=0)
    text = models.TextField(help_text="The protocol's words, verbatim.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PROTOCOL)
    rule = models.JSONField(null=True, blank=True, help_text="Structured rule; empty means 'needs review'.")
    rule_status = models.CharField(max_length=10, choices=RuleStatus.choices, default=RuleStatus.APPROVED)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial", "order", "pk"]
        verbose_name_plural = "criteria"

    def __str__(self):
        return f"{self.get_kind_display()} {self.order}: {self.text[:80]}"

    @property
    def needs_review(self):
        return self.rule is None or self.rule_status != self.RuleStatus.APPROVED

    def clean(self):
        if self.rule is not None:
            problems = validate_rule(self.rule, catalogue())
            if problems:
                raise ValidationError({"rule": [f"{p.path}: {p.message}" for p in problems]})

    def spec(self) -> engine.CriterionSpec:
        # A draft rule does not count until an admin approves it: it screens as "needs review".
        rule = self.rule if self.rule_status == self.RuleStatus.APPROVED else None
        return engine.CriterionSpec(key=str(self.pk), kind=self.kind, text=self.text, rule=rule)


@receiver(post_save, sender=Criterion)
@receiver(post_delete, sender=Criterion)
def _criteria_changed(sender, instance, **kwargs):
    # Signals (not save()/delete() overrides) so bulk deletes from the admin also bump the version.
    # raw=True is a fixture load; the trial may not exist yet.
    if kwargs.get("raw"):
        return
    Trial.objects.filter(pk=instance.trial_id).update(criteria_version=F("criteria_version") + 1)
    # The bump is a queryset update (no HistoricalTrial row), so each version's criteria are kept
    # in a snapshot. Not while the trial itself is being deleted: its criteria go first, and a row
    # written now would outlive the cascade.
    origin = kwargs.get("origin")
    if isinstance(origin, Trial) or getattr(origin, "model", None) is Trial:
        return
    CriteriaVersion.objects.record(instance.trial_id, user=_acting_user(instance))


@receiver(post_save, sender=Question)
@receiver(post_delete, sender=Question)
@receiver(post_save, sender=Trial)
@receiver(post_delete, sender=Trial)
@receiver(post_save, sender=Criterion)
@receiver(post_delete, sender=Criterion)
def _catalogue_changed(sender, **kwargs):
    CatalogueVersion.bump()


def questions_for(trial_rules) -> list[Question]:
    """The catalogue questions the given trials' rules use, plus the inputs of derived ones."""
    codes: set[str] = set()
    for rules in trial_rules:
        for criterion in rules.criteria:
            codes |= engine.referenced_questions(criterion.rule)
    questions = {q.code: q for q in Question.objects.all()}
    for code in list(codes):
        question = questions.get(code)
        if question:
            codes |= set(question.sources)
    return [q for q in questions.values() if q.code in codes]


# --------------------------------------------------------------------------------------------
# FHIR mapping table (issue 6). Imported here, with the model it serves, rather than at the top.
from eligibility import fhir  # noqa: E402


class CodeMappingQuerySet(models.QuerySet):
    def table(self) -> list[fhir.CodeRule]:
        """The mapping as plain data for eligibility.fhir.answers_from_bundle."""
        return [m.rule() for m in self.select_related("question")]


class CodeMapping(models.Model):
    """One row of the FHIR mapping table: a code (or code prefix) in a Condition or Observation
    answers a catalogue question. Seeded from trials/seed/fhir_mappings.json, editable in the admin."""

    class ResourceType(models.TextChoices):
        CONDITION = fhir.CONDITION, "Condition"
        OBSERVATION = fhir.OBSERVATION, "Observation"

    class Kind(models.TextChoices):
        PRESENCE = fhir.PRESENCE, "Present (answers yes)"
        ONSET_DATE = fhir.ONSET_DATE, "Diagnosis date (onset)"
        VALUE = fhir.VALUE, "Measured value (converted to the question's unit)"

    resource_type = models.CharField(max_length=20, choices=ResourceType.choices)
    system = models.CharField(
        max_length=200,
        help_text=f"Code system URI, e.g. {fhir.SNOMED} (SNOMED CT), {fhir.ICD10CM} (ICD-10-CM), {fhir.LOINC} (LOINC).",
    )
    code = models.CharField(max_length=64, help_text="The code, or its first characters when 'is prefix' is ticked.")
    is_prefix = models.BooleanField(
        "is prefix", default=False,
        help_text="Match every code that starts with this one (ICD-10-CM 'E10' matches E10.10; dots are ignored).",
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="code_mappings")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    default_unit = models.CharField(
        max_length=20, blank=True, help_text="UCUM unit assumed when an Observation's value has none, e.g. 'kg/m2'.",
    )
    display = models.CharField(max_length=200, blank=True, help_text="What the code means, for people.")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = CodeMappingQuerySet.as_manager()

    class Meta:
        ordering = ["question__code", "resource_type", "system", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "system", "code", "is_prefix", "question", "kind"], name="unique_code_mapping",
            ),
        ]

    def __str__(self):
        star = "*" if self.is_prefix else ""
        return f"{fhir.SYSTEM_NAMES.get(self.system, self.system)} {self.code}{star} → {self.question_id and self.question.code}"

    def clean(self):
        errors = {}
        self.code = (self.code or "").strip()
        question = self.question if self.question_id else None
        if question and self.kind:
            question_type, resource_type = fhir.KIND_FITS[self.kind]
            if question.type != question_type:
                errors["kind"] = f"“{self.get_kind_display()}” needs a {question_type} question; {question.code} is a {question.type}."
            elif self.resource_type and self.resource_type != resource_type:
                errors["resource_type"] = f"“{self.get_kind_display()}” is read from a {resource_type}."
        if self.default_unit:
            if self.kind != fhir.VALUE:
                errors["default_unit"] = "Only measured values have a unit."
            elif question and (problem := fhir.unit_problem(self.default_unit, question.unit)):
                errors["default_unit"] = problem
        if errors:
            raise ValidationError(errors)

    def rule(self) -> fhir.CodeRule:
        return fhir.CodeRule(
            resource_type=self.resource_type, system=self.system, code=self.code, question=self.question.code,
            kind=self.kind, is_prefix=self.is_prefix, default_unit=self.default_unit, display=self.display,
        )


post_save.connect(_catalogue_changed, sender=CodeMapping, dispatch_uid="codemapping_catalogue")
post_delete.connect(_catalogue_changed, sender=CodeMapping, dispatch_uid="codemapping_catalogue")


# --------------------------------------------------------------------------------------------
# Curation (issue 5): what a trial's criteria were at each version, and example patients that
# check the rules the way unit tests check code. Imported here, with the models they serve.
from eligibility.answers import parse_answers  # noqa: E402


def _acting_user(instance=None):
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
            {"id": c.pk, "kind": c.kind, "order": c.order, "text": c.text, "source": c.source,
             "rule": c.rule, "rule_status": c.rule_status}
            for c in sorted(rows, key=lambda c: (c.order, c.pk))
        ]
        version_row, _ = self.update_or_create(
            trial_id=trial_id, version=version,
            defaults={"criteria": snapshot, "changed_by": user or _acting_user(), "recorded_at": timezone.now()},
        )
        return version_row


class CriteriaVersion(models.Model):
    """A trial's criteria as they were at one criteria_version (written whenever the version bumps)."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="criteria_versions")
    version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    criteria = models.JSONField(default=list, help_text="[{id, kind, order, text, source, rule, rule_status}, ...]")

    objects = CriteriaVersionQuerySet.as_manager()

    class Meta:
        ordering = ["trial", "-version"]
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


class ExamplePatientQuerySet(models.QuerySet):
    def results(self, questions=None) -> list[ExampleResult]:
        """Every example screened at its own reference date against its trial's current rules."""
        questions = questions if questions is not None else catalogue()
        return [example.evaluate(questions) for example in self.select_related("trial")]


class ExamplePatient(models.Model):
    """A made-up patient with the verdict curators expect: a unit test for a trial's rules."""

    class Verdict(models.TextChoices):
        ELIGIBLE = engine.Verdict.ELIGIBLE, "Likely eligible"
        INELIGIBLE = engine.Verdict.INELIGIBLE, "Not eligible"
        UNDETERMINED = engine.Verdict.UNDETERMINED, "Needs more information"

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="examples")
    name = models.CharField(max_length=120)
    answers = models.JSONField(
        default=dict, blank=True,
        help_text='Question code → value in the canonical unit, e.g. {"bmi": 31.5, "t1d_diagnosis": true}.',
    )
    expected_verdict = models.CharField(max_length=12, choices=Verdict.choices)
    # JSON answers cannot say "4 weeks ago": a fixed reference date keeps ages and time since
    # diagnosis meaning the same thing next year.
    as_of = models.DateField(
        "reference date", default=timezone.localdate,
        help_text="The day the patient is screened on (ages and time since diagnosis count to this day).",
    )
    note = models.TextField(blank=True, help_text="Why this verdict is expected.")

    objects = ExamplePatientQuerySet.as_manager()

    class Meta:
        ordering = ["trial", "name"]
        constraints = [models.UniqueConstraint(fields=["trial", "name"], name="unique_example_name")]

    def __str__(self):
        return self.name

    def clean(self):
        _, errors = parse_answers(self.answers, catalogue(), self.as_of)
        if errors:
            raise ValidationError({"answers": [str(e) for e in errors]})

    def evaluate(self, questions=None) -> ExampleResult:
        questions = questions if questions is not None else catalogue()
        answers, errors = parse_answers(self.answers, questions, self.as_of)
        if errors:
            return ExampleResult(self, None, tuple(str(e) for e in errors))
        result = engine.evaluate(self.trial.rules(), answers, self.as_of, questions)
        return ExampleResult(self, result.verdict.value, (), result)


# --------------------------------------------------------------------------------------------
# Imports started from the admin page (issue 5): run in the background so the page can show progress.
from datetime import timedelta  # noqa: E402

from django.core.cache import cache  # noqa: E402


class ImportJob(models.Model):
    """One file uploaded on the admin import page: who, when, what came of it.

    The import itself runs in a background thread (trials/importer.py: start_job) inside one database
    transaction, so its progress cannot be read from the database while it runs: the thread reports it to
    the cache, and the page polls it. The summary is written to the row once the transaction is over.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Nothing imported"

    # An import still running this long after it started is taken to have died with its process (a
    # restart, a deploy): its transaction was rolled back, so nothing of it was saved.
    STALE_AFTER = timedelta(hours=1)

    file_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0, help_text="bytes")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    summary = models.JSONField(default=dict, blank=True, help_text="trials/importer.py: ImportSummary")

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def _progress_key(self) -> str:
        return f"trials:import-job:{self.pk}"

    def report_progress(self, done: int, total: int) -> None:
        cache.set(self._progress_key, (done, total), timeout=int(self.STALE_AFTER.total_seconds()))

    def progress(self) -> tuple[int, int] | None:
        """(studies done, studies in the file) while running; None before the file is read, or when this
        process's cache cannot see the importing process (several web processes without a shared cache)."""
        if self.finished:
            return None
        value = cache.get(self._progress_key)
        return tuple(value) if value else None

    def finish(self, summary: dict) -> None:
        self.status = self.Status.FAILED if summary.get("errors") else self.Status.DONE
        self.summary = summary
        self.finished_at = timezone.now()
        self.save(update_fields=["status", "summary", "finished_at"])
        cache.delete(self._progress_key)

    @property
    def stopped(self) -> bool:
        return not self.finished and timezone.now() - self.started_at > self.STALE_AFTER

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or timezone.now()
        return max((end - self.started_at).total_seconds(), 0.0)
