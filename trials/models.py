from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import get_language as mt_get_language
from simple_history.models import HistoricalRecords

from eligibility import engine
from eligibility.nodes import read_rule
from eligibility.pipeline import Screened
from eligibility.rules import validate_rule
from eligibility.vocabulary import NCT_MESSAGE, NCT_PATTERN

nct_validator = RegexValidator(NCT_PATTERN, NCT_MESSAGE, "invalid_nct")


class Question(models.Model):
    """One question of the shared questionnaire catalogue."""

    class Type(models.TextChoices):
        BOOLEAN = engine.BOOLEAN, _("Yes / no")
        NUMBER = engine.NUMBER, _("Number")
        DATE = engine.DATE, _("Date")
        CHOICE = engine.CHOICE, _("Single choice")
        MULTI = engine.MULTI, _("Multiple choice")

    class Section(models.TextChoices):
        # The questionnaire's section headings: part of the catalogue people read, in their language.
        DEMOGRAPHICS = "demographics", _("Demographics")
        DIAGNOSIS = "diagnosis", _("Diagnosis")
        MEASUREMENTS = "measurements", _("Measurements and labs")
        HISTORY = "history", _("Medical history")
        JUDGEMENT = "judgement", _("Clinician judgement")

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
        max_length=200,
        blank=True,
        help_text="Codes this value is computed from when they are answered (e.g. 'height,weight' for BMI).",
    )
    freshness_days = models.PositiveIntegerField(
        "freshness limit (days)",
        null=True,
        blank=True,
        help_text="How old a value from the patient record may be to pre-fill this question (e.g. 365 for a "
        "year). Older values are shown with their age but not filled. Empty: no limit.",
    )
    child_freshness_days = models.PositiveIntegerField(
        "freshness limit for children (days)",
        null=True,
        blank=True,
        help_text="The same limit for patients under 18 (children grow: e.g. 182 for six months). "
        "Empty: the limit above.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "order", "code"]

    def __str__(self):
        return self.label

    def clean(self):
        errors = {}
        # The English choices are the ones rules and answers use (`choices_en_gb`: django-modeltranslation's column,
        # the field the admin edits; `choices` reads the active language's).
        english = self.choices_en_gb
        if self.type in (engine.CHOICE, engine.MULTI):
            if (
                not isinstance(english, list)
                or not english
                or not all(isinstance(c, list) and len(c) == 2 for c in english)
            ):
                errors["choices_en_gb"] = gettext("Choice questions need choices as [[value, label], ...].")
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            errors["max_value"] = gettext("The highest plausible value is below the lowest.")
        # The translated choices (trials/translation.py) only relabel: rules and answers use the values.
        for language in settings.MODELTRANSLATION_LANGUAGES[1:]:
            column = f"choices_{language.replace('-', '_')}"
            translated = getattr(self, column, None)
            if not translated or "choices_en_gb" in errors:
                continue  # empty: the English labels are shown (or the English ones are to be corrected first)
            values = [c[0] for c in self.choices_en_gb or [] if isinstance(c, list) and c]
            if not isinstance(translated, list) or not all(isinstance(c, list) and len(c) == 2 for c in translated):
                errors[column] = gettext("Translated choices need the form [[value, label], ...], as the English ones.")
            elif [c[0] for c in translated] != values:
                errors[column] = gettext(
                    "Translated choices must have the same values in the same order as the English ones "
                    "(%(values)s); only the labels are translated."
                ) % {"values": ", ".join(map(str, values))}
        if errors:
            raise ValidationError(errors)

    @property
    def sources(self) -> list[str]:
        """Codes this question is computed from (empty for a question that is only asked)."""
        return [c.strip() for c in self.derived_from.split(",") if c.strip()]

    def spec(self) -> engine.QuestionSpec:
        """The question as the engine reads it, with its texts in the active language (English when untranslated)."""
        return engine.QuestionSpec(
            code=self.code,
            label=self.label,
            type=self.type,
            unit=self.unit,
            min_value=self.min_value,
            max_value=self.max_value,
            choices=tuple((str(k), str(v)) for k, v in (self.choices or [])),
            short_label=self.short_label,
            freshness_days=self.freshness_days,
            child_freshness_days=self.child_freshness_days,
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


def _catalogue_in(language: str) -> _Cached:
    def build() -> dict[str, engine.QuestionSpec]:
        with translation.override(language):
            return {q.code: q.spec() for q in Question.objects.all()}

    return _Cached(build)


# One cached catalogue per language: the same questions, codes, types and choice values, with the labels, names
# and choice labels people read in that language. Verdicts do not depend on it (eligibility.pipeline compiles rules
# once for every language's catalogue).
_catalogues = {language: _catalogue_in(language) for language in settings.MODELTRANSLATION_LANGUAGES}


def catalogue_language() -> str:
    """The active language if the catalogue has it, else the default (English)."""
    return mt_get_language()


def catalogue(stamp: str | None = None, language: str | None = None) -> dict[str, engine.QuestionSpec]:
    """The whole question catalogue as engine specs in `language` (default: the active one), cached until anything
    in the catalogue changes.

    Costs one primary-key query when cached; none when the caller passes the `stamp` it has already read.
    """
    return _catalogues[language or catalogue_language()].get(stamp)


@dataclass(frozen=True)
class ScreeningData:
    """Everything the screening pipeline reads from the database, as plain data."""

    stamp: str | None
    questions: dict[str, engine.QuestionSpec]
    trials: dict[str, engine.TrialRules]  # nct_id → rules, every trial
    open_for_screening: tuple[str, ...]  # nct_ids, in NCT order
    mappings: tuple  # eligibility.fhir.CodeRule rows
    # nct_id → the brief title in the active language, for the trials that have a translation (empty in English)
    titles: dict[str, str] = field(default_factory=dict)

    def localized(self, screened: Screened) -> Screened:
        """`screened` with its trials' titles in the active language where a trial has a translated title."""
        if not self.titles:
            return screened
        titles = self.titles
        verdicts = tuple(v._replace(title=titles[v.nct_id]) if v.nct_id in titles else v for v in screened.verdicts)
        explained = {n: replace(r, title=titles[n]) if n in titles else r for n, r in screened.explained.items()}
        return replace(screened, verdicts=verdicts, explained=explained)


def _build_trial_rules() -> tuple[dict[str, engine.TrialRules], tuple[str, ...], dict[str, dict[str, str]]]:
    trials = Trial.objects.all()
    rules = {r.nct_id: r for r in trials.rules()}
    # The queryset is already read (rules() made its own): the open trials and the translated titles cost nothing.
    titles: dict[str, dict[str, str]] = {language: {} for language in settings.MODELTRANSLATION_LANGUAGES}
    for t in trials:
        if t.brief_title_zh_hans:
            titles["zh-hans"][t.nct_id] = t.brief_title_zh_hans
    return rules, tuple(t.nct_id for t in trials if t.open_for_screening), titles


_trial_rules = _Cached(_build_trial_rules)
_mappings = _Cached(lambda: tuple(CodeMapping.objects.table()))


def screening_data() -> ScreeningData:
    """The catalogue, every trial's rules and the FHIR mapping table: one query when nothing changed."""
    stamp = CatalogueVersion.current()
    rules, open_ids, titles = _trial_rules.get(stamp)
    language = catalogue_language()
    return ScreeningData(stamp, catalogue(stamp, language), rules, open_ids, _mappings.get(stamp), titles[language])


class TrialQuerySet(models.QuerySet):
    def open_for_screening(self):
        """Trials this site screens patients for (the registry status is informational)."""
        return self.filter(open_for_screening=True)

    def search(self, text: str):
        """Trials whose NCT id, title or a condition contains `text` (case-insensitive)."""
        text = text.strip()
        if not text:
            return self
        return self.filter(
            models.Q(nct_id__icontains=text)
            | models.Q(brief_title__icontains=text)
            | models.Q(brief_title_zh_hans__icontains=text)
            | models.Q(conditions__icontains=text)
        )

    def rules(self) -> list[engine.TrialRules]:
        """Engine input for every trial in this queryset; criteria are only read on a cache miss."""
        # Only what the rules and their cache key need: a network's trials carry their whole registry text.
        trials = list(self.only("pk", "nct_id", "brief_title", "criteria_version", "updated_at"))
        stale = [t for t in trials if _rules_key(t) not in _rules_cache]
        models.prefetch_related_objects(stale, "criteria")
        return [compiled_rules(t, t.criteria.all() if t in stale else None) for t in trials]


class Trial(models.Model):
    class Sex(models.TextChoices):
        ALL = "ALL", _("All")
        FEMALE = "FEMALE", _("Female")
        MALE = "MALE", _("Male")

    nct_id = models.CharField(_("NCT id"), max_length=11, unique=True, validators=[nct_validator])
    brief_title = models.CharField(verbose_name=_("brief title"), max_length=500)
    # Only the brief title may be translated: the protocol's own texts (criteria, official title) stay as published.
    brief_title_zh_hans = models.CharField(
        _("brief title (简体中文)"),
        max_length=500,
        blank=True,
        help_text=_(
            "Optional: the brief title in Simplified Chinese, shown to people working in Chinese. "
            "The registry's texts and the criteria stay as published."
        ),
    )
    official_title = models.TextField(verbose_name=_("official title"), blank=True)
    phase = models.CharField(verbose_name=_("phase"), max_length=60, blank=True)
    overall_status = models.CharField(
        verbose_name=_("overall status"), max_length=40, blank=True, help_text=_("As in the registry, e.g. RECRUITING.")
    )
    conditions = models.JSONField(verbose_name=_("conditions"), default=list, blank=True)
    keywords = models.JSONField(verbose_name=_("keywords"), default=list, blank=True)
    sites = models.JSONField(verbose_name=_("sites"), default=list, blank=True, help_text=_("Site names and places."))
    minimum_age = models.CharField(
        verbose_name=_("minimum age"), max_length=30, blank=True, help_text=_("As in the registry, e.g. '3 Years'.")
    )
    maximum_age = models.CharField(verbose_name=_("maximum age"), max_length=30, blank=True)
    sex = models.CharField(verbose_name=_("sex"), max_length=6, choices=Sex.choices, default=Sex.ALL)
    healthy_volunteers = models.BooleanField(verbose_name=_("healthy volunteers"), default=False)
    open_for_screening = models.BooleanField(
        verbose_name=_("open for screening"),
        default=True,
        help_text=_("Offered in new screenings at this site. The registry status can lag behind the site's own."),
    )
    eligibility_text = models.TextField(
        verbose_name=_("eligibility text"), blank=True, help_text=_("The protocol's eligibility text as published.")
    )
    criteria_version = models.PositiveIntegerField(verbose_name=_("criteria version"), default=1, editable=False)
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("coordinators"),
        blank=True,
        related_name="coordinated_trials",
        help_text=_("Research coordinators who review referrals for this trial."),
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[coordinators])

    objects = TrialQuerySet.as_manager()

    class Meta:
        ordering = ["nct_id"]
        verbose_name = _("trial")
        verbose_name_plural = _("trials")

    def __str__(self):
        return f"{self.nct_id}: {self.brief_title}"

    @property
    def title(self) -> str:
        """The brief title in the active language: its translation when it has one, else the registry's."""
        if catalogue_language() == "zh-hans" and self.brief_title_zh_hans:
            return self.brief_title_zh_hans
        return self.brief_title

    def bump_criteria_version(self):
        Trial.objects.filter(pk=self.pk).update(criteria_version=F("criteria_version") + 1)
        CatalogueVersion.bump()
        self.refresh_from_db(fields=["criteria_version"])
        criteria_version_changed.send(sender=Trial, trial_id=self.pk)

    def start_criteria_history(self, criteria=None) -> None:
        """A new trial's criteria, however many saves loading them took, are its version 1."""
        Trial.objects.filter(pk=self.pk).update(criteria_version=1)
        CatalogueVersion.bump()
        self.criteria_version = 1
        criteria_history_started.send(sender=Trial, trial=self, criteria=criteria)

    def rules(self) -> engine.TrialRules:
        """This trial's criteria as engine input, cached per criteria version."""
        return compiled_rules(self)


_rules_cache: dict[tuple, engine.TrialRules] = {}
_rules_lock = threading.Lock()


def _rules_key(trial: Trial) -> tuple:
    # criteria_version changes with the criteria; updated_at with the trial's own fields (the title the results
    # show) and when a deleted trial's id is reused by a new one (SQLite reuses the highest id).
    return (trial.pk, trial.criteria_version, trial.updated_at)


def compiled_rules(trial: Trial, criteria=None) -> engine.TrialRules:
    """Engine input for `trial`, cached per process until its criteria or its own fields change.

    Pass `criteria` (already fetched, e.g. by prefetch_related) to avoid a query on a cache miss.
    """
    key = _rules_key(trial)
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
        INCLUSION = engine.INCLUSION, _("Inclusion")
        EXCLUSION = engine.EXCLUSION, _("Exclusion")

    class RuleStatus(models.TextChoices):
        APPROVED = "approved", _("Approved")
        DRAFT = "draft", _("Draft: needs approval")

    class Source(models.TextChoices):
        PROTOCOL = "protocol", _("Protocol text")
        REGISTRY = "registry", _("Registry field")

    trial = models.ForeignKey(Trial, verbose_name=_("trial"), on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(verbose_name=_("kind"), max_length=10, choices=Kind.choices)
    order = models.PositiveIntegerField(verbose_name=_("order"), default=0)
    text = models.TextField(verbose_name=_("text"), help_text=_("The protocol's words, verbatim."))
    source = models.CharField(verbose_name=_("source"), max_length=10, choices=Source.choices, default=Source.PROTOCOL)
    rule = models.JSONField(
        verbose_name=_("rule"), null=True, blank=True, help_text=_("Structured rule; empty means 'needs review'.")
    )
    rule_status = models.CharField(
        verbose_name=_("rule status"), max_length=10, choices=RuleStatus.choices, default=RuleStatus.APPROVED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["trial", "order", "pk"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

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
        # Read into nodes here, once per criteria version (compiled_rules caches the result), not per screening.
        approved = self.rule is not None and self.rule_status == self.RuleStatus.APPROVED
        rule = read_rule(self.rule) if approved else None
        return engine.CriterionSpec(key=str(self.pk), kind=self.kind, text=self.text, rule=rule)


# Sent when a trial's criteria restart at version 1 (a new trial, however many saves loading it took), with
# `trial` and `criteria` (the rows, if already fetched). Apps that keep per-version records (curation's
# criteria snapshots) listen to it, as they listen to Criterion's post_save/post_delete: trials knows none of them.
criteria_history_started = Signal()

# Sent with `trial_id` whenever a trial's criteria_version goes up (a criterion saved or deleted: the admin, a
# draft approved, a re-import), inside the transaction that changes it. Screening listens to re-screen the
# stored screenings that include the trial.
criteria_version_changed = Signal()


@receiver(post_save, sender=Criterion)
@receiver(post_delete, sender=Criterion)
def _criteria_changed(sender, instance, **kwargs):
    # Signals (not save()/delete() overrides) so bulk deletes from the admin also bump the version.
    # raw=True is a fixture load; the trial may not exist yet. Connected when this module is imported, so
    # before any other app's receiver for the same signals (curation's snapshot reads the bumped version).
    if kwargs.get("raw"):
        return
    Trial.objects.filter(pk=instance.trial_id).update(criteria_version=F("criteria_version") + 1)
    criteria_version_changed.send(sender=Trial, trial_id=instance.trial_id)


@receiver(post_save, sender=Question)
@receiver(post_delete, sender=Question)
@receiver(post_save, sender=Trial)
@receiver(post_delete, sender=Trial)
@receiver(post_save, sender=Criterion)
@receiver(post_delete, sender=Criterion)
def _catalogue_changed(sender, **kwargs):
    CatalogueVersion.bump()


_codes_cache: OrderedDict[tuple, frozenset[str]] = OrderedDict()


def questions_of(nct_ids: Iterable[str], data: ScreeningData | None = None) -> list[Question]:
    """questions_for the trials with these NCT ids, read from the cached screening data: the set of codes is
    kept per catalogue stamp and set of trials, so a questionnaire with 1,000 trials costs one query, not
    walking 15,000 rules."""
    data = data or screening_data()
    key = (data.stamp, frozenset(nct_ids))
    codes = _codes_cache.get(key) if data.stamp is not None else None
    if codes is None:
        codes = frozenset(
            code
            for n in key[1]
            if n in data.trials
            for criterion in data.trials[n].criteria
            for code in engine.referenced_questions(criterion.rule)
        )
        if data.stamp is not None:
            with _rules_lock:
                _codes_cache[key] = codes
                while len(_codes_cache) > 64:
                    _codes_cache.popitem(last=False)
    return _questions_using(set(codes))


def questions_for(trial_rules) -> list[Question]:
    """The catalogue questions the given trials' rules use, plus the inputs of derived ones."""
    codes: set[str] = set()
    for rules in trial_rules:
        for criterion in rules.criteria:
            codes |= engine.referenced_questions(criterion.rule)
    return _questions_using(codes)


def _questions_using(codes: set[str]) -> list[Question]:
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
        CONDITION = fhir.CONDITION, _("Condition")
        OBSERVATION = fhir.OBSERVATION, _("Observation")

    class Kind(models.TextChoices):
        PRESENCE = fhir.PRESENCE, _("Present (answers yes)")
        ONSET_DATE = fhir.ONSET_DATE, _("Diagnosis date (onset)")
        VALUE = fhir.VALUE, _("Measured value (converted to the question's unit)")

    resource_type = models.CharField(verbose_name=_("resource type"), max_length=20, choices=ResourceType.choices)
    system = models.CharField(
        verbose_name=_("system"),
        max_length=200,
        help_text=f"Code system URI, e.g. {fhir.SNOMED} (SNOMED CT), {fhir.ICD10CM} (ICD-10-CM), {fhir.LOINC} (LOINC).",
    )
    code = models.CharField(
        verbose_name=_("code"),
        max_length=64,
        help_text=_("The code, or its first characters when 'is prefix' is ticked."),
    )
    is_prefix = models.BooleanField(
        _("is prefix"),
        default=False,
        help_text=_("Match every code that starts with this one (ICD-10-CM 'E10' matches E10.10; dots are ignored)."),
    )
    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="code_mappings"
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=12, choices=Kind.choices)
    default_unit = models.CharField(
        verbose_name=_("default unit"),
        max_length=20,
        blank=True,
        help_text=_("UCUM unit assumed when an Observation's value has none, e.g. 'kg/m2'."),
    )
    display = models.CharField(
        verbose_name=_("display"), max_length=200, blank=True, help_text=_("What the code means, for people.")
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    history = HistoricalRecords()

    objects = CodeMappingQuerySet.as_manager()

    class Meta:
        ordering = ["question__code", "resource_type", "system", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "system", "code", "is_prefix", "question", "kind"],
                name="unique_code_mapping",
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
                errors["kind"] = (
                    f"“{self.get_kind_display()}” needs a {question_type} question; {question.code} is a {question.type}."
                )
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
            resource_type=self.resource_type,
            system=self.system,
            code=self.code,
            question=self.question.code,
            kind=self.kind,
            is_prefix=self.is_prefix,
            default_unit=self.default_unit,
            display=self.display,
        )


post_save.connect(_catalogue_changed, sender=CodeMapping, dispatch_uid="codemapping_catalogue")
post_delete.connect(_catalogue_changed, sender=CodeMapping, dispatch_uid="codemapping_catalogue")
